//! `codex-responses-api-proxy`: holds an OpenAI API key on behalf of users who
//! must not see it.
//!
//! A privileged user pipes the key in on stdin and starts the proxy; anyone who
//! can reach `127.0.0.1:PORT` can then send `POST /v1/responses`, which is
//! forwarded upstream with `Authorization: Bearer KEY` added, and the answer
//! streamed back as it arrives. Every other request is refused with 403.
//!
//! Everything is synchronous (one thread per connection, no async runtime),
//! so the process stays small and the one copy of the key stays easy to
//! account for. The binary's `main` is a few lines over [`run`], so the
//! `codex` binary can offer the same thing as `codex responses-api-proxy`;
//! whoever calls [`run`] must have called [`pre_main_hardening`] first.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod args;
mod dump;
mod error;
mod forward;
mod hardening;
mod http;
mod key;
mod server;

pub use args::Args;
pub use error::Error;
pub use hardening::pre_main_hardening;
pub use server::run;
