//! Running subscriptions: which run, starting and stopping them, and their lifecycle (SPEC §4).

mod dispatcher;
mod lifecycle;
mod placement;

pub use dispatcher::Dispatcher;
pub(crate) use dispatcher::{open_dead_letter, start_entrypoint, RunParts};
pub use lifecycle::{Action, SubscriptionService};
pub use placement::{Alone, Placement};
