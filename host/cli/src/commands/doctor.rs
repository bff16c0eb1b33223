//! `codex doctor [--json]`: every part of a setup checked, each problem with
//! its fix. Like Codex 0.169's doctor, every check has an id, a category, a
//! status, a one-line summary, details and a remediation, grouped by category
//! with the problems repeated at the end; unlike it, a failed check makes the
//! exit status 1, so scripts can use it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use codex_config::{AuthStatus, ConfigLayer, LayerKind, McpServerConfig};
use codex_credentials::Purpose;
use codex_host::{App, RunOptions};
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::session::Session;
use codex_plugin_host::services::HostContext;
use codex_plugin_host::{PluginEntry, PluginSet, PluginState};
use serde_json::{Value, json};

use crate::output::{Paint, print_json, write_stdout};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Ok,
    Warning,
    Fail,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Fail => "fail",
        }
    }

    fn mark(self, paint: Paint) -> String {
        match self {
            Status::Ok => paint.green("✓"),
            Status::Warning => paint.yellow("!"),
            Status::Fail => paint.red("✗"),
        }
    }
}

/// One finding.
struct Check {
    /// `config.user`, `plugin.stdio`, `mcp.demo`, ...
    id: String,
    category: &'static str,
    status: Status,
    summary: String,
    details: Vec<(String, String)>,
    /// What to do about it (for a warning or a failure).
    fix: Option<String>,
}

impl Check {
    fn new(id: impl Into<String>, category: &'static str, status: Status, summary: String) -> Self {
        Check {
            id: id.into(),
            category,
            status,
            summary,
            details: Vec::new(),
            fix: None,
        }
    }

    fn ok(id: impl Into<String>, category: &'static str, summary: String) -> Self {
        Check::new(id, category, Status::Ok, summary)
    }

    fn detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.push((key.into(), value.into()));
        self
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// The categories, in the order they are printed.
const CATEGORIES: [(&str, &str); 6] = [
    ("install", "Installation"),
    ("config", "Configuration"),
    ("plugins", "Plugins"),
    ("credentials", "Credential stores"),
    ("mcp", "MCP servers"),
    ("sandbox", "Sandbox"),
];

pub fn doctor(options: RunOptions, json_output: bool) -> Result<ExitCode> {
    let mut checks = vec![install_check()];
    match codex_config::find_codex_home() {
        Ok(home) => checks.push(Check::ok(
            "config.codex_home",
            "config",
            format!(
                "CODEX_HOME: {}{}",
                home.display(),
                if home.is_dir() {
                    ""
                } else {
                    " (not created yet)"
                }
            ),
        )),
        Err(error) => checks.push(
            Check::new(
                "config.codex_home",
                "config",
                Status::Fail,
                error.to_string(),
            )
            .fix("point CODEX_HOME at an existing directory, or unset it to use ~/.codex"),
        ),
    }
    if checks.iter().all(|check| check.status != Status::Fail) {
        match App::load(options.clone()) {
            Ok(app) => checks.extend(with_config(&app)),
            Err(error) => checks.extend(config_errors(&options, &error)),
        }
    }
    checks.push(sandbox_check());
    report(&checks, json_output)
}

/// What `codex` is: its version, executable and plugin API.
fn install_check() -> Check {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map(|path| path.display().to_string())
        .unwrap_or_else(|error| format!("unknown ({error})"));
    Check::ok(
        "install.codex",
        "install",
        format!("codex {}", env!("CARGO_PKG_VERSION")),
    )
    .detail("executable", exe)
    .detail("plugin API", codex_plugin_api::API_VERSION)
}

/// The checks that need a loaded configuration.
fn with_config(app: &App) -> Vec<Check> {
    let mut checks: Vec<Check> = app.config.layers().iter().filter_map(layer_check).collect();
    let plugins = match app.plugins() {
        Ok(plugins) => plugins,
        Err(error) => {
            checks.push(
                Check::new("plugins", "plugins", Status::Fail, format!("{error:#}"))
                    .fix("fix [plugin_policy] or plugin_dirs where the message points"),
            );
            return checks;
        }
    };
    checks.extend(plugins.entries.iter().map(plugin_check));
    if !super::plugin::has_transport(plugins) {
        checks.push(
            Check::new(
                "plugins.transport",
                "plugins",
                Status::Fail,
                super::plugin::NO_TRANSPORT.into(),
            )
            .fix(super::plugin::INSTALL_PLUGINS),
        );
    }
    match app.host_context() {
        Ok(host) => {
            for purpose in [Purpose::McpOAuth, Purpose::CliAuth] {
                checks.push(store_check(app, plugins, &host, purpose));
            }
            checks.extend(server_checks(app, plugins, &host));
        }
        Err(error) => checks.push(
            Check::new(
                "credentials",
                "credentials",
                Status::Fail,
                format!("{error:#}"),
            )
            .fix("fix the feature settings the message names"),
        ),
    }
    checks
}

/// One config layer that applies (or could): its file and state.
fn layer_check(layer: &ConfigLayer) -> Option<Check> {
    let kind = layer.kind();
    if kind == LayerKind::SessionFlags && layer.overrides().is_empty() {
        return None;
    }
    let id = format!("config.{}", kind.label().trim_start_matches('-'));
    let place = format!("{} layer: {}", kind.label(), layer.describe());
    Some(match (layer.disabled_reason(), layer.exists()) {
        (Some(reason), _) => Check::new(
            id,
            "config",
            Status::Warning,
            format!("{place} (not applied)"),
        )
        .fix(reason.to_string()),
        (None, true) => Check::ok(id, "config", format!("{place} (loaded)")),
        (None, false) => Check::ok(id, "config", format!("{place} (no file: an empty layer)")),
    })
}

/// When the configuration does not load: each file that does not parse,
/// with its file:line:column; else the error of the whole.
fn config_errors(options: &RunOptions, error: &anyhow::Error) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Ok(home) = codex_config::find_codex_home() {
        let paths = codex_config::ConfigPaths::from_env(home);
        let mut files = vec![
            (LayerKind::System, paths.system_config.clone()),
            (LayerKind::User, paths.user_config()),
        ];
        if let Some(profile) = &options.profile {
            files.push((LayerKind::Profile, paths.profile_config(profile)));
        }
        files.push((LayerKind::Managed, paths.managed_config.clone()));
        for (kind, path) in files {
            if let Err(parse_error) = ConfigLayer::from_file(kind, &path) {
                checks.push(file_error(kind, &path, parse_error.to_string()));
            }
        }
    }
    if checks.is_empty() {
        checks.push(
            Check::new("config.load", "config", Status::Fail, format!("{error:#}"))
                .fix("fix the value where the message points, then rerun `codex doctor`"),
        );
    }
    checks.push(
        Check::new(
            "config.skipped",
            "config",
            Status::Warning,
            "plugins, credential stores and MCP servers were not checked: the configuration does not load".into(),
        )
        .fix("fix the configuration first"),
    );
    checks
}

fn file_error(kind: LayerKind, path: &Path, message: String) -> Check {
    Check::new(
        format!("config.{}", kind.label()),
        "config",
        Status::Fail,
        message,
    )
    .detail("file", path.display().to_string())
    .fix(format!(
        "fix {} where the message points (`codex config show --origin` lists every layer)",
        path.display()
    ))
}

fn plugin_check(entry: &PluginEntry) -> Check {
    let id = format!("plugins.{}", entry.name);
    let path = entry.path.display().to_string();
    let check = match &entry.state {
        PluginState::Loaded { declared, .. } => {
            let services: Vec<String> = declared
                .manifest
                .services
                .iter()
                .map(|service| format!("{} {}", service.kind.as_str(), service.name))
                .collect();
            Check::ok(
                id,
                "plugins",
                format!("{} {} loaded", entry.name, declared.manifest.version),
            )
            .detail("provides", services.join(", "))
        }
        PluginState::Refused(why) => Check::new(
            id,
            "plugins",
            Status::Fail,
            format!("{} refused: {why}", entry.name),
        )
        .fix("make the file and its directory writable only by you (or root), match its pin, or remove the file"),
        PluginState::Incompatible { reason, .. } => Check::new(
            id,
            "plugins",
            Status::Fail,
            format!("{} incompatible: {reason}", entry.name),
        )
        .fix(format!(
            "rebuild the plugin against plugin API {}, or remove the file",
            codex_plugin_api::API_VERSION
        )),
        PluginState::Broken { reason, .. } => Check::new(
            id,
            "plugins",
            Status::Fail,
            format!("{} broken: {reason}", entry.name),
        )
        .fix("replace the file with a working build, or remove it"),
    };
    check.detail("path", path)
}

/// Whether each store of `purpose` answers, and which one a chain uses.
fn store_check(app: &App, plugins: &PluginSet, host: &Arc<HostContext>, purpose: Purpose) -> Check {
    let key = purpose.config_key();
    let id = format!("credentials.{key}");
    let store = match codex_credentials::open(&app.config, plugins, purpose, host) {
        Ok(store) => store,
        Err(error) => {
            return Check::new(id, "credentials", Status::Fail, format!("{error:#}")).fix(format!(
                "set `{key}` to auto, file, keyring or a backend `codex plugin list` shows"
            ));
        }
    };
    let (service, account) = match purpose {
        Purpose::McpOAuth => (
            codex_credentials::MCP_SERVICE,
            codex_credentials::mcp_account("codex-doctor", ""),
        ),
        Purpose::CliAuth => (
            codex_credentials::AUTH_SERVICE,
            codex_credentials::cli_auth_account(&app.codex_home),
        ),
    };
    let value = store.selection().value.clone();
    let probes = store.probe(service, account.as_str());
    let chosen = probes
        .iter()
        .find(|(_, answer)| answer.is_ok())
        .map(|(name, _)| *name);
    let failures: Vec<String> = probes
        .iter()
        .filter(|(_, answer)| answer.is_err())
        .map(|(name, _)| format!("`{name}` does not answer"))
        .collect();
    let mut check = match chosen {
        Some(chosen) if failures.is_empty() => Check::ok(
            id,
            "credentials",
            format!("{key} = {value}: `{chosen}` answers"),
        ),
        Some(chosen) => Check::new(
            id,
            "credentials",
            Status::Warning,
            format!("{key} = {value}: uses `{chosen}`; {}", failures.join(", ")),
        )
        .fix(format!(
            "start the store that does not answer, or set `{key}` (or `credential_chain`) to the stores you use"
        )),
        None => Check::new(
            id,
            "credentials",
            Status::Fail,
            format!("{key} = {value}: {}", failures.join(", ")),
        )
        .fix(format!(
            "start the store, or set `{key}` to a store that works here (`file` always does)"
        )),
    };
    for (name, answer) in &probes {
        let state = match answer {
            Ok(()) => "answers".to_string(),
            Err(error) => error.message.to_string(),
        };
        check = check.detail(format!("store {name}"), state);
    }
    if let Some(chosen) = chosen {
        check = check.detail("chosen", chosen.to_string());
    }
    check
}

/// Each configured server: does it start and answer initialize, and how it
/// authenticates. Every enabled server is connected at once.
fn server_checks(app: &App, plugins: &PluginSet, host: &Arc<HostContext>) -> Vec<Check> {
    let servers = match app.servers() {
        Ok(servers) => servers,
        Err(error) => {
            return vec![
                Check::new("mcp", "mcp", Status::Fail, format!("{error:#}"))
                    .fix("fix the server table where the message points"),
            ];
        }
    };
    if servers.is_empty() {
        return vec![Check::ok("mcp", "mcp", "no MCP servers configured".into())];
    }
    let enabled: BTreeMap<String, McpServerConfig> = servers
        .iter()
        .filter(|(_, server)| server.enabled)
        .map(|(name, server)| (name.clone(), server.clone()))
        .collect();
    let auth = super::mcp_config::auth_statuses(app, &enabled).unwrap_or_default();
    let started: BTreeMap<String, Result<()>> = match super::runtime() {
        Ok(runtime) => runtime.block_on(async {
            let attempts = enabled.iter().map(|(name, server)| async move {
                let session =
                    Session::connect(name, server, plugins, host, ClientOptions::quiet()).await;
                let outcome = match session {
                    Ok(session) => {
                        session.close().await;
                        Ok(())
                    }
                    Err(error) => Err(error),
                };
                (name.clone(), outcome)
            });
            futures::future::join_all(attempts)
                .await
                .into_iter()
                .collect()
        }),
        Err(error) => enabled
            .keys()
            .map(|name| (name.clone(), Err(anyhow::anyhow!("{error}"))))
            .collect(),
    };
    servers
        .iter()
        .map(|(name, server)| {
            let id = format!("mcp.{name}");
            let Some(outcome) = started.get(name) else {
                return Check::ok(id, "mcp", format!("{name}: disabled"))
                    .detail("transport", transport(server));
            };
            let auth_status = auth.get(name).copied();
            let check = match (outcome, auth_status) {
                (Err(error), _) => Check::new(
                    id,
                    "mcp",
                    Status::Fail,
                    format!("{name}: does not start: {error:#}"),
                )
                .fix(format!(
                    "fix [mcp_servers.{name}] (`codex mcp get {name}` shows it), or turn it off: `codex mcp disable {name}`"
                )),
                (Ok(()), Some(AuthStatus::NotLoggedIn)) => Check::new(
                    id,
                    "mcp",
                    Status::Warning,
                    format!("{name}: answers initialize; not logged in"),
                )
                .fix(format!("codex mcp login {name}")),
                (Ok(()), _) => Check::ok(id, "mcp", format!("{name}: answers initialize")),
            };
            let check = check.detail("transport", transport(server));
            match auth_status {
                Some(status) => check.detail("auth", status.to_string()),
                None => check,
            }
        })
        .collect()
}

fn transport(server: &McpServerConfig) -> String {
    codex_plugin_host::transports::transport_name(server)
}

/// What the kernel offers the sandbox.
fn sandbox_check() -> Check {
    let support = codex_sandbox::support();
    let missing = support.missing(true);
    let mut check = if missing.is_empty() {
        Check::ok(
            "sandbox.kernel",
            "sandbox",
            format!(
                "Landlock ABI {}, seccomp and user namespaces",
                support.landlock_abi
            ),
        )
    } else {
        Check::new(
            "sandbox.kernel",
            "sandbox",
            Status::Warning,
            format!("the sandbox cannot be fully enforced: {}", missing.join("; ")),
        )
        .fix("sandboxed commands and servers refuse to run here; use a kernel with what is missing, or `danger-full-access`")
    };
    for line in support.to_string().lines() {
        if let Some((feature, state)) = line.split_once(": ") {
            check = check.detail(feature, state);
        }
    }
    check
}

fn report(checks: &[Check], json_output: bool) -> Result<ExitCode> {
    let paint = Paint::stdout();
    let worst = checks
        .iter()
        .map(|check| check.status)
        .max()
        .unwrap_or(Status::Ok);
    let count = |status: Status| checks.iter().filter(|check| check.status == status).count();
    if json_output {
        print_json(&json!({
            "schema_version": 1,
            "codex_version": env!("CARGO_PKG_VERSION"),
            "overall_status": worst.as_str(),
            "checks": checks.iter().map(check_json).collect::<Vec<_>>(),
        }))?;
    } else {
        let mut text = format!(
            "codex doctor {} ({} {})\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        for (category, title) in CATEGORIES {
            let in_category: Vec<&Check> = checks
                .iter()
                .filter(|check| check.category == category)
                .collect();
            if in_category.is_empty() {
                continue;
            }
            text.push_str(&format!("\n{}\n", paint.bold(title)));
            for check in in_category {
                text.push_str(&format!(
                    "  {} {}\n",
                    check.status.mark(paint),
                    check.summary
                ));
                for (key, value) in &check.details {
                    text.push_str(&format!("      {key}: {value}\n"));
                }
            }
        }
        let problems: Vec<&Check> = checks
            .iter()
            .filter(|check| check.status != Status::Ok)
            .collect();
        if !problems.is_empty() {
            text.push_str(&format!("\n{}\n", paint.bold("To fix")));
            for check in problems {
                text.push_str(&format!(
                    "  {} {}: {}\n",
                    check.status.mark(paint),
                    check.id,
                    check.summary
                ));
                if let Some(fix) = &check.fix {
                    text.push_str(&format!("    fix: {fix}\n"));
                }
            }
        }
        text.push_str(&format!(
            "\n{} ok, {}, {}\n",
            count(Status::Ok),
            counted(count(Status::Warning), "warning"),
            counted(count(Status::Fail), "problem")
        ));
        write_stdout(&text)?;
    }
    Ok(if worst == Status::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `1 problem`, `2 problems`.
fn counted(count: usize, what: &str) -> String {
    format!("{count} {what}{}", if count == 1 { "" } else { "s" })
}

fn check_json(check: &Check) -> Value {
    let details: serde_json::Map<String, Value> = check
        .details
        .iter()
        .map(|(key, value)| (key.clone(), value.clone().into()))
        .collect();
    json!({
        "id": check.id,
        "category": check.category,
        "status": check.status.as_str(),
        "summary": check.summary,
        "details": details,
        "remediation": check.fix,
    })
}
