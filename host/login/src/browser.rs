//! The browser flow: an authorization-code login with PKCE S256 and
//! `state`, the browser sent back to a loopback server on this machine.
//!
//! The server listens on `127.0.0.1:1455` (the redirect URI Codex's client
//! is registered with is `http://localhost:1455/auth/callback`). A busy port
//! is most likely another `codex login` left waiting: it gets `GET /cancel`
//! and the bind is retried (10 times, 200 ms apart); on Codex's own port the
//! second registered port, 1457, is tried the same way; then the login
//! fails with Codex's `Port 127.0.0.1:N is already in use`.
//!
//! Routes: `/auth/callback` (the code: exchanged, checked against the
//! workspace policy, saved, then the browser is sent to `/success`),
//! `/success` (the page that ends the login), `/cancel` (ends it, as another
//! login does). A callback with another `state` is answered 400 and the
//! wait goes on: it is not this login's, and must not end it.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use crate::claims::IdTokenClaims;
use crate::login_log::LoginLog;
use crate::pkce::{Pkce, random_token};
use crate::policy::check_workspace;
use crate::token::{Tokens, exchange_code, obtain_api_key};
use crate::{DEFAULT_PORT, FALLBACK_PORT, LoginError, LoginOptions, http};

/// Codex's scopes.
pub const SCOPES: &str =
    "openid profile email offline_access api.connectors.read api.connectors.invoke";
const BIND_ATTEMPTS: u32 = 10;
const BIND_RETRY: Duration = Duration::from_millis(200);
/// The largest request head read from a browser.
const MAX_REQUEST: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// After the tokens are saved, how long to wait for the browser to load
/// `/success` before the login ends anyway (it is complete).
const SUCCESS_WAIT: Duration = Duration::from_secs(10);

const SUCCESS_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in to \
     Codex</title></head><body><h1>Signed in to Codex</h1><p>You may now close this page and \
     return to your terminal.</p></body></html>";

/// A browser login waiting for its callback.
pub struct BrowserLogin {
    /// The authorization URL for the person to open.
    pub url: String,
    /// The port the loopback server listens on.
    pub port: u16,
    listener: TcpListener,
    pkce: Pkce,
    state: Zeroizing<String>,
    redirect_uri: String,
    options: LoginOptions,
    log: LoginLog,
}

/// Binds the loopback server and makes the authorization URL.
pub async fn start(options: LoginOptions) -> Result<BrowserLogin, LoginError> {
    options.check_issuer()?;
    let listener = bind(options.port).await?;
    let port = listener
        .local_addr()
        .map_err(|_| LoginError::PortInUse("Unable to determine the server port".to_owned()))?
        .port();
    let pkce = Pkce::generate()?;
    let state = random_token(32)?;
    let redirect_uri = format!("http://{}:{port}/auth/callback", options.redirect_host);
    let url = authorize_url(&options, &redirect_uri, &pkce.challenge, &state);
    Ok(BrowserLogin {
        url,
        port,
        listener,
        pkce,
        state,
        redirect_uri,
        options,
        log: LoginLog::default(),
    })
}

/// `{issuer}/oauth/authorize?...` with Codex's parameters.
pub fn authorize_url(
    options: &LoginOptions,
    redirect_uri: &str,
    challenge: &str,
    state: &str,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &options.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("id_token_add_organizations", "true")
        .append_pair("codex_cli_simplified_flow", "true")
        .append_pair("state", state)
        .append_pair("originator", &options.originator);
    if let Some(workspaces) = &options.allowed_workspaces {
        query.append_pair("allowed_workspace_id", &workspaces.join(","));
    }
    // Codex encodes spaces as %20; a `+` means the same in a query.
    let query = query.finish().replace('+', "%20");
    format!("{}/oauth/authorize?{query}", options.issuer)
}

async fn bind(port: u16) -> Result<TcpListener, LoginError> {
    let mut current = port;
    let mut cancelled = false;
    loop {
        for _ in 0..BIND_ATTEMPTS {
            match TcpListener::bind(("127.0.0.1", current)).await {
                Ok(listener) => return Ok(listener),
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
                    if !cancelled {
                        cancelled = true;
                        send_cancel(current).await;
                    }
                    tokio::time::sleep(BIND_RETRY).await;
                }
                Err(error) => {
                    return Err(LoginError::PortInUse(format!(
                        "cannot listen on 127.0.0.1:{current}: {error}"
                    )));
                }
            }
        }
        if current == DEFAULT_PORT {
            current = FALLBACK_PORT;
            continue;
        }
        return Err(LoginError::PortInUse(format!(
            "Port 127.0.0.1:{current} is already in use. Another program holds it (an earlier \
             `codex login` that did not answer /cancel?); end it, or log in with `codex login \
             --device-auth`."
        )));
    }
}

/// Asks whatever holds `port` to end its login (an earlier `codex login`).
async fn send_cancel(port: u16) {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(
                format!(
                    "GET /cancel HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut buffer = [0u8; 64];
        let _ = stream.read(&mut buffer).await;
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), attempt).await;
}

/// One request from the browser: its path and query, and where to answer.
struct Incoming {
    path: String,
    query: Zeroizing<String>,
    stream: TcpStream,
}

impl BrowserLogin {
    /// Writes what the callbacks look like (never their values) to `log`.
    pub fn with_log(mut self, log: LoginLog) -> BrowserLogin {
        self.log = log;
        self
    }

    /// Serves the loopback routes until the login ends. `save` is given the
    /// tokens (and the API key the token exchange gave, if any) before the
    /// browser sees `/success`; `notice` gets what the person should know
    /// while waiting (a refused callback).
    pub async fn finish(
        self,
        mut save: impl FnMut(&Tokens, Option<&str>) -> Result<(), String>,
        notice: impl Fn(&str),
    ) -> Result<IdTokenClaims, LoginError> {
        let BrowserLogin {
            port,
            listener,
            pkce,
            state,
            redirect_uri,
            options,
            log,
            ..
        } = self;
        let client = http::client(&options.originator)?;
        let (sender, mut receiver) = mpsc::channel::<Incoming>(16);
        let acceptor = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let sender = sender.clone();
                tokio::spawn(read_request(stream, peer, sender));
            }
        });
        let _stop_accepting = AbortOnDrop(acceptor);

        let mut completed: Option<IdTokenClaims> = None;
        loop {
            let next = match &completed {
                Some(_) => tokio::time::timeout(SUCCESS_WAIT, receiver.recv())
                    .await
                    .unwrap_or_default(),
                None => receiver.recv().await,
            };
            let Some(mut incoming) = next else {
                return completed.ok_or(LoginError::Cancelled);
            };
            match incoming.path.as_str() {
                "/auth/callback" if completed.is_none() => {
                    let params: Vec<(String, Zeroizing<String>)> =
                        url::form_urlencoded::parse(incoming.query.as_bytes())
                            .map(|(key, value)| {
                                (key.into_owned(), Zeroizing::new(value.into_owned()))
                            })
                            .collect();
                    let get = |name: &str| {
                        params
                            .iter()
                            .find(|(key, _)| key == name)
                            .map(|(_, value)| value.as_str())
                            .filter(|value| !value.is_empty())
                    };
                    let shape = format!(
                        "path=/auth/callback has_code={} has_state={} has_error={}",
                        get("code").is_some(),
                        get("state").is_some(),
                        get("error").is_some()
                    );
                    let state_valid = get("state") == Some(state.as_str());
                    log.info(
                        "codex_login::server",
                        &format!("received login callback {shape} state_valid={state_valid}"),
                    );
                    if !state_valid {
                        log.warn(
                            "codex_login::server",
                            &format!("login callback state mismatch {shape}"),
                        );
                        respond(&mut incoming.stream, 400, "text/plain", "State mismatch").await;
                        notice(
                            "Ignored a callback with the wrong `state` (not this login's); still \
                             waiting for the browser.",
                        );
                        continue;
                    }
                    let outcome = match (get("error"), get("code")) {
                        (Some(error), _) => Err(LoginError::Denied(callback_error_message(
                            error,
                            get("error_description"),
                        ))),
                        (None, None) => Err(LoginError::Denied(
                            "Missing authorization code. Sign-in could not be completed."
                                .to_owned(),
                        )),
                        (None, Some(code)) => {
                            let exchange = Exchange {
                                client: &client,
                                options: &options,
                                redirect_uri: &redirect_uri,
                                verifier: &pkce.verifier,
                            };
                            exchange.complete(code, &mut save).await
                        }
                    };
                    match outcome {
                        Ok(claims) => {
                            let location =
                                format!("http://{}:{port}/success", options.redirect_host);
                            redirect(&mut incoming.stream, &location).await;
                            completed = Some(claims);
                        }
                        Err(error) => {
                            respond(
                                &mut incoming.stream,
                                200,
                                "text/html; charset=utf-8",
                                &error_page(&error.to_string()),
                            )
                            .await;
                            return Err(error);
                        }
                    }
                }
                "/auth/callback" => {
                    respond(
                        &mut incoming.stream,
                        400,
                        "text/plain",
                        "This login is already complete",
                    )
                    .await;
                }
                "/success" if completed.is_some() => {
                    respond(
                        &mut incoming.stream,
                        200,
                        "text/html; charset=utf-8",
                        SUCCESS_PAGE,
                    )
                    .await;
                    return completed.ok_or(LoginError::Cancelled);
                }
                "/success" => {
                    respond(
                        &mut incoming.stream,
                        404,
                        "text/plain",
                        "No login has completed here yet",
                    )
                    .await;
                }
                "/cancel" => {
                    respond(&mut incoming.stream, 200, "text/plain", "Login cancelled").await;
                    return match completed {
                        Some(claims) => Ok(claims),
                        None => Err(LoginError::Cancelled),
                    };
                }
                _ => respond(&mut incoming.stream, 404, "text/plain", "Not Found").await,
            }
        }
    }
}

/// What the exchange of this login's code needs.
struct Exchange<'a> {
    client: &'a reqwest::Client,
    options: &'a LoginOptions,
    redirect_uri: &'a str,
    verifier: &'a str,
}

impl Exchange<'_> {
    /// Exchange, workspace check, API key, save.
    async fn complete(
        &self,
        code: &str,
        save: &mut impl FnMut(&Tokens, Option<&str>) -> Result<(), String>,
    ) -> Result<IdTokenClaims, LoginError> {
        let tokens = exchange_code(
            self.client,
            self.options,
            self.redirect_uri,
            self.verifier,
            code,
        )
        .await?;
        let claims = check_workspace(self.options.allowed_workspaces.as_deref(), &tokens.id_token)?;
        let api_key = obtain_api_key(self.client, self.options, &tokens.id_token).await;
        save(&tokens, api_key.as_deref().map(String::as_str)).map_err(|error| {
            LoginError::Save(format!(
                "Sign-in completed but credentials could not be saved locally: {error}"
            ))
        })?;
        Ok(claims)
    }
}

/// Codex's text for an error callback.
fn callback_error_message(error: &str, description: Option<&str>) -> String {
    let description = description.map(str::trim).filter(|text| !text.is_empty());
    if error == "access_denied"
        && description.is_some_and(|text| {
            text.to_ascii_lowercase()
                .contains("missing_codex_entitlement")
        })
    {
        return "Codex is not enabled for your workspace. Contact your workspace administrator to \
                request access to Codex."
            .to_owned();
    }
    match description {
        Some(description) => format!("Sign-in failed: {description}"),
        None => format!("Sign-in failed: {error}"),
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads one request head; hands GET requests on (others get 405).
async fn read_request(mut stream: TcpStream, peer: SocketAddr, sender: mpsc::Sender<Incoming>) {
    if !peer.ip().is_loopback() {
        return;
    }
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let read = tokio::time::timeout(REQUEST_WAIT, async {
        let mut buffer = [0u8; 2048];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < MAX_REQUEST {
            let count = stream.read(&mut buffer).await?;
            if count == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..count]);
        }
        Ok::<(), std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return;
    }
    let line_end = head
        .iter()
        .position(|byte| *byte == b'\r')
        .unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        respond(&mut stream, 400, "text/plain", "Bad Request").await;
        return;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        respond(&mut stream, 400, "text/plain", "Bad Request").await;
        return;
    };
    if method != "GET" {
        respond(&mut stream, 405, "text/plain", "Method Not Allowed").await;
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let incoming = Incoming {
        path: path.to_owned(),
        query: Zeroizing::new(query.to_owned()),
        stream,
    };
    let _ = sender.send(incoming).await;
}

async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn redirect(stream: &mut TcpStream, location: &str) {
    let answer = format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn error_page(message: &str) -> String {
    let mut escaped = String::with_capacity(message.len());
    for ch in message.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(ch),
        }
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in could not be \
         completed</title></head><body><h1>Sign-in could not be completed</h1><p>{escaped}</p>\
         <p>Return to Codex to retry.</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_url_has_codexs_parameters() {
        let mut options = LoginOptions::new("https://auth.example.com", "app_1");
        options.originator = "codex_cli_rs".into();
        options.allowed_workspaces = Some(vec!["ws-1".into(), "ws-2".into()]);
        let url = authorize_url(&options, "http://localhost:1455/auth/callback", "CH", "ST");
        assert_eq!(
            url,
            "https://auth.example.com/oauth/authorize?response_type=code&client_id=app_1\
             &redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback\
             &scope=openid%20profile%20email%20offline_access%20api.connectors.read%20api.connectors.invoke\
             &code_challenge=CH&code_challenge_method=S256&id_token_add_organizations=true\
             &codex_cli_simplified_flow=true&state=ST&originator=codex_cli_rs\
             &allowed_workspace_id=ws-1%2Cws-2"
        );
    }

    #[test]
    fn error_callbacks_read_as_codexs() {
        assert_eq!(
            callback_error_message("access_denied", Some("user said no")),
            "Sign-in failed: user said no"
        );
        assert_eq!(
            callback_error_message("server_error", None),
            "Sign-in failed: server_error"
        );
        assert!(
            callback_error_message("access_denied", Some("MISSING_CODEX_ENTITLEMENT"))
                .starts_with("Codex is not enabled")
        );
        assert_eq!(error_page("<b>"), error_page("<b>"));
        assert!(error_page("<script>").contains("&lt;script&gt;"));
    }
}
