//! One function per command.

mod config;
mod features;
mod login;
mod mcp_auth;
mod mcp_config;
mod mcp_tools;
mod plugin;

use std::process::ExitCode;

use anyhow::Result;

use crate::app::App;
use crate::cli::{
    Cli, Command, ConfigCommand, DebugCommand, FeaturesCommand, McpCommand, PluginCommand,
};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    // Diagnostics work even when the config does not load.
    if let Command::Debug(command) = &cli.command {
        return debug(command);
    }
    let creates_profile = matches!(
        cli.command,
        Command::Features(FeaturesCommand::Enable(_) | FeaturesCommand::Disable(_))
    );
    let app = if creates_profile {
        App::load_creating_profile(cli.global)?
    } else {
        App::load(cli.global)?
    };
    match cli.command {
        Command::Mcp(McpCommand::List(args)) => mcp_config::list(&app, args.json),
        Command::Mcp(McpCommand::Get(args)) => mcp_config::get(&app, &args.name, args.json),
        Command::Mcp(McpCommand::Add(args)) => mcp_config::add(&app, args),
        Command::Mcp(McpCommand::Remove(args)) => mcp_config::remove(&app, &args.name),
        Command::Mcp(McpCommand::Login(args)) => mcp_auth::login(&app, args),
        Command::Mcp(McpCommand::Logout(args)) => mcp_auth::logout(&app, &args.name),
        Command::Mcp(McpCommand::Tools(args)) => mcp_tools::tools(&app, args),
        Command::Mcp(McpCommand::Call(args)) => mcp_tools::call(&app, args),
        Command::Plugin(PluginCommand::List(args)) => plugin::list(&app, args.json),
        Command::Plugin(PluginCommand::Info(args)) => plugin::info(&app, &args.name, args.json),
        Command::Features(FeaturesCommand::List(args)) => features::list(&app, args.json),
        Command::Features(FeaturesCommand::Enable(args)) => features::set(&app, &args.key, true),
        Command::Features(FeaturesCommand::Disable(args)) => features::set(&app, &args.key, false),
        Command::Features(FeaturesCommand::Explain(args)) => {
            features::explain(&app, &args.key, args.json)
        }
        Command::Config(ConfigCommand::Show(args)) => config::show(&app, &args),
        Command::Login(args) => login::login(&app, args),
        Command::Logout => login::logout(&app),
        Command::Debug(command) => debug(&command),
    }
}

fn debug(command: &DebugCommand) -> Result<ExitCode> {
    match command {
        DebugCommand::ProcessState => crate::output::print_json(&crate::hardening::state())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A multi-threaded runtime for commands that talk to servers.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
