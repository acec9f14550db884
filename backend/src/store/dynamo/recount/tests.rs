use super::*;

#[test]
fn every_counter_item_is_named_and_a_stale_or_missing_attribute_is_a_difference() {
    let mut shards = BTreeMap::new();
    let mut d = Delta::default();
    d.summary.insert("t".into(), 2);
    shards.insert(3u8, d);
    let wanted = counter_items(&shards);
    assert_eq!(wanted.len(), 16 + 64 + 256 + 256);
    assert_eq!(wanted["#counts#03"].get("t"), Some(&2));
    let mut stored = BTreeMap::new();
    stored.insert(
        "#counts#03".to_string(),
        BTreeMap::from([("t".to_string(), 1), ("s#LOW".to_string(), 4)]),
    );
    let diff = differences(&stored, &wanted);
    assert_eq!(
        diff,
        vec![
            ("#counts#03".into(), "s#LOW".into(), 4, 0),
            ("#counts#03".into(), "t".into(), 1, 2),
        ]
    );
}
