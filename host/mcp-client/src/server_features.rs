//! What a session asks of a server beyond tools: resources and their
//! templates, prompts, completions, ping and the log level. Every request
//! runs under the server's `tool_timeout_sec`, and every list is read to
//! its last page.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use rmcp::model::{
    ArgumentInfo, ClientRequest, CompleteRequestParams, CompletionContext, CompletionInfo,
    GetPromptRequestParams, GetPromptResult, Prompt, ReadResourceRequestParams, ReadResourceResult,
    Reference, Resource, ResourceTemplate, ServerCapabilities, ServerResult,
};

use crate::logging::LogLevel;
use crate::session::Session;

/// What `complete` completes an argument of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionTarget {
    /// An argument of the prompt of this name.
    Prompt(String),
    /// A variable of the resource template with this URI template.
    Template(String),
}

impl Session {
    /// What the server said it offers in the handshake.
    pub fn capabilities(&self) -> ServerCapabilities {
        self.service
            .peer_info()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default()
    }

    /// The server's name and version from the handshake.
    pub fn server_info(&self) -> Option<rmcp::model::Implementation> {
        self.service
            .peer_info()
            .and_then(|info| info.server_info.clone())
    }

    pub(crate) fn offers_logging(&self) -> bool {
        self.capabilities().logging.is_some()
    }

    /// Every resource the server lists (all pages); none when it offers no
    /// resources.
    pub async fn list_resources(&self) -> Result<Vec<Resource>> {
        if self.capabilities().resources.is_none() {
            return Ok(Vec::new());
        }
        self.within(
            "resources/list",
            self.tool_timeout,
            "tool_timeout_sec",
            self.service.list_all_resources(),
        )
        .await
    }

    /// Every resource template (all pages); none when it offers no resources.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>> {
        if self.capabilities().resources.is_none() {
            return Ok(Vec::new());
        }
        self.within(
            "resources/templates/list",
            self.tool_timeout,
            "tool_timeout_sec",
            self.service.list_all_resource_templates(),
        )
        .await
    }

    /// The contents of the resource at `uri`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult> {
        self.within(
            &format!("resources/read of `{uri}`"),
            self.tool_timeout,
            "tool_timeout_sec",
            self.service
                .read_resource(ReadResourceRequestParams::new(uri.to_string())),
        )
        .await
    }

    /// Every prompt (all pages); none when the server offers no prompts.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>> {
        if self.capabilities().prompts.is_none() {
            return Ok(Vec::new());
        }
        self.within(
            "prompts/list",
            self.tool_timeout,
            "tool_timeout_sec",
            self.service.list_all_prompts(),
        )
        .await
    }

    /// The prompt `name` with `arguments` filled in.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> Result<GetPromptResult> {
        let mut params = GetPromptRequestParams::new(name.to_string());
        if !arguments.is_empty() {
            params = params.with_arguments(arguments);
        }
        self.within(
            &format!("prompt `{name}`"),
            self.tool_timeout,
            "tool_timeout_sec",
            self.service.get_prompt(params),
        )
        .await
    }

    /// Completions for `argument` of `target` from its `partial` value, given
    /// the values of other arguments already chosen (`context`).
    pub async fn complete(
        &self,
        target: &CompletionTarget,
        argument: &str,
        partial: &str,
        context: HashMap<String, String>,
    ) -> Result<CompletionInfo> {
        let reference = match target {
            CompletionTarget::Prompt(name) => Reference::for_prompt(name.clone()),
            CompletionTarget::Template(uri) => Reference::for_resource(uri.clone()),
        };
        let mut params =
            CompleteRequestParams::new(reference, ArgumentInfo::new(argument, partial));
        if !context.is_empty() {
            params = params.with_context(CompletionContext::with_arguments(context));
        }
        let result = self
            .within(
                "completion/complete",
                self.tool_timeout,
                "tool_timeout_sec",
                self.service.complete(params),
            )
            .await?;
        Ok(result.completion)
    }

    /// One `ping`, and how long its answer took.
    pub async fn ping(&self) -> Result<Duration> {
        let started = Instant::now();
        let request = ClientRequest::PingRequest(Default::default());
        let answer = self
            .within(
                "ping",
                self.tool_timeout,
                "tool_timeout_sec",
                self.service.send_request(request),
            )
            .await?;
        match answer {
            ServerResult::EmptyResult(_) => Ok(started.elapsed()),
            other => anyhow::bail!(
                "MCP server `{}` answered ping with something else: {}",
                self.name,
                serde_json::to_string(&other).unwrap_or_default()
            ),
        }
    }

    /// Subscribes to updates of the resource at `uri`.
    #[allow(deprecated)] // resources/subscribe is 2025-11-25's; 2026-07-28 listens instead
    pub async fn subscribe(&self, uri: &str) -> Result<()> {
        self.within(
            &format!("resources/subscribe of `{uri}`"),
            self.tool_timeout,
            "tool_timeout_sec",
            self.service
                .subscribe(rmcp::model::SubscribeRequestParams::new(uri.to_string())),
        )
        .await
    }

    /// Ends the subscription to the resource at `uri`.
    #[allow(deprecated)]
    pub async fn unsubscribe(&self, uri: &str) -> Result<()> {
        self.within(
            &format!("resources/unsubscribe of `{uri}`"),
            self.tool_timeout,
            "tool_timeout_sec",
            self.service
                .unsubscribe(rmcp::model::UnsubscribeRequestParams::new(uri.to_string())),
        )
        .await
    }

    /// Tells the server the roots changed (`notifications/roots/list_changed`),
    /// for a front end whose roots come from its own client.
    #[allow(deprecated)] // roots are 2025-11-25's
    pub async fn notify_roots_list_changed(&self) -> Result<()> {
        self.service
            .notify_roots_list_changed()
            .await
            .map_err(|error| self.describe(error, "notifications/roots/list_changed"))
    }

    /// Asks the server to send log messages at `level` and above.
    #[allow(deprecated)] // logging is deprecated by MCP 2026-07-28, not by 2025-11-25
    pub async fn set_log_level(&self, level: LogLevel, deadline: Duration) -> Result<()> {
        self.within(
            "logging/setLevel",
            deadline,
            "startup_timeout_sec",
            self.service
                .set_level(rmcp::model::SetLevelRequestParams::new(level.into())),
        )
        .await
    }
}
