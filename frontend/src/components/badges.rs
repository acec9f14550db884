use leptos::prelude::*;
use shared_types::{Severity, WorkflowStatus};

/// CSS modifier for a severity (`critical`, `high`…), shared by badges and chart fills
/// so one palette in `style.css` colours everything.
pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Informational => "info",
    }
}

/// CSS modifier for a workflow status.
pub fn status_class(s: WorkflowStatus) -> &'static str {
    match s {
        WorkflowStatus::New => "new",
        WorkflowStatus::Notified => "notified",
        WorkflowStatus::Suppressed => "suppressed",
        WorkflowStatus::Resolved => "resolved",
    }
}

/// A coloured severity label. The text is always shown, so colour is never the only cue.
#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class=format!("badge sev-{}", severity_class(severity))>{severity.as_str()}</span>
    }
}

/// A workflow-status label.
#[component]
pub fn StatusBadge(status: WorkflowStatus) -> impl IntoView {
    view! {
        <span class=format!("status st-{}", status_class(status))>{status.as_str()}</span>
    }
}
