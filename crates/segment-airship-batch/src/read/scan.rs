//! Finding where one JSON value ends without parsing it, so that arrays and batch objects can be
//! read one element at a time.
//!
//! The scan only follows strings and bracket nesting. It does not check the grammar: serde_json
//! does that when the captured bytes are parsed, and reports the error of that element alone.

use std::io::{self, Write};

use crate::read::bytes::ByteReader;

/// The destination of a scanned value's bytes.
pub(crate) enum Sink<'a> {
    /// Nowhere: the value is skipped.
    Skip,
    /// Into a buffer, up to `limit` bytes; past it the value is skipped and reported too large.
    Buffer { out: &'a mut Vec<u8>, limit: usize },
    /// Into a writer, such as a temporary file.
    Write(&'a mut dyn Write),
}

/// The end of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scanned {
    /// The value ended; the reader is at the byte after it.
    Complete,
    /// The value ended but was larger than the buffer's limit; the buffer holds only part of it.
    TooLarge,
    /// The input ended inside the value.
    Eof,
    /// A newline came inside the value while scanning one line; the newline was not consumed.
    LineEnded,
}

/// Bytes that end a number, `true`, `false` or `null`.
fn ends_scalar(byte: u8) -> bool {
    matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n')
}

/// Skips spaces, tabs and carriage returns, and newlines unless `single_line`.
pub(crate) fn skip_whitespace(reader: &mut ByteReader, single_line: bool) -> io::Result<()> {
    while let Some(byte) = reader.peek()? {
        match byte {
            b' ' | b'\t' | b'\r' => {}
            b'\n' if !single_line => {}
            _ => return Ok(()),
        }
        reader.next_byte()?;
    }
    Ok(())
}

/// Scans the value that starts at the reader's next byte into `sink`.
pub(crate) fn scan_value(
    reader: &mut ByteReader,
    sink: &mut Sink<'_>,
    single_line: bool,
) -> io::Result<Scanned> {
    let Some(first) = reader.peek()? else {
        return Ok(Scanned::Eof);
    };
    let mut scan = Nesting::default();
    let scalar = !matches!(first, b'{' | b'[' | b'"');
    let mut too_large = false;

    loop {
        let available = reader.available()?;
        if available.is_empty() {
            // A number or literal may end with the input; anything nested may not.
            return Ok(if scalar {
                finish(too_large)
            } else {
                Scanned::Eof
            });
        }
        let (count, end) = if scalar {
            match available.iter().position(|&byte| ends_scalar(byte)) {
                Some(index) => (index, Some(Scanned::Complete)),
                None => (available.len(), None),
            }
        } else {
            scan.run(available, single_line)
        };

        let bytes = &available[..count];
        match sink {
            Sink::Skip => {}
            Sink::Buffer { out, limit } => {
                if out.len() + bytes.len() > *limit {
                    too_large = true;
                } else if !too_large {
                    out.extend_from_slice(bytes);
                }
            }
            Sink::Write(writer) => writer.write_all(bytes)?,
        }
        reader.consume(count);

        match end {
            Some(Scanned::Complete) => return Ok(finish(too_large)),
            Some(other) => return Ok(other),
            None => {}
        }
    }
}

fn finish(too_large: bool) -> Scanned {
    if too_large {
        Scanned::TooLarge
    } else {
        Scanned::Complete
    }
}

/// State of a scan through strings and brackets, kept across buffer refills.
#[derive(Debug, Default)]
struct Nesting {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    /// Walks `bytes` and returns how many belong to the value, and how the value ended if it
    /// ended within them.
    fn run(&mut self, bytes: &[u8], single_line: bool) -> (usize, Option<Scanned>) {
        for (index, &byte) in bytes.iter().enumerate() {
            if byte == b'\n' && single_line {
                return (index, Some(Scanned::LineEnded));
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return (index + 1, Some(Scanned::Complete));
                    }
                }
                continue;
            }
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (index + 1, Some(Scanned::Complete));
                    }
                }
                _ => {}
            }
        }
        (bytes.len(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::bytes::Position;

    fn capture(text: &'static str, limit: usize) -> (Scanned, String, u8) {
        let mut reader = ByteReader::new(Box::new(text.as_bytes()), Position::START);
        let mut out = Vec::new();
        let scanned = scan_value(
            &mut reader,
            &mut Sink::Buffer {
                out: &mut out,
                limit,
            },
            false,
        )
        .unwrap();
        let next = reader.peek().unwrap().unwrap_or(b'$');
        (scanned, String::from_utf8(out).unwrap(), next)
    }

    #[test]
    fn object_with_brackets_in_strings() {
        let (scanned, value, next) = capture(r#"{"a":"]}\"{","b":[1,{}]},2"#, 100);

        assert_eq!(scanned, Scanned::Complete);
        assert_eq!(value, r#"{"a":"]}\"{","b":[1,{}]}"#);
        assert_eq!(next, b',');
    }

    #[test]
    fn scalars_end_at_delimiters() {
        assert_eq!(capture("123]", 10), (Scanned::Complete, "123".into(), b']'));
        assert_eq!(
            capture("true", 10),
            (Scanned::Complete, "true".into(), b'$')
        );
        assert_eq!(
            capture(r#""a\"b" ,"#, 10),
            (Scanned::Complete, r#""a\"b""#.into(), b' ')
        );
    }

    #[test]
    fn unclosed_value_is_eof() {
        assert_eq!(capture("[1, 2", 10).0, Scanned::Eof);
    }

    #[test]
    fn value_over_limit_is_skipped_whole() {
        let (scanned, _, next) = capture("[1,2,3,4,5] x", 4);

        assert_eq!(scanned, Scanned::TooLarge);
        assert_eq!(next, b' ');
    }

    #[test]
    fn single_line_stops_at_newline() {
        let mut reader = ByteReader::new(Box::new(&b"{\"a\":\n1}"[..]), Position::START);

        let scanned = scan_value(&mut reader, &mut Sink::Skip, true).unwrap();

        assert_eq!(scanned, Scanned::LineEnded);
        assert_eq!(reader.peek().unwrap(), Some(b'\n'));
    }
}
