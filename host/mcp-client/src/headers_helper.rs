//! `http_headers_helper`: a command run before connecting to an HTTP server
//! that prints more request headers as a JSON object, as Codex 0.169 runs it:
//! `sh -c COMMAND` in `CODEX_HOME`, stdin and stderr closed, the environment
//! cleared to the variables stdio servers get, at most 10 seconds and 64 KiB
//! of output, and its whole process group killed when it is done or given up.
//!
//! Its output is a secret: it never reaches a log or an error message, which
//! say only what kind of thing is wrong with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use codex_config::McpServerConfig;
use codex_credentials::StoredMcpTokens;
use codex_plugin_host::services::HostContext;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use zeroize::Zeroizing;

/// How long the helper may run (Codex's limit).
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most output a helper may print (Codex's limit).
const MAX_OUTPUT: usize = 64 * 1024;

/// Variables the helper inherits when set: Codex's list for local MCP
/// processes, with the CA bundle variables that let it reach TLS services.
const INHERITED_VARIABLES: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "GIT_SSL_CAINFO",
    "PIP_CERT",
];

/// Headers a helper may not set: the transport owns them (Codex's list).
const RESERVED: &[&str] = &[
    "accept",
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "keep-alive",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
    "origin",
    "proxy-connection",
    "referer",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Server `name` with the headers its helper `command` prints. When OAuth
/// tokens are stored for it, they win over the helper's `Authorization`,
/// as in Codex.
pub async fn apply(
    name: &str,
    server: &McpServerConfig,
    command: &str,
    host: &HostContext,
) -> Result<McpServerConfig> {
    let mut headers = run(name, command, &host.codex_home).await?;
    let url = server.url.as_deref().unwrap_or_default();
    if matches!(
        codex_credentials::stored_mcp_tokens(host, name, url),
        Ok(StoredMcpTokens::Usable | StoredMcpTokens::Expired)
    ) {
        headers.retain(|header, _| !header.eq_ignore_ascii_case("authorization"));
    }
    Ok(server.with_helper_headers(&headers))
}

/// Runs the helper `command` of server `name` and returns its headers.
async fn run(name: &str, command: &str, codex_home: &Path) -> Result<BTreeMap<String, String>> {
    let fail = |what: String| {
        anyhow!(
            "the MCP HTTP headers helper of server `{name}` {what}; check \
             `mcp_servers.{name}.http_headers_helper`: it must print a JSON object of header \
             names to string values"
        )
    };
    let output = tokio::time::timeout(HELPER_TIMEOUT, output_of(command, codex_home))
        .await
        .map_err(|_| {
            fail(format!(
                "did not finish within {} seconds and was stopped",
                HELPER_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|error| fail(error.to_string()))?;
    parse(&output).map_err(|error| fail(error.to_string()))
}

/// What the helper printed, once it exited successfully.
async fn output_of(command: &str, codex_home: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let mut process = Command::new("sh");
    process
        .args(["-c", command])
        .current_dir(codex_home)
        .env_clear()
        .envs(
            INHERITED_VARIABLES
                .iter()
                .filter_map(|name| std::env::var_os(name).map(|value| (*name, value))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = process
        .spawn()
        .map_err(|error| anyhow!("failed to start ({error})"))?;
    // Whatever happens next, nothing the helper started outlives this call.
    let group = child.id().and_then(|pid| i32::try_from(pid).ok());
    let _kill_group = KillGroup(group);
    let mut output = Zeroizing::new(Vec::new());
    let Some(stdout) = child.stdout.take() else {
        bail!("has no standard output");
    };
    stdout
        .take(MAX_OUTPUT as u64 + 1)
        .read_to_end(&mut output)
        .await
        .map_err(|error| anyhow!("could not be read ({error})"))?;
    if output.len() > MAX_OUTPUT {
        bail!("printed more than 64 KiB");
    }
    let status = child
        .wait()
        .await
        .map_err(|error| anyhow!("could not be waited for ({error})"))?;
    if !status.success() {
        bail!("exited with {status}");
    }
    Ok(output)
}

/// Kills a process group when dropped.
struct KillGroup(Option<i32>);

impl Drop for KillGroup {
    fn drop(&mut self) {
        if let Some(group) = self.0 {
            // SAFETY: kill(2) with a negative pid signals the process group
            // the helper leads; it touches no memory of ours.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
    }
}

/// The headers in the helper's output. Errors name the header (names are not
/// secret) but never quote a value.
fn parse(output: &[u8]) -> Result<BTreeMap<String, String>> {
    let text =
        std::str::from_utf8(output).map_err(|_| anyhow!("printed text that is not UTF-8"))?;
    let value: Zeroizing<String> = Zeroizing::new(text.trim().to_owned());
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(&value) else {
        bail!("did not print a JSON object of strings");
    };
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (header, value) in object {
        let serde_json::Value::String(value) = value else {
            bail!("printed a value for header `{header}` that is not a string");
        };
        let valid_name = !header.is_empty()
            && header
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte));
        if !valid_name {
            bail!("printed an invalid header name");
        }
        if RESERVED.contains(&header.to_ascii_lowercase().as_str()) {
            bail!("printed header `{header}`, which the transport sets itself");
        }
        if value
            .bytes()
            .any(|byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f)
        {
            bail!("printed an invalid value for header `{header}`");
        }
        if headers
            .keys()
            .any(|seen| seen.eq_ignore_ascii_case(&header))
        {
            bail!("printed header `{header}` twice");
        }
        headers.insert(header, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(output: &str) -> String {
        parse(output.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn a_json_object_of_strings_is_the_headers() {
        let headers = parse(b" {\"X-Api-Key\": \"k\", \"Authorization\": \"Bearer t\"}\n").unwrap();
        assert_eq!(headers["X-Api-Key"], "k");
        assert_eq!(headers["Authorization"], "Bearer t");
        assert!(parse(b"{}").unwrap().is_empty());
    }

    #[test]
    fn bad_output_is_refused_without_quoting_a_value() {
        assert_eq!(
            problem("token-s3cret"),
            "did not print a JSON object of strings"
        );
        assert_eq!(
            problem("[\"s3cret\"]"),
            "did not print a JSON object of strings"
        );
        assert!(problem("{\"X\": 1}").contains("`X` that is not a string"));
        assert!(problem("{\"Host\": \"s3cret\"}").contains("`Host`"));
        assert!(problem("{\"X\": \"a\\nb\"}").contains("invalid value"));
        assert!(problem("{\"bad name\": \"s3cret\"}").contains("invalid header name"));
        assert!(problem("{\"X-A\": \"1\", \"x-a\": \"2\"}").contains("twice"));
        for output in [
            "token-s3cret",
            "{\"Host\": \"s3cret\"}",
            "{\"bad name\": \"s3cret\"}",
        ] {
            assert!(!problem(output).contains("s3cret"), "{output}");
        }
        assert!(problem_bytes(&[0xff, 0xfe]).contains("not UTF-8"));
    }

    fn problem_bytes(output: &[u8]) -> String {
        parse(output).unwrap_err().to_string()
    }
}
