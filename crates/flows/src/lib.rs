//! The reference's flows on the subscribe phase: [`check`] at deploy (expressions parsed, what is not run named),
//! [`resolve`] when a subscription starts (the plan's then the API's flows that match it, their enabled steps), and
//! the [`Chain`] each of its messages goes through inside the entrypoint's runtime (`message-filtering`,
//! `transform-headers`). Expressions are the `expression` crate's.
#![warn(missing_docs)]

mod chain;
mod channel;
mod check;
mod phase;
mod policies;
mod resolve;
mod scope;

pub use chain::{Chain, Decision};
pub use check::{check, Checked};
pub use phase::{ResolvedStep, SubscribePhase, Variables};
pub use policies::RUN;
pub use resolve::{resolve, Subscriber};

#[cfg(test)]
mod tests;
