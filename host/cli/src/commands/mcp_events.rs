//! What a server sends during a session, shown on the terminal: progress
//! (a bar on a terminal, plain lines otherwise), log messages on stderr,
//! questions (elicitation) asked field by field or answered by `--elicit`,
//! and requests this host refuses.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;

use codex_mcp_client::client::{
    ClientEvents, ElicitationAnswer, ElicitationRequest, ListKind, LogMessage, Progress,
};
use codex_mcp_client::elicitation::{self, Field};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How elicitations are answered.
pub enum ElicitationMode {
    /// With this content (`--elicit`), completed with the form's defaults.
    Given(Map<String, Value>),
    /// By asking the person at the terminal.
    Ask,
    /// Declined: there is no terminal to ask on and no `--elicit`.
    Decline,
}

impl ElicitationMode {
    /// Ask when stdin and stderr are a terminal, else decline.
    pub fn from_terminal() -> ElicitationMode {
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            ElicitationMode::Ask
        } else {
            ElicitationMode::Decline
        }
    }
}

/// The terminal's side of a session.
pub struct TerminalEvents {
    elicitation: ElicitationMode,
    /// A bar while a request reports progress on a terminal.
    bar: Mutex<Option<ProgressBar>>,
    live: bool,
    /// Every `list_changed` the server sent, for whoever refreshes the lists.
    list_changes: UnboundedSender<ListKind>,
    list_changes_taken: Mutex<Option<UnboundedReceiver<ListKind>>>,
}

impl TerminalEvents {
    pub fn new(elicitation: ElicitationMode) -> TerminalEvents {
        let (list_changes, receiver) = unbounded_channel();
        TerminalEvents {
            elicitation,
            bar: Mutex::new(None),
            live: std::io::stderr().is_terminal(),
            list_changes,
            list_changes_taken: Mutex::new(Some(receiver)),
        }
    }

    /// The server's `list_changed` notifications from now on (once: later
    /// calls get `None`).
    pub fn take_list_changes(&self) -> Option<UnboundedReceiver<ListKind>> {
        self.list_changes_taken.lock().ok()?.take()
    }

    /// Removes the progress bar (the request it showed has ended).
    pub fn finish(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(bar) = bar.take()
        {
            bar.finish_and_clear();
        }
    }

    /// One line on stderr, above the progress bar if there is one.
    pub fn notice(&self, line: &str) {
        self.above_bar(|| eprintln!("{line}"));
    }

    /// Runs `print` with the bar (if any) out of the way.
    fn above_bar(&self, print: impl FnOnce()) {
        match self.bar.lock() {
            Ok(bar) => match bar.as_ref() {
                Some(bar) => bar.suspend(print),
                None => print(),
            },
            Err(_) => print(),
        }
    }
}

impl ClientEvents for TerminalEvents {
    fn progress(&self, server: &str, progress: &Progress) {
        let amount = match progress.total {
            Some(total) => format!("{}/{}", progress.progress, total),
            None => progress.progress.to_string(),
        };
        let message = progress.message.clone().unwrap_or_default();
        if !self.live {
            let message = if message.is_empty() {
                String::new()
            } else {
                format!(" {message}")
            };
            eprintln!("{server}: progress {amount}{message}");
            return;
        }
        let Ok(mut slot) = self.bar.lock() else {
            return;
        };
        let bar = slot.get_or_insert_with(|| new_bar(server));
        match progress.total {
            Some(total) if total > 0.0 => {
                bar.set_length(total.round() as u64);
                bar.set_position(progress.progress.round() as u64);
            }
            _ => bar.set_position(progress.progress.round() as u64),
        }
        bar.set_message(message);
    }

    fn log_message(&self, server: &str, message: &LogMessage) {
        let data = match &message.data {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let logger = message
            .logger
            .as_deref()
            .map(|logger| format!(" {logger}:"))
            .unwrap_or_default();
        self.above_bar(|| eprintln!("{server}: [{}]{logger} {data}", message.level));
    }

    fn elicit(&self, server: &str, request: &ElicitationRequest) -> ElicitationAnswer {
        match &self.elicitation {
            ElicitationMode::Given(content) => {
                match elicitation::complete(&request.schema, content.clone()) {
                    Ok(content) => ElicitationAnswer::Accept(content),
                    Err(problem) => {
                        self.above_bar(|| {
                            eprintln!(
                                "error: --elicit does not fit the form MCP server `{server}` asked for ({}): {problem}; declined\n\
                                 help: the form's fields: {}",
                                request.message,
                                form_summary(&request.schema)
                            )
                        });
                        ElicitationAnswer::Decline
                    }
                }
            }
            ElicitationMode::Decline => {
                self.above_bar(|| {
                    eprintln!(
                        "warning: MCP server `{server}` asked for input ({}); declined: no terminal to ask on\n\
                         help: answer with --elicit '{{...}}' (the form's fields: {})",
                        request.message,
                        form_summary(&request.schema)
                    )
                });
                ElicitationAnswer::Decline
            }
            ElicitationMode::Ask => {
                // The bar goes (a new one comes with the next progress), so
                // that nothing holds its lock while the person types.
                self.finish();
                ask(server, request)
            }
        }
    }

    fn refused(&self, server: &str, what: &str) {
        self.above_bar(|| eprintln!("warning: MCP server `{server}`: {what}"));
    }

    fn list_changed(&self, _server: &str, list: ListKind) {
        // Nobody listens when the command holds no lists; that is fine.
        let _ = self.list_changes.send(list);
    }
}

fn new_bar(server: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(server.to_string());
    bar
}

/// The fields of a form in one line: `name (text, required), age (a whole number)`.
fn form_summary(schema: &Value) -> String {
    let fields = elicitation::fields(schema);
    if fields.is_empty() {
        return "none".into();
    }
    fields
        .iter()
        .map(|field| {
            let required = if field.required { ", required" } else { "" };
            format!(
                "{} ({}{required})",
                field.name,
                elicitation::describe(&field.kind)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Asks at the terminal: accept at all, then each field in turn. An empty
/// answer takes the default (or leaves an optional field out); end of input
/// cancels.
fn ask(server: &str, request: &ElicitationRequest) -> ElicitationAnswer {
    let mut stderr = std::io::stderr();
    let mut lines = std::io::stdin().lock().lines();
    let _ = writeln!(stderr, "MCP server `{server}` asks: {}", request.message);
    let _ = write!(stderr, "Answer? [Y/n] ");
    let _ = stderr.flush();
    match lines.next() {
        None | Some(Err(_)) => return ElicitationAnswer::Cancel,
        Some(Ok(answer)) => {
            if matches!(answer.trim().to_ascii_lowercase().as_str(), "n" | "no") {
                return ElicitationAnswer::Decline;
            }
        }
    }
    let mut content = Map::new();
    for field in elicitation::fields(&request.schema) {
        loop {
            let _ = write!(stderr, "{}", field_prompt(&field));
            let _ = stderr.flush();
            let Some(Ok(line)) = lines.next() else {
                return ElicitationAnswer::Cancel;
            };
            if line.trim().is_empty() {
                match &field.default {
                    Some(default) => {
                        content.insert(field.name.clone(), default.clone());
                        break;
                    }
                    None if !field.required => break,
                    None => {
                        let _ = writeln!(stderr, "  {} is required", field.label);
                        continue;
                    }
                }
            }
            match elicitation::parse_answer(&field, &line) {
                Ok(value) => {
                    content.insert(field.name.clone(), value);
                    break;
                }
                Err(problem) => {
                    let _ = writeln!(stderr, "  {problem}");
                }
            }
        }
    }
    ElicitationAnswer::Accept(content)
}

fn field_prompt(field: &Field) -> String {
    let mut prompt = format!("{} ({}", field.label, elicitation::describe(&field.kind));
    if !field.required {
        prompt.push_str(", optional");
    }
    prompt.push(')');
    if let Some(description) = &field.description {
        prompt.push_str(&format!(" {description}"));
    }
    if let elicitation::FieldKind::Choice(options) | elicitation::FieldKind::Choices(options) =
        &field.kind
    {
        for (index, (value, label)) in options.iter().enumerate() {
            prompt.push_str(&format!("\n  {}. {label}", index + 1));
            if label != value {
                prompt.push_str(&format!(" ({value})"));
            }
        }
        prompt.push('\n');
    }
    if let Some(default) = &field.default {
        prompt.push_str(&format!(" [{}]", display_value(default)));
    }
    prompt.push_str(": ");
    prompt
}

fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
