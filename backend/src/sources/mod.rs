//! Event sources. Each file turns one kind of document into `Finding`s; this module
//! detects which kind a document is and dispatches to it.

/// AWS Security Finding Format serde types (our own: the SDK's don't derive serde).
pub mod asff;
/// Security Hub findings: bare, arrays, `{"Findings":[...]}` and EventBridge envelopes.
pub mod security_hub;

use shared_types::Finding;

/// One finding (or document) that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The finding's own id when it could be read (ASFF `Id`, event id…).
    pub finding_id: Option<String>,
    /// Specific reason, e.g. `UpdatedAt: invalid timestamp "Jan 01, 2019 0:00:00 PM"`.
    pub reason: String,
}

/// Everything one input document yielded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentOutcome {
    /// Findings normalized from the document.
    pub findings: Vec<Finding>,
    /// Parts of the document that were rejected, each with its reason.
    pub rejected: Vec<Rejection>,
    /// Set when the document is valid but holds no findings by design
    /// (e.g. a Security Hub `Insight Results` event), saying so.
    pub note: Option<String>,
}

/// Turns documents of any supported kind into findings. Holds what normalization
/// needs beyond the document itself (detection rules, suppressions, settings), built
/// once at start-up and shared by `cspm ingest`, the server and the Lambdas.
#[derive(Debug, Default)]
pub struct Normalizer {}

impl Normalizer {
    /// Normalizes one parsed JSON document, detecting its kind.
    pub fn parse_document(&self, doc: &serde_json::Value) -> DocumentOutcome {
        security_hub::parse_document(doc)
    }
}
