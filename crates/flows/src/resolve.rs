//! Which steps run for one subscription, decided once when it starts (selectors do not see messages): the plan's
//! flows, then the API's, each enabled and matching its selectors; under `best-match`, the best channel match of each;
//! their enabled `subscribe` steps whose `condition` holds, of the policies this gateway runs.

use definition::{ApiDefinition, Flow, Selector};

use crate::channel;
use crate::phase::{ResolvedStep, SubscribePhase, Variables};
use crate::policies::RUN;
use crate::scope::FlowScope;

/// Who subscribes, as the selectors see it.
pub struct Subscriber<'a> {
    /// The entrypoint it subscribed through.
    pub entrypoint_id: &'a str,
    /// Its channel, as given (a leading `/` is added).
    pub channel: Option<&'a str>,
    /// The variables of its expressions (its plan among them).
    pub variables: Variables,
}

/// The subscribe phase of `subscriber` on `api`; an error when `flowExecution.matchRequired` is set and no flow
/// matches.
pub fn resolve(api: &ApiDefinition, subscriber: Subscriber<'_>) -> Result<SubscribePhase, String> {
    let plan = api.plans.iter().enumerate().find(|(_, plan)| plan.id == subscriber.variables.plan_id);
    let plan_flows: Vec<(String, &Flow)> = plan
        .map(|(index, plan)| {
            plan.flows
                .iter()
                .enumerate()
                .map(move |(flow, found)| (format!("plans[{index}].flows[{flow}]"), found))
                .collect()
        })
        .unwrap_or_default();
    let api_flows: Vec<(String, &Flow)> =
        api.flows.iter().enumerate().map(|(index, flow)| (format!("flows[{index}]"), flow)).collect();
    let best_match = api.flow_execution.mode.as_deref().is_some_and(is_best_match);
    let selection = Selection { subscriber: &subscriber, best_match };
    let chosen: Vec<(String, &Flow)> =
        [plan_flows, api_flows].into_iter().flat_map(|chain| selection.choose(chain)).collect();
    if chosen.is_empty() && api.flow_execution.match_required {
        return Err("no flow matches the subscription, and flowExecution.matchRequired is set".to_string());
    }
    let scope = FlowScope { variables: &subscriber.variables, message: None };
    let steps = chosen
        .into_iter()
        .flat_map(|(path, flow)| {
            flow.subscribe.iter().enumerate().map(move |(index, step)| (format!("{path}.subscribe[{index}]"), step))
        })
        .filter(|(_, step)| step.enabled && RUN.contains(&step.policy.as_str()))
        .filter(|(_, step)| step.condition.as_deref().is_none_or(|condition| holds(condition, &scope)))
        .map(|(path, step)| ResolvedStep {
            path,
            policy: step.policy.clone(),
            configuration: step.configuration.clone(),
            message_condition: step.message_condition.clone(),
        })
        .collect();
    Ok(SubscribePhase { steps, variables: subscriber.variables })
}

/// Whether `mode` names best-match.
pub(crate) fn is_best_match(mode: &str) -> bool {
    mode.eq_ignore_ascii_case("best-match") || mode.eq_ignore_ascii_case("best_match")
}

/// Whether an expression holds without a message (an error: it does not).
fn holds(condition: &str, scope: &FlowScope<'_>) -> bool {
    let parsed = expression::Expression::parse(condition);
    parsed.is_ok_and(|parsed| parsed.evaluate(scope).and_then(|value| value.to_bool()).unwrap_or(false))
}

/// How flows are chosen for one subscriber.
struct Selection<'a> {
    subscriber: &'a Subscriber<'a>,
    best_match: bool,
}

impl Selection<'_> {
    /// The flows of one chain (plan or API) that run.
    fn choose<'f>(&self, chain: Vec<(String, &'f Flow)>) -> Vec<(String, &'f Flow)> {
        let matching = chain.into_iter().filter(|(_, flow)| flow.enabled && self.matches(flow));
        if !self.best_match {
            return matching.collect();
        }
        let mut best: Option<(Vec<u8>, (String, &Flow))> = None;
        for candidate in matching {
            let score = channel_of(candidate.1).map(|(pattern, _)| channel::score(pattern)).unwrap_or_default();
            if best.as_ref().is_none_or(|(best, _)| score > *best) {
                best = Some((score, candidate));
            }
        }
        best.map(|(_, flow)| flow).into_iter().collect()
    }

    /// Whether every selector of `flow` holds for the subscriber.
    fn matches(&self, flow: &Flow) -> bool {
        flow.selectors.iter().all(|selector| self.selects(selector))
    }

    fn selects(&self, selector: &Selector) -> bool {
        let subscriber = self.subscriber;
        match selector.selector_type.to_ascii_lowercase().as_str() {
            "channel" => {
                let operation = selector.operations.is_empty()
                    || selector.operations.iter().any(|operation| operation.eq_ignore_ascii_case("subscribe"));
                let entrypoint = selector.entrypoints.is_empty()
                    || selector.entrypoints.iter().any(|entrypoint| entrypoint == subscriber.entrypoint_id);
                let path = match subscriber.channel {
                    Some(channel) if !channel.starts_with('/') => format!("/{channel}"),
                    Some(channel) => channel.to_string(),
                    None => String::new(),
                };
                let (pattern, whole) = channel_pattern(selector);
                operation && entrypoint && channel::matches(pattern, &path, whole)
            }
            "condition" => {
                let scope = FlowScope { variables: &subscriber.variables, message: None };
                selector.condition.as_deref().is_some_and(|condition| holds(condition, &scope))
            }
            // `http` and `mcp` selectors do not apply to messages: the flow runs as if they matched (warned at deploy).
            _ => true,
        }
    }
}

/// A flow's channel pattern and whether it must match whole.
fn channel_of(flow: &Flow) -> Option<(&str, bool)> {
    let selector = flow.selectors.iter().find(|selector| selector.selector_type.eq_ignore_ascii_case("channel"))?;
    Some(channel_pattern(selector))
}

fn channel_pattern(selector: &Selector) -> (&str, bool) {
    let pattern = selector.channel.as_deref().unwrap_or("/");
    let whole = selector.channel_operator.as_deref().is_some_and(|operator| operator.eq_ignore_ascii_case("equals"));
    (pattern, whole)
}
