//! A real headless browser: Debian's chromium driven through chromedriver's WebDriver API
//! (`scripts/install-test-browser.sh` installs both). Stopped, with its browser, when dropped.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use super::broker::free_port;
use super::eventually;

/// WebDriver's key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: Client<HttpConnector, Full<Bytes>>,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium session.
    pub async fn start() -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (run scripts/install-test-browser.sh)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            profile,
        };
        let arguments = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ];
        let mut args: Vec<String> = arguments.iter().map(|arg| arg.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.path().display()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args } } } });
        let session = browser.command(Method::POST, "/session", Some(capabilities)).await;
        browser.session = session["sessionId"].as_str().expect("session id").to_string();
        browser
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|body| Bytes::from(body.to_string())).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(Full::new(body))
            .expect("request");
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.request(request))
            .await
            .expect("chromedriver answers")
            .expect("chromedriver reachable");
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let answer: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert!(answer["value"].get("error").is_none(), "WebDriver error: {answer}");
        answer["value"].clone()
    }

    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.command(Method::POST, &self.path("/url"), Some(json!({ "url": url }))).await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .command(Method::POST, &self.path("/element"), Some(json!({ "using": "css selector", "value": css })))
            .await;
        found[ELEMENT].as_str().expect("element").to_string()
    }

    /// Types `text` into the element `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css).await;
        self.command(Method::POST, &self.path(&format!("/element/{element}/value")), Some(json!({ "text": text })))
            .await;
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.command(Method::POST, &self.path(&format!("/element/{element}/click")), Some(json!({}))).await;
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.element(css).await;
        self.command(Method::GET, &self.path(&format!("/element/{element}/text")), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` in the page and returns its result.
    pub async fn script(&self, script: &str) -> Value {
        self.command(Method::POST, &self.path("/execute/sync"), Some(json!({ "script": script, "args": [] }))).await
    }

    /// Waits until `script` returns `expected`; returns whether it did.
    pub async fn wait_for(&self, script: &str, expected: Value) -> bool {
        eventually(Duration::from_secs(15), || async { self.script(script).await == expected }).await
    }

    /// A PNG picture of what the page shows.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.command(Method::GET, &self.path("/screenshot"), None).await;
        base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap_or_default()).expect("a PNG")
    }

    /// Sets the window's size, for pictures.
    pub async fn resize(&self, width: u32, height: u32) {
        self.command(Method::POST, &self.path("/window/rect"), Some(json!({ "width": width, "height": height }))).await;
    }

    /// Ends the session (closing chromium) and stops chromedriver.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.command(Method::DELETE, &self.path(""), None)).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A browser left by a failed test: its profile folder names it.
        let _ = Command::new("pkill").arg("-f").arg(self.profile.path()).status();
    }
}
