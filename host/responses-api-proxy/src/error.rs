//! The one error type: a single line that says what failed and how to fix it.

use std::fmt;

/// A reason the proxy cannot start or go on. Printed once, as one line, by
/// the binary; it never holds the API key.
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
