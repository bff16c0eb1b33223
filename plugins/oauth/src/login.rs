//! One login: find the authorization server, choose the scopes and the
//! resource, then by the login's grant: the authorization-code flow (OAuth
//! 2.1 with PKCE, as MCP specifies it: register the client, send the user
//! to the authorization endpoint, take the code from the loopback callback
//! or a pasted URL, exchange it), the device flow (`device`), or a grant
//! without a person (`machine`); and store the tokens.
//!
//! A login starts from `codex mcp login`, from the login `codex mcp add`
//! starts, or from a connection whose server refused its token (a 401 with
//! nothing to refresh, or a 403 `insufficient_scope`: a step-up).

use std::time::Duration;

use codex_http_common::config::display_url;
use codex_plugin_api::{ErrorKind, HostServices, LogLevel, PluginError, PluginResult};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::assertion::SigningKey;
use crate::callback::{self, Expected, Listener, Verdict};
use crate::challenge::{self, BearerChallenge};
use crate::config::{Grant, LoginOptions, ServerConfig};
use crate::device;
use crate::discovery::{self, Discovered};
use crate::machine;
use crate::net::{Net, REQUEST_TIMEOUT};
use crate::pkce::{Pkce, random_token};
use crate::registration::{self, AuthMethod, Client, KeyRef};
use crate::store::{OAuthRecord, StoredTokens, TokenStore, now_ms};
use crate::token::{self, TokenResponse};

/// How long a login may take when the host gives no deadline.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a login happens.
#[derive(Clone, Copy)]
pub enum Trigger<'a> {
    /// The user asked for it (`mcp login`, `mcp add`).
    Requested,
    /// The server refused a request with this challenge (401, or 403
    /// `insufficient_scope`).
    Challenged(&'a BearerChallenge),
}

/// Logs in to `server` and stores the tokens; `previous` is the login it
/// replaces (its client is reused when it still fits, and a step-up keeps
/// its scopes).
pub async fn login(
    host: &HostServices,
    server: &ServerConfig,
    options: &LoginOptions,
    trigger: Trigger<'_>,
    previous: Option<&StoredTokens>,
) -> PluginResult<StoredTokens> {
    let options = &options.for_server(server)?;
    let net = Net::new(server, REQUEST_TIMEOUT)?;
    let challenge = match trigger {
        Trigger::Challenged(challenge) => Some(challenge.clone()),
        Trigger::Requested => probe_challenge(&net, &server.http.url).await,
    };
    let discovered = discovery::discover(&net, &server.http.url, challenge.as_ref()).await?;
    let scopes = choose_scopes(options, server, challenge.as_ref(), previous, &discovered);
    let attempt = Attempt {
        host,
        server,
        options,
        net: &net,
        discovered: &discovered,
        previous,
    };
    match attempt.run(scopes.requested.clone()).await {
        Err(error) if scopes.discovered && error.message.contains("invalid_scope") => {
            // As Codex does: a provider may refuse the scopes its own
            // metadata advertises; one more try without any.
            host.notify_user("OAuth provider rejected discovered scopes. Retrying without scopes…");
            attempt.run(None).await
        }
        outcome => outcome,
    }
}

/// The scopes of a login, and whether they were only discovered.
struct Scopes {
    requested: Option<Vec<String>>,
    discovered: bool,
}

/// The scopes to ask for, the first that applies: `--scopes`; for a
/// step-up, what the earlier login had and what the challenge names; the
/// server's `scopes`; else, as Codex does, the protected resource's
/// `scopes_supported`, after the scopes the challenge names (the scopes of
/// this request first); none.
fn choose_scopes(
    options: &LoginOptions,
    server: &ServerConfig,
    challenge: Option<&BearerChallenge>,
    previous: Option<&StoredTokens>,
    discovered: &Discovered,
) -> Scopes {
    let given = |scopes: Vec<String>| Scopes {
        requested: Some(scopes).filter(|scopes| !scopes.is_empty()),
        discovered: false,
    };
    if let Some(scopes) = &options.scopes {
        return given(scopes.clone());
    }
    let challenged = challenge.map(BearerChallenge::scopes).unwrap_or_default();
    if let (Some(previous), Some(challenge)) = (previous, challenge)
        && challenge.insufficient_scope()
        && !challenged.is_empty()
    {
        return given(merged(previous.granted_scopes(), challenged));
    }
    if let Some(scopes) = &server.scopes {
        return given(scopes.clone());
    }
    let advertised = !discovered.resource_scopes.is_empty();
    let scopes = merged(challenged, discovered.resource_scopes.clone());
    Scopes {
        requested: Some(scopes).filter(|scopes| !scopes.is_empty()),
        // A provider may refuse what is only advertised: then one more try
        // without scopes (see `login`).
        discovered: advertised,
    }
}

/// `first`, then what `more` adds to it, each scope once.
fn merged(mut first: Vec<String>, more: Vec<String>) -> Vec<String> {
    for scope in more {
        if !first.contains(&scope) {
            first.push(scope);
        }
    }
    first
}

/// The challenge of the server to an unauthenticated `initialize`, when it
/// refuses one. A session it opens instead is closed again.
async fn probe_challenge(net: &Net, url: &Url) -> Option<BearerChallenge> {
    let headers = vec![
        (
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        ),
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
    ];
    let response = net
        .send(
            Method::POST,
            url,
            headers,
            Some(codex_http_common::auth_probe::initialize_request()),
        )
        .await
        .ok()?;
    if let Some(refused) = codex_http_common::Challenge::of(&response) {
        return challenge::bearer(&refused.www_authenticate);
    }
    let session = response.headers().get("mcp-session-id").cloned();
    drop(response);
    if let Some(session) = session {
        let header = (HeaderName::from_static("mcp-session-id"), session);
        // A courtesy to the server; the login does not depend on it.
        let _ = net.send(Method::DELETE, url, vec![header], None).await;
    }
    None
}

/// What every try of one login shares.
struct Attempt<'a> {
    host: &'a HostServices,
    server: &'a ServerConfig,
    options: &'a LoginOptions,
    net: &'a Net,
    discovered: &'a Discovered,
    previous: Option<&'a StoredTokens>,
}

impl Attempt<'_> {
    /// One authorization with `scopes` by the login's grant, up to the
    /// stored tokens.
    async fn run(&self, scopes: Option<Vec<String>>) -> PluginResult<StoredTokens> {
        match self.options.grant {
            Grant::AuthorizationCode => self.run_code(scopes).await,
            Grant::ClientCredentials | Grant::IdJag => self.run_machine(scopes).await,
            Grant::Device => self.run_device(scopes).await,
        }
    }

    /// The browser flow.
    async fn run_code(&self, scopes: Option<Vec<String>>) -> PluginResult<StoredTokens> {
        let auth_server = &self.discovered.server;
        let record = self.previous.and_then(|previous| previous.oauth.as_ref());
        let same_issuer = record.is_some_and(|record| record.issuer == auth_server.issuer);
        let reuse_port = record
            .filter(|_| same_issuer)
            .and_then(|record| record.redirect_uri.as_deref())
            .and_then(|uri| Url::parse(uri).ok())
            .and_then(|uri| uri.port());
        let listener = Listener::bind(self.options, reuse_port).await?;
        let redirect_uri = listener.redirect_uri.clone();
        let client = match self.previous {
            // The client registered for the earlier login, when nothing
            // about it changed: same issuer, same redirect URI.
            Some(previous)
                if self.options.client_id.is_none()
                    && same_issuer
                    && record.and_then(|record| record.redirect_uri.as_deref())
                        == Some(redirect_uri.as_str()) =>
            {
                previous.client()
            }
            _ => {
                registration::register(self.net, auth_server, self.options, Some(&redirect_uri))
                    .await?
            }
        };
        let resource = self.resource();
        let pkce = Pkce::new()?;
        let state = random_token()?;
        let url = authorization_url(
            &auth_server.authorization_endpoint,
            &client,
            &redirect_uri,
            &pkce,
            &state,
            &resource,
            scopes.as_deref(),
        );
        let expected = Expected {
            server: &self.server.name,
            state: &state,
            issuer: &auth_server.issuer,
            iss_required: auth_server.iss_parameter,
        };
        let code = self
            .authorize(&url, &listener, &expected, &redirect_uri)
            .await?;
        let tokens = token::exchange(
            self.net,
            &auth_server.token_endpoint,
            &client,
            &code,
            &redirect_uri,
            &pkce.verifier,
            &resource,
        )
        .await?;
        let record = OAuthRecord {
            redirect_uri: Some(redirect_uri),
            ..OAuthRecord::default()
        };
        self.save(&client, tokens, scopes, resource, record)
    }

    /// A login without a person: the client-credentials grant, or an ID
    /// token exchanged for an ID-JAG and that for tokens.
    async fn run_machine(&self, scopes: Option<Vec<String>>) -> PluginResult<StoredTokens> {
        let auth_server = &self.discovered.server;
        let client = self.machine_client()?;
        let resource = self.resource();
        let mut record = OAuthRecord {
            grant: Some(self.options.grant.as_str().to_owned()),
            private_key_file: self.options.private_key_file.clone(),
            signing_algorithm: self.options.signing_algorithm.clone(),
            ..OAuthRecord::default()
        };
        let tokens = if self.options.grant == Grant::IdJag {
            let name = &self.server.name;
            let missing = |flag: &str| {
                PluginError::invalid_config(format!(
                    "an enterprise (ID-JAG) login to MCP server `{name}` needs {flag}"
                ))
            };
            let idp_url = self
                .options
                .idp_url
                .as_deref()
                .ok_or_else(|| missing("the identity provider's issuer (`--idp-url URL`)"))?;
            let id_token_file = self
                .options
                .id_token_file
                .as_deref()
                .ok_or_else(|| missing("the user's ID token (`--id-token-file FILE`)"))?;
            let idp_token_endpoint = discovery::idp_token_endpoint(self.net, idp_url).await?;
            let idp = machine::IdentityProvider {
                token_endpoint: &idp_token_endpoint,
                client_id: self.options.idp_client_id.as_deref(),
                id_token_file,
            };
            let tokens = machine::id_jag(
                self.net,
                &idp,
                &auth_server.issuer,
                &auth_server.token_endpoint,
                &client,
                scopes.as_deref(),
                &resource,
            )
            .await?;
            record.id_token_file = Some(id_token_file.to_owned());
            record.idp_token_endpoint = Some(idp_token_endpoint.to_string());
            record.idp_client_id = self.options.idp_client_id.clone();
            tokens
        } else {
            machine::client_credentials(
                self.net,
                &auth_server.token_endpoint,
                &client,
                scopes.as_deref(),
                &resource,
            )
            .await?
        };
        self.save(&client, tokens, scopes, resource, record)
    }

    /// The client of a login without a person: the client ID of the flags
    /// or the server's `[oauth]` table, authenticated by its private key,
    /// else its secret (an ID-JAG login may also use a public client).
    fn machine_client(&self) -> PluginResult<Client> {
        let auth_server = &self.discovered.server;
        let name = &self.server.name;
        let Some(client_id) = self.options.client_id.clone() else {
            return Err(PluginError::invalid_config(format!(
                "a {} login to MCP server `{name}` needs the client ID registered with its authorization server: `--client-id ID`, or `client_id` in [mcp_servers.{name}.oauth]",
                if self.options.grant == Grant::IdJag {
                    "enterprise (ID-JAG)"
                } else {
                    "client-credentials"
                }
            )));
        };
        if let Some(file) = &self.options.private_key_file {
            // Read now, so that a bad key fails before any request.
            SigningKey::load(file, self.options.signing_algorithm.as_deref())?;
            return Ok(Client {
                client_id,
                client_secret: None,
                auth_method: AuthMethod::PrivateKeyJwt,
                private_key: Some(KeyRef {
                    file: file.clone(),
                    algorithm: self.options.signing_algorithm.clone(),
                    audience: auth_server.issuer.clone(),
                }),
            });
        }
        match &self.options.client_secret {
            Some(secret) => Ok(Client {
                client_id,
                client_secret: Some(secret.clone()),
                auth_method: registration::secret_method(&auth_server.auth_methods),
                private_key: None,
            }),
            None if self.options.grant == Grant::IdJag => Ok(Client::public(client_id)),
            None => Err(PluginError::invalid_config(format!(
                "a client-credentials login to MCP server `{name}` needs the client's secret on stdin (`--client-secret-stdin`) or its private key (`--private-key FILE`)"
            ))),
        }
    }

    /// The device flow (RFC 8628).
    async fn run_device(&self, scopes: Option<Vec<String>>) -> PluginResult<StoredTokens> {
        let auth_server = &self.discovered.server;
        let name = &self.server.name;
        let Some(endpoint) = &auth_server.device_authorization_endpoint else {
            return Err(device::unsupported(name, &auth_server.issuer));
        };
        let record = self.previous.and_then(|previous| previous.oauth.as_ref());
        let client = match self.previous {
            // The client registered for an earlier device login.
            Some(previous)
                if self.options.client_id.is_none()
                    && record.is_some_and(|record| {
                        record.issuer == auth_server.issuer
                            && record.grant.as_deref() == Some(Grant::Device.as_str())
                    }) =>
            {
                previous.client()
            }
            _ => registration::register(self.net, auth_server, self.options, None).await?,
        };
        let resource = self.resource();
        let code =
            device::request(self.net, endpoint, &client, scopes.as_deref(), &resource).await?;
        self.host.notify_user(&device::instructions(name, &code));
        let tokens = device::wait(
            self.host,
            self.net,
            &auth_server.token_endpoint,
            &client,
            &code,
            &resource,
        )
        .await?;
        let record = OAuthRecord {
            grant: Some(Grant::Device.as_str().to_owned()),
            ..OAuthRecord::default()
        };
        self.save(&client, tokens, scopes, resource, record)
    }

    /// Stores the tokens of `client` with `record` (its grant-specific
    /// fields) completed.
    fn save(
        &self,
        client: &Client,
        tokens: TokenResponse,
        scopes: Option<Vec<String>>,
        resource: String,
        record: OAuthRecord,
    ) -> PluginResult<StoredTokens> {
        let auth_server = &self.discovered.server;
        let mut stored = StoredTokens {
            server_name: self.server.name.clone(),
            url: self.server.url().to_owned(),
            issuer: Some(auth_server.issuer.clone()),
            client_id: client.client_id.clone(),
            token_response: tokens.clone(),
            expires_at: None,
            oauth: Some(OAuthRecord {
                issuer: auth_server.issuer.clone(),
                token_endpoint: auth_server.token_endpoint.to_string(),
                revocation_endpoint: auth_server.revocation_endpoint.as_ref().map(Url::to_string),
                client_secret: client.client_secret.clone(),
                token_endpoint_auth_method: client.auth_method.as_str().to_owned(),
                resource: Some(resource),
                scopes: scopes.unwrap_or_default(),
                ..record
            }),
        };
        stored.renew(tokens, now_ms());
        TokenStore::new(self.host.clone(), &self.server.name, self.server.url()).save(&stored)?;
        Ok(stored)
    }

    /// The resource (RFC 8707) to ask tokens for: `--oauth-resource`, the
    /// server's `oauth_resource`, the protected resource's own name, or the
    /// server's URL.
    fn resource(&self) -> String {
        self.options
            .resource
            .clone()
            .or_else(|| self.server.oauth_resource.clone())
            .or_else(|| self.discovered.resource.clone())
            .unwrap_or_else(|| discovery::canonical_resource(&self.server.http.url))
    }

    /// Sends the user to `url` and waits for the code: from the listener,
    /// or, with `--no-browser`, from the listener or a pasted URL,
    /// whichever comes first.
    async fn authorize(
        &self,
        url: &Url,
        listener: &Listener,
        expected: &Expected<'_>,
        redirect_uri: &str,
    ) -> PluginResult<Zeroizing<String>> {
        let name = &self.server.name;
        let host = self.host;
        if self.options.no_browser {
            host.notify_user(&format!(
                "To log in to MCP server `{name}`, open this URL in a browser:\n\n  {url}\n\nAfter you approve, the browser goes to {redirect_uri}; if that page does not load, copy the address it shows and paste it here."
            ));
            let pasted = read_pasted(host.clone(), expected, redirect_uri);
            tokio::select! {
                code = listener.wait(expected) => code,
                Some(code) = pasted => code,
            }
        } else {
            host.notify_user(&format!(
                "Opening the browser to log in to MCP server `{name}`. If it does not open, visit:\n\n  {url}\n"
            ));
            if let Err(error) = host.open_url(url.as_str()) {
                host.log(
                    LogLevel::Warn,
                    &format!(
                        "cannot open a browser ({}); open the URL above by hand, or use `codex mcp login {name} --no-browser`",
                        error.message
                    ),
                );
            }
            listener.wait(expected).await
        }
    }
}

/// Reads pasted callback URLs on a thread of its own (reading a line blocks
/// and cannot be cancelled) until one is this login's answer. Resolves to
/// `None` when nothing can be read (no terminal, end of input): the
/// listener is then the only way in.
fn read_pasted(
    host: HostServices,
    expected: &Expected<'_>,
    redirect_uri: &str,
) -> impl Future<Output = Option<PluginResult<Zeroizing<String>>>> + use<> {
    let (sender, receiver) = oneshot::channel();
    let server = expected.server.to_owned();
    let state = Zeroizing::new(expected.state.to_owned());
    let issuer = expected.issuer.to_owned();
    let iss_required = expected.iss_required;
    let redirect_uri = redirect_uri.to_owned();
    let spawned = std::thread::Builder::new()
        .name("oauth-paste".into())
        .spawn(move || {
            let expected = Expected {
                server: &server,
                state: &state,
                issuer: &issuer,
                iss_required,
            };
            let outcome = loop {
                let Ok(line) = host.read_line("Paste the URL the browser ended at: ") else {
                    break None;
                };
                let line = Zeroizing::new(line);
                if line.trim().is_empty() {
                    break None;
                }
                match callback::judge_pasted(&line, &redirect_uri, &expected) {
                    Verdict::Code(code) => break Some(Ok(code)),
                    Verdict::Failed(error) => break Some(Err(error)),
                    Verdict::Refused(reason) => host.notify_user(&reason),
                }
            };
            let _ = sender.send(outcome);
        });
    async move {
        if spawned.is_err() {
            return None;
        }
        receiver.await.ok().flatten()
    }
}

/// The authorization request (RFC 6749 section 4.1.1, with PKCE and RFC 8707).
fn authorization_url(
    endpoint: &Url,
    client: &Client,
    redirect_uri: &str,
    pkce: &Pkce,
    state: &str,
    resource: &str,
    scopes: Option<&[String]>,
) -> Url {
    let mut url = endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state)
            .append_pair("resource", resource);
        if let Some(scopes) = scopes.filter(|scopes| !scopes.is_empty()) {
            query.append_pair("scope", &scopes.join(" "));
        }
    }
    url
}

/// The error of a login that did not finish within `timeout`.
pub fn timed_out(server: &ServerConfig, timeout: Duration) -> PluginError {
    PluginError::new(
        ErrorKind::Timeout,
        format!(
            "the login to MCP server `{}` ({}) did not finish within {} s; run `codex mcp login {0}` to try again (`--no-browser` prints the URL to open elsewhere)",
            server.name,
            display_url(&server.http.url),
            timeout.as_secs()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::AuthServer;

    fn server(scopes: Option<Vec<&str>>) -> ServerConfig {
        let mut table = serde_json::json!({"url": "https://mcp.example.com/mcp"});
        if let Some(scopes) = scopes {
            table["scopes"] = scopes.into();
        }
        ServerConfig::parse("docs", &table.to_string()).unwrap()
    }

    fn discovered(resource_scopes: &[&str]) -> Discovered {
        let url = |path: &str| Url::parse(&format!("https://as.example.com{path}")).unwrap();
        Discovered {
            server: AuthServer {
                issuer: "https://as.example.com".into(),
                authorization_endpoint: url("/authorize"),
                token_endpoint: url("/token"),
                registration_endpoint: None,
                revocation_endpoint: None,
                auth_methods: Vec::new(),
                client_id_metadata_documents: false,
                iss_parameter: false,
                device_authorization_endpoint: None,
            },
            resource: None,
            resource_scopes: resource_scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn challenge(header: &str) -> BearerChallenge {
        challenge::bearer(&[header.to_owned()]).unwrap()
    }

    fn previous(scope: &str) -> StoredTokens {
        serde_json::from_value(serde_json::json!({
            "server_name": "docs", "url": "https://mcp.example.com/mcp", "client_id": "c",
            "token_response": {"access_token": "a", "token_type": "bearer", "scope": scope}
        }))
        .unwrap()
    }

    fn chosen(scopes: Scopes) -> (Option<String>, bool) {
        (scopes.requested.map(|s| s.join(" ")), scopes.discovered)
    }

    #[test]
    fn scopes_come_from_the_first_source_that_has_them() {
        let options = LoginOptions::default();
        let flagged = LoginOptions {
            scopes: Some(vec!["x".into()]),
            ..LoginOptions::default()
        };
        let plain = server(None);
        let configured = server(Some(vec!["c1", "c2"]));
        let asked = challenge(r#"Bearer scope="mcp:basic""#);
        let step_up = challenge(r#"Bearer error="insufficient_scope", scope="mcp:write""#);
        let old = previous("mcp:basic");
        let found = discovered(&["s1", "s2"]);
        let cases = [
            (&flagged, &configured, Some(&asked), None, ("x", false)),
            // Configured scopes win over a first challenge, as in Codex.
            (&options, &configured, Some(&asked), None, ("c1 c2", false)),
            (
                &options,
                &plain,
                Some(&step_up),
                Some(&old),
                ("mcp:basic mcp:write", false),
            ),
            (
                &options,
                &configured,
                Some(&step_up),
                Some(&old),
                ("mcp:basic mcp:write", false),
            ),
            (&options, &configured, None, None, ("c1 c2", false)),
            (&options, &plain, None, None, ("s1 s2", true)),
            // The challenge's scope first, then what is advertised.
            (
                &options,
                &plain,
                Some(&asked),
                None,
                ("mcp:basic s1 s2", true),
            ),
        ];
        for (options, server, challenge, previous, (expected, discovered)) in cases {
            let scopes = choose_scopes(options, server, challenge, previous, &found);
            assert_eq!(chosen(scopes), (Some(expected.to_owned()), discovered));
        }
        let only_challenge = choose_scopes(&options, &plain, Some(&asked), None, &discovered(&[]));
        assert_eq!(chosen(only_challenge), (Some("mcp:basic".into()), false));
        let none = choose_scopes(&options, &plain, None, None, &discovered(&[]));
        assert_eq!(chosen(none), (None, false));
        let empty_flag = LoginOptions {
            scopes: Some(Vec::new()),
            ..LoginOptions::default()
        };
        let omitted = choose_scopes(&empty_flag, &configured, Some(&asked), None, &found);
        assert_eq!(chosen(omitted), (None, false));
    }

    #[test]
    fn the_authorization_request_carries_pkce_state_resource_and_scope() {
        let client = Client::public("client 1".into());
        let pkce = Pkce::new().unwrap();
        let endpoint = Url::parse("https://as.example.com/authorize?tenant=t1").unwrap();
        let scopes = vec!["a".to_owned(), "b".to_owned()];
        let url = authorization_url(
            &endpoint,
            &client,
            "http://127.0.0.1:5000/callback",
            &pkce,
            "st",
            "https://mcp.example.com/mcp",
            Some(&scopes),
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(get("tenant"), Some("t1"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("client 1"));
        assert_eq!(get("code_challenge"), Some(pkce.challenge.as_str()));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("state"), Some("st"));
        assert_eq!(get("resource"), Some("https://mcp.example.com/mcp"));
        assert_eq!(get("scope"), Some("a b"));
        let bare = authorization_url(&endpoint, &client, "r", &pkce, "st", "res", None);
        assert!(!bare.query().unwrap_or_default().contains("scope="));
    }
}
