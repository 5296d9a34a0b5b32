//! CSV records with the physical line each one starts on, one [`Record`] reused for all, none
//! longer than [`MAX_LINE_BYTES`].
//!
//! Records are parsed with `csv_core` directly: the `csv` crate's reader grows its record
//! without bound (one 2 GB line took 4 GB), and a record too long must be read to its end
//! without being kept. The `csv` crate's record positions are off after blank lines and with
//! CRLF endings, so the line is computed here: records end at a line feed only (a `\r` before
//! it stays in the last field, which every reader trims), the input always ends with a line
//! feed, and a record's first line is the reader's line count after it, minus one, minus the
//! line feeds inside it. (A quote left open at the end of the file swallows that final line
//! feed; the line is then clamped to where the previous record ended.)

use crate::sources::input::{count_too_long, MAX_LINE_BYTES};
use crate::sources::{input_error, line_error};
use crate::{BadRows, FeedError};
use csv_core::{ReadRecordResult, ReaderBuilder, Terminator};
use std::io::{self, BufRead};
use std::path::Path;

/// The fields of one record.
pub(crate) struct Record {
    /// The fields' bytes, one after the other.
    data: Vec<u8>,
    /// Where each field ends in `data`.
    ends: Vec<usize>,
    len: usize,
}

impl Record {
    /// The number of fields.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends[..self.len].get(index)?;
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        Some(&self.data[start..end])
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).filter_map(|i| self.get(i))
    }

    /// Every field's bytes together.
    fn bytes(&self) -> &[u8] {
        let end = self.len.checked_sub(1).map_or(0, |i| self.ends[i]);
        &self.data[..end]
    }
}

/// What reading one more record found.
enum Next {
    /// A record in `CsvRecords::record`, starting on this line.
    Record(u64),
    /// A record longer than [`MAX_LINE_BYTES`], read to its end and not kept.
    TooLong { first: u64, last: u64 },
}

pub(crate) struct CsvRecords {
    reader: Box<dyn BufRead + Send>,
    /// Boxed: its tables take kilobytes.
    core: Box<csv_core::Reader>,
    record: Record,
    /// Whether the last byte read was a line feed (or nothing was read): an input that ends
    /// without one is given one, so that every record ends with a consumed line feed.
    ended_line: bool,
    /// The reader's line count after the previous record: no record starts before it.
    after_previous: u64,
}

impl CsvRecords {
    pub(crate) fn new(input: Box<dyn BufRead + Send>, delimiter: u8) -> CsvRecords {
        CsvRecords {
            reader: input,
            core: Box::new(
                ReaderBuilder::new()
                    .delimiter(delimiter)
                    .terminator(Terminator::Any(b'\n'))
                    .build(),
            ),
            record: Record {
                data: vec![0; 4096],
                ends: vec![0; 64],
                len: 0,
            },
            ended_line: true,
            after_previous: 1,
        }
    }

    /// The next record that is not a blank line, with the line it starts on; `None` at the
    /// end. A record longer than [`MAX_LINE_BYTES`] is counted in `bad` and skipped. An error
    /// is an I/O error (e.g. corrupt gzip) at the returned line.
    pub(crate) fn next_record(
        &mut self,
        bad: &mut BadRows,
    ) -> Result<Option<(u64, &Record)>, (u64, String)> {
        loop {
            match self.next()? {
                None => return Ok(None),
                Some(Next::Record(line)) => return Ok(Some((line, &self.record))),
                Some(Next::TooLong { first, last }) => count_too_long(bad, first, last),
            }
        }
    }

    /// The header: the first record, its fields trimmed. An empty file is an error saying
    /// `expected`, naming `path`; so is a header longer than [`MAX_LINE_BYTES`].
    pub(crate) fn header(&mut self, path: &Path, expected: &str) -> Result<Vec<String>, FeedError> {
        match self.next() {
            Ok(Some(Next::Record(_))) => Ok(self
                .record
                .iter()
                .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
                .collect()),
            Ok(Some(Next::TooLong { first, .. })) => Err(line_error(
                path,
                first,
                format!("the header is longer than {MAX_LINE_BYTES} bytes"),
            )),
            Ok(None) => Err(input_error(path, format!("the file is empty: {expected}"))),
            Err((line, reason)) => Err(line_error(path, line, reason)),
        }
    }

    /// Reads records until one that is not blank, and says where it starts.
    fn next(&mut self) -> Result<Option<Next>, (u64, String)> {
        loop {
            let Some(too_long) = self.read().map_err(|e| (self.core.line(), e.to_string()))? else {
                return Ok(None);
            };
            let inner_newlines = match too_long {
                Some(newlines) => newlines,
                None => {
                    let bytes = self.record.bytes();
                    if self.record.len == 1 && bytes.trim_ascii().is_empty() {
                        continue;
                    }
                    count_newlines(bytes)
                }
            };
            let after = self.core.line();
            let line = (after - 1 - inner_newlines).max(self.after_previous);
            self.after_previous = after;
            return Ok(Some(match too_long {
                None => Next::Record(line),
                Some(_) => Next::TooLong {
                    first: line,
                    last: after - 1,
                },
            }));
        }
    }

    /// Reads one record into `self.record`: `Some(None)` when it is kept, `Some(Some(n))`
    /// when it was longer than [`MAX_LINE_BYTES`] and read to its end without being kept
    /// (`n` counts the line feeds inside its fields), `None` at the end of the input.
    fn read(&mut self) -> io::Result<Option<Option<u64>>> {
        let record = &mut self.record;
        let (mut out, mut ends) = (0, 0);
        let mut too_long: Option<u64> = None;
        loop {
            let buffered = self.reader.fill_buf()?;
            let from_reader = !buffered.is_empty();
            let input: &[u8] = match (from_reader, self.ended_line) {
                (true, _) => buffered,
                (false, false) => b"\n",
                (false, true) => b"",
            };
            let (result, read, written, ended) =
                self.core
                    .read_record(input, &mut record.data[out..], &mut record.ends[ends..]);
            if read > 0 {
                self.ended_line = input[read - 1] == b'\n';
            }
            if from_reader {
                self.reader.consume(read);
            }
            out += written;
            ends += ended;
            // Each field kept took at least its bytes and a delimiter or line feed, so this
            // is at most the record's length (blank lines before it are skipped unwritten).
            if too_long.is_some() || out + ends > MAX_LINE_BYTES {
                // Past the limit the parser still runs, to find where the record ends, but
                // what it writes is overwritten; only its line feeds are counted.
                let newlines = too_long.get_or_insert(0);
                *newlines += count_newlines(&record.data[..out]);
                (out, ends) = (0, 0);
            }
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if too_long.is_none() {
                        record.data.resize(record.data.len() * 2, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if too_long.is_none() {
                        record.ends.resize(record.ends.len() * 2, 0);
                    }
                }
                ReadRecordResult::Record => {
                    // None for a record too long: nothing of it was kept.
                    record.len = ends;
                    return Ok(Some(too_long));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    match memchr::memchr(b'\n', bytes) {
        None => 0,
        Some(_) => memchr::memchr_iter(b'\n', bytes).count() as u64,
    }
}

/// The field at `index` of `record`, without surrounding white space (and so without the
/// `\r` of a CRLF line ending).
#[inline]
pub(crate) fn field(record: &Record, index: usize) -> &[u8] {
    record.get(index).unwrap_or(b"").trim_ascii()
}

/// Counts a record whose field count differs from the header's.
pub(crate) fn count_mismatch(bad: &mut BadRows, line: u64, got: usize, expected: usize) {
    bad.add(line, "wrong column count", || {
        format!("{got} fields, the header has {expected}")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> (Vec<(u64, String)>, BadRows) {
        let mut records = CsvRecords::new(Box::new(io::Cursor::new(text.to_vec())), b',');
        let (mut out, mut bad) = (Vec::new(), BadRows::default());
        while let Some((line, record)) = records.next_record(&mut bad).unwrap() {
            out.push((line, String::from_utf8_lossy(field(record, 0)).into_owned()));
        }
        (out, bad)
    }

    fn lines_and_first_fields(text: &[u8]) -> Vec<(u64, String)> {
        let (out, bad) = read(text);
        assert_eq!(bad.total, 0);
        out
    }

    fn expected(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
        pairs.iter().map(|(l, s)| (*l, s.to_string())).collect()
    }

    #[test]
    fn records_carry_their_physical_first_line() {
        let expected = expected(&[(1, "h"), (2, "a"), (4, "c"), (5, "e\nf"), (7, "h")]);
        assert_eq!(
            lines_and_first_fields(b"h,x\na,b\n\nc,d\n\"e\nf\",g\nh,i\n"),
            expected
        );
        let crlf = lines_and_first_fields(b"h,x\r\na,b\r\n\r\nc,d\r\n\"e\nf\",g\r\nh,i");
        assert_eq!(crlf, expected);
    }

    #[test]
    fn quoted_last_field_before_crlf_loses_the_carriage_return() {
        let mut records = CsvRecords::new(Box::new(&b"a,\"b, c\"\r\nd,e\r\n"[..]), b',');
        let mut bad = BadRows::default();
        let (line, r) = records.next_record(&mut bad).unwrap().unwrap();
        assert_eq!((line, field(r, 1)), (1, &b"b, c"[..]));
        let (line, r) = records.next_record(&mut bad).unwrap().unwrap();
        assert_eq!((line, field(r, 1)), (2, &b"e"[..]));
        assert!(records.next_record(&mut bad).unwrap().is_none());
    }

    #[test]
    fn a_quote_left_open_at_the_end_keeps_its_line() {
        assert_eq!(
            lines_and_first_fields(b"h,x\na,b\n\"open"),
            expected(&[(1, "h"), (2, "a"), (3, "open")])
        );
    }

    #[test]
    fn fields_and_a_byte_order_mark_are_read_as_the_csv_crate_reads_them() {
        let mut records = CsvRecords::new(Box::new(&b"\xef\xbb\xbfa,\"b\"\"c\",,d\n"[..]), b',');
        let (_, r) = records
            .next_record(&mut BadRows::default())
            .unwrap()
            .unwrap();
        assert_eq!(r.len(), 4);
        let fields: Vec<&[u8]> = r.iter().collect();
        assert_eq!(fields, [&b"a"[..], b"b\"c", b"", b"d"]);
        assert_eq!(r.get(4), None);
    }

    #[test]
    fn records_longer_than_the_limit_are_bad_rows_and_the_rest_is_read() {
        let long = "x".repeat(MAX_LINE_BYTES + 1);
        let mut text = format!("h,x\n{long},1\na,b\n\"q\n{long}\n\",c\nd,e\n");
        // A field of commas: fields, not bytes, fill the record.
        text.push_str(&",".repeat(MAX_LINE_BYTES + 1));
        text.push_str("\nf,g");
        let (rows, bad) = read(text.as_bytes());
        assert_eq!(rows, expected(&[(1, "h"), (3, "a"), (7, "d"), (9, "f")]));
        let examples: Vec<(u64, &str)> = bad
            .examples
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        let line = format!("too long: line longer than {MAX_LINE_BYTES} bytes");
        let record = format!("too long: record longer than {MAX_LINE_BYTES} bytes (lines 4 to 6)");
        assert_eq!(
            examples,
            [(2, line.as_str()), (4, record.as_str()), (8, line.as_str())]
        );
    }

    #[test]
    fn a_header_longer_than_the_limit_is_an_error_naming_its_line() {
        let text = format!("\n{}\na,b\n", "h".repeat(MAX_LINE_BYTES + 1));
        let mut records = CsvRecords::new(Box::new(io::Cursor::new(text.into_bytes())), b',');
        let e = records
            .header(Path::new("feed.csv"), "a header")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!("feed.csv: line 2: the header is longer than {MAX_LINE_BYTES} bytes")
        );
    }
}
