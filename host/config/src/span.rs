//! Positions in TOML source: byte offsets to line:column, and the span of a
//! key or value found by its [`KeyPath`].

use std::ops::Range;
use std::path::Path;

use toml_edit::{Item, Key, Table, TableLike, Value};

use crate::error::Location;
use crate::key_path::{KeyPath, PathSegment};

/// Which part of a `key = value` pair an error points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanTarget {
    /// The key (for "this key is not allowed here").
    Key,
    /// The value (for "this value has the wrong type").
    Value,
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The location of the key or value at `path` in `file`, whose text is
/// `text`; the file alone when the path cannot be found.
pub(crate) fn locate_in_text(
    file: &Path,
    text: &str,
    path: &KeyPath,
    target: SpanTarget,
) -> Location {
    let span = toml_edit::Document::parse(text)
        .ok()
        .and_then(|doc| find_span(&doc, path, target));
    match span {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            Location::File {
                path: file.to_path_buf(),
                line,
                column,
            }
        }
        None => Location::FileOnly {
            path: file.to_path_buf(),
        },
    }
}

enum Node<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a Table),
}

impl<'a> Node<'a> {
    fn span(&self) -> Option<Range<usize>> {
        match self {
            Self::Item(item) => item.span(),
            Self::Value(value) => value.span(),
            Self::Table(table) => table.span(),
        }
    }

    fn table_like(&self) -> Option<&'a dyn TableLike> {
        match self {
            Self::Item(item) => item.as_table_like(),
            Self::Value(value) => value.as_inline_table().map(|t| t as &dyn TableLike),
            Self::Table(table) => Some(*table as &dyn TableLike),
        }
    }

    fn element(&self, index: usize) -> Option<Node<'a>> {
        match self {
            Self::Item(Item::ArrayOfTables(tables)) => tables.get(index).map(Node::Table),
            Self::Item(item) => item.as_array()?.get(index).map(Node::Value),
            Self::Value(value) => value.as_array()?.get(index).map(Node::Value),
            Self::Table(_) => None,
        }
    }
}

/// The byte span of the value (or key) at `path` in the parsed `document`.
///
/// When the path goes deeper than the document, the span of the deepest
/// existing part is returned, so an error still points near its cause.
pub fn find_span<S: AsRef<str>>(
    document: &toml_edit::Document<S>,
    path: &KeyPath,
    target: SpanTarget,
) -> Option<Range<usize>> {
    let mut node = Node::Item(document.as_item());
    let mut key: Option<&Key> = None;
    let mut best: Option<Range<usize>> = None;
    for segment in path.segments() {
        let next = match segment {
            PathSegment::Key(name) => node
                .table_like()
                .and_then(|table| table.get_key_value(name))
                .map(|(k, item)| {
                    key = Some(k);
                    Node::Item(item)
                }),
            PathSegment::Index(index) => {
                key = None;
                node.element(*index)
            }
        };
        let Some(next) = next else {
            return best;
        };
        node = next;
        best = pick(key, &node, SpanTarget::Key).or(best);
    }
    pick(key, &node, target).or(best)
}

fn pick(key: Option<&Key>, node: &Node<'_>, target: SpanTarget) -> Option<Range<usize>> {
    let key_span = key.and_then(Key::span);
    match target {
        SpanTarget::Key => key_span.or_else(|| node.span()),
        SpanTarget::Value => node.span().or(key_span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(text: &str, path: &KeyPath, target: SpanTarget) -> Option<(usize, usize)> {
        let doc = toml_edit::Document::parse(text).unwrap();
        find_span(&doc, path, target).map(|span| line_column(text, span.start))
    }

    #[test]
    fn line_column_counts_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        let second_eq = text.rfind('=').unwrap();
        assert_eq!(line_column(text, second_eq), (2, 4));
    }

    #[test]
    fn finds_values_keys_tables_and_array_elements() {
        let text = "a = 1\n[mcp_servers.demo]\nargs = [\"x\", 2]\nenv = { K = 1 }\n";
        let demo = KeyPath::from_keys(["mcp_servers", "demo"]);
        assert_eq!(
            locate(text, &demo.key("args"), SpanTarget::Value),
            Some((3, 8))
        );
        assert_eq!(
            locate(text, &demo.key("args"), SpanTarget::Key),
            Some((3, 1))
        );
        assert_eq!(
            locate(text, &demo.key("args").index(1), SpanTarget::Value),
            Some((3, 14))
        );
        assert_eq!(
            locate(text, &demo.key("env").key("K"), SpanTarget::Value),
            Some((4, 13))
        );
        assert_eq!(locate(text, &demo, SpanTarget::Value), Some((2, 1)));
        // A missing key points at the deepest existing one.
        assert_eq!(
            locate(text, &demo.key("nope"), SpanTarget::Value),
            Some((2, 14))
        );
    }

    #[test]
    fn finds_dotted_keys() {
        let text = "x = 0\nmcp_servers.demo.command = 5\n";
        let path = KeyPath::from_keys(["mcp_servers", "demo", "command"]);
        assert_eq!(locate(text, &path, SpanTarget::Value), Some((2, 28)));
        let table = KeyPath::from_keys(["mcp_servers", "demo"]);
        assert_eq!(locate(text, &table, SpanTarget::Value), Some((2, 13)));
    }
}
