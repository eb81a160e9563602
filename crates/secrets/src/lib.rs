//! Secret fields of the documents the gateway keeps: subscription configurations and API definitions.
//!
//! [`SecretFields`] says where the secrets of one kind of document sit. The management API shows each of them as
//! [`MASK`] and takes the mask back as "keep the stored value" ([`SecretFields::mask`],
//! [`SecretFields::restore`]); the store keeps them encrypted ([`SecretFields::seal`], [`SecretFields::open`] with a
//! [`Sealer`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod fields;
mod paths;
mod sealer;

pub use fields::{SecretFields, MASK};
pub use sealer::{SealError, Sealer, SEALED_PREFIX};
