//! A real Prometheus (Debian's `prometheus` package, which `make test` installs) scraping one gateway every second,
//! on loopback, with its data in a folder of its own; stopped when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::api::Api;
use super::eventually;

/// A Prometheus process.
pub struct Prometheus {
    child: Child,
    api: Api,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Its base URL (its web pages and HTTP API).
    pub fn base(&self) -> &str {
        self.api.base()
    }

    /// Starts Prometheus scraping `/metrics` of the gateway at `target` (`127.0.0.1:port`) with `token`; returns once
    /// it answers.
    pub async fn scraping(target: &str, token: &str) -> Self {
        let dir = tempfile::tempdir().expect("prometheus folder");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: gateway\n    \
             authorization:\n      credentials: {token}\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write the prometheus configuration");
        let port = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a port").port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (make test installs Debian's prometheus package)");
        let prometheus = Self { child, api: Api::new(format!("http://127.0.0.1:{port}"), "unused"), _dir: dir };
        let ready = eventually(Duration::from_secs(30), || async {
            prometheus.api.try_get("/-/ready").await.is_some_and(|status| status == 200)
        })
        .await;
        assert!(ready, "prometheus did not start");
        prometheus
    }

    /// The result of the instant query `query`.
    pub async fn query(&self, query: &str) -> Vec<Value> {
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let reply = self.api.get(&format!("/api/v1/query?query={encoded}")).await;
        assert_eq!(reply.body["status"], "success", "{query}: {}", reply.body);
        reply.body["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The values of label `name` over the series matching `selector`.
    pub async fn label_values(&self, name: &str, selector: &str) -> Vec<String> {
        let encoded: String = form_urlencoded::byte_serialize(selector.as_bytes()).collect();
        let reply = self.api.get(&format!("/api/v1/label/{name}/values?match[]={encoded}")).await;
        let values = reply.body["data"].as_array().cloned().unwrap_or_default();
        values.iter().filter_map(|value| value.as_str().map(str::to_string)).collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
