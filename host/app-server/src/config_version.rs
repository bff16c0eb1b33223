//! Codex's version of a config layer: `sha256:` and the hex digest of the
//! parsed TOML as compact JSON with sorted keys, so formatting and comments
//! do not change it and any change of a value does.

use sha2::{Digest, Sha256};
use std::fmt::Write;

pub fn version(table: &toml::Table) -> String {
    let mut canonical = String::new();
    write_table(table, &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in digest.iter() {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn write_table(table: &toml::Table, out: &mut String) {
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort();
    out.push('{');
    for (index, key) in keys.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(key.clone()).to_string());
        out.push(':');
        if let Some(value) = table.get(key) {
            write_value(value, out);
        }
    }
    out.push('}');
}

fn write_value(value: &toml::Value, out: &mut String) {
    match value {
        toml::Value::Table(table) => write_table(table, out),
        toml::Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&codex_config::toml_value::to_json(scalar).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_codexs() {
        // Both digests as the Codex 0.169 app-server reports them.
        let empty = toml::Table::new();
        assert_eq!(
            version(&empty),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let table: toml::Table = toml::from_str("bogus_key = 5\n# note\nmodel = \"o3\"\n").unwrap();
        assert_eq!(
            version(&table),
            "sha256:fd0f1743dc112bf10df0436ce7c09993ea8cbc972964d65d6416fdb46137e742"
        );
    }
}
