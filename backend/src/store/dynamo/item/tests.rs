use super::*;

#[test]
fn the_document_is_kept_compressed_as_a_binary_attribute_and_old_json_text_still_reads() {
    let f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .unwrap();
    let change = LastChange {
        kind: ChangeKind::Inserted,
        at: f.updated_at,
        actor: None,
        note: None,
        quiet: false,
    };
    let item = FindingItem::new(
        &f,
        &Recorded {
            workflow_status: WorkflowStatus::Resolved,
            workflow_by_person: true,
            revision: 7,
        },
        0,
        Vec::new(),
        change,
        None,
    )
    .unwrap();
    let mut expected = f.clone();
    (
        expected.workflow_status,
        expected.workflow_by_person,
        expected.revision,
    ) = (WorkflowStatus::Resolved, true, 7);
    assert_eq!(item.finding().unwrap(), expected);
    let json = serde_json::to_string(&expected).unwrap();
    assert!(item.doc.is_none());
    assert!(
        item.doc_len() * 2 < json.len(),
        "{} of {}",
        item.doc_len(),
        json.len()
    );

    // In the table (and in a stream image) it is a B attribute; nothing named doc.
    let attrs: serde_dynamo::Item = serde_dynamo::to_item(&item).unwrap();
    assert!(matches!(
        attrs.get("docz"),
        Some(serde_dynamo::AttributeValue::B(_))
    ));
    assert!(!attrs.contains_key("doc"));
    let back: FindingItem = serde_dynamo::from_item(attrs).unwrap();
    assert_eq!(back.finding().unwrap(), expected);

    // An item written before compression: JSON text in `doc`.
    let mut old = item.clone();
    old.docz = None;
    old.doc = Some(json);
    let attrs: serde_dynamo::Item = serde_dynamo::to_item(&old).unwrap();
    assert!(matches!(
        attrs.get("doc"),
        Some(serde_dynamo::AttributeValue::S(_))
    ));
    let back: FindingItem = serde_dynamo::from_item(attrs).unwrap();
    assert_eq!(back.finding().unwrap(), expected);

    old.doc = None;
    assert!(old.finding().unwrap_err().to_string().contains("docz"));
}

#[test]
fn sort_keys_are_fixed_width_and_order_like_instants() {
    let a: DateTime<Utc> = "2024-05-01T12:00:00Z".parse().unwrap();
    let b: DateTime<Utc> = "2024-05-01T12:00:00.000001Z".parse().unwrap();
    let c: DateTime<Utc> = "2024-05-01T12:00:00.1Z".parse().unwrap();
    let (ka, kb, kc) = (sort_key(a), sort_key(b), sort_key(c));
    assert_eq!(ka, "2024-05-01T12:00:00.000000Z");
    assert!(ka < kb && kb < kc);
    assert!(is_sort_key(&ka));
    assert!(!is_sort_key("2024-05-01T12:00:00Z"));
    assert!(!is_sort_key("2024-13-01T12:00:00.000000Z"));
}
