//! The command line: every command, flag and help text. Nothing here does work.

use std::ffi::OsString;
use std::path::PathBuf;

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

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Log in with ChatGPT (browser or device code) or an API key, or show the login status.
    #[command(after_help = "Examples:\n  \
        codex login                      # opens the browser; the URL is printed too\n  \
        codex login --device-auth        # a code to enter on another device (SSH, containers)\n  \
        printenv OPENAI_API_KEY | codex login --with-api-key\n  \
        codex login status")]
    Login(LoginArgs),
    /// Revoke the stored login's tokens at the issuer and remove it.
    Logout,
    /// Run a command in Codex's sandbox (Landlock, seccomp; read-only unless told otherwise).
    #[command(
        after_help = "The mode is --mode, else --full-auto (workspace-write), else `sandbox_mode` in\n\
        config, else read-only. workspace-write makes the working directory, writable_roots\n\
        ([sandbox_workspace_write] and --writable-root), /tmp and $TMPDIR writable; .git and\n\
        .codex inside them stay read-only. Without network access no IP socket can be made\n\
        (Unix sockets work). When the kernel cannot enforce the policy, nothing runs unless\n\
        --allow-weaker-sandbox is given. The command's exit status passes through.\n\n\
        Examples:\n  \
        codex sandbox -- cat /etc/hostname\n  \
        codex sandbox --full-auto -- make test\n  \
        codex sandbox --mode workspace-write --writable-root ../cache --network -- npm ci"
    )]
    Sandbox(SandboxArgs),
    /// Serve Codex's app-server protocol (JSON lines on stdin/stdout) for editors.
    #[command(
        after_help = "The methods that need no model: account, config, experimentalFeature,\n\
        MCP servers and command/exec. The agent's methods (thread/*, turn/*, model/list, ...)\n\
        answer -32601. Logs go to stderr.\n\n\
        Examples:\n  \
        codex app-server\n  \
        codex app-server generate-json-schema --out schema"
    )]
    AppServer(AppServerArgs),
    /// Serve the configured MCP servers as one MCP server (stdio, or streamable HTTP with --listen).
    #[command(after_help = MCP_SERVER_HELP)]
    McpServer(McpServerArgs),
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
    /// Internal: run the responses API proxy (codex-responses-api-proxy, installed beside
    /// this binary, with these arguments; the key is read from stdin by it).
    #[command(hide = true, disable_help_flag = true)]
    ResponsesApiProxy(PassThroughArgs),
    /// Diagnostics for bug reports and tests.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Args)]
pub struct AppServerArgs {
    #[command(subcommand)]
    pub command: Option<AppServerCommand>,
}

#[derive(Debug, Subcommand)]
pub enum AppServerCommand {
    /// Write a JSON Schema for every method this app-server answers and every notification it
    /// sends, under Codex's file names (v1/, v2/, ClientRequest.json, ...).
    #[command(
        after_help = "The directory is created if missing; files of the same name are \
        replaced.\n\n\
        Examples:\n  \
        codex app-server generate-json-schema --out schema\n  \
        codex app-server generate-json-schema -o schema --experimental"
    )]
    GenerateJsonSchema(GenerateJsonSchemaArgs),
}

#[derive(Debug, Args)]
pub struct GenerateJsonSchemaArgs {
    /// The directory to write the schema files into.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Also describe the fields Codex marks experimental.
    #[arg(long)]
    pub experimental: bool,
}

/// Arguments handed to another program as they are (`--help` included).
#[derive(Debug, Args)]
pub struct PassThroughArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub alias: Option<SandboxAlias>,
    #[command(flatten)]
    pub run: SandboxRunArgs,
}

/// Older names of `codex sandbox`.
#[derive(Debug, Subcommand)]
pub enum SandboxAlias {
    /// `codex sandbox linux [OPTIONS] -- CMD`: the same as `codex sandbox`.
    #[command(hide = true)]
    Linux(SandboxRunArgs),
}

/// What to run in the sandbox, and how.
#[derive(Debug, Args, Clone)]
pub struct SandboxRunArgs {
    /// The sandbox mode.
    #[arg(long, value_name = "MODE", value_parser = ["read-only", "workspace-write", "danger-full-access"], conflicts_with = "full_auto")]
    pub mode: Option<String>,
    /// Shorthand for --mode workspace-write.
    #[arg(long)]
    pub full_auto: bool,
    /// Run the command in DIR (the workspace of workspace-write).
    #[arg(short = 'C', long = "cd", value_name = "DIR")]
    pub cd: Option<PathBuf>,
    /// Another writable directory for workspace-write (repeatable; it must exist).
    #[arg(long = "writable-root", value_name = "DIR")]
    pub writable_roots: Vec<PathBuf>,
    /// Allow network access (IP sockets).
    #[arg(long)]
    pub network: bool,
    /// Run with what the kernel can enforce when it cannot enforce the whole policy.
    #[arg(long)]
    pub allow_weaker_sandbox: bool,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
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
    /// `codex debug landlock [OPTIONS] -- CMD`: the legacy name of `codex sandbox`.
    Landlock(SandboxRunArgs),
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// List configured MCP servers.
    List(JsonFlag),
    /// Show one configured MCP server.
    Get(NameAndJson),
    /// Add an MCP server to $CODEX_HOME/config.toml (or, with --scope project, to the
    /// trusted project's .codex/config.toml).
    #[command(
        override_usage = "codex mcp add [OPTIONS] <NAME> (--url <URL> | -- <COMMAND>...)",
        after_help = "Examples:\n  \
            codex mcp add demo -- codex-demo-server --name demo\n  \
            codex mcp add --scope project lint --startup-timeout 20 -- npx -y @acme/lint-mcp\n  \
            codex mcp add api --url https://api.example/mcp --env-header X-Api-Key=API_KEY --enabled-tools search,fetch\n  \
            codex mcp add docs --env API_KEY=... -- npx -y @acme/docs-mcp\n  \
            codex mcp add remote --url https://mcp.example.com/mcp --bearer-token-env-var EXAMPLE_TOKEN\n  \
            printf %s \"$SECRET\" | codex mcp add corp --url https://mcp.corp.example/mcp --oauth-client-id codex-cli --oauth-client-secret-stdin"
    )]
    Add(AddArgs),
    /// Remove an MCP server from $CODEX_HOME/config.toml (or, with --scope project, from
    /// the project's .codex/config.toml).
    #[command(
        after_help = "Examples:\n  codex mcp remove docs\n  codex mcp remove --scope project lint"
    )]
    Remove(RemoveArgs),
    /// Log in to an HTTP server that asks for OAuth, and store the tokens.
    #[command(after_help = "Examples:\n  \
        codex mcp login docs\n  \
        codex mcp login docs --no-browser            # print the URL, paste the redirect back\n  \
        codex mcp login docs --scopes read,write --callback-port 8765\n  \
        printf %s \"$SECRET\" | codex mcp login corp --client-id codex-cli --client-secret-stdin\n  \
        codex mcp login docs --device                # approve on another device\n  \
        printf %s \"$SECRET\" | codex mcp login ci --client-credentials --client-id ci-bot --client-secret-stdin\n  \
        codex mcp login ci --client-credentials --client-id ci-bot --private-key ci-bot.pem --json\n  \
        printf %s \"$SECRET\" | codex mcp login corp --id-token-file ~/.idp/id_token --idp-url https://idp.example.com --client-id codex --client-secret-stdin")]
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
        codex mcp call --url http://127.0.0.1:3001/mcp get-sum --args '{\"a\":2,\"b\":3}'\n  \
        codex mcp call everything get-tiny-image --output-dir ./images\n  \
        codex mcp call everything trigger-elicitation-request --elicit '{\"name\":\"Ada\"}'\n  \
        codex mcp call everything trigger-long-running-operation --log-level info")]
    Call(CallArgs),
    /// List the resources of one server, or of every enabled server (all pages).
    #[command(after_help = "Examples:\n  \
        codex mcp resources\n  \
        codex mcp resources everything --json")]
    Resources(ListArgs),
    /// List the resource templates of one server, or of every enabled server (all pages).
    #[command(after_help = "Examples:\n  codex mcp templates everything")]
    Templates(ListArgs),
    /// Read one resource: text to stdout, binary contents to --output FILE.
    #[command(
        override_usage = "codex mcp read [OPTIONS] <NAME> <URI>\n       codex mcp read [OPTIONS] --url <URL> <URI>",
        after_help = "Examples:\n  \
            codex mcp read everything demo://resource/static/document/features.md\n  \
            codex mcp read everything demo://resource/dynamic/blob/1 --output blob.bin"
    )]
    Read(ReadArgs),
    /// List the prompts of one server, or of every enabled server (all pages).
    #[command(after_help = "Examples:\n  codex mcp prompts everything --json")]
    Prompts(ListArgs),
    /// Get one prompt with its arguments filled in, and print its messages.
    #[command(
        override_usage = "codex mcp prompt [OPTIONS] <NAME> <PROMPT>\n       codex mcp prompt [OPTIONS] --url <URL> <PROMPT>",
        after_help = "Examples:\n  \
            codex mcp prompt everything simple-prompt\n  \
            codex mcp prompt everything args-prompt --args '{\"city\":\"Paris\"}' --json"
    )]
    Prompt(PromptArgs),
    /// Ask a server to complete an argument of a prompt or a resource template.
    #[command(
        override_usage = "codex mcp complete [OPTIONS] <NAME> (--prompt <PROMPT> | --template <URI>) --argument <NAME=PARTIAL>",
        after_help = "Examples:\n  \
            codex mcp complete everything --prompt completable-prompt --argument department=E\n  \
            codex mcp complete everything --prompt completable-prompt --argument name=A --context department=Engineering\n  \
            codex mcp complete everything --template 'demo://resource/dynamic/text/{resourceId}' --argument resourceId=1"
    )]
    Complete(CompleteArgs),
    /// Connect to a server and measure one ping's round trip.
    #[command(
        after_help = "Examples:\n  codex mcp ping everything\n  codex mcp ping --url http://127.0.0.1:3001/mcp --json"
    )]
    Ping(PingArgs),
    /// An interactive session on one connection: tools, resources and prompts by name,
    /// with completion and history (commands are read from stdin when it is not a terminal).
    #[command(after_help = "Examples:\n  \
        codex mcp shell everything\n  \
        codex mcp shell --url http://127.0.0.1:3001/mcp\n  \
        printf 'tools\\ncall echo message=hi\\n' | codex mcp shell everything\n\n\
        Type `help` in the shell for its commands. Ctrl-C cancels a call, Ctrl-D quits.")]
    Shell(ShellArgs),
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

/// Which config file `mcp add` and `mcp remove` change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// $CODEX_HOME/config.toml.
    #[default]
    User,
    /// The trusted project's .codex/config.toml (at the project root).
    Project,
}

impl Scope {
    /// `user` or `project`, as the flag takes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Project => "project",
        }
    }
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The server's name.
    pub name: String,
    /// The file to remove it from.
    #[arg(long, value_enum, default_value_t = Scope::User)]
    pub scope: Scope,
}

#[derive(Debug, Args)]
pub struct NameAndJson {
    /// The server's name.
    pub name: String,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

// The HTTP-only flags conflict with a command rather than require `url`:
// clap waives a requirement whose target conflicts with a present argument.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("transport").args(["command", "url"]).required(true).multiple(false))]
pub struct AddArgs {
    /// The server's name (letters, digits, '-', '_').
    pub name: String,

    /// An environment variable for a stdio server: KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = env_entry)]
    pub env: Vec<String>,

    /// The URL of a streamable HTTP server.
    #[arg(long)]
    pub url: Option<String>,

    /// The environment variable holding the bearer token for an HTTP server.
    #[arg(
        long = "bearer-token-env-var",
        value_name = "ENV_VAR",
        conflicts_with = "command"
    )]
    pub bearer_token_env_var: Option<String>,

    /// A header sent on every request to an HTTP server: 'Name: value' (repeatable).
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        conflicts_with = "command"
    )]
    pub headers: Vec<String>,

    /// Do not start an OAuth login, even when the server asks for one.
    #[arg(long, conflicts_with = "command")]
    pub no_login: bool,

    /// An OAuth client ID registered with the server's authorization server
    /// beforehand (written to `[mcp_servers.NAME.oauth]`; no dynamic registration).
    #[arg(long, value_name = "CLIENT_ID", conflicts_with = "command")]
    pub oauth_client_id: Option<String>,

    /// That client's secret. It shows in the process list: prefer --oauth-client-secret-stdin.
    #[arg(
        long,
        value_name = "CLIENT_SECRET",
        requires = "oauth_client_id",
        conflicts_with = "oauth_client_secret_stdin"
    )]
    pub oauth_client_secret: Option<String>,

    /// Read that client's secret from stdin.
    #[arg(long, requires = "oauth_client_id")]
    pub oauth_client_secret_stdin: bool,

    /// How the client gets registered for the login `add` starts (not saved).
    #[arg(long, value_name = "AUTO|CIMD|DCR", value_parser = ["auto", "cimd", "dcr"], conflicts_with = "command")]
    pub oauth_client_registration: Option<String>,

    /// The RFC 8707 resource to ask OAuth tokens for (saved as `oauth_resource`).
    #[arg(long, value_name = "RESOURCE", conflicts_with = "command")]
    pub oauth_resource: Option<String>,

    /// A header whose value an HTTP server reads from an environment variable at
    /// connect time: NAME=ENV_VAR (repeatable; saved as `env_http_headers`).
    #[arg(
        long = "env-header",
        value_name = "NAME=ENV_VAR",
        conflicts_with = "command"
    )]
    pub env_headers: Vec<String>,

    /// The file to add the server to.
    #[arg(long, value_enum, default_value_t = Scope::User)]
    pub scope: Scope,

    /// How long the server may take to start, in seconds (`startup_timeout_sec`).
    #[arg(long, value_name = "SECONDS")]
    pub startup_timeout: Option<f64>,

    /// How long one tool call may take, in seconds (`tool_timeout_sec`).
    #[arg(long, value_name = "SECONDS")]
    pub tool_timeout: Option<f64>,

    /// Only these tools are offered (comma-separated raw names; `enabled_tools`).
    #[arg(long, value_name = "TOOL,...", value_delimiter = ',')]
    pub enabled_tools: Option<Vec<String>>,

    /// These tools are never offered (comma-separated raw names; `disabled_tools`).
    #[arg(long, value_name = "TOOL,...", value_delimiter = ',')]
    pub disabled_tools: Option<Vec<String>>,

    /// Add the server turned off (`enabled = false`); `codex mcp enable NAME` turns it on.
    #[arg(long)]
    pub disabled: bool,

    /// Print the result as JSON (the server as `mcp get --json` shows it, and the file).
    #[arg(long)]
    pub json: bool,

    /// The command (and its arguments) that starts a stdio server, after `--`.
    #[arg(trailing_var_arg = true, num_args = 0.., value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `--env KEY=VALUE`: without `=` it is a usage error, as in Codex.
fn env_entry(raw: &str) -> Result<String, String> {
    if raw.contains('=') {
        Ok(raw.to_owned())
    } else {
        Err("environment entries must be in KEY=VALUE form".to_owned())
    }
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
    /// terminal or $BROWSER (with either, that is the default).
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
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Log in as the client itself, without a person or a browser (the OAuth
    /// client-credentials grant): the client ID from --client-id or
    /// `[mcp_servers.NAME.oauth] client_id`, authenticated by its secret
    /// (--client-secret-stdin) or its key (--private-key).
    #[arg(long, conflicts_with_all = ["no_browser", "callback_port", "device", "id_token_file"])]
    pub client_credentials: bool,
    /// Authenticate the client with a JWT signed by this PEM private key
    /// (`private_key_jwt`) instead of a secret; the file is read again
    /// whenever a new token is needed.
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret_stdin")]
    pub private_key: Option<std::path::PathBuf>,
    /// The JWS algorithm of that JWT (default: ES256 or ES384 for an EC key,
    /// RS256 for RSA, EdDSA for Ed25519).
    #[arg(long, value_name = "ALG", requires = "private_key")]
    pub signing_algorithm: Option<String>,
    /// Log in on another device (RFC 8628 device authorization): prints a
    /// code and a page to open on any phone or computer.
    #[arg(long, conflicts_with_all = ["no_browser", "callback_port", "id_token_file"])]
    pub device: bool,
    /// Enterprise-managed login: the file that holds your ID token from the
    /// company's identity provider, exchanged there for an ID-JAG and that
    /// for the server's token (read again whenever a new token is needed).
    #[arg(long, value_name = "FILE", requires = "idp_url", conflicts_with_all = ["no_browser", "callback_port"])]
    pub id_token_file: Option<std::path::PathBuf>,
    /// The identity provider's issuer URL (with --id-token-file).
    #[arg(long, value_name = "URL", requires = "id_token_file")]
    pub idp_url: Option<String>,
    /// This client's ID at the identity provider (with --id-token-file).
    #[arg(long, value_name = "ID", requires = "id_token_file")]
    pub idp_client_id: Option<String>,
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
    /// Save images and audio of the result in this directory (created if missing), each
    /// file named in the output.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub session: SessionFlags,
    /// Print the whole result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// How the client answers what a server asks during a session, and what it shows.
#[derive(Debug, Args, Clone, Default)]
pub struct SessionFlags {
    /// A directory offered to the server as a root (repeatable; default: `mcp_roots` in
    /// config, else the working directory).
    #[arg(long = "root", value_name = "DIR")]
    pub roots: Vec<std::path::PathBuf>,
    /// Answer the server's questions (elicitation) with this JSON object instead of asking on
    /// the terminal; fields it leaves out take the form's defaults.
    #[arg(long, value_name = "JSON")]
    pub elicit: Option<String>,
    /// Show the server's log messages at this level and above on stderr (asked for with
    /// logging/setLevel).
    #[arg(
        long,
        value_name = "LEVEL",
        default_value = "warning",
        value_parser = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
    )]
    pub log_level: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The server; without it (and without --url), every enabled server.
    #[arg(conflicts_with = "url")]
    pub name: Option<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    #[command(flatten)]
    pub session: SessionFlags,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The server, then the resource's URI (with --url: only the URI).
    #[arg(value_name = "NAME", required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    #[command(flatten)]
    pub session: SessionFlags,
    /// Write the contents to this file instead of stdout (needed for binary contents on a
    /// terminal).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Print the whole result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The server, then the prompt's name (with --url: only the prompt).
    #[arg(value_name = "NAME", required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    #[command(flatten)]
    pub session: SessionFlags,
    /// The prompt's arguments: a JSON object of strings.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub args: String,
    /// Print the whole result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("reference").args(["prompt", "template"]).required(true).multiple(false))]
pub struct CompleteArgs {
    /// The server (not with --url).
    #[arg(conflicts_with = "url", required_unless_present = "url")]
    pub name: Option<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    #[command(flatten)]
    pub session: SessionFlags,
    /// Complete an argument of this prompt.
    #[arg(long, value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Complete a variable of the resource template with this URI template.
    #[arg(long, value_name = "URI")]
    pub template: Option<String>,
    /// The argument and what is typed of it so far: NAME=PARTIAL.
    #[arg(long, value_name = "NAME=PARTIAL", required = true)]
    pub argument: String,
    /// The value of another argument already chosen: NAME=VALUE (repeatable).
    #[arg(long = "context", value_name = "NAME=VALUE")]
    pub context: Vec<String>,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PingArgs {
    /// The server (not with --url).
    #[arg(conflicts_with = "url", required_unless_present = "url")]
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
pub struct ShellArgs {
    /// The server (not with --url).
    #[arg(conflicts_with = "url", required_unless_present = "url")]
    pub name: Option<String>,
    #[command(flatten)]
    pub ad_hoc: AdHocServer,
    #[command(flatten)]
    pub login: LoginFlag,
    #[command(flatten)]
    pub session: SessionFlags,
    /// Save images and audio of tool results in this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<std::path::PathBuf>,
    /// Print every result as JSON.
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

    /// Read an access token (an Agent Identity JWT) from stdin, check it with ChatGPT, and store it.
    #[arg(long, conflicts_with = "with_api_key")]
    pub with_access_token: bool,

    /// Log in with a one-time code entered on another device, instead of a local browser.
    #[arg(long, conflicts_with_all = ["with_api_key", "with_access_token"])]
    pub device_auth: bool,

    /// The issuer to log in with (default https://auth.openai.com).
    #[arg(
        long = "experimental_issuer",
        value_name = "URL",
        env = "CODEX_LOGIN_ISSUER",
        hide = true,
        hide_env_values = true
    )]
    pub issuer: Option<String>,

    /// The OAuth client to log in as (default Codex's).
    #[arg(
        long = "experimental_client-id",
        value_name = "ID",
        env = "CODEX_LOGIN_CLIENT_ID",
        hide = true,
        hide_env_values = true
    )]
    pub client_id: Option<String>,

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

const MCP_SERVER_HELP: &str =
    "Tools and prompts are named mcp__SERVER__NAME as Codex names them; --names plain keeps
each server's own names where no two servers share one. Servers start on first use
(--eager: at start); one that fails is named in its tools' errors and tried again next time;
--idle-timeout stops one unused that long. [mcp_gateway] in config.toml sets the defaults of
these flags (servers, names, include_tools/exclude_tools, idle_timeout_sec, listen, ...).
Over HTTP the gateway listens at http://ADDR/mcp with a bearer token (from --token-env-var,
or generated and printed once on standard error); GET /health needs none. --poll-after closes
a long call's event stream for the client to resume with Last-Event-ID (MCP's SSE polling).

Examples:
  codex mcp-server                                   # stdio, for an editor or another agent
  codex mcp-server --servers docs,search --names plain
  MCP_GATEWAY_TOKEN=... codex mcp-server --listen 127.0.0.1:8765 --token-env-var MCP_GATEWAY_TOKEN";

/// How the gateway names tools and prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GatewayNames {
    /// `mcp__server__tool`, as Codex names them.
    Qualified,
    /// Each server's own names where they are unique and valid.
    Plain,
}

#[derive(Debug, Args)]
pub struct McpServerArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (for example 127.0.0.1:8765; port 0 picks one).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The environment variable holding the bearer token clients must send.
    #[arg(long, value_name = "VAR", conflicts_with = "no_auth")]
    pub token_env_var: Option<String>,
    /// Accept HTTP clients without a token (loopback addresses only).
    #[arg(long)]
    pub no_auth: bool,
    /// Also accept requests from web pages of this origin (scheme://host[:port]).
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// How tools and prompts are named [default: qualified].
    #[arg(long, value_enum)]
    pub names: Option<GatewayNames>,
    /// Serve only these configured servers.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub servers: Vec<String>,
    /// Serve only the tools matching one of these SERVER/TOOL globs (`*`, `?`).
    #[arg(long, value_name = "GLOB,...", value_delimiter = ',')]
    pub tools: Vec<String>,
    /// Never serve the tools matching one of these SERVER/TOOL globs.
    #[arg(long, value_name = "GLOB,...", value_delimiter = ',')]
    pub exclude_tools: Vec<String>,
    /// Stop a server that was not used for this many seconds (it starts again on next use).
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// Start every server now instead of on first use.
    #[arg(long)]
    pub eager: bool,
    /// The largest HTTP request body accepted, in bytes [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// How many HTTP requests are handled at once; more get 503 [default: 256].
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Start every HTTP session id with NAME (for MCP-Session-Id affinity behind a load balancer).
    #[arg(long, value_name = "NAME")]
    pub instance_id: Option<String>,
    /// Close the event stream of an HTTP call still running after SECS; the client resumes it with Last-Event-ID [default: never].
    #[arg(long, value_name = "SECS")]
    pub poll_after: Option<u64>,
}
