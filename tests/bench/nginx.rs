//! nginx from Debian as the callback every throughput row is measured against: one process (one worker), `return
//! 200` on `/hook`, no access log, its request count at `/status` (stub_status). In a folder of its own on a free
//! loopback port; stopped when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::broker::free_port;

/// A running nginx.
pub struct Nginx {
    /// The URL callbacks and wrk POST to.
    pub url: String,
    address: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        let address = format!("127.0.0.1:{}", free_port());
        let config = format!(
            "worker_processes 1;\nerror_log {dir}/error.log warn;\npid {dir}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  keepalive_requests 10000000;\n  client_body_temp_path {dir}/body;\n\
               server {{\n    listen {address};\n    location /hook {{ return 200; }}\n\
                 location /status {{ stub_status; }}\n  }}\n}}\n",
            dir = dir.path().display()
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
            .map_err(|error| format!("nginx (make bench installs it): {error}"))?;
        let nginx = Self { url: format!("http://{address}/hook"), address, child, _dir: dir };
        for _ in 0..100 {
            if nginx.requests().is_ok() {
                return Ok(nginx);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("nginx did not answer within 5 s".into())
    }

    /// Requests nginx has answered so far (its status requests included).
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
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
