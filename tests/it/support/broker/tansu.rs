//! tansu (SQLite storage) on loopback, restartable on the same port and storage.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Free ports tried before giving up.
const PORT_ATTEMPTS: usize = 5;
/// The longest a broker may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A tansu broker with its own port and storage; restartable on the same port and storage.
pub struct Tansu {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Tansu {
    /// Starts a broker on a free loopback port. A port found free may be taken by a parallel test before tansu
    /// binds it: then tansu exits, and another port is tried.
    pub fn start() -> Self {
        for _ in 0..PORT_ATTEMPTS {
            let mut broker =
                Self { port: super::free_port(), dir: tempfile::tempdir().expect("temp dir"), child: None };
            if broker.launch().is_ok() {
                return broker;
            }
        }
        panic!("tansu could not bind any of {PORT_ATTEMPTS} free ports");
    }

    /// Starts a broker on `port`.
    pub fn start_on(port: u16) -> Self {
        let mut broker = Self { port, dir: tempfile::tempdir().expect("temp dir"), child: None };
        broker.launch().unwrap_or_else(|error| panic!("{error}"));
        broker
    }

    /// The broker's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `127.0.0.1:port`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the broker process (SIGKILL); its storage stays.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and storage.
    pub fn restart(&mut self) {
        self.stop();
        self.launch().unwrap_or_else(|error| panic!("{error}"));
    }

    /// Starts tansu and waits until it listens; fails if it exits (its port was taken).
    fn launch(&mut self) -> Result<(), String> {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // tansu resolves the SQLite path against its working directory.
        let child = Command::new(tansu())
            .current_dir(self.dir.path())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let exited = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!("tansu exited ({status}) instead of listening on {}", self.port));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // Something listens: tansu, unless another process took the port (tansu then exits at once).
                std::thread::sleep(Duration::from_millis(100));
                if self.child.as_mut().is_some_and(|child| child.try_wait().ok().flatten().is_none()) {
                    return Ok(());
                }
                continue;
            }
            if Instant::now() >= deadline {
                return Err(format!("tansu did not listen on {} within {START_TIMEOUT:?}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The tansu binary: `$TANSU`, else cargo's bin folder (`scripts/install-tansu.sh` installs it there).
fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let path = cargo_home.join("bin/tansu");
    assert!(path.exists(), "{} is missing: run scripts/install-tansu.sh (make test does)", path.display());
    path
}
