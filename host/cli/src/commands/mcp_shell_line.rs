//! One line typed in `codex mcp shell`: which command, and its arguments
//! (a JSON object, or `key=value` words with shell quoting).

use std::collections::HashMap;
use std::path::PathBuf;

use codex_mcp_client::server_features::CompletionTarget;
use serde_json::{Map, Value};

/// The commands, in the order `help` lists them: name, arguments, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("tools", "", "list the server's tools"),
    (
        "call",
        "TOOL [JSON | key=value ...]",
        "call a tool; Ctrl-C cancels it",
    ),
    ("resources", "", "list the server's resources"),
    ("read", "URI [--output FILE]", "read a resource"),
    ("templates", "", "list the resource templates"),
    ("prompts", "", "list the server's prompts"),
    (
        "prompt",
        "NAME [JSON | key=value ...]",
        "get a prompt with its arguments",
    ),
    (
        "complete",
        "(prompt NAME | template URI) ARG=PARTIAL [NAME=VALUE ...]",
        "complete an argument",
    ),
    ("ping", "", "round-trip time"),
    ("help", "[COMMAND]", "this list"),
    ("quit", "", "end the session (also `exit`, Ctrl-D)"),
];

/// A parsed line.
#[derive(Debug, PartialEq)]
pub enum ShellCommand {
    /// An empty line or a `#` comment.
    Nothing,
    Help(Option<String>),
    Quit,
    Tools,
    Call {
        tool: String,
        /// What follows the tool's name; read against its input schema.
        arguments: String,
    },
    Resources,
    Read {
        uri: String,
        output: Option<PathBuf>,
    },
    Templates,
    Prompts,
    Prompt {
        name: String,
        arguments: String,
    },
    Complete {
        target: CompletionTarget,
        argument: String,
        partial: String,
        context: HashMap<String, String>,
    },
    Ping,
}

/// Parses one line; the error says what is wrong and how it is written.
pub fn parse(line: &str) -> Result<ShellCommand, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(ShellCommand::Nothing);
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (line, ""),
    };
    let command = match word {
        "help" | "?" => ShellCommand::Help(words(rest)?.into_iter().next()),
        "quit" | "exit" => ShellCommand::Quit,
        "tools" => no_arguments(word, rest, ShellCommand::Tools)?,
        "resources" => no_arguments(word, rest, ShellCommand::Resources)?,
        "templates" => no_arguments(word, rest, ShellCommand::Templates)?,
        "prompts" => no_arguments(word, rest, ShellCommand::Prompts)?,
        "ping" => no_arguments(word, rest, ShellCommand::Ping)?,
        "call" => {
            let (tool, arguments) = name_and_rest(word, rest)?;
            ShellCommand::Call { tool, arguments }
        }
        "prompt" => {
            let (name, arguments) = name_and_rest(word, rest)?;
            ShellCommand::Prompt { name, arguments }
        }
        "read" => read(rest)?,
        "complete" => complete(rest)?,
        other => {
            return Err(format!(
                "unknown command `{other}`\nhelp: `help` lists the commands{}",
                closest(other)
                    .map(|name| format!("; did you mean `{name}`?"))
                    .unwrap_or_default()
            ));
        }
    };
    Ok(command)
}

fn no_arguments(word: &str, rest: &str, command: ShellCommand) -> Result<ShellCommand, String> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(format!("`{word}` takes no arguments, got `{rest}`"))
    }
}

/// `NAME REST`: the first word, and the rest of the line as typed.
fn name_and_rest(word: &str, rest: &str) -> Result<(String, String), String> {
    let usage = usage_of(word);
    if rest.is_empty() {
        return Err(format!("`{word}` needs a name\nhelp: {usage}"));
    }
    Ok(match rest.split_once(char::is_whitespace) {
        Some((name, arguments)) => (name.to_string(), arguments.trim().to_string()),
        None => (rest.to_string(), String::new()),
    })
}

fn read(rest: &str) -> Result<ShellCommand, String> {
    let usage = usage_of("read");
    let mut uri = None;
    let mut output = None;
    let mut words = words(rest)?.into_iter();
    while let Some(word) = words.next() {
        if word == "--output" || word == "-o" {
            let Some(file) = words.next() else {
                return Err(format!("`read`: {word} needs a file\nhelp: {usage}"));
            };
            output = Some(PathBuf::from(file));
        } else if uri.is_none() {
            uri = Some(word);
        } else {
            return Err(format!(
                "`read` takes one URI, got `{word}` too\nhelp: {usage}"
            ));
        }
    }
    let Some(uri) = uri else {
        return Err(format!("`read` needs a URI\nhelp: {usage}"));
    };
    Ok(ShellCommand::Read { uri, output })
}

fn complete(rest: &str) -> Result<ShellCommand, String> {
    let usage = usage_of("complete");
    let words = words(rest)?;
    let [kind, reference, argument, context @ ..] = words.as_slice() else {
        return Err(format!(
            "`complete` needs what to complete and the argument\nhelp: {usage}"
        ));
    };
    let target = match kind.as_str() {
        "prompt" => CompletionTarget::Prompt(reference.clone()),
        "template" => CompletionTarget::Template(reference.clone()),
        other => {
            return Err(format!(
                "`complete {other}`: expected `prompt` or `template`\nhelp: {usage}"
            ));
        }
    };
    let Some((argument, partial)) = argument.split_once('=') else {
        return Err(format!(
            "`complete`: `{argument}` is not ARG=PARTIAL\nhelp: for example `complete prompt args-prompt city=Pa`"
        ));
    };
    let mut values = HashMap::new();
    for pair in context {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!(
                "`complete`: `{pair}` is not NAME=VALUE (the value of another argument)"
            ));
        };
        values.insert(key.to_string(), value.to_string());
    }
    Ok(ShellCommand::Complete {
        target,
        argument: argument.to_string(),
        partial: partial.to_string(),
        context: values,
    })
}

/// The words of `text`, with shell quoting (`'a b'`, `"a b"`, `a\ b`).
fn words(text: &str) -> Result<Vec<String>, String> {
    shlex::split(text).ok_or_else(|| format!("unbalanced quotes in `{text}`"))
}

/// `COMMAND ARGUMENTS` as `help` shows it.
pub fn usage_of(command: &str) -> String {
    COMMANDS
        .iter()
        .find(|(name, _, _)| *name == command)
        .map(|(name, arguments, _)| format!("{name} {arguments}").trim_end().to_string())
        .unwrap_or_else(|| command.to_string())
}

/// The command one typo away from `word`, if any.
fn closest(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .map(|(name, _, _)| *name)
        .find(|name| name.starts_with(word) || edit_distance(name, word) <= 1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Arguments as typed after a tool's or prompt's name: a JSON object, or
/// `key=value` words. A value is taken as JSON (a number, `true`, an
/// array...) unless `string_keys` says the key is a string or it is not
/// valid JSON.
pub fn arguments(
    text: &str,
    string_keys: impl Fn(&str) -> bool,
) -> Result<Map<String, Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    if text.starts_with('{') {
        return match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err("the arguments must be a JSON object".to_string()),
            Err(error) => Err(format!(
                "the arguments are not valid JSON: {error}\nhelp: a JSON object such as {{\"a\": 1}}, or key=value words"
            )),
        };
    }
    let mut map = Map::new();
    for word in words(text)? {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!(
                "`{word}` is not key=value\nhelp: give a JSON object, or key=value words (quote values with spaces: key='a b')"
            ));
        };
        if key.is_empty() {
            return Err(format!("`{word}` has no key before `=`"));
        }
        let value = if string_keys(key) {
            Value::String(value.to_string())
        } else {
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()))
        };
        map.insert(key.to_string(), value);
    }
    Ok(map)
}

/// Whether `key` is a string property of a tool's input schema.
pub fn is_string_property(schema: &Map<String, Value>, key: &str) -> bool {
    schema
        .get("properties")
        .and_then(|properties| properties.get(key))
        .and_then(|property| property.get("type"))
        .is_some_and(|kind| kind == "string")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(parse("  ").unwrap(), ShellCommand::Nothing);
        assert_eq!(parse("# a comment").unwrap(), ShellCommand::Nothing);
        assert_eq!(parse("tools").unwrap(), ShellCommand::Tools);
        assert_eq!(parse("exit").unwrap(), ShellCommand::Quit);
        assert_eq!(
            parse(r#"call echo {"message": "hi there"}"#).unwrap(),
            ShellCommand::Call {
                tool: "echo".into(),
                arguments: r#"{"message": "hi there"}"#.into()
            }
        );
        assert_eq!(
            parse("read 'demo://a b' -o out.bin").unwrap(),
            ShellCommand::Read {
                uri: "demo://a b".into(),
                output: Some(PathBuf::from("out.bin"))
            }
        );
        assert_eq!(
            parse("complete template demo://x/{id} id=1 other=2").unwrap(),
            ShellCommand::Complete {
                target: CompletionTarget::Template("demo://x/{id}".into()),
                argument: "id".into(),
                partial: "1".into(),
                context: HashMap::from([("other".to_string(), "2".to_string())]),
            }
        );
    }

    #[test]
    fn mistakes_say_how_a_command_is_written() {
        let error = parse("tool").unwrap_err();
        assert!(error.contains("unknown command `tool`"), "{error}");
        assert!(error.contains("did you mean `tools`?"), "{error}");
        assert!(parse("call").unwrap_err().contains("call TOOL"));
        assert!(
            parse("tools now")
                .unwrap_err()
                .contains("takes no arguments")
        );
        assert!(
            parse("complete prompt p city")
                .unwrap_err()
                .contains("ARG=PARTIAL")
        );
        assert!(
            parse("read 'open")
                .unwrap_err()
                .contains("unbalanced quotes")
        );
    }

    #[test]
    fn key_value_arguments_follow_the_schema() {
        let schema = json!({"properties": {"a": {"type": "number"}, "s": {"type": "string"}}});
        let schema = schema.as_object().unwrap();
        let parsed = arguments("a=2 s=3 t='x y' u=[1]", |key| {
            is_string_property(schema, key)
        })
        .unwrap();
        assert_eq!(
            Value::Object(parsed),
            json!({"a": 2, "s": "3", "t": "x y", "u": [1]})
        );
        assert!(
            arguments("[1]", |_| false)
                .unwrap_err()
                .contains("is not key=value")
        );
        assert!(
            arguments("{\"a\": ", |_| false)
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(arguments("=1", |_| false).unwrap_err().contains("no key"));
    }
}
