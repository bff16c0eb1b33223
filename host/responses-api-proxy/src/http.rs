//! The client side of HTTP/1.1: one request per connection, read with
//! `httparse`, and answers written straight to the socket.
//!
//! Why our own and not a server crate: the answer must reach the client as
//! each upstream read returns (tiny_http's chunked writer holds 8 KiB before
//! it sends), and a stream the upstream breaks must end the connection so the
//! client sees an error instead of waiting. One request per connection
//! (`Connection: close`) keeps the framing to a few dozen lines, and every
//! limit (head size, body size, read time) is ours to set.

use std::io::{self, BufRead, BufReader, Read, Write};

/// The request line and headers may not be larger than this.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// Responses API requests carry whole conversations, images included.
pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;
/// A chunk-size or trailer line longer than this is not HTTP.
const MAX_LINE_BYTES: usize = 4096;

/// A parsed request line and its headers.
#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// In the order sent; names as sent, values as bytes.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    /// Every value of the header `name` (case-insensitive).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed (or went silent) before sending anything: no answer.
    Gone,
    /// Not a request we can serve: answer with this status and message.
    Refused(u16, String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Gone
    }
}

/// Reads the request line and headers. Also returns the bytes read past
/// them, which start the body.
pub fn read_head(stream: &mut impl Read) -> Result<(RequestHead, Vec<u8>), ReadError> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            if buf.is_empty() {
                return Err(ReadError::Gone);
            }
            return Err(ReadError::Refused(
                400,
                "the request ended before its headers did".into(),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = RequestHead {
                    method: request.method.unwrap_or_default().to_owned(),
                    target: request.path.unwrap_or_default().to_owned(),
                    minor_version: request.version.unwrap_or(1),
                    headers: request
                        .headers
                        .iter()
                        .map(|header| (header.name.to_owned(), header.value.to_vec()))
                        .collect(),
                };
                let rest = buf.split_off(len);
                return Ok((head, rest));
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
                return Err(ReadError::Refused(
                    431,
                    format!("the request headers are larger than {MAX_HEAD_BYTES} bytes"),
                ));
            }
            Ok(httparse::Status::Partial) => {}
            Err(error) => {
                return Err(ReadError::Refused(
                    400,
                    format!("malformed request: {error}"),
                ));
            }
        }
    }
}

/// Reads the body that `head` announces (`Content-Length` or chunked), after
/// `already` (the bytes read with the head). At most [`MAX_BODY_BYTES`].
pub fn read_body(
    head: &RequestHead,
    already: Vec<u8>,
    stream: &mut impl Read,
) -> Result<Vec<u8>, ReadError> {
    let transfer_encoding: Vec<&[u8]> = head.values("transfer-encoding").collect();
    let content_length: Vec<&[u8]> = head.values("content-length").collect();
    let mut reader = BufReader::new(io::Cursor::new(already).chain(stream));
    if !transfer_encoding.is_empty() {
        // Both framings at once is how requests are smuggled past proxies.
        if !content_length.is_empty() {
            return Err(ReadError::Refused(
                400,
                "a request may not have both Transfer-Encoding and Content-Length".into(),
            ));
        }
        let chunked = transfer_encoding.len() == 1
            && transfer_encoding[0]
                .trim_ascii()
                .eq_ignore_ascii_case(b"chunked");
        if !chunked {
            return Err(ReadError::Refused(
                501,
                "only `Transfer-Encoding: chunked` is supported".into(),
            ));
        }
        return read_chunked(&mut reader);
    }
    let Some(first) = content_length.first() else {
        return Ok(Vec::new());
    };
    if content_length.iter().any(|value| value != first) {
        return Err(ReadError::Refused(
            400,
            "the request has conflicting Content-Length headers".into(),
        ));
    }
    let length = std::str::from_utf8(first)
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .ok_or_else(|| ReadError::Refused(400, "Content-Length is not a number".into()))?;
    if length > MAX_BODY_BYTES {
        return Err(too_large());
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).map_err(|_| {
        ReadError::Refused(
            400,
            "the request body is shorter than its Content-Length".into(),
        )
    })?;
    Ok(body)
}

fn too_large() -> ReadError {
    ReadError::Refused(
        413,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let malformed = || ReadError::Refused(400, "malformed chunked request body".into());
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size_text = line.split(|&byte| byte == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|text| usize::from_str_radix(text.trim(), 16).ok())
            .ok_or_else(malformed)?;
        if size == 0 {
            // Trailers, up to the empty line; they are not forwarded.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > MAX_BODY_BYTES {
            return Err(too_large());
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|_| malformed())?;
        if !read_line(reader)?.is_empty() {
            return Err(malformed());
        }
    }
}

/// One line without its CRLF (or LF), at most [`MAX_LINE_BYTES`].
fn read_line(reader: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|_| ReadError::Gone)?;
    if read == 0 || line.last() != Some(&b'\n') {
        return Err(ReadError::Refused(
            400,
            "malformed chunked request body".into(),
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// The reason phrase for `status`, or an empty one.
fn reason(status: u16) -> &'static str {
    ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("")
}

/// Writes a whole short answer: `text` as `text/plain`, then the connection
/// is done.
pub fn write_text(stream: &mut impl Write, status: u16, text: &str) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if !text.is_empty() {
        out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    ));
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

/// How the body of an answer whose length is not known is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (1xx, 204, 304).
    None,
    /// `Transfer-Encoding: chunked`, so that a cut stream is seen as one.
    Chunked,
    /// Until the connection closes, for HTTP/1.0 clients.
    UntilClose,
}

impl Framing {
    pub fn for_answer(status: u16, client_minor_version: u8) -> Self {
        if status < 200 || status == 204 || status == 304 {
            Framing::None
        } else if client_minor_version == 0 {
            Framing::UntilClose
        } else {
            Framing::Chunked
        }
    }
}

/// Writes the status line and `headers`, then the framing's own headers.
pub fn write_head<'a>(
    stream: &mut impl Write,
    status: u16,
    headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    framing: Framing,
) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if framing == Framing::Chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    stream.write_all(&out)?;
    stream.flush()
}

/// Writes one piece of the body and sends it now.
pub fn write_piece(stream: &mut impl Write, framing: Framing, data: &[u8]) -> io::Result<()> {
    match framing {
        Framing::None => Ok(()),
        Framing::UntilClose => {
            stream.write_all(data)?;
            stream.flush()
        }
        Framing::Chunked => {
            // One write per chunk: size line, data and CRLF in one segment.
            let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
            frame.reserve(data.len() + 2);
            frame.extend_from_slice(data);
            frame.extend_from_slice(b"\r\n");
            stream.write_all(&frame)?;
            stream.flush()
        }
    }
}

/// Ends a body that was complete.
pub fn write_end(stream: &mut impl Write, framing: Framing) -> io::Result<()> {
    if framing == Framing::Chunked {
        stream.write_all(b"0\r\n\r\n")?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<(RequestHead, Vec<u8>), ReadError> {
        let mut stream = raw;
        let (head, rest) = read_head(&mut stream)?;
        let body = read_body(&head, rest, &mut stream)?;
        Ok((head, body))
    }

    fn refused(raw: &[u8]) -> u16 {
        match parse(raw) {
            Err(ReadError::Refused(status, _)) => status,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn content_length_body() {
        let (head, body) =
            parse(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/v1/responses");
        assert_eq!(head.minor_version, 1);
        assert_eq!(body, b"hello");
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let (_, body) = parse(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n",
        )
        .unwrap();
        assert_eq!(body, b"hello");
    }

    #[test]
    fn no_length_means_no_body() {
        let (_, body) = parse(b"GET /shutdown HTTP/1.1\r\n\r\n").unwrap();
        assert!(body.is_empty());
    }

    #[test]
    fn ambiguous_or_broken_framing_is_refused() {
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            400
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort"),
            400
        );
        assert_eq!(refused(b"NOT HTTP\r\n\r\n"), 400);
        assert_eq!(
            refused(
                format!(
                    "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
                    MAX_BODY_BYTES + 1
                )
                .as_bytes()
            ),
            413
        );
    }

    #[test]
    fn huge_heads_are_refused() {
        let mut raw = b"GET / HTTP/1.1\r\nX: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        assert_eq!(refused(&raw), 431);
    }

    #[test]
    fn chunks_are_framed() {
        let mut out = Vec::new();
        write_piece(&mut out, Framing::Chunked, b"hello, world!!!!").unwrap();
        write_end(&mut out, Framing::Chunked).unwrap();
        assert_eq!(out, b"10\r\nhello, world!!!!\r\n0\r\n\r\n");
    }

    #[test]
    fn framing_follows_status_and_version() {
        assert_eq!(Framing::for_answer(204, 1), Framing::None);
        assert_eq!(Framing::for_answer(200, 0), Framing::UntilClose);
        assert_eq!(Framing::for_answer(500, 1), Framing::Chunked);
    }
}
