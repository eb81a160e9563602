//! `kafka-mock-cluster`: librdkafka's mock cluster (`rdkafka::mocking::MockCluster`) as a process of its own, the
//! second Kafka implementation the tests run on (its group coordinator follows Apache Kafka's protocols: a classic
//! rebalance waits for every member, and it serves KIP-848's consumer-group heartbeats; it serves no CreateTopics).
//!
//! `kafka-mock-cluster [BROKERS] [TOPIC:PARTITIONS]...` prints its bootstrap servers on the first line of its
//! output, then reads one fault command per line of its input and answers each with `ok` or `error: <why>`:
//!
//! | command                                  | effect                                                      |
//! |------------------------------------------|-------------------------------------------------------------|
//! | `topic NAME PARTITIONS`                  | creates a topic (replication 1)                             |
//! | `down BROKER` / `up BROKER`              | takes a broker's listener down, brings it back              |
//! | `rtt BROKER MILLIS`                      | adds a round-trip time to each of a broker's answers        |
//! | `errors API_KEY ERROR...`                | the next requests of that API answer these errors, in order |
//! | `clear API_KEY`                          | forgets errors still queued for that API                    |
//! | `coordinator GROUP BROKER`               | moves a group's coordinator                                 |
//! | `leader TOPIC PARTITION BROKER`          | moves a partition's leader                                  |
//!
//! API keys and errors are Kafka's names (`OffsetCommit`, `Fetch`; `REBALANCE_IN_PROGRESS`, `NOT_COORDINATOR`,
//! `NOT_LEADER_OR_FOLLOWER`). The cluster ends when its input closes (the test that started it is gone).

use std::io::{BufRead, Write};
use std::time::Duration;

use rdkafka::mocking::{MockCluster, MockCoordinator};
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

fn main() {
    let mut args = std::env::args().skip(1);
    let brokers: i32 = args.next().map_or(3, |count| count.parse().expect("BROKERS is a number"));
    let cluster = MockCluster::new(brokers).expect("a mock cluster");
    for topic in args {
        let answer = command(&cluster, &format!("topic {}", topic.replace(':', " ")));
        answer.unwrap_or_else(|error| panic!("topic {topic}: {error}"));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", cluster.bootstrap_servers()).expect("stdout");
    out.flush().expect("stdout");
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        match command(&cluster, &line) {
            Ok(()) => writeln!(out, "ok"),
            Err(error) => writeln!(out, "error: {error}"),
        }
        .and_then(|()| out.flush())
        .expect("stdout");
    }
}

/// Runs one fault command.
fn command(cluster: &MockCluster<'static, DefaultProducerContext>, line: &str) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |index: usize| -> Result<i32, String> {
        let word = words.get(index).ok_or_else(|| format!("`{line}` misses argument {index}"))?;
        word.parse().map_err(|_| format!("`{word}` is not a number"))
    };
    let word = |index: usize| words.get(index).copied().ok_or_else(|| format!("`{line}` misses argument {index}"));
    let done = |result: rdkafka::error::KafkaResult<()>| result.map_err(|error| error.to_string());
    match word(0)? {
        "topic" => done(cluster.create_topic(word(1)?, number(2)?, 1)),
        "down" => done(cluster.broker_down(number(1)?)),
        "up" => done(cluster.broker_up(number(1)?)),
        "rtt" => done(cluster.broker_round_trip_time(number(1)?, Duration::from_millis(number(2)? as u64))),
        "errors" => {
            let errors = words[2..].iter().map(|name| error_code(name)).collect::<Result<Vec<_>, _>>()?;
            cluster.request_errors(api_key(word(1)?)?, &errors);
            Ok(())
        }
        "clear" => {
            cluster.clear_request_errors(api_key(word(1)?)?);
            Ok(())
        }
        "coordinator" => done(cluster.coordinator(MockCoordinator::Group(word(1)?.to_string()), number(2)?)),
        "leader" => done(cluster.partition_leader(word(1)?, number(2)?, Some(number(3)?))),
        other => Err(format!("unknown command `{other}`")),
    }
}

/// The API keys faults are injected into.
fn api_key(name: &str) -> Result<RDKafkaApiKey, String> {
    Ok(match name {
        "Produce" => RDKafkaApiKey::Produce,
        "Fetch" => RDKafkaApiKey::Fetch,
        "ListOffsets" => RDKafkaApiKey::ListOffsets,
        "Metadata" => RDKafkaApiKey::Metadata,
        "OffsetCommit" => RDKafkaApiKey::OffsetCommit,
        "OffsetFetch" => RDKafkaApiKey::OffsetFetch,
        "FindCoordinator" => RDKafkaApiKey::FindCoordinator,
        "JoinGroup" => RDKafkaApiKey::JoinGroup,
        "Heartbeat" => RDKafkaApiKey::Heartbeat,
        "LeaveGroup" => RDKafkaApiKey::LeaveGroup,
        "SyncGroup" => RDKafkaApiKey::SyncGroup,
        other => return Err(format!("unknown API key `{other}`")),
    })
}

/// The errors faults answer with.
fn error_code(name: &str) -> Result<RDKafkaRespErr, String> {
    Ok(match name {
        "REBALANCE_IN_PROGRESS" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        "NOT_COORDINATOR" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        "COORDINATOR_NOT_AVAILABLE" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        "COORDINATOR_LOAD_IN_PROGRESS" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        "NOT_LEADER_OR_FOLLOWER" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        "UNKNOWN_MEMBER_ID" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
        "ILLEGAL_GENERATION" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
        "REQUEST_TIMED_OUT" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        "GROUP_AUTHORIZATION_FAILED" => RDKafkaRespErr::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
        other => return Err(format!("unknown error `{other}`")),
    })
}
