//! Reading the audit log back, from a local folder or S3 alike (through the
//! archive's object adapters): `cspm audit verify` walks the chain and names the
//! first line or object that breaks it, `cspm audit tail` prints the newest lines.
//!
//! Objects are ordered by the first `seq` in their name, not by day: the chain's
//! order is its `seq`, and a day boundary is only where a new object starts.

use super::chain::{check_line, Checked, Hash, Head};
use crate::archive::{ArchiveSink, SinkError as ObjectError};
use chrono::NaiveDate;

/// One object of the log, from its key `dt=YYYY-MM-DD/part-<first seq>.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The key, relative to the log's root.
    pub key: String,
    /// Its day.
    pub day: NaiveDate,
    /// The `seq` of its first line.
    pub first_seq: u64,
}

/// The object of the log `key` names, or `None` for anything else.
pub fn parse_key(key: &str) -> Option<Part> {
    let (dt, name) = key.split_once('/')?;
    let dt = dt.strip_prefix("dt=").filter(|d| d.len() == 10)?;
    let day = NaiveDate::parse_from_str(dt, "%Y-%m-%d").ok()?;
    let digits = name.strip_prefix("part-")?.strip_suffix(".jsonl")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Part {
        key: key.to_string(),
        day,
        first_seq: digits.parse().ok()?,
    })
}

/// Every object of the log, in chain order.
pub async fn parts(objects: &dyn ArchiveSink) -> Result<Vec<Part>, ObjectError> {
    let mut parts: Vec<Part> = objects
        .list("dt=")
        .await?
        .iter()
        .filter_map(|k| parse_key(k))
        .collect();
    parts.sort_by(|a, b| a.first_seq.cmp(&b.first_seq).then(a.key.cmp(&b.key)));
    Ok(parts)
}

/// A line of an object (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The object's key.
    pub object: String,
    /// The line number in it.
    pub line: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.object, self.line)
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// This line is broken: altered, cut, reordered, or not linked to the one before.
    Line {
        /// Where.
        at: Position,
        /// What is wrong.
        reason: String,
    },
    /// Lines are missing before this one: an object was deleted, or cut at its start.
    Gap {
        /// The last good line before the gap (`None`: the log's start).
        after: Option<Position>,
        /// The first line after the gap.
        next: Position,
        /// First missing `seq`.
        from_seq: u64,
        /// Last missing `seq`.
        to_seq: u64,
    },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Line { at, reason } => write!(f, "{at}: {reason}"),
            Break::Gap {
                after,
                next,
                from_seq,
                to_seq,
            } => {
                let range = if from_seq == to_seq {
                    format!("line seq {from_seq} is missing")
                } else {
                    format!("lines seq {from_seq}-{to_seq} are missing")
                };
                match after {
                    Some(a) => write!(
                        f,
                        "gap between {a} and {next}: {range} (an object was deleted or cut)"
                    ),
                    None => write!(
                        f,
                        "gap before {next}: {range} (the log's first objects are gone)"
                    ),
                }
            }
        }
    }
}

/// What a check covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// Objects read.
    pub objects: usize,
    /// Lines checked.
    pub lines: u64,
    /// `seq` of the first line checked.
    pub first_seq: Option<u64>,
    /// `seq` of the last line checked.
    pub last_seq: Option<u64>,
    /// The first break, if any (checking stops there).
    pub broken: Option<Break>,
}

/// Walks lines in chain order, object by object.
#[derive(Debug)]
pub struct Verifier {
    last: Option<(Head, Option<Position>)>,
    report: Verified,
}

impl Verifier {
    /// A walk that must start at the log's first line (seq 1), or after `anchor`
    /// (the last line before the range checked, and where it is).
    pub fn new(anchor: Option<(Head, Position)>) -> Verifier {
        Verifier {
            last: Some(match anchor {
                Some((h, p)) => (h, Some(p)),
                None => (Head::GENESIS, None),
            }),
            report: Verified::default(),
        }
    }

    /// Checks the lines of one object; `Err` at the first break.
    pub fn object(&mut self, key: &str, bytes: &[u8]) -> Result<(), Break> {
        self.report.objects += 1;
        let mut lines = bytes.split(|b| *b == b'\n').peekable();
        let mut n = 0usize;
        while let Some(line) = lines.next() {
            let last_piece = lines.peek().is_none();
            if last_piece && line.is_empty() {
                break; // the newline that ends the object
            }
            n += 1;
            let at = Position {
                object: key.to_string(),
                line: n,
            };
            if last_piece {
                return Err(self.fail(Break::Line {
                    at,
                    reason: "the object does not end with a newline (its last line was cut)".into(),
                }));
            }
            let checked = match check_line(line) {
                Ok(c) => c,
                Err(reason) => {
                    return Err(self.fail(Break::Line {
                        at,
                        reason: reason.into(),
                    }))
                }
            };
            self.link(checked, at)?;
        }
        if n == 0 {
            return Err(self.fail(Break::Line {
                at: Position {
                    object: key.to_string(),
                    line: 1,
                },
                reason: "the object is empty".into(),
            }));
        }
        Ok(())
    }

    fn link(&mut self, c: Checked, at: Position) -> Result<(), Break> {
        let (head, prev_at) = self.last.clone().unwrap_or((Head::GENESIS, None));
        let want = head.seq + 1;
        if c.seq > want {
            let first_of_object = at.line == 1;
            return Err(self.fail(if first_of_object {
                Break::Gap {
                    after: prev_at,
                    next: at,
                    from_seq: want,
                    to_seq: c.seq - 1,
                }
            } else {
                Break::Line {
                    reason: format!(
                        "seq {} follows seq {} (lines {want}-{} were removed before it)",
                        c.seq,
                        head.seq,
                        c.seq - 1
                    ),
                    at,
                }
            }));
        }
        if c.seq < want {
            return Err(self.fail(Break::Line {
                reason: format!(
                    "seq {} repeats or goes back (seq {} came before it)",
                    c.seq, head.seq
                ),
                at,
            }));
        }
        if c.prev != head.hash {
            let before = match &prev_at {
                Some(p) => p.to_string(),
                None => "the start of the log".into(),
            };
            return Err(self.fail(Break::Line {
                reason: format!(
                    "its prev does not match the SHA-256 of {before} (one of the two was replaced)"
                ),
                at,
            }));
        }
        self.report.first_seq.get_or_insert(c.seq);
        self.report.last_seq = Some(c.seq);
        self.report.lines += 1;
        self.last = Some((
            Head {
                seq: c.seq,
                hash: c.hash,
            },
            Some(at),
        ));
        Ok(())
    }

    fn fail(&mut self, b: Break) -> Break {
        self.report.broken = Some(b.clone());
        b
    }

    /// What was checked.
    pub fn finish(self) -> Verified {
        self.report
    }
}

/// The head after the last line of `bytes` (an object), and where that line is.
fn last_line(key: &str, bytes: &[u8]) -> Option<(Head, Position)> {
    let text = bytes.strip_suffix(b"\n")?;
    let n = text.split(|b| *b == b'\n').count();
    let line = text.rsplit(|b| *b == b'\n').next()?;
    let c = check_line(line).ok()?;
    let hash: Hash = c.hash;
    Some((
        Head { seq: c.seq, hash },
        Position {
            object: key.to_string(),
            line: n,
        },
    ))
}

/// Why the log could not be read (not a break of the chain).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Listing or reading an object failed.
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// An object listed a moment ago is gone.
    #[error("{0} vanished while reading")]
    Vanished(String),
}

/// Checks the chain over the objects of days `since..=until` (all when `None`).
/// With `since`, the first line checked must link to the last line of the object
/// before it (which is read for that), or be the log's first line.
pub async fn verify(
    objects: &dyn ArchiveSink,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<Verified, ReadError> {
    let all = parts(objects).await?;
    let in_range = |p: &Part| since.is_none_or(|s| p.day >= s) && until.is_none_or(|u| p.day <= u);
    let first = all.iter().position(in_range);
    let mut anchor = None;
    if let Some(i) = first.filter(|i| *i > 0 && since.is_some()) {
        let before = &all[i - 1];
        let bytes = objects
            .get(&before.key)
            .await?
            .ok_or_else(|| ReadError::Vanished(before.key.clone()))?;
        anchor = last_line(&before.key, &bytes);
        if anchor.is_none() {
            let mut v = Verifier::new(None);
            v.report.broken = Some(Break::Line {
                at: Position {
                    object: before.key.clone(),
                    line: bytes.split(|b| *b == b'\n').count().max(1),
                },
                reason: "the last line before the range does not check out".into(),
            });
            return Ok(v.finish());
        }
    }
    let mut v = Verifier::new(anchor);
    for p in all.iter().filter(|p| in_range(p)) {
        let bytes = objects
            .get(&p.key)
            .await?
            .ok_or_else(|| ReadError::Vanished(p.key.clone()))?;
        if v.object(&p.key, &bytes).is_err() {
            break;
        }
    }
    Ok(v.finish())
}

/// The newest `n` lines, oldest first.
pub async fn tail(objects: &dyn ArchiveSink, n: usize) -> Result<Vec<String>, ReadError> {
    let all = parts(objects).await?;
    let mut out: Vec<String> = Vec::new();
    for p in all.iter().rev() {
        if out.len() >= n {
            break;
        }
        let bytes = objects
            .get(&p.key)
            .await?
            .ok_or_else(|| ReadError::Vanished(p.key.clone()))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let take = (n - out.len()).min(lines.len());
        let mut newest = lines.split_off(lines.len() - take);
        newest.append(&mut out);
        out = newest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::audit::chain::link;

    fn lines(head: Head, n: usize) -> (Vec<u8>, Head) {
        let recs: Vec<String> = (0..n).map(|i| format!(r#"{{"event":"e{i}"}}"#)).collect();
        let mut out = Vec::new();
        let h = link(
            head,
            &recs,
            "2026-06-01T00:00:00Z".parse().unwrap(),
            &mut out,
        );
        (out, h)
    }

    #[test]
    fn keys_name_their_day_and_first_seq() {
        let p = parse_key("dt=2026-06-01/part-000000000042.jsonl").unwrap();
        assert_eq!(p.first_seq, 42);
        assert_eq!(p.day.to_string(), "2026-06-01");
        for bad in [
            "dt=2026-6-1/part-1.jsonl",
            "dt=2026-06-01/part-.jsonl",
            ".writer.lock",
            "dt=2026-06-01/x.jsonl",
        ] {
            assert!(parse_key(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_good_chain_over_two_objects_verifies_and_a_gap_is_named() {
        let (a, h) = lines(Head::GENESIS, 3);
        let (b, h2) = lines(h, 2);
        let (c, _) = lines(h2, 2);
        let mut v = Verifier::new(None);
        v.object("a", &a).unwrap();
        v.object("b", &b).unwrap();
        v.object("c", &c).unwrap();
        let r = v.finish();
        assert_eq!((r.lines, r.first_seq, r.last_seq), (7, Some(1), Some(7)));

        let mut v = Verifier::new(None);
        v.object("a", &a).unwrap();
        let gap = v.object("c", &c).unwrap_err();
        assert_eq!(
            gap.to_string(),
            "gap between a line 3 and c line 1: lines seq 4-5 are missing (an object was deleted or cut)"
        );
    }

    #[test]
    fn an_edited_line_a_removed_line_and_a_cut_end_are_named() {
        let (a, _) = lines(Head::GENESIS, 4);
        let mut edited = a.clone();
        let second = edited.iter().position(|b| *b == b'\n').unwrap() + 1;
        edited[second + 30] ^= 0x02;
        let mut v = Verifier::new(None);
        match v.object("a", &edited).unwrap_err() {
            Break::Line { at, .. } => assert_eq!(at.line, 2),
            b => panic!("{b}"),
        }
        let text = String::from_utf8(a.clone()).unwrap();
        let mut ls: Vec<&str> = text.lines().collect();
        ls.remove(1);
        let removed = format!("{}\n", ls.join("\n"));
        let mut v = Verifier::new(None);
        let b = v.object("a", removed.as_bytes()).unwrap_err();
        assert!(
            b.to_string().starts_with("a line 2: seq 3 follows seq 1"),
            "{b}"
        );
        let cut = &a[..a.len() - 10];
        let mut v = Verifier::new(None);
        let b = v.object("a", cut).unwrap_err();
        assert!(b.to_string().starts_with("a line 4:"), "{b}");
    }
}
