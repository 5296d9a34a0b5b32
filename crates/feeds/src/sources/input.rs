//! Opening a feed file, shared by every format: gzip detection by magic bytes, buffering,
//! a peek at the first byte for format detection, JSON lines with their line numbers, and the
//! limit on a line's length.

use crate::{BadRows, FeedError};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

const BUFFER: usize = 64 * 1024;

/// Longest line (or CSV record) a reader keeps, in bytes; a longer one is a bad row, read to
/// its end without being kept. Rows are a few hundred bytes, but IntelMQ events carry the
/// original report line in `raw` (base64), so the limit is generous.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Counts a line (or a record from line `first` to `last`) longer than [`MAX_LINE_BYTES`].
pub(crate) fn count_too_long(bad: &mut BadRows, first: u64, last: u64) {
    bad.add(first, "too long", || {
        if first == last {
            format!("line longer than {MAX_LINE_BYTES} bytes")
        } else {
            format!("record longer than {MAX_LINE_BYTES} bytes (lines {first} to {last})")
        }
    });
}

/// A feed file opened for streaming, decompressed when it is gzip.
pub(crate) struct Input {
    pub(crate) reader: Box<dyn BufRead + Send>,
    pub(crate) gzip: bool,
}

impl Input {
    pub(crate) fn open(path: &Path) -> Result<Input, FeedError> {
        let fail = |e: io::Error| crate::sources::input_error(path, format!("cannot read: {e}"));
        let mut file = BufReader::with_capacity(BUFFER, File::open(path).map_err(fail)?);
        let gzip = file.fill_buf().map_err(fail)?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Input { reader, gzip })
    }

    /// The first byte that is not white space (nor a UTF-8 byte order mark), looking at the
    /// first buffer only; `None` for an empty or blank start.
    pub(crate) fn first_byte(&mut self, path: &Path) -> Result<Option<u8>, FeedError> {
        let buf = self.reader.fill_buf().map_err(|e| {
            let what = if self.gzip {
                "cannot decompress (gzip)"
            } else {
                "cannot read"
            };
            crate::sources::input_error(path, format!("{what}: {e}"))
        })?;
        let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
        Ok(buf.iter().copied().find(|b| !b.is_ascii_whitespace()))
    }
}

/// The lines of a JSON-lines file, one buffer reused for all of them.
pub(crate) struct Lines {
    reader: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    /// The number of the line last returned (1-based).
    line: u64,
}

impl Lines {
    pub(crate) fn new(reader: Box<dyn BufRead + Send>) -> Lines {
        Lines {
            reader,
            buf: Vec::with_capacity(4096),
            line: 0,
        }
    }

    /// The next line without its line ending, with its number; `None` at the end. A line
    /// longer than [`MAX_LINE_BYTES`] is counted in `bad` and skipped.
    pub(crate) fn next_line(&mut self, bad: &mut BadRows) -> io::Result<Option<(u64, &[u8])>> {
        loop {
            let Some(kept) = self.read_line()? else {
                return Ok(None);
            };
            self.line += 1;
            if kept {
                break;
            }
            count_too_long(bad, self.line, self.line);
        }
        let mut line = self.buf.as_slice();
        if self.line == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some((self.line, line)))
    }

    /// Reads the next line, with its line feed, into `buf`: `Some(true)` when it was kept,
    /// `Some(false)` when it was longer than [`MAX_LINE_BYTES`] and read to its end without
    /// being kept, `None` at the end of the input.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let (mut read, mut kept) = (false, true);
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(read.then_some(kept));
            }
            read = true;
            let (chunk, ends) = match memchr::memchr(b'\n', available) {
                Some(at) => (&available[..=at], true),
                None => (available, false),
            };
            let len = chunk.len();
            if kept && self.buf.len() + len - usize::from(ends) > MAX_LINE_BYTES {
                kept = false;
                self.buf.clear();
            }
            if kept {
                self.buf.extend_from_slice(chunk);
            }
            self.reader.consume(len);
            if ends {
                return Ok(Some(kept));
            }
        }
    }

    /// The number of the line last read (for errors).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_detected_by_its_magic_bytes_and_decompressed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feed.data");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"\xef\xbb\xbf  {\"a\": 1}\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let mut input = Input::open(&path).unwrap();
        assert!(input.gzip);
        assert_eq!(input.first_byte(&path).unwrap(), Some(b'{'));
        let mut lines = Lines::new(input.reader);
        let bad = &mut BadRows::default();
        assert_eq!(
            lines.next_line(bad).unwrap(),
            Some((1, &b"  {\"a\": 1}"[..]))
        );
        assert_eq!(lines.next_line(bad).unwrap(), None);
    }

    #[test]
    fn lines_are_numbered_and_stripped_of_their_endings() {
        let mut lines = Lines::new(Box::new(&b"a\r\n\nb"[..]));
        let bad = &mut BadRows::default();
        assert_eq!(lines.next_line(bad).unwrap(), Some((1, &b"a"[..])));
        assert_eq!(lines.next_line(bad).unwrap(), Some((2, &b""[..])));
        assert_eq!(lines.next_line(bad).unwrap(), Some((3, &b"b"[..])));
        assert_eq!(lines.next_line(bad).unwrap(), None);
        assert_eq!(lines.line(), 3);
    }

    #[test]
    fn lines_longer_than_the_limit_are_bad_rows_and_the_rest_is_read() {
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        let fits = "y".repeat(MAX_LINE_BYTES);
        let text = format!("a\n{long}\n{fits}\n{long}");
        // One byte at a time through the buffer: the line is never whole in it.
        let reader = BufReader::with_capacity(1, io::Cursor::new(text.into_bytes()));
        let mut lines = Lines::new(Box::new(reader));
        let mut bad = BadRows::default();
        assert_eq!(lines.next_line(&mut bad).unwrap(), Some((1, &b"a"[..])));
        assert_eq!(
            lines.next_line(&mut bad).unwrap(),
            Some((3, fits.as_bytes()))
        );
        assert_eq!(lines.next_line(&mut bad).unwrap(), None);
        let too_long = format!("too long: line longer than {MAX_LINE_BYTES} bytes");
        let examples: Vec<(u64, &str)> = bad
            .examples
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        assert_eq!(examples, [(2, too_long.as_str()), (4, too_long.as_str())]);
        assert!(lines.buf.capacity() <= 2 * MAX_LINE_BYTES + 2);
    }
}
