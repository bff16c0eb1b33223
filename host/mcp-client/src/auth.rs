//! Auth status for `codex mcp list`: what config says, and for HTTP servers
//! what their transport plugin finds when it probes the server's metadata.

use std::collections::BTreeMap;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use codex_config::{AuthStatus, McpServerConfig, TransportKind};
use codex_credentials::StoredMcpTokens;

use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;
use codex_plugin_host::transports::{connect_request, find_transport};

/// How long `mcp list` waits for every probe together (Codex waits 5 s per server, one after another).
pub const PROBE_DEADLINE: Duration = Duration::from_secs(5);

/// Each server's auth status as `codex mcp list` reports it, in Codex
/// 0.169's order: what config decides; then stored tokens (`Not logged in`
/// once they are expired and cannot be refreshed), a headers helper (not run
/// just to list: `Unknown`), and only then a probe by the transport plugin,
/// all servers at once. `open` gives the host context and plugins; it is
/// called only when a server needs them, so listing stdio servers never
/// opens a library.
pub fn statuses<'p, E>(
    servers: &BTreeMap<String, McpServerConfig>,
    open: impl FnOnce() -> Result<(Arc<HostContext>, &'p PluginSet), E>,
) -> Result<BTreeMap<String, AuthStatus>, E> {
    let mut statuses = BTreeMap::new();
    let mut to_check = Vec::new();
    for (name, server) in servers {
        match status_from_config(server) {
            Some(status) => {
                statuses.insert(name.clone(), status);
            }
            None => to_check.push((name.clone(), server.clone())),
        }
    }
    if to_check.is_empty() {
        return Ok(statuses);
    }
    let (host, plugins) = open()?;
    let mut to_probe = Vec::new();
    for (name, server) in to_check {
        let url = server.url.clone().unwrap_or_default();
        let status = match codex_credentials::stored_mcp_tokens(&host, &name, &url) {
            Ok(StoredMcpTokens::Usable) => AuthStatus::OAuth,
            Ok(StoredMcpTokens::Expired) => AuthStatus::NotLoggedIn,
            Ok(StoredMcpTokens::Missing) if server.http_headers_helper.is_some() => {
                AuthStatus::Unknown
            }
            Ok(StoredMcpTokens::Missing) => {
                to_probe.push((name, server));
                continue;
            }
            Err(error) => {
                eprintln!("warning: cannot read stored credentials for `{name}`: {error:#}");
                AuthStatus::Unknown
            }
        };
        statuses.insert(name, status);
    }
    let probed = probe_all(&to_probe, plugins, &host);
    for (name, _) in to_probe {
        let status = probed
            .get(&name)
            .copied()
            .unwrap_or(AuthStatus::Unsupported);
        statuses.insert(name, status);
    }
    Ok(statuses)
}

/// The status config alone decides, or `None` when the server must be probed.
pub fn status_from_config(server: &McpServerConfig) -> Option<AuthStatus> {
    if !server.enabled {
        return Some(AuthStatus::Unsupported);
    }
    if !matches!(server.transport_kind(), TransportKind::StreamableHttp) {
        return Some(AuthStatus::Unsupported);
    }
    let names_authorization = |headers: &Option<BTreeMap<String, String>>| {
        headers.as_ref().is_some_and(|headers| {
            headers
                .keys()
                .any(|key| key.eq_ignore_ascii_case("authorization"))
        })
    };
    if server.bearer_token_env_var.is_some()
        || names_authorization(&server.http_headers)
        || names_authorization(&server.env_http_headers)
    {
        return Some(AuthStatus::BearerToken);
    }
    None
}

/// Probes one server through its transport plugin within
/// [`PROBE_DEADLINE`]: whether it asks for OAuth, or why the probe failed
/// (the server could not be reached, say).
pub fn probe_one(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &Arc<HostContext>,
) -> Result<bool, String> {
    let found = find_transport(name, server, plugins).map_err(|error| error.to_string())?;
    let request = connect_request(name, server, PROBE_DEADLINE);
    let services = host.services();
    let (sender, receiver) = mpsc::channel();
    // On a thread of its own, so a plugin that hangs costs only the thread.
    std::thread::spawn(move || {
        let outcome = found
            .create(services)
            .and_then(|transport| transport.probe_auth(request).into_result());
        let _ = sender.send(outcome);
    });
    match receiver.recv_timeout(PROBE_DEADLINE) {
        Ok(Ok(probe)) => Ok(probe.oauth),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", PROBE_DEADLINE.as_secs())),
    }
}

/// Probes every server in `servers` at once, each through its transport
/// plugin, all within [`PROBE_DEADLINE`]. A server whose probe fails (its
/// discovery went wrong) or does not answer in time is `Unknown`, as in
/// Codex 0.169; one without a transport to probe it is `Unsupported`.
pub fn probe_all(
    servers: &[(String, McpServerConfig)],
    plugins: &PluginSet,
    host: &Arc<HostContext>,
) -> BTreeMap<String, AuthStatus> {
    let (sender, receiver) = mpsc::channel();
    let mut probing = Vec::new();
    for (name, server) in servers {
        let found = match find_transport(name, server, plugins) {
            Ok(found) => found,
            Err(error) => {
                host.log(
                    codex_plugin_api::LogLevel::Debug,
                    &format!("auth probe of `{name}`: {error}"),
                );
                continue;
            }
        };
        probing.push(name.clone());
        let request = connect_request(name, server, PROBE_DEADLINE);
        let services = host.services();
        let sender = sender.clone();
        let name = name.clone();
        // A thread per server: probes block on the network, and a plugin
        // that hangs must not hold up the others or the listing.
        std::thread::spawn(move || {
            let outcome = found
                .create(services)
                .and_then(|transport| transport.probe_auth(request).into_result());
            let _ = sender.send((name, outcome));
        });
    }
    drop(sender);
    let deadline = Instant::now() + PROBE_DEADLINE;
    // A probe that does not answer in time leaves its server `Unknown`.
    let mut statuses: BTreeMap<String, AuthStatus> = probing
        .into_iter()
        .map(|name| (name, AuthStatus::Unknown))
        .collect();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok((name, outcome)) = receiver.recv_timeout(left) else {
            break;
        };
        let status = match outcome {
            Ok(probe) if probe.oauth => AuthStatus::NotLoggedIn,
            Ok(_) => AuthStatus::Unsupported,
            Err(error) => {
                host.log(
                    codex_plugin_api::LogLevel::Debug,
                    &format!("auth probe of `{name}`: {error}"),
                );
                AuthStatus::Unknown
            }
        };
        statuses.insert(name, status);
    }
    statuses
}
