//! `codex mcp call`: one tool call on one connection, its result printed
//! (structured content as JSON, media saved with `--output-dir`), Ctrl-C
//! cancelling it (exit 130).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use super::mcp_content::MediaFiles;
use super::mcp_session::{client_options, json_object, server_and_item, usage_error, with_session};
use crate::cli::CallArgs;
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
    let outcome = with_session(app, &name, &server, &args.login, options, async |session| {
        let outcome = session
            .call_tool_until(&tool, arguments, interrupted())
            .await;
        events.finish();
        outcome
    })?;
    let result = match outcome {
        CallOutcome::Done(result) => result,
        CallOutcome::Cancelled => {
            eprintln!(
                "cancelled: tool `{tool}` of MCP server `{name}` was told to stop (notifications/cancelled) and the connection closed"
            );
            return Ok(ExitCode::from(130));
        }
    };
    let read_command = match args.ad_hoc.url.as_deref() {
        Some(url) => format!("codex mcp read --url {url}"),
        None => format!("codex mcp read {name}"),
    };
    let mut media = MediaFiles::new(args.output_dir.as_deref(), &tool, read_command);
    if args.json {
        print_json(&serde_json::to_value(&result).context("cannot encode the tool result")?)?;
        // The JSON stays the server's result; the files saved are named on stderr.
        for block in &result.content {
            if matches!(block, ContentBlock::Image(_) | ContentBlock::Audio(_))
                && args.output_dir.is_some()
            {
                eprint!("{}", media.render(block)?);
            }
        }
    } else {
        let text = render_result(&result, &mut media)?;
        if result.is_error == Some(true) {
            eprint!("{text}");
        } else {
            write_stdout(&text)?;
        }
    }
    if result.is_error == Some(true) {
        eprintln!("error: tool `{tool}` of MCP server `{name}` reported an error");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Completes at the first Ctrl-C (SIGINT); never, when the signal cannot be
/// watched (then Ctrl-C ends the process as usual).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
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
