//! An OTLP collector for the tests: `otlp_receiver.py` decodes what the gateway exports with the OpenTelemetry
//! project's Python bindings, and each span it prints is kept here as JSON.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::python;

/// A running collector; stopped when dropped.
pub struct Collector {
    child: Child,
    port: u16,
    spans: Arc<Mutex<Vec<Value>>>,
}

impl Collector {
    /// Starts the receiver on a free loopback port.
    pub fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/it/support/otlp_receiver.py");
        let mut child = Command::new(python::tool("python"))
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the OTLP receiver");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("the receiver says its port").expect("a line");
        let port = serde_json::from_str::<Value>(&first).expect("JSON")["listening"].as_u64().expect("a port") as u16;
        let spans = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&spans);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let span: Value = serde_json::from_str(&line).expect("a span as JSON");
                kept.lock().expect("spans").push(span);
            }
        });
        Self { child, port, spans }
    }

    /// Its base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<Value> {
        self.spans.lock().expect("spans").clone()
    }

    /// The spans of trace `trace_id` once there are `count` of them (at most `timeout` later); panics otherwise.
    pub async fn trace(&self, trace_id: &str, count: usize, timeout: Duration) -> Vec<Value> {
        let of_trace =
            || -> Vec<Value> { self.spans().into_iter().filter(|span| span["trace_id"] == trace_id).collect() };
        let arrived = super::eventually(timeout, || async { of_trace().len() >= count }).await;
        let spans = of_trace();
        assert!(arrived && spans.len() == count, "trace {trace_id}: {count} spans expected, got {spans:#?}");
        spans
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
