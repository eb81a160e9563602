//! The webhook push gateway host.
//!
//! It loads entrypoint and endpoint plugins from its plugins folder, deploys API definitions, runs every accepted
//! and started push subscription (source endpoint → webhook entrypoint → callback), keeps APIs and subscriptions in
//! an embedded database, and serves the management API. `docs/ARCHITECTURE.md` draws the picture.
#![forbid(unsafe_code)]

mod app;
mod check;
mod cli;
mod cluster;
mod config;
mod deploy;
mod dispatch;
mod error;
mod events;
mod kept_secret;
mod logs;
mod management;
mod metrics;
mod notifications;
mod observability;
mod plugins;
mod replay;
mod store;
mod telemetry;
mod time;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use cli::{Cli, Command};
use config::GatewayConfig;

use base64::Engine;

use crate::app::App;
use crate::cluster::WorkShares;
use crate::config::StoreKind;
use crate::deploy::{ApiCatalog, ApiService};
use crate::dispatch::{Alone, Placement};
use crate::dispatch::{Dispatcher, SubscriptionService};
use crate::events::Event;
use crate::kept_secret::{MANAGEMENT_TOKEN, STORE_KEY};
use crate::logs::WebhookLogs;
use crate::management::reference::ReferenceIds;
use crate::management::users::Users;
use crate::metrics::history::History;
use crate::metrics::Metrics;
use crate::notifications::Notifications;
use crate::observability::logging::init_logging;
use crate::observability::traces::{self, TraceExportSettings};
use crate::plugins::{CompatibilityMatrix, PluginRegistry, PluginServices, PluginStatus};
use crate::replay::Replays;
use crate::store::{kafka, KafkaStore, SqliteStore, Store};
use crate::telemetry::Telemetry;

/// How long the runtime waits at exit for blocking work still under way (an opening waiting on brokers that do not
/// answer): the process exits without it.
const EXIT_WAIT: Duration = Duration::from_millis(100);
/// How long a shutdown gives, after the subscriptions, to leaving the cluster's group and the last webhook logs.
const CLEANUP_BOUND: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gateway-host: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(gateway());
    runtime.shutdown_timeout(EXIT_WAIT);
    code
}

async fn gateway() -> ExitCode {
    let cli = Cli::from_args(&CompatibilityMatrix::shipped().platform().to_string());
    if let Some(Command::HashPassword) = &cli.command {
        return hash_password();
    }
    let config = match GatewayConfig::load(cli.config.as_deref(), |key| std::env::var(key).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("gateway-host: {error}");
            return ExitCode::from(2);
        }
    };
    if let Err(error) = init_logging(&config.log) {
        eprintln!("gateway-host: {error}");
        return ExitCode::from(2);
    }
    if let Some(Command::Check { definitions }) = &cli.command {
        return check::run(&config, definitions.as_deref().unwrap_or(&config.definitions.dir));
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "gateway stopped");
            ExitCode::FAILURE
        }
    }
}

/// `gateway-host hash-password`: the hash of the first line of standard input (read there, so that the password is
/// in no shell history and no process list).
fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(error) = std::io::stdin().read_line(&mut line) {
        eprintln!("gateway-host: cannot read the password: {error}");
        return ExitCode::from(2);
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("gateway-host: the password is empty");
        return ExitCode::from(2);
    }
    match management::users::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gateway-host: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: GatewayConfig) -> Result<(), Box<dyn std::error::Error>> {
    let (store, shares) = open_store(&config).await?;
    // Taken before anything is deployed or started: no change made meanwhile by another node is missed.
    let changes = store.changes();
    let token = MANAGEMENT_TOKEN.resolve(&config.management.token, &config.store.path)?;
    let matrix = CompatibilityMatrix::shipped();
    tracing::info!(platform = %matrix.platform(), dir = %config.plugins.dir.display(), "loading plugins");
    let trace_settings = TraceExportSettings::resolve(&config.tracing, |name| std::env::var(name).ok())?;
    let (spans, span_counters) = traces::export::start(trace_settings.as_ref())?;
    let services = PluginServices {
        egress: config.egress.settings()?,
        traces: TraceExportSettings::for_plugins(trace_settings.as_ref()),
        spans,
    };
    let egress = Arc::new(egress::EgressPolicy::new(&config.egress.allow_networks, None)?);
    let notifications = Notifications::start(&config.notifications, egress)?;
    let registry = Arc::new(PluginRegistry::load_dir(&config.plugins.dir, &matrix, &services));
    for refused in registry.records().iter().filter(|record| record.status == PluginStatus::Refused) {
        notifications.notify(Event::PluginRefused {
            file: refused.file.clone(),
            plugin_id: refused.id.clone(),
            version: refused.version.clone(),
            reason: refused.reason.clone().unwrap_or_default(),
        });
    }
    let catalog = Arc::new(ApiCatalog::default());
    let logs_config = &config.webhook_logs;
    let retention = logs::Retention {
        max_age: Duration::from_secs(logs_config.max_age_hours.saturating_mul(3600)),
        max_entries: logs_config.max_entries,
        every: Duration::from_millis(logs_config.trim_interval_ms.max(1)),
    };
    let webhook_logs = WebhookLogs::start(Arc::clone(&store), retention, logs_config.queue_capacity as usize)?;
    let metrics = Arc::new(Metrics::new(config.metrics.subscription_labels));
    let history = Arc::new(History::new(Duration::from_millis(config.metrics.history_interval_ms.max(100))));
    let telemetry = Arc::new(Telemetry {
        webhook_logs: Arc::clone(&webhook_logs),
        metrics: Arc::clone(&metrics),
        history: Arc::clone(&history),
        spans: span_counters,
        notifications,
    });
    let placement: Arc<dyn Placement> = match &shares {
        Some(shares) => Arc::clone(shares) as Arc<dyn Placement>,
        None => Arc::new(Alone),
    };
    let lags = Arc::clone(&catalog);
    tokio::spawn(history.run(metrics, move |api_id, id| {
        let lags = lags.ask_source(api_id, |source| source.lag(id))?;
        (!lags.is_empty()).then(|| lags.iter().map(|(_, _, lag)| lag).sum())
    }));
    let dispatcher = Dispatcher::new(Arc::clone(&store), Arc::clone(&catalog), Arc::clone(&telemetry), placement);
    let apis =
        ApiService::new(Arc::clone(&registry), Arc::clone(&catalog), Arc::clone(&store), Arc::clone(&dispatcher));
    apis.load_at_start(&config.definitions.dir)?;
    let subscriptions = SubscriptionService::new(Arc::clone(&store), Arc::clone(&catalog), Arc::clone(&dispatcher));
    let replays = Replays::new(Arc::clone(&store), Arc::clone(&catalog), Arc::clone(&telemetry));
    let app = Arc::new(App {
        registry,
        catalog,
        dispatcher: Arc::clone(&dispatcher),
        apis,
        subscriptions,
        replays,
        store: Arc::clone(&store),
        telemetry,
        token,
        users: Arc::new(Users::new(&config.management.users, |name| std::env::var(name).ok())?),
        reference_ids: ReferenceIds {
            environment: config.management.environment_id.clone(),
            organization: config.management.organization_id.clone(),
        },
    });

    let listener = tokio::net::TcpListener::bind(config.management.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "management API listening");
    for subscription in store.subscriptions(None)? {
        let _lock = dispatcher.lock(&subscription.id).await;
        dispatcher.start(&subscription).await;
    }
    if let (Some(changes), Some(shares)) = (changes, &shares) {
        cluster::follow(Arc::clone(&app), changes, shares.moved());
    }
    let service = management::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("shutting down: finishing in-flight deliveries");
    dispatcher.stop_all(config.shutdown.drain_timeout()).await;
    let cleanup = async {
        if let Some(shares) = shares {
            // Leaving at once moves this node's shares to the others without waiting for its session to expire.
            let _ = tokio::task::spawn_blocking(move || shares.leave()).await;
        }
        webhook_logs.flush().await;
    };
    if tokio::time::timeout(CLEANUP_BOUND, cleanup).await.is_err() {
        tracing::warn!(
            timeout_ms = CLEANUP_BOUND.as_millis() as u64,
            "leaving the cluster or writing the last webhook logs was cut short"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// The store the configuration names, and this node's work shares when it is a node of a cluster.
async fn open_store(
    config: &GatewayConfig,
) -> Result<(Arc<dyn Store>, Option<Arc<WorkShares>>), Box<dyn std::error::Error>> {
    let local = SqliteStore::open(&config.store.path, store_sealer(config)?)?;
    match config.store.kind {
        StoreKind::Sqlite => Ok((Arc::new(local), None)),
        StoreKind::Kafka => {
            let client = kafka::base_config(&config.store);
            let topics = kafka::Topics::named(config.store.topic_prefix.trim());
            let retention = Duration::from_secs(config.webhook_logs.max_age_hours.saturating_mul(3600));
            let store =
                KafkaStore::open(client.clone(), topics.clone(), store_sealer(config)?, local, retention).await?;
            let shares = tokio::task::spawn_blocking(move || WorkShares::join(&client, &topics)).await??;
            tracing::info!(brokers = %config.store.bootstrap_servers, prefix = %config.store.topic_prefix, "joined the cluster");
            Ok((Arc::new(store), Some(Arc::new(shares))))
        }
    }
}

/// The sealer of the store's secrets, with the configured key or the one kept beside the store.
fn store_sealer(config: &GatewayConfig) -> Result<secrets::Sealer, String> {
    let key = STORE_KEY.resolve(&config.store.encryption_key, &config.store.path).map_err(|error| error.to_string())?;
    let origin = if config.store.encryption_key.is_empty() {
        STORE_KEY.path(&config.store.path).display().to_string()
    } else {
        "store.encryption_key (GATEWAY_STORE_ENCRYPTION_KEY)".to_string()
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| format!("{origin}: not base64; expected base64 of 32 bytes (openssl rand -base64 32)"))?;
    secrets::Sealer::new(&bytes)
        .map_err(|_| format!("{origin}: {} bytes; expected base64 of 32 bytes (openssl rand -base64 32)", bytes.len()))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(error = %error, "cannot listen for SIGTERM; only Ctrl-C stops the gateway");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
