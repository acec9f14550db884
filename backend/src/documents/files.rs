//! Documents from files, folders and stdin: `.json` (one or several concatenated
//! documents), `.jsonl` (one per line, a bad line rejects only itself), and either
//! of them gzip-compressed (`.gz`).

use super::limits::{ByteCount, Capped, Counted, LimitExceeded, MAX_DECOMPRESSED_BYTES};
use super::Item;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-` on the command line); JSON or JSON Lines, optionally gzip.
    Stdin,
}

impl Input {
    /// How the input is named in reports.
    pub fn label(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }
}

/// Expands command-line paths: files as given, folders recursively (sorted, so
/// runs are repeatable), keeping only supported extensions. Returns the inputs and
/// the files skipped because of their extension.
pub fn expand(paths: &[PathBuf]) -> std::io::Result<(Vec<Input>, Vec<PathBuf>)> {
    let mut inputs = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if p.is_dir() {
            walk(p, &mut inputs, &mut skipped)?;
        } else if p.exists() {
            // An explicitly named file is read whatever its extension.
            inputs.push(Input::File(p.clone()));
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or folder", p.display()),
            ));
        }
    }
    Ok((inputs, skipped))
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, skipped: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, inputs, skipped)?;
        } else if is_supported(&p) {
            inputs.push(Input::File(p));
        } else {
            skipped.push(p);
        }
    }
    Ok(())
}

/// `.json`, `.jsonl`, `.ndjson`, each optionally `.gz`.
pub fn is_supported(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// True when the input is JSON Lines by its name (`.jsonl`/`.ndjson`, optionally `.gz`).
pub fn is_lines(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    let l = l.strip_suffix(".gz").unwrap_or(&l);
    l.ends_with(".jsonl") || l.ends_with(".ndjson")
}

/// Opens an input as a byte stream, transparently gunzipping (by magic bytes, so a
/// gzip stream on stdin works too).
pub fn open(input: &Input) -> std::io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = match input {
        Input::File(p) => Box::new(File::open(p)?),
        Input::Stdin => Box::new(std::io::stdin()),
    };
    decoded(raw)
}

/// A raw byte stream as documents are read from it: gunzipped when it starts
/// with gzip's magic bytes, within the expansion bounds of [`super::limits`].
pub fn decoded(raw: Box<dyn Read + Send>) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut buf = BufReader::with_capacity(256 * 1024, raw);
    let magic = buf.fill_buf()?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        // A gzip bomb ends at the bound with a reason (see `limits`).
        let compressed = ByteCount::default();
        let decoder = MultiGzDecoder::new(Counted::new(buf, compressed.clone()));
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            Capped::new(decoder, MAX_DECOMPRESSED_BYTES).with_ratio(compressed),
        )))
    } else {
        Ok(Box::new(buf))
    }
}

/// Reads every document of a file (or stdin) and hands each to `sink` (see
/// [`super::read_documents`]); JSON Lines by the file's name. A gzip input that
/// expands past its bound ends with an `Unreadable` item saying so, after the
/// documents read until then.
pub fn read_input(input: &Input, sink: &mut dyn FnMut(Item)) -> std::io::Result<()> {
    let reader = open(input)?;
    match super::read_documents(reader, is_lines(&input.label()), sink) {
        Err(e) => match LimitExceeded::from_io(&e) {
            Some(limit) => {
                sink(Item::Unreadable {
                    index: None,
                    reason: limit.to_string(),
                });
                Ok(())
            }
            None => Err(e),
        },
        ok => ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(input: &Input) -> Vec<Item> {
        let mut out = Vec::new();
        read_input(input, &mut |i| out.push(i)).unwrap();
        out
    }

    #[test]
    fn jsonl_bad_line_rejects_only_itself_and_gzip_is_detected_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl.gz");
        let mut gz = flate2::write::GzEncoder::new(File::create(&p).unwrap(), Default::default());
        gz.write_all(b"{\"a\":1}\nnot json\n\n{\"a\":2}\n").unwrap();
        gz.finish().unwrap();
        let items = collect(&Input::File(p));
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[1], Item::Unreadable { index: Some(1), reason } if reason.starts_with("line 2"))
        );
        assert!(matches!(&items[2], Item::Document { index: 3, value } if value["a"] == 2));
    }

    #[test]
    fn folders_expand_recursively_keeping_supported_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in ["b.json", "sub/a.json.gz", "sub/c.jsonl", "notes.txt"] {
            std::fs::write(dir.path().join(f), b"{}").unwrap();
        }
        let (inputs, skipped) = expand(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(inputs.len(), 3);
        assert_eq!(skipped.len(), 1);
        assert!(expand(&[dir.path().join("missing")]).is_err());
    }

    #[test]
    fn concatenated_json_documents_are_all_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, b"{\"a\":1} {\"a\":2}\n[1]").unwrap();
        let items = collect(&Input::File(p));
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[1], Item::Document { index: 1, .. }));
        assert!(matches!(&items[2], Item::Document { index: 2, .. }));
    }
}
