//! The decision table, one pure function: given a change, the route's options, the
//! channel's state and `now`, what happens to the change on this channel. The
//! state adapters (sqlite.rs; DynamoDB on AWS) only load a [`View`] and store the
//! [`Verdict`]'s `next`: they never decide (logic written once per adapter drifts).
//!
//! In order:
//! 1. A change key already decided on this channel: nothing (at-least-once
//!    delivery replays changes; a replay must send nothing more) — unless it was
//!    decided to send and the send was never confirmed: then it is sent again.
//! 2. Does it alert at all? A finding alerts once; again only when its severity
//!    rises above what this channel last alerted, or it is reopened. A resolved
//!    finding this channel alerted on gets a follow-up only if the route asks.
//! 3. Dedup: the same rule on the same resource within the route's `dedup`
//!    window sends one message; the rest are counted.
//! 4. Quiet hours: held for the digest flushed when they end.
//! 5. Digest: more than `digest_after` messages within `digest_window` are held
//!    for one digest at the end of the window.
//! 6. Otherwise: send now.

use super::Throttle;
use chrono::{DateTime, Utc};
use shared_types::{ChangeKind, Severity};

/// What the decision needs to know about a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The idempotency key `<finding id>:<revision>`.
    pub key: String,
    /// What the change did.
    pub kind: ChangeKind,
    /// The finding's short id.
    pub finding: String,
    /// The generator (rule, control, detector) id.
    pub rule: String,
    /// The primary resource (`type id`).
    pub resource: String,
    /// The account (digests group by it).
    pub account: String,
    /// Severity after the change.
    pub severity: Severity,
}

impl Facts {
    /// The facts of a change record.
    pub fn of(change: &crate::store::Change) -> Facts {
        let item = &change.finding.item;
        Facts {
            key: change.key.clone(),
            kind: change.kind,
            finding: item.id.clone(),
            rule: change.finding.generator_id.clone(),
            resource: format!("{} {}", item.resource_type, item.resource_id)
                .trim()
                .to_string(),
            account: item.account_id.clone(),
            severity: item.severity,
        }
    }
}

/// One dedup window: the same rule on the same resource, per route and channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupEntry {
    /// When the message that opened it went (or was held).
    pub since: DateTime<Utc>,
    /// Changes counted into it since.
    pub count: u32,
}

/// One digest window of a route on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When it opened (its first message).
    pub started_at: DateTime<Utc>,
    /// When its digest is due (the window's end, or later when quiet hours end later).
    pub flush_at: DateTime<Utc>,
    /// Messages sent immediately in it.
    pub sent: u32,
    /// Messages held for its digest.
    pub held: u32,
}

/// What the channel remembers that bears on one change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// This change key was decided before.
    pub decided: bool,
    /// It was decided to send this, and the send is not confirmed yet (the
    /// decision is stored before sending, so that of several deciders only one
    /// sends; a send that failed is retried from here).
    pub pending: Option<Subject>,
    /// The severity this channel last alerted this finding at.
    pub last_alerted: Option<Severity>,
    /// The dedup window of this change's rule and resource, if one was opened.
    pub dedup: Option<DedupEntry>,
    /// The route's digest window on this channel, if one is open.
    pub window: Option<Window>,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The finding needs attention (an alert).
    Alert,
    /// A finding alerted before was resolved (a follow-up).
    Resolved,
}

impl Subject {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Alert => "alert",
            Subject::Resolved => "resolved",
        }
    }

    /// As stored, back.
    pub fn parse(s: &str) -> Option<Subject> {
        match s {
            "alert" => Some(Subject::Alert),
            "resolved" => Some(Subject::Resolved),
            _ => None,
        }
    }
}

/// Why a change sends nothing on this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Already alerted at the same or a higher severity.
    AlreadyAlerted,
    /// Resolved, and the route wants no follow-up (or nothing was alerted).
    NoFollowUp,
    /// A kind of change that never alerts (workflow changes, deletions).
    NotAlerting,
}

/// What happens to a change on this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Decided before (a replay): nothing happens, nothing is stored.
    AlreadyDecided,
    /// Nothing is sent.
    Drop(DropReason),
    /// Counted into an open dedup window.
    Count,
    /// Held for the window's digest.
    Hold(Subject),
    /// Sent now.
    Send(Subject),
    /// Decided to send before, never confirmed sent: sent again, nothing stored
    /// but the confirmation.
    Resend(Subject),
}

impl Decision {
    /// As stored with the change key.
    pub fn label(self) -> &'static str {
        match self {
            Decision::AlreadyDecided => "already",
            Decision::Drop(_) => "drop",
            Decision::Count => "count",
            Decision::Hold(_) => "hold",
            Decision::Send(_) => "send",
            Decision::Resend(_) => "resend",
        }
    }
}

/// The decision and the state to store after acting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What happens.
    pub decision: Decision,
    /// The channel's state afterwards (stored as a whole; unchanged parts rewrite
    /// the same values).
    pub next: View,
}

/// Decides what happens to the change `f` on a channel: `opts` of the route that
/// sends it, the sink's `quiet` hours, the channel's `view` of it, and `now`.
pub fn decide(
    f: &Facts,
    opts: &Throttle,
    quiet: Option<&super::quiet::QuietHours>,
    view: &View,
    now: DateTime<Utc>,
) -> Verdict {
    let mut next = view.clone();
    let verdict = |decision, next| Verdict { decision, next };
    if view.decided {
        return match view.pending {
            Some(subject) => verdict(Decision::Resend(subject), next),
            None => verdict(Decision::AlreadyDecided, next),
        };
    }
    next.decided = true;
    let subject = match f.kind {
        ChangeKind::Reopened => Subject::Alert,
        ChangeKind::Inserted | ChangeKind::Updated => match view.last_alerted {
            Some(last) if last >= f.severity => {
                return verdict(Decision::Drop(DropReason::AlreadyAlerted), next)
            }
            _ => Subject::Alert,
        },
        ChangeKind::Resolved if opts.resolved_followup && view.last_alerted.is_some() => {
            Subject::Resolved
        }
        ChangeKind::Resolved => return verdict(Decision::Drop(DropReason::NoFollowUp), next),
        ChangeKind::WorkflowChanged | ChangeKind::Deleted => {
            return verdict(Decision::Drop(DropReason::NotAlerting), next)
        }
    };
    // Whatever happens next, the finding counts as alerted at this severity (a
    // counted or held one too: the digest tells of it); a follow-up closes it, so
    // a second resolution says nothing and a reopening alerts afresh.
    next.last_alerted = match subject {
        Subject::Alert => Some(f.severity),
        Subject::Resolved => None,
    };
    if subject == Subject::Alert {
        if let Some(window) = opts.dedup {
            match view.dedup {
                Some(e) if now < later(e.since, window) => {
                    next.dedup = Some(DedupEntry {
                        count: e.count + 1,
                        ..e
                    });
                    return verdict(Decision::Count, next);
                }
                _ => {
                    next.dedup = Some(DedupEntry {
                        since: now,
                        count: 0,
                    })
                }
            }
        }
    }
    // A window still open, or one whose digest is due but not yet flushed (its
    // held messages must not be overtaken by a new window).
    let open = view.window.filter(|w| now < w.flush_at || w.held > 0);
    if let Some(end) = quiet.and_then(|q| q.ends(now)) {
        let w = open.unwrap_or(Window {
            started_at: now,
            flush_at: end,
            sent: 0,
            held: 0,
        });
        next.window = Some(Window {
            flush_at: w.flush_at.max(end),
            held: w.held + 1,
            ..w
        });
        return verdict(Decision::Hold(subject), next);
    }
    let Some((after, length)) = opts.digest else {
        next.pending = Some(subject);
        return verdict(Decision::Send(subject), next);
    };
    let length = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
    let w = open.unwrap_or(Window {
        started_at: now,
        flush_at: now
            .checked_add_signed(length)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        sent: 0,
        held: 0,
    });
    if w.sent < after && w.held == 0 {
        next.window = Some(Window {
            sent: w.sent + 1,
            ..w
        });
        next.pending = Some(subject);
        verdict(Decision::Send(subject), next)
    } else {
        next.window = Some(Window {
            held: w.held + 1,
            ..w
        });
        verdict(Decision::Hold(subject), next)
    }
}

/// `t + d`, saturating (a window of years is "never" rather than an overflow).
fn later(t: DateTime<Utc>, d: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests;
