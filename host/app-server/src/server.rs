//! One connection: lines in, answers and notifications out. The handshake
//! (`initialize`, then requests), the dispatch by method, the limits
//! (line size, requests in flight), and the end (stdin closed: in-flight
//! requests get a grace period, then every session is closed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use codex_host::{App, RunOptions};
use codex_plugin_host::services::HostContext;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::account_login::LoginFlows;
use crate::auth_manager::AuthManager;
use crate::mcp_rpc::Connections;
use crate::protocol::{
    Incoming, METHOD_NOT_FOUND, OVERLOADED, RpcError, error_response, notification, params,
    parse_line, response, to_result,
};
use crate::{account, command_exec, config_rpc, features_rpc, mcp_oauth_login, mcp_rpc, methods};

/// What a handler answers: the result and the notifications that follow
/// it, or an error.
pub type Answer = Result<(Value, Vec<Value>), RpcError>;

/// The longest line read; a longer one is skipped (and logged), so a
/// runaway client costs this much memory at most.
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// Requests handled at once; more are answered -32001.
pub const MAX_IN_FLIGHT: usize = 128;
/// How long requests still running when stdin closes may finish.
pub const EOF_GRACE: Duration = Duration::from_secs(5);

/// What every request of the process shares.
pub struct Server {
    options: RunOptions,
    app: RwLock<Arc<App>>,
    host: Mutex<Option<Arc<HostContext>>>,
    pub auth: Arc<AuthManager>,
    /// The ChatGPT login in progress.
    pub logins: LoginFlows,
    /// `clientInfo.name` of `initialize`.
    client_name: OnceLock<String>,
    pub connections: Connections,
    /// The `command/exec` commands that run.
    pub commands: crate::command_exec::Processes,
    features: Mutex<BTreeMap<String, bool>>,
    outgoing: mpsc::UnboundedSender<Value>,
    initialized: AtomicBool,
    in_flight: AtomicUsize,
}

impl Server {
    pub fn app(&self) -> Arc<App> {
        match self.app.read() {
            Ok(app) => app.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The services object plugins get, made once per loaded config.
    pub fn host_context(&self) -> anyhow::Result<Arc<HostContext>> {
        let mut host = match self.host.lock() {
            Ok(host) => host,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(context) = host.as_ref() {
            return Ok(context.clone());
        }
        let context = self.app().host_context()?;
        *host = Some(context.clone());
        Ok(context)
    }

    /// The configuration as the files hold it now (other processes may
    /// have written them), read without touching the plugins.
    pub fn fresh_config(&self) -> anyhow::Result<codex_config::LoadedConfig> {
        let app = self.app();
        let mut paths = codex_config::ConfigPaths::from_env(app.codex_home.clone());
        if let Ok(cwd) = std::env::current_dir() {
            paths = paths.with_project_dir(cwd);
        }
        if let Some(profile) = &self.options.profile {
            paths = paths.with_profile(profile.clone());
        }
        Ok(codex_config::load(&paths, &self.options.config_overrides)?)
    }

    /// Every feature's value as the files set it now, over the registry of
    /// the loaded plugins.
    pub fn fresh_features(&self) -> anyhow::Result<codex_feature_registry::Resolved> {
        let app = self.app();
        let config = self.fresh_config()?;
        let settings = codex_config::feature_settings(
            &config,
            self.options.profile.as_deref(),
            self.options.model.as_deref(),
        )?;
        let command_line = codex_host::features::CommandLine {
            enable: &self.options.enable,
            disable: &self.options.disable,
        };
        Ok(codex_host::features::resolve(app.registry()?, &settings, command_line).resolved)
    }

    /// Loads the config again (`config/mcpServer/reload`). A config that
    /// no longer loads keeps the previous one, with a warning.
    pub fn reload_config(&self) {
        match App::load(self.options.clone()) {
            Ok(app) => {
                if let Ok(mut current) = self.app.write() {
                    *current = Arc::new(app);
                }
                if let Ok(mut host) = self.host.lock() {
                    *host = None;
                }
            }
            Err(error) => {
                eprintln!("warning: the config no longer loads, keeping the last one: {error:#}")
            }
        }
    }

    pub fn feature_overrides(&self) -> BTreeMap<String, bool> {
        self.features.lock().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn set_feature_overrides(&self, taken: BTreeMap<String, bool>) {
        if let Ok(mut features) = self.features.lock() {
            features.extend(taken);
        }
    }

    /// The client's name, once it initialized.
    pub fn client_name(&self) -> Option<String> {
        self.client_name.get().cloned()
    }

    /// Sends a notification to the client.
    pub fn notify(&self, message: Value) {
        let _ = self.outgoing.send(message);
    }
}

/// Who the client is; its name goes into the user agent.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct ClientInfo {
    name: String,
    #[serde(default)]
    title: Option<String>,
    version: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitializeParams {
    client_info: ClientInfo,
    /// Accepted and not used: this host offers no experimental API.
    #[serde(default)]
    #[allow(dead_code)]
    capabilities: Option<Value>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitializeResponse {
    user_agent: String,
    /// The server's CODEX_HOME.
    codex_home: String,
    /// `unix` or `windows`.
    platform_family: String,
    /// `linux`, `macos`, `windows`, ...
    platform_os: String,
}

fn initialize(server: &Server, raw: Option<Value>) -> Answer {
    let asked: InitializeParams = params(raw)?;
    let app = server.app();
    let info = &asked.client_info;
    let _ = server.client_name.set(info.name.clone());
    let user_agent = format!(
        "{}/{} ({}; {}) codex-host ({}; {})",
        info.name,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        info.name,
        info.version
    );
    let answer = InitializeResponse {
        user_agent,
        codex_home: app.codex_home.display().to_string(),
        platform_family: std::env::consts::FAMILY.to_string(),
        platform_os: std::env::consts::OS.to_string(),
    };
    Ok((to_result(&answer)?, Vec::new()))
}

/// Runs one request to its answer.
async fn dispatch(server: Arc<Server>, method: String, raw: Option<Value>) -> Answer {
    match method.as_str() {
        // These may renew the login at the issuer: off the async threads.
        "account/read" => {
            let server = server.clone();
            blocking(move || account::read(&server, raw)).await
        }
        "account/login/start" => account::login_start(server, raw).await,
        "account/login/cancel" => account::login_cancel(&server, raw),
        "account/logout" => account::logout(&server),
        "getAuthStatus" => {
            let server = server.clone();
            blocking(move || account::get_auth_status(&server, raw)).await
        }
        "config/read" => config_rpc::read(&server, raw),
        "config/value/write" => {
            let server = server.clone();
            blocking(move || config_rpc::value_write(&server, raw)).await
        }
        "config/batchWrite" => {
            let server = server.clone();
            blocking(move || config_rpc::batch_write(&server, raw)).await
        }
        "configRequirements/read" => config_rpc::requirements_read(),
        "experimentalFeature/list" => features_rpc::list(&server, raw),
        "experimentalFeature/enablement/set" => features_rpc::enablement_set(&server, raw),
        "mcpServerStatus/list" => mcp_rpc::status_list(server, raw).await,
        "config/mcpServer/reload" => mcp_rpc::reload(server).await,
        "mcpServer/tool/call" => mcp_rpc::tool_call(server, raw).await,
        "mcpServer/resource/read" => mcp_rpc::resource_read(server, raw).await,
        "mcpServer/oauth/login" => mcp_oauth_login::login(server, raw).await,
        "command/exec" => command_exec::exec(server, raw).await,
        "command/exec/write" => command_exec::write(server, raw).await,
        "command/exec/terminate" => command_exec::terminate(&server, raw).await,
        "command/exec/resize" => command_exec::resize(&server, raw).await,
        other => Err(methods::not_served(other)),
    }
}

/// Config writes wait for a file lock: off the async threads.
async fn blocking(work: impl FnOnce() -> Answer + Send + 'static) -> Answer {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| Err(RpcError::internal(format!("the request failed: {error}"))))
}

/// Serves one client on `input`/`output` until `input` ends.
pub async fn serve(
    options: RunOptions,
    input: impl AsyncBufRead + Unpin,
    output: impl AsyncWrite + Unpin + Send + 'static,
) -> anyhow::Result<()> {
    let app = App::load(options.clone())?;
    let auth = AuthManager::open(&app)?;
    let (outgoing, mut queue) = mpsc::unbounded_channel::<Value>();
    let server = Arc::new(Server {
        options,
        app: RwLock::new(Arc::new(app)),
        host: Mutex::new(None),
        auth: auth.clone(),
        logins: LoginFlows::default(),
        client_name: OnceLock::new(),
        connections: Connections::default(),
        commands: Default::default(),
        features: Mutex::new(BTreeMap::new()),
        outgoing: outgoing.clone(),
        initialized: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
    });
    {
        let outgoing = outgoing.clone();
        auth.subscribe(move |params| {
            let _ = outgoing.send(notification("account/updated", params));
        });
    }
    auth.watch();

    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(message) = queue.recv().await {
            let mut line = message.to_string();
            line.push('\n');
            if output.write_all(line.as_bytes()).await.is_err() || output.flush().await.is_err() {
                // The client is gone: nothing more can reach it.
                return;
            }
        }
    });

    let mut requests = tokio::task::JoinSet::new();
    let mut reader = LineReader::new(input);
    loop {
        let line = match reader.next().await {
            Ok(Some(Line::Text(line))) => line,
            Ok(Some(Line::TooLong(length))) => {
                eprintln!(
                    "error: skipped a line of {length} bytes: longer than the {} MiB a message may be",
                    MAX_LINE / (1024 * 1024)
                );
                continue;
            }
            Ok(None) => break,
            Err(error) => {
                eprintln!("error: cannot read standard input: {error}");
                break;
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (id, method, raw) = match parse_line(&line) {
            Ok(Incoming::Request { id, method, params }) => (id, method, params),
            Ok(Incoming::Notification { method }) => {
                if method != "initialized" {
                    eprintln!("debug: notification `{method}` ignored");
                }
                continue;
            }
            Ok(Incoming::Response) => {
                eprintln!("debug: a response to no request of ours, ignored");
                continue;
            }
            Err(problem) => {
                eprintln!("error: failed to read a message: {problem}");
                continue;
            }
        };
        if method == "initialize" {
            let answer = if server.initialized.load(Ordering::SeqCst) {
                Err(RpcError::invalid_request("Already initialized"))
            } else {
                initialize(&server, raw)
            };
            if answer.is_ok() {
                server.initialized.store(true, Ordering::SeqCst);
            }
            send_answer(&server, &id, answer);
            continue;
        }
        if !server.initialized.load(Ordering::SeqCst) {
            send_answer(
                &server,
                &id,
                Err(RpcError::invalid_request("Not initialized")),
            );
            continue;
        }
        if server.in_flight.load(Ordering::SeqCst) >= MAX_IN_FLIGHT {
            send_answer(
                &server,
                &id,
                Err(RpcError::new(OVERLOADED, "Server overloaded; retry later.")),
            );
            continue;
        }
        server.in_flight.fetch_add(1, Ordering::SeqCst);
        if method == "command/exec" {
            // Follow-ups read after it wait for it to start.
            server.commands.announce(raw.as_ref());
        }
        let server = server.clone();
        requests.spawn(async move {
            let answer = dispatch(server.clone(), method, raw).await;
            send_answer(&server, &id, answer);
            server.in_flight.fetch_sub(1, Ordering::SeqCst);
        });
        // Reap finished requests so the set does not grow.
        while requests.try_join_next().is_some() {}
    }

    // Stdin is closed: the client is gone, and so are its commands (Codex
    // kills them with the connection). Other requests may finish, briefly.
    server.commands.kill_all();
    let _ = tokio::time::timeout(EOF_GRACE, async {
        while requests.join_next().await.is_some() {}
    })
    .await;
    requests.abort_all();
    while requests.join_next().await.is_some() {}
    server.connections.close_all().await;
    drop(server);
    drop(outgoing);
    drop(auth);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    Ok(())
}

fn send_answer(server: &Server, id: &Value, answer: Answer) {
    match answer {
        Ok((result, after)) => {
            server.notify(response(id, result));
            for message in after {
                server.notify(message);
            }
        }
        Err(error) => {
            if error.code == METHOD_NOT_FOUND {
                eprintln!("debug: {}", error.message);
            }
            server.notify(error_response(id, &error));
        }
    }
}

enum Line {
    Text(Vec<u8>),
    /// A line over [`MAX_LINE`], skipped; its length.
    TooLong(usize),
}

/// Newline-delimited lines with a bound on their length.
struct LineReader<R> {
    input: R,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    fn new(input: R) -> Self {
        LineReader { input }
    }

    async fn next(&mut self) -> std::io::Result<Option<Line>> {
        let mut line = Vec::new();
        let mut length = 0usize;
        loop {
            let chunk = self.input.fill_buf().await?;
            if chunk.is_empty() {
                // The last line may lack its newline.
                return Ok(match length {
                    0 => None,
                    _ if length > MAX_LINE => Some(Line::TooLong(length)),
                    _ => Some(Line::Text(line)),
                });
            }
            let (taken, done) = match chunk.iter().position(|&byte| byte == b'\n') {
                Some(end) => (end, true),
                None => (chunk.len(), false),
            };
            length += taken;
            if length <= MAX_LINE {
                line.extend_from_slice(&chunk[..taken]);
            } else {
                line = Vec::new();
            }
            self.input.consume(taken + usize::from(done));
            if done {
                return Ok(Some(if length > MAX_LINE {
                    Line::TooLong(length)
                } else {
                    Line::Text(line)
                }));
            }
        }
    }
}
