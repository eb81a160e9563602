//! The handle the host keeps on a running subscription.

use std::future::Future;
use std::time::Duration;

use plugin_api::async_ffi::{FfiFuture, FutureExt};
use plugin_api::{RawRunning, Termination};
use plugin_kit::panic_message;
use tokio::runtime::Handle;
use tokio::sync::watch;

/// A delivery loop running on the plugin's runtime.
pub(crate) struct Running {
    stop: watch::Sender<Option<Duration>>,
    termination: watch::Receiver<Option<Termination>>,
}

impl Running {
    /// Spawns `delivery` on `runtime`; `stop` is the sender whose flip the loop watches. A panic in the loop fails
    /// this subscription only.
    pub(crate) fn spawn(
        runtime: &Handle,
        delivery: impl Future<Output = Termination> + Send + 'static,
        stop: watch::Sender<Option<Duration>>,
    ) -> Self {
        let (report, termination) = watch::channel(None);
        let task = runtime.spawn(delivery);
        runtime.spawn(async move {
            let ended = match task.await {
                Ok(termination) => termination,
                Err(error) if error.is_panic() => {
                    Termination::Failed(format!("delivery panicked: {}", panic_message(&*error.into_panic())).into())
                }
                Err(error) => Termination::Failed(format!("delivery task ended: {error}").into()),
            };
            let _ = report.send(Some(ended));
        });
        Self { stop, termination }
    }
}

impl RawRunning for Running {
    fn wait(&self) -> FfiFuture<Termination> {
        let mut termination = self.termination.clone();
        async move {
            match termination.wait_for(Option::is_some).await {
                Ok(ended) => ended.clone().unwrap_or(Termination::Stopped),
                Err(_) => Termination::Failed("the delivery loop vanished without a report".into()),
            }
        }
        .into_ffi()
    }

    fn stop(&self, grace_ms: u64) {
        let _ = self.stop.send(Some(Duration::from_millis(grace_ms)));
    }
}
