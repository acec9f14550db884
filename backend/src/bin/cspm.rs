//! `cspm`: the local product in one binary — API + dashboard server, ingest, demo data.
//! Run `cspm --help`; the README has the one command that builds and starts it.
//! Everything, the async runtime included, starts in [`cspm::cli::main`] (why there:
//! its doc).

use std::process::ExitCode;

// Ingest and demo allocate and free many small JSON values per finding; glibc's
// malloc spent a third of the CPU there (perf), mimalloc a fraction of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cspm::cli::main()
}
