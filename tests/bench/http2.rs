//! HTTP/2 on the mock path (auto, 20 in flight), against the limit h2load gives against the same nginx over one h2c
//! connection with 20 streams: the gateway speaks HTTP/2 with prior knowledge (`http.version: "HTTP_2"`). nginx's h2c
//! listener proxies each call to its plain one (support::nginx says why): the limit is that path's, for both.

use crate::report::Row;
use crate::support::gateway::GatewayHome;
use crate::support::nginx::Nginx;
use crate::{h2load, mock_run, MockCase, MEASURE, QUIET_LOGS, WARM_UP};

/// The rows: h2load's limit, and the gateway's rate and CPU per message over h2c.
pub(crate) async fn rows(home: &GatewayHome, nginx: &Nginx, rows: &mut Vec<Row>) {
    let Some(url) = &nginx.h2c_url else {
        rows.push(Row::failed("HTTP/2", "nginx has no h2c listener"));
        return;
    };
    let measure = "limit: h2load → nginx (h2c), 1 connection, 20 streams in flight";
    let limit = match h2load::rate(url, 20, WARM_UP, MEASURE) {
        Ok(rate) => {
            rows.push(Row::new(measure, format!("{rate:.0} req/s")));
            Some(rate)
        }
        Err(why) => {
            rows.push(Row::failed(measure, &why));
            None
        }
    };
    let gateway = home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let measure = "gateway, mock source, auto, 20 in flight, HTTP/2 (h2c) → nginx";
    match mock_run(&gateway, nginx, MockCase { http2: true, ..MockCase::plain("auto", 20) }).await {
        Ok(run) => {
            let mut row =
                Row::new(measure, format!("{:.0} msg/s, gateway CPU {:.1} µs/msg", run.rate, run.cpu_us_per_message));
            if let Some(limit) = limit {
                row = row.against(limit, "req/s").ratio(run.rate / limit).target(
                    ">= 0.8 of the limit, <= 10 µs/msg",
                    run.rate / limit >= 0.8 && run.cpu_us_per_message <= 10.0,
                );
            }
            rows.push(row);
        }
        Err(why) => rows.push(Row::failed(measure, &why)),
    }
}
