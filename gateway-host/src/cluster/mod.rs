//! A node of a cluster (`store.kind = "kafka"`): it follows the store's changes, whichever node made them, and
//! takes its share of the subscriptions only one node may run.
//!
//! A change travels: node 1's management API validates it and writes it through the [`KafkaStore`]
//! (`crate::store::KafkaStore`) to the configuration topic; every node's store follower applies it to its replica and
//! tells its change feed; [`follow`] hands each change to the API service (deploy, redeploy, remove) or the
//! dispatcher (start, stop, restart as the record now says).

mod shares;

pub use shares::WorkShares;

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::app::App;
use crate::store::Change;

/// Applies every change of the store on this node, and follows this node's work shares as they move. Runs until
/// the store's change feed closes.
pub fn follow(
    app: Arc<App>,
    mut changes: broadcast::Receiver<Change>,
    mut shares: watch::Receiver<u64>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(Change::Api(id)) => {
                        let app = Arc::clone(&app);
                        tokio::spawn(async move {
                            if let Err(error) = app.apis.follow_store(&id).await {
                                tracing::error!(api = %id, error = %error, "cannot follow the API's change");
                            }
                        });
                    }
                    Ok(Change::Subscription(id)) => {
                        let dispatcher = Arc::clone(&app.dispatcher);
                        tokio::spawn(async move { dispatcher.reconcile(&id).await });
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "changes came faster than they were followed; following everything again");
                        reconcile_all(&app).await;
                    }
                    Err(RecvError::Closed) => return,
                },
                moved = shares.changed() => {
                    if moved.is_err() {
                        return;
                    }
                    reconcile_all(&app).await;
                }
            }
        }
    })
}

/// Brings every API and every subscription in line with the store.
async fn reconcile_all(app: &Arc<App>) {
    let everything = app.store.call(|store| Ok((store.apis()?, store.subscriptions(None)?))).await;
    let (apis, subscriptions) = match everything {
        Ok(everything) => everything,
        Err(error) => {
            tracing::error!(error = %error, "cannot read the store to follow it");
            return;
        }
    };
    let mut ids: Vec<String> = apis.into_iter().map(|(id, _)| id).collect();
    ids.extend(app.catalog.ids());
    ids.sort();
    ids.dedup();
    for id in ids {
        if let Err(error) = app.apis.follow_store(&id).await {
            tracing::error!(api = %id, error = %error, "cannot follow the API's change");
        }
    }
    let mut reconciling = tokio::task::JoinSet::new();
    for subscription in subscriptions {
        let dispatcher = Arc::clone(&app.dispatcher);
        reconciling.spawn(async move { dispatcher.reconcile(&subscription.id).await });
    }
    while reconciling.join_next().await.is_some() {}
}
