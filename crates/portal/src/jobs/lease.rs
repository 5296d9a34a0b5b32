//! Leases on the jobs a deployment runs once, however many `serve` processes share its store
//! (`greenwatch_store::LeaseStore`): before each pass a job takes or renews its lease, and a
//! process that does not hold it skips the pass. A holder that dies loses the lease when it
//! ends, and the next process to ask takes the job over.

use crate::AppState;
use std::sync::Arc;
use std::time::Duration;

/// One job's lease as this process asks for it.
#[derive(Clone)]
pub(crate) struct JobLease {
    job: &'static str,
    /// This process, as the store records the holder (host, process id, a random part: two
    /// processes never share it, even across restarts with a reused pid).
    holder: Arc<str>,
    /// How long a taken lease lasts without renewal: longer than the job's pause between
    /// passes, so a live holder always renews it in time.
    length: Duration,
}

impl JobLease {
    pub(crate) fn new(job: &'static str, holder: Arc<str>, length: Duration) -> JobLease {
        JobLease {
            job,
            holder,
            length,
        }
    }

    /// Whether this process holds the lease now (taking it when free, renewing it when held).
    /// A store error counts as not holding it: the pass is skipped, not run twice.
    pub(crate) async fn hold(&self, state: &AppState) -> bool {
        let (job, holder) = (self.job, Arc::clone(&self.holder));
        let now = state.now();
        let until = greenwatch_model::Timestamp(now.0 + self.length.as_micros() as i64);
        match state
            .write(move |store| Ok(store.take_lease(job, &holder, now, until)?))
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(job, "taking the job's lease: {e}");
                false
            }
        }
    }
}

/// This process's name as a lease holder.
pub(crate) fn holder_name() -> Arc<str> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let random = greenwatch_auth::new_secret().unwrap_or_default();
    format!(
        "{host}:{}:{}",
        std::process::id(),
        random.get(..8).unwrap_or("")
    )
    .into()
}
