//! Reading documents: JSON (one value, several concatenated, or a top-level array
//! streamed element by element), JSON Lines (a bad line rejects only itself),
//! CloudTrail log files (`Records` streamed), gzip by magic bytes. Used for files
//! and stdin (`cspm ingest`) and for request bodies (`POST /events`), so both read
//! exactly the same documents.

/// Files, folders and stdin.
pub mod files;
/// Bounds on nesting, document size and gzip expansion, and the readers that hold them.
pub mod limits;
/// Streaming of `Records` arrays and top-level arrays, element by element.
pub mod stream;

use limits::LimitExceeded;
use serde_json::Value;
use std::io::BufRead;

/// One item read from an input. `index` is the 0-based position of the document in
/// its input: its line in JSON Lines, otherwise its place among the documents read
/// (a top-level array's elements are documents; a single document is 0).
#[derive(Debug)]
pub enum Item {
    /// A JSON document.
    Document {
        /// Position of the document.
        index: usize,
        /// The document.
        value: Value,
    },
    /// One element of a `{"Records":[...]}` document (streamed, so never held whole).
    Record {
        /// Position of the document the record belongs to.
        index: usize,
        /// Position in `Records`.
        record: usize,
        /// The element.
        value: Value,
    },
    /// A part of the input that is not JSON, or not usable as a whole.
    Unreadable {
        /// Position of the document at fault, when known.
        index: Option<usize>,
        /// Why (with the line when known).
        reason: String,
    },
}

/// Reads every document of `reader` and hands each to `sink`, streaming: memory
/// holds one document (or one element of a large array / `Records` list) at a time.
/// With `lines`, the input is JSON Lines, read line by line so one bad line costs
/// only that line; otherwise a stream of concatenated JSON values.
pub fn read_documents(
    reader: impl BufRead,
    lines: bool,
    sink: &mut dyn FnMut(Item),
) -> std::io::Result<()> {
    if !lines {
        return stream::stream_documents(reader, sink);
    }
    let mut reader = reader;
    let mut line = Vec::new();
    let mut n = 0usize;
    while let Some(fits) = limits::read_line(&mut reader, &mut line, limits::MAX_DOCUMENT_BYTES)? {
        let index = n;
        n += 1;
        if !fits {
            sink(Item::Unreadable {
                index: Some(index),
                reason: format!(
                    "line {}: {}",
                    index + 1,
                    LimitExceeded::DocumentTooLarge {
                        limit: limits::MAX_DOCUMENT_BYTES
                    }
                ),
            });
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice(&line) {
            Ok(value) => sink(Item::Document { index, value }),
            Err(e) if LimitExceeded::is_too_deep(&e) => sink(Item::Unreadable {
                index: Some(index),
                reason: format!("line {}: {}", index + 1, LimitExceeded::TooDeep),
            }),
            Err(e) => sink(Item::Unreadable {
                index: Some(index),
                reason: format!("line {}: not JSON: {e}", index + 1),
            }),
        }
    }
    Ok(())
}
