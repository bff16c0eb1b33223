//! The methods of Codex 0.169's app-server that this host does not
//! serve, and what it answers for them: the agent's (threads, turns,
//! models, reviews...) say that this host runs no agent.

use crate::protocol::{INVALID_REQUEST, METHOD_NOT_FOUND, RpcError};

/// Method names Codex 0.169 lists (its `ClientRequest` schema) that need
/// its agent or its own services, and are not served here.
const CODEX_ONLY: &[&str] = &[
    "skills/list",
    "skills/extraRoots/set",
    "hooks/list",
    "marketplace/add",
    "marketplace/remove",
    "marketplace/upgrade",
    "plugin/list",
    "plugin/installed",
    "plugin/reconcile",
    "plugin/read",
    "plugin/skill/read",
    "plugin/share/save",
    "plugin/share/updateTargets",
    "plugin/share/list",
    "plugin/share/checkout",
    "plugin/share/delete",
    "app/read",
    "app/list",
    "app/installed",
    "fs/readFile",
    "fs/writeFile",
    "fs/createDirectory",
    "fs/getMetadata",
    "fs/readDirectory",
    "fs/remove",
    "fs/copy",
    "fs/watch",
    "fs/unwatch",
    "skills/config/write",
    "plugin/install",
    "plugin/uninstall",
    "review/start",
    "model/list",
    "account/gatewayOAuth/read",
    "account/gatewayOAuth/login",
    "account/gatewayOAuth/cancel",
    "modelProvider/list",
    "modelProvider/config/write",
    "modelProvider/capabilities/read",
    "permissionProfile/list",
    "windowsSandbox/setupStart",
    "windowsSandbox/readiness",
    "account/securitySetup/read",
    "account/rateLimits/read",
    "account/rateLimitResetCredit/consume",
    "account/usage/read",
    "account/workspaceMessages/read",
    "account/sendAddCreditsNudgeEmail",
    "feedback/upload",
    "feedback/save",
    "externalAgentConfig/detect",
    "externalAgentConfig/import",
    "externalAgentConfig/import/recordHistory",
    "externalAgentConfig/import/readHistories",
    "fuzzyFileSearch",
    "memory/status",
    "memory/reset",
    "rollout/compress",
    "project/list",
    "project/read",
    "project/create",
    "project/import",
    "project/update",
    "project/move",
    "project/delete",
    "remoteControl/enable",
    "remoteControl/disable",
    "remoteControl/status/read",
];

/// Families of methods that exist only around the agent's threads.
const AGENT_PREFIXES: &[&str] = &["thread/", "turn/", "threadSection/", "model/", "review/"];

pub fn is_codex_only(method: &str) -> bool {
    CODEX_ONLY.contains(&method)
        || AGENT_PREFIXES
            .iter()
            .any(|prefix| method.starts_with(prefix))
}

/// The answer to a method this host does not serve: -32601 for Codex's
/// own methods, saying why; Codex's -32600 for a name Codex does not know.
pub fn not_served(method: &str) -> RpcError {
    if is_codex_only(method) {
        RpcError::new(
            METHOD_NOT_FOUND,
            format!(
                "`{method}` needs the Codex agent, and this host runs no agent: its app-server \
                 answers the account, config, experimentalFeature, MCP and command/exec methods only"
            ),
        )
    } else {
        RpcError::new(
            INVALID_REQUEST,
            format!("Invalid request: unknown method `{method}`"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_methods_say_why() {
        let error = not_served("thread/start");
        assert_eq!(error.code, METHOD_NOT_FOUND);
        assert!(error.message.contains("runs no agent"), "{}", error.message);
        assert_eq!(not_served("model/list").code, METHOD_NOT_FOUND);
        assert_eq!(not_served("nope/nope").code, INVALID_REQUEST);
    }
}
