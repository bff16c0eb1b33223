//! The names a downstream client sees, and the route from each back to the
//! server that offers it.
//!
//! Tools and prompts are named as Codex names tools (`mcp__server__tool`,
//! from `codex_mcp_client::names`), or, with [`NameMode::Plain`], by the
//! upstream's own name wherever that name is valid and no other server
//! offers it. A collision is never fatal: the names involved fall back to
//! their qualified form (made unique by Codex's hash suffix), and every such
//! fallback is reported once on standard error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use codex_mcp_client::names::{self, MAX_NAME_LENGTH};

/// How tools and prompts are named downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMode {
    /// `mcp__server__tool`, as Codex names them (the default).
    Qualified,
    /// The upstream's own name where it is valid and unique.
    Plain,
}

/// Where a downstream name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub server: String,
    /// The name the upstream knows it by.
    pub raw: String,
}

/// The routes of the last listing of each kind.
#[derive(Debug, Default)]
pub struct Catalog {
    pub tools: HashMap<String, Route>,
    pub prompts: HashMap<String, Route>,
    /// Resource URI to server.
    pub resources: HashMap<String, String>,
    /// Resource template (URI template) to server, in listing order.
    pub templates: Vec<(String, String)>,
}

impl Catalog {
    /// The server of the resource at `uri`: a listed resource, else the
    /// server whose template's fixed beginning is the longest prefix of it.
    pub fn resource_server(&self, uri: &str) -> Option<String> {
        if let Some(server) = self.resources.get(uri) {
            return Some(server.clone());
        }
        self.templates
            .iter()
            .filter_map(|(template, server)| {
                let fixed = template.split('{').next().unwrap_or(template);
                (!fixed.is_empty() && uri.starts_with(fixed)).then_some((fixed.len(), server))
            })
            .max_by_key(|(length, _)| *length)
            .map(|(_, server)| server.clone())
    }

    /// The server of the resource template `template`.
    pub fn template_server(&self, template: &str) -> Option<String> {
        self.templates
            .iter()
            .find(|(listed, _)| listed == template)
            .map(|(_, server)| server.clone())
    }
}

/// Whether `name` is a tool name every client accepts: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LENGTH
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The downstream names of `items` (raw `(server, name)` pairs, in server
/// order), in the same order, and a sentence for each name that is not the
/// one the mode would give it first.
pub fn expose(
    mode: NameMode,
    kind: &str,
    items: &[(String, String)],
) -> (Vec<String>, Vec<String>) {
    let qualified = names::qualify(items);
    let mut reports = Vec::new();
    let mut offered_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (server, raw) in items {
        let servers = offered_by.entry(raw.as_str()).or_default();
        if !servers.contains(&server.as_str()) {
            servers.push(server);
        }
    }
    let mut exposed = Vec::with_capacity(items.len());
    for ((server, raw), qualified) in items.iter().zip(qualified) {
        let base = format!("mcp__{}__{}", names::sanitize(server), names::sanitize(raw));
        let name = match mode {
            NameMode::Qualified => {
                if qualified != base && base.len() <= MAX_NAME_LENGTH {
                    reports.push(format!(
                        "{kind} `{raw}` of `{server}` is served as `{qualified}`: `{base}` is also the name of another {kind} after sanitising"
                    ));
                }
                qualified
            }
            NameMode::Plain => {
                let others = offered_by.get(raw.as_str()).map_or(0, Vec::len);
                if others > 1 {
                    reports.push(format!(
                        "{kind} `{raw}` is offered by {}: `{server}`'s is served as `{qualified}`",
                        offered_by
                            .get(raw.as_str())
                            .map(|servers| servers.join(", "))
                            .unwrap_or_default()
                    ));
                    qualified
                } else if !valid_name(raw) {
                    reports.push(format!(
                        "{kind} `{raw}` of `{server}` is served as `{qualified}`: its own name is not within [A-Za-z0-9_-]{{1,64}}"
                    ));
                    qualified
                } else {
                    raw.clone()
                }
            }
        };
        exposed.push(name);
    }
    (exposed, reports)
}

/// Reports each sentence once per process.
pub struct Reporter {
    said: Mutex<BTreeSet<String>>,
}

impl Reporter {
    pub const fn new() -> Reporter {
        Reporter {
            said: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn report(&self, sentence: String) {
        let mut said = match self.said.lock() {
            Ok(said) => said,
            Err(poisoned) => poisoned.into_inner(),
        };
        if said.insert(sentence.clone()) {
            eprintln!("note: mcp-server: {sentence}");
        }
    }
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(server, name)| (server.to_string(), name.to_string()))
            .collect()
    }

    #[test]
    fn qualified_names_are_codex_names() {
        let (names, reports) = expose(
            NameMode::Qualified,
            "tool",
            &items(&[("alpha", "echo"), ("beta", "echo"), ("beta", "get-sum")]),
        );
        assert_eq!(
            names,
            ["mcp__alpha__echo", "mcp__beta__echo", "mcp__beta__get_sum"]
        );
        assert!(reports.is_empty());
    }

    #[test]
    fn plain_names_fall_back_to_qualified_on_a_collision() {
        let (names, reports) = expose(
            NameMode::Plain,
            "tool",
            &items(&[
                ("alpha", "echo"),
                ("alpha", "add"),
                ("beta", "echo"),
                ("beta", "a.b"),
            ]),
        );
        assert_eq!(
            names,
            [
                "mcp__alpha__echo",
                "add",
                "mcp__beta__echo",
                "mcp__beta__a_b"
            ]
        );
        assert_eq!(reports.len(), 3, "{reports:?}");
        assert!(reports[0].contains("offered by alpha, beta"), "{reports:?}");
    }

    #[test]
    fn a_collision_after_sanitising_is_resolved_and_reported() {
        let (names, reports) = expose(
            NameMode::Qualified,
            "tool",
            &items(&[("a", "x-y"), ("a", "x.y")]),
        );
        assert_ne!(names[0], names[1]);
        assert!(names.iter().all(|name| valid_name(name)));
        assert_eq!(reports.len(), 2);
        // Deterministic: the same input gives the same names.
        assert_eq!(
            names,
            expose(
                NameMode::Qualified,
                "tool",
                &items(&[("a", "x-y"), ("a", "x.y")])
            )
            .0
        );
    }

    #[test]
    fn resources_route_by_uri_then_by_template_prefix() {
        let mut catalog = Catalog::default();
        catalog.resources.insert("demo://a".into(), "one".into());
        catalog.templates.push(("demo://{id}".into(), "two".into()));
        catalog
            .templates
            .push(("demo://items/{id}".into(), "three".into()));
        assert_eq!(catalog.resource_server("demo://a").as_deref(), Some("one"));
        assert_eq!(
            catalog.resource_server("demo://items/7").as_deref(),
            Some("three")
        );
        assert_eq!(catalog.resource_server("demo://b").as_deref(), Some("two"));
        assert_eq!(catalog.resource_server("other://b"), None);
    }
}
