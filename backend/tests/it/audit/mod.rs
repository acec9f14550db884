//! The audit log: a run through the dispatcher writes the expected lines; edited,
//! deleted and crashed logs are caught or recovered; `cspm audit verify|tail`
//! through the binary, and where `cspm serve` puts it; the same log in S3 (Object
//! Lock) in the emulator.

/// `cspm audit verify` and `tail` through the binary: exit codes and messages.
mod cli;
/// The `fanout` Lambda with `CSPM_AUDIT_BUCKET`: lines in the bucket (a workflow
/// change; suppression, alerts and a refusal in order), EMF lines.
mod fanout;
/// The dispatcher with alerting sinks and the audit sink on SQLite.
mod local;
/// The S3 journal against the emulator: Object Lock bucket, racing writers.
mod s3;
/// `cspm serve --audit-dir` and `CSPM_AUDIT_DIR` move the log.
mod serve;
/// Shared helpers: reading lines, running the binary.
pub mod support;
