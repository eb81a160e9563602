//! `#jsonPath(content, '$...')`: the definite paths and wildcards of Jayway JsonPath as the reference configures it
//! (a missing leaf is null; a missing parent, or content that is not JSON, is an error). Content is bounded.

use crate::value::Value;

/// Largest content `#jsonPath` parses, in bytes.
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `.name` or `['name']`.
    Key(String),
    /// `[3]`, `[-1]`.
    Index(i64),
    /// `[*]` or `.*`: every child.
    Every,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `$`, `.name`, `['name']`, `["name"]`, `[3]`, `[*]`, `.*`; refuses what it does not offer.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let chars: Vec<char> = text.trim().chars().collect();
        if chars.first() != Some(&'$') {
            return Err(format!("a JSON path starts with `$`: `{text}`"));
        }
        let mut steps = Vec::new();
        let mut index = 1;
        while index < chars.len() {
            match chars[index] {
                '.' if chars.get(index + 1) == Some(&'.') => {
                    return Err(format!("deep scan `..` is not supported: `{text}`"));
                }
                '.' if chars.get(index + 1) == Some(&'*') => {
                    steps.push(Step::Every);
                    index += 2;
                }
                '.' => {
                    let name: String = chars[index + 1..].iter().take_while(|c| !matches!(c, '.' | '[')).collect();
                    if name.is_empty() {
                        return Err(format!("a name is missing after `.`: `{text}`"));
                    }
                    index += 1 + name.chars().count();
                    steps.push(Step::Key(name));
                }
                '[' => {
                    let close = chars[index..].iter().position(|c| *c == ']').map(|offset| index + offset);
                    let Some(close) = close else {
                        return Err(format!("`[` is not closed: `{text}`"));
                    };
                    let inside: String = chars[index + 1..close].iter().collect();
                    steps.push(bracket(inside.trim(), text)?);
                    index = close + 1;
                }
                other => return Err(format!("unexpected `{other}` in the JSON path `{text}`")),
            }
        }
        Ok(Self { steps })
    }

    /// The value at the path in `content` (JSON text, or a value already read from JSON).
    pub(crate) fn read(&self, content: &Value) -> Result<Value, String> {
        let parsed;
        let root = match content {
            Value::Str(text) => {
                if text.len() > MAX_CONTENT_BYTES {
                    return Err(format!("the content is larger than {MAX_CONTENT_BYTES} bytes"));
                }
                let json: serde_json::Value =
                    serde_json::from_str(text).map_err(|error| format!("the content is not JSON: {error}"))?;
                parsed = Value::from_json(&json);
                &parsed
            }
            Value::Map(_) | Value::List(_) => content,
            other => return Err(format!("#jsonPath reads JSON text, not {}", other.type_name())),
        };
        let mut current = vec![root.clone()];
        let mut definite = true;
        for (position, step) in self.steps.iter().enumerate() {
            let leaf = position + 1 == self.steps.len();
            let mut next = Vec::with_capacity(current.len());
            for value in current {
                match (step, value) {
                    (Step::Key(name), Value::Map(map)) => match map.get(name) {
                        Some(child) => next.push(child.clone()),
                        None if leaf || !definite => next.push(Value::Null),
                        None => return Err(format!("no `{name}` on the way to the JSON path's end")),
                    },
                    (Step::Index(index), Value::List(items)) => {
                        let at = if *index < 0 { items.len() as i64 + index } else { *index };
                        match usize::try_from(at).ok().and_then(|at| items.get(at)) {
                            Some(child) => next.push(child.clone()),
                            None if !definite => {}
                            None => return Err(format!("index {index} is out of the array's bounds")),
                        }
                    }
                    (Step::Every, Value::List(items)) => next.extend(items),
                    (Step::Every, Value::Map(map)) => next.extend(map_values(&map)),
                    (_, _) if !definite => {}
                    (step, value) => return Err(format!("{step:?} cannot be read from {}", value.type_name())),
                }
            }
            if *step == Step::Every {
                definite = false;
            }
            current = next;
        }
        if definite {
            Ok(current.pop().unwrap_or(Value::Null))
        } else {
            Ok(Value::List(current.into_iter().filter(|value| *value != Value::Null).collect()))
        }
    }
}

fn map_values(map: &crate::value::Map) -> Vec<Value> {
    map.values().cloned().collect()
}

/// What `[...]` holds: a quoted name, an index or `*`.
fn bracket(inside: &str, text: &str) -> Result<Step, String> {
    if inside == "*" {
        return Ok(Step::Every);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inside.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return Ok(Step::Key(name.to_string()));
        }
    }
    inside
        .parse()
        .map(Step::Index)
        .map_err(|_| format!("`[{inside}]` is not supported in `{text}` (names, indexes and `*` are)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &str, content: &str) -> Result<Value, String> {
        JsonPath::parse(path).unwrap().read(&Value::Str(content.to_string()))
    }

    #[test]
    fn a_missing_leaf_is_null_and_a_missing_parent_an_error() {
        assert_eq!(read("$.feature", r#"{"x":1}"#), Ok(Value::Null));
        assert!(read("$.account.product", r#"{"x":1}"#).is_err());
        assert!(read("$.feature", "not json").is_err());
    }

    #[test]
    fn names_indexes_and_wildcards() {
        let content = r#"{"a":{"b c":[10,20,30]}}"#;
        assert_eq!(read("$.a['b c'][1]", content), Ok(Value::Int(20)));
        assert_eq!(read("$.a['b c'][-1]", content), Ok(Value::Int(30)));
        assert_eq!(read("$.a.*[0]", content), Ok(Value::List(vec![Value::Int(10)])));
    }

    #[test]
    fn what_is_not_offered_is_refused() {
        assert!(JsonPath::parse("$..a").is_err());
        assert!(JsonPath::parse("$[?(@.a)]").is_err());
        assert!(JsonPath::parse("a.b").is_err());
    }
}
