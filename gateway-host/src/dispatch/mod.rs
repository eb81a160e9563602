//! Running subscriptions: which run, starting and stopping them, and their lifecycle (SPEC §4).

mod dispatcher;
mod lifecycle;

pub use dispatcher::Dispatcher;
pub use lifecycle::{Action, SubscriptionService};
