//! The delivery pipeline of one subscription: the loop that takes messages from the source, runs them through the
//! subscription's flows (`flows::Chain`; [`filtered`]: what they drop) and settles them ([`run_loop`]), which of
//! them may start ([`scheduler`]: keyed ordering) and how fast ([`limit`]: `pacing`), the delivery of one message
//! with its retries and verdict ([`deliverer`]), the request built for it ([`request`], signed by the
//! `standard-webhooks` crate), what an answer means ([`outcome`], [`retry_after`]), its webhook log entry
//! ([`log`]) and its spans ([`trace`]).

pub(crate) mod deliverer;
pub(crate) mod filtered;
pub(crate) mod limit;
pub(crate) mod log;
pub(crate) mod log_batch;
pub(crate) mod outcome;
pub(crate) mod request;
pub(crate) mod retry_after;
pub(crate) mod run_loop;
pub(crate) mod scheduler;
pub(crate) mod trace;
