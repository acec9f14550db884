//! Progress bars for long commands: shown on a terminal, hidden otherwise (logs and
//! pipes get the final summary only).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` units (`bytes` formats them as sizes); hidden when not `visible`.
pub fn bar(total: u64, bytes: bool, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = if bytes {
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// A counter for work of unknown size (`n what` and the rate); hidden when not `visible`.
pub fn counter(what: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::no_length();
    let template = format!("{{spinner}} [{{elapsed_precise}}] {{human_pos}} {what} ({{per_sec}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
