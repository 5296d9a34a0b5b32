//! Counts that a traffic generator promises (its ground truth) and that ingest reports
//! (its summary), in one shape so that tests compare them field by field.

use crate::{Fingerprint, Timestamp, TrafficClass, Transport};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Packets per class; every class is always present (zero when none were seen).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    pub scan: u64,
    pub backscatter: u64,
    pub spoofed: u64,
    pub other: u64,
}

impl ClassCounts {
    pub fn add(&mut self, class: TrafficClass, n: u64) {
        *self.get_mut(class) += n;
    }

    pub fn get(&self, class: TrafficClass) -> u64 {
        match class {
            TrafficClass::Scan => self.scan,
            TrafficClass::Backscatter => self.backscatter,
            TrafficClass::Spoofed => self.spoofed,
            TrafficClass::Other => self.other,
        }
    }

    fn get_mut(&mut self, class: TrafficClass) -> &mut u64 {
        match class {
            TrafficClass::Scan => &mut self.scan,
            TrafficClass::Backscatter => &mut self.backscatter,
            TrafficClass::Spoofed => &mut self.spoofed,
            TrafficClass::Other => &mut self.other,
        }
    }

    pub fn total(&self) -> u64 {
        self.scan + self.backscatter + self.spoofed + self.other
    }
}

/// Packets per scanner fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintCounts {
    pub mirai: u64,
    pub masscan: u64,
    pub zmap: u64,
}

impl FingerprintCounts {
    pub fn add(&mut self, fingerprint: Fingerprint, n: u64) {
        match fingerprint {
            Fingerprint::Mirai => self.mirai += n,
            Fingerprint::Masscan => self.masscan += n,
            Fingerprint::Zmap => self.zmap += n,
        }
    }
}

/// One DoS attack as inferred from backscatter (corsaro RS-DoS thresholds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DosVictim {
    pub ip: IpAddr,
    pub protocol: Transport,
    pub first: Timestamp,
    pub last: Timestamp,
    pub packets: u64,
}

/// Where and when the generator injected a surge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyTruth {
    pub port: u16,
    pub protocol: Transport,
    /// Start of the first hour with surge packets.
    pub start: Timestamp,
    /// How many hours it lasts.
    pub hours: u32,
    /// Multiple of the port's normal rate during the surge.
    pub factor: f64,
}

/// What a generated capture contains, by construction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub packets: u64,
    pub ipv6_packets: u64,
    pub by_class: ClassCounts,
    pub by_fingerprint: FingerprintCounts,
    /// Attacks that meet the RS-DoS thresholds, sorted by (first, ip).
    pub dos_victims: Vec<DosVictim>,
    /// The injected surges, in time order.
    pub surges: Vec<AnomalyTruth>,
}
