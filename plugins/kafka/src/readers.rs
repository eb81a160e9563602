//! The readers open in this gateway, by subscription: the endpoint answers the host's `lag` and `trouble` from them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use plugin_kit::api::abi_stable::std_types::{ROption, RString, RVec};
use plugin_kit::api::PartitionLag;

use crate::feed::Shared;
use crate::reader::Reader;

/// An open reader and the feed it reads.
type Open = (Arc<Reader>, Arc<Shared>);

/// Open readers by subscription.
#[derive(Default)]
pub(crate) struct OpenReaders(Mutex<HashMap<String, Open>>);

impl OpenReaders {
    pub(crate) fn insert(&self, reader: &Arc<Reader>, feed: &Arc<Shared>) {
        let entry = (Arc::clone(reader), Arc::clone(feed));
        self.0.lock().expect("readers lock").insert(reader.subscription_id.clone(), entry);
    }

    /// Forgets `reader` (unless another reader of its subscription replaced it).
    pub(crate) fn remove(&self, reader: &Arc<Reader>) {
        let mut open = self.0.lock().expect("readers lock");
        if open.get(&reader.subscription_id).is_some_and(|(kept, _)| Arc::ptr_eq(kept, reader)) {
            open.remove(&reader.subscription_id);
        }
    }

    /// Why `subscription`'s source cannot fully read or commit right now (nothing when it is not open here).
    pub(crate) fn trouble(&self, subscription: &str) -> ROption<RString> {
        let open = self.0.lock().expect("readers lock").get(subscription).cloned();
        open.and_then(|(reader, feed)| feed.trouble(&reader)).map(RString::from).into()
    }

    /// The lag of `subscription`'s partitions (none when it is not open here).
    pub(crate) fn lag(&self, subscription: &str) -> RVec<PartitionLag> {
        let open = self.0.lock().expect("readers lock").get(subscription).cloned();
        open.map(|(reader, feed)| feed.lag(&reader)).unwrap_or_default().into()
    }
}
