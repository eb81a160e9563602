//! Partitions moving between gateways, measured: a second gateway joins an at-least-once subscription of four
//! partitions fed at a steady rate, then leaves (SIGTERM); per broker and rate, the longest stop of the partitions
//! that stay and of those that move, and the records delivered twice.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::report::Row;
use crate::support::broker::{Broker, Kind};
use crate::support::gateway::GatewayHome;
use crate::support::kafka::produce_steadily;
use crate::support::receiver::Receiver;
use crate::support::scenario::{kafka_api, subscription};
use crate::QUIET_LOGS;

const PARTITIONS: i32 = 4;
/// How long the rate is produced: the join after a quarter of it, the leave after 60 % (each window holds a
/// hand-over on the mock cluster's classic protocol, whose round lasts 9 s).
const PRODUCING: Duration = Duration::from_secs(60);

/// The rows: tansu, the mock cluster's classic protocol and its KIP-848 protocol, at 300 and 3,000 msg/s.
pub(crate) async fn rows(rows: &mut Vec<Row>) {
    for (kind, protocol) in [(Kind::Tansu, "classic"), (Kind::MockCluster, "classic"), (Kind::MockCluster, "consumer")]
    {
        for rate in [300u32, 3_000] {
            let measure = format!("join and leave, {kind:?} ({protocol} protocol), at-least-once, {rate} msg/s");
            match join_and_leave(kind, protocol, rate).await {
                Ok(measured) => rows.push(Row::new(&measure, measured)),
                Err(why) => rows.push(Row::failed(&measure, &why)),
            }
        }
    }
}

/// The stalls and duplicates of one join and one leave.
async fn join_and_leave(kind: Kind, protocol: &str, rate: u32) -> Result<String, String> {
    let broker = Broker::of(kind);
    broker.create_topic("moving", PARTITIONS).await;
    let receiver = Receiver::answering(200).await;
    let mut api = kafka_api("moving", "at-least-once", &broker.bootstrap(), "moving");
    api["listeners"][0]["entrypoints"][0]["configuration"] =
        json!({ "http": { "maxConcurrentConnections": 20 }, "ordering": { "mode": "key" } });
    if protocol == "consumer" {
        api["endpointGroups"][0]["sharedConfiguration"]["consumer"]["properties"] =
            json!({ "group.protocol": "consumer" });
    }
    let (first_home, second_home) = (GatewayHome::new(), GatewayHome::new());
    let first = first_home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    subscribe(&first, &api, &receiver).await;
    let per_partition = (rate as usize / PARTITIONS as usize) * PRODUCING.as_secs() as usize;
    let pace = Duration::from_secs_f64(f64::from(PARTITIONS) / f64::from(rate));
    let bootstrap = broker.bootstrap();
    let producing =
        tokio::spawn(async move { produce_steadily(&bootstrap, "moving", PARTITIONS, per_partition, pace).await });
    tokio::time::sleep(PRODUCING / 4).await;
    let mut second = second_home.start_with_env(&[("GATEWAY_LOG_LEVEL", QUIET_LOGS)]);
    let joined = Instant::now();
    subscribe(&second, &api, &receiver).await;
    let duplicated_before = duplicated(&receiver);
    tokio::time::sleep(PRODUCING * 7 / 20).await;
    let left = Instant::now();
    let joining = receiver.stalls((joined, left));
    let duplicated_by_join = duplicated(&receiver) - duplicated_before;
    second.terminate();
    producing.await.map_err(|error| error.to_string())?;
    let produced = per_partition * PARTITIONS as usize;
    let deadline = Instant::now() + Duration::from_secs(180);
    while receiver.distinct() < produced && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if receiver.distinct() < produced {
        return Err(format!("{} of {produced} delivered", receiver.distinct()));
    }
    let leaving = receiver.stalls((left, Instant::now()));
    let duplicated_by_leave = duplicated(&receiver) - duplicated_before - duplicated_by_join;
    let seconds = |stall: Option<&(String, Duration)>| stall.map_or(0.0, |(_, gap)| gap.as_secs_f64());
    Ok(format!(
        "join: staying {:.1} s, moving {:.1} s, {duplicated_by_join} twice; leave: staying {:.1} s, moving {:.1} s, {duplicated_by_leave} twice",
        seconds(joining.get(1)),
        seconds(joining.last()),
        seconds(leaving.get(1)),
        seconds(leaving.last()),
    ))
}

async fn subscribe(gateway: &crate::support::gateway::Gateway, api: &Value, receiver: &Receiver) {
    gateway.api().deploy(api).await;
    let mut body = subscription(&receiver.url("/hook"));
    body["id"] = json!("moving-sub");
    gateway.api().subscribe("moving", &body).await;
}

/// Deliveries beyond the first of each record so far.
fn duplicated(receiver: &Receiver) -> usize {
    let requests = receiver.requests();
    let distinct: std::collections::HashSet<&[u8]> = requests.iter().map(|request| request.body.as_ref()).collect();
    requests.len() - distinct.len()
}
