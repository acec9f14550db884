//! What one input may cost. Every document this product reads is written by
//! someone else, so each way an input can grow — nesting, one huge document, a
//! gzip stream that expands without end — has a documented bound here, and going
//! over it is a rejection with a reason, never a panic, an abort or unbounded memory.
//!
//! Bounds, and what they cost at most while reading one input (streaming keeps
//! one document in memory at a time):
//! - nesting: [`MAX_DEPTH`] levels (serde_json's own recursion limit, so the
//!   parser's stack never overflows; every recursive walk of a parsed value is
//!   bounded by it too);
//! - one document (a JSON value, one JSON Lines line, one element of a top-level
//!   array or of a `Records` list): [`MAX_DOCUMENT_BYTES`] of JSON text, counted
//!   to within one read buffer ([`READ_BUFFER_BYTES`]); its parsed form is a small
//!   multiple of that;
//! - a gzip input: [`MAX_DECOMPRESSED_BYTES`] once expanded, and at most
//!   [`MAX_EXPANSION_RATIO`] times its compressed size past [`RATIO_FREE_BYTES`],
//!   so a gzip bomb ends with a reason within a few MiB instead of keeping the
//!   reader busy.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Deepest nesting of arrays and objects accepted: serde_json's recursion
/// limit, pinned by a test so an upgrade that changes it is noticed.
pub const MAX_DEPTH: usize = 127;
/// Largest single document, in bytes of JSON text. An EventBridge event is at
/// most 256 KiB and a Security Hub import batch 100 findings of at most 240 KiB
/// each (24 MiB would be a single document only as `{"Findings":[...]}`, which
/// exports split); larger collections must come as a top-level array, a
/// `Records` list or JSON Lines, which are read element by element.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;
/// Largest expansion of one gzip input. A CloudTrail log file expands to tens
/// of MiB; 4 GiB leaves room for large archives while ending a bomb.
pub const MAX_DECOMPRESSED_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// How many times its compressed size a gzip input may expand, once past
/// [`RATIO_FREE_BYTES`]. gzip shrinks JSON 5–20 times (CloudTrail log files about
/// 10); deflate's ceiling, reached by a bomb of one repeated byte, is about 1,000.
pub const MAX_EXPANSION_RATIO: u64 = 200;
/// Output below which any expansion ratio is accepted (small inputs of very
/// repetitive JSON compress well beyond normal ratios, and cost little).
pub const RATIO_FREE_BYTES: u64 = 32 * 1024 * 1024;
/// Read-ahead between the input and the JSON parser, and so the accuracy of
/// the [`MAX_DOCUMENT_BYTES`] count.
pub const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A bound was crossed. Never retryable: the input itself is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// One document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("a document is larger than {limit} bytes (the limit for one document; send large collections as a JSON array, a Records list or JSON Lines)")]
    DocumentTooLarge {
        /// The bound, in bytes.
        limit: u64,
    },
    /// A gzip input expands beyond its bound.
    #[error("gzip input expands to more than {limit} bytes, or more than {MAX_EXPANSION_RATIO} times its compressed size past {RATIO_FREE_BYTES} bytes (the limits for one compressed input)")]
    Decompressed {
        /// The bound, in bytes.
        limit: u64,
    },
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    #[error("nested deeper than {MAX_DEPTH} levels of arrays and objects (the limit)")]
    TooDeep,
}

impl LimitExceeded {
    /// The bound as an I/O error, so readers can stop the parser with it.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The bound an I/O error (possibly wrapped by serde_json) carries, if any.
    pub fn from_io(e: &io::Error) -> Option<LimitExceeded> {
        e.get_ref()?.downcast_ref::<LimitExceeded>().copied()
    }

    /// Whether a JSON error is the parser's recursion limit ([`MAX_DEPTH`]).
    pub fn is_too_deep(e: &serde_json::Error) -> bool {
        // serde_json does not expose its error codes; this message is pinned by a test.
        e.to_string().starts_with("recursion limit exceeded")
    }

    /// The bound a JSON error stands for: a limit hit by a reader below the
    /// parser, or the parser's own recursion limit. Takes the error by value
    /// because serde_json hands its inner I/O error out only that way.
    pub fn from_json(e: serde_json::Error) -> Option<LimitExceeded> {
        if LimitExceeded::is_too_deep(&e) {
            return Some(LimitExceeded::TooDeep);
        }
        if e.is_io() {
            return LimitExceeded::from_io(&io::Error::from(e));
        }
        None
    }
}

/// Counts the bytes read since the last document was handed out; the reader
/// side is [`Metered`], the consumer calls [`DocumentMeter::reset`] per document.
#[derive(Debug, Clone, Default)]
pub struct DocumentMeter(Arc<AtomicU64>);

impl DocumentMeter {
    /// A document was handed out: the next one starts counting from zero.
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// A reader that fails with [`LimitExceeded::DocumentTooLarge`] once more than
/// `limit` bytes were read since the meter's last reset.
#[derive(Debug)]
pub struct Metered<R> {
    inner: R,
    meter: DocumentMeter,
    limit: u64,
}

impl<R> Metered<R> {
    /// `inner` counted on `meter`, failing beyond `limit` bytes per document.
    pub fn new(inner: R, meter: DocumentMeter, limit: u64) -> Self {
        Metered {
            inner,
            meter,
            limit,
        }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.meter.0.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limit {
            return Err(LimitExceeded::DocumentTooLarge { limit: self.limit }.into_io());
        }
        Ok(n)
    }
}

/// Bytes that went through a [`Counted`] reader (shared with whoever checks them).
#[derive(Debug, Clone, Default)]
pub struct ByteCount(Arc<AtomicU64>);

impl ByteCount {
    /// Bytes counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A reader that counts what passes through it (the compressed side of a decoder).
#[derive(Debug)]
pub struct Counted<R> {
    inner: R,
    count: ByteCount,
}

impl<R> Counted<R> {
    /// `inner`, counted on `count`.
    pub fn new(inner: R, count: ByteCount) -> Self {
        Counted { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader over a decoder that fails with [`LimitExceeded::Decompressed`] once
/// it yielded more than `limit` bytes, or — past [`RATIO_FREE_BYTES`] — more than
/// [`MAX_EXPANSION_RATIO`] times the compressed bytes read (a bomb is caught
/// after a few MiB instead of after the absolute bound).
#[derive(Debug)]
pub struct Capped<R> {
    inner: R,
    read: u64,
    limit: u64,
    compressed: Option<ByteCount>,
}

impl<R> Capped<R> {
    /// `inner`, failing once it yielded more than `limit` bytes.
    pub fn new(inner: R, limit: u64) -> Self {
        Capped {
            inner,
            read: 0,
            limit,
            compressed: None,
        }
    }

    /// The same, also failing when the output outgrows `compressed` (the bytes
    /// the decoder consumed) by more than [`MAX_EXPANSION_RATIO`].
    pub fn with_ratio(mut self, compressed: ByteCount) -> Self {
        self.compressed = Some(compressed);
        self
    }

    fn over_ratio(&self) -> bool {
        self.read > RATIO_FREE_BYTES
            && self
                .compressed
                .as_ref()
                .is_some_and(|c| self.read / c.get().max(1) > MAX_EXPANSION_RATIO)
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never ask for more than one byte past the bound: the expansion stops there.
        let room = (self.limit + 1 - self.read.min(self.limit + 1)).min(buf.len() as u64);
        let n = self.inner.read(&mut buf[..room as usize])?;
        self.read += n as u64;
        if self.read > self.limit || self.over_ratio() {
            return Err(LimitExceeded::Decompressed { limit: self.limit }.into_io());
        }
        Ok(n)
    }
}

/// Reads one line (without its `\n`) into `line`, holding at most `limit`
/// bytes: a longer line is consumed to its end but not kept. `None` at the end
/// of input; `Some(false)` for a line over the limit (then `line` is empty).
pub fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    limit: u64,
) -> io::Result<Option<bool>> {
    line.clear();
    let mut fits = true;
    let mut any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(any.then_some(fits));
        }
        any = true;
        let (chunk, used, end) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if fits && (line.len() + chunk.len()) as u64 > limit {
            fits = false;
            line.clear();
            line.shrink_to(0);
        }
        if fits {
            line.extend_from_slice(chunk);
        }
        reader.consume(used);
        if end {
            return Ok(Some(fits));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn serde_json_recursion_limit_is_the_documented_max_depth() {
        assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH)).is_ok());
        let e = serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(LimitExceeded::from_json(e), Some(LimitExceeded::TooDeep));
        // 10,000 levels: an error, not a stack overflow.
        let e = serde_json::from_str::<serde_json::Value>(&nested(10_000)).unwrap_err();
        assert_eq!(LimitExceeded::from_json(e), Some(LimitExceeded::TooDeep));
        let e = serde_json::from_str::<serde_json::Value>("[1,").unwrap_err();
        assert_eq!(LimitExceeded::from_json(e), None);
        // A limit hit below the parser comes back out of serde_json's error.
        let r = Capped::new(std::io::repeat(b' '), 10);
        let e = serde_json::from_reader::<_, serde_json::Value>(r).unwrap_err();
        assert_eq!(
            LimitExceeded::from_json(e),
            Some(LimitExceeded::Decompressed { limit: 10 })
        );
    }

    #[test]
    fn metered_reader_fails_past_the_limit_unless_reset_in_between() {
        let meter = DocumentMeter::default();
        let mut r = Metered::new(&[0u8; 200][..], meter.clone(), 60);
        let mut buf = [0u8; 50];
        assert_eq!(r.read(&mut buf).unwrap(), 50);
        meter.reset();
        assert_eq!(r.read(&mut buf).unwrap(), 50);
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(
            LimitExceeded::from_io(&e),
            Some(LimitExceeded::DocumentTooLarge { limit: 60 })
        );
    }

    #[test]
    fn lines_over_the_limit_are_consumed_but_not_kept() {
        let mut r = &b"short\nmuch too long\n\nlast"[..];
        let mut line = Vec::new();
        assert_eq!(read_line(&mut r, &mut line, 8).unwrap(), Some(true));
        assert_eq!(line, b"short");
        assert_eq!(read_line(&mut r, &mut line, 8).unwrap(), Some(false));
        assert!(line.is_empty());
        assert_eq!(read_line(&mut r, &mut line, 8).unwrap(), Some(true));
        assert!(line.is_empty());
        assert_eq!(read_line(&mut r, &mut line, 8).unwrap(), Some(true));
        assert_eq!(line, b"last");
        assert_eq!(read_line(&mut r, &mut line, 8).unwrap(), None);
    }

    #[test]
    fn capped_reader_stops_one_byte_past_the_bound() {
        let mut r = Capped::new(std::io::repeat(b' '), 1000);
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(
            LimitExceeded::from_io(&e),
            Some(LimitExceeded::Decompressed { limit: 1000 })
        );
        assert_eq!(r.read, 1001);
        let mut ok = Capped::new(&[1u8; 1000][..], 1000);
        assert_eq!(std::io::copy(&mut ok, &mut std::io::sink()).unwrap(), 1000);
    }

    #[test]
    fn a_gzip_bomb_ends_at_the_expansion_ratio_and_normal_gzip_does_not() {
        use flate2::{read::MultiGzDecoder, write::GzEncoder, Compression};
        use std::io::Write;
        let gz = |data: &mut dyn Read| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            std::io::copy(data, &mut enc).unwrap();
            enc.finish().unwrap()
        };
        let open = |bytes: Vec<u8>| {
            let count = ByteCount::default();
            let decoder =
                MultiGzDecoder::new(Counted::new(std::io::Cursor::new(bytes), count.clone()));
            Capped::new(decoder, MAX_DECOMPRESSED_BYTES).with_ratio(count)
        };
        // 64 MiB of spaces compress about 1,000 times.
        let bomb = gz(&mut std::io::repeat(b' ').take(2 * RATIO_FREE_BYTES));
        let e = std::io::copy(&mut open(bomb), &mut std::io::sink()).unwrap_err();
        assert!(matches!(
            LimitExceeded::from_io(&e),
            Some(LimitExceeded::Decompressed { .. })
        ));
        // Varied JSON past the free allowance expands far less.
        let mut text = Vec::new();
        let mut n = 0u64;
        while (text.len() as u64) < RATIO_FREE_BYTES + 1024 * 1024 {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            writeln!(
                text,
                r#"{{"eventID":"{n:x}","eventName":"PutObject","n":{}}}"#,
                n >> 40
            )
            .unwrap();
        }
        let len = text.len() as u64;
        let copied = std::io::copy(&mut open(gz(&mut &text[..])), &mut std::io::sink()).unwrap();
        assert_eq!(copied, len);
    }
}
