//! Types shared by the cspm-monitor backend and its WASM dashboard: the one
//! [`Finding`] model every source normalizes to, and the JSON shapes of the API.
//!
//! Serde only — this crate must build for native targets and `wasm32-unknown-unknown`.

/// The API's request and response bodies (pages, summary, errors, workflow updates).
pub mod api;
/// `POST /findings/workflow`: one workflow change for many findings.
pub mod bulk;
/// What a change did to a stored finding (inserted, updated, reopened…).
pub mod change;
/// Compliance scores per security standard and their controls.
pub mod compliance;
/// Export jobs: `POST /exports` bodies and `GET /exports/{id}` answers.
pub mod export_job;
/// The normalized Finding model.
pub mod finding;
/// `GET /findings/groups`: a view's findings grouped, most severe group first.
pub mod groups;
/// The live protocol (WebSocket frames) between the server and the dashboard.
pub mod live;
/// Query filters for `GET /findings`, with their URL query-string form.
pub mod query;
/// Remediation plans, approvals and records (`/findings/{id}/remediation…`, `/remediations`).
pub mod remediation;
/// Browser sign-in: `GET /auth/session` and `POST /auth/logout` answers.
pub mod session;
/// Severity labels and the ASFF normalized-score mapping.
pub mod severity;
/// Workflow status and record state.
pub mod status;

pub use api::*;
pub use bulk::*;
pub use change::*;
pub use compliance::*;
pub use export_job::*;
pub use finding::*;
pub use groups::*;
pub use live::*;
pub use query::*;
pub use remediation::*;
pub use session::*;
pub use severity::*;
pub use status::*;
