//! What an expression yields: the reference's Java values, as far as its expressions can tell them apart (a number
//! never equals a string, a list never equals one of its elements, a missing map key is null).

use std::collections::BTreeMap;
use std::fmt::Write;

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Java's `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (Java's `Integer` and `Long`).
    Int(i64),
    /// A floating-point number (Java's `Double`).
    Float(f64),
    /// A string.
    Str(String),
    /// A list (a header's values, a JSON array).
    List(Vec<Value>),
    /// A map (metadata, attributes, headers, a JSON object).
    Map(Map),
}

/// A map from names to values; header maps find their names whatever their case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    entries: BTreeMap<String, Value>,
    case_insensitive: bool,
}

impl Map {
    /// A map whose names are compared exactly.
    pub fn new() -> Self {
        Self::default()
    }

    /// A map whose names are compared whatever their case (HTTP headers).
    pub fn case_insensitive() -> Self {
        Self { entries: BTreeMap::new(), case_insensitive: true }
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: &str, value: Value) {
        let name = self.key(name);
        self.entries.insert(name, value);
    }

    /// Adds `value` to the list under `name` (a header seen again).
    pub fn push(&mut self, name: &str, value: Value) {
        let name = self.key(name);
        match self.entries.entry(name).or_insert_with(|| Value::List(Vec::new())) {
            Value::List(values) => values.push(value),
            other => *other = Value::List(vec![std::mem::replace(other, Value::Null), value]),
        }
    }

    /// The value under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        if self.case_insensitive {
            self.entries.get(&name.to_ascii_lowercase())
        } else {
            self.entries.get(name)
        }
    }

    /// Its values, in name order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.values()
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(&self, name: &str) -> String {
        if self.case_insensitive {
            name.to_ascii_lowercase()
        } else {
            name.to_string()
        }
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(entries: I) -> Self {
        Self { entries: entries.into_iter().collect(), case_insensitive: false }
    }
}

impl Value {
    /// The value of a JSON document.
    pub fn from_json(json: &serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(value) => Self::Bool(*value),
            serde_json::Value::Number(number) => {
                number.as_i64().map_or_else(|| Self::Float(number.as_f64().unwrap_or(f64::NAN)), Self::Int)
            }
            serde_json::Value::String(text) => Self::Str(text.clone()),
            serde_json::Value::Array(items) => Self::List(items.iter().map(Self::from_json).collect()),
            serde_json::Value::Object(object) => {
                Self::Map(object.iter().map(|(name, value)| (name.clone(), Self::from_json(value))).collect())
            }
        }
    }

    /// The name of its type, for errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::Float(_) => "a number",
            Self::Str(_) => "a string",
            Self::List(_) => "a list",
            Self::Map(_) => "a map",
        }
    }

    /// The boolean it converts to as the reference converts a filter's result: a boolean, or the strings `true`,
    /// `false` (and `yes`, `no`, `on`, `off`, `1`, `0`), whatever their case.
    pub fn to_bool(&self) -> Result<bool, String> {
        match self {
            Self::Bool(value) => Ok(*value),
            Self::Str(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                _ => Err(format!("`{text}` is not a boolean")),
            },
            other => Err(format!("{} is not a boolean", other.type_name())),
        }
    }

    /// The text Java would print for it (`null` for null; a list's items joined with `,`, as the reference renders
    /// a header's values).
    pub fn render(&self) -> String {
        let mut text = String::new();
        self.render_into(&mut text);
        text
    }

    fn render_into(&self, text: &mut String) {
        match self {
            Self::Null => text.push_str("null"),
            Self::Bool(value) => {
                let _ = write!(text, "{value}");
            }
            Self::Int(value) => {
                let _ = write!(text, "{value}");
            }
            Self::Float(value) if value.fract() == 0.0 && value.abs() < 1e16 => {
                let _ = write!(text, "{value:.1}");
            }
            Self::Float(value) => {
                let _ = write!(text, "{value}");
            }
            Self::Str(value) => text.push_str(value),
            Self::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        text.push(',');
                    }
                    item.render_into(text);
                }
            }
            Self::Map(map) => {
                text.push('{');
                for (index, (name, value)) in map.entries.iter().enumerate() {
                    if index > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(name);
                    text.push('=');
                    value.render_into(text);
                }
                text.push('}');
            }
        }
    }

    /// Whether the two are equal as the reference's `==` says: numbers by value, strings by text, null only to
    /// null, values of different types never.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Self::Null, Self::Null) => true,
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Int(a), Self::Int(b)) => a == b,
            (Self::Int(_) | Self::Float(_), Self::Int(_) | Self::Float(_)) => self.number() == other.number(),
            (Self::Str(a), Self::Str(b)) => a == b,
            (Self::List(a), Self::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.equals(b)),
            (Self::Map(a), Self::Map(b)) => {
                a.entries.len() == b.entries.len()
                    && a.entries
                        .iter()
                        .all(|(name, value)| b.entries.get(name).is_some_and(|other| value.equals(other)))
            }
            _ => false,
        }
    }

    /// How the two compare (`<`, `>`): numbers by value, strings by text, null before anything.
    pub fn compare(&self, other: &Value) -> Result<std::cmp::Ordering, String> {
        use std::cmp::Ordering;
        match (self, other) {
            (Self::Null, Self::Null) => Ok(Ordering::Equal),
            (Self::Null, _) => Ok(Ordering::Less),
            (_, Self::Null) => Ok(Ordering::Greater),
            (Self::Int(a), Self::Int(b)) => Ok(a.cmp(b)),
            (Self::Int(_) | Self::Float(_), Self::Int(_) | Self::Float(_)) => {
                self.number().partial_cmp(&other.number()).ok_or_else(|| "NaN cannot be compared".to_string())
            }
            (Self::Str(a), Self::Str(b)) => Ok(a.cmp(b)),
            (Self::Bool(a), Self::Bool(b)) => Ok(a.cmp(b)),
            _ => Err(format!("{} cannot be compared with {}", self.type_name(), other.type_name())),
        }
    }

    /// Its value as a float, for numbers.
    pub(crate) fn number(&self) -> f64 {
        match self {
            Self::Int(value) => *value as f64,
            Self::Float(value) => *value,
            _ => f64::NAN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_never_equals_a_string_nor_a_list_its_element() {
        assert!(!Value::Int(1).equals(&Value::Str("1".into())));
        assert!(!Value::List(vec![Value::Str("a".into())]).equals(&Value::Str("a".into())));
        assert!(Value::Int(42).equals(&Value::Float(42.0)));
        assert!(Value::Null.equals(&Value::Null));
    }

    #[test]
    fn rendering_follows_java() {
        assert_eq!(Value::List(vec![Value::Str("a".into()), Value::Str("b".into())]).render(), "a,b");
        assert_eq!(Value::Float(2.0).render(), "2.0");
        assert_eq!(Value::Null.render(), "null");
    }

    #[test]
    fn header_maps_ignore_case() {
        let mut headers = Map::case_insensitive();
        headers.push("X-Type", Value::Str("order".into()));
        headers.push("x-type", Value::Str("refund".into()));
        assert_eq!(
            headers.get("X-TYPE"),
            Some(&Value::List(vec![Value::Str("order".into()), Value::Str("refund".into())]))
        );
    }
}
