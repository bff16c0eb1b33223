//! One function per command.

mod app_server;
mod completion;
mod config;
mod doctor;
mod features;
mod login;
mod mcp_auth;
mod mcp_call;
mod mcp_config;
mod mcp_content;
mod mcp_enable;
mod mcp_events;
mod mcp_interrupt;
mod mcp_prompts;
mod mcp_resources;
mod mcp_server;
mod mcp_session;
mod mcp_shell;
mod mcp_shell_editor;
mod mcp_shell_line;
mod mcp_shell_lists;
mod mcp_tools;
mod plugin;
mod responses_api_proxy;
mod sandbox;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{
    AppServerArgs, AppServerCommand, Cli, Command, ConfigCommand, DebugCommand, FeaturesCommand,
    McpCommand, PluginCommand, SandboxAlias,
};
use codex_host::App;

pub use mcp_interrupt::Interrupted;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    // Diagnostics and generated files work even when the config does not load.
    match &cli.command {
        Command::Debug(DebugCommand::ProcessState) => return debug(),
        Command::Completion(args) => return completion::completion(args.shell),
        Command::ManPages(args) => return completion::man_pages(&args.dir),
        Command::ResponsesApiProxy(args) => return responses_api_proxy::run(&args.args),
        Command::AppServer(AppServerArgs {
            command: Some(AppServerCommand::GenerateJsonSchema(args)),
        }) => return app_server::generate_json_schema(args),
        // It reports a config that does not load instead of failing on it.
        Command::Doctor(args) => return doctor::doctor(cli.global.run_options(), args.json),
        _ => {}
    }
    let creates_profile = matches!(
        cli.command,
        Command::Features(FeaturesCommand::Enable(_) | FeaturesCommand::Disable(_))
    );
    let app = if creates_profile {
        App::load_creating_profile(cli.global.run_options())?
    } else {
        App::load(cli.global.run_options())?
    };
    match cli.command {
        Command::Mcp(McpCommand::List(args)) => mcp_config::list(&app, args.json),
        Command::Mcp(McpCommand::Get(args)) => mcp_config::get(&app, &args.name, args.json),
        Command::Mcp(McpCommand::Add(args)) => mcp_config::add(&app, args),
        Command::Mcp(McpCommand::Remove(args)) => mcp_config::remove(&app, args),
        Command::Mcp(McpCommand::Login(args)) => mcp_auth::login(&app, args),
        Command::Mcp(McpCommand::Logout(args)) => mcp_auth::logout(&app, &args.name),
        Command::Mcp(McpCommand::Tools(args)) => mcp_tools::tools(&app, args),
        Command::Mcp(McpCommand::Call(args)) => mcp_call::call(&app, args),
        Command::Mcp(McpCommand::Resources(args)) => mcp_resources::resources(&app, args),
        Command::Mcp(McpCommand::Templates(args)) => mcp_resources::templates(&app, args),
        Command::Mcp(McpCommand::Read(args)) => mcp_resources::read(&app, args),
        Command::Mcp(McpCommand::Prompts(args)) => mcp_prompts::prompts(&app, args),
        Command::Mcp(McpCommand::Prompt(args)) => mcp_prompts::prompt(&app, args),
        Command::Mcp(McpCommand::Complete(args)) => mcp_prompts::complete(&app, args),
        Command::Mcp(McpCommand::Ping(args)) => mcp_prompts::ping(&app, args),
        Command::Mcp(McpCommand::Shell(args)) => mcp_shell::shell(&app, args),
        Command::Mcp(McpCommand::Enable(args)) => mcp_enable::set_enabled(&app, &args.name, true),
        Command::Mcp(McpCommand::Disable(args)) => mcp_enable::set_enabled(&app, &args.name, false),
        Command::Plugin(PluginCommand::List(args)) => plugin::list(&app, args.json),
        Command::Plugin(PluginCommand::Info(args)) => plugin::info(&app, &args.name, args.json),
        Command::Features(FeaturesCommand::List(args)) => features::list(&app, args.json),
        Command::Features(FeaturesCommand::Enable(args)) => features::set(&app, &args.key, true),
        Command::Features(FeaturesCommand::Disable(args)) => features::set(&app, &args.key, false),
        Command::Features(FeaturesCommand::Explain(args)) => {
            features::explain(&app, &args.key, args.json)
        }
        Command::Config(ConfigCommand::Show(args)) => config::show(&app, &args),
        Command::Config(ConfigCommand::MigrateProfiles(args)) => {
            config::migrate_profiles(&app, args.json)
        }
        Command::AppServer(AppServerArgs { command: None }) => app_server::run(app),
        Command::AppServer(AppServerArgs {
            command: Some(AppServerCommand::GenerateJsonSchema(args)),
        }) => app_server::generate_json_schema(&args),
        Command::Login(args) => login::login(&app, args),
        Command::Logout => login::logout(&app),
        Command::Sandbox(args) => match args.alias {
            Some(SandboxAlias::Linux(run)) => sandbox::run(&app, run),
            None => sandbox::run(&app, args.run),
        },
        Command::Debug(DebugCommand::Landlock(run)) => sandbox::run(&app, run),
        Command::Debug(DebugCommand::ProcessState) => debug(),
        Command::Completion(args) => completion::completion(args.shell),
        Command::ManPages(args) => completion::man_pages(&args.dir),
        Command::Doctor(args) => doctor::doctor(cli.global.run_options(), args.json),
        Command::ResponsesApiProxy(args) => responses_api_proxy::run(&args.args),
        Command::McpServer(args) => mcp_server::serve(app, args),
    }
}

fn debug() -> Result<ExitCode> {
    crate::output::print_json(&crate::hardening::state())?;
    Ok(ExitCode::SUCCESS)
}

/// A multi-threaded runtime for commands that talk to servers.
fn runtime() -> Result<CommandRuntime> {
    Ok(CommandRuntime(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?,
    ))
}

/// How long the end of a command waits for threads still inside plugin
/// code. The host gave up on those calls at their deadline; the grace only
/// lets one that is about to return clean up after itself (a late connect
/// closes what it opened).
const PLUGIN_EXIT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A runtime that runs one future and then shuts down without waiting for
/// ever: dropping a tokio runtime waits for every blocking thread, and one
/// stuck in a plugin that never returns would keep the command from ending
/// after it has already failed with its timeout.
struct CommandRuntime(tokio::runtime::Runtime);

impl CommandRuntime {
    fn block_on<F: std::future::Future>(self, future: F) -> F::Output {
        let output = self.0.block_on(future);
        self.0.shutdown_timeout(PLUGIN_EXIT_GRACE);
        output
    }
}
