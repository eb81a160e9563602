//! librdkafka's mock cluster, run by the `kafka-mock-cluster` tool of this package; fault commands go to its input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

/// A mock cluster process and the pipes its commands go through.
pub struct MockCluster {
    child: Child,
    bootstrap: String,
    brokers: i32,
    pipes: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl MockCluster {
    /// Starts a cluster of `brokers` brokers (ids 1 to `brokers`).
    pub fn start(brokers: i32) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kafka-mock-cluster"))
            .arg(brokers.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kafka-mock-cluster");
        let input = child.stdin.take().expect("its input");
        let mut output = BufReader::new(child.stdout.take().expect("its output"));
        let mut bootstrap = String::new();
        output.read_line(&mut bootstrap).expect("its bootstrap servers");
        assert!(!bootstrap.trim().is_empty(), "kafka-mock-cluster printed no bootstrap servers");
        Self { child, bootstrap: bootstrap.trim().to_string(), brokers, pipes: Mutex::new((input, output)) }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its bootstrap servers.
    pub fn bootstrap(&self) -> String {
        self.bootstrap.clone()
    }

    /// Runs a fault command; panics when the cluster refuses it.
    pub fn command(&self, command: &str) {
        let mut pipes = self.pipes.lock().expect("pipes lock");
        let (input, output) = &mut *pipes;
        writeln!(input, "{command}").and_then(|()| input.flush()).expect("command sent");
        let mut answer = String::new();
        output.read_line(&mut answer).expect("command answered");
        assert_eq!(answer.trim(), "ok", "kafka-mock-cluster refused `{command}`");
    }

    /// Takes every broker down, then brings each back: connections drop, the cluster's state stays.
    pub fn restart(&mut self) {
        for broker in 1..=self.brokers {
            self.command(&format!("down {broker}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        for broker in 1..=self.brokers {
            self.command(&format!("up {broker}"));
        }
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
