//! The audit log: a run through the dispatcher writes the expected lines; edited,
//! deleted and crashed logs are caught or recovered; `cspm audit verify|tail`
//! through the binary; the same log in S3 (Object Lock) in the emulator.

/// `cspm audit verify` and `tail` through the binary: exit codes and messages.
mod cli;
/// The `fanout` Lambda with `CSPM_AUDIT_BUCKET`: a line in the bucket, EMF lines.
mod fanout;
/// The dispatcher with alerting sinks and the audit sink on SQLite.
mod local;
/// The S3 journal against the emulator: Object Lock bucket, racing writers.
mod s3;
/// Shared helpers: reading lines, running the binary.
pub mod support;
