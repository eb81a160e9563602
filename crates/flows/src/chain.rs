//! The chain one subscription's messages go through, compiled once when it starts (inside the entrypoint's
//! runtime): each step a synchronous call, in order; a message dropped by a step is not seen by the later ones.

use expression::Expression;
use plugin_api::Message;

use crate::phase::{SubscribePhase, Variables};
use crate::policies::{self, Outcome, Policy};
use crate::scope::FlowScope;

/// What becomes of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// It is delivered (its headers as the steps left them).
    Deliver,
    /// A step dropped it: it is settled without a callback; `ack`: acknowledged to the source at once.
    Filter {
        /// Whether the step acknowledges it (`ackFilteredMessage`).
        ack: bool,
    },
    /// A step could not run on it: why, with the step's path.
    Fail(String),
}

/// A compiled step.
struct Compiled {
    path: String,
    policy: Box<dyn Policy>,
    /// `messageCondition`: the step runs on a message only when it holds.
    condition: Option<Expression>,
}

/// One subscription's compiled subscribe phase.
pub struct Chain {
    steps: Vec<Compiled>,
    variables: Variables,
}

impl Chain {
    /// Compiles `phase` (steps of policies this gateway does not run are left out; the host warned of them).
    pub fn compile(phase: &SubscribePhase) -> Result<Self, String> {
        let mut steps = Vec::with_capacity(phase.steps.len());
        for step in &phase.steps {
            let policy = policies::compile(&step.policy, &step.configuration, &step.path, Some(&phase.variables))
                .map_err(|error| error.to_string())?;
            let Some(policy) = policy else {
                continue;
            };
            let condition = step
                .message_condition
                .as_deref()
                .map(|text| policies::parse_expression(text, &format!("{}.messageCondition", step.path)))
                .transpose()
                .map_err(|error| error.to_string())?;
            steps.push(Compiled { path: step.path.clone(), policy, condition });
        }
        Ok(Self { steps, variables: phase.variables.clone() })
    }

    /// Whether no step runs (every message is delivered as it is).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Runs the steps on `message`.
    pub fn run(&self, message: &mut Message) -> Decision {
        for step in &self.steps {
            if !self.applies(step, message) {
                continue;
            }
            match step.policy.on_message(message, &self.variables) {
                Outcome::Continue => {}
                Outcome::Filter { ack } => return Decision::Filter { ack },
                Outcome::Fail(cause) => return Decision::Fail(format!("{}: {cause}", step.path)),
            }
        }
        Decision::Deliver
    }

    /// Whether `step` runs on `message`: its `messageCondition` holds (false, or an error, skips it).
    fn applies(&self, step: &Compiled, message: &Message) -> bool {
        let Some(condition) = &step.condition else {
            return true;
        };
        let scope = FlowScope { variables: &self.variables, message: Some(message) };
        condition.evaluate(&scope).and_then(|value| value.to_bool()).unwrap_or(false)
    }
}
