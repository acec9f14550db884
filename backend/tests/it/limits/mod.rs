//! Hostile inputs meet the documented bounds (`cspm::documents::limits`, the
//! policy and regex bounds of `cspm::detect`): each is refused or read with a
//! reason, never a crash, and `cspm ingest` — run as the real binary — stays
//! under a stated peak memory, read from the kernel's accounting of the child.

/// Policies of 10,000 statements, regexes on 1 MB fields, hostile rule files.
mod detect;
/// `cspm ingest` on each hostile file, with its peak memory.
mod ingest;
/// `POST /events` on a gzip bomb and a 10,000-deep document while `/health` answers.
mod server;

use std::io::Read;
use std::process::{Command, Stdio};

/// What a child process did.
pub struct Run {
    /// Its exit code (`None` when a signal ended it: an abort, a stack overflow).
    pub code: Option<i32>,
    /// stdout and stderr together.
    pub output: String,
    /// Its peak resident memory (`ru_maxrss`), in bytes.
    pub peak_rss: u64,
}

/// Runs `cmd` to its end and reads its peak resident memory from `wait4`'s
/// resource usage (the kernel's own figure, so nothing is sampled or missed).
// The child is reaped by `wait4` below (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn run_measured(cmd: &mut Command) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut output = String::new();
    let _ = out.read_to_string(&mut output);
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zero is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (Child::wait was not called).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    output.push_str(&reader.join().unwrap());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        output,
        // Linux reports ru_maxrss in KiB.
        peak_rss: usage.ru_maxrss as u64 * 1024,
    }
}

/// 2^20, to state bounds in MiB.
pub const MIB: u64 = 1024 * 1024;

/// `depth` nested objects around a value, as JSON text.
pub fn nested_json(depth: usize) -> String {
    let mut s = String::with_capacity(depth * 6);
    for _ in 0..depth {
        s.push_str("{\"a\":");
    }
    s.push('1');
    s.push_str(&"}".repeat(depth));
    s
}

/// `expanded` bytes of spaces (valid JSON whitespace, so a reader would keep
/// going) gzip-compressed: about a thousandth of the size.
pub fn gzip_bomb(expanded: u64) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::copy(&mut std::io::repeat(b' ').take(expanded), &mut enc).unwrap();
    enc.finish().unwrap()
}
