//! What Slack's answer means for the alert: delivered, rate limited (wait
//! `Retry-After` and resend the same message), worth retrying later (5xx, Slack's
//! own internal errors), or parked with Slack's reason (`channel_not_found`,
//! `invalid_payload`, `channel_is_archived`, `action_prohibited`, a revoked token:
//! nothing changes until someone fixes the configuration).
//!
//! Incoming webhooks answer `200 ok` or an HTTP error whose body is the reason;
//! `chat.postMessage` answers `200 {"ok": false, "error": "<reason>"}`. Both use
//! `429` with `Retry-After` for rate limits.

use crate::sinks::SinkError;
use std::time::Duration;

/// How long to wait after a 429 that names no `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Slack's reasons that a retry may cure (its side failing).
const TRANSIENT: [&str; 5] = [
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "rollup_error",
];

/// What one answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Slack took the message.
    Delivered,
    /// Slack asked to wait this long, then send the same message again.
    RateLimited(Duration),
    /// Not delivered: retry later, or park (the error says which).
    Failed(SinkError),
}

/// Slack's reason code from a body: `[a-z0-9_]` only and short, so a proxy's HTML
/// page or anything else odd never reaches a log line.
fn reason_code(text: &str) -> String {
    let code: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
        .take(64)
        .collect();
    if code.is_empty() {
        "no reason given".into()
    } else {
        code
    }
}

/// Classifies an answer. `api` is true for `chat.postMessage` (JSON bodies);
/// `target` names the destination without its secret.
pub fn classify(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    api: bool,
    target: &str,
) -> Answer {
    if status == 429 {
        return Answer::RateLimited(retry_after.unwrap_or(DEFAULT_RETRY_AFTER));
    }
    let code = if api && (200..300).contains(&status) {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) if v["ok"] == true => return Answer::Delivered,
            Ok(v) => reason_code(v["error"].as_str().unwrap_or_default()),
            Err(_) => "an answer that is not JSON".into(),
        }
    } else if (200..300).contains(&status) {
        return Answer::Delivered;
    } else {
        reason_code(body)
    };
    if code == "ratelimited" {
        return Answer::RateLimited(retry_after.unwrap_or(DEFAULT_RETRY_AFTER));
    }
    let reason = format!("{target}: Slack answered HTTP {status} {code}");
    if status >= 500 || TRANSIENT.contains(&code.as_str()) {
        Answer::Failed(SinkError::retryable(reason))
    } else {
        Answer::Failed(SinkError::permanent(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_both_protocols_are_classified() {
        let t = "slack";
        assert_eq!(classify(200, None, "ok", false, t), Answer::Delivered);
        assert_eq!(
            classify(200, None, r#"{"ok":true,"ts":"1.2"}"#, true, t),
            Answer::Delivered
        );
        assert_eq!(
            classify(429, Some(Duration::from_secs(2)), "", false, t),
            Answer::RateLimited(Duration::from_secs(2))
        );
        assert_eq!(
            classify(200, None, r#"{"ok":false,"error":"ratelimited"}"#, true, t),
            Answer::RateLimited(DEFAULT_RETRY_AFTER)
        );
        for (status, body, api, retryable, code) in [
            (500, "rollup_error", false, true, "rollup_error"),
            (503, "<html>busy</html>", false, true, "no reason given"),
            (404, "channel_not_found", false, false, "channel_not_found"),
            (400, "invalid_payload", false, false, "invalid_payload"),
            (
                410,
                "channel_is_archived",
                false,
                false,
                "channel_is_archived",
            ),
            (403, "action_prohibited", false, false, "action_prohibited"),
            (
                200,
                r#"{"ok":false,"error":"channel_not_found"}"#,
                true,
                false,
                "channel_not_found",
            ),
            (
                200,
                r#"{"ok":false,"error":"internal_error"}"#,
                true,
                true,
                "internal_error",
            ),
            (
                200,
                r#"{"ok":false,"error":"invalid_auth"}"#,
                true,
                false,
                "invalid_auth",
            ),
        ] {
            let Answer::Failed(e) = classify(status, None, body, api, t) else {
                panic!("{status} {body} was not a failure");
            };
            assert_eq!(e.is_retryable(), retryable, "{status} {body}: {e}");
            assert!(e.to_string().contains(code), "{e}");
        }
    }
}
