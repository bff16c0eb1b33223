//! The command line: every command, flag and help text. Nothing here does work.

use clap::{Args, Parser, Subcommand};

/// The codex host: MCP servers through transport plugins, credential backends and feature flags.
#[derive(Debug, Parser)]
#[command(
    name = "codex",
    version,
    about,
    propagate_version = true,
    after_help = "Examples:\n  \
        codex mcp add demo -- codex-demo-server\n  \
        codex mcp tools demo\n  \
        codex mcp call demo echo --args '{\"message\":\"hi\"}'\n  \
        codex plugin list\n  \
        codex features list\n  \
        codex config show --origin\n  \
        source <(codex completion bash)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Override a config value for this run: `key=value`, value parsed as TOML, else taken as a
    /// string; dotted keys reach into tables (`-c mcp_servers.demo.enabled=false`).
    #[arg(short = 'c', long = "config", value_name = "key=value", global = true)]
    pub config_overrides: Vec<String>,

    /// Turn a feature on for this run (repeatable).
    #[arg(long = "enable", value_name = "FEATURE", global = true)]
    pub enable: Vec<String>,

    /// Turn a feature off for this run (repeatable).
    #[arg(long = "disable", value_name = "FEATURE", global = true)]
    pub disable: Vec<String>,

    /// Layer $CODEX_HOME/PROFILE.config.toml over the user config (Codex's profiles).
    #[arg(short = 'p', long = "profile", value_name = "PROFILE", global = true)]
    pub profile: Option<String>,

    /// The model for this run (wins over `model` in config and profile); it chooses the
    /// feature bundle through `[model_features]`.
    #[arg(short = 'm', long = "model", value_name = "MODEL", global = true)]
    pub model: Option<String>,

    /// Print debug detail (plugin logs, layout reports) on standard error.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,

    /// When to colour output: `auto` colours a terminal unless NO_COLOR is set (CLICOLOR_FORCE
    /// colours a pipe too); `always` and `never` win over both.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
}

/// The values of `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// The choice for the output streams.
    pub fn choice(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }

    /// `--color WHEN` or `--color=WHEN` among `args` before a `--`, read
    /// before parsing so that clap's own help and errors follow it.
    pub fn from_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ColorWhen {
        let mut when = ColorWhen::Auto;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let value = match arg.to_str() {
                Some("--") => break,
                Some("--color") => args.next(),
                Some(other) => other.strip_prefix("--color=").map(Into::into),
                None => None,
            };
            if let Some(parsed) = value
                .as_ref()
                .and_then(|value| value.to_str())
                .and_then(|value| <ColorWhen as clap::ValueEnum>::from_str(value, false).ok())
            {
                when = parsed;
            }
        }
        when
    }
}

impl GlobalArgs {
    /// What the host libraries need of these flags.
    pub fn run_options(&self) -> codex_host::RunOptions {
        codex_host::RunOptions {
            config_overrides: self.config_overrides.clone(),
            enable: self.enable.clone(),
            disable: self.disable.clone(),
            profile: self.profile.clone(),
            model: self.model.clone(),
            verbose: self.verbose,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage external MCP servers.
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Inspect the plugin libraries the host finds and loads.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// List, explain and toggle feature flags.
    #[command(subcommand)]
    Features(FeaturesCommand),
    /// Show the merged configuration and where each value comes from.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Log in with an API key read from stdin, or show the login status.
    #[command(after_help = "Examples:\n  \
        printenv OPENAI_API_KEY | codex login --with-api-key\n  \
        codex login status")]
    Login(LoginArgs),
    /// Remove the stored login.
    Logout,
    /// Check the setup: config layers, plugins, credential stores, MCP servers, the sandbox.
    #[command(
        after_help = "Exits 1 when a check fails; each problem is listed at the end with its fix.

Examples:
  codex doctor
  codex doctor --json | jq '.checks[] | select(.status != \"ok\")'"
    )]
    Doctor(JsonFlag),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
        source <(codex completion bash)                # this shell; add it to ~/.bashrc to keep it\n  \
        codex completion zsh > ~/.zfunc/_codex         # a directory on $fpath\n  \
        codex completion fish > ~/.config/fish/completions/codex.fish")]
    Completion(CompletionArgs),
    /// Write the man pages (codex.1, codex-mcp.1, ...) into a directory.
    #[command(hide = true)]
    ManPages(ManPagesArgs),
    /// Diagnostics for bug reports and tests.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum, default_value_t = clap_complete::Shell::Bash)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManPagesArgs {
    /// The directory to write into (created if missing), e.g. PREFIX/share/man/man1.
    pub dir: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Print this process's hardening state as JSON (dumpable, core limit, loader variables).
    ProcessState,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// List configured MCP servers.
    List(JsonFlag),
    /// Show one configured MCP server.
    Get(NameAndJson),
    /// Add a global MCP server to $CODEX_HOME/config.toml.
    #[command(
        override_usage = "codex mcp add [OPTIONS] <NAME> (--url <URL> | -- <COMMAND>...)",
        after_help = "Examples:\n  \
            codex mcp add demo -- codex-demo-server --name demo\n  \
            codex mcp add docs --env API_KEY=... -- npx -y @acme/docs-mcp\n  \
            codex mcp add remote --url https://mcp.example.com/mcp --bearer-token-env-var EXAMPLE_TOKEN"
    )]
    Add(AddArgs),
    /// Remove a global MCP server from $CODEX_HOME/config.toml.
    Remove(NameArg),
    /// Log in to an HTTP server that asks for OAuth, and store the tokens.
    #[command(after_help = "Examples:\n  \
        codex mcp login docs\n  \
        codex mcp login docs --no-browser            # print the URL, paste the redirect back\n  \
        codex mcp login docs --scopes read,write --callback-port 8765\n  \
        printf %s \"$SECRET\" | codex mcp login corp --client-id codex-cli --client-secret-stdin")]
    Login(McpLoginArgs),
    /// Revoke (where the server supports it) and delete the OAuth tokens of an HTTP server, from every store.
    Logout(NameArg),
    /// Connect and list the tools of one server, or of every enabled server at once.
    #[command(after_help = "Examples:\n  codex mcp tools\n  codex mcp tools demo --json")]
    Tools(ToolsArgs),
    /// Connect to a server and call one tool.
    #[command(after_help = "Examples:\n  \
        codex mcp call demo echo --args '{\"message\":\"hello\"}'\n  \
        codex mcp call demo add --args '{\"a\":2,\"b\":3}' --json\n  \
        codex mcp call --url http://127.0.0.1:3001/mcp get-sum --args '{\"a\":2,\"b\":3}'")]
    Call(CallArgs),
    /// Turn a configured server back on (removes `enabled = false` from its table in
    /// $CODEX_HOME/config.toml).
    #[command(after_help = "Example:\n  codex mcp enable docs")]
    Enable(NameArg),
    /// Turn a configured server off (`enabled = false` in $CODEX_HOME/config.toml); its
    /// settings stay.
    #[command(
        after_help = "Example:\n  codex mcp disable docs\n  codex mcp list    # shows it disabled"
    )]
    Disable(NameArg),
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArg {
    /// The server's name (letters, digits, '-', '_').
    pub name: String,
}

#[derive(Debug, Args)]
pub struct NameAndJson {
    /// The server's name.
    pub name: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("transport").args(["command", "url"]).required(true).multiple(false))]
pub struct AddArgs {
    /// The server's name (letters, digits, '-', '_').
    pub name: String,

    /// An environment variable for a stdio server: KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// The URL of a streamable HTTP server.
    #[arg(long)]
    pub url: Option<String>,

    /// The environment variable holding the bearer token for an HTTP server.
    #[arg(
        long = "bearer-token-env-var",
        value_name = "ENV_VAR",
        requires = "url"
    )]
    pub bearer_token_env_var: Option<String>,

    /// A header sent on every request to an HTTP server: 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "url")]
    pub headers: Vec<String>,

    /// Do not start an OAuth login, even when the server asks for one.
    #[arg(long, requires = "url")]
    pub no_login: bool,

    /// The command (and its arguments) that starts a stdio server, after `--`.
    #[arg(trailing_var_arg = true, num_args = 0.., value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// A server given on the command line instead of by name from config.
#[derive(Debug, Args, Clone, Default)]
pub struct AdHocServer {
    /// Use the streamable HTTP server at this URL without adding it to config.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// With --url: the environment variable holding a bearer token.
    #[arg(
        long = "bearer-token-env-var",
        value_name = "ENV_VAR",
        requires = "url"
    )]
    pub bearer_token_env_var: Option<String>,

    /// With --url: a header sent on every request, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", requires = "url")]
    pub headers: Vec<String>,
}

/// How OAuth logins are handled while connecting.
#[derive(Debug, Args, Clone, Default)]
pub struct LoginFlag {
    /// Log in through the browser when a server asks for it, also without a
    /// terminal (on a terminal that is the default).
    #[arg(long)]
    pub login: bool,
}

#[derive(Debug, Args)]
pub struct McpLoginArgs {
    /// The server's name.
    pub name: String,
    /// The scopes to ask for, comma-separated (default: what the server asks for).
    #[arg(long, value_delimiter = ',', value_name = "SCOPE,...")]
    pub scopes: Option<Vec<String>>,
    /// Print the URL instead of opening a browser, and read the redirect URL from stdin.
    #[arg(long)]
    pub no_browser: bool,
    /// A client ID registered with the authorization server beforehand.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read that client's secret from stdin (never from the command line).
    #[arg(long, requires = "client_id")]
    pub client_secret_stdin: bool,
    /// The RFC 8707 resource to ask tokens for (default: the server's URL).
    #[arg(long, value_name = "URI")]
    pub oauth_resource: Option<String>,
    /// How the client gets registered: `auto` (pre-registered, then a client
    /// metadata document, then dynamic registration), `cimd` or `dcr`.
    #[arg(long, value_name = "MODE", value_parser = ["auto", "cimd", "dcr"])]
    pub oauth_client_registration: Option<String>,
    /// The loopback port of the redirect (default: `mcp_oauth_callback_port`, else any free port).
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub callback_port: Option<u16>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// The server; without it (and without --url), every enabled server.
    #[arg(conflicts_with = "url")]
    pub name: Option<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(
    override_usage = "codex mcp call [OPTIONS] <NAME> <TOOL>\n       codex mcp call [OPTIONS] --url <URL> <TOOL>"
)]
pub struct CallArgs {
    /// The server, then the tool's name as the server reports it (with --url: only the tool).
    #[arg(value_name = "NAME", required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    /// The tool's arguments: a JSON object.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub args: String,
    /// Print the whole result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// Every known feature (the host's and the plugins'): stage, effective value and its source.
    List(JsonFlag),
    /// Turn a feature on in $CODEX_HOME/config.toml ($CODEX_HOME/P.config.toml with -p P).
    #[command(
        after_help = "Examples:\n  codex features enable memories\n  codex -p fast features enable undo"
    )]
    Enable(FeatureKey),
    /// Turn a feature off in $CODEX_HOME/config.toml ($CODEX_HOME/P.config.toml with -p P).
    Disable(FeatureKey),
    /// Every layer that set a feature, in precedence order, and the value that won.
    Explain(FeatureKeyJson),
}

#[derive(Debug, Args)]
pub struct FeatureKey {
    /// The feature's key (`codex features list` shows them).
    pub key: String,
}

#[derive(Debug, Args)]
pub struct FeatureKeyJson {
    /// The feature's key (`codex features list` shows them).
    pub key: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the merged configuration (secrets masked).
    Show(ShowArgs),
    /// Move legacy [profiles.P] tables of config.toml to $CODEX_HOME/P.config.toml (Codex 0.169's profiles).
    #[command(
        after_help = "Each [profiles.P] table becomes the file P.config.toml, used with `codex -p P`;
                      a profile whose file already exists is left for you to merge. The legacy
                      `profile = \"P\"` is removed: pass `-p P` instead.

                      Example:
  codex config migrate-profiles"
    )]
    MigrateProfiles(JsonFlag),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Show the layer, file and line that set each value, and every layer with its state.
    #[arg(long)]
    pub origin: bool,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Every plugin file found, with its state (loaded / refused / incompatible / broken).
    List(JsonFlag),
    /// Everything known about one plugin.
    Info(NameAndJson),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoginArgs {
    /// Read the API key from stdin and store it (`cli_auth_credentials_store` picks where).
    #[arg(long)]
    pub with_api_key: bool,

    /// No longer supported: a key on the command line is visible to other processes.
    #[arg(
        long = "api-key",
        value_name = "API_KEY",
        hide = true,
        num_args = 0..=1,
        default_missing_value = ""
    )]
    pub api_key: Option<String>,

    #[command(subcommand)]
    pub action: Option<LoginCommand>,
}

#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Show how you are logged in (exit 0), or `Not logged in` (exit 1).
    Status,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
