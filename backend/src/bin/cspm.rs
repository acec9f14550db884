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
    no_transparent_huge_pages();
    cspm::cli::main()
}

/// Keeps this process's memory in 4 KiB pages, what `MIMALLOC_ALLOW_THP=0` does.
///
/// mimalloc asks the kernel for transparent huge pages on its arenas (`MADV_HUGEPAGE`),
/// so the first touch of each 2 MiB clears all of it. On a VM (Firecracker here) that
/// clearing was 35 % of a DynamoDB ingest's CPU (`perf`: `clear_page_erms` under
/// `do_huge_pmd_anonymous_page`), and its cost swung from run to run. Measured with
/// `perf stat` on the same binary, alternating, 2,000 findings: a first DynamoDB insert
/// 156 → 106 µs of CPU per finding, a SQLite ingest 231 → 157 ms (median of 7), and a
/// re-ingest, which touches little new memory, 84 → 97 ms. The flag is per process
/// (inherited by children); what is already mapped keeps its pages, which before `main`
/// is next to nothing. A kernel without the call leaves things as they were.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE reads one integer argument (the others must be zero, as
    // unsigned longs: the call is variadic) and touches no memory of ours.
    unsafe {
        let (on, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        libc::prctl(libc::PR_SET_THP_DISABLE, on, unused, unused, unused);
    }
}
