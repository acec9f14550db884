//! What an alert e-mail says: one template rendered twice, as plain text and as
//! HTML, from the same facts ([`Alert::facts`]), so the two parts never disagree.
//! Every value placed in the HTML is escaped: a finding's title, resource id or
//! user agent is attacker-controlled text, and mail clients render HTML.

use super::alert::Alert;
use shared_types::Severity;

/// An e-mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Subject line (one line, printable).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

impl Email {
    /// The message as MIME (RFC 2045/2047): `multipart/alternative` with the plain
    /// text first and the HTML second (clients show the last part they can), both
    /// UTF-8 in base64, and the subject as an encoded word — so no finding text can
    /// end a header or a part early. `boundary` must not occur in base64 output
    /// (it holds `=` and `_`, which base64 lines never do together at a line start).
    pub fn to_mime(&self, from: &str, to: &[String], boundary: &str) -> String {
        use base64::Engine;
        let b64 = |s: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
            let mut out = String::new();
            for chunk in encoded.as_bytes().chunks(76) {
                out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                out.push_str("\r\n");
            }
            out
        };
        let subject = format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(self.subject.as_bytes())
        );
        let part = |kind: &str, body: &str| {
            format!(
                "--{boundary}\r\nContent-Type: {kind}; charset=UTF-8\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}",
                b64(body)
            )
        };
        format!(
            "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
             {}{}--{boundary}--\r\n",
            to.join(", "),
            part("text/plain", &self.text),
            part("text/html", &self.html),
        )
    }
}

/// `&`, `<`, `>`, `"` and `'` as entities: safe in element text and in quoted
/// attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The severity's colour (the same palette as Slack's).
fn colour(severity: Severity) -> &'static str {
    super::slack::message::colour(severity)
}

/// Renders `alert`.
pub fn render(alert: &Alert) -> Email {
    // The subject is a header: no line breaks, whatever the title holds.
    let subject: String = format!("[{}] {}", alert.severity, alert.title)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let mut rows = String::new();
    for (label, value) in alert.facts() {
        rows.push_str(&format!(
            "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0\">{}</th><td>{}</td></tr>\n",
            escape_html(label),
            escape_html(&value)
        ));
    }
    let link = alert.link.as_deref().map_or(String::new(), |l| {
        format!(
            "<p><a href=\"{}\">Open the finding</a></p>\n",
            escape_html(l)
        )
    });
    let html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n\
         <div style=\"border-left:6px solid {colour};padding-left:12px\">\n\
         <h2 style=\"margin:0 0 8px 0\">{title}</h2>\n<table>\n{rows}</table>\n{link}</div>\n\
         <p style=\"color:#666;font-size:small\">Sent by cspm-monitor.</p>\n</body></html>\n",
        colour = colour(alert.severity),
        title = escape_html(&alert.title),
    );
    let text = format!("{}\nSent by cspm-monitor.\n", alert.body());
    Email {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::alert::AlertReason;

    #[test]
    fn every_value_is_escaped_in_html_and_plain_in_text() {
        let alert = Alert {
            reason: AlertReason::Raised {
                from: Severity::High,
            },
            key: "abc:2".into(),
            id: "abc".into(),
            title: "<script>alert(1)</script>\r\nBcc: x@evil".into(),
            severity: Severity::Critical,
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            resource: "AwsS3Bucket \"><img src=x onerror=alert(2)>".into(),
            generator_id: "aws.s3.public".into(),
            when: "2026-06-01T12:00:00Z".parse().unwrap(),
            caller: None,
            link: Some("https://cspm.example.com/ui/findings/abc".into()),
        };
        let e = render(&alert);
        assert!(!e.html.contains("<script>") && !e.html.contains("<img"));
        assert!(e.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(e
            .html
            .contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
        assert!(e
            .html
            .contains("<a href=\"https://cspm.example.com/ui/findings/abc\">"));
        assert!(e.html.contains("CRITICAL (was HIGH)") && e.text.contains("CRITICAL (was HIGH)"));
        assert!(
            e.text.contains("<script>alert(1)</script>"),
            "plain text stays as written"
        );
        assert!(!e.subject.contains('\n') && !e.subject.contains('\r'));
        assert!(e.subject.starts_with("[CRITICAL] <script>"));
        let mime = e.to_mime("a@example.com", &["b@example.com".into()], "=_b1");
        assert!(mime.contains("Subject: =?UTF-8?B?"));
        assert!(!mime.contains("Bcc:"), "the title cannot add a header");
        assert_eq!(mime.matches("--=_b1\r\n").count(), 2);
        assert!(mime.ends_with("--=_b1--\r\n"));
    }
}
