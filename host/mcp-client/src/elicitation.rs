//! The form of an `elicitation/create` request: its fields read from the
//! requested schema (flat properties of primitive types, MCP 2025-11-25),
//! answers typed by a person parsed by field, and content given at once
//! (`--elicit JSON`) completed with the schema's defaults and checked.

use serde_json::{Map, Number, Value};

/// What kind of value a field takes.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text,
    Integer,
    Number,
    Boolean,
    /// One of these values, each with a label to show.
    Choice(Vec<(String, String)>),
    /// Any number of these values (a multi-select enum).
    Choices(Vec<(String, String)>),
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    /// The title, else the name: what to show the person.
    pub label: String,
    pub description: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    pub default: Option<Value>,
}

/// The fields of `schema`, in the order the server listed them.
pub fn fields(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| Field {
            name: name.clone(),
            label: property
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string(),
            description: property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            kind: kind(property),
            required: required.contains(&name.as_str()),
            default: property.get("default").cloned(),
        })
        .collect()
}

fn kind(property: &Value) -> FieldKind {
    if let Some(options) = choices(property) {
        return FieldKind::Choice(options);
    }
    match property.get("type").and_then(Value::as_str) {
        Some("integer") => FieldKind::Integer,
        Some("number") => FieldKind::Number,
        Some("boolean") => FieldKind::Boolean,
        Some("array") => {
            FieldKind::Choices(property.get("items").and_then(choices).unwrap_or_default())
        }
        _ => FieldKind::Text,
    }
}

/// The values of an `enum` (labelled by `enumNames` where given) or of a
/// `oneOf`/`anyOf` of `const`s (labelled by their `title`).
fn choices(schema: &Value) -> Option<Vec<(String, String)>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let names = schema.get("enumNames").and_then(Value::as_array);
        return Some(
            values
                .iter()
                .enumerate()
                .filter_map(|(index, value)| {
                    let value = value.as_str()?.to_string();
                    let label = names
                        .and_then(|names| names.get(index))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| value.clone());
                    Some((value, label))
                })
                .collect(),
        );
    }
    let options = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    Some(
        options
            .iter()
            .filter_map(|option| {
                let value = option.get("const")?.as_str()?.to_string();
                let label = option
                    .get("title")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| value.clone());
                Some((value, label))
            })
            .collect(),
    )
}

/// Parses what a person typed for `field` (not empty: an empty answer
/// means the default, or nothing).
pub fn parse_answer(field: &Field, text: &str) -> Result<Value, String> {
    let text = text.trim();
    match &field.kind {
        FieldKind::Text => Ok(Value::String(text.to_string())),
        FieldKind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not a whole number")),
        FieldKind::Number => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("`{text}` is not a number")),
        FieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" => Ok(Value::Bool(true)),
            "n" | "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}`: answer yes or no")),
        },
        FieldKind::Choice(options) => choose(options, text).map(Value::String),
        FieldKind::Choices(options) => text
            .split(',')
            .map(|part| choose(options, part.trim()).map(Value::String))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
    }
}

/// An option by its number (from 1), its value or its label.
fn choose(options: &[(String, String)], text: &str) -> Result<String, String> {
    if let Ok(number) = text.parse::<usize>()
        && let Some((value, _)) = number.checked_sub(1).and_then(|index| options.get(index))
    {
        return Ok(value.clone());
    }
    options
        .iter()
        .find(|(value, label)| value == text || label.eq_ignore_ascii_case(text))
        .map(|(value, _)| value.clone())
        .ok_or_else(|| {
            let values: Vec<&str> = options.iter().map(|(value, _)| value.as_str()).collect();
            format!("`{text}` is not one of {}", values.join(", "))
        })
}

/// `content` with the schema's default for every field it omits, checked
/// against the schema: every required field present, every value of its
/// field's type, no field the schema does not have.
pub fn complete(
    schema: &Value,
    mut content: Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let fields = fields(schema);
    for field in &fields {
        if !content.contains_key(&field.name)
            && let Some(default) = &field.default
        {
            content.insert(field.name.clone(), default.clone());
        }
    }
    let mut problems = Vec::new();
    for name in content.keys() {
        if !fields.iter().any(|field| &field.name == name) {
            problems.push(format!("`{name}` is not a field of the form"));
        }
    }
    for field in &fields {
        match content.get(&field.name) {
            None if field.required => problems.push(format!("`{}` is required", field.name)),
            None => {}
            Some(value) => {
                if let Err(problem) = check(field, value) {
                    problems.push(format!("`{}`: {problem}", field.name));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(content)
    } else {
        Err(problems.join("; "))
    }
}

fn check(field: &Field, value: &Value) -> Result<(), String> {
    let fits = match &field.kind {
        FieldKind::Text => value.is_string(),
        FieldKind::Integer => value.is_i64() || value.is_u64(),
        FieldKind::Number => value.is_number(),
        FieldKind::Boolean => value.is_boolean(),
        FieldKind::Choice(options) => value
            .as_str()
            .is_some_and(|text| options.iter().any(|(option, _)| option == text)),
        FieldKind::Choices(options) => value.as_array().is_some_and(|items| {
            items.iter().all(|item| {
                item.as_str()
                    .is_some_and(|text| options.iter().any(|(option, _)| option == text))
            })
        }),
    };
    if fits {
        Ok(())
    } else {
        Err(format!("expected {}, got {value}", describe(&field.kind)))
    }
}

/// The kind of a field in a few words, for prompts and errors.
pub fn describe(kind: &FieldKind) -> String {
    match kind {
        FieldKind::Text => "text".into(),
        FieldKind::Integer => "a whole number".into(),
        FieldKind::Number => "a number".into(),
        FieldKind::Boolean => "yes or no".into(),
        FieldKind::Choice(options) => format!("one of {}", values(options)),
        FieldKind::Choices(options) => format!("some of {} (comma-separated)", values(options)),
    }
}

fn values(options: &[(String, String)]) -> String {
    options
        .iter()
        .map(|(value, _)| value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": { "type": "string", "title": "Your name", "default": "John Doe" },
                "age": { "type": "integer", "default": 30 },
                "status": { "type": "string", "enum": ["active", "inactive"], "default": "active" },
                "ok": { "type": "boolean" },
            },
            "required": ["ok"],
        })
    }

    #[test]
    fn omitted_fields_take_their_defaults_and_required_ones_must_be_given() {
        let content = json!({ "ok": true }).as_object().cloned().unwrap();
        let done = complete(&schema(), content).unwrap();
        assert_eq!(
            Value::Object(done),
            json!({ "name": "John Doe", "age": 30, "status": "active", "ok": true })
        );
        let error = complete(&schema(), Map::new()).unwrap_err();
        assert!(error.contains("`ok` is required"), "{error}");
    }

    #[test]
    fn values_of_the_wrong_type_and_unknown_fields_are_refused() {
        let content = json!({ "ok": "yes", "age": 1.5, "status": "gone", "colour": "red" })
            .as_object()
            .cloned()
            .unwrap();
        let error = complete(&schema(), content).unwrap_err();
        for expected in [
            "`colour` is not a field",
            "`ok`: expected yes or no",
            "`age`",
            "`status`",
        ] {
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }

    #[test]
    fn typed_answers_parse_by_field_kind() {
        let fields = fields(&schema());
        assert_eq!(fields[0].label, "Your name");
        assert_eq!(parse_answer(&fields[1], " 42 "), Ok(json!(42)));
        assert!(parse_answer(&fields[1], "forty").is_err());
        assert_eq!(parse_answer(&fields[2], "2"), Ok(json!("inactive")));
        assert_eq!(parse_answer(&fields[2], "active"), Ok(json!("active")));
        assert!(parse_answer(&fields[2], "3").is_err());
        assert_eq!(parse_answer(&fields[3], "y"), Ok(json!(true)));
    }
}
