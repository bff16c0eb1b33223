//! Model-visible tool names: `mcp__<server>__<tool>`, as Codex makes them.
//!
//! Both parts are sanitised (every character outside `[A-Za-z0-9_]` becomes
//! `_`), names are at most 64 characters, and names that collide after
//! sanitising, or are too long, end in `_` plus 12 hex digits of the SHA-1 of
//! the raw `(server, tool)` identity so they stay unique and stable.

use std::collections::BTreeMap;

use sha1::{Digest, Sha1};

const PREFIX: &str = "mcp";
const DELIMITER: &str = "__";
/// The longest tool name the model APIs accept.
pub const MAX_NAME_LENGTH: usize = 64;
const HASH_LENGTH: usize = 12;

/// Replaces every character outside `[A-Za-z0-9_]` with `_`.
pub fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn hash_suffix(server: &str, tool: &str, attempt: usize) -> String {
    let mut hasher = Sha1::new();
    hasher.update(server.as_bytes());
    hasher.update([0u8]);
    hasher.update(tool.as_bytes());
    if attempt > 0 {
        hasher.update(format!("\0{attempt}").as_bytes());
    }
    let digest = hasher.finalize();
    digest
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<String>()[..HASH_LENGTH]
        .to_string()
}

fn with_suffix(base: &str, suffix: &str) -> String {
    let keep = MAX_NAME_LENGTH - suffix.len() - 1;
    let mut cut = base.len().min(keep);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{suffix}", &base[..cut])
}

/// The qualified names for `tools` (raw `(server, tool)` pairs), in the same
/// order. Exact duplicates get the same name.
pub fn qualify(tools: &[(String, String)]) -> Vec<String> {
    let bases: Vec<String> = tools
        .iter()
        .map(|(server, tool)| {
            format!(
                "{PREFIX}{DELIMITER}{}{DELIMITER}{}",
                sanitize(server),
                sanitize(tool)
            )
        })
        .collect();
    let mut owners: BTreeMap<&str, Vec<&(String, String)>> = BTreeMap::new();
    for (base, identity) in bases.iter().zip(tools) {
        let list = owners.entry(base.as_str()).or_default();
        if !list.contains(&identity) {
            list.push(identity);
        }
    }
    let mut taken: BTreeMap<String, &(String, String)> = BTreeMap::new();
    let mut names = Vec::with_capacity(tools.len());
    for (base, identity) in bases.iter().zip(tools) {
        let collides = owners.get(base.as_str()).is_some_and(|list| list.len() > 1);
        let mut name = base.clone();
        if collides || name.len() > MAX_NAME_LENGTH {
            let mut attempt = 0;
            loop {
                name = with_suffix(base, &hash_suffix(&identity.0, &identity.1, attempt));
                match taken.get(&name) {
                    Some(owner) if *owner != identity => attempt += 1,
                    _ => break,
                }
            }
        }
        taken.insert(name.clone(), identity);
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn sanitises_like_codex() {
        let names = qualify(&pairs(&[
            ("server.one", "tool.two-three"),
            ("music-studio", "get-strudel-guide"),
        ]));
        assert_eq!(
            names,
            [
                "mcp__server_one__tool_two_three",
                "mcp__music_studio__get_strudel_guide"
            ]
        );
    }

    #[test]
    fn long_names_are_cut_to_64_with_a_stable_hash() {
        let long = "t".repeat(80);
        let names = qualify(&pairs(&[("srv", &long)]));
        assert_eq!(names[0].len(), MAX_NAME_LENGTH);
        assert!(names[0].starts_with("mcp__srv__ttt"));
        assert_eq!(names, qualify(&pairs(&[("srv", &long)])));
    }

    #[test]
    fn collisions_after_sanitising_get_distinct_names() {
        let names = qualify(&pairs(&[("a", "x-y"), ("a", "x.y"), ("a", "z")]));
        assert_ne!(names[0], names[1]);
        assert!(
            names[0].starts_with("mcp__a__x_y_") && names[0].len() == "mcp__a__x_y_".len() + 12
        );
        assert_eq!(names[2], "mcp__a__z");
    }
}
