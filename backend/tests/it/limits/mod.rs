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

/// Runs `cmd` to its end and reads its peak resident memory from the kernel's
/// accounting (`ru_maxrss` of the reaped child: nothing sampled, nothing missed).
///
/// Not spawned from this process directly: the test binary is large (hundreds of
/// MiB with the suite running), and a child spawned with `vfork`/`fork` + `exec`
/// starts with its parent's high-water mark — the kernel carries the old address
/// space's peak into the new program's `ru_maxrss` at `exec` — so the figure
/// would be this process's size, not the child's. A small Python parent (already
/// required by the tests) spawns it instead and reports the child's own peak; the
/// floor that adds is Python's size (~10 MiB), far under the bounds.
pub fn run_measured(cmd: &mut Command) -> Run {
    let mut wrapped = Command::new("python3");
    wrapped.arg("-c").arg(MEASURE).arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => wrapped.env(key, v),
            None => wrapped.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let out = wrapped
        .stdin(Stdio::null())
        .output()
        .expect("python3 starts the command");
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let (rest, report) = stderr
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", stderr.trim_end()));
    output.push_str(rest);
    let report: serde_json::Value = serde_json::from_str(report)
        .unwrap_or_else(|e| panic!("no measurement ({e}) in:\n{stderr}"));
    let code = report["code"].as_i64().expect("exit code");
    Run {
        // subprocess gives -N when signal N ended the child.
        code: (code >= 0).then_some(code as i32),
        output,
        // Linux reports ru_maxrss in KiB.
        peak_rss: report["peak_kib"].as_u64().expect("peak") * 1024,
    }
}

/// Runs argv[1:] with inherited stdio, then prints `{"code","peak_kib"}` as the
/// last line of stderr: the child's exit code and its own `ru_maxrss`.
const MEASURE: &str = r#"
import json, resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write("\n" + json.dumps({"code": code, "peak_kib": peak}) + "\n")
"#;

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
