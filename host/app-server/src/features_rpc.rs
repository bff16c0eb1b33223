//! `experimentalFeature/list` and `experimentalFeature/enablement/set`:
//! the feature registry as Codex lists it, and process-wide switches that
//! hold in memory until the process ends.

use std::collections::BTreeMap;

use codex_feature_registry::{SourceKind, Stage};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::{RpcError, params};
use crate::server::{Answer, Server};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExperimentalFeatureListParams {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize)]
struct ExperimentalFeatureEnablementSetParams {
    enablement: BTreeMap<String, bool>,
}

/// Codex's stage names; its "beta" is this registry's experimental stage.
fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::UnderDevelopment => "underDevelopment",
        Stage::Experimental | Stage::Beta => "beta",
        Stage::Stable => "stable",
        Stage::Deprecated => "deprecated",
        Stage::Removed => "removed",
    }
}

pub fn list(server: &Server, raw: Option<Value>) -> Answer {
    let asked: ExperimentalFeatureListParams = params(raw)?;
    let app = server.app();
    let registry = app
        .registry()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    let resolved = server
        .fresh_features()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    let overrides = server.feature_overrides();
    let start = match &asked.cursor {
        None => 0,
        Some(cursor) => cursor.parse::<usize>().map_err(|_| {
            RpcError::invalid_request(format!(
                "invalid cursor: {cursor}; pass the nextCursor of the previous page"
            ))
        })?,
    };
    let all: Vec<Value> = registry
        .iter()
        .map(|feature| {
            let key = feature.key();
            let enabled = overrides
                .get(key)
                .copied()
                .or_else(|| resolved.enabled(key))
                .unwrap_or(feature.default_enabled());
            json!({
                "name": key,
                "stage": stage_name(feature.stage()),
                "displayName": null,
                // Codex describes only the features it offers users to try.
                "description": if feature.stage() == Stage::Experimental {
                    Value::from(feature.description())
                } else {
                    Value::Null
                },
                "announcement": null,
                "enabled": enabled,
                "defaultEnabled": feature.default_enabled(),
            })
        })
        .collect();
    let end = match asked.limit {
        Some(limit) if limit > 0 => all.len().min(start.saturating_add(limit as usize)),
        _ => all.len(),
    };
    let page: Vec<Value> = all
        .get(start.min(all.len())..end.max(start.min(all.len())))
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let next = (end < all.len()).then(|| end.to_string());
    Ok((json!({"data": page, "nextCursor": next}), Vec::new()))
}

/// The features Codex 0.169's app-server lets a client switch at run time.
/// Any other key, known or not, is left out of the answer, as Codex leaves
/// it out.
const SWITCHABLE: &[&str] = &[
    "api_key_cyber_access_programs",
    "api_key_model_discovery",
    "auth_elicitation",
    "background_paginated_rollout_migration",
    "codex_apps_mcp_2026_07_28",
    "daybreak_program_propagation",
    "mcp_2026_07_28",
    "mcp_connection_sharing",
    "mcp_lazy_stdio_startup",
    "memories",
    "mentions_v2",
    "remote_control",
    "remote_plugin",
    "tool_suggest",
    "windows_sandbox_service",
];

/// Answers every switchable key asked for, as Codex does, and applies
/// those that no config layer or flag pins (a pinned key keeps its value).
pub fn enablement_set(server: &Server, raw: Option<Value>) -> Answer {
    let asked: ExperimentalFeatureEnablementSetParams = params(raw)?;
    let resolved = server
        .fresh_features()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    let mut answered = serde_json::Map::new();
    let mut taken = BTreeMap::new();
    for (key, value) in asked.enablement {
        if !SWITCHABLE.contains(&key.as_str()) {
            continue;
        }
        answered.insert(key.clone(), value.into());
        let pinned = resolved
            .get(&key)
            .is_none_or(|feature| feature.source.kind() != SourceKind::Default);
        if !pinned {
            taken.insert(key, value);
        }
    }
    server.set_feature_overrides(taken);
    Ok((json!({"enablement": answered}), Vec::new()))
}
