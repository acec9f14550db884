//! What a Slack alert looks like: Block Kit in an attachment coloured by severity,
//! and a plain-text fallback (`text`, what notifications and old clients show).
//!
//! Slack reads `&`, `<` and `>` as control characters in `mrkdwn` and in the
//! fallback: `<!channel>` pings everyone, `<https://evil|click>` is a disguised
//! link. Every value that comes from a finding (titles, resource ids, user agents
//! are attacker-controlled text) is escaped with [`escape`] before it is placed.

use crate::sinks::alert::Alert;
use serde_json::{json, Value};
use shared_types::Severity;

/// Slack's three control characters as entities (its documented escaping).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The attachment colour bar of a severity.
pub fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#b00020",
        Severity::High => "#e85d04",
        Severity::Medium => "#f4a261",
        Severity::Low => "#2a9d8f",
        Severity::Informational => "#8d99ae",
    }
}

/// Slack refuses a section text over 3,000 characters; field texts over 2,000.
fn clip(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max - 1).collect();
    // Never cut an entity in half (`&am` would render as text).
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    out.push('…');
    out
}

/// The message body for `alert`; `channel` is set for chat.postMessage (a webhook
/// posts to its own channel).
pub fn message(alert: &Alert, channel: Option<&str>) -> Value {
    let title = escape(&alert.title);
    let facts = alert.facts();
    let fallback = {
        let mut s = format!("[{}] {title}", alert.severity_text());
        for (label, value) in facts.iter().skip(1) {
            s.push_str(&format!("\n{label}: {}", escape(value)));
        }
        if let Some(link) = &alert.link {
            s.push_str(&format!("\n{link}"));
        }
        s
    };
    let fields: Vec<Value> = facts
        .iter()
        .map(|(label, value)| {
            json!({"type": "mrkdwn", "text": clip(format!("*{label}*\n{}", escape(value)), 2000)})
        })
        .collect();
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(format!("*{title}*"), 3000)}
    })];
    // A section holds at most 10 fields.
    for chunk in fields.chunks(10) {
        blocks.push(json!({"type": "section", "fields": chunk}));
    }
    if let Some(link) = &alert.link {
        // The link is our own URL (public base + a URL-safe id): not escaped, or
        // Slack would not read it as a link.
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("<{link}|Open the finding>")}
        }));
    }
    let mut msg = json!({
        "text": clip(fallback, 3000),
        "attachments": [{"color": colour(alert.severity), "blocks": blocks}],
        // Finding text never unfurls into previews or resolves @names.
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
    use crate::sinks::alert::AlertReason;
    use crate::store::change::Caller;

    fn alert(title: &str) -> Alert {
        Alert {
            reason: AlertReason::Reached,
            key: "abc:1".into(),
            id: "abc".into(),
            title: title.into(),
            severity: Severity::Critical,
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            resource: "AwsIamUser <!here>".into(),
            generator_id: "aws.iam.access-key-created".into(),
            when: "2026-06-01T12:00:00Z".parse().unwrap(),
            caller: Some(Caller {
                user_arn: Some("arn:aws:iam::111122223333:user/mallory".into()),
                source_ip: Some("203.0.113.9".into()),
                user_agent: Some("<https://evil.example|aws-cli> & co".into()),
                access_key_id: Some("AKIAEXAMPLE".into()),
            }),
            link: Some("https://cspm.example.com/ui/findings/abc".into()),
        }
    }

    #[test]
    fn attacker_text_is_escaped_everywhere_and_our_link_is_not() {
        let m = message(
            &alert("Key <!channel> & <https://evil.example|click>"),
            None,
        );
        let text = m.to_string();
        for raw in ["<!channel>", "<!here>", "<https://evil.example|"] {
            assert!(!text.contains(raw), "{raw} reached Slack unescaped: {text}");
        }
        assert!(m["text"]
            .as_str()
            .unwrap()
            .contains("Key &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"));
        assert!(text.contains("<https://cspm.example.com/ui/findings/abc|Open the finding>"));
        assert_eq!(m["attachments"][0]["color"], "#b00020");
        for fact in [
            "arn:aws:iam::111122223333:user/mallory",
            "203.0.113.9",
            "AKIAEXAMPLE",
            "&lt;https://evil.example|aws-cli&gt; &amp; co",
        ] {
            assert!(text.contains(fact), "{fact} missing: {text}");
        }
        assert!(m.get("channel").is_none());
        assert_eq!(message(&alert("t"), Some("C123"))["channel"], "C123");
    }

    #[test]
    fn long_titles_are_clipped_without_breaking_an_entity() {
        let m = message(&alert(&"&".repeat(5000)), None);
        let t = m["attachments"][0]["blocks"][0]["text"]["text"]
            .as_str()
            .unwrap();
        assert!(t.chars().count() <= 3000);
        assert!(
            t.trim_end_matches('…').ends_with("&amp;"),
            "{}",
            &t[t.len() - 20..]
        );
    }
}
