//! Splitting a server's standard output into messages, with a size cap.
//!
//! The stdio transport frames each JSON-RPC message as one line. A server
//! that never sends a newline would otherwise make the host buffer without
//! end, so a line is refused as soon as it grows past the cap, before more of
//! it is read.

use std::io::{self, BufRead, BufReader, Read};

/// The longest line accepted from a server: 64 MiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// How much is read from the pipe at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// A buffer grown for one large line is released after it, not kept.
const KEEP_CAPACITY_BYTES: usize = 1024 * 1024;

/// What [`LineReader::next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// One line without its `\n` (and without a `\r` before it).
    Bytes(Vec<u8>),
    /// The stream ended; a final unterminated fragment has been returned before this.
    End,
    /// A line grew past the cap; nothing more should be read.
    TooLong,
}

/// Reads lines of at most `cap` bytes from `R`.
pub struct LineReader<R> {
    input: BufReader<R>,
    cap: usize,
    line: Vec<u8>,
    ended: bool,
}

impl<R: Read> LineReader<R> {
    /// A reader of lines no longer than `cap` bytes.
    pub fn new(input: R, cap: usize) -> Self {
        LineReader {
            input: BufReader::with_capacity(CHUNK_BYTES, input),
            cap,
            line: Vec::new(),
            ended: false,
        }
    }

    /// The next non-empty line, the end of the stream, or the cap being hit.
    /// Empty lines (and lines holding only `\r`) are skipped.
    pub fn next_line(&mut self) -> io::Result<Line> {
        loop {
            if self.ended {
                return Ok(Line::End);
            }
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                self.ended = true;
                if let Some(line) = self.take_line() {
                    return Ok(Line::Bytes(line));
                }
                return Ok(Line::End);
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let piece = newline.unwrap_or(available.len());
            // `\r` before the newline is not part of the line, so it may push
            // the raw length one byte over the cap.
            if self.line.len() + piece > self.cap + 1 {
                self.line = Vec::new();
                self.ended = true;
                return Ok(Line::TooLong);
            }
            grow(&mut self.line, piece, self.cap);
            self.line.extend_from_slice(&available[..piece]);
            match newline {
                Some(at) => {
                    self.input.consume(at + 1);
                    if let Some(line) = self.take_line() {
                        if line.len() > self.cap {
                            self.ended = true;
                            return Ok(Line::TooLong);
                        }
                        return Ok(Line::Bytes(line));
                    }
                }
                None => {
                    self.input.consume(piece);
                }
            }
        }
    }

    /// The line gathered so far without a trailing `\r`, or `None` if empty.
    fn take_line(&mut self) -> Option<Vec<u8>> {
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        if self.line.is_empty() {
            return None;
        }
        let line = if self.line.capacity() > KEEP_CAPACITY_BYTES {
            std::mem::take(&mut self.line)
        } else {
            let line = self.line.clone();
            self.line.clear();
            line
        };
        Some(line)
    }
}

/// Reserves room in `line` for `more` bytes, doubling but never past
/// `cap + 1`, so a line at the cap does not cost twice the cap.
fn grow(line: &mut Vec<u8>, more: usize, cap: usize) {
    let needed = line.len() + more;
    if needed <= line.capacity() {
        return;
    }
    let target = (line.capacity() * 2).min(cap + 1).max(needed);
    line.reserve_exact(target - line.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<Line> {
        let mut reader = LineReader::new(input, cap);
        let mut found = Vec::new();
        loop {
            let line = reader.next_line().unwrap();
            let last = !matches!(line, Line::Bytes(_));
            found.push(line);
            if last {
                return found;
            }
        }
    }

    fn text(line: &str) -> Line {
        Line::Bytes(line.as_bytes().to_vec())
    }

    #[test]
    fn splits_on_newlines_and_strips_carriage_returns() {
        assert_eq!(
            lines(b"{\"a\":1}\n{\"b\":2}\r\n\n\r\n{\"c\":3}", 100),
            [
                text("{\"a\":1}"),
                text("{\"b\":2}"),
                text("{\"c\":3}"),
                Line::End
            ]
        );
    }

    #[test]
    fn a_line_at_the_cap_passes_and_one_over_it_does_not() {
        assert_eq!(lines(b"12345\n", 5), [text("12345"), Line::End]);
        assert_eq!(lines(b"12345\r\n", 5), [text("12345"), Line::End]);
        assert_eq!(lines(b"ok\n123456\nmore\n", 5), [text("ok"), Line::TooLong]);
        assert_eq!(lines(b"1234567890", 5), [Line::TooLong]);
    }

    #[test]
    fn a_long_line_is_refused_before_it_is_read_whole() {
        let cap = 1000;
        let mut reader = LineReader::new(std::io::repeat(b'x'), cap);
        assert_eq!(reader.next_line().unwrap(), Line::TooLong);
        assert!(reader.line.capacity() <= cap + 1);
        assert_eq!(reader.next_line().unwrap(), Line::End);
    }

    #[test]
    fn lines_across_chunk_boundaries_are_joined() {
        let mut input = vec![b'a'; CHUNK_BYTES + 10];
        input.push(b'\n');
        input.extend_from_slice(b"tail\n");
        let found = lines(&input, MAX_LINE_BYTES);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0], Line::Bytes(vec![b'a'; CHUNK_BYTES + 10]));
        assert_eq!(found[1], text("tail"));
    }

    /// A reader that hands out its input in the chunk sizes it is given, so
    /// lines cross read boundaries in every way.
    struct Chunked {
        data: Vec<u8>,
        sizes: Vec<usize>,
        at: usize,
        turn: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.turn % self.sizes.len()].min(buffer.len());
            self.turn += 1;
            let end = (self.at + size).min(self.data.len());
            let count = end - self.at;
            buffer[..count].copy_from_slice(&self.data[self.at..end]);
            self.at = end;
            Ok(count)
        }
    }

    proptest::proptest! {
        #![proptest_config(codex_fuzz_support::cases(512))]

        /// Fuzz target for incoming stdio frames: whatever bytes a server
        /// writes, in whatever pieces, the reader yields exactly the non-empty
        /// lines (without `\r`), refuses a line over the cap, and never panics.
        #[test]
        fn fuzz_frames_match_a_plain_split_of_any_input(
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => proptest::prelude::any::<u8>(),
                    2 => proptest::prelude::Just(b'\n'),
                    1 => proptest::prelude::Just(b'\r'),
                ],
                0..600,
            ),
            sizes in proptest::collection::vec(1usize..50, 1..8),
            cap in 1usize..40,
        ) {
            let mut reader = LineReader::new(Chunked { data: data.clone(), sizes, at: 0, turn: 0 }, cap);
            let mut expected = data
                .split(|&byte| byte == b'\n')
                .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec())
                .filter(|line| !line.is_empty());
            loop {
                match reader.next_line().unwrap() {
                    Line::Bytes(line) => {
                        proptest::prop_assert!(line.len() <= cap + 1, "a line over the cap got through");
                        proptest::prop_assert_eq!(Some(line), expected.next());
                    }
                    Line::End => {
                        proptest::prop_assert_eq!(expected.next(), None);
                        break;
                    }
                    Line::TooLong => {
                        let next = expected.next();
                        proptest::prop_assert!(next.is_some_and(|line| line.len() > cap), "refused a line within the cap");
                        break;
                    }
                }
            }
        }
    }
}
