//! `transform-headers` on the subscribe phase: edits the message's headers, which the callback request carries. In
//! the reference's order: set (`addHeaders`), append (`appendHeaders`), remove (`removeHeaders`), then keep only
//! `whitelistHeaders` when given (headers just set included), names compared whatever their case. Values are
//! templates; a value that is null is not set, one that cannot be evaluated fails the message.

use definition::FieldError;
use expression::{Expression, Value};
use plugin_api::{Header, Message};
use serde::Deserialize;
use serde_json::Value as Json;

use super::{parse_expression, Outcome, Policy};
use crate::phase::Variables;
use crate::scope::FlowScope;

/// The policy id.
pub(crate) const ID: &str = "transform-headers";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Configuration {
    #[serde(default)]
    add_headers: Vec<NameValue>,
    #[serde(default)]
    append_headers: Vec<NameValue>,
    #[serde(default)]
    remove_headers: Vec<String>,
    #[serde(default)]
    whitelist_headers: Vec<String>,
}

#[derive(Deserialize)]
struct NameValue {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// A configured `transform-headers` step.
pub(crate) struct TransformHeaders {
    set: Vec<(String, Expression)>,
    append: Vec<(String, Expression)>,
    remove: Vec<String>,
    keep_only: Vec<String>,
}

impl TransformHeaders {
    /// The step configured by `configuration` (at `path`).
    pub(crate) fn compile(configuration: &Json, path: &str) -> Result<Self, FieldError> {
        let configuration: Configuration = definition::parse_json(configuration.clone(), path)?;
        Ok(Self {
            set: pairs(&configuration.add_headers, &format!("{path}.addHeaders"))?,
            append: pairs(&configuration.append_headers, &format!("{path}.appendHeaders"))?,
            remove: configuration.remove_headers,
            keep_only: configuration.whitelist_headers,
        })
    }
}

/// The entries with a name and a value (the others are skipped, as the reference does), values parsed.
fn pairs(entries: &[NameValue], path: &str) -> Result<Vec<(String, Expression)>, FieldError> {
    let mut pairs = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let (Some(name), Some(value)) = (&entry.name, &entry.value) else {
            continue;
        };
        if name.trim().is_empty() {
            continue;
        }
        if name.chars().any(char::is_whitespace) {
            return Err(FieldError::new(format!("{path}[{index}].name"), "a header name has no spaces"));
        }
        pairs.push((name.clone(), parse_expression(value, &format!("{path}[{index}].value"))?));
    }
    Ok(pairs)
}

/// The values of `pairs` for `message` (null ones left out), or why one cannot be evaluated.
fn evaluate(
    pairs: &[(String, Expression)],
    message: &Message,
    variables: &Variables,
) -> Result<Vec<(String, String)>, String> {
    let scope = FlowScope { variables, message: Some(message) };
    let mut values = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        match value.evaluate(&scope).map_err(|error| format!("header `{name}`: {error}"))? {
            Value::Null => {}
            value => values.push((name.clone(), value.render())),
        }
    }
    Ok(values)
}

impl Policy for TransformHeaders {
    fn on_message(&self, message: &mut Message, variables: &Variables) -> Outcome {
        let (set, append) = match (evaluate(&self.set, message, variables), evaluate(&self.append, message, variables))
        {
            (Ok(set), Ok(append)) => (set, append),
            (Err(error), _) | (_, Err(error)) => {
                return Outcome::Fail(format!("unable to apply headers transformation on message: {error}"))
            }
        };
        let mut headers: Vec<Header> = std::mem::take(&mut message.headers).into_vec();
        for (name, value) in set {
            headers.retain(|header| !header.name.eq_ignore_ascii_case(&name));
            headers.push(Header::new(&name, &value));
        }
        for (name, value) in append {
            headers.push(Header::new(&name, &value));
        }
        headers.retain(|header| !self.remove.iter().any(|name| header.name.eq_ignore_ascii_case(name)));
        if !self.keep_only.is_empty() {
            headers.retain(|header| self.keep_only.iter().any(|name| header.name.eq_ignore_ascii_case(name)));
        }
        message.headers = headers.into();
        Outcome::Continue
    }
}
