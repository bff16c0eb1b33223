//! `codex mcp shell`: one connection, many commands. Results print as
//! `mcp call`, `mcp read`, `mcp prompt` and the list commands print them
//! (their printing functions, not copies); a failed command says why and
//! the session goes on. Ctrl-C cancels what runs (a call is sent
//! `notifications/cancelled`); the server's list changes are read again
//! at once, for completion, and told in one line.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow, bail};
use codex_config::McpServerConfig;
use codex_mcp_client::session::{CallOutcome, Session};

use super::mcp_call::{ShownResult, print_result, read_command};
use super::mcp_events::TerminalEvents;
use super::mcp_interrupt::{CtrlC, Interrupted};
use super::mcp_prompts::{PROMPT_HEADERS, print_completion, print_ping, print_prompt, prompt_row};
use super::mcp_resources::{
    RESOURCE_HEADERS, TEMPLATE_HEADERS, print_read, resource_row, template_row,
};
use super::mcp_session::{
    client_options, json_kind, one_server, print_lists, usage_error, with_session_until,
};
use super::mcp_shell_editor::{HISTORY_FILE, Input, LineReader};
use super::mcp_shell_line::{self, COMMANDS, ShellCommand, is_string_property, usage_of};
use super::mcp_shell_lists::{Lists, Names};
use super::mcp_tools::{ServerTools, print_tools};
use crate::cli::ShellArgs;
use crate::output::{print_error, write_stdout};
use codex_host::App;

pub fn shell(app: &App, args: ShellArgs) -> Result<ExitCode> {
    let (name, server) = one_server(app, args.name.as_deref(), &args.ad_hoc)?;
    let (options, events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let names = Arc::new(Mutex::new(Names::default()));
    let (reader, notices) = LineReader::start(
        interactive,
        &app.codex_home.join(HISTORY_FILE),
        names.clone(),
    )?;
    let mut changes = events
        .take_list_changes()
        .ok_or_else(|| anyhow!("the session's list changes are already watched"))?;
    with_session_until(
        app,
        &name,
        &server,
        &args.login,
        options,
        async |session, ctrl_c| {
            let lists = Lists::new(session, &server, names);
            let notice = |line: String| {
                if !notices.above_prompt(&line) {
                    events.notice(&line);
                }
            };
            lists.load_all(&notice).await;
            if interactive {
                let about = session
                    .server_info()
                    .map(|info| format!(" ({} {})", info.name, info.version).replace(" )", ")"))
                    .unwrap_or_default();
                eprintln!(
                    "Connected to MCP server `{name}`{about}. `help` lists the commands; Tab completes; Ctrl-D quits."
                );
            }
            let mut shell = Shell {
                session,
                name: &name,
                server: &server,
                args: &args,
                events: &events,
                ctrl_c,
                lists: &lists,
                reader,
                interactive,
                failed: false,
            };
            let repl = std::pin::pin!(shell.run());
            let watch = std::pin::pin!(lists.watch(&mut changes, &notice));
            tokio::select! {
                code = repl => code,
                () = watch => bail!("MCP server `{name}`: its notifications ended"),
            }
        },
    )
}

/// What one line did to the session.
enum Flow {
    Next,
    Quit,
}

struct Shell<'a> {
    session: &'a Session,
    name: &'a str,
    server: &'a McpServerConfig,
    args: &'a ShellArgs,
    events: &'a TerminalEvents,
    ctrl_c: &'a CtrlC,
    lists: &'a Lists<'a>,
    reader: LineReader,
    interactive: bool,
    /// Whether any command failed (a script's exit status).
    failed: bool,
}

impl Shell<'_> {
    async fn run(&mut self) -> Result<ExitCode> {
        let prompt = format!("{}> ", self.name);
        loop {
            if self.session.is_closed() {
                bail!("MCP server `{}` closed the connection", self.name);
            }
            let input = tokio::select! {
                input = self.reader.read(&prompt) => input?,
                // A terminal's Ctrl-C at the prompt reaches the editor, not
                // this; from a script's caller it ends the session.
                () = self.ctrl_c.next_press() => bail!(Interrupted {
                    during: format!("reading commands for MCP server `{}`", self.name),
                }),
            };
            let line = match input {
                Input::Line(line) => line,
                Input::Interrupted => continue,
                Input::End => break,
            };
            match self.line(&line).await {
                Ok(Flow::Next) => {}
                Ok(Flow::Quit) => break,
                Err(error) => {
                    self.failed = true;
                    print_error(&error);
                }
            }
        }
        Ok(if self.failed && !self.interactive {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }

    /// Runs one line; a usage mistake is an error like any other.
    async fn line(&mut self, line: &str) -> Result<Flow> {
        let command = mcp_shell_line::parse(line).map_err(|usage| anyhow!(usage))?;
        let json = self.args.json;
        match command {
            ShellCommand::Nothing => {}
            ShellCommand::Quit => return Ok(Flow::Quit),
            ShellCommand::Help(topic) => write_stdout(&help(topic.as_deref())?)?,
            ShellCommand::Tools => {
                let tools = self.cancellable("tools/list", self.lists.tools()).await?;
                let Some(tools) = tools else {
                    return Ok(Flow::Next);
                };
                let listed = [ServerTools {
                    name: self.name.to_string(),
                    outcome: Ok(tools),
                }];
                print_tools(&listed, json)?;
            }
            ShellCommand::Resources => {
                if let Some(resources) = self
                    .cancellable("resources/list", self.lists.resources())
                    .await?
                {
                    let outcomes = vec![(self.name.to_string(), Ok(resources))];
                    print_lists(outcomes, json, "resources", RESOURCE_HEADERS, resource_row)?;
                }
            }
            ShellCommand::Templates => {
                if let Some(templates) = self
                    .cancellable("resources/templates/list", self.lists.templates())
                    .await?
                {
                    let outcomes = vec![(self.name.to_string(), Ok(templates))];
                    print_lists(outcomes, json, "templates", TEMPLATE_HEADERS, template_row)?;
                }
            }
            ShellCommand::Prompts => {
                if let Some(prompts) = self
                    .cancellable("prompts/list", self.lists.prompts())
                    .await?
                {
                    let outcomes = vec![(self.name.to_string(), Ok(prompts))];
                    print_lists(outcomes, json, "prompts", PROMPT_HEADERS, prompt_row)?;
                }
            }
            ShellCommand::Call { tool, arguments } => self.call(&tool, &arguments).await?,
            ShellCommand::Read { uri, output } => {
                if let Some(result) = self
                    .cancellable("resources/read", self.session.read_resource(&uri))
                    .await?
                {
                    print_read(&result, self.name, &uri, output.as_deref(), json)?;
                }
            }
            ShellCommand::Prompt { name, arguments } => {
                let arguments = mcp_shell_line::arguments(&arguments, |_| true)
                    .map_err(|problem| anyhow!("prompt `{name}`: {problem}"))?;
                if let Some((key, value)) = arguments.iter().find(|(_, value)| !value.is_string()) {
                    bail!(
                        "prompt `{name}`: its arguments are strings, but `{key}` is {}\nhelp: quote it (\"{key}\": \"{value}\") or write {key}={value}",
                        json_kind(value)
                    );
                }
                if let Some(result) = self
                    .cancellable("the prompt", self.session.get_prompt(&name, arguments))
                    .await?
                {
                    print_prompt(&result, self.name, &name, json)?;
                }
            }
            ShellCommand::Complete {
                target,
                argument,
                partial,
                context,
            } => {
                let completing = self.session.complete(&target, &argument, &partial, context);
                if let Some(completion) = self.cancellable("the completion", completing).await? {
                    print_completion(&completion, json)?;
                }
            }
            ShellCommand::Ping => {
                if let Some(round_trip) = self.cancellable("the ping", self.session.ping()).await? {
                    print_ping(self.name, round_trip, json)?;
                }
            }
        }
        Ok(Flow::Next)
    }

    /// Calls `tool` with the arguments as typed; Ctrl-C cancels the call
    /// and the session goes on.
    async fn call(&mut self, tool: &str, typed: &str) -> Result<()> {
        if !self.server.tool_allowed(tool) {
            bail!(
                "tool `{tool}` of MCP server `{}` is turned off by `enabled_tools`/`disabled_tools` in config",
                self.name
            );
        }
        let schema = self.input_schema(tool);
        let arguments = mcp_shell_line::arguments(typed, |key| {
            schema
                .as_ref()
                .is_some_and(|schema| is_string_property(schema, key))
        })
        .map_err(|problem| anyhow!("tool `{tool}`: {problem}\nhelp: {}", usage_of("call")))?;
        let outcome = self
            .session
            .call_tool_until(tool, arguments, self.ctrl_c.next_press())
            .await;
        self.events.finish();
        match outcome? {
            CallOutcome::Cancelled => {
                eprintln!(
                    "cancelled: tool `{tool}` of MCP server `{}` was told to stop (notifications/cancelled)",
                    self.name
                );
            }
            CallOutcome::Done(result) => {
                let shown = ShownResult {
                    tool,
                    server: self.name,
                    read_command: read_command(self.name, &self.args.ad_hoc),
                    output_dir: self.args.output_dir.as_deref(),
                    json: self.args.json,
                };
                if !print_result(&result, &shown)? {
                    self.failed = true;
                }
            }
        }
        Ok(())
    }

    /// The input schema of `tool` from the list held.
    fn input_schema(&self, tool: &str) -> Option<super::mcp_shell_lists::Schema> {
        self.lists.schema(tool)
    }

    /// Runs a request that Ctrl-C abandons (rmcp then tells the server
    /// `notifications/cancelled`): `None` when it was.
    async fn cancellable<T>(
        &self,
        what: &str,
        request: impl Future<Output = Result<T>>,
    ) -> Result<Option<T>> {
        tokio::select! {
            answer = request => answer.map(Some),
            () = self.ctrl_c.next_press() => {
                eprintln!("cancelled: {what} of MCP server `{}`", self.name);
                Ok(None)
            }
        }
    }
}

/// The commands, or how one is written.
fn help(topic: Option<&str>) -> Result<String> {
    if let Some(topic) = topic {
        let Some((name, _, about)) = COMMANDS.iter().find(|(name, _, _)| *name == topic) else {
            bail!("no command `{topic}`; `help` lists them");
        };
        return Ok(format!("{}\n  {about}\n", usage_of(name)));
    }
    let rows: Vec<(String, &str)> = COMMANDS
        .iter()
        .map(|(name, _, about)| (usage_of(name), *about))
        .collect();
    let width = rows.iter().map(|(usage, _)| usage.len()).max().unwrap_or(0);
    let mut text = String::from("Commands:\n");
    for (usage, about) in rows {
        text.push_str(&format!("  {usage:width$}  {about}\n"));
    }
    text.push_str(
        "Arguments are a JSON object or key=value words (values are JSON unless the tool says \
         string; quote spaces: key='a b').\nTab completes commands, tools, prompts and URIs.\n",
    );
    Ok(text)
}
