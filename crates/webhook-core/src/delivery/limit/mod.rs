//! How fast one subscription calls its callback (`pacing`): [`rate`] spaces the deliveries' starts
//! (`maxPerSecond`), [`adaptive`] sets how many may be in flight (fixed at `http.maxConcurrentConnections`, or
//! adapting to the callback's answers).

pub(crate) mod adaptive;
pub(crate) mod rate;
