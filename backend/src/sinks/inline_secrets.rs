//! Finds secrets written inline in a sinks file: a Slack incoming-webhook URL (the
//! URL is the credential) or a Slack token (`xoxb-…`, `xoxp-…`). They belong in an
//! environment variable (`*_env`) or an SSM SecureString (`*_ssm`), where they are
//! neither committed nor printed. The scan reads the text line by line, before and
//! apart from parsing, so a secret anywhere (a comment, a webhook `url:`) is found,
//! and no message ever repeats the secret.

use regex::Regex;
use std::sync::LazyLock;

/// Slack tokens: bot, user, app-level, configuration and legacy prefixes.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bxox[abposre]-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}").expect("a valid regex")
});

/// What was found on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineSecret {
    /// 1-based line.
    pub line: usize,
    /// What it is and where it belongs instead (never the secret itself).
    pub message: String,
}

/// Every inline secret of `text`, one per line at most.
pub fn scan(text: &str) -> Vec<InlineSecret> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let message = if l.contains("hooks.slack.com/") {
            "an inline Slack webhook URL (the URL is the secret): put it in an environment \
             variable named by webhook_url_env, or an SSM SecureString named by webhook_url_ssm"
        } else if TOKEN.is_match(l) {
            "an inline Slack token: put it in an environment variable named by token_env, \
             or an SSM SecureString named by token_ssm"
        } else {
            continue;
        };
        out.push(InlineSecret {
            line: i + 1,
            message: message.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_urls_and_tokens_are_found_with_their_line_and_never_repeated() {
        let text = "sinks:\n  - {name: a, kind: slack, webhook_url_env: SLACK_URL}\n  \
                    - {name: b, kind: webhook, url: \"https://hooks.slack.com/services/T000/B000/XXXXsecret\"}\n  \
                    - {name: c, kind: slack, token_env: xoxb-1234567890-abcdefSECRET, channel: C1}\n";
        let found = scan(text);
        assert_eq!(found.iter().map(|f| f.line).collect::<Vec<_>>(), vec![3, 4]);
        assert!(found[0].message.contains("webhook_url_env"));
        assert!(found[1].message.contains("token_env"));
        assert!(found
            .iter()
            .all(|f| !f.message.contains("SECRET") && !f.message.contains("secret\"")));
        // Names of variables and ordinary URLs are not secrets.
        assert!(scan("token_env: SLACK_BOT_TOKEN\nurl: https://hooks.example.com/x\n").is_empty());
    }
}
