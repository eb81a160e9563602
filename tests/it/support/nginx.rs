//! nginx from Debian as a callback: `return 200` on `/hook` over HTTP/1.1, and on listeners of their own, HTTP/2
//! with prior knowledge (h2c) and HTTP/2 or HTTP/1.1 over TLS (ALPN), each call of those proxied to the plain
//! listener (two requests for nginx). Each request's protocol is in its access log when asked; its request count at
//! `/status` (stub_status). In a folder of its own on free loopback ports; stopped
//! when dropped. The bench measures throughput against it; the tests check which HTTP callbacks get.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::broker::free_port;

/// What an nginx serves besides HTTP/1.1.
#[derive(Default)]
pub struct Sites {
    /// A listener speaking HTTP/2 with prior knowledge.
    pub h2c: bool,
    /// A TLS listener offering h2 and http/1.1, with this certificate and key (PEM).
    pub tls: Option<(String, String)>,
    /// Log each request's protocol, method and path.
    pub access_log: bool,
}

/// A running nginx.
pub struct Nginx {
    /// `/hook` over HTTP/1.1.
    pub url: String,
    /// `/hook` over h2c, when asked.
    pub h2c_url: Option<String>,
    /// `/hook` over TLS, when asked (`https://127.0.0.1:port/hook`: its certificate names the address).
    pub tls_url: Option<String>,
    address: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// HTTP/1.1 and the `sites` asked for.
    pub fn serving(sites: Sites) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let path = dir.path().display().to_string();
        let address = format!("127.0.0.1:{}", free_port());
        // HTTP/2 listeners hand each call to the plain one: nginx takes an HTTP/2 body it does not read for a flood
        // and closes the connection after some thousands of them, so they read it by proxying it.
        let mut servers = format!(
            "  upstream plain {{ server {address}; keepalive 32; }}\n  server {{\n    listen {address};\n    \
             location /hook {{ return 200; }}\n    location /inner {{ access_log off; return 200; }}\n    \
             location /status {{ stub_status; }}\n  }}\n"
        );
        let server = |listen: &str| {
            format!(
                "  server {{\n    listen {listen};\n    location /hook {{ proxy_pass http://plain/inner; \
                 proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n  }}\n"
            )
        };
        let h2c = sites.h2c.then(|| format!("127.0.0.1:{}", free_port()));
        if let Some(h2c) = &h2c {
            servers.push_str(&server(&format!("{h2c} http2")));
        }
        let tls = sites.tls.as_ref().map(|_| free_port());
        if let (Some(port), Some((cert, key))) = (tls, &sites.tls) {
            std::fs::write(dir.path().join("cert.pem"), cert).map_err(|error| error.to_string())?;
            std::fs::write(dir.path().join("key.pem"), key).map_err(|error| error.to_string())?;
            servers.push_str(&server(&format!(
                "127.0.0.1:{port} ssl http2;\n    ssl_certificate {path}/cert.pem;\n    ssl_certificate_key {path}/key.pem"
            )));
        }
        let access_log = if sites.access_log {
            format!("log_format protocols '$server_protocol $request_method $request_uri';\n  access_log {path}/access.log protocols;")
        } else {
            "access_log off;".to_string()
        };
        let config = format!(
            "worker_processes 1;\nerror_log {path}/error.log warn;\npid {path}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  {access_log}\n  keepalive_requests 10000000;\n  client_body_temp_path {path}/body;\n{servers}}}\n"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).map_err(|error| error.to_string())?;
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&file)
            .args(["-g", "daemon off; master_process off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("nginx (scripts/install-test-proxies.sh installs it): {error}"))?;
        let nginx = Self {
            url: format!("http://{address}/hook"),
            h2c_url: h2c.map(|address| format!("http://{address}/hook")),
            tls_url: tls.map(|port| format!("https://127.0.0.1:{port}/hook")),
            address,
            child,
            dir,
        };
        for _ in 0..100 {
            if nginx.requests().is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("nginx did not answer within 5 s: {}", nginx.error_log()))
    }

    /// Requests nginx has answered so far (its status requests included; a call to an HTTP/2 listener counts twice).
    pub fn requests(&self) -> Result<u64, String> {
        let mut stream = TcpStream::connect(&self.address).map_err(|error| error.to_string())?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|error| error.to_string())?;
        let request = format!("GET /status HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address);
        stream.write_all(request.as_bytes()).map_err(|error| error.to_string())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map_err(|error| error.to_string())?;
        // "... server accepts handled requests\n 12 12 345 \n": the third number.
        let counts = answer.lines().skip_while(|line| !line.contains("accepts handled requests")).nth(1);
        counts
            .and_then(|line| line.split_whitespace().nth(2))
            .and_then(|requests| requests.parse().ok())
            .ok_or_else(|| format!("unexpected nginx status: {answer}"))
    }

    /// The requests to `/hook` logged so far, as `protocol method target` (`HTTP/2.0 POST /hook?via=h2c`).
    pub fn hooks(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.file("access.log")).unwrap_or_default();
        log.lines().filter(|line| line.contains(" /hook")).map(str::to_string).collect()
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.file("error.log")).unwrap_or_default()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
