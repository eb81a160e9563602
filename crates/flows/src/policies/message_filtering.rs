//! `message-filtering`: a message goes on only when `filter` holds. The reference's options: `ackFilteredMessage`
//! (a dropped message is acknowledged to its source; default true), `filterMessageOnFilteringError` (a filter that
//! cannot be evaluated drops the message; default true, else it goes on, unacknowledged by the policy). And its
//! double evaluation: the filter is first evaluated without a message, and when that yields a string (a
//! subscription's metadata holding an expression), the string is the filter of each message.

use definition::FieldError;
use expression::{Expression, Value};
use plugin_api::Message;
use serde::Deserialize;
use serde_json::Value as Json;

use super::{parse_expression, Outcome, Policy};
use crate::phase::Variables;
use crate::scope::FlowScope;

/// The policy id.
pub(crate) const ID: &str = "message-filtering";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Configuration {
    filter: String,
    #[serde(default = "yes")]
    ack_filtered_message: bool,
    #[serde(default = "yes")]
    filter_message_on_filtering_error: bool,
}

fn yes() -> bool {
    true
}

/// A configured `message-filtering` step.
pub(crate) struct MessageFiltering {
    /// The filter of each message, or why the one a subscription supplied is not an expression.
    filter: Result<Expression, String>,
    ack: bool,
    drop_on_error: bool,
}

impl MessageFiltering {
    /// The step configured by `configuration` (at `path`); with `variables`, the first evaluation is made.
    pub(crate) fn compile(configuration: &Json, path: &str, variables: Option<&Variables>) -> Result<Self, FieldError> {
        let configuration: Configuration = definition::parse_json(configuration.clone(), path)?;
        let written = parse_expression(&configuration.filter, &format!("{path}.filter"))?;
        let filter = match variables {
            Some(variables) => match written.evaluate(&FlowScope { variables, message: None }) {
                Ok(Value::Str(supplied)) => Expression::parse(&supplied)
                    .map_err(|error| format!("the filter `{supplied}` is not an expression: {error}")),
                _ => Ok(written),
            },
            None => Ok(written),
        };
        Ok(Self {
            filter,
            ack: configuration.ack_filtered_message,
            drop_on_error: configuration.filter_message_on_filtering_error,
        })
    }

    /// Whether `message` passes, or why that cannot be said.
    fn passes(&self, message: &Message, variables: &Variables) -> Result<bool, String> {
        let filter = self.filter.as_ref().map_err(Clone::clone)?;
        filter.evaluate(&FlowScope { variables, message: Some(message) })?.to_bool()
    }
}

impl Policy for MessageFiltering {
    fn on_message(&self, message: &mut Message, variables: &Variables) -> Outcome {
        match self.passes(message, variables) {
            Ok(true) => Outcome::Continue,
            Err(_) if !self.drop_on_error => Outcome::Continue,
            Ok(false) | Err(_) => Outcome::Filter { ack: self.ack },
        }
    }
}
