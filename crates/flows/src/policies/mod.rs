//! The policies the subscribe phase runs, each a synchronous call on one message: [`message_filtering`] and
//! [`transform_headers`]. A step of another policy is not run (the API's warnings name it).

pub(crate) mod message_filtering;
pub(crate) mod transform_headers;

use definition::FieldError;
use plugin_api::Message;
use serde_json::Value;

use crate::phase::Variables;

/// The policies this gateway runs on the subscribe phase.
pub const RUN: [&str; 2] = [message_filtering::ID, transform_headers::ID];

/// What a policy did with a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The message goes on to the next step.
    Continue,
    /// The message is dropped; `ack`: it is acknowledged to the source.
    Filter { ack: bool },
    /// The message cannot go on: why.
    Fail(String),
}

/// A policy, configured for one step.
pub(crate) trait Policy: Send + Sync {
    /// Runs on one message.
    fn on_message(&self, message: &mut Message, variables: &Variables) -> Outcome;
}

/// The policy `policy` configured by `configuration` (written at `path`), or `None` when this gateway does not run
/// it. With `variables` (a subscription starting), what depends only on them is evaluated once; without (a deploy),
/// the configuration is only checked. Errors name the configuration's JSON path.
pub(crate) fn compile(
    policy: &str,
    configuration: &Value,
    path: &str,
    variables: Option<&Variables>,
) -> Result<Option<Box<dyn Policy>>, FieldError> {
    let path = format!("{path}.configuration");
    Ok(match policy {
        message_filtering::ID => {
            Some(Box::new(message_filtering::MessageFiltering::compile(configuration, &path, variables)?))
        }
        transform_headers::ID => Some(Box::new(transform_headers::TransformHeaders::compile(configuration, &path)?)),
        _ => None,
    })
}

/// Parses an expression written at `path`; an error names the path and the character.
pub(crate) fn parse_expression(text: &str, path: &str) -> Result<expression::Expression, FieldError> {
    expression::Expression::parse(text).map_err(|error| FieldError::new(path, error.to_string()))
}
