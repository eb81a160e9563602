//! What a deploy checks of an API's flows: every expression of what runs parses (an error names the JSON path and the
//! character), the configurations of the policies this gateway runs are valid, and every part that is not run is
//! named in a warning with its path.

use definition::{ApiDefinition, FieldError, Flow, Step};

use crate::policies::{self, parse_expression};
use crate::resolve::is_best_match;

/// The errors that refuse the API, and the warnings of what is not run.
#[derive(Debug, Default)]
pub struct Checked {
    /// Errors, each with its JSON path.
    pub errors: Vec<FieldError>,
    /// Parts that are not run, each with its JSON path.
    pub warnings: Vec<String>,
}

/// Checks the flows of `api`, whose document keeps it under `prefix` (`api` in an export, else nothing).
pub fn check(api: &ApiDefinition, prefix: &str) -> Checked {
    let mut checked = Checked::default();
    let at = |path: String| plugin_api::join_path(prefix, &path);
    if let Some(mode) = &api.flow_execution.mode {
        if !mode.eq_ignore_ascii_case("default") && !is_best_match(mode) {
            checked.errors.push(FieldError::new(at("flowExecution.mode".into()), "must be `default` or `best-match`"));
        }
    }
    for (index, flow) in api.flows.iter().enumerate() {
        checked.flow(flow, &at(format!("flows[{index}]")));
    }
    for (plan_index, plan) in api.plans.iter().enumerate() {
        for (index, flow) in plan.flows.iter().enumerate() {
            checked.flow(flow, &at(format!("plans[{plan_index}].flows[{index}]")));
        }
    }
    checked
}

impl Checked {
    fn flow(&mut self, flow: &Flow, path: &str) {
        if !flow.enabled {
            return;
        }
        for (index, selector) in flow.selectors.iter().enumerate() {
            let path = format!("{path}.selectors[{index}]");
            match selector.selector_type.to_ascii_lowercase().as_str() {
                "channel" => {
                    let operator = selector.channel_operator.as_deref().unwrap_or("STARTS_WITH");
                    if !operator.eq_ignore_ascii_case("starts_with") && !operator.eq_ignore_ascii_case("equals") {
                        self.errors.push(FieldError::new(
                            format!("{path}.channelOperator"),
                            "must be `STARTS_WITH` or `EQUALS`",
                        ));
                    }
                }
                "condition" => match &selector.condition {
                    Some(condition) => self.expression(condition, &format!("{path}.condition")),
                    None => self
                        .errors
                        .push(FieldError::new(format!("{path}.condition"), "a condition selector needs a condition")),
                },
                "http" | "mcp" => self.warnings.push(format!(
                    "{path}: selector `{}` does not apply to messages; the flow runs as if it matched",
                    selector.selector_type
                )),
                other => self.errors.push(FieldError::new(
                    format!("{path}.type"),
                    format!("unknown selector `{other}` (channel, condition, http, mcp)"),
                )),
            }
        }
        for (phase, steps) in [("request", &flow.request), ("response", &flow.response)] {
            for (index, step) in steps.iter().enumerate().filter(|(_, step)| step.enabled) {
                self.warnings.push(format!(
                    "{path}.{phase}[{index}]: policy `{}` is not run (this gateway runs the subscribe phase only)",
                    step.policy
                ));
            }
        }
        for (index, step) in flow.subscribe.iter().enumerate().filter(|(_, step)| step.enabled) {
            self.step(step, &format!("{path}.subscribe[{index}]"));
        }
    }

    fn step(&mut self, step: &Step, path: &str) {
        for (field, text) in [("condition", &step.condition), ("messageCondition", &step.message_condition)] {
            if let Some(text) = text {
                self.expression(text, &format!("{path}.{field}"));
            }
        }
        match policies::compile(&step.policy, &step.configuration, path, None) {
            Ok(Some(_)) => {}
            Ok(None) => self.warnings.push(format!(
                "{path}: policy `{}` is not run by this gateway; messages pass the step unchanged",
                step.policy
            )),
            Err(error) => self.errors.push(error),
        }
    }

    fn expression(&mut self, text: &str, path: &str) {
        if let Err(error) = parse_expression(text, path) {
            self.errors.push(error);
        }
    }
}
