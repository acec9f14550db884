//! The `cspm` command line: one file per subcommand, registered in [`Command`].

use clap::{Parser, Subcommand};

/// cspm-monitor: cloud security posture management for AWS, locally on SQLite.
#[derive(Debug, Parser)]
#[command(name = "cspm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. Adding one = one file in `cli/` plus one variant here.
#[derive(Debug, Subcommand)]
pub enum Command {}

/// Runs the parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow_free::ExitCode {
    match cli.command {}
}

/// Exit codes without pulling `anyhow` into the library.
pub mod anyhow_free {
    /// Process exit code.
    pub type ExitCode = std::process::ExitCode;
}
