//! `cspm audit verify` and `tail` on a folder: one edited byte is named by object
//! and line, a deleted middle object by the gap it leaves, `--since` links to the
//! day before, `--until` stops at the end of a day, and `tail` prints the newest
//! lines.

use super::support::{cspm_audit, objects};
use crate::helpers::anchor;
use cspm::sinks::audit::local::{LocalWriter, Outbox};
use cspm::sinks::audit::record::{AuditEvent, AuditRecord};
use std::path::Path;

/// A log of `n` lines under `dir`, written in parts of about 2 KB.
fn log(dir: &Path, n: usize) {
    let db = dir.parent().unwrap().join("cspm.db");
    let outbox = Outbox::open(&db).unwrap();
    let mut w = LocalWriter::open(dir, &db, &outbox)
        .unwrap()
        .with_part_limit(2000);
    for i in 0..n {
        let mut r = AuditRecord::new(AuditEvent::AlertSent, anchor());
        r.finding_id = Some(format!("f{i}"));
        r.sink = Some("hook".into());
        outbox.push_blocking(&[r]).unwrap();
        w.drain().unwrap();
    }
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap().display().to_string()
}

#[test]
fn one_edited_byte_is_named_by_object_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    log(&dir, 30);
    let d = dir.to_str().unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", d]);
    assert_eq!(code, 0, "{out}");
    let parts = objects(&dir);
    assert!(parts.len() >= 3, "{parts:?}");
    // Line 3 of the second object: change one digit of its finding id.
    let victim = &parts[1];
    let text = std::fs::read_to_string(victim).unwrap();
    let third = text.lines().nth(2).unwrap();
    let at = text.find(third).unwrap() + third.find("\"finding_id\":\"f").unwrap() + 15;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    std::fs::write(victim, bytes).unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", d]);
    assert_eq!(code, 1, "{out}");
    let want = format!("{} line 3:", rel(&dir, victim));
    assert!(out.contains(&want), "wanted {want:?} in {out}");
}

#[test]
fn a_deleted_middle_object_is_named_as_a_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    log(&dir, 30);
    let parts = objects(&dir);
    let before = std::fs::read_to_string(&parts[0]).unwrap().lines().count();
    let gone = std::fs::read_to_string(&parts[1]).unwrap().lines().count();
    std::fs::remove_file(&parts[1]).unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let want = format!(
        "gap between {} line {before} and {} line 1: lines seq {}-{} are missing",
        rel(&dir, &parts[0]),
        rel(&dir, &parts[2]),
        before + 1,
        before + gone
    );
    assert!(out.contains(&want), "wanted {want:?} in {out}");
}

#[test]
fn the_first_line_of_a_day_carries_the_last_hash_of_the_day_before() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    log(&dir, 12);
    // Move the first object to the day before, as if the log started yesterday.
    let parts = objects(&dir);
    let first = &parts[0];
    let yesterday = dir.join("dt=2020-01-01");
    std::fs::create_dir_all(&yesterday).unwrap();
    std::fs::rename(first, yesterday.join(first.file_name().unwrap())).unwrap();
    let d = dir.to_str().unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    let (code, out) = cspm_audit(&["verify", "--from", d, "--since", &today]);
    assert_eq!(code, 0, "{out}");
    let moved = yesterday.join(first.file_name().unwrap());
    let text = std::fs::read_to_string(&moved).unwrap();
    let last_yesterday = text.lines().last().unwrap();
    let first_today = std::fs::read_to_string(&parts[1]).unwrap();
    let first_today: serde_json::Value =
        serde_json::from_str(first_today.lines().next().unwrap()).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        last_yesterday.as_bytes(),
    ));
    assert_eq!(first_today["prev"], sha);
    // Rewrite yesterday's last line (its own hash checks out): today's first line no longer links.
    let mut ls: Vec<String> = text.lines().map(str::to_string).collect();
    ls.pop();
    std::fs::write(&moved, format!("{}\n", ls.join("\n"))).unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", d, "--since", &today]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 1"), "{out}");
}

#[test]
fn until_checks_no_object_of_a_later_day() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    log(&dir, 12);
    // The first object belongs to a past day, the others to today.
    let parts = objects(&dir);
    assert!(parts.len() >= 2, "{parts:?}");
    let past = dir.join("dt=2020-01-01");
    std::fs::create_dir_all(&past).unwrap();
    let moved = past.join(parts[0].file_name().unwrap());
    std::fs::rename(&parts[0], &moved).unwrap();
    let n = std::fs::read_to_string(&moved).unwrap().lines().count();
    // Today's first line edited: the whole log, and a range ending today, fail.
    let victim = &parts[1];
    let text = std::fs::read_to_string(victim).unwrap();
    let at = text.find("\"finding_id\":\"f").unwrap() + 15;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    std::fs::write(victim, bytes).unwrap();
    let d = dir.to_str().unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(cspm_audit(&["verify", "--from", d]).0, 1);
    let (code, out) = cspm_audit(&["verify", "--from", d, "--until", &today]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{} line 1:", rel(&dir, victim))),
        "{out}"
    );
    // A range ending on the past day reads only its object, which holds.
    let (code, out) = cspm_audit(&["verify", "--from", d, "--until", "2020-01-01"]);
    assert_eq!(code, 0, "{out}");
    let want = format!("{n} lines in 1 objects, seq 1-{n}: the chain holds");
    assert!(out.contains(&want), "wanted {want:?} in {out}");
}

#[test]
fn tail_prints_the_newest_lines_oldest_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    log(&dir, 25);
    let (code, out) = cspm_audit(&["tail", "-n", "4", "--from", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["finding_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["f21", "f22", "f23", "f24"]);
}
