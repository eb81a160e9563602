//! The real gateway binary, in a folder of its own, stopped when the guard drops.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::api::Api;

/// The management token every test gateway uses.
pub const TOKEN: &str = "test-token";
/// The longest a gateway may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest a gateway may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The real plugins, as built by `cargo build --workspace`.
pub const REAL_PLUGINS: [&str; 4] = ["libwebhook.so", "libwebhook_advanced.so", "libmock.so", "libkafka.so"];

/// A gateway's folder: plugins, definitions and store survive restarts of the process.
pub struct GatewayHome {
    dir: tempfile::TempDir,
}

impl GatewayHome {
    /// A folder with the real plugins installed.
    pub fn new() -> Self {
        let home = Self::empty();
        for plugin in REAL_PLUGINS {
            home.install_plugin(plugin);
        }
        home
    }

    /// A folder with no plugin.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["plugins", "definitions", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("gateway folders");
        }
        Self { dir }
    }

    /// Writes `text` as the gateway's configuration file; returns its path (for `GATEWAY_CONFIG`).
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("gateway.toml");
        std::fs::write(&path, text).expect("write the configuration file");
        path
    }

    /// The gateway's database file.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("data/gateway.db")
    }

    /// Copies a library of the build into the plugins folder.
    pub fn install_plugin(&self, file: &str) {
        let built = build_dir().join(file);
        assert!(built.exists(), "{} is missing: run `cargo build --workspace` before the tests", built.display());
        std::fs::copy(&built, self.plugins_dir().join(file)).expect("copy plugin");
    }

    /// Writes a file into the plugins folder.
    pub fn write_plugin_file(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.plugins_dir().join(name), bytes).expect("write plugin file");
    }

    /// Writes an API definition into the definitions folder.
    pub fn write_definition(&self, name: &str, definition: &Value) {
        std::fs::write(self.dir.path().join("definitions").join(name), definition.to_string())
            .expect("write definition");
    }

    /// The plugins folder.
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Starts the gateway on a free loopback port and waits until its management API listens.
    pub fn start(&self) -> Gateway {
        self.start_with_env(&[])
    }

    /// Starts the gateway with extra environment variables (`HTTP_PROXY`, `GATEWAY_LOG_LEVEL`, ...), which win over
    /// the test defaults.
    pub fn start_with_env(&self, env: &[(&str, &str)]) -> Gateway {
        let mut child =
            self.command(env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start gateway-host");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        collect_lines(child.stdout.take().expect("stdout"), Arc::clone(&logs), Some(address_tx));
        collect_lines(child.stderr.take().expect("stderr"), Arc::clone(&logs), None);
        let mut gateway = Gateway { child: Some(child), logs, api: None };
        match address_rx.recv_timeout(START_TIMEOUT) {
            Ok(address) => gateway.api = Some(Api::new(format!("http://{address}"), TOKEN)),
            Err(_) => panic!("the gateway did not start within {START_TIMEOUT:?}; its output:\n{}", gateway.output()),
        }
        gateway
    }

    /// The gateway's command with the test settings, then `env` over them.
    fn command(&self, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(gateway_binary());
        command
            .env("GATEWAY_PLUGINS_DIR", self.plugins_dir())
            .env("GATEWAY_DEFINITIONS_DIR", self.dir.path().join("definitions"))
            .env("GATEWAY_STORE_PATH", self.store_path())
            .env("GATEWAY_MANAGEMENT_LISTEN", "127.0.0.1:0")
            .env("GATEWAY_MANAGEMENT_TOKEN", TOKEN)
            .env("GATEWAY_LOG_LEVEL", "info")
            .env("GATEWAY_SHUTDOWN_DRAIN_TIMEOUT_MS", "10000")
            // Receivers, token servers and proxies of the tests listen on loopback, which the default denies.
            .env("GATEWAY_EGRESS_ALLOW_NETWORKS", "127.0.0.0/8")
            .envs(env.iter().copied());
        command
    }

    /// Runs a gateway that must refuse to start: its exit code and everything it printed. One still running after
    /// the start timeout is killed (and the code is `None`).
    pub fn run_refused(&self, env: &[(&str, &str)]) -> (Option<i32>, String) {
        let mut child = self.command(env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start");
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code();
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = child.wait_with_output().expect("output");
        (code, format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}

/// A running gateway process; killed on drop, its output printed if the test failed.
pub struct Gateway {
    child: Option<Child>,
    logs: Arc<Mutex<Vec<String>>>,
    api: Option<Api>,
}

impl Gateway {
    /// Its management API.
    pub fn api(&self) -> &Api {
        self.api.as_ref().expect("started")
    }

    /// Its process id (the benchmark reads its memory and CPU).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// How many threads it runs now.
    #[allow(dead_code)]
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid())).map(|tasks| tasks.count()).unwrap_or(0)
    }

    /// Everything it printed so far.
    pub fn output(&self) -> String {
        self.logs.lock().expect("logs").join("\n")
    }

    /// How many printed lines contain `needle`.
    pub fn count_lines(&self, needle: &str) -> usize {
        self.logs.lock().expect("logs").iter().filter(|line| line.contains(needle)).count()
    }

    /// How many partitions its Kafka feeds own now, from their logs: assigned minus revoked (cooperative
    /// rebalances assign and revoke only what moves).
    #[allow(dead_code)]
    pub fn feed_partitions(&self) -> i64 {
        let count = |line: &str| -> i64 {
            let after = line.split("partitions=").nth(1).unwrap_or_default();
            after.split(|c: char| !c.is_ascii_digit()).next().and_then(|digits| digits.parse().ok()).unwrap_or(0)
        };
        let logs = self.logs.lock().expect("logs");
        let assigned: i64 =
            logs.iter().filter(|line| line.contains("the feed's partitions changed")).map(|l| count(l)).sum();
        let revoked: i64 =
            logs.iter().filter(|line| line.contains("the feed's partitions were revoked")).map(|l| count(l)).sum();
        assigned - revoked
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill gateway");
        child.wait().expect("wait for the killed gateway");
    }

    /// The last printed line that contains `needle`.
    pub fn last_line(&self, needle: &str) -> Option<String> {
        self.logs.lock().expect("logs").iter().rev().find(|line| line.contains(needle)).cloned()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit code. Its output stays readable.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                // The output readers see the pipes close just after the exit.
                std::thread::sleep(Duration::from_millis(200));
                return status.code();
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                panic!("the gateway did not stop within {STOP_TIMEOUT:?} of SIGTERM; its output:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("---- gateway output ----\n{}\n------------------------", self.output());
        }
    }
}

fn collect_lines(
    stream: impl std::io::Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
    address: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let (Some(sender), Some(listening)) = (&address, listening_address(&line)) {
                let _ = sender.send(listening);
            }
            logs.lock().expect("logs").push(line);
        }
    });
}

/// The management API's address, from the line that announces it (text or JSON log format).
fn listening_address(line: &str) -> Option<String> {
    if let Some(rest) = line.split("management API listening address=").nth(1) {
        return Some(rest.trim().to_string());
    }
    let event: Value = serde_json::from_str(line).ok()?;
    (event["fields"]["message"] == "management API listening")
        .then(|| event["fields"]["address"].as_str())?
        .map(String::from)
}

/// The gateway binary of the build.
pub fn gateway_binary() -> PathBuf {
    build_dir().join("gateway-host")
}

/// `target/<profile>`, where the binary and the plugin libraries are built.
fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/it-<hash>
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}
