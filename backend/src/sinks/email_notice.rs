//! Digests and resolved follow-ups as e-mail: plain text and HTML from the same
//! lines (as alerts, email.rs), every finding text HTML-escaped, the subject one
//! printable line.

use super::email::{escape_html, Email};
use super::throttle::notice::Notice;

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

fn page(colour: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n\
         <div style=\"border-left:6px solid {colour};padding-left:12px\">\n\
         <h2 style=\"margin:0 0 8px 0\">{title}</h2>\n{body}</div>\n\
         <p style=\"color:#666;font-size:small\">Sent by cspm-monitor.</p>\n</body></html>\n"
    )
}

/// Renders `notice`.
pub fn render_notice(notice: &Notice) -> Email {
    let colour = |s| super::slack::message::colour(s);
    match notice {
        Notice::Digest(d) => {
            let mut text = String::new();
            let mut items = String::new();
            for line in &d.lines {
                let words = line.text();
                match &line.link {
                    Some(link) => {
                        text.push_str(&format!("{words} — open the list: {link}\n"));
                        items.push_str(&format!(
                            "<li>{} — <a href=\"{}\">open the list</a></li>\n",
                            escape_html(&words),
                            escape_html(link)
                        ));
                    }
                    None => {
                        text.push_str(&format!("{words}\n"));
                        items.push_str(&format!("<li>{}</li>\n", escape_html(&words)));
                    }
                }
            }
            Email {
                subject: one_line(&format!("[digest] {}", d.summary())),
                text: format!("{text}\nSent by cspm-monitor.\n"),
                html: page(
                    colour(d.severity()),
                    &escape_html(&format!("Digest: {} held messages", d.total())),
                    &format!("<ul>\n{items}</ul>\n"),
                ),
            }
        }
        Notice::Resolved(r) => {
            let headline = r.headline();
            let facts = format!(
                "Severity: {}\nAccount:  {}\nResource: {}\n",
                r.severity, r.account_id, r.resource
            );
            let link_text = r
                .link
                .as_deref()
                .map_or(String::new(), |l| format!("Finding:  {l}\n"));
            let link_html = r.link.as_deref().map_or(String::new(), |l| {
                format!(
                    "<p><a href=\"{}\">Open the finding</a></p>\n",
                    escape_html(l)
                )
            });
            Email {
                subject: one_line(&headline),
                text: format!("{headline}\n\n{facts}{link_text}\nSent by cspm-monitor.\n"),
                html: page(
                    "#2e7d32",
                    &escape_html(&headline),
                    &format!("<pre>{}</pre>\n{link_html}", escape_html(&facts)),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::throttle::decide::Subject;
    use crate::sinks::throttle::digest::{Digest, DigestLine};
    use crate::sinks::throttle::notice::ResolvedNote;
    use shared_types::Severity;

    #[test]
    fn digest_and_follow_up_are_escaped_in_html_and_plain_in_text() {
        let d = Digest {
            key: "digest:m:r:1".into(),
            route: "r".into(),
            lines: vec![DigestLine {
                subject: Subject::Alert,
                severity: Severity::High,
                account: "<b>1</b>".into(),
                count: 37,
                since: "2026-06-01T10:02:00Z".parse().unwrap(),
                link: Some("https://c.example/ui/findings?severity=HIGH&account=1".into()),
            }],
        };
        let e = render_notice(&Notice::Digest(d));
        assert_eq!(
            e.subject,
            "[digest] 37 more HIGH findings in <b>1</b> since 10:02 UTC"
        );
        assert!(e
            .html
            .contains("37 more HIGH findings in &lt;b&gt;1&lt;/b&gt;"));
        assert!(e
            .html
            .contains("href=\"https://c.example/ui/findings?severity=HIGH&amp;account=1\""));
        assert!(e
            .text
            .contains("open the list: https://c.example/ui/findings?severity=HIGH&account=1"));
        let r = ResolvedNote {
            key: "f:3".into(),
            title: "<script>alert(1)</script>\r\nBcc: x".into(),
            severity: Severity::High,
            account_id: "111122223333".into(),
            resource: "AwsS3Bucket b".into(),
            by: "alice".into(),
            link: None,
        };
        let e = render_notice(&Notice::Resolved(r));
        assert!(!e.html.contains("<script>"));
        assert!(e.html.contains("✓ resolved by alice: &lt;script&gt;"));
        assert!(!e.subject.contains('\n') && e.subject.starts_with("✓ resolved by alice"));
    }
}
