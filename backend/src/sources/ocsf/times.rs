//! The finding's times. OCSF writes each as an epoch number (`created_time`, a
//! `timestamp_t` in milliseconds) and, with the `datetime` profile, as RFC 3339 text
//! (`created_time_dt`). The number is read first: it names one instant, while real
//! `_dt` values come without a zone (Prowler writes its local time that way, an hour
//! off UTC in its published examples). Producers that write seconds where OCSF says
//! milliseconds (Prowler again) are read right: `crate::time` tells the two apart by
//! magnitude. When the number is absent or unreadable the text is used; a time is
//! unreadable only when every form given is.

use crate::sources::SourceError;
use crate::time::parse_timestamp;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A time attribute in both its forms.
struct Attr {
    number: &'static str,
    number_name: &'static str,
    text: &'static str,
    text_name: &'static str,
}

const MODIFIED: Attr = Attr {
    number: "/finding_info/modified_time",
    number_name: "finding_info.modified_time",
    text: "/finding_info/modified_time_dt",
    text_name: "finding_info.modified_time_dt",
};
const EVENT: Attr = Attr {
    number: "/time",
    number_name: "time",
    text: "/time_dt",
    text_name: "time_dt",
};
const CREATED: Attr = Attr {
    number: "/finding_info/created_time",
    number_name: "finding_info.created_time",
    text: "/finding_info/created_time_dt",
    text_name: "finding_info.created_time_dt",
};
const FIRST_SEEN: Attr = Attr {
    number: "/finding_info/first_seen_time",
    number_name: "finding_info.first_seen_time",
    text: "/finding_info/first_seen_time_dt",
    text_name: "finding_info.first_seen_time_dt",
};
const LAST_SEEN: Attr = Attr {
    number: "/finding_info/last_seen_time",
    number_name: "finding_info.last_seen_time",
    text: "/finding_info/last_seen_time_dt",
    text_name: "finding_info.last_seen_time_dt",
};

/// The finding's own times (never the time it was read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Times {
    /// `finding_info.created_time`, else `first_seen_time`, else the update time.
    pub created: DateTime<Utc>,
    /// `finding_info.modified_time`, else the event's `time` (which OCSF requires).
    pub updated: DateTime<Utc>,
    /// `finding_info.first_seen_time`.
    pub first_seen: Option<DateTime<Utc>>,
    /// `finding_info.last_seen_time`.
    pub last_seen: Option<DateTime<Utc>>,
}

/// Reads the times; a missing `time` (with no modified time) or an unreadable
/// created, modified or event time rejects the finding.
pub(super) fn times(f: &Value) -> Result<Times, SourceError> {
    let updated = match read(f, &MODIFIED)? {
        Some(t) => t,
        None => read(f, &EVENT)?.ok_or(SourceError::Missing("time"))?,
    };
    let first_seen = informative(f, &FIRST_SEEN);
    let created = read(f, &CREATED)?.or(first_seen).unwrap_or(updated);
    Ok(Times {
        created,
        updated,
        first_seen,
        last_seen: informative(f, &LAST_SEEN),
    })
}

/// The first readable form; `Ok(None)` when neither is given; else the error of the
/// first form given.
fn read(f: &Value, a: &Attr) -> Result<Option<DateTime<Utc>>, SourceError> {
    let mut first_error = None;
    for (ptr, field) in [(a.number, a.number_name), (a.text, a.text_name)] {
        let Some(v) = f.pointer(ptr).filter(|v| !v.is_null()) else {
            continue;
        };
        match parse_timestamp(v) {
            Ok(t) => return Ok(Some(t)),
            Err(source) => {
                first_error.get_or_insert(SourceError::Time { field, source });
            }
        }
    }
    first_error.map_or(Ok(None), Err)
}

/// Observation times inform only: an unreadable one is dropped (and logged) rather
/// than costing the finding.
fn informative(f: &Value, a: &Attr) -> Option<DateTime<Utc>> {
    read(f, a).unwrap_or_else(|e| {
        tracing::warn!("{e}: ignored");
        None
    })
}
