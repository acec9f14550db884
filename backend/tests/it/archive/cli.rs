//! The real `cspm` binary: `archive`, `archive ls`, `archive restore`, and the
//! refusal of malformed arguments.

use std::path::Path;
use std::process::{Command, Output};

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

fn cspm(args: &[&str], data_dir: &Path) -> Output {
    Command::new(CSPM)
        .args(args)
        .env("CSPM_DATA_DIR", data_dir)
        .env_remove("CSPM_ARCHIVE_DIR")
        .env_remove("CSPM_ARCHIVE_S3")
        .output()
        .expect("run cspm")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "cspm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `key=value` field of the archive summary line.
fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

#[test]
fn cspm_archive_then_ls_then_restore_round_trips_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let archive = dir.path().join("archive");
    let archive_s = archive.to_str().unwrap();
    ok(&cspm(&["demo", "--count", "600"], &data));

    // Demo findings spread over 120 days: those older than 30 days move out.
    let line = ok(&cspm(
        &[
            "archive",
            "--older-than",
            "30d",
            "--archive-dir",
            archive_s,
            "--max-part-findings",
            "100",
        ],
        &data,
    ));
    let archived = field(&line, "archived");
    assert!(archived > 300 && archived < 600, "{line}");
    assert_eq!(field(&line, "deleted"), archived, "{line}");
    assert!(field(&line, "parts") >= archived / 100, "{line}");

    // A second run finds nothing to do.
    let again = ok(&cspm(
        &["archive", "--older-than", "30d", "--archive-dir", archive_s],
        &data,
    ));
    assert_eq!(
        (field(&again, "archived"), field(&again, "parts")),
        (0, 0),
        "{again}"
    );

    let ls = ok(&cspm(
        &["archive", "ls", "--from", archive_s, "--parts"],
        &data,
    ));
    assert!(ls.contains("complete"), "{ls}");
    assert!(ls.contains("findings/dt="), "{ls}");
    assert!(ls.contains("sha256="), "{ls}");

    let restored = ok(&cspm(&["archive", "restore", "--from", archive_s], &data));
    assert!(
        restored.contains(&format!("{archived} findings read: {archived} inserted")),
        "{restored}"
    );
}

#[test]
fn cspm_archive_refuses_malformed_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let file_s = file.to_str().unwrap();
    for args in [
        vec!["archive", "--older-than", "-3d", "--archive-dir", "x"],
        vec!["archive", "--older-than", "1y", "--archive-dir", "x"],
        vec!["archive", "--archive-s3", "s3://Bad_Bucket/p"],
        vec!["archive", "--archive-s3", "bucket/p"],
        vec!["archive", "--archive-dir", file_s],
        vec![
            "archive",
            "--archive-dir",
            "a",
            "--archive-s3",
            "s3://bucket/p",
        ],
        vec!["archive"],
        vec!["archive", "restore", "--from", "x", "--since", "2026-13-01"],
        vec![
            "archive",
            "restore",
            "--from",
            "x",
            "--since",
            "2026-06-02",
            "--until",
            "2026-06-01",
        ],
        vec!["archive", "ls", "--from", "s3://bucket/../x"],
    ] {
        let out = cspm(&args, &data);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(!out.stderr.is_empty(), "{args:?} failed without saying why");
    }
}

/// `cspm` with AWS flags: the emulator is reached only through `--aws-endpoint`
/// (no `AWS_ENDPOINT_URL`), for the archive run, `ls` and `restore` alike.
fn cspm_aws(args: &[&str], data_dir: &Path, endpoint: &str) -> Output {
    Command::new(CSPM)
        .args(args)
        .args(["--aws-endpoint", endpoint, "--aws-region", "us-east-1"])
        .env("CSPM_DATA_DIR", data_dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("CSPM_AWS_ENDPOINT")
        .env_remove("AWS_PROFILE")
        .env_remove("CSPM_ARCHIVE_DIR")
        .env_remove("CSPM_ARCHIVE_S3")
        .output()
        .expect("run cspm")
}

#[tokio::test]
async fn cspm_archive_to_s3_goes_where_aws_endpoint_points() {
    let Some(ep) = super::support::s3_endpoint("cli_archive_s3") else {
        return;
    };
    let sink = super::support::s3_sink(&ep, "cli").await;
    let loc = sink.location();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&cspm(&["demo", "--count", "300"], &data));

    let line = ok(&cspm_aws(
        &["archive", "--older-than", "30d", "--archive-s3", &loc],
        &data,
        &ep,
    ));
    let archived = field(&line, "archived");
    assert!(archived > 100, "{line}");
    let parts = sink.list("findings/").await.unwrap();
    assert_eq!(parts.len() as u64, field(&line, "parts"), "{parts:?}");

    let ls = ok(&cspm_aws(&["archive", "ls", "--from", &loc], &data, &ep));
    assert!(ls.contains("complete"), "{ls}");
    let restored = ok(&cspm_aws(
        &["archive", "restore", "--from", &loc],
        &data,
        &ep,
    ));
    assert!(
        restored.contains(&format!("{archived} findings read: {archived} inserted")),
        "{restored}"
    );
}
