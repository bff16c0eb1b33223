//! `--dump-dir`: each exchange as two JSON files, for debugging what Codex
//! sends and gets.
//!
//! `NNNNNN-<unix ms>-request.json` is written before the request goes
//! upstream, `-response.json` when the answer has ended (completely or not).
//! `Authorization`, `Proxy-Authorization` and any header whose name contains
//! `cookie` are redacted, and any occurrence of the key itself in a header or
//! body (an upstream that echoes it) is replaced, so a dump never holds it.
//! Files are created 0600: they hold the users' conversations.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use crate::Error;

const REDACTED: &str = "[REDACTED]";

/// Writes the dump files of one proxy.
pub struct Dumper {
    dir: PathBuf,
    next_sequence: AtomicU64,
    /// What must never reach a dump file.
    secret: &'static [u8],
}

impl Dumper {
    pub fn new(dir: PathBuf, secret: &'static [u8]) -> Result<Self, Error> {
        fs::create_dir_all(&dir).map_err(|error| {
            Error::new(format!(
                "cannot create --dump-dir {}: {error}",
                dir.display()
            ))
        })?;
        Ok(Self {
            dir,
            next_sequence: AtomicU64::new(1),
            secret,
        })
    }

    /// Writes the request file and returns where its answer goes.
    pub fn request<'a>(
        &self,
        method: &str,
        url: &str,
        headers: impl Iterator<Item = (&'a str, &'a [u8])>,
        body: &[u8],
    ) -> ResponseDump<'_> {
        let sequence = self.next_sequence.fetch_add(1, Ordering::Relaxed);
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let prefix = format!("{sequence:06}-{millis}");
        let request = RequestFile {
            method,
            url,
            headers: self.headers(headers),
            body: self.body(body),
        };
        self.write(&self.dir.join(format!("{prefix}-request.json")), &request);
        ResponseDump {
            dumper: self,
            path: self.dir.join(format!("{prefix}-response.json")),
            status: 0,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn headers<'a>(&self, headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<HeaderEntry> {
        headers
            .map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let redact = lower == "authorization"
                    || lower == "proxy-authorization"
                    || lower.contains("cookie");
                let value = if redact {
                    REDACTED.to_owned()
                } else {
                    String::from_utf8_lossy(&self.scrub(value)).into_owned()
                };
                HeaderEntry {
                    name: name.to_owned(),
                    value,
                }
            })
            .collect()
    }

    /// JSON bodies as JSON, anything else as (lossy) text.
    fn body(&self, body: &[u8]) -> Value {
        let body = self.scrub(body);
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    }

    /// `bytes` with every occurrence of the key replaced.
    fn scrub(&self, bytes: &[u8]) -> Vec<u8> {
        let secret = self.secret;
        if secret.is_empty() || bytes.len() < secret.len() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut rest = bytes;
        while !rest.is_empty() {
            if rest.starts_with(secret) {
                out.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[secret.len()..];
            } else {
                out.push(rest[0]);
                rest = &rest[1..];
            }
        }
        out
    }

    /// A dump that cannot be written is reported; the exchange goes on.
    fn write(&self, path: &Path, value: &impl Serialize) {
        let result = serde_json::to_vec_pretty(value)
            .map_err(io::Error::other)
            .and_then(|mut bytes| {
                bytes.push(b'\n');
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options.open(path)?.write_all(&bytes)
            });
        if let Err(error) = result {
            eprintln!(
                "responses-api-proxy: cannot write {}: {error}",
                path.display()
            );
        }
    }
}

/// The answer of one exchange, collected as it streams and written when it
/// ends (or is dropped, when the stream broke).
pub struct ResponseDump<'a> {
    dumper: &'a Dumper,
    path: PathBuf,
    status: u16,
    headers: Vec<HeaderEntry>,
    body: Vec<u8>,
}

impl ResponseDump<'_> {
    pub fn head<'a>(&mut self, status: u16, headers: impl Iterator<Item = (&'a str, &'a [u8])>) {
        self.status = status;
        self.headers = self.dumper.headers(headers);
    }

    pub fn piece(&mut self, data: &[u8]) {
        self.body.extend_from_slice(data);
    }
}

impl Drop for ResponseDump<'_> {
    fn drop(&mut self) {
        let response = ResponseFile {
            status: self.status,
            headers: std::mem::take(&mut self.headers),
            body: self.dumper.body(&self.body),
        };
        self.dumper.write(&self.path, &response);
    }
}

#[derive(Serialize)]
struct RequestFile<'a> {
    method: &'a str,
    url: &'a str,
    headers: Vec<HeaderEntry>,
    body: Value,
}

#[derive(Serialize)]
struct ResponseFile {
    status: u16,
    headers: Vec<HeaderEntry>,
    body: Value,
}

#[derive(Serialize)]
struct HeaderEntry {
    name: String,
    value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<(String, Value)> {
        let mut files: Vec<(String, Value)> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
                (name, value)
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }

    #[test]
    fn an_exchange_is_two_files_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let dumper = Dumper::new(dir.path().join("dumps"), b"sk-secret").unwrap();
        let request_headers: Vec<(&str, &[u8])> = vec![
            ("Authorization", b"Bearer client-token"),
            ("Cookie", b"a=b"),
            ("X-Session-Cookie-Id", b"c"),
            ("Content-Type", b"application/json"),
        ];
        let mut response = dumper.request(
            "POST",
            "/v1/responses",
            request_headers.into_iter(),
            br#"{"model":"m","note":"sk-secret"}"#,
        );
        let response_headers: Vec<(&str, &[u8])> =
            vec![("set-cookie", b"s=1"), ("x-echo", b"Bearer sk-secret")];
        response.head(200, response_headers.into_iter());
        response.piece(b"data: hello ");
        response.piece(b"sk-secret\n\n");
        drop(response);

        let files = files(&dir.path().join("dumps"));
        assert_eq!(files.len(), 2);
        let (request_name, request) = &files[0];
        let (response_name, response) = &files[1];
        assert!(request_name.starts_with("000001-") && request_name.ends_with("-request.json"));
        assert_eq!(
            response_name.replace("-response.json", ""),
            request_name.replace("-request.json", "")
        );
        assert_eq!(
            request,
            &serde_json::json!({
                "method": "POST",
                "url": "/v1/responses",
                "headers": [
                    {"name": "Authorization", "value": "[REDACTED]"},
                    {"name": "Cookie", "value": "[REDACTED]"},
                    {"name": "X-Session-Cookie-Id", "value": "[REDACTED]"},
                    {"name": "Content-Type", "value": "application/json"},
                ],
                "body": {"model": "m", "note": "[REDACTED]"},
            })
        );
        assert_eq!(
            response,
            &serde_json::json!({
                "status": 200,
                "headers": [
                    {"name": "set-cookie", "value": "[REDACTED]"},
                    {"name": "x-echo", "value": "Bearer [REDACTED]"},
                ],
                "body": "data: hello [REDACTED]\n\n",
            })
        );
    }
}
