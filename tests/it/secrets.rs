//! Secrets are write-only and encrypted at rest: every answer of the management API shows the mask, the mask sent
//! back keeps the stored value (the callback still gets the right credentials), and neither the SQLite file, the
//! webhook logs nor the gateway's own log holds a secret. A wrong store key stops the start with the setting named.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use crate::support::certs::{Identity, Pki};
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::receiver::{refused_url, Receiver};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, mock_messages};

const WAIT: Duration = Duration::from_secs(20);
const MASK: &str = "********";
const BASIC_PASSWORD: &str = "basic-pass-7f3a91";
const TOKEN_VALUE: &str = "token-value-c81d2e";
const CLIENT_SECRET: &str = "client-secret-5b09aa";
const JWT_KEY: &str = "jwt-hmac-key-0d4e77-long-enough";
const TRUST_PASSWORD: &str = "trust-pass-44e1c0";
const KEY_STORE_PASSWORD: &str = "key-store-pass-2b7e";
const JWT_STORE_PASSWORD: &str = "jwt-store-pass-81aa";
const JWT_KEY_PASSWORD: &str = "jwt-key-pass-f00c";
const PROXY_PASSWORD: &str = "proxy-pass-19be44";
const JAAS_PASSWORD: &str = "jaas-pass-6c2f83";
const SIGNING_SECRET: &str = "whsec_c2lnbmluZy1zZWNyZXQtOTkzMWNh";

/// Every secret a test sends, as it could leak: plain, and the basic credentials as their header carries them.
fn leaks(key_pem: &str) -> Vec<String> {
    let key_line = key_pem.lines().nth(1).expect("a PEM body line").to_string();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{BASIC_PASSWORD}"));
    let signing = SIGNING_SECRET.trim_start_matches("whsec_").to_string();
    [
        BASIC_PASSWORD,
        TOKEN_VALUE,
        CLIENT_SECRET,
        JWT_KEY,
        TRUST_PASSWORD,
        KEY_STORE_PASSWORD,
        JWT_STORE_PASSWORD,
        JWT_KEY_PASSWORD,
        PROXY_PASSWORD,
        JAAS_PASSWORD,
    ]
    .iter()
    .map(|secret| secret.to_string())
    .chain([key_line, basic, signing])
    .collect()
}

fn assert_no_secret(what: &str, text: &str, leaks: &[String]) {
    for secret in leaks {
        assert!(!text.contains(secret.as_str()), "{what} holds the secret {secret}:\n{text}");
    }
}

/// The subscriptions of the test: each auth type, PEM and PKCS12 stores and a signing secret.
fn subscriptions(callback: &str, pki: &Pki, identity: &Identity) -> Vec<(&'static str, Value)> {
    let (key_pem, cert_pem) = (&identity.key_pem, &identity.cert_pem);
    let ssl = json!({
        "keyStore": { "type": "PEM", "certContent": cert_pem, "keyContent": key_pem },
        "trustStore": { "type": "PKCS12", "content": pki.ca_pkcs12(TRUST_PASSWORD), "password": TRUST_PASSWORD } });
    vec![
        (
            "basic",
            json!({ "auth": { "type": "basic", "basic": { "username": "user", "password": BASIC_PASSWORD } },
                    "ssl": ssl, "signature": { "secrets": [SIGNING_SECRET] } }),
        ),
        (
            "token",
            json!({ "auth": { "type": "token", "token": { "value": TOKEN_VALUE } },
                    "ssl": { "keyStore": { "type": "PKCS12", "content": identity.pkcs12(KEY_STORE_PASSWORD),
                                           "password": KEY_STORE_PASSWORD } } }),
        ),
        (
            "oauth2",
            json!({ "auth": { "type": "oauth2", "oauth2": {
                "endpoint": refused_url(), "clientId": "client", "clientSecret": CLIENT_SECRET } } }),
        ),
        (
            "jwt",
            json!({ "auth": { "type": "jwtProfileOauth2", "jwtProfileOauth2": {
                "issuer": "gateway", "subject": "svc", "audience": refused_url(),
                "signatureAlgorithm": "HMAC_HS256", "keyContent": JWT_KEY,
                "keystoreOptions": { "storePassword": JWT_STORE_PASSWORD, "keyPassword": JWT_KEY_PASSWORD } } } }),
        ),
    ]
    .into_iter()
    .map(|(name, extra)| {
        let mut body = advanced_subscription(&format!("{callback}/{name}"), extra);
        body["id"] = json!(name);
        (name, body)
    })
    .collect()
}

/// A mock-fed `webhook-advanced` API logging headers and payloads, its (disabled) proxy with a password.
fn vault_api() -> Value {
    let configuration = json!({
        "logging": { "enabled": true, "request": { "headers": true, "payload": true },
                     "response": { "headers": true, "payload": true } },
        "proxy": { "enabled": false, "host": "127.0.0.1", "port": 3128, "username": "u", "password": PROXY_PASSWORD },
        "interruptConsumptionOnException": false });
    advanced_mock_api("vault", "at-least-once", configuration, mock_messages(100_000, 100, r#"{"n":1}"#), false)
}

/// A kafka-fed API with SASL credentials, deployed only (nothing subscribes, no broker is needed).
fn kafka_api_with_credentials() -> Value {
    json!({
        "id": "sasl", "name": "sasl", "type": "message", "definitionVersion": "4.0.0",
        "listeners": [{ "type": "subscription", "entrypoints": [{ "type": "webhook", "qos": "auto", "configuration": {} }] }],
        "endpointGroups": [{ "name": "source", "type": "kafka",
            "sharedConfiguration": {
                "security": { "protocol": "SASL_PLAINTEXT", "sasl": { "saslMechanism": "PLAIN",
                    "saslJaasConfig": format!(r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="{JAAS_PASSWORD}";"#) } },
                "consumer": { "enabled": true, "topics": ["t"] } },
            "endpoints": [{ "name": "kafka", "type": "kafka", "inheritConfiguration": true,
                "configuration": { "bootstrapServers": "127.0.0.1:9" } }] }]
    })
}

fn basic_header() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("user:{BASIC_PASSWORD}")))
}

/// Waits for `more` requests to `/hook/basic` beyond `seen`; asserts the last carries the right credentials.
async fn assert_basic_deliveries(receiver: &Receiver, gateway: &Gateway, more: usize) {
    let seen = receiver.requests().iter().filter(|request| request.path == "/hook/basic").count();
    let arrived = crate::support::eventually(WAIT, || async {
        receiver.requests().iter().filter(|request| request.path == "/hook/basic").count() >= seen + more
    })
    .await;
    assert!(arrived, "no delivery to /hook/basic: {}", gateway.output());
    let last = receiver.requests().into_iter().rev().find(|request| request.path == "/hook/basic").unwrap();
    assert_eq!(last.headers["authorization"], basic_header().as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_masked_in_every_answer_kept_by_the_mask_and_sealed_in_the_store() {
    let home = GatewayHome::new();
    let mut gateway = home.start();
    let api = gateway.api();
    let (pki, receiver) = (Pki::new(), Receiver::answering(200).await);
    let identity = pki.issue(&["client"]);
    let leaks = leaks(&identity.key_pem);
    let created_api = api.deploy(&vault_api()).await;
    let created_kafka = api.deploy(&kafka_api_with_credentials()).await;

    let mut answers = vec![("API creation", created_api), ("kafka API creation", created_kafka)];
    for (name, body) in subscriptions(&receiver.url("/hook"), &pki, &identity) {
        let reply = api.post("/management/v2/apis/vault/subscriptions", &body).await;
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        answers.push(("subscription creation", reply.body));
    }
    assert_basic_deliveries(&receiver, &gateway, 2).await;

    let reference = "/management/v2/environments/DEFAULT/apis";
    for path in [
        "/management/v2/apis".to_string(),
        "/management/v2/apis/vault".to_string(),
        "/management/v2/apis/sasl".to_string(),
        "/management/v2/apis/vault/subscriptions".to_string(),
        "/management/v2/apis/vault/subscriptions/basic".to_string(),
        reference.to_string(),
        format!("{reference}/sasl"),
        format!("{reference}/sasl/_export/definition"),
        format!("{reference}/vault/subscriptions"),
        format!("{reference}/vault/subscriptions/jwt"),
    ] {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        answers.push(("a read", reply.body));
    }
    for (what, answer) in &answers {
        assert_no_secret(what, &answer.to_string(), &leaks);
    }

    let shown = api.subscription("vault", "basic").await;
    let configuration = &shown["consumerConfiguration"]["entrypointConfiguration"];
    assert_eq!(configuration["auth"]["basic"], json!({ "username": "user", "password": MASK }));
    assert_eq!(configuration["ssl"]["keyStore"]["keyContent"], MASK);
    assert_eq!(configuration["ssl"]["keyStore"]["certContent"], identity.cert_pem.as_str(), "not a secret");
    assert_eq!(configuration["ssl"]["trustStore"]["password"], MASK);
    assert_eq!(configuration["signature"]["secrets"], json!([MASK]));
    let token = &api.subscription("vault", "token").await["consumerConfiguration"]["entrypointConfiguration"];
    assert_eq!(token["auth"]["token"]["value"], MASK);
    assert_eq!(token["ssl"]["keyStore"]["content"], MASK);
    assert_eq!(token["ssl"]["keyStore"]["password"], MASK);
    let jwt = &api.subscription("vault", "jwt").await["consumerConfiguration"]["entrypointConfiguration"];
    let options = &jwt["auth"]["jwtProfileOauth2"]["keystoreOptions"];
    assert_eq!(options, &json!({ "storePassword": MASK, "keyPassword": MASK }));
    let sasl = api.get("/management/v2/apis/sasl").await.body;
    let shared = &sasl["definition"]["endpointGroups"][0]["sharedConfiguration"];
    assert_eq!(shared["security"]["sasl"]["saslJaasConfig"], MASK);
    let vault = api.get("/management/v2/apis/vault").await.body;
    assert_eq!(vault["definition"]["listeners"][0]["entrypoints"][0]["configuration"]["proxy"]["password"], MASK);

    // The masks sent back keep the stored values: the callback still gets the right password.
    let update = json!({ "consumerConfiguration": shown["consumerConfiguration"] });
    let reply = api.put("/management/v2/apis/vault/subscriptions/basic", &update).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_no_secret("an update's answer", &reply.body.to_string(), &leaks);
    let reply = api.put("/management/v2/apis/vault", &vault["definition"]).await;
    assert_eq!(reply.status, 200, "an API sent back with its masks: {}", reply.body);
    assert_basic_deliveries(&receiver, &gateway, 2).await;

    // A mask that stands for nothing is refused, with its path.
    let mut masked_token = advanced_subscription(&receiver.url("/hook/new"), json!({}));
    masked_token["consumerConfiguration"]["entrypointConfiguration"]["auth"] =
        json!({ "type": "token", "token": { "value": MASK } });
    let reply = api.post("/management/v2/apis/vault/subscriptions", &masked_token).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.to_string().contains("consumerConfiguration.entrypointConfiguration.auth.token.value"));
    let mut masked_api = vault_api();
    masked_api["id"] = json!("masked");
    masked_api["listeners"][0]["entrypoints"][0]["configuration"]["proxy"]["password"] = json!(MASK);
    let reply = api.post("/management/v2/apis", &masked_api).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.to_string().contains("listeners[0].entrypoints[0].configuration.proxy.password"));

    let logs = api.get("/management/v2/apis/vault/webhook-logs?perPage=100").await;
    assert!(logs.body["data"].as_array().is_some_and(|entries| !entries.is_empty()), "{}", logs.body);
    assert_no_secret("the webhook logs", &logs.body.to_string(), &leaks);

    assert_eq!(gateway.terminate(), Some(0));
    assert_no_secret("the gateway's log", &gateway.output(), &leaks);
    let store_folder = home.store_path().parent().unwrap().to_path_buf();
    for entry in std::fs::read_dir(&store_folder).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert_no_secret(&path.display().to_string(), &String::from_utf8_lossy(&bytes), &leaks);
    }
    let key_file = store_folder.join("store.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the generated key is the owner's only");

    // Another key is refused with the setting named; the store's own opens every secret again.
    let other_key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let (code, said) = home.run_refused(&[("GATEWAY_STORE_ENCRYPTION_KEY", &other_key)]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("store.encryption_key") && said.contains("GATEWAY_STORE_ENCRYPTION_KEY"), "{said}");
    let (code, said) = home.run_refused(&[("GATEWAY_STORE_ENCRYPTION_KEY", "c2hvcnQ=")]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("store.encryption_key") && said.contains("32 bytes"), "{said}");
    let gateway = home.start();
    assert_basic_deliveries(&receiver, &gateway, 2).await;
}
