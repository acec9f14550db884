//! Digests and resolved follow-ups as Slack messages: the same shape as an alert
//! (Block Kit in a coloured attachment, a plain-text fallback), every finding text
//! escaped with [`escape`]; the links are our own URLs (public base, a severity
//! label, a percent-encoded account) and stay links.

use super::message::{colour, escape};
use crate::sinks::throttle::notice::Notice;
use serde_json::{json, Value};

/// The message body for `notice`; `channel` is set for chat.postMessage.
pub fn message(notice: &Notice, channel: Option<&str>) -> Value {
    let (colour_of, fallback, blocks) = match notice {
        Notice::Digest(d) => {
            let mut fallback = Vec::new();
            let mut blocks = Vec::new();
            for line in &d.lines {
                let text = escape(&line.text());
                let (plain, mrkdwn) = match &line.link {
                    Some(link) => (
                        format!("{text} — open the list: {link}"),
                        format!("{text} — <{link}|open the list>"),
                    ),
                    None => (text.clone(), text),
                };
                fallback.push(plain);
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}));
            }
            // Slack allows 50 blocks per message; a digest of more groups says so.
            if blocks.len() > 49 {
                let rest = blocks.len() - 48;
                blocks.truncate(48);
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                    "text": format!("…and {rest} more groups in the dashboard")}}));
            }
            (d.severity(), fallback.join("\n"), blocks)
        }
        Notice::Resolved(r) => {
            let headline = escape(&r.headline());
            let facts = format!(
                "*Severity* {}  *Account* {}  *Resource* {}",
                r.severity,
                escape(&r.account_id),
                escape(&r.resource)
            );
            let mut blocks = vec![
                json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{headline}*")}}),
                json!({"type": "section", "text": {"type": "mrkdwn", "text": facts}}),
            ];
            let mut fallback = headline;
            if let Some(link) = &r.link {
                fallback.push_str(&format!("\n{link}"));
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                    "text": format!("<{link}|Open the finding>")}}));
            }
            // Resolved is good news: green, whatever the severity was.
            return finish(fallback, "#2e7d32", blocks, channel);
        }
    };
    finish(fallback, colour(colour_of), blocks, channel)
}

fn finish(text: String, colour: &str, blocks: Vec<Value>, channel: Option<&str>) -> Value {
    let text: String = text.chars().take(3000).collect();
    let mut msg = json!({
        "text": text,
        "attachments": [{"color": colour, "blocks": blocks}],
        "unfurl_links": false,
        "unfurl_media": false,
    });
    if let Some(c) = channel {
        msg["channel"] = json!(c);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::throttle::decide::Subject;
    use crate::sinks::throttle::digest::{Digest, DigestLine};
    use crate::sinks::throttle::notice::ResolvedNote;
    use shared_types::Severity;

    #[test]
    fn a_digest_links_the_filtered_list_and_escapes_the_account() {
        let d = Digest {
            key: "digest:oncall:high:1".into(),
            route: "high".into(),
            lines: vec![DigestLine {
                subject: Subject::Alert,
                severity: Severity::High,
                account: "<!channel>".into(),
                count: 37,
                since: "2026-06-01T10:02:00Z".parse().unwrap(),
                link: Some("https://c.example/ui/findings?severity=HIGH&account=1".into()),
            }],
        };
        let m = message(&Notice::Digest(d), None);
        let text = m.to_string();
        assert!(!text.contains("<!channel>"), "{text}");
        assert_eq!(
            m["attachments"][0]["blocks"][0]["text"]["text"],
            "37 more HIGH findings in &lt;!channel&gt; since 10:02 UTC — \
             <https://c.example/ui/findings?severity=HIGH&account=1|open the list>"
        );
        assert_eq!(m["attachments"][0]["color"], "#e85d04");
    }

    #[test]
    fn a_resolved_follow_up_says_who_and_escapes_the_title() {
        let r = ResolvedNote {
            key: "f:3".into(),
            title: "Bucket <!here> public".into(),
            severity: Severity::Critical,
            account_id: "111122223333".into(),
            resource: "AwsS3Bucket b".into(),
            by: "Security Hub".into(),
            link: None,
        };
        let m = message(&Notice::Resolved(r), Some("C1"));
        assert_eq!(
            m["text"],
            "✓ resolved by Security Hub: Bucket &lt;!here&gt; public"
        );
        assert_eq!(m["channel"], "C1");
    }
}
