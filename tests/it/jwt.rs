//! `auth.jwtProfileOauth2` (RFC 7523) against a token server that verifies the gateway's assertions with PyJWT, an
//! independent JWT library: HS256 and RS256, custom claims, `jti` and `kid`, a wrong key refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::gateway::GatewayHome;
use crate::support::python;
use crate::support::receiver::Receiver;
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_messages};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "hmac-secret-never-logged-0123456789";

/// `tests/it/support/jwt_token_server.py`, running.
struct TokenServer {
    child: Child,
    port: u16,
    /// One JSON line per token request.
    seen: Arc<Mutex<Vec<Value>>>,
}

impl TokenServer {
    fn start(algorithm: &str, key: &str, issuer: &str) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/support/jwt_token_server.py");
        let mut child = Command::new(python::tool("python"))
            .arg(script)
            .args([algorithm, key, issuer])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the token server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let port = first.strip_prefix("listening ").and_then(|port| port.parse().ok()).expect("the server's port");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    sink.lock().expect("seen").push(value);
                }
            }
        });
        Self { child, port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    fn seen(&self) -> Vec<Value> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn jwt_auth(audience: &str, algorithm: &str, key: &str) -> Value {
    json!({ "auth": { "type": "jwtProfileOauth2", "jwtProfileOauth2": {
        "issuer": "gateway", "subject": "orders-service", "audience": audience,
        "signatureAlgorithm": algorithm, "keyContent": key, "keyId": "key-1", "jwtId": "assertion-1",
        "expirationTime": 2, "expirationTimeUnit": "MINUTES",
        "customClaims": [{ "name": "tenant", "value": "acme" }, { "name": "scope", "value": "orders:write" }] } } })
}

/// An RSA private key in PEM, made by openssl.
fn rsa_key(dir: &Path, name: &str) -> String {
    let file = dir.join(name);
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
        .arg(&file)
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(made.success());
    file.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_and_rs256_assertions_are_accepted_by_an_independent_verifier() {
    let keys = tempfile::tempdir().expect("temp dir");
    let rsa = rsa_key(keys.path(), "rsa.pem");
    let hmac_server = TokenServer::start("HS256", SECRET, "gateway");
    let rsa_server = TokenServer::start("RS256", &rsa, "gateway");
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", "debug")]);
    gateway
        .api()
        .deploy(&advanced_mock_api("asserted", "at-least-once", json!({}), mock_messages(3, 10, "m"), false))
        .await;
    let (hmac_callback, rsa_callback) = (Receiver::answering(200).await, Receiver::answering(200).await);
    let inline_pem = std::fs::read_to_string(&rsa).expect("the key");
    gateway
        .api()
        .subscribe(
            "asserted",
            &advanced_subscription(&hmac_callback.url("/hmac"), jwt_auth(&hmac_server.url(), "HMAC_HS256", SECRET)),
        )
        .await;
    gateway
        .api()
        .subscribe(
            "asserted",
            &advanced_subscription(&rsa_callback.url("/rsa"), jwt_auth(&rsa_server.url(), "RSA_RS256", &inline_pem)),
        )
        .await;
    assert!(hmac_callback.wait_for(3, WAIT).await && rsa_callback.wait_for(3, WAIT).await, "{}", gateway.output());

    for (server, callback) in [(&hmac_server, &hmac_callback), (&rsa_server, &rsa_callback)] {
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "one token for three messages: {seen:?}");
        let request = &seen[0];
        assert_eq!(request["accepted"], true, "{request}");
        assert_eq!(request["header"]["kid"], "key-1");
        let claims = &request["claims"];
        assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("gateway"), Some("orders-service")));
        assert_eq!(claims["aud"], server.url());
        assert_eq!((claims["jti"].as_str(), claims["tenant"].as_str()), (Some("assertion-1"), Some("acme")));
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 120, "two minutes");
        for call in callback.requests() {
            assert_eq!(call.headers["authorization"], "Bearer jwt-token-1");
        }
    }
    let output = gateway.output();
    assert!(!output.contains(SECRET) && !output.contains("PRIVATE KEY"), "no key in the gateway's log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_signed_with_the_wrong_key_is_refused_and_no_call_is_made() {
    let server = TokenServer::start("HS256", SECRET, "gateway");
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway
        .api()
        .deploy(&advanced_mock_api("forged", "at-least-once", json!({}), mock_messages(1, 10, "m"), false))
        .await;
    let callback = Receiver::answering(200).await;
    let auth = jwt_auth(&server.url(), "HMAC_HS256", "another-secret-entirely-0123456789");
    let id = gateway.api().subscribe("forged", &advanced_subscription(&callback.url("/hook"), auth)).await;
    let failed = gateway.api().wait_consumer_status("forged", &id, "FAILURE").await;
    let cause = failed["failureCause"].as_str().unwrap();
    assert!(cause.contains("answered 401") && cause.ends_with("(AUTHENTICATION_FAILED)"), "{cause}");
    assert_eq!(callback.count(), 0);
    let seen = server.seen();
    assert_eq!(seen[0]["accepted"], false);
    assert!(seen[0]["error"].as_str().unwrap().contains("Signature"), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_profile_that_cannot_be_used_is_refused_with_its_path() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&advanced_mock_api("checked", "auto", json!({}), mock_messages(1, 10, "m"), false)).await;
    let cases = [
        (json!({ "keyContent": "not a PEM key" }), "auth.jwtProfileOauth2.keyContent"),
        (json!({ "keySource": "JKS" }), "auth.jwtProfileOauth2.keySource"),
        (json!({ "audience": "not a url" }), "auth.jwtProfileOauth2.audience"),
        (json!({ "customClaims": [{ "name": "iss", "value": "me" }] }), "auth.jwtProfileOauth2.customClaims[0].name"),
        (json!({ "signatureAlgorithm": "NONE" }), "auth.jwtProfileOauth2.signatureAlgorithm"),
    ];
    for (change, path) in cases {
        let mut auth = jwt_auth("http://127.0.0.1:9/token", "RSA_RS256", "-");
        for (key, value) in change.as_object().unwrap() {
            auth["auth"]["jwtProfileOauth2"][key] = value.clone();
        }
        let reply = gateway
            .api()
            .post("/management/v2/apis/checked/subscriptions", &advanced_subscription("http://127.0.0.1:9/hook", auth))
            .await;
        assert_eq!(reply.status, 400, "{change}: {}", reply.body);
        let paths = reply.body["parameters"]["errors"].to_string();
        assert!(
            paths.contains(&format!("consumerConfiguration.entrypointConfiguration.{path}")),
            "{change}: {}",
            reply.body
        );
    }
}
