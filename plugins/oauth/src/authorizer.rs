//! The `Authorization` header of one connection, and what happens when the
//! server refuses it.
//!
//! - Before a request: the stored access token; refreshed first when it
//!   expires within [`REFRESH_SKEW_MS`](crate::store::REFRESH_SKEW_MS).
//! - A login of a grant without refresh tokens (client credentials, ID-JAG)
//!   is "refreshed" by running its grant again.
//! - On 401: one refresh (none again for a minute, so a server that refuses
//!   every token cannot make us refresh in a loop); without a refresh
//!   token, or when the refresh fails, a login if the host allows one now.
//! - On 403 `insufficient_scope`: a step-up login with the challenged
//!   scopes added to those held, if the host allows one now; never for
//!   scopes the login already holds (asking again would only loop).
//!
//! At most [`MAX_LOGINS`] logins per connection, whatever their reason.

use std::time::{Duration, Instant};

use codex_http_common::{Authorizer, BoxFuture, Challenge, HeaderValue};
use codex_plugin_api::{ErrorKind, HostServices, LogLevel, PluginError, PluginResult};
use reqwest::Url;
use tokio::sync::Mutex;

use crate::challenge::{self, BearerChallenge};
use crate::config::{LoginOptions, ServerConfig};
use crate::discovery;
use crate::lock;
use crate::login::{self, Trigger};
use crate::machine;
use crate::net::{Net, REQUEST_TIMEOUT};
use crate::store::{StoredTokens, TokenStore, now_ms};
use crate::token;

/// Logins one connection may start (the MCP specification asks clients to
/// bound step-up attempts; three is what it suggests).
pub const MAX_LOGINS: usize = 3;
/// After a refresh forced by a 401, a second 401 within this time means the
/// server refuses fresh tokens too: no second refresh.
const REFRESH_QUIET: Duration = Duration::from_secs(60);

/// The authorizer of one connection to one server.
pub struct OAuthAuthorizer {
    host: HostServices,
    server: ServerConfig,
    store: TokenStore,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    tokens: Option<StoredTokens>,
    /// When a 401 last made us refresh.
    refreshed_on_401: Option<Instant>,
    logins: usize,
    /// Why the last refresh failed, for the message when no login may start.
    refresh_error: Option<PluginError>,
    /// A refresh of this connection failed: the authorization server will
    /// not take that refresh token again (revoked, expired), so no second
    /// attempt (and no second warning) when the host starts over, e.g. with
    /// `initialize` after `server/discover` was refused.
    refresh_failed: bool,
}

impl OAuthAuthorizer {
    pub fn new(host: HostServices, server: ServerConfig) -> OAuthAuthorizer {
        let store = TokenStore::new(host.clone(), &server.name, server.url());
        OAuthAuthorizer {
            host,
            server,
            store,
            state: Mutex::new(State::default()),
        }
    }

    async fn header(&self) -> PluginResult<Option<HeaderValue>> {
        let mut state = self.state.lock().await;
        if !state.loaded {
            state.tokens = self.store.load()?;
            state.loaded = true;
        }
        let due = !state.refresh_failed
            && state.tokens.as_ref().is_some_and(|tokens| {
                tokens.expiring(now_ms()) && tokens.token_response.refresh_token.is_some()
            });
        if due && let Err(error) = self.refresh(&mut state).await {
            // The old token is sent anyway: the server's 401 then leads to
            // a login, or to this error.
            self.host.log(LogLevel::Warn, &error.message);
            state.refresh_error = Some(error);
            state.refresh_failed = true;
        }
        let Some(tokens) = &state.tokens else {
            return Ok(None);
        };
        let value = format!("Bearer {}", tokens.token_response.access_token.as_str());
        HeaderValue::from_str(&value).map(Some).map_err(|_| {
            PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "the stored access token of MCP server `{}` cannot be sent in a header; run `codex mcp login {0}`",
                    self.server.name
                ),
            )
        })
    }

    async fn renew(&self, challenge: &Challenge) -> PluginResult<bool> {
        let bearer = challenge::bearer(&challenge.www_authenticate).unwrap_or_default();
        let mut state = self.state.lock().await;
        if challenge.status == 403 {
            if !bearer.insufficient_scope() {
                return Ok(false);
            }
            return self.step_up(&mut state, &bearer).await;
        }
        let can_refresh = state.tokens.as_ref().is_some_and(StoredTokens::renewable);
        let quiet = state
            .refreshed_on_401
            .is_some_and(|at| at.elapsed() < REFRESH_QUIET);
        if can_refresh && !quiet && !state.refresh_failed {
            match self.refresh(&mut state).await {
                Ok(()) => {
                    state.refreshed_on_401 = Some(Instant::now());
                    return Ok(true);
                }
                Err(error) => {
                    state.refresh_error = Some(error);
                    state.refresh_failed = true;
                }
            }
        }
        match self.login_options()? {
            Some(options) if state.logins < MAX_LOGINS => {
                self.login(&mut state, &options, &bearer).await?;
                Ok(true)
            }
            _ => match &state.refresh_error {
                Some(error) => Err(error.clone()),
                None => Ok(false),
            },
        }
    }

    /// A 403 `insufficient_scope`.
    async fn step_up(&self, state: &mut State, bearer: &BearerChallenge) -> PluginResult<bool> {
        let name = &self.server.name;
        let held = state
            .tokens
            .as_ref()
            .map(StoredTokens::granted_scopes)
            .unwrap_or_default();
        let needed = bearer.scopes();
        let mut wanted = held.clone();
        for scope in &needed {
            if !wanted.contains(scope) {
                wanted.push(scope.clone());
            }
        }
        if !needed.is_empty() && wanted.len() == held.len() {
            return Err(PluginError::new(
                ErrorKind::Unauthorized,
                format!(
                    "MCP server `{name}` refuses the request for lack of scope `{}`, which the login already holds; logging in again would not help (check the server's and the provider's configuration)",
                    needed.join(" ")
                ),
            ));
        }
        match self.login_options()? {
            Some(options) if state.logins < MAX_LOGINS => {
                self.host.notify_user(&format!(
                    "MCP server `{name}` needs more access (scope `{}`); logging in again.",
                    needed.join(" ")
                ));
                self.login(state, &options, bearer).await?;
                Ok(true)
            }
            Some(_) => Err(PluginError::new(
                ErrorKind::Unauthorized,
                format!(
                    "MCP server `{name}` still asks for more scope after {MAX_LOGINS} logins; giving up"
                ),
            )),
            None => Err(PluginError::new(
                ErrorKind::Unauthorized,
                format!(
                    "MCP server `{name}` needs scope `{}` for this request; run `codex mcp login {name} --scopes {}`, or rerun with `--login`",
                    needed.join(" "),
                    wanted.join(",")
                ),
            )),
        }
    }

    /// The options of a login the host allows now; `None` when it allows none.
    fn login_options(&self) -> PluginResult<Option<LoginOptions>> {
        self.host
            .login_options()
            .map(|json| LoginOptions::parse(&json))
            .transpose()
    }

    async fn login(
        &self,
        state: &mut State,
        options: &LoginOptions,
        bearer: &BearerChallenge,
    ) -> PluginResult<()> {
        state.logins += 1;
        let running = login::login(
            &self.host,
            &self.server,
            options,
            Trigger::Challenged(bearer),
            state.tokens.as_ref(),
        );
        let tokens = tokio::time::timeout(login::DEFAULT_LOGIN_TIMEOUT, running)
            .await
            .map_err(|_| login::timed_out(&self.server, login::DEFAULT_LOGIN_TIMEOUT))??;
        state.tokens = Some(tokens);
        state.loaded = true;
        state.refresh_error = None;
        state.refresh_failed = false;
        Ok(())
    }

    /// Refreshes the tokens under the cross-process lock. When another
    /// process refreshed them meanwhile, its tokens are taken instead.
    async fn refresh(&self, state: &mut State) -> PluginResult<()> {
        let name = &self.server.name;
        let _lock = lock::acquire(
            &self.host.codex_home(),
            self.store.account(),
            lock::REFRESH_LOCK_WAIT,
        )
        .await?;
        let held = state
            .tokens
            .as_ref()
            .map(|tokens| tokens.token_response.access_token.clone());
        let Some(mut current) = self.store.load()?.or_else(|| state.tokens.clone()) else {
            return Err(token::login_expired(name));
        };
        if held.as_ref() != Some(&current.token_response.access_token)
            && !current.expiring(now_ms())
        {
            state.tokens = Some(current);
            return Ok(());
        }
        let net = Net::new(&self.server, REQUEST_TIMEOUT)?;
        let Some(refresh_token) = current.token_response.refresh_token.clone() else {
            // A grant without refresh tokens runs again.
            if !current.renewable() {
                return Err(token::login_expired(name));
            }
            let fresh = machine::renew(&net, &self.server, &current).await?;
            current.renew(fresh, now_ms());
            self.store.save(&current)?;
            self.host.log(
                LogLevel::Debug,
                &format!("obtained a new access token for MCP server `{name}`"),
            );
            state.tokens = Some(current);
            state.refresh_error = None;
            return Ok(());
        };
        let record = current.oauth.clone();
        let endpoint = match record
            .as_ref()
            .map(|record| Url::parse(&record.token_endpoint))
        {
            Some(Ok(endpoint)) => endpoint,
            // A login Codex stored: its endpoint is discovered again.
            _ => {
                discovery::discover(&net, &self.server.http.url, None)
                    .await?
                    .server
                    .token_endpoint
            }
        };
        let resource = record
            .and_then(|record| record.resource)
            .unwrap_or_else(|| discovery::canonical_resource(&self.server.http.url));
        let fresh = token::refresh(
            &net,
            &endpoint,
            &current.client(),
            &refresh_token,
            Some(&resource),
        )
        .await?;
        current.renew(fresh, now_ms());
        self.store.save(&current)?;
        self.host.log(
            LogLevel::Debug,
            &format!("refreshed the OAuth tokens of MCP server `{name}`"),
        );
        state.tokens = Some(current);
        state.refresh_error = None;
        Ok(())
    }
}

impl Authorizer for OAuthAuthorizer {
    fn authorization(&self) -> BoxFuture<'_, PluginResult<Option<HeaderValue>>> {
        Box::pin(self.header())
    }

    fn challenged<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, PluginResult<bool>> {
        Box::pin(self.renew(challenge))
    }
}
