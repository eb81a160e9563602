//! The runtime a plugin owns, and futures that cross the boundary.

use std::future::Future;

use plugin_api::abi_stable::std_types::{RResult, RString};
use plugin_api::async_ffi::{FfiFuture, FutureExt};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

use crate::guard::panic_message;

/// A small multi-thread tokio runtime owned by one plugin. Dropping it never blocks (and so never panics when the
/// last owner goes away inside another runtime).
pub struct PluginRuntime {
    runtime: Option<Runtime>,
}

impl PluginRuntime {
    /// Starts a runtime with `workers` threads named after the plugin.
    pub fn new(plugin_id: &str, workers: usize) -> Result<Self, String> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("{plugin_id}-rt"))
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the {plugin_id} runtime: {error}"))?;
        Ok(Self { runtime: Some(runtime) })
    }

    /// A handle to spawn work on.
    pub fn handle(&self) -> &Handle {
        self.runtime.as_ref().expect("runtime is present until drop").handle()
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `future` on the plugin's runtime and returns an FFI future that the other side can await from any runtime.
/// A panic in `future` becomes an error value; dropping the returned future cancels the task.
pub fn spawn_ffi<T, F>(handle: &Handle, future: F) -> FfiFuture<RResult<T, RString>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, String>> + Send + 'static,
{
    let mut task = AbortOnDrop(handle.spawn(future));
    async move {
        match (&mut task.0).await {
            Ok(Ok(value)) => RResult::ROk(value),
            Ok(Err(error)) => RResult::RErr(error.into()),
            Err(join_error) if join_error.is_panic() => {
                RResult::RErr(format!("plugin task panicked: {}", panic_message(&*join_error.into_panic())).into())
            }
            Err(join_error) => RResult::RErr(format!("plugin task failed: {join_error}").into()),
        }
    }
    .into_ffi()
}

/// Cancels the task when the future awaiting it is dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
