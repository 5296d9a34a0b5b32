//! Opening a feed file, shared by every format: gzip detection by magic bytes, buffering,
//! a peek at the first byte for format detection, and JSON lines with their line numbers.

use crate::FeedError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

const BUFFER: usize = 64 * 1024;

/// Lines longer than this are not kept in the reused buffer after they are read.
const KEEP_LINE_BUFFER: usize = 1 << 20;

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

    /// The next line without its line ending, with its number; `None` at the end.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        if self.buf.capacity() > KEEP_LINE_BUFFER {
            self.buf = Vec::with_capacity(4096);
        }
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut line = self.buf.as_slice();
        if self.line == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some((self.line, line)))
    }

    /// The number of the line last read (for errors).
    pub(crate) fn line(&self) -> u64 {
        self.line
    }
}

/// Adds a final `\n` to a stream that does not end with one, so that every CSV record ends
/// with a consumed line feed and its line number can be computed from the reader's count.
pub(crate) struct EndsWithNewline<R> {
    inner: R,
    last: u8,
    done: bool,
}

impl<R: Read> EndsWithNewline<R> {
    pub(crate) fn new(inner: R) -> Self {
        EndsWithNewline {
            inner,
            last: b'\n',
            done: false,
        }
    }
}

impl<R: Read> Read for EndsWithNewline<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.last = buf[n - 1];
            return Ok(n);
        }
        self.done = true;
        if self.last == b'\n' {
            return Ok(0);
        }
        buf[0] = b'\n';
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_missing_final_newline_is_added_once() {
        let mut out = Vec::new();
        EndsWithNewline::new(&b"a,b\nc,d"[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"a,b\nc,d\n");
        out.clear();
        EndsWithNewline::new(&b"a,b\n"[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"a,b\n");
        out.clear();
        EndsWithNewline::new(&b""[..])
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
    }

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
        assert_eq!(lines.next_line().unwrap(), Some((1, &b"  {\"a\": 1}"[..])));
        assert_eq!(lines.next_line().unwrap(), None);
    }

    #[test]
    fn lines_are_numbered_and_stripped_of_their_endings() {
        let mut lines = Lines::new(Box::new(&b"a\r\n\nb"[..]));
        assert_eq!(lines.next_line().unwrap(), Some((1, &b"a"[..])));
        assert_eq!(lines.next_line().unwrap(), Some((2, &b""[..])));
        assert_eq!(lines.next_line().unwrap(), Some((3, &b"b"[..])));
        assert_eq!(lines.next_line().unwrap(), None);
        assert_eq!(lines.line(), 3);
    }
}
