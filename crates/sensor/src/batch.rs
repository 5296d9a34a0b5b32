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

/// Most bytes all segments of a batch may decompress to, whatever its header counts: about a
/// million flow tuples, over twice what a default batch (200 000 packets) could need even if
/// each packet were its own flow tuple and its own backscatter slot.
const MAX_DECODED_BYTES: usize = 64 << 20;

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
    /// the packets its counts say were decoded. What the segments may decompress to is
    /// bounded by those counts (see [`Budget`]) and checked before each is decompressed.
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
        let decoded = decoded_packets(&header.counts);
        let mut budget = Budget::new(decoded);
        let count_at = r.pos;
        let count = r.u32()? as usize;
        // Every bucket is there because a decoded packet fell in it.
        if count as u64 > decoded {
            return Err(r.error(
                count_at,
                format!("{count} buckets but the header counts {decoded} decoded packets"),
            ));
        }
        let mut buckets = Vec::with_capacity(count.min(1024));
        let mut in_flows = 0u64;
        for i in 0..count {
            let at = r.pos;
            let bucket = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
            let data = r.sized(MAX_BATCH_BYTES)?;
            let what = format!("flow segment {i} (bucket {bucket})");
            let claimed = segment::claimed_size("flow", bucket, data)
                .map_err(|e| r.error(at, e.to_string()))?;
            budget
                .take(Part::Flows, &what, claimed)
                .map_err(|e| r.error(at, e))?;
            // `claimed` is what the budget allowed.
            let flows = segment::decode_flows(bucket, data, claimed)
                .map_err(|e| r.error(at, e.to_string()))?;
            // Refused as soon as the packets run over, not after decoding the rest.
            in_flows = flows
                .iter()
                .fold(in_flows, |sum, f| sum.saturating_add(f.packets));
            if in_flows > decoded {
                return Err(r.error(
                    at,
                    format!("flow tuples up to {what} hold {in_flows} packets but the header counts {decoded} decoded packets"),
                ));
            }
            buckets.push((bucket, flows));
        }
        let at = r.pos;
        let data = r.sized(MAX_BATCH_BYTES)?;
        let claimed = segment::claimed_size("backscatter", 0, data)
            .map_err(|e| r.error(at, e.to_string()))?;
        budget
            .take(Part::Backscatter, "backscatter segment", claimed)
            .map_err(|e| r.error(at, e))?;
        let backscatter =
            segment::decode_backscatter(data, claimed).map_err(|e| r.error(at, e.to_string()))?;
        if r.pos != bytes.len() {
            return Err(r.error(r.pos, "trailing bytes after the backscatter".into()));
        }
        if in_flows != decoded {
            return Err(r.error(
                0,
                format!("flow tuples hold {in_flows} packets but the header counts {decoded} decoded packets"),
            ));
        }
        Ok(Batch {
            header,
            buckets,
            backscatter,
        })
    }
}

/// Packets the header says were decoded: records read less those that did not decode.
/// Saturating: the counts come from the network.
fn decoded_packets(c: &IngestCounts) -> u64 {
    let errors = c
        .errors
        .values()
        .fold(0u64, |sum, &n| sum.saturating_add(n));
    c.packets.saturating_sub(errors)
}

#[derive(Clone, Copy)]
enum Part {
    Flows,
    Backscatter,
}

/// What a batch's segments may still decompress to. A flow tuple holds at least one decoded
/// packet, and so does a backscatter slot, so the header's decoded packets bound how many of
/// each there can be, times their longest record; [`MAX_DECODED_BYTES`] bounds all of them
/// together, however many packets the header claims.
struct Budget {
    decoded: u64,
    flows: usize,
    backscatter: usize,
    total: usize,
}

impl Budget {
    fn new(decoded: u64) -> Budget {
        let bound = |record: usize| {
            usize::try_from(decoded)
                .unwrap_or(usize::MAX)
                .saturating_mul(record)
        };
        Budget {
            decoded,
            flows: bound(segment::FLOW_RECORD_MAX_BYTES),
            backscatter: bound(segment::BACKSCATTER_RECORD_MAX_BYTES),
            total: MAX_DECODED_BYTES,
        }
    }

    /// Takes `claimed` decompressed bytes of `what` from the budget, or says why they do not
    /// fit, with the limits.
    fn take(&mut self, part: Part, what: &str, claimed: usize) -> Result<(), String> {
        let (left, record, kind) = match part {
            Part::Flows => (
                &mut self.flows,
                segment::FLOW_RECORD_MAX_BYTES,
                "flow tuple",
            ),
            Part::Backscatter => (
                &mut self.backscatter,
                segment::BACKSCATTER_RECORD_MAX_BYTES,
                "backscatter slot",
            ),
        };
        if claimed > *left || claimed > self.total {
            return Err(format!(
                "{what} claims to decompress to {claimed} bytes, more than the batch has left \
                 ({} bytes of its {kind}s' limit of {record} bytes per decoded packet, {} \
                 decoded; {} bytes of the limit of {MAX_DECODED_BYTES} bytes for all segments)",
                *left, self.decoded, self.total
            ));
        }
        *left -= claimed;
        self.total -= claimed;
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

    /// A batch's bytes from its parts, segments as given (so they may lie about their size).
    fn assemble(header: &BatchHeader, buckets: &[(i64, Vec<u8>)], backscatter: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_bytes(&mut out, &serde_json::to_vec(header).unwrap());
        out.extend_from_slice(&(buckets.len() as u32).to_le_bytes());
        for (bucket, data) in buckets {
            out.extend_from_slice(&bucket.to_le_bytes());
            put_bytes(&mut out, data);
        }
        put_bytes(&mut out, backscatter);
        out
    }

    /// `segment` claiming to decompress to `size` bytes.
    fn claiming(segment: &[u8], size: u32) -> Vec<u8> {
        let mut out = segment.to_vec();
        out[..4].copy_from_slice(&size.to_le_bytes());
        out
    }

    fn flow_segments(batch: &Batch) -> Vec<(i64, Vec<u8>)> {
        batch
            .buckets
            .iter()
            .map(|(bucket, flows)| (*bucket, segment::encode_flows(flows)))
            .collect()
    }

    #[test]
    fn segments_claiming_more_than_the_packets_allow_are_refused_before_decompressing() {
        let batch = batch();
        let no_backscatter = segment::encode_backscatter(&[]);
        // 3 decoded packets: the flow segments may decompress to 3 × 68 bytes in all.
        let mut buckets = flow_segments(&batch);
        buckets[1].1 = claiming(&buckets[1].1, 1_000);
        let err = Batch::decode(&assemble(&batch.header, &buckets, &no_backscatter))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "flow segment 1 (bucket {}) claims to decompress to 1000 bytes",
                buckets[1].0
            )) && err.contains("68 bytes per decoded packet, 3 decoded"),
            "{err}"
        );
        // Also the backscatter segment, against its own limit.
        let bomb = claiming(&no_backscatter, 1 << 30);
        let err = Batch::decode(&assemble(&batch.header, &flow_segments(&batch), &bomb))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("backscatter segment claims to decompress to 1073741824 bytes")
                && err.contains("64 bytes per decoded packet"),
            "{err}"
        );
    }

    #[test]
    fn segments_together_may_not_pass_the_hard_limit_whatever_the_header_counts() {
        let mut batch = batch();
        batch.header.counts.packets = u64::MAX;
        let no_backscatter = segment::encode_backscatter(&[]);
        // Each claim fits on its own; the second one does not fit in what the first left.
        let mut buckets = flow_segments(&batch);
        buckets[0].1 = claiming(&buckets[0].1, 40 << 20);
        buckets[1].1 = claiming(&buckets[1].1, 40 << 20);
        let err = Batch::decode(&assemble(&batch.header, &buckets, &no_backscatter))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("flow segment 1 (bucket")
                && err.contains(&format!(
                    "{} bytes of the limit of {MAX_DECODED_BYTES} bytes for all segments",
                    MAX_DECODED_BYTES - (40 << 20)
                )),
            "{err}"
        );
    }

    #[test]
    fn flow_tuples_holding_more_packets_than_counted_are_refused_at_their_segment() {
        let mut batch = batch();
        batch.buckets[0].1[0].packets = 10;
        let err = Batch::decode(&batch.encode()).unwrap_err().to_string();
        assert!(
            err.contains("flow tuples up to flow segment 0 (bucket")
                && err.contains("hold 10 packets but the header counts 3 decoded packets"),
            "{err}"
        );
    }

    #[test]
    fn more_buckets_than_decoded_packets_are_refused() {
        let mut batch = batch();
        batch.header.counts.packets = 3; // one not decoded: two decoded packets, three buckets
        let err = Batch::decode(&batch.encode()).unwrap_err().to_string();
        assert!(
            err.contains("3 buckets but the header counts 2 decoded packets"),
            "{err}"
        );
    }

    #[test]
    fn error_counts_that_overflow_are_refused_not_a_panic() {
        let mut batch = batch();
        batch
            .header
            .counts
            .errors
            .insert("truncated".into(), u64::MAX);
        let err = Batch::decode(&batch.encode()).unwrap_err().to_string();
        assert!(err.contains("header counts 0 decoded packets"), "{err}");
    }

    #[test]
    fn oversized_batches_are_refused_before_parsing() {
        let huge = vec![0u8; MAX_BATCH_BYTES + 1];
        assert_eq!(Batch::decode(&huge).unwrap_err().key(), "oversized");
    }
}
