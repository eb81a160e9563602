//! What traces cost on the mock path (auto, 20 in flight → nginx), side by side in one run: a gateway without
//! tracing, one recording every message (a parent-less message starts a sampled trace at ratio 1) and exporting to
//! the bench's own collector (a receiver answering 200 to every OTLP request), and one at ratio 0.01.

use crate::nginx::Nginx;
use crate::receiver::CountingReceiver;
use crate::report::Row;
use crate::support::gateway::{Gateway, GatewayHome};
use crate::{mock_run, MockCase, MockRun, QUIET_LOGS};

/// A gateway exporting to `collector` at `ratio`, and its run.
async fn traced_run(home: &GatewayHome, nginx: &Nginx, collector: &str, ratio: &str) -> (Result<MockRun, String>, u64) {
    let gateway = home.start_with_env(&[
        ("GATEWAY_LOG_LEVEL", QUIET_LOGS),
        ("GATEWAY_TRACING_OTLP_ENDPOINT", collector),
        ("GATEWAY_TRACING_SAMPLING_RATIO", ratio),
    ]);
    let run = mock_run(&gateway, nginx, MockCase::plain("auto", 20)).await;
    let dropped = dropped_spans(&gateway).await;
    stop(gateway);
    (run, dropped)
}

async fn dropped_spans(gateway: &Gateway) -> u64 {
    gateway.api().metric("gateway_trace_spans_total{result=\"dropped\"}").await as u64
}

fn stop(mut gateway: Gateway) {
    gateway.terminate();
}

/// The rows: CPU per message added by tracing every message, and by tracing one in a hundred.
pub(crate) async fn rows(home: &GatewayHome, nginx: &Nginx, rows: &mut Vec<Row>) {
    let collector = CountingReceiver::start().await;
    let untraced = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let off = mock_run(&untraced, nginx, MockCase::plain("auto", 20)).await;
    stop(untraced);
    for (ratio, goal, target) in [("1", 2.0, "<= 2 µs"), ("0.01", 0.3, "<= 0.3 µs")] {
        let measure =
            format!("traces at sampling ratio {ratio}: CPU per message over no tracing, mock, auto, 20 → nginx");
        let before = collector.calls();
        let (on, dropped) = traced_run(home, nginx, &collector.url, ratio).await;
        match (&off, on) {
            (Ok(off), Ok(on)) => {
                let added = on.cpu_us_per_message - off.cpu_us_per_message;
                rows.push(
                    Row::new(
                        &measure,
                        format!(
                            "{added:+.2} µs ({:.1} against {:.1} µs/msg; {:.0} against {:.0} msg/s; {} OTLP requests, {dropped} spans dropped)",
                            on.cpu_us_per_message,
                            off.cpu_us_per_message,
                            on.rate,
                            off.rate,
                            collector.calls() - before
                        ),
                    )
                    .target(target, added <= goal),
                );
            }
            (Err(why), _) => rows.push(Row::failed(&measure, why)),
            (_, Err(why)) => rows.push(Row::failed(&measure, &why)),
        }
    }
}
