//! A real Kafka-compatible broker on loopback, of either implementation the tests run on, stopped when the guard
//! drops: tansu (its own process, SQLite storage) or librdkafka's mock cluster (`kafka-mock-cluster`, whose group
//! coordinator follows Apache Kafka's protocols and which takes fault commands).

mod mock_cluster;
mod tansu;

use mock_cluster::MockCluster;
use tansu::Tansu;

/// Which broker implementation a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// tansu: forms a group without waiting for its members, keeps no group barrier.
    Tansu,
    /// librdkafka's mock cluster (three brokers): Kafka's group protocols, no CreateTopics, fault commands.
    MockCluster,
}

/// A running broker.
pub struct Broker {
    implementation: Implementation,
}

enum Implementation {
    Tansu(Tansu),
    MockCluster(MockCluster),
}

impl Broker {
    /// Starts a tansu broker on a free loopback port.
    pub fn start() -> Self {
        Self::of(Kind::Tansu)
    }

    /// Starts a broker of `kind`.
    pub fn of(kind: Kind) -> Self {
        let implementation = match kind {
            Kind::Tansu => Implementation::Tansu(Tansu::start()),
            Kind::MockCluster => Implementation::MockCluster(MockCluster::start(3)),
        };
        Self { implementation }
    }

    /// Starts a tansu broker on `port`.
    #[allow(dead_code)]
    pub fn start_on(port: u16) -> Self {
        Self { implementation: Implementation::Tansu(Tansu::start_on(port)) }
    }

    /// Which implementation it is.
    #[allow(dead_code)]
    pub fn kind(&self) -> Kind {
        match self.implementation {
            Implementation::Tansu(_) => Kind::Tansu,
            Implementation::MockCluster(_) => Kind::MockCluster,
        }
    }

    /// The broker process's id (read by the bench).
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        match &self.implementation {
            Implementation::Tansu(tansu) => tansu.pid(),
            Implementation::MockCluster(cluster) => Some(cluster.pid()),
        }
    }

    /// Its bootstrap servers.
    pub fn bootstrap(&self) -> String {
        match &self.implementation {
            Implementation::Tansu(tansu) => tansu.bootstrap(),
            Implementation::MockCluster(cluster) => cluster.bootstrap(),
        }
    }

    /// Creates `topic` with `partitions` partitions (on the mock cluster, which serves no CreateTopics, by a
    /// command).
    pub async fn create_topic(&self, topic: &str, partitions: i32) {
        match &self.implementation {
            Implementation::Tansu(tansu) => super::kafka::create_topic(&tansu.bootstrap(), topic, partitions).await,
            Implementation::MockCluster(cluster) => cluster.command(&format!("topic {topic} {partitions}")),
        }
    }

    /// Restarts it: tansu's process on the same port and storage; every broker of the mock cluster down, then up.
    #[allow(dead_code)]
    pub fn restart(&mut self) {
        match &mut self.implementation {
            Implementation::Tansu(tansu) => tansu.restart(),
            Implementation::MockCluster(cluster) => cluster.restart(),
        }
    }

    /// Sends a fault command to the mock cluster (`kafka-mock-cluster` lists them); panics on tansu, which takes
    /// none, or when the command is refused.
    #[allow(dead_code)]
    pub fn fault(&self, command: &str) {
        match &self.implementation {
            Implementation::Tansu(_) => panic!("tansu takes no fault command ({command})"),
            Implementation::MockCluster(cluster) => cluster.command(command),
        }
    }
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Declares each named test scenario (an `async fn(Kind)`) as two tests, one per broker: `tansu::<name>` and
/// `mock_cluster::<name>`.
#[macro_export]
macro_rules! on_both_brokers {
    ($($scenario:ident),+ $(,)?) => {
        mod tansu {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::support::broker::Kind::Tansu).await
                }
            )+
        }
        mod mock_cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::support::broker::Kind::MockCluster).await
                }
            )+
        }
    };
}
