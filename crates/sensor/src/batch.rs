//! The batch: what a sensor ships to the collector, and its wire format.
//!
//! ```text
//! "GWB1"  u32 header length  header (JSON)
//! u32 bucket count, then per bucket: i64 bucket start, u32 length, flow segment
//! u32 length, backscatter segment
//! ```
//! Integers are little-endian; segments are the store's LZ4 record segments
//! (`greenwatch_store::segment`). A batch is identified by its stream (one per spool) and
//! sequence number; the collector stores each id at most once.

use greenwatch_model::BucketWidth;
use greenwatch_observe::{BackscatterSlot, FlowTuple, IngestCounts, Observations};
use greenwatch_store::segment;
use serde::{Deserialize, Serialize};
use std::fmt;

const MAGIC: &[u8; 4] = b"GWB1";

/// Largest batch the collector takes, compressed (also the sensor's cut-off).
pub const MAX_BATCH_BYTES: usize = 32 << 20;

/// Largest decompressed size of one segment the collector accepts.
const MAX_SEGMENT_BYTES: usize = 256 << 20;

/// Largest header, in bytes.
const MAX_HEADER_BYTES: usize = 64 << 10;

/// Where a batch comes from and what it counts. The sensor is not named here: the collector
/// knows it from the token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchHeader {
    /// Random id of the spool that made it (32 hex digits).
    pub stream: String,
    /// Position in the stream, from 0; gaps mean batches dropped on a full spool.
    pub seq: u64,
    /// Bucket width of its flow tuples, seconds.
    pub bucket_secs: u32,
    /// Every record the batch covers, as `ingest pcap` counts them.
    pub counts: IngestCounts,
}

/// A batch's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchId {
    pub stream: String,
    pub seq: u64,
}

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.stream, self.seq)
    }
}

/// Flow tuples (not enriched: the collector enriches with its IP data) and backscatter of a
/// stretch of capture.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub header: BatchHeader,
    /// Flow tuples per bucket start, each sorted as the aggregator closed them.
    pub buckets: Vec<(i64, Vec<FlowTuple>)>,
    pub backscatter: Vec<BackscatterSlot>,
}

/// Why bytes are not a batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("batch of {0} bytes exceeds the limit of {MAX_BATCH_BYTES} bytes")]
    Oversized(usize),
    #[error("malformed batch at byte {offset}: {reason}")]
    Malformed { offset: usize, reason: String },
}

impl BatchError {
    /// Stable key for counting refusals.
    pub fn key(&self) -> &'static str {
        match self {
            BatchError::Oversized(_) => "oversized",
            BatchError::Malformed { .. } => "malformed",
        }
    }
}

impl Batch {
    pub fn from_observations(
        stream: &str,
        seq: u64,
        width: BucketWidth,
        observations: Observations,
    ) -> Batch {
        Batch {
            header: BatchHeader {
                stream: stream.to_string(),
                seq,
                bucket_secs: width.0,
                counts: observations.counts,
            },
            buckets: observations
                .buckets
                .into_iter()
                .map(|b| (b.bucket, b.flows))
                .collect(),
            backscatter: observations.backscatter,
        }
    }

    pub fn id(&self) -> BatchId {
        BatchId {
            stream: self.header.stream.clone(),
            seq: self.header.seq,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("headers serialise");
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, &header);
        out.extend_from_slice(&(self.buckets.len() as u32).to_le_bytes());
        for (bucket, flows) in &self.buckets {
            out.extend_from_slice(&bucket.to_le_bytes());
            put_bytes(&mut out, &segment::encode_flows(flows));
        }
        put_bytes(&mut out, &segment::encode_backscatter(&self.backscatter));
        out
    }

    /// Parses and checks a batch: every part well formed, and its flow tuples hold exactly
    /// the packets its counts say were decoded.
    pub fn decode(bytes: &[u8]) -> Result<Batch, BatchError> {
        if bytes.len() > MAX_BATCH_BYTES {
            return Err(BatchError::Oversized(bytes.len()));
        }
        let mut r = Cursor { bytes, pos: 0 };
        if r.take(4)? != MAGIC {
            return Err(r.error(0, "not a Greenwatch batch (bad magic)".into()));
        }
        let header_at = r.pos;
        let header_bytes = r.sized(MAX_HEADER_BYTES)?;
        let header: BatchHeader = serde_json::from_slice(header_bytes)
            .map_err(|e| r.error(header_at, format!("header: {e}")))?;
        check_header(&header).map_err(|e| r.error(header_at, e))?;
        let count = r.u32()? as usize;
        let mut buckets = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let at = r.pos;
            let bucket = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
            let data = r.sized(MAX_BATCH_BYTES)?;
            let flows = segment::decode_flows(bucket, data, MAX_SEGMENT_BYTES)
                .map_err(|e| r.error(at, e.to_string()))?;
            buckets.push((bucket, flows));
        }
        let at = r.pos;
        let data = r.sized(MAX_BATCH_BYTES)?;
        let backscatter = segment::decode_backscatter(data, MAX_SEGMENT_BYTES)
            .map_err(|e| r.error(at, e.to_string()))?;
        if r.pos != bytes.len() {
            return Err(r.error(r.pos, "trailing bytes after the backscatter".into()));
        }
        let batch = Batch {
            header,
            buckets,
            backscatter,
        };
        batch.check_totals().map_err(|e| r.error(0, e))?;
        Ok(batch)
    }

    /// Flow tuples must hold every decoded packet the header counts, no more, no less.
    fn check_totals(&self) -> Result<(), String> {
        let c = &self.header.counts;
        let decoded = c.packets - c.errors.values().sum::<u64>().min(c.packets);
        let in_flows: u64 = self
            .buckets
            .iter()
            .flat_map(|(_, flows)| flows)
            .map(|f| f.packets)
            .sum();
        if in_flows != decoded {
            return Err(format!(
                "flow tuples hold {in_flows} packets but the header counts {decoded} decoded packets"
            ));
        }
        Ok(())
    }
}

fn check_header(h: &BatchHeader) -> Result<(), String> {
    if h.stream.len() != 32 || !h.stream.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("stream {:?} is not 32 hex digits", h.stream));
    }
    if h.bucket_secs == 0 {
        return Err("bucket width is zero".into());
    }
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Bounds-checked reading of the batch bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn error(&self, offset: usize, reason: String) -> BatchError {
        BatchError::Malformed { offset, reason }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BatchError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.error(
                self.pos,
                format!(
                    "cut short ({} bytes left, {n} needed)",
                    self.bytes.len() - self.pos
                ),
            ));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, BatchError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A u32 length, then that many bytes (at most `max`).
    fn sized(&mut self, max: usize) -> Result<&'a [u8], BatchError> {
        let at = self.pos;
        let len = self.u32()? as usize;
        if len > max {
            return Err(self.error(at, format!("length {len} exceeds {max}")));
        }
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_packets::scan;
    use greenwatch_observe::{no_enrichment, Aggregator};

    fn batch() -> Batch {
        let mut aggregator = Aggregator::new(BucketWidth::HOUR, no_enrichment);
        for (i, src) in ["192.0.2.1", "192.0.2.2", "2001:db8::7"].iter().enumerate() {
            aggregator.add(&scan(src, 23, 1_790_000_000 + i as i64 * 4000));
        }
        aggregator.add_error("not_ip", 42);
        Batch::from_observations(
            "0123456789abcdef0123456789abcdef",
            7,
            BucketWidth::HOUR,
            aggregator.finish(),
        )
    }

    #[test]
    fn batches_round_trip() {
        let batch = batch();
        assert_eq!(batch.buckets.len(), 3);
        let decoded = Batch::decode(&batch.encode()).unwrap();
        assert_eq!(decoded, batch);
        assert_eq!(
            decoded.id().to_string(),
            "0123456789abcdef0123456789abcdef/7"
        );
    }

    #[test]
    fn malformed_batches_name_the_offset_and_reason() {
        let bytes = batch().encode();
        let reason = |bytes: &[u8]| Batch::decode(bytes).unwrap_err().to_string();
        assert!(reason(b"GWB2").contains("bad magic"));
        assert!(reason(&bytes[..bytes.len() - 3]).contains("cut short"));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(reason(&trailing).contains("trailing bytes"));
        let mut bad_header = bytes.clone();
        bad_header[10] = b'!';
        assert!(
            reason(&bad_header).contains("at byte 4: header"),
            "{}",
            reason(&bad_header)
        );
    }

    #[test]
    fn counts_that_disagree_with_the_flow_tuples_are_refused() {
        let mut inflated = batch();
        inflated.header.counts.packets += 5;
        let err = Batch::decode(&inflated.encode()).unwrap_err().to_string();
        assert!(err.contains("flow tuples hold 3 packets"), "{err}");
    }

    #[test]
    fn oversized_batches_are_refused_before_parsing() {
        let huge = vec![0u8; MAX_BATCH_BYTES + 1];
        assert_eq!(Batch::decode(&huge).unwrap_err().key(), "oversized");
    }
}
