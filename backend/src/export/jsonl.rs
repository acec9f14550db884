//! JSON Lines: one document per line, each exactly what the API answers — a
//! `GET /findings` list item, or with `detail` the whole finding (every field and
//! the raw document, as `GET /findings/{id}` gives it under `finding`).

use shared_types::{Finding, FindingListItem};

/// Appends `f` as one line.
pub fn write_line(f: &Finding, detail: bool, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    if detail {
        serde_json::to_writer(&mut *out, f)?;
    } else {
        serde_json::to_writer(&mut *out, &FindingListItem::from(f))?;
    }
    out.push(b'\n');
    Ok(())
}
