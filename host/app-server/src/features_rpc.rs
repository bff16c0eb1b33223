//! `experimentalFeature/list` and `experimentalFeature/enablement/set`:
//! the feature registry as Codex lists it, and process-wide switches that
//! hold in memory until the process ends.

use std::collections::BTreeMap;

use codex_feature_registry::{SourceKind, Stage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::{RpcError, params, to_result};
use crate::server::{Answer, Server};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExperimentalFeatureListParams {
    /// The `nextCursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
    /// The page size; none or 0 lists all.
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct ExperimentalFeatureEnablementSetParams {
    /// Feature keys and their values for the rest of the process; a key
    /// that a config layer or flag sets is left alone.
    enablement: BTreeMap<String, bool>,
}

#[derive(Serialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ExperimentalFeatureStage {
    UnderDevelopment,
    Beta,
    Stable,
    Deprecated,
    Removed,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExperimentalFeature {
    /// The key under `[features]`.
    name: String,
    stage: ExperimentalFeatureStage,
    display_name: Option<String>,
    /// Set for the features offered to try (stage `beta`).
    description: Option<String>,
    announcement: Option<String>,
    enabled: bool,
    default_enabled: bool,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExperimentalFeatureListResponse {
    data: Vec<ExperimentalFeature>,
    /// Null on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct ExperimentalFeatureEnablementSetResponse {
    /// The switches that took.
    enablement: BTreeMap<String, bool>,
}

/// Codex's stage names; its "beta" is this registry's experimental stage.
fn stage_name(stage: Stage) -> ExperimentalFeatureStage {
    match stage {
        Stage::UnderDevelopment => ExperimentalFeatureStage::UnderDevelopment,
        Stage::Experimental | Stage::Beta => ExperimentalFeatureStage::Beta,
        Stage::Stable => ExperimentalFeatureStage::Stable,
        Stage::Deprecated => ExperimentalFeatureStage::Deprecated,
        Stage::Removed => ExperimentalFeatureStage::Removed,
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
    let mut all: Vec<ExperimentalFeature> = registry
        .iter()
        .map(|feature| {
            let key = feature.key();
            let enabled = overrides
                .get(key)
                .copied()
                .or_else(|| resolved.enabled(key))
                .unwrap_or(feature.default_enabled());
            ExperimentalFeature {
                name: key.to_string(),
                stage: stage_name(feature.stage()),
                display_name: None,
                // Codex describes only the features it offers users to try.
                description: (feature.stage() == Stage::Experimental)
                    .then(|| feature.description().to_string()),
                announcement: None,
                enabled,
                default_enabled: feature.default_enabled(),
            }
        })
        .collect();
    let end = match asked.limit {
        Some(limit) if limit > 0 => all.len().min(start.saturating_add(limit as usize)),
        _ => all.len(),
    };
    let next = (end < all.len()).then(|| end.to_string());
    all.truncate(end);
    let data = all.split_off(start.min(all.len()));
    let answer = ExperimentalFeatureListResponse {
        data,
        next_cursor: next,
    };
    Ok((to_result(&answer)?, Vec::new()))
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
    let mut answered = BTreeMap::new();
    let mut taken = BTreeMap::new();
    for (key, value) in asked.enablement {
        if !SWITCHABLE.contains(&key.as_str()) {
            continue;
        }
        answered.insert(key.clone(), value);
        let pinned = resolved
            .get(&key)
            .is_none_or(|feature| feature.source.kind() != SourceKind::Default);
        if !pinned {
            taken.insert(key, value);
        }
    }
    server.set_feature_overrides(taken);
    let answer = ExperimentalFeatureEnablementSetResponse {
        enablement: answered,
    };
    Ok((to_result(&answer)?, Vec::new()))
}
