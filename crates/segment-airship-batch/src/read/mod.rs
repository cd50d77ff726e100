//! Streaming readers for the input formats: NDJSON, a JSON array, and Segment batch objects
//! (`{"batch":[...]}`), each optionally gzip-compressed.
//!
//! Memory stays bounded by the size of one message (or one NDJSON line up to
//! [`MAX_LINE_BYTES`]), whatever the size of the input:
//! - NDJSON is read line by line. A line holding a batch object is split with
//!   [`segment_model::parse_batch`]; a line longer than [`MAX_LINE_BYTES`] is streamed like a
//!   batch document.
//! - A JSON array is read element by element.
//! - A batch object spread over several lines is read in two passes: the first keeps the
//!   envelope members and skips the `batch` array, the second reads the array element by element
//!   and applies the envelope to each. Files are opened again for the second pass; standard input
//!   is copied to a temporary file during the first.
//!
//! Every item carries the [`Cursor`] at which reading can resume once it and every item before
//! it are done.

mod bytes;
mod scan;
mod stream;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use airship_mapping::{InvalidReason, Mapped};
use flate2::read::MultiGzDecoder;
use segment_model::parse_batch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use bytes::Position;
use bytes::{ByteReader, LineEnd};
use scan::skip_whitespace;
use stream::{
    error_position, reason_without_position, scan_object, ArrayStream, Element, ObjectScan,
    StreamError,
};

/// Longest NDJSON line read whole; a longer line is streamed as a batch object.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Largest single message, and the largest envelope of a streamed batch object, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input: a file, or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// Returns the name used in messages: the path as given, or "standard input".
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }
}

/// The layout of an input's content at a [`Cursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// NDJSON: one value per line. A cursor may point into the middle of a line, after a
    /// document.
    Lines,
    /// A value spread over several lines, at the start of the input.
    Document,
    /// Inside the top-level JSON array, after `skip` elements.
    Array,
}

/// The position at which reading an input resumes.
///
/// For [`Layout::Lines`] and [`Layout::Document`], `position` is the start of a value and `skip`
/// counts the messages of that value (a batch) already done. For [`Layout::Array`], `position`
/// is just after the last element done and `skip` counts the elements before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub layout: Layout,
    #[serde(flatten)]
    pub position: Position,
    pub skip: u64,
}

impl Cursor {
    /// The start of an input, before its layout is known.
    pub const START: Cursor = Cursor {
        layout: Layout::Lines,
        position: Position::START,
        skip: 0,
    };

    fn lines(position: Position) -> Cursor {
        Cursor {
            layout: Layout::Lines,
            position,
            skip: 0,
        }
    }
}

/// One entry read from an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A message to map, starting on `line`.
    Message {
        raw: Value,
        line: u64,
        after: Cursor,
    },
    /// Bytes that are not a message (malformed JSON, or over the size limit), already turned
    /// into their `invalid` outcome.
    Rejected {
        mapped: Mapped,
        line: u64,
        after: Cursor,
    },
    /// Reading moved past content that contains no message, such as the end of a batch.
    Advance { after: Cursor },
}

impl Item {
    /// Returns the cursor to resume from once this item and those before it are done.
    pub fn after(&self) -> Cursor {
        match self {
            Item::Message { after, .. }
            | Item::Rejected { after, .. }
            | Item::Advance { after } => *after,
        }
    }
}

/// A failure that ends the reading of one input. Items read before it stay valid.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(String);

/// Counts the raw bytes read from a file, for the progress display.
struct Counted<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.counter.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Opens `source` and returns its decompressed content and whether it is gzip-compressed,
/// decided by the first two bytes whatever the file name. A plain file is positioned at
/// `offset`; a gzip stream always starts at the beginning, and standard input cannot seek.
fn open_content(
    source: &Source,
    offset: u64,
    counter: Arc<AtomicU64>,
) -> io::Result<(Box<dyn Read + Send>, bool)> {
    let path = match source {
        Source::File(path) => path,
        Source::Stdin => {
            let mut stdin = Counted {
                inner: io::stdin(),
                counter,
            };
            let mut magic = [0u8; 2];
            let filled = read_up_to(&mut stdin, &mut magic)?;
            let content = io::Cursor::new(magic[..filled].to_vec()).chain(stdin);
            if filled == magic.len() && magic == GZIP_MAGIC {
                return Ok((Box::new(MultiGzDecoder::new(content)), true));
            }
            return Ok((Box::new(content), false));
        }
    };

    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let filled = read_up_to(&mut file, &mut magic)?;
    let gzip = filled == magic.len() && magic == GZIP_MAGIC;
    let start = if gzip { 0 } else { offset };
    file.seek(SeekFrom::Start(start))?;
    counter.fetch_add(start, Ordering::Relaxed);
    let counted = Counted {
        inner: file,
        counter,
    };
    if gzip {
        Ok((Box::new(MultiGzDecoder::new(counted)), true))
    } else {
        Ok((Box::new(counted), false))
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Opens `source` positioned at `position` of its decompressed content. Plain files seek there;
/// gzip files are decompressed from the start and the bytes before it discarded.
fn open_at(
    source: &Source,
    position: Position,
    counter: Arc<AtomicU64>,
) -> io::Result<(ByteReader, bool)> {
    let (content, gzip) = open_content(source, position.offset, counter)?;
    if gzip && position.offset > 0 {
        let mut reader = ByteReader::new(content, Position::START);
        if !reader.discard_until(position)? {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the input is shorter than the checkpoint position",
            ));
        }
        return Ok((reader, true));
    }
    Ok((ByteReader::new(content, position), gzip))
}

/// The reader's next step.
enum State {
    /// At the start: the layout is not known yet.
    Detect,
    Lines,
    /// At the start of a value spread over several lines.
    Document,
    Array(ArrayStream),
    Batch(Box<BatchPass>),
    Done,
}

/// The second pass over a streamed batch object: its array, read element by element.
struct BatchPass {
    reader: ByteReader,
    array: ArrayStream,
    envelope: Map<String, Value>,
    /// Cursor of the batch object's start, with `skip` counting elements.
    value: Cursor,
    /// Elements still to skip, because they were done before a resume.
    skip: u64,
    /// Whether the object is one NDJSON line, whose rest is checked once the array ends.
    single_line: bool,
    /// Keeps the copy of standard input's array alive.
    _copy: Option<tempfile::NamedTempFile>,
}

/// Reads the items of one input, in order.
pub struct InputReader {
    source: Source,
    name: String,
    main: ByteReader,
    gzip: bool,
    state: State,
    /// Messages of the next value already done before a resume.
    skip_next: u64,
    queue: VecDeque<Item>,
    line: Vec<u8>,
    element: Vec<u8>,
    counter: Arc<AtomicU64>,
}

impl InputReader {
    /// Opens `source` at `cursor` ([`Cursor::START`] for the beginning). `counter` receives the
    /// number of raw bytes read, for progress.
    pub fn open(
        source: &Source,
        cursor: Cursor,
        counter: Arc<AtomicU64>,
    ) -> Result<InputReader, InputError> {
        let name = source.name();
        let (main, gzip) = open_at(source, cursor.position, Arc::clone(&counter))
            .map_err(|error| InputError(format!("failed to open {name}: {error}")))?;
        let state = match cursor.layout {
            _ if cursor == Cursor::START => State::Detect,
            Layout::Lines => State::Lines,
            Layout::Document => State::Document,
            Layout::Array => State::Array(ArrayStream::resume(cursor.skip, false)),
        };
        let skip_next = match cursor.layout {
            Layout::Lines | Layout::Document => cursor.skip,
            Layout::Array => 0,
        };
        Ok(InputReader {
            source: source.clone(),
            name,
            main,
            gzip,
            state,
            skip_next,
            queue: VecDeque::new(),
            line: Vec::new(),
            element: Vec::new(),
            counter,
        })
    }

    /// Returns whether the content is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Returns the next item, `None` at the end, or the error that ends this input.
    pub fn next_item(&mut self) -> Option<Result<Item, InputError>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(Ok(item));
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => {
                    self.state = State::Done;
                    return Some(Err(error));
                }
            }
        }
    }

    /// Reads until at least one item is queued; returns `false` at the end of the input.
    fn step(&mut self) -> Result<bool, InputError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Detect => self.detect(),
            State::Lines => self.read_line(),
            State::Document => {
                let start = self.main.position();
                let skip = std::mem::take(&mut self.skip_next);
                self.read_streamed(Layout::Document, start, skip)
            }
            State::Array(array) => self.read_array_element(array),
            State::Batch(pass) => self.read_batch_element(*pass),
            State::Done => Ok(false),
        }
    }

    fn io_error(&self, error: io::Error) -> InputError {
        let position = self.main.position();
        if self.gzip && error.kind() == io::ErrorKind::UnexpectedEof {
            return InputError(format!(
                "{} is truncated: its gzip stream ends after {} bytes of content (line {}) \
                 without the gzip end marker; messages before that point were read",
                self.name, position.offset, position.line
            ));
        }
        InputError(format!(
            "failed to read {} at byte {} of its content (line {}): {error}",
            self.name, position.offset, position.line
        ))
    }

    fn stream_error(&self, error: StreamError, start: Position) -> Result<Item, InputError> {
        let (position, reason) = match error {
            StreamError::Io(error) => return Err(self.io_error(error)),
            StreamError::Syntax { position, reason } => (position, reason),
            StreamError::TooLarge { .. } => {
                return Ok(Item::Rejected {
                    mapped: Mapped::unreadable(
                        InvalidReason::MessageTooLarge,
                        format!(
                            "line {} of {} contains a value over the {} MiB limit",
                            start.line,
                            self.name,
                            MAX_MESSAGE_BYTES >> 20
                        ),
                    ),
                    line: start.line,
                    after: Cursor::lines(self.main.position()),
                })
            }
        };
        Ok(Item::Rejected {
            mapped: malformed(&self.name, position, &reason),
            line: position.line,
            after: Cursor::lines(self.main.position()),
        })
    }

    /// Decides the layout from the first value. `[` starts an array, and a first line that is an
    /// unfinished JSON value starts a document over several lines. Anything else is NDJSON.
    fn detect(&mut self) -> Result<bool, InputError> {
        self.skip_byte_order_mark().map_err(|e| self.io_error(e))?;
        skip_whitespace(&mut self.main, false).map_err(|e| self.io_error(e))?;
        match self.main.peek().map_err(|e| self.io_error(e))? {
            None => return Ok(false),
            Some(b'[') => {
                self.state = State::Array(ArrayStream::new(false));
                return Ok(true);
            }
            Some(b'{') => {}
            Some(_) => {
                self.state = State::Lines;
                return Ok(true);
            }
        }

        let start = self.main.position();
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let end = self
            .main
            .read_line(&mut line, MAX_LINE_BYTES)
            .map_err(|e| self.io_error(e))?;
        let unfinished = end != LineEnd::TooLong
            && matches!(
                serde_json::from_slice::<Value>(trim_carriage_return(&line)),
                Err(error) if error.classify() == serde_json::error::Category::Eof
            );
        if end == LineEnd::Newline {
            line.push(b'\n');
        }
        self.main.unread(&line, start);
        self.line = line;
        self.state = if unfinished {
            State::Document
        } else {
            State::Lines
        };
        Ok(true)
    }

    fn skip_byte_order_mark(&mut self) -> io::Result<()> {
        const BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
        if self.main.position().offset == 0 && self.main.available()?.starts_with(&BOM) {
            for _ in BOM {
                self.main.next_byte()?;
            }
        }
        Ok(())
    }

    /// Reads one NDJSON line and queues its items.
    fn read_line(&mut self) -> Result<bool, InputError> {
        let mut line = std::mem::take(&mut self.line);
        let result = self.read_line_into(&mut line);
        self.line = line;
        result
    }

    fn read_line_into(&mut self, line: &mut Vec<u8>) -> Result<bool, InputError> {
        loop {
            let start = self.main.position();
            line.clear();
            let end = self
                .main
                .read_line(line, MAX_LINE_BYTES)
                .map_err(|e| self.io_error(e))?;
            if end == LineEnd::TooLong {
                self.main.unread(line, start);
                let skip = std::mem::take(&mut self.skip_next);
                return self.read_streamed(Layout::Lines, start, skip);
            }
            if end == LineEnd::Eof && line.is_empty() {
                return Ok(false);
            }
            let text = trim_carriage_return(line);
            if is_blank(text) {
                if end == LineEnd::Eof {
                    return Ok(false);
                }
                continue;
            }

            let after = Cursor::lines(self.main.position());
            self.state = State::Lines;
            let skip = std::mem::take(&mut self.skip_next);
            match serde_json::from_slice::<Value>(text) {
                Err(error) => self.queue.push_back(Item::Rejected {
                    mapped: malformed(
                        &self.name,
                        error_position(start, &error),
                        &reason_without_position(&error),
                    ),
                    line: start.line,
                    after,
                }),
                Ok(value) if is_batch(&value) => {
                    self.queue_batch(value, start, skip, after);
                }
                Ok(raw) => self.queue.push_back(Item::Message {
                    raw,
                    line: start.line,
                    after,
                }),
            }
            return Ok(true);
        }
    }

    /// Queues the messages of a batch object read whole, skipping the first `skip`.
    fn queue_batch(&mut self, value: Value, start: Position, skip: u64, after: Cursor) {
        let messages = match parse_batch(value) {
            Ok(batch) => batch.messages,
            Err(_) => unreachable!("is_batch checked the envelope"),
        };
        for (index, raw) in messages.into_iter().enumerate().skip(skip as usize) {
            self.queue.push_back(Item::Message {
                raw,
                line: start.line,
                after: Cursor {
                    layout: Layout::Lines,
                    position: start,
                    skip: index as u64 + 1,
                },
            });
        }
        self.queue.push_back(Item::Advance { after });
    }

    /// Reads the object at `start` member by member: a batch moves to the second pass, anything
    /// else becomes one item. Used for documents over several lines and for NDJSON lines over
    /// [`MAX_LINE_BYTES`].
    fn read_streamed(
        &mut self,
        layout: Layout,
        start: Position,
        skip: u64,
    ) -> Result<bool, InputError> {
        let single_line = layout == Layout::Lines;
        let next = self.main.peek().map_err(|e| self.io_error(e))?;
        if next != Some(b'{') {
            // Only a line over the limit gets here without `{`: a huge array or scalar.
            let item = Item::Rejected {
                mapped: Mapped::unreadable(
                    InvalidReason::MessageTooLarge,
                    format!(
                        "line {} of {} is longer than {} MiB and is not a batch object",
                        start.line,
                        self.name,
                        MAX_LINE_BYTES >> 20
                    ),
                ),
                line: start.line,
                after: Cursor::lines(start),
            };
            self.main.skip_line().map_err(|e| self.io_error(e))?;
            self.queue
                .push_back(with_after(item, Cursor::lines(self.main.position())));
            self.state = State::Lines;
            return Ok(true);
        }

        let mut copy = match self.source {
            Source::Stdin => Some(tempfile::NamedTempFile::new().map_err(|error| {
                InputError(format!(
                    "failed to create a temporary file for a batch object of {}: {error}",
                    self.name
                ))
            })?),
            Source::File(_) => None,
        };
        let scanned = {
            let writer = copy.as_mut().map(|file| file as &mut dyn io::Write);
            scan_object(&mut self.main, single_line, writer, MAX_MESSAGE_BYTES)
        };
        let value = Cursor {
            layout,
            position: start,
            skip: 0,
        };

        match scanned {
            Err(error) => {
                let item = self.stream_error(error, start)?;
                self.main.skip_line().map_err(|e| self.io_error(e))?;
                self.queue
                    .push_back(with_after(item, Cursor::lines(self.main.position())));
                self.state = State::Lines;
            }
            Ok(ObjectScan::Message(raw)) => {
                self.finish_value(single_line)?;
                let after = Cursor::lines(self.main.position());
                if skip == 0 {
                    self.queue.push_back(Item::Message {
                        raw,
                        line: start.line,
                        after,
                    });
                } else {
                    self.queue.push_back(Item::Advance { after });
                }
                self.state = State::Lines;
            }
            Ok(ObjectScan::Batch { envelope, array }) => {
                // NOTE: progress counts the raw bytes of the first pass only, so a batch object
                // that fills the whole file shows as read before its messages are sent.
                let reader = match copy.as_mut() {
                    Some(file) => {
                        io::Write::flush(file).map_err(|e| self.io_error(e))?;
                        let reopened = file.reopen().map_err(|e| self.io_error(e))?;
                        ByteReader::new(Box::new(BufReader::new(reopened)), array)
                    }
                    None => {
                        open_at(&self.source, array, Arc::new(AtomicU64::new(0)))
                            .map_err(|e| self.io_error(e))?
                            .0
                    }
                };
                self.state = State::Batch(Box::new(BatchPass {
                    reader,
                    array: ArrayStream::new(single_line),
                    envelope,
                    value,
                    skip,
                    single_line,
                    _copy: copy,
                }));
            }
        }
        Ok(true)
    }

    /// Checks that only whitespace follows a value on its line, and consumes the line end. A
    /// value over several lines may be followed by more values, which are read as NDJSON.
    fn finish_value(&mut self, single_line: bool) -> Result<(), InputError> {
        if !single_line {
            return Ok(());
        }
        skip_whitespace(&mut self.main, true).map_err(|e| self.io_error(e))?;
        match self.main.next_byte().map_err(|e| self.io_error(e))? {
            None | Some(b'\n') => Ok(()),
            Some(_) => {
                let position = self.main.position();
                self.main.skip_line().map_err(|e| self.io_error(e))?;
                let item = Item::Rejected {
                    mapped: malformed(
                        &self.name,
                        Position {
                            column: position.column - 1,
                            ..position
                        },
                        "trailing characters",
                    ),
                    line: position.line,
                    after: Cursor::lines(self.main.position()),
                };
                self.queue.push_back(item);
                Ok(())
            }
        }
    }

    fn read_batch_element(&mut self, mut pass: BatchPass) -> Result<bool, InputError> {
        loop {
            let skip = pass.skip > 0;
            let element = pass.array.next_element(
                &mut pass.reader,
                &mut self.element,
                MAX_MESSAGE_BYTES,
                skip,
            );
            let after = Cursor {
                skip: pass.array.count,
                ..pass.value
            };
            let item = match element {
                Ok(Element::End) => {
                    self.finish_value(pass.single_line)?;
                    self.queue.push_back(Item::Advance {
                        after: Cursor::lines(self.main.position()),
                    });
                    self.state = State::Lines;
                    return Ok(true);
                }
                Err(error) => {
                    // The rest of this batch is unreadable; reading goes on after the object.
                    let item = self.stream_error(error, pass.value.position)?;
                    self.queue.push_back(item);
                    self.finish_value(pass.single_line)?;
                    self.queue.push_back(Item::Advance {
                        after: Cursor::lines(self.main.position()),
                    });
                    self.state = State::Lines;
                    return Ok(true);
                }
                Ok(_) if skip => {
                    pass.skip -= 1;
                    continue;
                }
                Ok(Element::TooLarge { start }) => too_large(&self.name, start, after),
                Ok(Element::Value { start }) => {
                    match serde_json::from_slice::<Value>(&self.element) {
                        Ok(raw) => Item::Message {
                            raw: with_envelope(raw, &pass.envelope),
                            line: start.line,
                            after,
                        },
                        Err(error) => Item::Rejected {
                            mapped: malformed(
                                &self.name,
                                error_position(start, &error),
                                &reason_without_position(&error),
                            ),
                            line: start.line,
                            after,
                        },
                    }
                }
            };
            self.queue.push_back(item);
            self.state = State::Batch(Box::new(pass));
            return Ok(true);
        }
    }

    fn read_array_element(&mut self, mut array: ArrayStream) -> Result<bool, InputError> {
        let element =
            array.next_element(&mut self.main, &mut self.element, MAX_MESSAGE_BYTES, false);
        let after = Cursor {
            layout: Layout::Array,
            position: self.main.position(),
            skip: array.count,
        };
        let item = match element {
            Ok(Element::End) => {
                skip_whitespace(&mut self.main, false).map_err(|e| self.io_error(e))?;
                if self.main.peek().map_err(|e| self.io_error(e))?.is_some() {
                    let position = self.main.position();
                    return Err(InputError(format!(
                        "line {} of {} is not valid JSON: trailing characters after the array \
                         at column {}",
                        position.line, self.name, position.column
                    )));
                }
                return Ok(false);
            }
            Err(StreamError::Io(error)) => return Err(self.io_error(error)),
            Err(StreamError::Syntax { position, reason }) => {
                return Err(InputError(format!(
                    "line {} of {} is not valid JSON: {reason} at column {}; the rest of the \
                     array is not read",
                    position.line, self.name, position.column
                )))
            }
            Err(StreamError::TooLarge { position }) => {
                return Err(InputError(format!(
                    "line {} of {} contains a value over the {} MiB limit",
                    position.line,
                    self.name,
                    MAX_MESSAGE_BYTES >> 20
                )))
            }
            Ok(Element::TooLarge { start }) => too_large(&self.name, start, after),
            Ok(Element::Value { start }) => match serde_json::from_slice::<Value>(&self.element) {
                Ok(raw) => Item::Message {
                    raw,
                    line: start.line,
                    after,
                },
                Err(error) => Item::Rejected {
                    mapped: malformed(
                        &self.name,
                        error_position(start, &error),
                        &reason_without_position(&error),
                    ),
                    line: start.line,
                    after,
                },
            },
        };
        self.queue.push_back(item);
        self.state = State::Array(array);
        Ok(true)
    }

    /// Returns the number of raw bytes read so far, counting bytes skipped by a resume.
    pub fn raw_bytes_read(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
}

/// Returns whether `value` is an object with a `batch` array, read as a batch as the `map`
/// command reads it.
fn is_batch(value: &Value) -> bool {
    value.get("batch").is_some_and(Value::is_array)
}

/// Applies a batch envelope to one message, through the same code as a whole batch.
fn with_envelope(raw: Value, envelope: &Map<String, Value>) -> Value {
    let mut object = envelope.clone();
    object.insert("batch".to_owned(), Value::Array(vec![raw]));
    match parse_batch(Value::Object(object)) {
        Ok(batch) => batch.messages.into_iter().next().unwrap_or(Value::Null),
        Err(_) => unreachable!("the envelope holds a batch array"),
    }
}

fn with_after(item: Item, cursor: Cursor) -> Item {
    match item {
        Item::Message { raw, line, .. } => Item::Message {
            raw,
            line,
            after: cursor,
        },
        Item::Rejected { mapped, line, .. } => Item::Rejected {
            mapped,
            line,
            after: cursor,
        },
        Item::Advance { .. } => Item::Advance { after: cursor },
    }
}

/// Returns the `invalid` outcome of bytes that are not JSON, worded as the `map` command words it.
fn malformed(name: &str, position: Position, reason: &str) -> Mapped {
    Mapped::unreadable(
        InvalidReason::MalformedJson,
        format!(
            "line {} of {name} is not valid JSON: {reason} at column {}",
            position.line, position.column
        ),
    )
}

fn too_large(name: &str, start: Position, after: Cursor) -> Item {
    Item::Rejected {
        mapped: Mapped::unreadable(
            InvalidReason::MessageTooLarge,
            format!(
                "the message at line {} of {name} is over the {} MiB limit",
                start.line,
                MAX_MESSAGE_BYTES >> 20
            ),
        ),
        line: start.line,
        after,
    }
}

fn trim_carriage_return(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Returns whether a line contains only whitespace, as `str::trim` defines it.
fn is_blank(line: &[u8]) -> bool {
    match line.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => true,
        Some(byte) if byte.is_ascii() && *byte != 0x0b => false,
        Some(_) => std::str::from_utf8(line).is_ok_and(|text| text.trim().is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use flate2::write::GzEncoder;
    use flate2::Compression;
    use serde_json::json;

    use super::*;

    fn file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Source {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        Source::File(path)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_from(source: &Source, cursor: Cursor) -> Vec<Item> {
        let mut reader = InputReader::open(source, cursor, Arc::default()).unwrap();
        let mut items = Vec::new();
        while let Some(item) = reader.next_item() {
            items.push(item.unwrap());
        }
        items
    }

    /// Returns the items with a message, as (message, line).
    fn messages(items: &[Item]) -> Vec<(Value, u64)> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Message { raw, line, .. } => Some((raw.clone(), *line)),
                Item::Rejected { line, .. } => Some((json!("rejected"), *line)),
                Item::Advance { .. } => None,
            })
            .collect()
    }

    const INPUTS: [(&str, &str); 5] = [
        (
            "lines.ndjson",
            "{\"type\":\"page\",\"n\":1}\n\n{bad}\n{\"batch\":[{\"n\":2},{\"n\":3}],\"context\":{\"ip\":\"x\"}}\n{\"n\":4}",
        ),
        ("array.json", " [\n{\"n\":1}, {bad},\n  {\"n\":3} ,{\"n\":4}]\n"),
        (
            "document.json",
            "{\n \"batch\": [\n  {\"n\": 1},\n  {\"n\": 2}\n ],\n \"context\": {\"ip\": \"x\"}\n}\n{\"n\":3}\n",
        ),
        ("message.json", "{\n \"n\": 1\n}\n"),
        ("crlf.ndjson", "{\"n\":1}\r\n\r\n{\"n\":2}\r\n"),
    ];

    #[test]
    fn resuming_at_each_cursor_reads_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in INPUTS {
            for packed in [false, true] {
                let bytes = if packed {
                    gzip(content.as_bytes())
                } else {
                    content.as_bytes().to_vec()
                };
                let source = file(dir.path(), name, &bytes);
                let items = read_from(&source, Cursor::START);
                let all = messages(&items);
                assert!(!all.is_empty(), "{name}");

                for (index, item) in items.iter().enumerate() {
                    let rest = read_from(&source, item.after());
                    assert_eq!(
                        messages(&rest),
                        messages(&items[index + 1..]),
                        "{name} (gzip {packed}) resumed after item {index} at {:?}",
                        item.after()
                    );
                }
            }
        }
    }

    #[test]
    fn envelope_applies_to_streamed_batch() {
        let dir = tempfile::tempdir().unwrap();
        let source = file(dir.path(), "document.json", INPUTS[2].1.as_bytes());

        let found = messages(&read_from(&source, Cursor::START));

        assert_eq!(
            found,
            [
                (json!({"n": 1, "context": {"ip": "x"}}), 3),
                (json!({"n": 2, "context": {"ip": "x"}}), 4),
                (json!({"n": 3}), 8),
            ]
        );
    }

    #[test]
    fn lines_and_batches_keep_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let source = file(dir.path(), "lines.ndjson", INPUTS[0].1.as_bytes());

        let found = messages(&read_from(&source, Cursor::START));

        let lines: Vec<u64> = found.iter().map(|(_, line)| *line).collect();
        assert_eq!(lines, [1, 3, 4, 4, 5]);
        assert_eq!(found[2].0, json!({"n": 2, "context": {"ip": "x"}}));
    }

    #[test]
    fn array_keeps_going_after_bad_element() {
        let dir = tempfile::tempdir().unwrap();
        let source = file(dir.path(), "array.json", INPUTS[1].1.as_bytes());

        let items = read_from(&source, Cursor::START);

        let Item::Rejected { mapped, .. } = &items[1] else {
            panic!("expected the bad element to be rejected: {items:?}");
        };
        let text = serde_json::to_string(mapped).unwrap();
        assert!(
            text.contains("line 2 of ") && text.contains("at column 11"),
            "{text}"
        );
        assert_eq!(messages(&items).len(), 4);
    }

    #[test]
    fn broken_array_structure_ends_input() {
        let dir = tempfile::tempdir().unwrap();
        let source = file(dir.path(), "array.json", b"[{\"n\":1} {\"n\":2}]");
        let mut reader = InputReader::open(&source, Cursor::START, Arc::default()).unwrap();

        assert!(matches!(reader.next_item(), Some(Ok(Item::Message { .. }))));
        let error = reader.next_item().unwrap().unwrap_err();

        assert!(error.to_string().contains("expected `,` or `]`"), "{error}");
        assert!(reader.next_item().is_none());
    }

    #[test]
    fn long_line_batch_is_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let element = format!("{{\"pad\":\"{}\"}}", "x".repeat(1 << 20));
        let elements = vec![element; 20].join(",");
        let content =
            format!("{{\"n\":0}}\n{{\"batch\":[{elements}],\"userId\":\"u\"}}\n{{\"n\":2}}\n");
        let source = file(dir.path(), "long.ndjson", content.as_bytes());

        let items = read_from(&source, Cursor::START);
        let found = messages(&items);

        assert_eq!(found.len(), 22);
        assert_eq!(found[1].0["userId"], "u");
        assert_eq!(found[1].1, 2);
        assert_eq!(found[21], (json!({"n": 2}), 3));
        let resumed = read_from(&source, items[5].after());
        assert_eq!(messages(&resumed), found[6..].to_vec());
    }
}
