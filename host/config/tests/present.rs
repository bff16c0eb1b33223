//! `codex mcp list/get` output, as exact snapshots, with secrets masked.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use codex_config::McpServerConfig;
use codex_config::present::{
    AuthStatus, EMPTY_LIST_MESSAGE, added_message, get_json, get_text, list_json, list_text,
    not_found_message, removed_message, to_pretty_json,
};
use serde_json::json;

fn servers() -> BTreeMap<String, McpServerConfig> {
    let text = r#"
        [docs]
        command = "docs-server"
        args = ["--port", "4000"]
        env = { TOKEN = "env-secret" }
        env_vars = ["APP_TOKEN", { name = "WORKSPACE_ID", source = "local" }]

        [off]
        command = "x"
        enabled = false

        [figma]
        url = "http://127.0.0.1:3845/mcp"
        bearer_token_env_var = "FIGMA_TOKEN"
        http_headers = { "X-Api-Key" = "header-secret" }
        env_http_headers = { "X-Team" = "TEAM_VAR" }
        startup_timeout_sec = 10
        tool_timeout_sec = 1.5

        [ws]
        transport = "websocket"
        url = "ws://127.0.0.1:9/"
        http_headers = { Authorization = "ws-secret" }
    "#;
    let table: toml::Table = toml::from_str(text).unwrap();
    table
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                McpServerConfig::from_toml(name, value).unwrap(),
            )
        })
        .collect()
}

fn auth() -> BTreeMap<String, AuthStatus> {
    BTreeMap::from([
        ("figma".to_string(), AuthStatus::BearerToken),
        ("ws".to_string(), AuthStatus::NotLoggedIn),
    ])
}

fn assert_no_secrets(text: &str) {
    for secret in ["env-secret", "header-secret", "ws-secret"] {
        assert!(!text.contains(secret), "{secret} leaked in:\n{text}");
    }
}

#[test]
fn list_text_has_three_tables_with_codex_columns() {
    let text = list_text(&servers(), &auth());
    let expected = [
        "Name  Command      Args         Env                                               Cwd  Status    Auth       ",
        "docs  docs-server  --port 4000  TOKEN=*****, APP_TOKEN=*****, WORKSPACE_ID=*****  -    enabled   Unsupported",
        "off   x            -            -                                                 -    disabled  Unsupported",
        "",
        "Name   Url                        Bearer Token Env Var  Status   Auth        ",
        "figma  http://127.0.0.1:3845/mcp  FIGMA_TOKEN           enabled  Bearer token",
        "",
        "Name  Transport  Status   Auth         ",
        "ws    websocket  enabled  Not logged in",
        "",
    ]
    .join("\n");
    assert_eq!(text, expected);
    assert_no_secrets(&text);
}

#[test]
fn list_text_of_nothing_is_codex_hint() {
    assert_eq!(
        list_text(&BTreeMap::new(), &BTreeMap::new()),
        "No MCP servers configured yet. Try `codex mcp add my-tool -- my-command`.\n"
    );
    assert_eq!(
        EMPTY_LIST_MESSAGE,
        "No MCP servers configured yet. Try `codex mcp add my-tool -- my-command`."
    );
}

#[test]
fn list_json_has_codex_shape_with_values_masked() {
    let value = list_json(&servers(), &auth());
    assert_eq!(
        value,
        json!([
            {
                "name": "docs",
                "enabled": true,
                "disabled_reason": null,
                "transport": {
                    "type": "stdio",
                    "command": "docs-server",
                    "args": ["--port", "4000"],
                    "env": { "TOKEN": "*****" },
                    "env_vars": ["APP_TOKEN", { "name": "WORKSPACE_ID", "source": "local" }],
                    "cwd": null
                },
                "startup_timeout_sec": null,
                "tool_timeout_sec": null,
                "auth_status": "unsupported"
            },
            {
                "name": "figma",
                "enabled": true,
                "disabled_reason": null,
                "transport": {
                    "type": "streamable_http",
                    "url": "http://127.0.0.1:3845/mcp",
                    "bearer_token_env_var": "FIGMA_TOKEN",
                    "http_headers": { "X-Api-Key": "*****" },
                    "env_http_headers": { "X-Team": "TEAM_VAR" },
                    "http_headers_helper": null
                },
                "startup_timeout_sec": 10.0,
                "tool_timeout_sec": 1.5,
                "auth_status": "bearer_token"
            },
            {
                "name": "off",
                "enabled": false,
                "disabled_reason": null,
                "transport": {
                    "type": "stdio",
                    "command": "x",
                    "args": [],
                    "env": null,
                    "env_vars": [],
                    "cwd": null
                },
                "startup_timeout_sec": null,
                "tool_timeout_sec": null,
                "auth_status": "unsupported"
            },
            {
                "name": "ws",
                "enabled": true,
                "disabled_reason": null,
                "transport": { "type": "websocket" },
                "startup_timeout_sec": null,
                "tool_timeout_sec": null,
                "auth_status": "not_logged_in"
            }
        ])
    );
    let printed = to_pretty_json(&value);
    assert_no_secrets(&printed);
    // Keys keep Codex's order.
    let docs_start = printed.find("\"docs\"").unwrap();
    let order: Vec<usize> = [
        "\"enabled\"",
        "\"disabled_reason\"",
        "\"transport\"",
        "\"startup_timeout_sec\"",
        "\"tool_timeout_sec\"",
        "\"auth_status\"",
    ]
    .iter()
    .map(|key| docs_start + printed[docs_start..].find(key).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{printed}");
    assert!(printed.ends_with("]\n"));
}

#[test]
fn get_text_matches_codex_layout() {
    let servers = servers();
    assert_eq!(
        get_text("docs", &servers["docs"], AuthStatus::Unsupported),
        "docs\n  enabled: true\n  transport: stdio\n  command: docs-server\n  args: --port 4000\n  cwd: -\n  env: TOKEN=*****, APP_TOKEN=*****, WORKSPACE_ID=*****\n  auth: Unsupported\n  remove: codex mcp remove docs\n"
    );
    let figma = get_text("figma", &servers["figma"], AuthStatus::BearerToken);
    assert_eq!(
        figma,
        "figma\n  enabled: true\n  transport: streamable_http\n  url: http://127.0.0.1:3845/mcp\n  bearer_token_env_var: FIGMA_TOKEN\n  http_headers: X-Api-Key=*****\n  env_http_headers: X-Team=TEAM_VAR\n  http_headers_helper: -\n  startup_timeout_sec: 10\n  tool_timeout_sec: 1.5\n  auth: Bearer token\n  remove: codex mcp remove figma\n"
    );
    assert_no_secrets(&figma);
    assert_eq!(
        get_text("ws", &servers["ws"], AuthStatus::Unsupported),
        "ws\n  enabled: true\n  transport: websocket\n  auth: Unsupported\n  remove: codex mcp remove ws\n"
    );
}

#[test]
fn get_text_shows_tool_filters_and_approval_mode() {
    let table: toml::Table = toml::from_str(
        "command = 'srv'\nenabled_tools = ['a', 'b']\ndisabled_tools = []\ndefault_tools_approval_mode = 'prompt'\nstartup_timeout_ms = 2500\n",
    )
    .unwrap();
    let server = McpServerConfig::from_toml("t", &toml::Value::Table(table)).unwrap();
    assert_eq!(
        get_text("t", &server, AuthStatus::NotLoggedIn),
        "t\n  enabled: true\n  enabled_tools: a, b\n  disabled_tools: []\n  transport: stdio\n  command: srv\n  args: -\n  cwd: -\n  env: -\n  startup_timeout_sec: 2.5\n  default_tools_approval_mode: prompt\n  auth: Not logged in\n  remove: codex mcp remove t\n"
    );
}

#[test]
fn a_disabled_server_is_one_line() {
    let mut servers = servers();
    assert_eq!(
        get_text("off", &servers["off"], AuthStatus::Unsupported),
        "off (disabled)\n"
    );
    let off = servers.get_mut("off").unwrap();
    off.disabled_reason = Some("requirements (/etc/codex/requirements.toml)".to_string());
    assert_eq!(
        get_text("off", off, AuthStatus::Unsupported),
        "off (disabled: requirements (/etc/codex/requirements.toml))\n"
    );
    let list = list_text(&servers, &auth());
    assert!(list.contains("disabled: requirements (/etc/codex/requirements.toml)"));
}

#[test]
fn get_json_has_codex_shape_with_values_masked() {
    let servers = servers();
    assert_eq!(
        get_json("figma", &servers["figma"], AuthStatus::BearerToken),
        json!({
            "name": "figma",
            "enabled": true,
            "disabled_reason": null,
            "transport": {
                "type": "streamable_http",
                "url": "http://127.0.0.1:3845/mcp",
                "bearer_token_env_var": "FIGMA_TOKEN",
                "http_headers": { "X-Api-Key": "*****" },
                "env_http_headers": { "X-Team": "TEAM_VAR" },
                "http_headers_helper": null
            },
            "enabled_tools": null,
            "disabled_tools": null,
            "startup_timeout_sec": 10.0,
            "tool_timeout_sec": 1.5,
            "auth_status": "bearer_token"
        })
    );
    let docs = to_pretty_json(&get_json("docs", &servers["docs"], AuthStatus::Unsupported));
    assert!(docs.contains("\"TOKEN\": \"*****\""));
    assert_no_secrets(&docs);
    assert_eq!(
        get_json("ws", &servers["ws"], AuthStatus::Unsupported)["transport"],
        json!({ "type": "websocket" })
    );
}

#[test]
fn auth_status_text_and_json_follow_codex() {
    let all = [
        (AuthStatus::Unsupported, "Unsupported", "unsupported"),
        (AuthStatus::NotLoggedIn, "Not logged in", "not_logged_in"),
        (AuthStatus::BearerToken, "Bearer token", "bearer_token"),
        (AuthStatus::OAuth, "OAuth", "o_auth"),
    ];
    for (status, text, json_name) in all {
        assert_eq!(status.to_string(), text);
        assert_eq!(serde_json::to_value(status).unwrap(), json!(json_name));
        let back: AuthStatus = serde_json::from_value(json!(json_name)).unwrap();
        assert_eq!(back, status);
    }
}

#[test]
fn messages_match_codex() {
    assert_eq!(added_message("docs"), "Added global MCP server 'docs'.");
    assert_eq!(removed_message("docs"), "Removed global MCP server 'docs'.");
    assert_eq!(
        not_found_message("docs"),
        "No MCP server named 'docs' found."
    );
}
