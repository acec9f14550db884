//! `cspm`: the local product in one binary — API + dashboard server, ingest, demo data.
//! Run `cspm --help`; the README has the one command that builds and starts it.

use clap::Parser;
use std::process::ExitCode;

// Ingest and demo allocate and free many small JSON values per finding; glibc's
// malloc spent a third of the CPU there (perf), mimalloc a fraction of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    cspm::cli::run(cspm::cli::Cli::parse()).await
}
