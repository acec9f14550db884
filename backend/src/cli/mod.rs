//! The `cspm` command line: one file per subcommand, registered in [`Command`].

/// `cspm archive` (and `archive restore`, `archive ls`).
pub mod archive;
/// `cspm demo`.
pub mod demo;
/// `cspm ingest`.
pub mod ingest;
/// `cspm serve`.
pub mod serve;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// cspm-monitor: cloud security posture management for AWS, locally on SQLite.
#[derive(Debug, Parser)]
#[command(name = "cspm", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command that opens the store.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Folder holding the SQLite database.
    #[arg(long, env = crate::config::ENV_DATA_DIR, default_value = "./data")]
    pub data_dir: PathBuf,
}

impl StoreArgs {
    /// The store configuration these options select.
    pub fn store_config(&self) -> crate::config::StoreConfig {
        crate::config::StoreConfig::Sqlite {
            data_dir: self.data_dir.clone(),
        }
    }
}

/// The subcommands. Adding one = one file in `cli/` plus one variant here.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and dashboard (and load demo data with --demo).
    Serve(serve::ServeArgs),
    /// Load findings from files, folders or stdin (`-`).
    Ingest(ingest::IngestArgs),
    /// Generate deterministic synthetic findings into the store.
    Demo(demo::DemoArgs),
    /// Move old findings to the archive; `archive restore` / `archive ls`.
    Archive(archive::ArchiveArgs),
}

/// Runs the parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(a) => serve::run(a).await,
        Command::Ingest(a) => ingest::run(a).await,
        Command::Demo(a) => demo::run(a).await,
        Command::Archive(a) => archive::run(a).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A command failure, printed as `error: …`.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;
