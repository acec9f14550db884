//! CSV as RFC 4180 says: UTF-8, a header row, CRLF after every record, a field
//! quoted when it holds a comma, a quote or a line break (quotes doubled).
//!
//! Titles, resource ids and descriptions are attacker-controlled: anyone who can
//! name a bucket or tag a resource chooses them. A spreadsheet runs a cell that
//! starts with `=`, `+`, `-` or `@` (and, in some, tab or carriage return) as a
//! formula — `=HYPERLINK(...)` leaks data on a click — so such a cell gets a
//! leading `'`, which spreadsheets read as "text". Plain numbers (`-5`, `+1.5`)
//! are left alone: they cannot run and a `'` would turn them into text.

use chrono::{DateTime, SecondsFormat, Utc};
use shared_types::Finding;

/// The columns, in order.
pub const COLUMNS: [&str; 17] = [
    "id",
    "asff_id",
    "severity",
    "workflow_status",
    "compliance_status",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "product_name",
    "generator_id",
    "created_at",
    "updated_at",
    "first_observed_at",
    "last_observed_at",
    "remediation_url",
];

/// Appends the header row.
pub fn write_header(out: &mut Vec<u8>) {
    write_record(COLUMNS.iter().copied(), out);
}

/// Appends the row for `f`, in [`COLUMNS`] order.
pub fn write_row(f: &Finding, out: &mut Vec<u8>) {
    // Borrowed cells: a million-row export copies each byte once, into `out`.
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let opt_time = |t: Option<DateTime<Utc>>| t.map(time).unwrap_or_default();
    let times = [
        time(f.created_at),
        time(f.updated_at),
        opt_time(f.first_observed_at),
        opt_time(f.last_observed_at),
    ];
    let cells: [&str; 17] = [
        &f.id,
        &f.asff_id,
        f.severity.as_str(),
        f.workflow_status.as_str(),
        f.compliance_status.as_deref().unwrap_or_default(),
        &f.title,
        &f.account_id,
        &f.region,
        &f.resource_type,
        &f.resource_id,
        &f.product_name,
        &f.generator_id,
        &times[0],
        &times[1],
        &times[2],
        &times[3],
        f.remediation_url.as_deref().unwrap_or_default(),
    ];
    write_record(cells.into_iter(), out);
}

fn write_record<'a>(cells: impl Iterator<Item = &'a str>, out: &mut Vec<u8>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(cell, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// One field: neutralised if a spreadsheet would run it, quoted if RFC 4180 needs it.
fn write_cell(cell: &str, out: &mut Vec<u8>) {
    let guard = is_formula(cell);
    // A byte scan: these are ASCII, and `str::contains` with a char set decodes
    // every character (a visible share of a million-row export).
    let quote = cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if quote {
        out.push(b'"');
    }
    if guard {
        out.push(b'\'');
    }
    if !quote {
        // No quote inside either: the bytes as they are.
        out.extend_from_slice(cell.as_bytes());
        return;
    }
    for b in cell.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// True when a spreadsheet could read `cell` as a formula: it starts with one of
/// the trigger characters and is not a plain number.
fn is_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !is_plain_number(cell)
}

/// `[+-]digits[.digits]` (at least one digit), nothing else.
fn is_plain_number(cell: &str) -> bool {
    let body = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac) && !body.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(s: &str) -> String {
        let mut out = Vec::new();
        write_cell(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formula_triggers_get_a_leading_quote() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("=1+2"), "'=1+2");
        assert_eq!(cell("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("-"), "'-");
        assert_eq!(cell("+."), "'+.");
    }

    #[test]
    fn plain_numbers_and_ordinary_text_stay_as_they_are() {
        for s in [
            "-5",
            "+1.5",
            "-0.25",
            "123456789012",
            "",
            "S3.8",
            "a=b",
            "my-bucket",
        ] {
            assert_eq!(cell(s), s, "{s:?}");
        }
    }

    #[test]
    fn fields_with_separators_quotes_or_line_breaks_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("naïve ✓"), "naïve ✓");
    }

    #[test]
    fn the_header_row_is_the_columns_in_order_with_crlf() {
        let mut out = Vec::new();
        write_header(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("id,asff_id,severity,workflow_status,compliance_status,title,"));
        assert!(text.ends_with("last_observed_at,remediation_url\r\n"));
    }
}
