//! The variables of an expression run on the subscribe phase: the subscription's, the API's, the context's, and the
//! message's when there is one (selectors and the first evaluation of a filter have none).

use expression::{Map, Scope, Value, Variable};
use plugin_api::Message;

use crate::phase::Variables;

/// Metadata the reference gives as numbers (Kafka's partition and offset).
const NUMERIC_METADATA: [&str; 2] = ["partition", "offset"];

/// The scope of one evaluation.
pub(crate) struct FlowScope<'a> {
    pub(crate) variables: &'a Variables,
    pub(crate) message: Option<&'a Message>,
}

impl Scope for FlowScope<'_> {
    fn lookup(&self, variable: Variable, field: Option<&str>) -> Option<Value> {
        match variable {
            Variable::Message => self.message.map(|message| message_field(message, field)),
            Variable::Subscription => Some(self.subscription(field)),
            Variable::Api => Some(self.api(field)),
            Variable::Context => Some(self.context(field)),
        }
    }
}

impl FlowScope<'_> {
    fn subscription(&self, field: Option<&str>) -> Value {
        let variables = self.variables;
        let text = |value: &str| Value::Str(value.to_string());
        match field {
            Some("id") => text(&variables.subscription_id),
            Some("type") => text("PUSH"),
            Some("metadata") => Value::Map(
                variables.subscription_metadata.iter().map(|(name, value)| (name.clone(), text(value))).collect(),
            ),
            Some("applicationName") => text(&variables.application_id),
            Some(_) => Value::Null,
            None => whole(&["id", "type", "metadata", "applicationName"], |field| self.subscription(Some(field))),
        }
    }

    fn api(&self, field: Option<&str>) -> Value {
        match field {
            Some("id") => Value::Str(self.variables.api_id.clone()),
            Some("name") => Value::Str(self.variables.api_name.clone()),
            Some("properties") => Value::Map(Map::new()),
            Some(_) => Value::Null,
            None => whole(&["id", "name", "properties"], |field| self.api(Some(field))),
        }
    }

    fn context(&self, field: Option<&str>) -> Value {
        let variables = self.variables;
        let attributes = || {
            let pairs = [
                ("api", &variables.api_id),
                ("plan", &variables.plan_id),
                ("application", &variables.application_id),
                ("subscription", &variables.subscription_id),
            ];
            Value::Map(pairs.iter().map(|(name, value)| (name.to_string(), Value::Str(value.to_string()))).collect())
        };
        match field {
            Some("attributes") => attributes(),
            Some(_) => Value::Null,
            None => Value::Map([("attributes".to_string(), attributes())].into_iter().collect()),
        }
    }
}

/// A variable as a map of its fields.
fn whole(fields: &[&str], value: impl Fn(&str) -> Value) -> Value {
    Value::Map(fields.iter().map(|field| (field.to_string(), value(field))).collect())
}

fn message_field(message: &Message, field: Option<&str>) -> Value {
    match field {
        Some("id") => Value::Str(message.id.to_string()),
        Some("content") => Value::Str(String::from_utf8_lossy(&message.content).into_owned()),
        Some("contentLength") => Value::Int(message.content.len() as i64),
        Some("headers") => {
            let mut headers = Map::case_insensitive();
            for header in message.headers.iter() {
                headers.push(&header.name, Value::Str(String::from_utf8_lossy(&header.value).into_owned()));
            }
            Value::Map(headers)
        }
        Some("metadata") => Value::Map(
            message
                .metadata
                .iter()
                .map(|entry| {
                    let text = String::from_utf8_lossy(&entry.value).into_owned();
                    let number = NUMERIC_METADATA.contains(&entry.name.as_str()).then(|| text.parse().ok()).flatten();
                    (entry.name.to_string(), number.map_or(Value::Str(text), Value::Int))
                })
                .collect(),
        ),
        Some("attributes") => Value::Map(Map::new()),
        Some(_) => Value::Null,
        None => whole(&["id", "content", "contentLength", "headers", "attributes", "metadata"], |field| {
            message_field(message, Some(field))
        }),
    }
}
