//! `codex mcp call`: one tool call on one connection, its result printed
//! (structured content as JSON, media saved with `--output-dir`), Ctrl-C
//! cancelling it (exit 130).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use super::mcp_content::MediaFiles;
use super::mcp_session::{
    client_options, json_object, server_and_item, usage_error, with_session_until,
};
use super::mcp_shell_lists::{Lists, SharedNames};
use crate::cli::{AdHocServer, CallArgs};
use crate::output::{print_json, write_stdout};
use codex_host::App;
use codex_mcp_client::session::CallOutcome;

pub fn call(app: &App, args: CallArgs) -> Result<ExitCode> {
    let arguments = match json_object("--args", &args.args, r#"{"message":"hi"}"#) {
        Ok(arguments) => arguments,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let (name, server, tool) =
        match server_and_item(app, &args.target, &args.ad_hoc, "call", "tool")? {
            Ok(target) => target,
            Err(usage) => return Ok(usage_error(usage)),
        };
    if !server.tool_allowed(&tool) {
        bail!(
            "tool `{tool}` of MCP server `{name}` is turned off by `enabled_tools`/`disabled_tools` in config"
        );
    }
    let (options, events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let outcome = with_session_until(
        app,
        &name,
        &server,
        &args.login,
        options,
        async |session, ctrl_c| {
            let mut call =
                std::pin::pin!(session.call_tool_until(&tool, arguments, ctrl_c.next_press()));
            // A server may change its lists during a long call: they are
            // read again and the user told, as in `mcp shell`.
            let lists = Lists::new(session, &server, SharedNames::default());
            let outcome = match events.take_list_changes() {
                Some(mut changes) => {
                    let notice = |line: String| events.notice(&line);
                    tokio::select! {
                        outcome = &mut call => outcome,
                        () = lists.watch(&mut changes, &notice) => call.await,
                    }
                }
                None => call.await,
            };
            events.finish();
            outcome
        },
    )?;
    let result = match outcome {
        CallOutcome::Done(result) => result,
        CallOutcome::Cancelled => {
            eprintln!(
                "cancelled: tool `{tool}` of MCP server `{name}` was told to stop (notifications/cancelled) and the connection closed"
            );
            return Ok(ExitCode::from(130));
        }
    };
    let shown = ShownResult {
        tool: &tool,
        server: &name,
        read_command: read_command(&name, &args.ad_hoc),
        output_dir: args.output_dir.as_deref(),
        json: args.json,
    };
    Ok(if print_result(&result, &shown)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The command that reads a resource of this server: `codex mcp read NAME`
/// (or `--url URL`).
pub fn read_command(name: &str, ad_hoc: &AdHocServer) -> String {
    match ad_hoc.url.as_deref() {
        Some(url) => format!("codex mcp read --url {url}"),
        None => format!("codex mcp read {name}"),
    }
}

/// How a tool result is printed.
pub struct ShownResult<'a> {
    pub tool: &'a str,
    pub server: &'a str,
    pub read_command: String,
    /// `--output-dir`: where images and audio are saved.
    pub output_dir: Option<&'a Path>,
    pub json: bool,
}

/// Prints a tool result as `mcp call` does: the result as JSON, or each
/// block for a person (on stderr when the tool reported an error). Whether
/// the tool succeeded (no `isError`).
pub fn print_result(result: &CallToolResult, shown: &ShownResult) -> Result<bool> {
    let mut media = MediaFiles::new(shown.output_dir, shown.tool, shown.read_command.clone());
    if shown.json {
        print_json(&serde_json::to_value(result).context("cannot encode the tool result")?)?;
        // The JSON stays the server's result; the files saved are named on stderr.
        for block in &result.content {
            if matches!(block, ContentBlock::Image(_) | ContentBlock::Audio(_))
                && shown.output_dir.is_some()
            {
                eprint!("{}", media.render(block)?);
            }
        }
    } else {
        let text = render_result(result, &mut media)?;
        if result.is_error == Some(true) {
            eprint!("{text}");
        } else {
            write_stdout(&text)?;
        }
    }
    if result.is_error == Some(true) {
        eprintln!(
            "error: tool `{}` of MCP server `{}` reported an error",
            shown.tool, shown.server
        );
        return Ok(false);
    }
    Ok(true)
}

/// A tool result for a person: each block, then the structured content as
/// JSON unless a text block already says it (servers add one for older
/// clients: the JSON itself, or the value of a lone `result`).
fn render_result(result: &CallToolResult, media: &mut MediaFiles) -> Result<String> {
    let mut text = String::new();
    for block in &result.content {
        text.push_str(&media.render(block)?);
    }
    if let Some(structured) = &result.structured_content
        && !result.content.iter().any(|block| says(block, structured))
    {
        text.push_str(&serde_json::to_string_pretty(structured)?);
        text.push('\n');
    }
    Ok(text)
}

/// Whether `block` is the text form of `structured`.
fn says(block: &ContentBlock, structured: &Value) -> bool {
    let ContentBlock::Text(item) = block else {
        return false;
    };
    let parsed = serde_json::from_str::<Value>(&item.text)
        .unwrap_or_else(|_| Value::String(item.text.clone()));
    let lone_result = structured
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.get("result"));
    &parsed == structured || lone_result == Some(&parsed)
}
