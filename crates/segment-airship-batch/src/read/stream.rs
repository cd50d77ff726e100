//! Streaming through JSON arrays and batch objects one element at a time.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::read::bytes::{ByteReader, Position};
use crate::read::scan::{scan_value, skip_whitespace, Scanned, Sink};

/// Largest object key read, in bytes.
const MAX_KEY_BYTES: usize = 64 * 1024;

/// A JSON syntax error, or an I/O failure, met while streaming.
#[derive(Debug)]
pub(crate) enum StreamError {
    /// The bytes at `position` are not valid JSON; `reason` reads like serde_json's messages.
    Syntax {
        position: Position,
        reason: String,
    },
    /// The members of an object other than its `batch` array are larger than the limit.
    TooLarge {
        position: Position,
    },
    Io(io::Error),
}

impl From<io::Error> for StreamError {
    fn from(error: io::Error) -> StreamError {
        StreamError::Io(error)
    }
}

/// Returns the position of a serde_json error inside bytes that start at `start`.
pub(crate) fn error_position(start: Position, error: &serde_json::Error) -> Position {
    let line = start.line + error.line().saturating_sub(1) as u64;
    let column = if error.line() <= 1 {
        start.column + error.column().saturating_sub(1) as u64
    } else {
        error.column() as u64
    };
    Position {
        offset: start.offset,
        line,
        column,
    }
}

/// serde_json's message without its " at line L column C" suffix, because the caller names the
/// position in the input instead.
pub(crate) fn reason_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn syntax(position: Position, reason: &str) -> StreamError {
    StreamError::Syntax {
        position,
        reason: reason.to_owned(),
    }
}

/// Returns the syntax error for a value that ended early, at the reader's position.
fn unfinished(reader: &ByteReader, what: &str) -> StreamError {
    syntax(reader.position(), &format!("EOF while parsing {what}"))
}

/// Consumes the byte `expected`, or fails naming what was expected.
fn expect(reader: &mut ByteReader, expected: u8, what: &str) -> Result<(), StreamError> {
    match reader.peek()? {
        Some(byte) if byte == expected => {
            reader.next_byte()?;
            Ok(())
        }
        Some(_) => Err(syntax(reader.position(), &format!("expected {what}"))),
        None => Err(unfinished(reader, "an object")),
    }
}

/// A top-level object read member by member.
#[derive(Debug)]
pub(crate) enum ObjectScan {
    /// An object without a `batch` array: one message.
    Message(Value),
    /// A batch: `envelope` contains every member but the `batch` array, which starts at `array`.
    Batch {
        envelope: Map<String, Value>,
        array: Position,
    },
}

/// Reads the object at the reader's next byte (`{`), keeping every member except a `batch`
/// array, which is only skipped (and copied to `array_copy` when given) so that it can be read
/// element by element in a second pass. Members other than the array may hold `limit` bytes.
pub(crate) fn scan_object(
    reader: &mut ByteReader,
    single_line: bool,
    mut array_copy: Option<&mut dyn Write>,
    limit: usize,
) -> Result<ObjectScan, StreamError> {
    let start = reader.position();
    expect(reader, b'{', "`{`")?;
    let mut members = Map::new();
    let mut array = None;
    let mut kept_bytes = 0;
    let mut buffer = Vec::new();

    skip_whitespace(reader, single_line)?;
    if reader.peek()? == Some(b'}') {
        reader.next_byte()?;
        return Ok(ObjectScan::Message(Value::Object(members)));
    }
    loop {
        skip_whitespace(reader, single_line)?;
        let key_start = reader.position();
        if reader.peek()? != Some(b'"') {
            return Err(match reader.peek()? {
                None | Some(b'\n') => unfinished(reader, "an object"),
                Some(_) => syntax(key_start, "key must be a string"),
            });
        }
        buffer.clear();
        let mut sink = Sink::Buffer {
            out: &mut buffer,
            limit: MAX_KEY_BYTES,
        };
        match scan_value(reader, &mut sink, single_line)? {
            Scanned::Complete => {}
            Scanned::TooLarge => {
                return Err(StreamError::TooLarge {
                    position: key_start,
                })
            }
            Scanned::Eof | Scanned::LineEnded => return Err(unfinished(reader, "a string")),
        }
        let key: String = serde_json::from_slice(&buffer).map_err(|error| StreamError::Syntax {
            position: error_position(key_start, &error),
            reason: reason_without_position(&error),
        })?;

        skip_whitespace(reader, single_line)?;
        expect(reader, b':', "`:`")?;
        skip_whitespace(reader, single_line)?;
        let value_start = reader.position();

        if key == "batch" && array.is_none() && reader.peek()? == Some(b'[') {
            array = Some(value_start);
            let mut sink = match array_copy.as_mut() {
                Some(writer) => Sink::Write(&mut **writer),
                None => Sink::Skip,
            };
            match scan_value(reader, &mut sink, single_line)? {
                Scanned::Complete | Scanned::TooLarge => {}
                Scanned::Eof | Scanned::LineEnded => return Err(unfinished(reader, "a list")),
            }
        } else {
            buffer.clear();
            let mut sink = Sink::Buffer {
                out: &mut buffer,
                limit: limit.saturating_sub(kept_bytes),
            };
            match scan_value(reader, &mut sink, single_line)? {
                Scanned::Complete => {}
                Scanned::TooLarge => return Err(StreamError::TooLarge { position: start }),
                Scanned::Eof | Scanned::LineEnded => return Err(unfinished(reader, "a value")),
            }
            kept_bytes += buffer.len();
            let value: Value =
                serde_json::from_slice(&buffer).map_err(|error| StreamError::Syntax {
                    position: error_position(value_start, &error),
                    reason: reason_without_position(&error),
                })?;
            members.insert(key, value);
        }

        skip_whitespace(reader, single_line)?;
        match reader.peek()? {
            Some(b',') => {
                reader.next_byte()?;
            }
            Some(b'}') => {
                reader.next_byte()?;
                break;
            }
            None | Some(b'\n') => return Err(unfinished(reader, "an object")),
            Some(_) => {
                return Err(syntax(
                    reader.position(),
                    "expected `,` or `}` after an object entry",
                ))
            }
        }
    }

    Ok(match array {
        Some(array) => ObjectScan::Batch {
            envelope: members,
            array,
        },
        None => ObjectScan::Message(Value::Object(members)),
    })
}

/// One element of a streamed array.
#[derive(Debug)]
pub(crate) enum Element {
    /// The element's bytes are in the caller's buffer; the element starts at `start`.
    Value { start: Position },
    /// The element is larger than the buffer's limit and was skipped.
    TooLarge { start: Position },
    /// The array closed.
    End,
}

/// Position within an array read element by element.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArrayStream {
    /// Elements read so far.
    pub(crate) count: u64,
    /// Whether the opening `[` was consumed.
    opened: bool,
    single_line: bool,
}

impl ArrayStream {
    /// Starts before the opening `[`.
    pub(crate) fn new(single_line: bool) -> ArrayStream {
        ArrayStream {
            count: 0,
            opened: false,
            single_line,
        }
    }

    /// Continues after `count` elements, just past the last one read.
    pub(crate) fn resume(count: u64, single_line: bool) -> ArrayStream {
        ArrayStream {
            count,
            opened: true,
            single_line,
        }
    }

    /// Reads the next element into `buffer` (up to `limit` bytes), or skips it when `skip`.
    pub(crate) fn next_element(
        &mut self,
        reader: &mut ByteReader,
        buffer: &mut Vec<u8>,
        limit: usize,
        skip: bool,
    ) -> Result<Element, StreamError> {
        if !self.opened {
            skip_whitespace(reader, self.single_line)?;
            if reader.peek()? != Some(b'[') {
                return Err(syntax(reader.position(), "expected `[`"));
            }
            reader.next_byte()?;
            self.opened = true;
        }
        skip_whitespace(reader, self.single_line)?;
        match reader.peek()? {
            None | Some(b'\n') => return Err(unfinished(reader, "a list")),
            Some(b']') => {
                reader.next_byte()?;
                return Ok(Element::End);
            }
            Some(b',') if self.count > 0 => {
                reader.next_byte()?;
                skip_whitespace(reader, self.single_line)?;
            }
            Some(_) if self.count > 0 => {
                return Err(syntax(
                    reader.position(),
                    "expected `,` or `]` after a list element",
                ))
            }
            Some(_) => {}
        }

        let start = reader.position();
        buffer.clear();
        let mut sink = if skip {
            Sink::Skip
        } else {
            Sink::Buffer { out: buffer, limit }
        };
        let scanned = scan_value(reader, &mut sink, self.single_line)?;
        self.count += 1;
        match scanned {
            Scanned::Complete => Ok(Element::Value { start }),
            Scanned::TooLarge => Ok(Element::TooLarge { start }),
            Scanned::Eof | Scanned::LineEnded => Err(unfinished(reader, "a list")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reader(text: &'static str) -> ByteReader {
        ByteReader::new(Box::new(text.as_bytes()), Position::START)
    }

    fn elements(text: &'static str) -> Vec<String> {
        let mut reader = reader(text);
        let mut stream = ArrayStream::new(false);
        let mut buffer = Vec::new();
        let mut found = Vec::new();
        loop {
            match stream
                .next_element(&mut reader, &mut buffer, 1000, false)
                .unwrap()
            {
                Element::Value { .. } => found.push(String::from_utf8(buffer.clone()).unwrap()),
                Element::TooLarge { .. } => found.push("<too large>".into()),
                Element::End => return found,
            }
        }
    }

    #[test]
    fn array_elements_one_by_one() {
        assert_eq!(
            elements(" [ {\"a\": [1, 2]} ,\n 3, \"x\"\n]"),
            ["{\"a\": [1, 2]}", "3", "\"x\""]
        );
        assert!(elements("[]").is_empty());
    }

    #[test]
    fn missing_comma_is_syntax_error() {
        let mut reader = reader("[1 2]");
        let mut stream = ArrayStream::new(false);
        let mut buffer = Vec::new();

        stream
            .next_element(&mut reader, &mut buffer, 100, false)
            .unwrap();
        let error = stream
            .next_element(&mut reader, &mut buffer, 100, false)
            .unwrap_err();

        assert!(
            matches!(error, StreamError::Syntax { position, .. } if position.column == 4),
            "{error:?}"
        );
    }

    #[test]
    fn object_with_batch_keeps_envelope() {
        let mut reader =
            reader(r#"{"batch": [{"type":"page"}], "context": {"ip": "1.2.3.4"}} tail"#);

        let scan = scan_object(&mut reader, true, None, 1000).unwrap();

        let ObjectScan::Batch { envelope, array } = scan else {
            panic!("expected a batch, got {scan:?}");
        };
        assert_eq!(envelope.get("context"), Some(&json!({"ip": "1.2.3.4"})));
        assert_eq!(array.column, 11);
        assert_eq!(reader.peek().unwrap(), Some(b' '));
    }

    #[test]
    fn object_without_batch_is_message() {
        let mut reader = reader("{\n \"type\": \"page\",\n \"batch\": 3\n}");

        let scan = scan_object(&mut reader, false, None, 1000).unwrap();

        assert!(
            matches!(&scan, ObjectScan::Message(value) if value == &json!({"type": "page", "batch": 3})),
            "{scan:?}"
        );
    }

    #[test]
    fn object_cut_by_newline_in_single_line() {
        let mut reader = reader("{\"type\": \n\"page\"}");

        let error = scan_object(&mut reader, true, None, 1000).unwrap_err();

        assert!(matches!(error, StreamError::Syntax { .. }), "{error:?}");
    }
}
