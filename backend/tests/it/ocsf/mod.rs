//! OCSF in: the published samples in `tests/data/ocsf/` (origins in its
//! `MANIFEST.jsonl`) through the normalizer, `POST /events`, `cspm ingest` and the
//! scanner; exported as OCSF and read back onto the same findings; hostile variants
//! rejected with their reasons.

/// Hostile variants of a real finding: wrong types, missing ids.
mod hostile;
/// Samples through `POST /events`, `cspm ingest` and the scanner.
mod pipeline;
/// Export → ingest round trips over the corpus' ASFF findings and the OCSF samples.
mod round_trip;
/// Every sample file: its findings with the sample's values, or its rejection.
mod samples;

use serde_json::Value;
use std::path::PathBuf;

/// `backend/tests/data/ocsf/`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ocsf"))
}

/// A sample file's bytes.
pub fn bytes(name: &str) -> Vec<u8> {
    let p = data_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A `.json` sample.
pub fn sample(name: &str) -> Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A `.jsonl` sample, one value per line.
pub fn sample_lines(name: &str) -> Vec<Value> {
    String::from_utf8(bytes(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// The new Security Hub's `Findings Imported V2` event (Sumo Logic's documentation).
pub const SECURITY_HUB_V2_EVENT: &str =
    "sumologic__aws-security-hub-ocsf_findings-imported-v2.json";
/// Security Hub v2 control findings, JSON Lines (Elastic's integration test data).
pub const SECURITY_HUB_V2_CONTROLS: &str =
    "elastic__aws_securityhub_test-findings_compliance.jsonl";
/// A Security Hub v2 coverage finding (AWS Automated Security Response's fixture).
pub const SECURITY_HUB_V2_COVERAGE: &str =
    "asr__securityHubCoverageFixtures_mockSecurityHubCoverageFinding.json";
/// The AWS documentation's sample exposure finding.
pub const SECURITY_HUB_V2_EXPOSURE: &str = "awsdocs__securityhub_exposure-findings-sample.json";
/// The OCSF project's Security Hub GuardDuty Detection Finding (OCSF 1.1).
pub const OCSF_EXAMPLES_GUARDDUTY: &str = "ocsf-examples__sechub-guardduty.ocsf.json";
/// The OCSF project's Security Hub PCI Compliance Finding (OCSF 1.1).
pub const OCSF_EXAMPLES_PCI: &str = "ocsf-examples__sechub-pci.ocsf.json";

/// The documented `Findings Imported V2` envelope (securityhub-v2-cwe-event-formats)
/// around `finding`: the page's own field values, its `<finding content>`
/// placeholder replaced by a published finding.
pub fn documented_envelope(finding: Value) -> Value {
    serde_json::json!({
        "version": "0",
        "id": "CWE-event-id",
        "detail-type": "Findings Imported V2",
        "source": "aws.securityhub",
        "account": "111122223333",
        "time": "2019-04-11T21:52:17Z",
        "region": "us-west-2",
        "resources": ["e51603d1054aad9d9f498d82d6e81acf4cf6bc88140e8ad2273123c73b81084"],
        "detail": {"findings": [finding]}
    })
}
