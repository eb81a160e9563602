//! The HTTP transport of callbacks: the pooled client of a subscription (directly under the egress policy, or
//! through its proxy; TLS from its trust and key stores), shared by the subscriptions of the same settings, one
//! attempt and how it is classified, and reading a bounded prefix of any answer.

pub(crate) mod attempt;
pub(crate) mod bounded_body;
pub(crate) mod client;
pub(crate) mod resolver;
pub(crate) mod shared;
pub(crate) mod tls;
