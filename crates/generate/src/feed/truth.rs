//! The oracle: distinct hosts per day, ISO week and month, world-wide and per country and ASN,
//! counted with plain hash sets of address keys as rows are written. A host is attributed with
//! the address info's enrichment, which is the same for all its rows, so counting each
//! country's and ASN's hosts when an address is first seen in a period is exact.

use super::PeriodHosts;
use greenwatch_model::{Enrichment, Period, PeriodKind};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

#[derive(Default)]
struct PeriodTally {
    hosts: FxHashSet<u128>,
    by_country: FxHashMap<[u8; 2], u64>,
    by_asn: FxHashMap<u32, u64>,
}

impl PeriodTally {
    fn add(&mut self, key: u128, e: Enrichment) {
        if self.hosts.insert(key) {
            *self.by_country.entry(e.country.0).or_default() += 1;
            *self.by_asn.entry(e.asn).or_default() += 1;
        }
    }

    fn finish(self) -> PeriodHosts {
        PeriodHosts {
            hosts: self.hosts.len() as u64,
            by_country: self
                .by_country
                .into_iter()
                .map(|(cc, n)| {
                    let code = match cc {
                        [0, 0] => "ZZ".to_string(),
                        cc => String::from_utf8_lossy(&cc).into_owned(),
                    };
                    (code, n)
                })
                .collect(),
            by_asn: self.by_asn.into_iter().collect(),
        }
    }
}

const KINDS: [PeriodKind; 3] = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month];

pub(crate) struct HostTally {
    enabled: bool,
    periods: Vec<(Period, PeriodTally)>,
    /// For each day of the spec, the indices in `periods` of its day, week and month.
    slots: Vec<[usize; 3]>,
}

impl HostTally {
    pub(crate) fn new(start: chrono::NaiveDate, days: u32, enabled: bool) -> HostTally {
        let mut periods: Vec<(Period, PeriodTally)> = Vec::new();
        let slots = (0..days as u64)
            .map(|d| {
                let date = start + chrono::Days::new(d);
                KINDS.map(|kind| {
                    let p = Period::containing(kind, date);
                    match periods.iter().position(|(q, _)| *q == p) {
                        Some(i) => i,
                        None => {
                            periods.push((p, PeriodTally::default()));
                            periods.len() - 1
                        }
                    }
                })
            })
            .collect();
        HostTally {
            enabled,
            periods,
            slots,
        }
    }

    /// One good row of day `day` (index from the start) for address key `key`.
    #[inline]
    pub(crate) fn add(&mut self, day: u32, key: u128, e: Enrichment) {
        if self.enabled {
            for i in self.slots[day as usize] {
                self.periods[i].1.add(key, e);
            }
        }
    }

    /// (day, week, month) label → distinct hosts, for periods with rows; empty when disabled.
    #[allow(clippy::type_complexity)]
    pub(crate) fn finish(
        self,
    ) -> (
        BTreeMap<String, PeriodHosts>,
        BTreeMap<String, PeriodHosts>,
        BTreeMap<String, PeriodHosts>,
    ) {
        let mut out: [BTreeMap<String, PeriodHosts>; 3] = Default::default();
        if self.enabled {
            for (p, tally) in self
                .periods
                .into_iter()
                .filter(|(_, t)| !t.hosts.is_empty())
            {
                let i = KINDS
                    .iter()
                    .position(|k| *k == p.kind)
                    .expect("a tallied kind");
                out[i].insert(p.label(), tally.finish());
            }
        }
        let [day, week, month] = out;
        (day, week, month)
    }
}
