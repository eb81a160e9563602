//! The Grafana dashboard of the repository (`docs/grafana/webhook-gateway.json`) over a real Prometheus scraping a
//! gateway under load (a mock subscription and a Kafka-fed one): every query of every panel, through Prometheus's
//! HTTP API, returns series with the labels its legend shows, and the variables' label queries find the APIs and
//! subscriptions.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::broker::Broker;
use crate::support::browser::Browser;
use crate::support::eventually;
use crate::support::gateway::{GatewayHome, TOKEN};
use crate::support::kafka::{produce, Record};
use crate::support::pictures;
use crate::support::prometheus::Prometheus;
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(60);
/// What `$__rate_interval` stands for: several scrapes at one a second.
const RATE_INTERVAL: &str = "15s";

/// The dashboard as the repository ships it.
fn dashboard() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/grafana/webhook-gateway.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard")).expect("the dashboard is JSON")
}

/// A panel query with its variables set to "all", as Grafana sends it.
fn as_sent(expr: &str) -> String {
    expr.replace("$api", ".*").replace("$subscription", ".*").replace("$__rate_interval", RATE_INTERVAL)
}

/// The labels a query's series must carry: those it sums by (none after `histogram_quantile`, which drops `le`).
fn grouped_by(expr: &str) -> Vec<String> {
    if expr.starts_with("histogram_quantile") {
        return Vec::new();
    }
    let Some(start) = expr.find("by (") else {
        return Vec::new();
    };
    let rest = &expr[start + 4..];
    rest[..rest.find(')').expect("by (...) is closed")].split(',').map(|label| label.trim().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_of_the_dashboard_returns_series_from_a_real_prometheus() {
    let broker = Broker::start();
    broker.create_topic("dashboard", 1).await;
    let records: Vec<Record> = (0..50).map(|index| Record::new(&format!("k{index}"), &format!("r{index}"))).collect();
    produce(&broker.bootstrap(), "dashboard", &records).await;
    let receiver = Receiver::answering(200).await;
    let home = GatewayHome::new();
    let gateway = home.start();
    let api = gateway.api();
    // A steady, light load (20 messages a second): enough for every rate to have series, little for the tests
    // running beside it.
    api.deploy(&mock_api("steady", "auto", json!({}), mock_messages(1_000_000, 50, "m"))).await;
    api.subscribe("steady", &subscription(&receiver.url("/steady"))).await;
    api.deploy(&kafka_api("fed", "at-least-once", &broker.bootstrap(), "dashboard")).await;
    api.subscribe("fed", &subscription(&receiver.url("/fed"))).await;
    assert!(receiver.wait_for(20, WAIT).await);

    let target = api.base().trim_start_matches("http://").to_string();
    let prometheus = Prometheus::scraping(&target, TOKEN).await;
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert_eq!(panels.len(), 6, "deliveries, latency, lag, dead letters, statuses, in flight and limit");
    for panel in panels {
        for query in panel["targets"].as_array().expect("targets") {
            let expr = as_sent(query["expr"].as_str().expect("an expression"));
            let labels = grouped_by(&expr);
            // Rates need a few scrapes: wait until the query has series.
            let found = eventually(WAIT, || async { !prometheus.query(&expr).await.is_empty() }).await;
            assert!(found, "{}: `{expr}` returned no series", panel["title"]);
            for series in prometheus.query(&expr).await {
                for label in &labels {
                    assert!(
                        series["metric"].get(label).is_some(),
                        "{}: `{expr}` gives {series} without {label}",
                        panel["title"]
                    );
                }
            }
        }
    }
    if pictures::wanted() {
        picture_of_the_panels(&prometheus, panels).await;
    }
    let apis = prometheus.label_values("api", "gateway_subscription_status").await;
    assert!(apis.contains(&"steady".to_string()) && apis.contains(&"fed".to_string()), "{apis:?}");
    let subscriptions = prometheus.label_values("subscription", r#"gateway_subscription_status{api=~".*"}"#).await;
    assert_eq!(subscriptions.len(), 2, "{subscriptions:?}");
}

/// Prometheus's own graph page drawing the first query of the dashboard's first panels (no Grafana can be installed
/// here), for docs/observability.md.
async fn picture_of_the_panels(prometheus: &Prometheus, panels: &[Value]) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    let mut url = format!("{}/classic/graph?", prometheus.base());
    for (index, panel) in panels.iter().take(3).enumerate() {
        let expr = as_sent(panel["targets"][0]["expr"].as_str().expect("an expression"));
        let encoded: String = form_urlencoded::byte_serialize(expr.as_bytes()).collect();
        url.push_str(&format!("g{index}.expr={encoded}&g{index}.tab=0&g{index}.range_input=2m&"));
    }
    let browser = Browser::start().await;
    browser.resize(1400, 2000).await;
    browser.open(&url).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    pictures::take(&browser, "dashboard-queries").await;
    browser.close().await;
}
