//! Query results shared between requests. Portal traffic is many people asking the same few
//! questions (this week's overview, last month's open resolvers) of data that changes only
//! when something is ingested, and one answer can cost a pass over millions of flow tuples.
//!
//! A result is keyed by the store's data generation (which every committed change of facts
//! moves), the asking viewer's [`ViewScope`] (viewers of one scope see the same datasets) and
//! the query. So a cached answer is never shown to a viewer who could not have computed it
//! themselves, and never outlives the data it came from. Concurrent requests for one key wait
//! for a single computation instead of each starting their own.

use greenwatch_model::access::ViewScope;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Results kept; the least recently used go first.
const CAPACITY: usize = 256;

type Value = Arc<dyn Any + Send + Sync>;
pub(crate) type Slot = Arc<OnceCell<Value>>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub generation: u64,
    pub scope: ViewScope,
    /// The query and its parameters, including the result's type.
    pub query: String,
}

#[derive(Default)]
pub(crate) struct ResultCache {
    inner: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    by_key: HashMap<CacheKey, (Slot, u64)>,
    clock: u64,
}

impl ResultCache {
    /// The slot of `key`, created empty when new. Results of older generations are dropped
    /// first when the cache is full, then the least recently used.
    pub fn slot(&self, key: CacheKey) -> Slot {
        let mut slots = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        slots.clock += 1;
        let now = slots.clock;
        if let Some((slot, used)) = slots.by_key.get_mut(&key) {
            *used = now;
            return Arc::clone(slot);
        }
        if slots.by_key.len() >= CAPACITY {
            let newest = key.generation;
            slots.by_key.retain(|k, _| k.generation >= newest);
        }
        if slots.by_key.len() >= CAPACITY {
            let oldest = slots
                .by_key
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
                .expect("a full cache has entries");
            slots.by_key.remove(&oldest);
        }
        let slot = Slot::default();
        slots.by_key.insert(key, (Arc::clone(&slot), now));
        slot
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().by_key.len()
    }
}

/// The typed result of a slot filled by `compute`, computed once however many ask at once.
/// A failed computation leaves the slot empty, so the next request tries again.
pub(crate) async fn get_or_compute<T, E, F, Fut>(slot: &Slot, compute: F) -> Result<Arc<T>, E>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let value = slot
        .get_or_try_init(|| async { Ok::<Value, E>(Arc::new(compute().await?)) })
        .await?;
    Ok(Arc::clone(value)
        .downcast::<T>()
        .expect("cache keys carry their result type"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(generation: u64, scope: ViewScope, query: &str) -> CacheKey {
        CacheKey {
            generation,
            scope,
            query: query.into(),
        }
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_computation() {
        let cache = Arc::new(ResultCache::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            tasks.push(tokio::spawn(async move {
                let slot = cache.slot(key(1, ViewScope::Public, "overview"));
                get_or_compute(&slot, || async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok::<_, String>(42u64)
                })
                .await
            }));
        }
        for task in tasks {
            assert_eq!(*task.await.unwrap().unwrap(), 42);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn scopes_and_generations_never_share_results() {
        let cache = ResultCache::default();
        let public = cache.slot(key(1, ViewScope::Public, "q"));
        let org = cache.slot(key(1, ViewScope::Organisation("cert-a".into()), "q"));
        let newer = cache.slot(key(2, ViewScope::Public, "q"));
        get_or_compute(&public, || async { Ok::<_, ()>("public") })
            .await
            .unwrap();
        assert!(org.get().is_none() && newer.get().is_none());
        let again = cache.slot(key(1, ViewScope::Public, "q"));
        assert_eq!(
            *get_or_compute(&again, || async { Ok::<_, ()>("recomputed") })
                .await
                .unwrap(),
            "public"
        );
    }

    #[tokio::test]
    async fn a_failed_computation_is_retried() {
        let cache = ResultCache::default();
        let slot = cache.slot(key(1, ViewScope::Public, "q"));
        assert!(get_or_compute(&slot, || async { Err::<u8, _>("busy") })
            .await
            .is_err());
        assert_eq!(
            *get_or_compute(&slot, || async { Ok::<_, &str>(7u8) })
                .await
                .unwrap(),
            7
        );
    }

    #[test]
    fn full_cache_drops_old_generations_then_least_recently_used() {
        let cache = ResultCache::default();
        for i in 0..CAPACITY {
            cache.slot(key(1, ViewScope::Public, &format!("q{i}")));
        }
        assert_eq!(cache.len(), CAPACITY);
        // A new generation clears the old one out when it needs room.
        let first = cache.slot(key(2, ViewScope::Public, "first"));
        assert_eq!(cache.len(), 1);
        let q0 = cache.slot(key(2, ViewScope::Public, "q0"));
        for i in 1..CAPACITY - 1 {
            cache.slot(key(2, ViewScope::Public, &format!("q{i}")));
        }
        assert_eq!(cache.len(), CAPACITY);
        // Using q0 again makes "first" the least recently used, so it goes.
        cache.slot(key(2, ViewScope::Public, "q0"));
        cache.slot(key(2, ViewScope::Public, "one more"));
        assert_eq!(cache.len(), CAPACITY);
        assert!(Arc::ptr_eq(
            &q0,
            &cache.slot(key(2, ViewScope::Public, "q0"))
        ));
        assert!(!Arc::ptr_eq(
            &first,
            &cache.slot(key(2, ViewScope::Public, "first"))
        ));
    }
}
