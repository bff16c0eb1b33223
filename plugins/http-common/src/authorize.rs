//! The hook through which a transport that authorizes (the `oauth` plugin)
//! puts an `Authorization` header on every request and renews it when the
//! server refuses it.
//!
//! The HTTP code owns the retry loop and its bound; the authorizer owns
//! everything OAuth (tokens, refresh, step-up, logins), so neither knows
//! the other's details.

use std::future::Future;
use std::pin::Pin;

use codex_plugin_api::PluginResult;
use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};

/// A boxed future, so that [`Authorizer`] can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Times one request is sent again after [`Authorizer::challenged`] asked
/// for it (a refresh, then step-ups), so a server that refuses every token
/// cannot keep a request going.
pub const MAX_AUTHORIZED_RESENDS: usize = 4;

/// What a server answered when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// 401 or 403.
    pub status: u16,
    /// Every `WWW-Authenticate` value of the answer, in order.
    pub www_authenticate: Vec<String>,
}

impl Challenge {
    /// The challenge of `response`, when it is a 401 or 403.
    pub fn of(response: &Response) -> Option<Challenge> {
        let status = response.status();
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return None;
        }
        let www_authenticate = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect();
        Some(Challenge {
            status: status.as_u16(),
            www_authenticate,
        })
    }
}

/// Supplies the `Authorization` header of a connection's requests.
pub trait Authorizer: Send + Sync + 'static {
    /// The header value for the next request (refreshed first when it is
    /// about to expire); `None` sends no `Authorization` header.
    fn authorization(&self) -> BoxFuture<'_, PluginResult<Option<HeaderValue>>>;

    /// The server answered 401 or 403. Renew what is needed (refresh,
    /// authorize again) and answer `true` to send the request again, or
    /// `false` to give up: the request then fails with the usual message.
    fn challenged<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, PluginResult<bool>>;
}
