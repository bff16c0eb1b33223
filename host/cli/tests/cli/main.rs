//! The integration tests of the `codex` binary: one test binary for every
//! area (one link instead of one per file), a module per area. Each drives
//! the built binary against real peers; the shared set-up is in
//! `codex-test-support`.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_token;
mod account_login;
mod app_server;
mod app_server_account;
mod app_server_exec;
mod app_server_schema;
mod auth_status;
mod compat;
mod config_layers;
mod conformance;
mod credential_stores;
mod credentials;
mod doctor;
mod fault_matrix;
mod features;
mod gateway;
mod gateway_peers;
mod gateway_relay;
mod hardening;
mod headers_helper;
mod http_transport;
mod install;
mod login;
mod mcp_client;
mod mcp_config;
mod mcp_session;
mod mcp_shell;
mod oauth_headless;
mod oauth_login;
mod oauth_provider;
mod plugins;
mod responses_api_proxy;
mod sandbox;
