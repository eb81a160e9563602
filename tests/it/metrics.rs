//! `/metrics`: exact counts after scripted deliveries (200, 400 to a DLQ, 500 retried), and promtool, the
//! Prometheus project's own checker, accepts the exposition.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::broker::Broker;
use crate::support::eventually;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::support::kafka::{committed, produce, Record};
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{advanced_mock_api, advanced_subscription, kafka_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);

/// The exposition, and its samples by series (`name{labels}`).
async fn scrape(gateway: &Gateway) -> (String, HashMap<String, f64>) {
    let reply = gateway.api().send(hyper::Method::GET, "/metrics", None, Some(crate::support::gateway::TOKEN)).await;
    assert_eq!(reply.status, 200);
    let text = reply.body.as_str().expect("the exposition as text").to_string();
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.parse().expect("a number")))
        .collect();
    (text, samples)
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples.get(series).unwrap_or_else(|| panic!("no series {series} in {samples:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_counts_and_promtool_accepts_the_exposition() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let configuration = json!({ "logging": { "enabled": true }, "interruptConsumptionOnServerError": false });
    gateway
        .api()
        .deploy(&advanced_mock_api("counted", "at-least-once", configuration, mock_messages(3, 10, "m"), true))
        .await;
    let ok = Receiver::answering(200).await;
    let refusing = Receiver::answering(400).await;
    let flaky = Receiver::scripted(vec![Reply::Status(500)], Reply::Status(200)).await;
    let retry = json!({ "retry": { "retryOption": "Retry On Fail", "maxAttempts": 1, "initialDelaySeconds": 1,
                                   "maxDelaySeconds": 1 } });
    for (id, receiver, extra) in [("ok", &ok, json!({})), ("refused", &refusing, json!({})), ("flaky", &flaky, retry)] {
        let mut body = advanced_subscription(&receiver.url("/hook"), extra);
        body["id"] = json!(id);
        gateway.api().subscribe("counted", &body).await;
    }
    let done = eventually(WAIT, || async {
        let (_, samples) = scrape(&gateway).await;
        let delivered = |id: &str, outcome: &str| {
            samples
                .get(&format!(r#"gateway_deliveries_total{{api="counted",subscription="{id}",outcome="{outcome}"}}"#))
                .copied()
        };
        delivered("ok", "delivered") == Some(3.0)
            && delivered("refused", "dead_lettered") == Some(3.0)
            && delivered("flaky", "delivered") == Some(3.0)
    })
    .await;
    assert!(done, "{}", scrape(&gateway).await.0);
    let (text, samples) = scrape(&gateway).await;
    let series = |name: &str, id: &str, extra: &str| {
        let extra = if extra.is_empty() { String::new() } else { format!(",{extra}") };
        value(&samples, &format!(r#"{name}{{api="counted",subscription="{id}"{extra}}}"#))
    };
    for (id, delivered, dead_lettered, ok_calls, refused_calls, failed_calls, retries) in [
        ("ok", 3.0, 0.0, 3.0, 0.0, 0.0, 0.0),
        ("refused", 0.0, 3.0, 0.0, 3.0, 0.0, 0.0),
        ("flaky", 3.0, 0.0, 3.0, 0.0, 1.0, 1.0),
    ] {
        assert_eq!(series("gateway_deliveries_total", id, r#"outcome="delivered""#), delivered, "{id}");
        assert_eq!(series("gateway_deliveries_total", id, r#"outcome="dead_lettered""#), dead_lettered, "{id}");
        assert_eq!(series("gateway_deliveries_total", id, r#"outcome="skipped""#), 0.0, "{id}");
        assert_eq!(series("gateway_deliveries_total", id, r#"outcome="failed""#), 0.0, "{id}");
        assert_eq!(series("gateway_delivery_attempts_total", id, r#"result="2xx""#), ok_calls, "{id}");
        assert_eq!(series("gateway_delivery_attempts_total", id, r#"result="4xx""#), refused_calls, "{id}");
        assert_eq!(series("gateway_delivery_attempts_total", id, r#"result="5xx""#), failed_calls, "{id}");
        assert_eq!(series("gateway_retries_total", id, ""), retries, "{id}");
        assert_eq!(series("gateway_dlq_publishes_total", id, r#"result="ok""#), dead_lettered, "{id}");
        assert_eq!(series("gateway_callback_duration_seconds_count", id, ""), ok_calls + refused_calls + failed_calls);
        assert_eq!(series("gateway_message_age_seconds_count", id, ""), 3.0, "one age per answered delivery");
        assert_eq!(series("gateway_deliveries_in_flight", id, ""), 0.0);
        assert_eq!(series("gateway_subscription_status", id, r#"status="STARTED""#), 1.0);
        assert_eq!(series("gateway_subscription_status", id, r#"status="FAILURE""#), 0.0);
    }
    let written = eventually(WAIT, || async {
        scrape(&gateway).await.1.get(r#"gateway_webhook_log_entries_total{result="written"}"#) == Some(&9.0)
    })
    .await;
    assert!(written, "nine deliveries logged: {text}");
    assert_eq!(value(&samples, r#"gateway_webhook_log_entries_total{result="dropped"}"#), 0.0);

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (make test installs Debian's prometheus package)");
    promtool.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success() && said.trim().is_empty(), "promtool: {said}\n{text}");
}

/// Waits until the lag of `lagging-sub` on partition 0 of `lagging` is `expected`.
async fn lag_becomes(gateway: &Gateway, expected: f64) -> bool {
    let series = r#"gateway_consumer_lag{api="lagging",subscription="lagging-sub",topic="lagging",partition="0"}"#;
    eventually(WAIT, || async { scrape(gateway).await.1.get(series) == Some(&expected) }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_lag_is_the_high_watermark_minus_the_committed_offset() {
    let broker = Broker::start();
    broker.create_topic("lagging", 1).await;
    let records = |from: usize, count: usize| -> Vec<Record> {
        (from..from + count).map(|index| Record::new(&format!("key-{index}"), &format!("record-{index}"))).collect()
    };
    produce(&broker.bootstrap(), "lagging", &records(0, 5)).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut api = kafka_api("lagging", "at-least-once", &broker.bootstrap(), "lagging");
    api["listeners"][0]["entrypoints"][0]["configuration"] = json!({ "http": { "readTimeout": 120000 } });
    gateway.api().deploy(&api).await;
    // Five records taken, then the callback hangs on the next one: nothing after the fifth is committed.
    let receiver = Receiver::scripted(vec![Reply::Status(200); 5], Reply::Hang).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("lagging-sub");
    gateway.api().subscribe("lagging", &body).await;
    assert!(receiver.wait_for(5, WAIT).await);
    assert!(lag_becomes(&gateway, 0.0).await, "all five committed: {}", scrape(&gateway).await.0);
    produce(&broker.bootstrap(), "lagging", &records(5, 3)).await;
    assert!(receiver.wait_for(6, WAIT).await, "the sixth record hangs at the callback");
    assert!(lag_becomes(&gateway, 3.0).await, "three records behind: {}", scrape(&gateway).await.0);
    assert_eq!(committed(&broker.bootstrap(), "lagging-sub", "lagging", 1), vec![5], "as the broker says");
}

/// `promtool` over `args`, from the folder of the alert rules; what it said when it fails.
fn promtool(args: &[&str]) -> Result<(), String> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/prometheus");
    let output = Command::new("promtool")
        .args(args)
        .current_dir(folder)
        .output()
        .expect("promtool (make test installs Debian's prometheus package)");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(())
    } else {
        Err(said)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_rules_pass_promtool_and_name_only_metrics_the_gateway_exposes() {
    promtool(&["check", "rules", "alerts.yml"]).expect("promtool check rules");
    promtool(&["test", "rules", "alerts.test.yml"]).expect("promtool test rules");
    let rules =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/prometheus/alerts.yml"))
            .expect("the alert rules");
    let home = GatewayHome::new();
    let gateway = home.start();
    let (text, _) = scrape(&gateway).await;
    let exposed: Vec<&str> = text.lines().filter_map(|line| line.strip_prefix("# TYPE ")?.split(' ').next()).collect();
    let named = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("gateway_") && !word.starts_with("gateway_host"));
    for name in named {
        assert!(exposed.contains(&name), "the rules name {name}, which /metrics does not expose: {exposed:?}");
    }
}
