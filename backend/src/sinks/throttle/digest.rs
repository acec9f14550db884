//! A digest: the messages a window held, grouped by what they are about,
//! severity and account, as one message — "37 more HIGH findings in
//! 111122223333 since 10:02 UTC — open the list" — each line linking to the
//! dashboard's list filtered the same way. The channels render it (Slack Block
//! Kit, e-mail) and escape it there; the account is finding text.

use super::decide::Subject;
use super::state::Held;
use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use shared_types::Severity;
use std::collections::BTreeMap;

/// One group of held messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLine {
    /// Alerts or resolved follow-ups.
    pub subject: Subject,
    /// Their severity.
    pub severity: Severity,
    /// Their account.
    pub account: String,
    /// How many.
    pub count: usize,
    /// When the first of them was held.
    pub since: DateTime<Utc>,
    /// The dashboard list of them, when the public URL is configured.
    pub link: Option<String>,
}

impl DigestLine {
    /// The line in plain words (unescaped: each channel escapes it).
    pub fn text(&self) -> String {
        let what = if self.count == 1 {
            "finding"
        } else {
            "findings"
        };
        let since = self.since.format("%H:%M UTC");
        match self.subject {
            Subject::Alert => format!(
                "{} more {} {what} in {} since {since}",
                self.count, self.severity, self.account
            ),
            Subject::Resolved => format!(
                "{} {} {what} resolved in {} since {since}",
                self.count, self.severity, self.account
            ),
        }
    }
}

/// How held messages group: subject, severity (most severe first), account.
type GroupKey<'a> = (Subject, std::cmp::Reverse<Severity>, &'a str);

/// One digest: every group a window held, most severe first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Names the digest (the sink, route and window start): what makes its
    /// e-mail boundary and log lines unique.
    pub key: String,
    /// The route whose window it closes.
    pub route: String,
    /// Its lines.
    pub lines: Vec<DigestLine>,
}

impl Digest {
    /// Groups `held` (one window's messages); `None` when it holds nothing.
    pub fn of(
        sink: &str,
        route: &str,
        started_at: DateTime<Utc>,
        flushed: u32,
        held: &[Held],
        public_url: Option<&str>,
    ) -> Option<Digest> {
        let mut groups: BTreeMap<GroupKey<'_>, (usize, DateTime<Utc>)> = BTreeMap::new();
        for h in held {
            let g = groups
                .entry((h.subject, std::cmp::Reverse(h.severity), h.account.as_str()))
                .or_insert((0, h.at));
            g.0 += 1;
            g.1 = g.1.min(h.at);
        }
        let lines: Vec<DigestLine> = groups
            .into_iter()
            .map(|((subject, sev, account), (count, since))| DigestLine {
                subject,
                severity: sev.0,
                account: account.to_string(),
                count,
                since,
                link: public_url.map(|base| list_link(base, subject, sev.0, account)),
            })
            .collect();
        (!lines.is_empty()).then(|| Digest {
            // The window and how many digests it had: each digest its own key.
            key: format!(
                "digest:{sink}:{route}:{}:{flushed}",
                started_at.timestamp_micros()
            ),
            route: route.to_string(),
            lines,
        })
    }

    /// How many messages it stands for.
    pub fn total(&self) -> usize {
        self.lines.iter().map(|l| l.count).sum()
    }

    /// The most severe severity in it (the colour of the message).
    pub fn severity(&self) -> Severity {
        self.lines
            .iter()
            .map(|l| l.severity)
            .max()
            .unwrap_or(Severity::Informational)
    }

    /// A one-line summary (e-mail subject, Slack notification text).
    pub fn summary(&self) -> String {
        match self.lines.as_slice() {
            [one] => one.text(),
            [first, rest @ ..] => format!(
                "{} (and {} more in this digest)",
                first.text(),
                rest.iter().map(|l| l.count).sum::<usize>()
            ),
            [] => String::new(),
        }
    }
}

/// The dashboard list filtered to one group. The account comes from a finding,
/// so it is percent-encoded: it can never add a parameter or leave the query.
pub fn list_link(base: &str, subject: Subject, severity: Severity, account: &str) -> String {
    let mut s = format!(
        "{}/ui/findings?severity={}&account={}",
        base.trim_end_matches('/'),
        severity.as_str(),
        utf8_percent_encode(account, NON_ALPHANUMERIC)
    );
    if subject == Subject::Resolved {
        s.push_str("&status=RESOLVED");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(subject: Subject, severity: Severity, account: &str, at: &str) -> Held {
        Held {
            subject,
            severity,
            account: account.into(),
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn held_messages_group_by_subject_severity_and_account_most_severe_first() {
        let h = [
            held(
                Subject::Alert,
                Severity::High,
                "111122223333",
                "2026-06-01T10:05:00Z",
            ),
            held(
                Subject::Alert,
                Severity::High,
                "111122223333",
                "2026-06-01T10:02:30Z",
            ),
            held(
                Subject::Alert,
                Severity::Critical,
                "444455556666",
                "2026-06-01T10:07:00Z",
            ),
            held(
                Subject::Resolved,
                Severity::High,
                "111122223333",
                "2026-06-01T10:09:00Z",
            ),
        ];
        let started = "2026-06-01T10:02:00Z".parse().unwrap();
        let d = Digest::of(
            "oncall",
            "high",
            started,
            0,
            &h,
            Some("https://cspm.example.com/"),
        )
        .unwrap();
        let texts: Vec<String> = d.lines.iter().map(DigestLine::text).collect();
        assert_eq!(
            texts,
            [
                "1 more CRITICAL finding in 444455556666 since 10:07 UTC",
                "2 more HIGH findings in 111122223333 since 10:02 UTC",
                "1 HIGH finding resolved in 111122223333 since 10:09 UTC",
            ]
        );
        assert_eq!(
            d.lines[1].link.as_deref(),
            Some("https://cspm.example.com/ui/findings?severity=HIGH&account=111122223333")
        );
        assert_eq!(
            d.lines[2].link.as_deref(),
            Some("https://cspm.example.com/ui/findings?severity=HIGH&account=111122223333&status=RESOLVED")
        );
        assert_eq!((d.total(), d.severity()), (4, Severity::Critical));
        assert!(Digest::of("oncall", "high", started, 0, &[], None).is_none());
        // The window's next digest (of what it held while this one went) is
        // another message, not a repeat the sent-key memory would skip.
        let next = Digest::of("oncall", "high", started, 1, &h, None).unwrap();
        assert_ne!(next.key, d.key);
    }

    #[test]
    fn an_account_cannot_add_parameters_to_the_link() {
        let l = list_link(
            "https://c.example",
            Subject::Alert,
            Severity::Low,
            "1&status=x#y",
        );
        assert_eq!(
            l,
            "https://c.example/ui/findings?severity=LOW&account=1%26status%3Dx%23y"
        );
    }
}
