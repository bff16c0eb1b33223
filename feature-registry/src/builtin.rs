//! Keys that Codex configs commonly carry, declared here so that such
//! configs load without unknown-key warnings. Stages and defaults follow
//! Codex where it still has the key; where it no longer does, the
//! description says what this host chose.

crate::declare_feature! {
    key: "unified_exec",
    stage: Stable,
    default: !cfg!(windows),
    description: "Run shell commands through the unified exec tool (PTY sessions); on by default except on Windows",
    aliases: ["experimental_use_unified_exec_tool"],
}

crate::declare_feature! {
    key: "shell_tool",
    stage: Stable,
    default: true,
    description: "Offer the shell tool to the model",
    aliases: [],
}

crate::declare_feature! {
    key: "shell_snapshot",
    stage: Stable,
    default: true,
    description: "Snapshot the user's shell environment so commands run with it",
    aliases: [],
}

crate::declare_feature! {
    key: "view_image_tool",
    stage: Stable,
    default: true,
    description: "Let the model view local images with the view_image tool (no longer a Codex flag; stable and on here)",
    aliases: [],
}

crate::declare_feature! {
    key: "apply_patch_freeform",
    stage: UnderDevelopment,
    default: false,
    description: "Offer apply_patch as a freeform (grammar) tool",
    aliases: ["experimental_use_freeform_apply_patch", "include_apply_patch_tool"],
}

crate::declare_feature! {
    key: "web_search_request",
    stage: Deprecated,
    default: false,
    description: "Let the model request live web searches (superseded by the `web_search` setting)",
    aliases: ["web_search"],
}

crate::declare_feature! {
    key: "web_search_cached",
    stage: Deprecated,
    default: false,
    description: "Let the model run web searches against cached results",
    aliases: [],
}

crate::declare_feature! {
    key: "rmcp_client",
    stage: Stable,
    default: true,
    description: "Use the rmcp client for MCP servers, including streamable HTTP and OAuth (no longer a Codex flag; stable and on here)",
    aliases: ["experimental_use_rmcp_client"],
}

crate::declare_feature! {
    key: "undo",
    stage: Stable,
    default: false,
    description: "Record ghost commits so that a turn's changes can be undone",
    aliases: [],
}

crate::declare_feature! {
    key: "multi_agent",
    stage: Stable,
    default: true,
    description: "Let the model spawn and coordinate sub-agents",
    aliases: ["collab"],
}

crate::declare_feature! {
    key: "apps",
    stage: Stable,
    default: true,
    description: "Enable apps (connectors) in sessions",
    aliases: ["connectors"],
}

crate::declare_feature! {
    key: "memories",
    stage: Experimental,
    default: false,
    description: "Let the model keep memories across sessions",
    aliases: ["memory_tool"],
}

crate::declare_feature! {
    key: "js_repl",
    stage: Removed,
    default: false,
    description: "JavaScript REPL tool (removed; the setting is accepted and ignored)",
    aliases: [],
}
