//! The SES sink against the emulator: after `CreateEmailIdentity`, an alert about
//! a corpus finding arrives (read from the emulator's `/moto-api/data.json`, never
//! asked of the sink) with the right recipients, subject and both bodies, its
//! hostile title escaped in the HTML; a redelivered change sends nothing more; an
//! unverified from-address is refused, permanently, in plain words.

use crate::aws_env::{endpoint, sdk_config, unique};
use crate::corpus::corpus;
use base64::Engine;
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::ses::{SesSettings, SesSink};
use cspm::sinks::{Filter, Sink};
use cspm::store::{Change, ChangeFeed, SqliteStore};
use serde_json::Value;
use shared_types::{ChangeKind, Severity};
use std::sync::Arc;

/// An SES sink from `from` to `to`.
pub fn ses(sdk: &aws_config::SdkConfig, from: &str, to: &[&str]) -> Arc<dyn Sink> {
    ses_filtered(sdk, from, to, Filter::default())
}

/// An SES sink from `from` to `to` with `filter`.
pub fn ses_filtered(
    sdk: &aws_config::SdkConfig,
    from: &str,
    to: &[&str],
    filter: Filter,
) -> Arc<dyn Sink> {
    Arc::new(
        SesSink::new(
            SesSettings {
                name: "secmail".into(),
                from: from.into(),
                to: to.iter().map(|t| t.to_string()).collect(),
                min_severity: Severity::Informational,
                filter,
                // The emulator has no rate: pacing off.
                max_send_rate: 1000.0,
                public_url: Some("https://cspm.example.com".into()),
            },
            sdk,
            Arc::new(MemoryDedup::default()),
        )
        // The emulator, shared by the whole suite on 2 cores, has taken over the
        // default 10 s to answer; these tests check answers, not speed.
        .with_timeout(std::time::Duration::from_secs(60)),
    )
}

/// A verified from-address of its own (tests share one emulator).
pub async fn verified_sender(sdk: &aws_config::SdkConfig) -> String {
    let from = format!("{}@example.com", unique("alerts"));
    aws_sdk_sesv2::Client::new(sdk)
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("CreateEmailIdentity");
    from
}

/// One e-mail as the emulator keeps it, decoded.
#[derive(Debug)]
pub struct Sent {
    /// Envelope recipients.
    pub destinations: Vec<String>,
    /// The `Subject:` header, decoded.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

fn b64(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(clean)
            .unwrap(),
    )
    .unwrap()
}

/// Every raw message the emulator holds from `from`.
pub async fn sent_from(endpoint: &str, from: &str) -> Vec<Sent> {
    // Only SES's messages: the whole dump grows with everything the suite stored.
    let data: Value = reqwest::get(format!(
        "{endpoint}/moto-api/data.json?service=ses&name=RawMessage"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut out = Vec::new();
    for m in data["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let raw = m["raw_data"].as_str().unwrap();
        if !raw.starts_with(&format!("From: {from}\r\n")) {
            continue;
        }
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
        let header = |name: &str| {
            headers
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} header"))
                .to_string()
        };
        let subject = header("Subject");
        let subject = b64(subject
            .strip_prefix("=?UTF-8?B?")
            .unwrap()
            .strip_suffix("?=")
            .unwrap());
        let boundary = header("Content-Type")
            .split("boundary=\"")
            .nth(1)
            .unwrap()
            .trim_end_matches('"')
            .to_string();
        let part = |kind: &str| {
            body.split(&format!("--{boundary}"))
                .find(|p| p.contains(&format!("Content-Type: {kind};")))
                .map(|p| b64(p.split_once("\r\n\r\n").unwrap().1))
                .unwrap_or_else(|| panic!("no {kind} part"))
        };
        out.push(Sent {
            destinations: m["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect(),
            subject,
            text: part("text/plain"),
            html: part("text/html"),
        });
    }
    out
}

/// A HIGH or CRITICAL finding of the corpus, as its change; its title replaced by
/// a script tag (no corpus title is hostile: only the title is changed).
async fn hostile_change() -> (Change, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store.clone()));
    for (name, doc) in corpus("asff-envelope") {
        pipeline.run_document(&name, &doc).await.unwrap();
    }
    let mut c = store
        .changes_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == ChangeKind::Inserted && c.finding.item.severity >= Severity::High)
        .expect("a severe finding in the corpus");
    c.finding.item.title = "<script>alert(1)</script>".into();
    (c, dir)
}

#[tokio::test]
async fn an_alert_email_reaches_its_recipients_with_both_bodies_and_an_escaped_title() {
    let Some(ep) = endpoint("ses_alert_email") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let from = verified_sender(&sdk).await;
    let to = ["secops@example.com", "oncall@example.com"];
    let sink = ses(&sdk, &from, &to);
    let (change, _dir) = hostile_change().await;
    assert!(sink.wants(&change));
    sink.send(std::slice::from_ref(&change)).await.unwrap();
    // At least once: the same change again sends nothing more.
    sink.send(std::slice::from_ref(&change)).await.unwrap();

    let sent = sent_from(&ep, &from).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    let mut got = m.destinations.clone();
    got.sort();
    got.dedup();
    assert_eq!(got, vec!["oncall@example.com", "secops@example.com"]);
    let item = &change.finding.item;
    assert_eq!(
        m.subject,
        format!("[{}] <script>alert(1)</script>", item.severity)
    );
    for body in [&m.text, &m.html] {
        for fact in [&item.account_id, &item.region, &change.finding.generator_id] {
            assert!(body.contains(fact.as_str()), "{fact} missing from {body}");
        }
        assert!(body.contains(&format!("https://cspm.example.com/ui/findings/{}", item.id)));
    }
    assert!(
        m.text.contains("<script>alert(1)</script>"),
        "plain text as written"
    );
    assert!(
        m.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        m.html
    );
    assert!(!m.html.contains("<script>"), "{}", m.html);
}

#[tokio::test]
async fn an_unverified_sender_is_refused_in_plain_words_and_parks() {
    let Some(ep) = endpoint("ses_unverified_sender") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let from = format!("{}@example.org", unique("nobody"));
    let sink = ses(&sdk, &from, &["secops@example.com"]);
    let (change, _dir) = hostile_change().await;
    let e = sink.send(&[change]).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("verified identity") && text.contains(&from),
        "{text}"
    );
    assert!(sent_from(&ep, &from).await.is_empty());
}
