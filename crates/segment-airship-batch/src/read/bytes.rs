//! A buffered byte reader that tracks the offset, line and column of the next byte.

use std::io::{self, Read};

use serde::{Deserialize, Serialize};

/// Size of the read buffer.
const BUFFER_BYTES: usize = 64 * 1024;

/// Where a byte sits in the decompressed input: offset from 0, line and byte column from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub offset: u64,
    pub line: u64,
    pub column: u64,
}

impl Position {
    /// The first byte of an input.
    pub const START: Position = Position {
        offset: 0,
        line: 1,
        column: 1,
    };

    /// Moves past `byte`.
    fn advance(&mut self, byte: u8) {
        self.offset += 1;
        if byte == b'\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }

    /// Moves past `bytes`, which hold no newline.
    fn advance_within_line(&mut self, bytes: usize) {
        self.offset += bytes as u64;
        self.column += bytes as u64;
    }
}

/// How [`ByteReader::read_line`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// A newline ended the line; it was consumed but not copied.
    Newline,
    /// The input ended; the line may be empty.
    Eof,
    /// The line reached the size limit; the bytes copied so far were consumed.
    TooLong,
}

/// Buffered reading with position tracking over any decompressed input.
pub(crate) struct ByteReader {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    position: Position,
}

impl ByteReader {
    /// Wraps `inner`, whose next byte is at `position`.
    pub(crate) fn new(inner: Box<dyn Read + Send>, position: Position) -> ByteReader {
        ByteReader {
            inner,
            buf: vec![0; BUFFER_BYTES],
            start: 0,
            end: 0,
            position,
        }
    }

    /// Returns the position of the next byte.
    pub(crate) fn position(&self) -> Position {
        self.position
    }

    /// Makes at least one byte available; returns `false` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.start < self.end {
            return Ok(true);
        }
        if self.buf.len() > BUFFER_BYTES {
            // The buffer grew to hold bytes given back by `unread`; shrink it again.
            self.buf = vec![0; BUFFER_BYTES];
        }
        self.start = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(read) => {
                    self.end = read;
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Returns the buffered bytes that are not consumed yet, reading more when none are.
    pub(crate) fn available(&mut self) -> io::Result<&[u8]> {
        self.fill()?;
        Ok(&self.buf[self.start..self.end])
    }

    /// Consumes `count` bytes of [`ByteReader::available`], which hold no newline.
    pub(crate) fn consume_within_line(&mut self, count: usize) {
        debug_assert!(!self.buf[self.start..self.start + count].contains(&b'\n'));
        self.start += count;
        self.position.advance_within_line(count);
    }

    /// Consumes `count` bytes of [`ByteReader::available`], which may hold newlines.
    pub(crate) fn consume(&mut self, count: usize) {
        let consumed = &self.buf[self.start..self.start + count];
        match memchr::memrchr(b'\n', consumed) {
            Some(last) => {
                self.position.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
                self.position.column = (count - last) as u64;
                self.position.offset += count as u64;
            }
            None => self.position.advance_within_line(count),
        }
        self.start += count;
    }

    /// Returns the next byte without consuming it.
    pub(crate) fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.start])
        } else {
            None
        })
    }

    /// Consumes and returns the next byte.
    pub(crate) fn next_byte(&mut self) -> io::Result<Option<u8>> {
        if !self.fill()? {
            return Ok(None);
        }
        let byte = self.buf[self.start];
        self.start += 1;
        self.position.advance(byte);
        Ok(Some(byte))
    }

    /// Copies bytes into `out` up to the next newline, consuming the newline too. Stops early
    /// once `out` holds `limit` bytes.
    pub(crate) fn read_line(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<LineEnd> {
        loop {
            if !self.fill()? {
                return Ok(LineEnd::Eof);
            }
            let room = limit.saturating_sub(out.len());
            if room == 0 {
                return Ok(LineEnd::TooLong);
            }
            let available = &self.buf[self.start..self.end];
            let window = &available[..available.len().min(room)];
            if let Some(newline) = memchr::memchr(b'\n', window) {
                out.extend_from_slice(&window[..newline]);
                self.start += newline + 1;
                self.position.offset += newline as u64 + 1;
                self.position.line += 1;
                self.position.column = 1;
                return Ok(LineEnd::Newline);
            }
            let taken = window.len();
            out.extend_from_slice(window);
            self.consume_within_line(taken);
        }
    }

    /// Consumes bytes through the next newline, or to the end of the input.
    pub(crate) fn skip_line(&mut self) -> io::Result<()> {
        while self.fill()? {
            let available = &self.buf[self.start..self.end];
            if let Some(newline) = memchr::memchr(b'\n', available) {
                let count = newline;
                self.consume_within_line(count);
                self.next_byte()?;
                return Ok(());
            }
            let count = available.len();
            self.consume_within_line(count);
        }
        Ok(())
    }

    /// Puts `bytes` back in front of the unread input, with `position` as the position of their
    /// first byte. `bytes` must be the bytes consumed since `position`.
    pub(crate) fn unread(&mut self, bytes: &[u8], position: Position) {
        let mut buf = Vec::with_capacity(bytes.len() + (self.end - self.start));
        buf.extend_from_slice(bytes);
        buf.extend_from_slice(&self.buf[self.start..self.end]);
        self.start = 0;
        self.end = buf.len();
        self.buf = buf;
        self.position = position;
    }

    /// Consumes bytes until the offset reaches `offset`, then takes `position` as the position.
    /// Returns `false` when the input ends first.
    pub(crate) fn discard_until(&mut self, position: Position) -> io::Result<bool> {
        while self.position.offset < position.offset {
            if !self.fill()? {
                return Ok(false);
            }
            let wanted = position.offset - self.position.offset;
            let count = (self.end - self.start).min(usize::try_from(wanted).unwrap_or(usize::MAX));
            self.start += count;
            self.position.offset += count as u64;
        }
        self.position = position;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &'static str) -> ByteReader {
        ByteReader::new(Box::new(text.as_bytes()), Position::START)
    }

    #[test]
    fn read_line_tracks_lines() {
        let mut reader = reader("ab\ncd");
        let mut line = Vec::new();

        assert_eq!(reader.read_line(&mut line, 100).unwrap(), LineEnd::Newline);
        assert_eq!(line, b"ab");
        assert_eq!(
            reader.position(),
            Position {
                offset: 3,
                line: 2,
                column: 1
            }
        );
        line.clear();
        assert_eq!(reader.read_line(&mut line, 100).unwrap(), LineEnd::Eof);
        assert_eq!(line, b"cd");
        assert_eq!(reader.position().column, 3);
    }

    #[test]
    fn read_line_stops_at_limit() {
        let mut reader = reader("abcdef\n");
        let mut line = Vec::new();

        assert_eq!(reader.read_line(&mut line, 4).unwrap(), LineEnd::TooLong);
        assert_eq!(line, b"abcd");
        reader.unread(&line, Position::START);
        assert_eq!(reader.next_byte().unwrap(), Some(b'a'));
    }

    #[test]
    fn discard_until_sets_position() {
        let mut reader = reader("0123456789");
        let target = Position {
            offset: 7,
            line: 3,
            column: 2,
        };

        assert!(reader.discard_until(target).unwrap());
        assert_eq!(reader.next_byte().unwrap(), Some(b'7'));
        assert_eq!(reader.position().line, 3);
    }
}
