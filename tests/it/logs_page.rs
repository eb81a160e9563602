//! The webhook logs page in a real headless browser: it lists entries, filters by status, opens a detail view.

use std::time::Duration;

use serde_json::json;

use crate::support::browser::Browser;
use crate::support::eventually;
use crate::support::gateway::{GatewayHome, TOKEN};
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};

const ROWS: &str = "return document.querySelectorAll('#entries tbody tr').length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_lists_filters_and_opens_an_entry() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let ok = Receiver::answering(200).await;
    let failing = Receiver::answering(500).await;
    let configuration = json!({ "logging": { "enabled": true, "request": { "headers": true, "payload": true } },
                                "interruptConsumptionOnServerError": false });
    gateway.api().deploy(&mock_api("shown", "at-least-once", configuration, mock_messages(2, 10, "page body"))).await;
    gateway.api().subscribe("shown", &subscription(&ok.url("/ok"))).await;
    gateway.api().subscribe("shown", &subscription(&failing.url("/failing"))).await;
    let logged = eventually(Duration::from_secs(20), || async {
        gateway.api().get("/management/v2/apis/shown/webhook-logs").await.body["pagination"]["totalCount"] == 4
    })
    .await;
    assert!(logged, "four entries logged");

    let browser = Browser::start().await;
    browser.open(&format!("{}/ui/webhook-logs?api=shown", gateway.api().base())).await;
    browser.type_into("#token", TOKEN).await;
    browser.click("#search").await;
    assert!(browser.wait_for(ROWS, json!(4)).await, "the page lists the four entries");

    browser.click("#status option[value='500']").await;
    browser.click("#search").await;
    assert!(browser.wait_for(ROWS, json!(2)).await, "the status filter keeps the two failures");
    let statuses = browser
        .script("return [...document.querySelectorAll('#entries tbody tr td:nth-child(2)')].map(c => c.textContent)")
        .await;
    assert_eq!(statuses, json!(["500", "500"]));

    browser.click("#entries tbody tr .open-entry").await;
    assert!(
        browser.wait_for("return document.querySelector('#detail').hidden", json!(false)).await,
        "the detail view opens"
    );
    assert!(browser.text("#detail-response").await.contains("500"));
    assert!(browser.text("#detail-request").await.contains(&failing.url("/failing")));
    assert_eq!(browser.script("return document.querySelectorAll('#detail-attempts tbody tr').length").await, json!(1));
    assert_eq!(browser.text("#detail-dlq").await, "Not sent to the dead letter queue");
    assert!(browser.text("#detail-data").await.contains("page body"));
    browser.close().await;
}
