//! What flows cost on the mock path (auto, 20 in flight → nginx), side by side in one run: no flow against a
//! one-condition `message-filtering` flow that keeps every message, and a filter that drops 99 % of the messages (a
//! dropped message never takes a callback slot nor wakes the delivery loop: its cost is the source's and the
//! filter's).

use serde_json::{json, Value};

use crate::nginx::Nginx;
use crate::report::Row;
use crate::support::gateway::GatewayHome;
use crate::{mock_run, MockCase, QUIET_LOGS};

/// API flows of one `message-filtering` step on `filter`.
fn filtering(filter: &str) -> Value {
    json!([{ "subscribe": [{ "policy": "message-filtering", "configuration": { "filter": filter } }] }])
}

/// The rows: CPU per message added by a filter that keeps everything, and CPU per message taken when 99 % are dropped.
pub(crate) async fn rows(home: &GatewayHome, nginx: &Nginx, rows: &mut Vec<Row>) {
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let none = mock_run(&gateway, nginx, MockCase::plain("auto", 20)).await;
    let keeping = MockCase { flows: Some(filtering("{#message.contentLength > 0}")), ..MockCase::plain("auto", 20) };
    let keeping = mock_run(&gateway, nginx, keeping).await;
    let measure = "message-filtering keeping every message: CPU per message over no flow, mock, auto, 20 → nginx";
    match (none, keeping) {
        (Ok(none), Ok(keeping)) => {
            let added = keeping.cpu_us_per_message - none.cpu_us_per_message;
            rows.push(
                Row::new(
                    measure,
                    format!(
                        "{added:+.2} µs ({:.1} against {:.1} µs/msg; {:.0} against {:.0} msg/s)",
                        keeping.cpu_us_per_message, none.cpu_us_per_message, keeping.rate, none.rate
                    ),
                )
                .target("<= 1 µs", added <= 1.0),
            );
        }
        (Err(why), _) | (_, Err(why)) => rows.push(Row::failed(measure, &why)),
    }
    let dropping = MockCase { flows: Some(filtering("{#message.id.endsWith('00')}")), ..MockCase::plain("auto", 20) };
    let measure = "message-filtering dropping 99 % of the messages: CPU per message taken, mock, auto, 20";
    match mock_run(&gateway, nginx, dropping).await {
        Ok(run) => rows.push(
            Row::new(
                measure,
                format!(
                    "{:.2} µs ({:.0} dropped and {:.0} delivered per second)",
                    run.cpu_us_per_taken, run.filtered_rate, run.rate
                ),
            )
            .target("<= 1 µs per dropped message", run.cpu_us_per_taken <= 1.0),
        ),
        Err(why) => rows.push(Row::failed(measure, &why)),
    }
}
