//! Real proxy servers on loopback, from Debian's packages (`scripts/install-test-proxies.sh`): tinyproxy for HTTP
//! with basic authentication, dante for SOCKS4 and SOCKS5. Each logs to a file the tests read; each stops on drop.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::broker::free_port;

/// The account dante checks SOCKS5 passwords against (created by the setup script).
pub const SOCKS_USER: &str = "gwproxy";
/// Its password.
pub const SOCKS_PASSWORD: &str = "proxy-pass";

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Free ports tried before giving up.
const PORT_ATTEMPTS: usize = 5;

/// A running proxy.
pub struct ProxyServer {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl ProxyServer {
    /// tinyproxy asking for `user`/`password` (basic authentication), tunnelling to any port.
    pub fn tinyproxy(user: &str, password: &str) -> Self {
        Self::tinyproxy_with(user, password, "")
    }

    /// tinyproxy as commonly configured: CONNECT tunnels to port 443 only; other requests are forwarded.
    pub fn tinyproxy_connect_443_only(user: &str, password: &str) -> Self {
        Self::tinyproxy_with(user, password, "ConnectPort 443\n")
    }

    fn tinyproxy_with(user: &str, password: &str, extra: &str) -> Self {
        let config = |port: u16| {
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nBasicAuth {user} {password}\nAllow 127.0.0.1\nLogLevel Info\n{extra}"
            )
        };
        Self::launch(config, "tinyproxy.conf", |config| {
            let mut command = Command::new("tinyproxy");
            command.args(["-d", "-c"]).arg(config);
            command
        })
    }

    /// dante; with `password`, SOCKS5 with username and password, else no authentication (SOCKS4 and SOCKS5).
    pub fn dante(password: bool) -> Self {
        let method = if password { "username" } else { "none" };
        let config = |port: u16| {
            format!(
            "logoutput: stderr\ninternal: 127.0.0.1 port = {port}\nexternal: 127.0.0.1\nsocksmethod: {method}\n\
             clientmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\nsocks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect }}\n"
        )
        };
        Self::launch(config, "danted.conf", |config| {
            let mut command = Command::new("/usr/sbin/danted");
            command.arg("-f").arg(config).arg("-p").arg(config.with_file_name("danted.pid"));
            command
        })
    }

    /// Starts the proxy on a free port. A port found free may be taken by a parallel test before the proxy binds
    /// it: the proxy then exits, and another port is tried.
    fn launch(config: impl Fn(u16) -> String, name: &str, command: impl Fn(&PathBuf) -> Command) -> Self {
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join(name);
            std::fs::write(&path, config(port)).expect("proxy config");
            let log = std::fs::File::create(dir.path().join("proxy.log")).expect("proxy log");
            let child = command(&path)
                .stdout(Stdio::from(log.try_clone().expect("log")))
                .stderr(Stdio::from(log))
                .spawn()
                .expect("start the proxy (run scripts/install-test-proxies.sh)");
            let mut server = Self { port, child: Some(child), dir };
            let deadline = Instant::now() + START_TIMEOUT;
            while TcpStream::connect(("127.0.0.1", port)).is_err() && !server.exited() {
                assert!(Instant::now() < deadline, "the proxy did not listen on {port}:\n{}", server.log());
                std::thread::sleep(Duration::from_millis(20));
            }
            // Something listens: the proxy, unless another process took the port (the proxy then exits at once).
            std::thread::sleep(Duration::from_millis(100));
            if !server.exited() {
                return server;
            }
        }
        panic!("the proxy could not bind any of {PORT_ATTEMPTS} free ports");
    }

    fn exited(&mut self) -> bool {
        self.child.as_mut().is_none_or(|child| child.try_wait().ok().flatten().is_some())
    }

    /// What the proxy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("proxy.log")).unwrap_or_default()
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, so that dante stops the children it forked.
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
