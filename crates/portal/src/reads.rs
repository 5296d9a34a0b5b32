//! The portal's data questions as handlers ask them: each is answered by a `greenwatch_analytics` function
//! for the asking viewer, through the result cache (`cache.rs`), so the many people asking the
//! same question of unchanged data share one computation.

use crate::cache::{self, CacheKey};
use crate::error::PortalError;
use crate::views::json_island;
use crate::AppState;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use greenwatch_analytics::sensors::{self, Comparison, SensorDetail};
use greenwatch_analytics::window::{Window, WindowQuery, SENSOR_WINDOW_MAX_SECS};
use greenwatch_analytics::{
    self as analytics, CountryReport, DataAccess, MetricsQuery, Overview, RiskSummary, Slice,
    SliceReport,
};
use greenwatch_metrics::{GroupBy, MetricTable};
use greenwatch_model::access::Viewer;
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::CountryCode;
use greenwatch_observe::{TopBy, TopRow};
use serde::Serialize;
use std::sync::Arc;

/// A JSON document serialised once and shared by every response that sends it. It is escaped
/// for a page's data island (`<`, `>`, `&` as `\u003c`…), which is still the same JSON.
pub(crate) struct JsonDoc(Bytes);

impl JsonDoc {
    fn of<T: Serialize>(value: &T) -> JsonDoc {
        JsonDoc(Bytes::from(json_island(value)))
    }

    /// The document as a page's data island.
    pub fn island(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// The document as an API response.
    pub fn response(&self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0.clone()).into_response()
    }
}

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
    /// The data generation these reads answer at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The result of `compute` for this viewer's scope, computed at most once per query and
    /// data generation. `query` must name everything the result depends on besides the data
    /// and the viewer's scope.
    async fn cached<T, E, F>(&self, query: String, compute: F) -> Result<Arc<T>, PortalError>
    where
        T: Send + Sync + 'static,
        E: Into<PortalError>,
        F: FnOnce(&DataAccess, &Viewer) -> Result<T, E> + Send + 'static,
    {
        let slot = self.slot::<T>(query);
        let viewer = self.viewer.clone();
        cache::get_or_compute(&slot, || async {
            let _slot = self.state.computing_slot().await?;
            self.state
                .read(move |sources| compute(sources, &viewer).map_err(Into::into))
                .await
        })
        .await
    }

    /// Like [`Reads::cached`], for a result derived from other results without the store.
    async fn derived<T, F>(&self, query: String, compute: F) -> Result<Arc<T>, PortalError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = self.slot::<T>(query);
        cache::get_or_compute(&slot, || async {
            tokio::task::spawn_blocking(compute)
                .await
                .map_err(|e| PortalError::Internal(format!("query task failed: {e}")))
        })
        .await
    }

    fn slot<T: 'static>(&self, query: String) -> cache::Slot {
        self.state.cache().slot(CacheKey {
            generation: self.generation,
            scope: self.viewer.scope(),
            query: format!("{} {query}", std::any::type_name::<T>()),
        })
    }

    /// The JSON of a cached result, serialised once.
    async fn json<T>(&self, query: String, value: Arc<T>) -> Result<Arc<JsonDoc>, PortalError>
    where
        T: Serialize + Send + Sync + 'static,
    {
        self.derived(format!("json {query}"), move || JsonDoc::of(&*value))
            .await
    }

    /// The strictest TLP of the datasets of `content` this viewer may see (`marking.rs`).
    pub async fn marking(
        &self,
        content: crate::marking::Content,
    ) -> Result<Option<greenwatch_model::access::Tlp>, PortalError> {
        let marked = self
            .cached(format!("marking {content:?}"), move |s, v| {
                crate::marking::strictest_visible(s, v, content)
            })
            .await?;
        Ok(*marked)
    }

    /// First and last stored bucket start this viewer may see.
    pub async fn stored_range(&self) -> Result<Option<(i64, i64)>, PortalError> {
        let range = self
            .cached("stored_range".into(), analytics::stored_range)
            .await?;
        Ok(*range)
    }

    /// The overview of the window asked for (defaults from the stored range), of every
    /// sensor or of one (the caller checked the viewer may see it).
    pub async fn overview(
        &self,
        query: &WindowQuery,
        sensor: Option<&SensorRef>,
    ) -> Result<Arc<Overview>, PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        let sensor = sensor.cloned();
        self.cached(overview_key(window, sensor.as_ref()), move |s, v| {
            analytics::overview(s, v, window, sensor.as_ref())
        })
        .await
    }

    /// [`Reads::overview`] as JSON.
    pub async fn overview_json(
        &self,
        query: &WindowQuery,
        sensor: Option<&SensorRef>,
    ) -> Result<Arc<JsonDoc>, PortalError> {
        let overview = self.overview(query, sensor).await?;
        let window = query.resolve(self.stored_range().await?)?;
        self.json(overview_key(window, sensor), overview).await
    }

    /// A country's report, compared with others, for the window asked for.
    pub async fn country(
        &self,
        country: CountryCode,
        compare: Vec<CountryCode>,
        query: &WindowQuery,
    ) -> Result<Arc<CountryReport>, PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        // Shared by every country page: computed once per generation, not once per country.
        let risk_tables = self
            .metric_tables(analytics::all_risks_by(GroupBy::Country))
            .await?;
        self.cached(
            format!("country {country:?} {compare:?} {window:?}"),
            move |s, v| analytics::country(s, v, country, &compare, window, &risk_tables),
        )
        .await
    }

    /// [`Reads::country`] as JSON.
    pub async fn country_json(
        &self,
        country: CountryCode,
        compare: Vec<CountryCode>,
        query: &WindowQuery,
    ) -> Result<Arc<JsonDoc>, PortalError> {
        let what = format!("country {country:?} {compare:?}");
        let report = self.country(country, compare, query).await?;
        let window = query.resolve(self.stored_range().await?)?;
        self.json(format!("{what} {window:?}"), report).await
    }

    /// A port's or an AS's report for the window asked for, with its JSON.
    pub async fn slice(
        &self,
        slice: Slice,
        query: &WindowQuery,
    ) -> Result<(Arc<SliceReport>, Arc<JsonDoc>), PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        let what = format!("slice {slice:?} {window:?}");
        // An AS page's risk rows: the AS tables every AS page shares.
        let risk_tables = match slice {
            Slice::Asn(_) => {
                self.metric_tables(analytics::all_risks_by(GroupBy::Asn))
                    .await?
            }
            Slice::Port(_) => Arc::new(Vec::new()),
        };
        let report = self
            .cached(what.clone(), move |s, v| {
                analytics::slice(s, v, slice, window, &risk_tables)
            })
            .await?;
        let json = self.json(what, Arc::clone(&report)).await?;
        Ok((report, json))
    }

    /// The scans of the window asked for ranked `by` port or source AS, with their JSON.
    pub async fn scan_index(
        &self,
        query: &WindowQuery,
        by: TopBy,
    ) -> Result<(Arc<Vec<TopRow>>, Arc<JsonDoc>), PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        let what = format!("scan index {by:?} {window:?}");
        let rows = self
            .cached(what.clone(), move |s, v| {
                analytics::scan_index(s, v, window, by)
            })
            .await?;
        let json = self.json(what, Arc::clone(&rows)).await?;
        Ok((rows, json))
    }

    /// The window of a sensor page: as any page's, but at most [`SENSOR_WINDOW_MAX_SECS`],
    /// since its tables are counted per source from flow tuples.
    async fn sensor_window(&self, query: &WindowQuery) -> Result<Option<Window>, PortalError> {
        let window = query.resolve(self.stored_range().await?)?;
        if let Some(w) = window.filter(|w| w.to - w.from > SENSOR_WINDOW_MAX_SECS) {
            return Err(PortalError::BadRequest(format!(
                "time range of {} days is too long for a sensor page: at most {} days",
                (w.to - w.from) / 86_400,
                SENSOR_WINDOW_MAX_SECS / 86_400
            )));
        }
        Ok(window)
    }

    /// One sensor's page for the window asked for. Who the sensor is and its health are read
    /// on every request (registering or revoking a sensor does not move the data generation);
    /// what it observed comes from the result cache.
    pub async fn sensor(
        &self,
        wanted: SensorRef,
        query: &WindowQuery,
    ) -> Result<Option<SensorDetail>, PortalError> {
        let viewer = self.viewer.clone();
        let Some((sensor, view)) = self
            .state
            .analyse(move |s| sensors::visible_sensor(s, &viewer, &wanted))
            .await?
        else {
            return Ok(None);
        };
        let window = self.sensor_window(query).await?;
        let what = format!("sensor {} {} {window:?}", sensor.reference(), sensor.tlp);
        let observed = self
            .cached(what, move |s, v| sensors::observed(s, v, &sensor, window))
            .await?;
        Ok(Some(SensorDetail {
            sensor: view,
            observed: (*observed).clone(),
        }))
    }

    /// The sensors this viewer may see, by name (read on every request: registering or
    /// revoking a sensor does not move the data generation).
    pub async fn sensors(&self) -> Result<Vec<sensors::SensorView>, PortalError> {
        let viewer = self.viewer.clone();
        self.state
            .analyse(move |s| sensors::sensors(s, &viewer))
            .await
    }

    /// The visible sensors compared over the window asked for.
    pub async fn sensor_comparison(
        &self,
        query: &WindowQuery,
    ) -> Result<Arc<Comparison>, PortalError> {
        let viewer = self.viewer.clone();
        let sensors = self
            .state
            .analyse(move |s| sensors::visible(s, &viewer))
            .await?;
        let window = self.sensor_window(query).await?;
        // The key names the sensors compared: a registration changes the answer without
        // moving the data generation.
        let names: Vec<String> = sensors
            .iter()
            .map(|s| format!("{}:{}", s.reference(), s.tlp))
            .collect();
        self.cached(format!("compare {names:?} {window:?}"), move |s, v| {
            sensors::compare(s, v, sensors, window)
        })
        .await
    }

    /// The risk catalogue with each risk's days of data.
    pub async fn risks(&self) -> Result<Arc<Vec<RiskSummary>>, PortalError> {
        self.cached("risks".into(), analytics::risks).await
    }

    /// [`Reads::risks`] as JSON.
    pub async fn risks_json(&self) -> Result<Arc<JsonDoc>, PortalError> {
        let risks = self.risks().await?;
        self.json("risks".into(), risks).await
    }

    /// The metric tables of a query.
    pub async fn metric_tables(
        &self,
        query: MetricsQuery,
    ) -> Result<Arc<Vec<MetricTable>>, PortalError> {
        self.cached(format!("metrics {query:?}"), move |s, v| {
            analytics::metric_tables(s, v, &query)
        })
        .await
    }
}

impl Reads<'_> {
    /// The publishable rows of a metrics query as JSON (`greenwatch metrics --json`).
    pub async fn metric_rows_json(&self, query: MetricsQuery) -> Result<Arc<JsonDoc>, PortalError> {
        let what = format!("metric rows {query:?}");
        let tables = self.metric_tables(query).await?;
        self.derived(what, move || JsonDoc::of(&analytics::publishable(&tables)))
            .await
    }
}

impl Reads<'_> {
    /// An address's IP page over the window asked for (by default the last 31 days of the
    /// data the viewer may see). Alerts naming it are not part of it: they are read fresh.
    pub async fn ip(
        &self,
        ip: std::net::IpAddr,
        query: &WindowQuery,
    ) -> Result<Arc<analytics::ip::IpReport>, PortalError> {
        let what = format!("ip {ip} {:?} {:?}", query.from, query.to);
        let query = query.clone();
        self.cached(what, move |s, v| {
            let window = analytics::ip::ip_window(s, v, &query)?;
            analytics::ip::ip_report(s, v, ip, window)
        })
        .await
    }
}

/// The result-cache key of an overview.
fn overview_key(window: Option<Window>, sensor: Option<&SensorRef>) -> String {
    match sensor {
        Some(sensor) => format!("overview {window:?} sensor {sensor}"),
        None => format!("overview {window:?}"),
    }
}
