//! `codex mcp resources`, `codex mcp templates` and `codex mcp read`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use base64::Engine;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};

use super::mcp_session::{
    client_options, on_every_server, one_line, print_lists, selected_servers, server_and_item,
    usage_error, with_session,
};
use crate::cli::{ListArgs, ReadArgs};
use crate::output::{print_json, write_stdout};
use codex_host::App;

pub fn resources(app: &App, args: ListArgs) -> Result<ExitCode> {
    let servers = selected_servers(app, args.name.as_deref(), &args.ad_hoc)?;
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let outcomes = on_every_server(app, servers, &args.login, options, async |session| {
        session.list_resources().await
    })?;
    print_lists(
        outcomes,
        args.json,
        "resources",
        RESOURCE_HEADERS,
        resource_row,
    )
}

/// The columns of `mcp resources` after the server's.
pub const RESOURCE_HEADERS: &[&str] = &["URI", "Name", "MIME type", "Description"];

pub fn resource_row(resource: &Resource) -> Vec<String> {
    vec![
        resource.uri.clone(),
        resource.name.clone(),
        resource.mime_type.clone().unwrap_or_default(),
        one_line(resource.description.as_deref().unwrap_or("")),
    ]
}

/// The columns of `mcp templates` after the server's.
pub const TEMPLATE_HEADERS: &[&str] = &["URI template", "Name", "MIME type", "Description"];

pub fn template_row(template: &ResourceTemplate) -> Vec<String> {
    vec![
        template.uri_template.clone(),
        template.name.clone(),
        template.mime_type.clone().unwrap_or_default(),
        one_line(template.description.as_deref().unwrap_or("")),
    ]
}

pub fn templates(app: &App, args: ListArgs) -> Result<ExitCode> {
    let servers = selected_servers(app, args.name.as_deref(), &args.ad_hoc)?;
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let outcomes = on_every_server(app, servers, &args.login, options, async |session| {
        session.list_resource_templates().await
    })?;
    print_lists(
        outcomes,
        args.json,
        "templates",
        TEMPLATE_HEADERS,
        template_row,
    )
}

pub fn read(app: &App, args: ReadArgs) -> Result<ExitCode> {
    let (name, server, uri) = match server_and_item(app, &args.target, &args.ad_hoc, "read", "uri")?
    {
        Ok(target) => target,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let (options, _events) = match client_options(app, &args.session)? {
        Ok(options) => options,
        Err(usage) => return Ok(usage_error(usage)),
    };
    let result = with_session(app, &name, &server, &args.login, options, async |session| {
        session.read_resource(&uri).await
    })?;
    print_read(&result, &name, &uri, args.output.as_deref(), args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a resource as `mcp read` does: as JSON, into `output`, or its
/// text to stdout (a blob only to a file or a pipe, never to a terminal).
pub fn print_read(
    result: &ReadResourceResult,
    name: &str,
    uri: &str,
    output: Option<&Path>,
    json: bool,
) -> Result<()> {
    if json {
        print_json(&serde_json::to_value(result).context("cannot encode the resource")?)?;
        return Ok(());
    }
    if let Some(path) = output {
        let [contents] = result.contents.as_slice() else {
            bail!(
                "resource `{uri}` of MCP server `{name}` has {} parts; --output writes one\n\
                 help: `--json` prints every part",
                result.contents.len()
            );
        };
        let bytes = bytes_of(contents, uri)?;
        write_file(path, &bytes)?;
        eprintln!(
            "wrote {} bytes{} to {}",
            bytes.len(),
            mime_type(contents)
                .map(|mime| format!(" ({mime})"))
                .unwrap_or_default(),
            path.display()
        );
        return Ok(());
    }
    let to_terminal = std::io::stdout().is_terminal();
    for contents in &result.contents {
        match contents {
            ResourceContents::TextResourceContents { text, .. } => {
                write_stdout(text)?;
                if to_terminal && !text.ends_with('\n') {
                    write_stdout("\n")?;
                }
            }
            ResourceContents::BlobResourceContents { .. } => {
                let bytes = bytes_of(contents, uri)?;
                if to_terminal {
                    bail!(
                        "resource `{uri}` of MCP server `{name}` is binary ({}, {} bytes): not written to a terminal\n\
                         help: save it with `--output FILE`, or see it base64-encoded with `--json`",
                        mime_type(contents).unwrap_or("no MIME type"),
                        bytes.len()
                    );
                }
                write_stdout_bytes(&bytes)?;
            }
            // The enum is non-exhaustive: a newer kind of part prints as JSON.
            other => write_stdout(&format!("{}\n", serde_json::to_string(other)?))?,
        }
    }
    Ok(())
}

/// The bytes of one part: text as UTF-8, a blob decoded from base64.
fn bytes_of(contents: &ResourceContents, uri: &str) -> Result<Vec<u8>> {
    match contents {
        ResourceContents::TextResourceContents { text, .. } => Ok(text.clone().into_bytes()),
        ResourceContents::BlobResourceContents { blob, .. } => {
            base64::engine::general_purpose::STANDARD
                .decode(blob.trim())
                .with_context(|| {
                    format!("resource `{uri}`: the server sent a blob that is not valid base64")
                })
        }
        other => Ok(serde_json::to_vec(other)?),
    }
}

fn mime_type(contents: &ResourceContents) -> Option<&str> {
    match contents {
        ResourceContents::TextResourceContents { mime_type, .. }
        | ResourceContents::BlobResourceContents { mime_type, .. } => mime_type.as_deref(),
        _ => None,
    }
}

/// Writes `bytes` to `path` (replacing it) through a temporary file beside
/// it, so a failed write never leaves half a file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Raw bytes to standard output; a closed pipe is a normal end.
fn write_stdout_bytes(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
