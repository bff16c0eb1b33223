//! `codex mcp call`: one tool call on one connection, its result printed.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use rmcp::model::CallToolResult;

use super::mcp_content::render_block;
use super::mcp_session::{client_options, json_object, server_and_item, usage_error, with_session};
use crate::cli::CallArgs;
use crate::output::{print_json, write_stdout};
use codex_host::App;

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
    let result = with_session(app, &name, &server, &args.login, options, async |session| {
        let result = session.call_tool(&tool, arguments).await;
        events.finish();
        result
    })?;
    if args.json {
        print_json(&serde_json::to_value(&result).context("cannot encode the tool result")?)?;
    } else {
        let text = render_result(&result);
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

/// A tool result for a person: each block, then structured content when
/// there is no other.
fn render_result(result: &CallToolResult) -> String {
    let mut text: String = result.content.iter().map(render_block).collect();
    if result.content.is_empty()
        && let Some(structured) = &result.structured_content
    {
        text.push_str(&serde_json::to_string_pretty(structured).unwrap_or_default());
        text.push('\n');
    }
    text
}
