//! The lists a session holds (tool and prompt names, resource URIs and
//! templates, for completion), and keeping them true: when the server says
//! a list changed, it is read again and the user is told in one line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use codex_config::McpServerConfig;
use codex_mcp_client::client::ListKind;
use codex_mcp_client::session::Session;
use rmcp::model::Tool;
use tokio::sync::mpsc::UnboundedReceiver;

/// The names completion offers.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub tools: Vec<String>,
    pub prompts: Vec<String>,
    pub resources: Vec<String>,
    pub templates: Vec<String>,
}

/// Names shared between the session and the line editor's completion.
pub type SharedNames = Arc<Mutex<Names>>;

/// A tool's input schema, as the server listed it.
pub type Schema = Arc<serde_json::Map<String, serde_json::Value>>;

/// Reads lists from a session and puts their names in [`SharedNames`].
pub struct Lists<'a> {
    session: &'a Session,
    server: &'a McpServerConfig,
    names: SharedNames,
    /// The input schema of each tool listed last.
    schemas: Mutex<HashMap<String, Schema>>,
}

impl<'a> Lists<'a> {
    pub fn new(session: &'a Session, server: &'a McpServerConfig, names: SharedNames) -> Lists<'a> {
        Lists {
            session,
            server,
            names,
            schemas: Mutex::new(HashMap::new()),
        }
    }

    /// The input schema of `tool`, from the list held.
    pub fn schema(&self, tool: &str) -> Option<Schema> {
        self.schemas.lock().ok()?.get(tool).cloned()
    }

    /// The server's tools (those config allows), their names kept.
    pub async fn tools(&self) -> Result<Vec<Tool>> {
        let tools: Vec<Tool> = self
            .session
            .list_tools(self.server.tool_timeout())
            .await?
            .into_iter()
            .filter(|tool| self.server.tool_allowed(&tool.name))
            .collect();
        self.keep(|names| names.tools = tools.iter().map(|tool| tool.name.to_string()).collect());
        if let Ok(mut schemas) = self.schemas.lock() {
            *schemas = tools
                .iter()
                .map(|tool| (tool.name.to_string(), tool.input_schema.clone()))
                .collect();
        }
        Ok(tools)
    }

    pub async fn prompts(&self) -> Result<Vec<rmcp::model::Prompt>> {
        let prompts = self.session.list_prompts().await?;
        self.keep(|names| {
            names.prompts = prompts.iter().map(|prompt| prompt.name.clone()).collect()
        });
        Ok(prompts)
    }

    pub async fn resources(&self) -> Result<Vec<rmcp::model::Resource>> {
        let resources = self.session.list_resources().await?;
        self.keep(|names| {
            names.resources = resources
                .iter()
                .map(|resource| resource.uri.clone())
                .collect()
        });
        Ok(resources)
    }

    pub async fn templates(&self) -> Result<Vec<rmcp::model::ResourceTemplate>> {
        let templates = self.session.list_resource_templates().await?;
        self.keep(|names| {
            names.templates = templates
                .iter()
                .map(|template| template.uri_template.clone())
                .collect()
        });
        Ok(templates)
    }

    fn keep(&self, change: impl FnOnce(&mut Names)) {
        if let Ok(mut names) = self.names.lock() {
            change(&mut names);
        }
    }

    /// Every list, for completion from the first prompt on; a list the
    /// server fails to give is left empty, with a warning.
    pub async fn load_all(&self, warn: &dyn Fn(String)) {
        let name = &self.session.name;
        let failures = [
            ("tools", self.tools().await.err()),
            ("prompts", self.prompts().await.err()),
            ("resources", self.resources().await.err()),
            ("resource templates", self.templates().await.err()),
        ];
        for (what, failure) in failures {
            if let Some(error) = failure {
                warn(format!(
                    "warning: MCP server `{name}`: cannot list its {what} for completion: {error:#}"
                ));
            }
        }
    }

    /// Reads a list again after the server said it changed; the line that
    /// tells the user: "MCP server `x`: tools changed (3 tools)".
    pub async fn refresh(&self, list: ListKind) -> String {
        let name = &self.session.name;
        let (what, counted) = match list {
            ListKind::Tools => ("tools", self.tools().await.map(|items| items.len())),
            ListKind::Prompts => ("prompts", self.prompts().await.map(|items| items.len())),
            ListKind::Resources => {
                // A template is a resource too: its list may have changed with it.
                let templates = self.templates().await;
                let resources = self.resources().await.map(|items| items.len());
                ("resources", templates.and(resources))
            }
        };
        match counted {
            Ok(count) => format!(
                "MCP server `{name}`: {what} changed ({})",
                count_of(count, what)
            ),
            Err(error) => format!(
                "warning: MCP server `{name}`: {what} changed, but listing them again failed: {error:#}"
            ),
        }
    }

    /// Refreshes each list the server says changed, telling the user with
    /// `notice`; ends when the session's notifications end.
    pub async fn watch(&self, changes: &mut UnboundedReceiver<ListKind>, notice: &dyn Fn(String)) {
        while let Some(first) = changes.recv().await {
            // Several notifications already queued need one refresh each kind.
            let mut pending = vec![first];
            while let Ok(next) = changes.try_recv() {
                if !pending.contains(&next) {
                    pending.push(next);
                }
            }
            for list in pending {
                notice(self.refresh(list).await);
            }
        }
    }
}

/// "1 tool", "3 tools".
fn count_of(count: usize, what: &str) -> String {
    let what = what
        .strip_suffix('s')
        .filter(|_| count == 1)
        .unwrap_or(what);
    format!("{count} {what}")
}

#[cfg(test)]
mod tests {
    use super::count_of;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count_of(1, "tools"), "1 tool");
        assert_eq!(count_of(0, "prompts"), "0 prompts");
        assert_eq!(count_of(4, "resources"), "4 resources");
    }
}
