//! The portal's data questions as handlers ask them: each is answered by a `data` function
//! for the asking viewer, through the result cache (`cache.rs`), so the many people asking the
//! same question of unchanged data share one computation.

use crate::cache::{self, CacheKey};
use crate::data::{self, CountryReport, MetricsQuery, Overview, RiskSummary, Sources};
use crate::error::PortalError;
use crate::range::WindowQuery;
use crate::AppState;
use greenwatch_metrics::MetricTable;
use greenwatch_model::access::Viewer;
use greenwatch_model::CountryCode;
use greenwatch_store::ObservationStore;
use std::sync::Arc;

/// Cached reads for one viewer at one data generation.
pub(crate) struct Reads<'a> {
    state: &'a AppState,
    viewer: Viewer,
    generation: u64,
}

impl AppState {
    /// Reads for `viewer` of the data as stored now.
    pub(crate) async fn reads(&self, viewer: &Viewer) -> Result<Reads<'_>, PortalError> {
        let generation = self.read(|s| Ok(s.store.data_generation()?)).await?;
        Ok(Reads {
            state: self,
            viewer: viewer.clone(),
            generation,
        })
    }
}

impl Reads<'_> {
    /// The result of `compute` for this viewer's scope, computed at most once per query and
    /// data generation. `query` must name everything the result depends on besides the data
    /// and the viewer's scope.
    async fn cached<T, F>(&self, query: String, compute: F) -> Result<Arc<T>, PortalError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&Sources, &Viewer) -> Result<T, PortalError> + Send + 'static,
    {
        let key = CacheKey {
            generation: self.generation,
            scope: self.viewer.scope(),
            query: format!("{} {query}", std::any::type_name::<T>()),
        };
        let slot = self.state.cache().slot(key);
        let viewer = self.viewer.clone();
        cache::get_or_compute(&slot, || {
            self.state.read(move |sources| compute(sources, &viewer))
        })
        .await
    }

    /// First and last stored bucket start this viewer may see.
    pub async fn stored_range(&self) -> Result<Option<(i64, i64)>, PortalError> {
        let range = self
            .cached("stored_range".into(), data::stored_range)
            .await?;
        Ok(*range)
    }

    /// The overview of the window asked for (defaults from the stored range).
    pub async fn overview(&self, query: &WindowQuery) -> Result<Arc<Overview>, PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        self.cached(format!("overview {window:?}"), move |s, v| {
            data::overview(s, v, window)
        })
        .await
    }

    /// A country's report, compared with others, for the window asked for.
    pub async fn country(
        &self,
        country: CountryCode,
        compare: Vec<CountryCode>,
        query: &WindowQuery,
    ) -> Result<Arc<CountryReport>, PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        self.cached(
            format!("country {country:?} {compare:?} {window:?}"),
            move |s, v| data::country(s, v, country, &compare, window),
        )
        .await
    }

    /// The risk catalogue with each risk's days of data.
    pub async fn risks(&self) -> Result<Arc<Vec<RiskSummary>>, PortalError> {
        self.cached("risks".into(), data::risks).await
    }

    /// The metric tables of a query.
    pub async fn metric_tables(
        &self,
        query: MetricsQuery,
    ) -> Result<Arc<Vec<MetricTable>>, PortalError> {
        self.cached(format!("metrics {query:?}"), move |s, v| {
            data::metric_tables(s, v, &query)
        })
        .await
    }
}
