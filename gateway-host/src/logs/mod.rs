//! Webhook logs (SPEC §8): the sampling of each API, the handle each running subscription logs through, and the
//! writer that keeps entries in the store off the delivery path, with a retention limit.

mod queue;
mod sampling;
mod sink;
mod writer;

pub use sampling::Sampling;
pub use writer::{Retention, WebhookLogs};
