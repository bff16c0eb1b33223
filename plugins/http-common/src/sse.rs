//! An incremental parser for `text/event-stream` bodies (the WHATWG
//! server-sent events format).
//!
//! Bytes arrive in chunks that split lines and even `\r\n` pairs anywhere, so
//! the parser keeps the unfinished line between calls. The event ID and the
//! reconnection delay persist across events, as the format requires: a
//! priming event (an `id:` and an empty `data:`) is not dispatched but still
//! moves the last event ID, which is what a resuming client sends back.

use std::time::Duration;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type; `message` when the server named none.
    pub name: String,
    /// The data lines joined with `\n`.
    pub data: String,
}

/// The stream broke the format in a way that cannot be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseError {
    /// One event (or one line) grew past the limit.
    TooLarge,
}

/// Parser state for one stream (and the streams that resume it).
#[derive(Debug)]
pub struct SseParser {
    limit: usize,
    line: Vec<u8>,
    /// The previous chunk ended in `\r`; a `\n` opening the next one belongs to it.
    after_cr: bool,
    /// Nothing has been read yet, so a byte order mark may still come.
    at_start: bool,
    data: String,
    name: String,
    last_event_id: Option<String>,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser that refuses events (and lines) larger than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        SseParser {
            limit,
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            data: String::new(),
            name: String::new(),
            last_event_id: None,
            retry: None,
        }
    }

    /// The ID of the last event seen, to send as `Last-Event-ID` when resuming.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The reconnection delay the server asked for with `retry:`.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Forgets a half-received event and line: the connection they came on is
    /// gone. The last event ID and the retry delay stay.
    pub fn restart(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.at_start = true;
        self.data.clear();
        self.name.clear();
    }

    /// Parses `chunk`, returning the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, SseError> {
        let mut events = Vec::new();
        let mut rest = chunk;
        // An empty chunk says nothing about what follows the `\r`.
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.push_line_part(&rest[..end])?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut events)?;
            let terminator = rest[end];
            rest = &rest[end + 1..];
            if terminator == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.push_line_part(rest)?;
        Ok(events)
    }

    fn push_line_part(&mut self, part: &[u8]) -> Result<(), SseError> {
        if self.line.len() + part.len() > self.limit.saturating_add(16) {
            return Err(SseError::TooLarge);
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], events: &mut Vec<Event>) -> Result<(), SseError> {
        let line = if self.at_start {
            self.at_start = false;
            line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
        } else {
            line
        };
        if line.is_empty() {
            self.dispatch(events);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(SseError::TooLarge);
                }
                self.data.push_str(value);
                self.data.push('\n');
            }
            "event" => self.name = value.to_owned(),
            "id" if !value.contains('\0') => self.last_event_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(millis) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(millis));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, events: &mut Vec<Event>) {
        let name = std::mem::take(&mut self.name);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        // An empty `data:` (a priming event) carries no message.
        if data.is_empty() {
            return;
        }
        events.push(Event {
            name: if name.is_empty() {
                "message".to_owned()
            } else {
                name
            },
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, data: &str) -> Event {
        Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn parses_events_with_names_ids_and_multi_line_data() {
        let mut parser = SseParser::new(1024);
        let events = parser
            .feed(b": comment\nevent: endpoint\ndata: /messages?s=1\n\nid: 7\ndata: a\ndata:b\n\n")
            .unwrap();
        assert_eq!(
            events,
            [event("endpoint", "/messages?s=1"), event("message", "a\nb")]
        );
        assert_eq!(parser.last_event_id(), Some("7"));
    }

    #[test]
    fn a_priming_event_moves_the_id_and_retry_without_dispatching() {
        let mut parser = SseParser::new(1024);
        let events = parser.feed(b"id: prime-1\nretry: 500\ndata:\n\n").unwrap();
        assert!(events.is_empty());
        assert_eq!(parser.last_event_id(), Some("prime-1"));
        assert_eq!(parser.retry(), Some(Duration::from_millis(500)));
        // A later event without an id keeps the last one.
        let events = parser.feed(b"data: {}\n\n").unwrap();
        assert_eq!(events, [event("message", "{}")]);
        assert_eq!(parser.last_event_id(), Some("prime-1"));
    }

    #[test]
    fn chunks_may_split_lines_and_crlf_pairs_anywhere() {
        let stream = b"\xef\xbb\xbfevent: message\r\ndata: {\"a\":1}\r\n\r\ndata: x\rdata: y\r\r";
        for split in 0..stream.len() {
            let mut parser = SseParser::new(1024);
            let mut events = parser.feed(&stream[..split]).unwrap();
            events.extend(parser.feed(&stream[split..]).unwrap());
            assert_eq!(
                events,
                [event("message", "{\"a\":1}"), event("message", "x\ny")],
                "split at {split}"
            );
        }
    }

    #[test]
    fn an_empty_chunk_between_cr_and_lf_is_no_blank_line() {
        // Found by fuzz_sse_chunks_parse_like_the_whole_input: the empty
        // chunk forgot the `\r`, so its `\n` ended the event.
        let mut parser = SseParser::new(1024);
        let mut events = parser.feed(b"data: x\r").unwrap();
        events.extend(parser.feed(b"").unwrap());
        events.extend(parser.feed(b"\ndata: y\n\n").unwrap());
        assert_eq!(events, [event("message", "x\ny")]);
    }

    #[test]
    fn invalid_retry_values_and_ids_with_nul_are_ignored() {
        let mut parser = SseParser::new(1024);
        parser.feed(b"retry: 5s\nid: a\0b\ndata: x\n\n").unwrap();
        assert_eq!(parser.retry(), None);
        assert_eq!(parser.last_event_id(), None);
    }

    #[test]
    fn an_oversized_event_or_line_is_refused() {
        let mut parser = SseParser::new(10);
        assert_eq!(
            parser.feed(b"data: 123456\ndata: 7890\n"),
            Err(SseError::TooLarge)
        );
        let mut parser = SseParser::new(10);
        assert_eq!(parser.feed(&[b'x'; 64]), Err(SseError::TooLarge));
    }

    #[test]
    fn restart_drops_a_half_event_but_keeps_the_id() {
        let mut parser = SseParser::new(1024);
        parser.feed(b"id: 3\ndata: done\n\ndata: half").unwrap();
        parser.restart();
        let events = parser.feed(b"data: fresh\n\n").unwrap();
        assert_eq!(events, [event("message", "fresh")]);
        assert_eq!(parser.last_event_id(), Some("3"));
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-http-common --lib fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Bytes that are mostly SSE: field names, colons, line ends, a BOM.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..6),
            2 => Just(b"data: ".to_vec()),
            1 => Just(b"data:".to_vec()),
            1 => Just(b"event: e".to_vec()),
            1 => Just(b"id: 1".to_vec()),
            1 => Just(b"retry: 10".to_vec()),
            1 => Just(b": c".to_vec()),
            1 => Just("\u{feff}".as_bytes().to_vec()),
            3 => Just(b"\n".to_vec()),
            2 => Just(b"\r".to_vec()),
            1 => Just(b"\r\n".to_vec()),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// What a parser ends in after the whole of `data`, in one piece or in
    /// the chunks `cuts` splits it into.
    fn run(
        limit: usize,
        data: &[u8],
        cuts: &[usize],
    ) -> (
        Result<Vec<Event>, SseError>,
        Option<String>,
        Option<Duration>,
    ) {
        let mut parser = SseParser::new(limit);
        let mut events = Vec::new();
        let mut start = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|cut| cut % (data.len() + 1)).collect();
        ends.sort_unstable();
        ends.push(data.len());
        for end in ends {
            match parser.feed(&data[start..end]) {
                Ok(more) => events.extend(more),
                Err(err) => return (Err(err), None, None),
            }
            start = end;
        }
        let id = parser.last_event_id().map(str::to_owned);
        (Ok(events), id, parser.retry())
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(1024))]

        #[test]
        fn fuzz_sse_chunks_parse_like_the_whole_input(
            data in stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            limit in prop_oneof![Just(8usize), Just(64), Just(1 << 20)],
        ) {
            let whole = run(limit, &data, &[]);
            let split = run(limit, &data, &cuts);
            let bytewise: Vec<usize> = (0..data.len()).collect();
            let one_by_one = run(limit, &data, &bytewise);
            prop_assert_eq!(&whole, &split);
            prop_assert_eq!(&whole, &one_by_one);
            if let (Ok(events), _, _) = &whole {
                for event in events {
                    prop_assert!(event.data.len() < limit);
                    prop_assert!(!event.data.is_empty());
                }
            }
        }

        #[test]
        fn fuzz_sse_long_lines_are_refused(
            len in 0usize..200,
            limit in 0usize..100,
            cut in any::<usize>(),
            byte in any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'),
        ) {
            let data = vec![byte; len];
            let (result, _, _) = run(limit, &data, &[cut]);
            if len > limit + 16 {
                prop_assert_eq!(result, Err(SseError::TooLarge));
            } else {
                prop_assert!(result.is_ok());
            }
        }
    }
}
