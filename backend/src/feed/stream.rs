//! DynamoDB Streams records decoded into the same [`Change`] SQLite records. Every
//! finding item carries what its write did (`last_change`: kind, actor, note,
//! quiet), so the decoding does not guess; the summary counters that share the
//! table (ids starting with `#`) are not findings and decode to nothing. Streams
//! have no global order: `seq` is 0 and a finding's changes order by `revision`.

use crate::store::change::{Change, ChangeFinding};
use crate::store::decide::delete_revision;
use crate::store::dynamo::item::FindingItem;
use aws_lambda_events::event::dynamodb::EventRecord;
use shared_types::{ChangeKind, FindingListItem};

/// Why a stream record could not be decoded (it goes back as a batch item failure
/// and, after the mapping's retries, to the on-failure queue).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The record has no image to decode (the stream must be NEW_AND_OLD_IMAGES).
    #[error("stream record {0} has no {1} image (the stream view must be NEW_AND_OLD_IMAGES)")]
    NoImage(String, &'static str),
    /// The image is not a finding item.
    #[error("stream record {event}: not a finding item: {reason}")]
    BadItem {
        /// The record's event id.
        event: String,
        /// What failed.
        reason: String,
    },
}

fn item_of(
    r: &EventRecord,
    image: &serde_dynamo::Item,
    which: &'static str,
) -> Result<Option<FindingItem>, DecodeError> {
    if image.is_empty() {
        return Err(DecodeError::NoImage(r.event_id.clone(), which));
    }
    let is_counter = image
        .get("id")
        .and_then(|v| match v {
            serde_dynamo::AttributeValue::S(s) => Some(s.starts_with('#')),
            _ => None,
        })
        .unwrap_or(false);
    if is_counter {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|e| DecodeError::BadItem {
            event: r.event_id.clone(),
            reason: e.to_string(),
        })
}

fn summary(item: &FindingItem, event: &str) -> Result<ChangeFinding, DecodeError> {
    let f = item.finding().map_err(|e| DecodeError::BadItem {
        event: event.to_string(),
        reason: format!("document: {e}"),
    })?;
    Ok(ChangeFinding {
        item: FindingListItem::from(&f),
        caller: crate::store::change::Caller::of(&f),
        generator_id: f.generator_id,
        record_state: f.record_state,
        severity_before: None,
        status_before: None,
        note: None,
    })
}

/// The change one stream record holds; `None` for a counter or other `#` item,
/// and for a rewrite that kept the revision.
pub fn decode(r: &EventRecord) -> Result<Option<Change>, DecodeError> {
    let rec = &r.change;
    let at = rec.approximate_creation_date_time;
    match r.event_name.as_str() {
        "REMOVE" => {
            let Some(old) = item_of(r, &rec.old_image, "OldImage")? else {
                return Ok(None);
            };
            let mut finding = summary(&old, &r.event_id)?;
            finding.severity_before = Some(old.severity);
            finding.status_before = Some(old.workflow_status);
            let revision = delete_revision(old.rev);
            Ok(Some(Change {
                seq: 0,
                key: Change::key_of(&old.id, revision),
                kind: ChangeKind::Deleted,
                revision,
                at,
                actor: None,
                // Only the archiver deletes findings: archival never alerts.
                quiet: true,
                finding,
            }))
        }
        _ => {
            let Some(new) = item_of(r, &rec.new_image, "NewImage")? else {
                return Ok(None);
            };
            let old = if rec.old_image.is_empty() {
                None
            } else {
                item_of(r, &rec.old_image, "OldImage")?
            };
            // Every change a writer makes bumps the revision. One that does
            // not is bookkeeping on the item (`cspm recount` filling in its
            // compliance results): no change, so nothing is sent again.
            if old.as_ref().is_some_and(|o| o.rev == new.rev) {
                return Ok(None);
            }
            let mut finding = summary(&new, &r.event_id)?;
            finding.severity_before = old.as_ref().map(|o| o.severity);
            finding.status_before = old.as_ref().map(|o| o.workflow_status);
            let last = new.last_change.clone();
            // Items written before `last_change` existed: what the event says.
            let kind = last.as_ref().map(|l| l.kind).unwrap_or(match old {
                None => ChangeKind::Inserted,
                Some(_) => ChangeKind::Updated,
            });
            finding.note = last.as_ref().and_then(|l| l.note.clone());
            Ok(Some(Change {
                seq: 0,
                key: Change::key_of(&new.id, new.rev),
                kind,
                revision: new.rev,
                at: last.as_ref().map(|l| l.at).unwrap_or(at),
                actor: last.as_ref().and_then(|l| l.actor.clone()),
                quiet: last.as_ref().is_some_and(|l| l.quiet),
                finding,
            }))
        }
    }
}
