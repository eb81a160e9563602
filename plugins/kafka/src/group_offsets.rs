//! The committed positions of subscriptions, kept in Kafka as the offsets of consumer groups named after them, read
//! and written without joining those groups: librdkafka's admin requests `AlterConsumerGroupOffsets` and
//! `ListConsumerGroupOffsets` (OffsetCommit and OffsetFetch for a group with no members), sent through any client
//! (the feed's consumer) and pipelined, so that ten thousand subscriptions need no client of their own and their
//! positions stay visible to Kafka's own tools (`kafka-consumer-groups --describe --group <subscription id>`).
//! rust-rdkafka does not wrap these requests; this module is the only unsafe code of the plugin.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::error::KafkaResult;
use rdkafka::TopicPartitionList;

use crate::offsets::{to_partition_list, CommitPoint, Partition};

/// How long one round of requests may take before it is reported as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Positions committed per group: each partition's next offset to read, absent when the group has none there.
pub(crate) type Committed = HashMap<Partition, i64>;

/// A client's handle, through which the admin requests go (the feed's consumer lives as long as its feed).
#[derive(Clone, Copy)]
pub(crate) struct Client(*mut rd::rd_kafka_t);

// SAFETY: librdkafka handles are thread-safe; the owner keeps the client alive while requests run.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Client {
    /// The handle of `client`, which must outlive every request made through it.
    pub(crate) fn of<C: rdkafka::ClientContext>(client: &rdkafka::client::Client<C>) -> Self {
        Self(client.native_ptr())
    }

    /// Commits `points` for each group (pipelined); returns each group's error, if any. Blocking.
    pub(crate) fn commit(&self, commits: &[(&str, &[CommitPoint])]) -> HashMap<String, Result<(), String>> {
        let requests: Vec<(String, KafkaResult<TopicPartitionList>)> =
            commits.iter().map(|(group, points)| (group.to_string(), to_partition_list(points))).collect();
        self.run(Request::Alter, &requests).into_iter().map(|(group, result)| (group, result.map(|_| ()))).collect()
    }

    /// Reads each group's committed positions on `partitions` (pipelined). Blocking.
    pub(crate) fn committed(
        &self,
        groups: &[&str],
        partitions: &[Partition],
    ) -> HashMap<String, Result<Committed, String>> {
        let list = || {
            let mut list = TopicPartitionList::new();
            for (topic, partition) in partitions {
                list.add_partition(topic, *partition);
            }
            Ok(list)
        };
        let requests: Vec<(String, KafkaResult<TopicPartitionList>)> =
            groups.iter().map(|group| (group.to_string(), list())).collect();
        self.run(Request::List, &requests)
    }

    /// Sends one request per group on a queue of its own, then collects the answers until every group answered or
    /// [`REQUEST_TIMEOUT`] passed.
    fn run(
        &self,
        kind: Request,
        requests: &[(String, KafkaResult<TopicPartitionList>)],
    ) -> HashMap<String, Result<Committed, String>> {
        let mut answers = HashMap::new();
        if requests.is_empty() {
            return answers;
        }
        // SAFETY: every object created here is destroyed here; the lists outlive the calls that copy them.
        unsafe {
            let queue = rd::rd_kafka_queue_new(self.0);
            let options = rd::rd_kafka_AdminOptions_new(self.0, kind.operation());
            let mut error = [0 as std::ffi::c_char; 256];
            rd::rd_kafka_AdminOptions_set_request_timeout(
                options,
                REQUEST_TIMEOUT.as_millis() as i32,
                error.as_mut_ptr(),
                error.len(),
            );
            let mut pending = 0usize;
            for (group, list) in requests {
                let (Ok(name), Ok(list)) = (CString::new(group.as_str()), list) else {
                    answers.insert(group.clone(), Err("an invalid group or partition list".to_string()));
                    continue;
                };
                kind.send(self.0, &name, list, options, queue);
                pending += 1;
            }
            let deadline = std::time::Instant::now() + REQUEST_TIMEOUT + Duration::from_secs(1);
            while pending > 0 {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                let event = rd::rd_kafka_queue_poll(queue, left.as_millis() as i32);
                if event.is_null() {
                    continue;
                }
                pending -= 1;
                kind.collect(event, &mut answers);
                rd::rd_kafka_event_destroy(event);
            }
            rd::rd_kafka_AdminOptions_destroy(options);
            rd::rd_kafka_queue_destroy(queue);
        }
        for (group, _) in requests {
            answers.entry(group.clone()).or_insert_with(|| Err("no answer from the group coordinator".to_string()));
        }
        answers
    }
}

/// The two admin requests.
#[derive(Clone, Copy)]
enum Request {
    Alter,
    List,
}

impl Request {
    fn operation(self) -> rd::rd_kafka_admin_op_t {
        match self {
            Self::Alter => rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS,
            Self::List => rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
        }
    }

    /// Sends the request for one group. SAFETY: valid handles; the request object is destroyed after the call.
    unsafe fn send(
        self,
        client: *mut rd::rd_kafka_t,
        group: &CStr,
        list: &TopicPartitionList,
        options: *mut rd::rd_kafka_AdminOptions_t,
        queue: *mut rd::rd_kafka_queue_t,
    ) {
        match self {
            Self::Alter => {
                let mut request = rd::rd_kafka_AlterConsumerGroupOffsets_new(group.as_ptr(), list.ptr());
                rd::rd_kafka_AlterConsumerGroupOffsets(client, &mut request, 1, options, queue);
                rd::rd_kafka_AlterConsumerGroupOffsets_destroy(request);
            }
            Self::List => {
                let mut request = rd::rd_kafka_ListConsumerGroupOffsets_new(group.as_ptr(), list.ptr());
                rd::rd_kafka_ListConsumerGroupOffsets(client, &mut request, 1, options, queue);
                rd::rd_kafka_ListConsumerGroupOffsets_destroy(request);
            }
        }
    }

    /// Reads one answer into `answers`. SAFETY: `event` is a live result event of this request kind.
    unsafe fn collect(
        self,
        event: *mut rd::rd_kafka_event_t,
        answers: &mut HashMap<String, Result<Committed, String>>,
    ) {
        let mut count = 0usize;
        let groups = match self {
            Self::Alter => {
                let result = rd::rd_kafka_event_AlterConsumerGroupOffsets_result(event);
                if result.is_null() {
                    return;
                }
                rd::rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &mut count)
            }
            Self::List => {
                let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event);
                if result.is_null() {
                    return;
                }
                rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut count)
            }
        };
        if rd::rd_kafka_event_error(event) != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && count == 0 {
            return; // no group named: counted as unanswered
        }
        for index in 0..count {
            let group = *groups.add(index);
            let name = CStr::from_ptr(rd::rd_kafka_group_result_name(group)).to_string_lossy().into_owned();
            let error = rd::rd_kafka_group_result_error(group);
            let answer = if error.is_null() {
                partitions_of(rd::rd_kafka_group_result_partitions(group))
            } else {
                Err(CStr::from_ptr(rd::rd_kafka_error_string(error)).to_string_lossy().into_owned())
            };
            answers.insert(name, answer);
        }
    }
}

/// The offsets of a result list; the first partition error makes the whole answer an error.
unsafe fn partitions_of(list: *const rd::rd_kafka_topic_partition_list_t) -> Result<Committed, String> {
    let mut committed = HashMap::new();
    if list.is_null() {
        return Ok(committed);
    }
    let list = &*list;
    for index in 0..list.cnt as usize {
        let element = &*list.elems.add(index);
        if element.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(CStr::from_ptr(rd::rd_kafka_err2str(element.err)).to_string_lossy().into_owned());
        }
        if element.offset >= 0 {
            let topic = CStr::from_ptr(element.topic).to_string_lossy().into_owned();
            committed.insert((topic, element.partition), element.offset);
        }
    }
    Ok(committed)
}
