//! The webhook delivery engine shared by the `webhook` and `webhook-advanced` plugins.
//!
//! It owns the configuration schema (SPEC §3–§4), the per-subscription delivery loop (QoS, concurrency, ordering,
//! acknowledgement), the pooled HTTP client, request building with the header precedence of SPEC §5, and the
//! classification of answers. A plugin adds its manifest and its [`Edition`]: which settings it serves.
#![warn(missing_docs)]
#![deny(unreachable_pub)]

pub mod config;

mod checked;
mod delivery;
mod edition;
mod egress_rules;
mod entrypoint;
mod layers;
mod running;
mod transport;

pub use checked::CheckedSubscription;
pub use delivery::deliverer::DEAD_LETTER_FAILURE;
pub use delivery::trace::traced_url;
pub use edition::Edition;
pub use entrypoint::WebhookEntrypoint;
pub use layers::{Authorizer, BoxFuture, DeadLetter, DeadLetterContext, LayerSetup, Layers};
pub use transport::attempt::{CallbackError, CallbackErrorKind};
pub use transport::bounded_body::{read_prefix, BodyPrefix};
pub use transport::client::{build_client, default_client, error_chain, CallbackClient};
pub use transport::resolver::{address_denied, AddressDenied};
pub use transport::tls::pkcs12_signing_key;
