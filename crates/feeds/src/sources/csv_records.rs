//! CSV records with the physical line each one starts on, one `ByteRecord` reused for all.
//!
//! The `csv` crate's record positions are off after blank lines and with CRLF endings, so the
//! line is computed here: records end at a line feed only (a `\r` before it stays in the last
//! field, which every reader trims), the input always ends with a line feed, and a record's
//! first line is the reader's line count after it, minus one, minus the line feeds inside it.
//! (A quote left open at the end of the file swallows that final line feed; the line is then
//! clamped to where the previous record ended.)

use crate::sources::input::EndsWithNewline;
use crate::sources::{input_error, line_error};
use crate::{BadRows, FeedError};
use csv::{ByteRecord, ReaderBuilder, Terminator};
use std::io::BufRead;
use std::path::Path;

pub(crate) struct CsvRecords {
    reader: csv::Reader<EndsWithNewline<Box<dyn BufRead + Send>>>,
    record: ByteRecord,
    /// The reader's line count after the previous record: no record starts before it.
    after_previous: u64,
}

impl CsvRecords {
    pub(crate) fn new(input: Box<dyn BufRead + Send>, delimiter: u8) -> CsvRecords {
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(64 * 1024)
            .from_reader(EndsWithNewline::new(input));
        CsvRecords {
            reader,
            record: ByteRecord::new(),
            after_previous: 1,
        }
    }

    /// The next record that is not a blank line, with the line it starts on; `None` at the
    /// end. An error is an I/O error (e.g. corrupt gzip) at the returned line.
    pub(crate) fn next_record(&mut self) -> Result<Option<(u64, &ByteRecord)>, (u64, String)> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return Err((self.reader.position().line(), e.to_string())),
            }
            if self.record.len() == 1 && self.record[0].trim_ascii().is_empty() {
                continue;
            }
            let inner = self.record.as_slice();
            let inner_newlines = match memchr::memchr(b'\n', inner) {
                None => 0,
                Some(_) => memchr::memchr_iter(b'\n', inner).count() as u64,
            };
            let after = self.reader.position().line();
            let line = (after - 1 - inner_newlines).max(self.after_previous);
            self.after_previous = after;
            return Ok(Some((line, &self.record)));
        }
    }

    /// The header: the first record, its fields trimmed. An empty file is an error saying
    /// `expected`, naming `path`.
    pub(crate) fn header(&mut self, path: &Path, expected: &str) -> Result<Vec<String>, FeedError> {
        match self.next_record() {
            Ok(Some((_, record))) => Ok(record
                .iter()
                .map(|f| String::from_utf8_lossy(f.trim_ascii()).into_owned())
                .collect()),
            Ok(None) => Err(input_error(path, format!("the file is empty: {expected}"))),
            Err((line, reason)) => Err(line_error(path, line, reason)),
        }
    }
}

/// The field at `index` of `record`, without surrounding white space (and so without the
/// `\r` of a CRLF line ending).
#[inline]
pub(crate) fn field(record: &ByteRecord, index: usize) -> &[u8] {
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

    fn lines_and_first_fields(text: &'static [u8]) -> Vec<(u64, String)> {
        let mut records = CsvRecords::new(Box::new(text), b',');
        let mut out = Vec::new();
        while let Some((line, record)) = records.next_record().unwrap() {
            out.push((line, String::from_utf8_lossy(field(record, 0)).into_owned()));
        }
        out
    }

    #[test]
    fn records_carry_their_physical_first_line() {
        let expected: Vec<(u64, String)> = [(1, "h"), (2, "a"), (4, "c"), (5, "e\nf"), (7, "h")]
            .iter()
            .map(|(l, s)| (*l, s.to_string()))
            .collect();
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
        let (line, r) = records.next_record().unwrap().unwrap();
        assert_eq!((line, field(r, 1)), (1, &b"b, c"[..]));
        let (line, r) = records.next_record().unwrap().unwrap();
        assert_eq!((line, field(r, 1)), (2, &b"e"[..]));
        assert!(records.next_record().unwrap().is_none());
    }

    #[test]
    fn a_quote_left_open_at_the_end_keeps_its_line() {
        assert_eq!(
            lines_and_first_fields(b"h,x\na,b\n\"open"),
            [
                (1, "h".to_string()),
                (2, "a".to_string()),
                (3, "open".to_string())
            ]
        );
    }
}
