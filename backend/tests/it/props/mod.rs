//! Property tests on the stable toolchain (the coverage-guided targets of the
//! same entry points are in `fuzz/`). Each runs a bounded number of cases so
//! `cargo test` stays fast; proptest shrinks any failure to a small input.

/// Document reading and normalizing: never a panic; normalize → serialize →
/// normalize is stable on corpus findings; `short_id` is stable.
mod documents;
/// The OCSF reader: never a panic on OCSF-shaped JSON or on real findings with a
/// node replaced; an exported finding reads back with what identifies it.
mod ocsf;
/// The IAM policy analyzer: never a panic; statement order, action-name case and
/// split statements do not change the verdict; an added `Deny` never adds a risk.
mod policy;
/// Cursors, query strings and filters: never a panic; a cursor decodes to the
/// position it was made from.
mod query;
/// The rule pack on real CloudTrail events with one node changed: never a panic,
/// the same findings twice.
mod rules;
/// The workflow decision is monotonic in the provider's `UpdatedAt`.
mod workflow;
/// Rules, sinks and detection YAML loaders: never a panic on any text.
mod yaml;

use proptest::test_runner::Config;

/// Cases per property: enough to find shallow bugs, few enough for `cargo test`.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        // Shrinking a failure is worth more than speed, but bounded too.
        max_shrink_iters: 2048,
        failure_persistence: None,
        ..Config::default()
    }
}
