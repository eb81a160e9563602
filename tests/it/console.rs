//! The operator console in a real headless browser: `GET /` leads to it, it asks for the token once, shows plugins,
//! APIs and subscriptions with their counts; a click pauses a running subscription (its deliveries stop) and another
//! resumes a failed one.

use std::time::Duration;

use serde_json::json;

use crate::support::browser::Browser;
use crate::support::gateway::{GatewayHome, TOKEN};
use crate::support::pictures;
use crate::support::receiver::{Receiver, Reply};
use crate::support::scenario::{mock_api, mock_messages, subscription};

const WAIT: Duration = Duration::from_secs(20);

/// A script reading `what` of subscription `id`'s row (`null` while the row is not shown).
fn cell(id: &str, what: &str) -> String {
    format!("const row = document.querySelector('tr[data-subscription=\"{id}\"]'); return row ? row.querySelector('.{what}').textContent : null;")
}

/// A script clicking the button of `action` in subscription `id`'s row.
fn click(id: &str, action: &str) -> String {
    format!("document.querySelector('tr[data-subscription=\"{id}\"] button[data-action=\"{action}\"]').click(); return true;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_pauses_a_running_subscription_and_another_resumes_a_failed_one() {
    let home = GatewayHome::new();
    let gateway = home.start();
    gateway.api().deploy(&mock_api("console", "at-least-once", json!({}), mock_messages(100_000, 100, "m"))).await;
    let running = Receiver::answering(200).await;
    let refusing_once = Receiver::scripted(vec![Reply::Status(400)], Reply::Status(200)).await;
    for (id, receiver) in [("running", &running), ("refused", &refusing_once)] {
        let mut body = subscription(&receiver.url("/hook"));
        body["id"] = json!(id);
        gateway.api().subscribe("console", &body).await;
    }
    gateway.api().wait_consumer_status("console", "refused", "FAILURE").await;
    assert!(running.wait_for(2, WAIT).await);

    let root = gateway.api().send(hyper::Method::GET, "/", None, None).await;
    assert_eq!(root.status, 307, "GET / leads to the console");
    let browser = Browser::start().await;
    browser.open(&format!("{}/ui/", gateway.api().base())).await;
    browser.type_into("#token", TOKEN).await;
    browser.click("#login button").await;
    assert!(browser.wait_for(&cell("running", "consumer-status"), json!("STARTED")).await, "the console lists it");
    let plugins = browser.script("return document.querySelectorAll('#plugins tbody tr').length").await;
    assert_eq!(plugins, json!(4), "the four plugins");
    let url = browser.script("return location.href").await;
    assert!(!url.as_str().unwrap().contains(TOKEN), "the token is never in the URL: {url}");
    let delivered =
        "return Number(document.querySelector('tr[data-subscription=\"running\"] .delivered').textContent) > 0";
    assert!(browser.wait_for(delivered, json!(true)).await, "the delivered count comes from /metrics");
    // at-least-once delivers one message at a time: its limit is 1.
    assert_eq!(browser.script(&cell("running", "in-flight-limit")).await, json!("1"));

    // The failed subscription shows its cause and is resumed by a click.
    let cause = browser.script(&cell("refused", "failure-cause")).await;
    assert!(cause.as_str().unwrap().contains("400"), "{cause}");
    browser.script(&click("refused", "_resumeFailure")).await;
    assert!(browser.wait_for(&cell("refused", "consumer-status"), json!("STARTED")).await, "resumed by a click");
    assert!(refusing_once.wait_for(3, WAIT).await, "the failed message, then the next ones, are delivered");

    // A click pauses the running subscription: it shows PAUSED and its deliveries stop.
    browser.script(&click("running", "_pause")).await;
    assert!(browser.wait_for(&cell("running", "status"), json!("PAUSED")).await, "paused by a click");
    let paused = gateway.api().subscription("console", "running").await;
    assert_eq!(paused["status"], "PAUSED");
    let count = running.count();
    running.assert_stays_at(count, Duration::from_millis(800)).await;
    browser.close().await;
}

/// A script reading the line `key` of the plot `plot` in subscription `id`'s row: its drawn points, the values it
/// says it drew, and its scale.
fn line(id: &str, plot: &str, key: &str) -> String {
    format!(
        "const line = document.querySelector('tr[data-subscription=\"{id}\"] svg.plot.{plot} polyline.{key}'); \
         return line ? [line.getAttribute('points'), line.dataset.values, Number(line.dataset.max)] : null;"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plots_draw_the_points_the_gateway_keeps() {
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_METRICS_HISTORY_INTERVAL_MS", "500")]);
    gateway.api().deploy(&mock_api("plotted", "auto", json!({}), mock_messages(100_000, 50, "m"))).await;
    let receiver = Receiver::answering(200).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("busy");
    gateway.api().subscribe("plotted", &body).await;
    let browser = Browser::start().await;
    browser.open(&format!("{}/ui/", gateway.api().base())).await;
    browser.type_into("#token", TOKEN).await;
    browser.click("#login button").await;
    let enough =
        "const line = document.querySelector('tr[data-subscription=\"busy\"] svg.plot.rates polyline.delivered'); \
                  return line !== null && JSON.parse(line.dataset.values).length >= 4;";
    assert!(browser.wait_for(enough, json!(true)).await, "the rates plot shows points");

    let kept = gateway.api().get("/management/v2/apis/plotted/subscriptions/busy/history").await.body;
    assert_eq!(kept["intervalMs"], 500);
    let kept = kept["points"].as_array().expect("points").clone();
    for (plot, key) in [("rates", "delivered"), ("rates", "notDelivered"), ("latency", "latencyMs")] {
        let drawn = browser.script(&line("busy", plot, key)).await;
        let (points, values, max) =
            (drawn[0].as_str().unwrap(), drawn[1].as_str().unwrap(), drawn[2].as_f64().unwrap());
        let values: Vec<(i64, f64)> = serde_json::from_str(values).expect("values");
        let points: Vec<(f64, f64)> = points
            .split_whitespace()
            .map(|pair| {
                let (x, y) = pair.split_once(',').expect("x,y");
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert!(values.len() >= 4 && points.len() == values.len(), "{key}: {points:?} for {values:?}");
        for (index, ((x, y), (at, value))) in points.iter().zip(&values).enumerate() {
            let expected_y = if max > 0.0 { 28.0 - value / max * 28.0 } else { 28.0 };
            assert!((y - expected_y).abs() < 0.01, "{key}: point {index} at y {y}, its value {value} of {max}");
            let expected_x = 120.0 - (values.last().unwrap().0 - at) as f64 / (500.0 * 90.0) * 120.0;
            assert!((x - expected_x).abs() < 0.01, "{key}: point {index} at x {x}, expected {expected_x}");
            let point = kept.iter().find(|point| point["at"] == *at).expect("a point the gateway keeps");
            assert_eq!(point[key].as_f64(), Some(*value), "{key} at {at}");
        }
        if key != "notDelivered" {
            assert!(values.iter().any(|(_, value)| *value > 0.0), "{key}: {values:?}");
        }
    }
    let lag = browser.script(&line("busy", "lag", "lag")).await;
    assert_eq!(lag[1], "[]", "a mock source tells no lag: nothing drawn");
    if pictures::wanted() {
        browser.resize(1500, 700).await;
        tokio::time::sleep(Duration::from_secs(20)).await;
        pictures::take(&browser, "console-plots").await;
    }
    browser.close().await;
}
