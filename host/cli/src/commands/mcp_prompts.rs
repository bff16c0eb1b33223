//! `codex mcp prompts`, `codex mcp prompt`, `codex mcp complete` and `codex mcp ping`.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::server_features::CompletionTarget;
use rmcp::model::{CompletionInfo, GetPromptResult, Prompt};
use serde_json::{Map, Value, json};

use super::mcp_content::MediaFiles;
use super::mcp_session::{
    Usage, client_options, json_kind, json_object, on_every_server, one_line, one_server,
    print_lists, selected_servers, server_and_item, usage_error, with_session,
};
use crate::cli::{CompleteArgs, ListArgs, PingArgs, PromptArgs};
use crate::output::{print_json, write_stdout};
use codex_host::App;

pub fn prompts(app: &App, args: ListArgs) -> Result<ExitCode> {
    let servers = selected_servers(app, args.name.as_deref(), &args.ad_hoc)?;
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let outcomes = on_every_server(app, servers, &args.login, options, async |session| {
        session.list_prompts().await
    })?;
    print_lists(outcomes, args.json, "prompts", PROMPT_HEADERS, prompt_row)
}

/// The columns of `mcp prompts` after the server's.
pub const PROMPT_HEADERS: &[&str] = &["Prompt", "Arguments", "Description"];

/// A prompt's row: its name, its arguments (`[optional]`), its description.
pub fn prompt_row(prompt: &Prompt) -> Vec<String> {
    let arguments: Vec<String> = prompt
        .arguments
        .iter()
        .flatten()
        .map(|argument| {
            if argument.required == Some(true) {
                argument.name.clone()
            } else {
                format!("[{}]", argument.name)
            }
        })
        .collect();
    vec![
        prompt.name.clone(),
        arguments.join(" "),
        one_line(prompt.description.as_deref().unwrap_or("")),
    ]
}

pub fn prompt(app: &App, args: PromptArgs) -> Result<ExitCode> {
    let arguments = match json_object("--args", &args.args, r#"{"city":"Paris"}"#)
        .and_then(|arguments| prompt_arguments("--args", arguments))
    {
        Ok(arguments) => arguments,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let (name, server, prompt) =
        match server_and_item(app, &args.target, &args.ad_hoc, "prompt", "prompt")? {
            Ok(target) => target,
            Err(usage) => return Ok(usage_error(usage)),
        };
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let result = with_session(app, &name, &server, &args.login, options, async |session| {
        session.get_prompt(&prompt, arguments).await
    })?;
    print_prompt(&result, &name, &prompt, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prompt arguments are strings on the wire: any other value is refused.
fn prompt_arguments(
    flag: &str,
    arguments: Map<String, Value>,
) -> std::result::Result<Map<String, Value>, Usage> {
    match arguments.iter().find(|(_, value)| !value.is_string()) {
        Some((key, value)) => Err(Usage(format!(
            "{flag}: prompt arguments are strings, but `{key}` is {}\nhelp: quote it, for example {flag} '{{\"{key}\":\"{}\"}}'",
            json_kind(value),
            value
        ))),
        None => Ok(arguments),
    }
}

/// Prints a prompt as `mcp prompt` does: its description, then each
/// message with its role.
pub fn print_prompt(result: &GetPromptResult, name: &str, prompt: &str, json: bool) -> Result<()> {
    if json {
        print_json(&serde_json::to_value(result).context("cannot encode the prompt")?)?;
        return Ok(());
    }
    let mut media = MediaFiles::new(None, prompt, format!("codex mcp read {name}"));
    let mut text = String::new();
    if let Some(description) = &result.description {
        text.push_str(&format!("{description}\n\n"));
    }
    for message in &result.messages {
        let role = serde_json::to_value(&message.role)
            .ok()
            .and_then(|role| role.as_str().map(str::to_string))
            .unwrap_or_default();
        text.push_str(&format!("[{role}]\n{}", media.render(&message.content)?));
    }
    write_stdout(&text)
}

pub fn complete(app: &App, args: CompleteArgs) -> Result<ExitCode> {
    let Some((argument, partial)) = args.argument.split_once('=') else {
        return Ok(usage_error(Usage(format!(
            "--argument `{}`: expected NAME=PARTIAL\nhelp: for example --argument department=Eng",
            args.argument
        ))));
    };
    let mut context = HashMap::new();
    for pair in &args.context {
        let Some((key, value)) = pair.split_once('=') else {
            return Ok(usage_error(Usage(format!(
                "--context `{pair}`: expected NAME=VALUE\nhelp: for example --context department=Engineering"
            ))));
        };
        context.insert(key.to_string(), value.to_string());
    }
    let target = match (&args.prompt, &args.template) {
        (Some(prompt), _) => CompletionTarget::Prompt(prompt.clone()),
        (None, Some(template)) => CompletionTarget::Template(template.clone()),
        (None, None) => {
            return Ok(usage_error(Usage(
                "give --prompt NAME or --template URI".to_string(),
            )));
        }
    };
    let (name, server) = one_server(app, args.name.as_deref(), &args.ad_hoc)?;
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let completion = with_session(app, &name, &server, &args.login, options, async |session| {
        session.complete(&target, argument, partial, context).await
    })?;
    print_completion(&completion, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints completions as `mcp complete` does: a value a line, then
/// whether there are more.
pub fn print_completion(completion: &CompletionInfo, json: bool) -> Result<()> {
    if json {
        return print_json(&json!({
            "values": completion.values,
            "total": completion.total,
            "has_more": completion.has_more,
        }));
    }
    let mut text: String = completion
        .values
        .iter()
        .map(|value| format!("{value}\n"))
        .collect();
    if completion.has_more == Some(true) {
        let more = completion
            .total
            .map(|total| format!(" ({total} in all)"))
            .unwrap_or_default();
        text.push_str(&format!("… more{more}\n"));
    }
    write_stdout(&text)
}

pub fn ping(app: &App, args: PingArgs) -> Result<ExitCode> {
    let (name, server) = one_server(app, args.name.as_deref(), &args.ad_hoc)?;
    let round_trip = with_session(
        app,
        &name,
        &server,
        &args.login,
        ClientOptions::quiet(),
        async |session| session.ping().await,
    )?;
    print_ping(&name, round_trip, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a ping's round trip as `mcp ping` does.
pub fn print_ping(name: &str, round_trip: Duration, json: bool) -> Result<()> {
    let millis = round_trip.as_secs_f64() * 1000.0;
    if json {
        print_json(&json!({ "name": name, "status": "ok", "round_trip_ms": millis }))
    } else {
        write_stdout(&format!("{name}: pong in {millis:.1} ms\n"))
    }
}
