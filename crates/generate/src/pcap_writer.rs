//! Legacy pcap output (magic a1b2c3d4 little-endian, v2.4, Ethernet, microseconds).

use std::io::Write;

/// LINKTYPE_ETHERNET.
pub(crate) const LINKTYPE_ETHERNET: u32 = 1;
pub(crate) const SNAPLEN: u32 = 65_535;
const FLUSH_AT: usize = 1 << 20;

/// Buffers records in memory and hands them to `out` in ~1 MiB writes.
pub(crate) struct PcapWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    pub(crate) fn new(out: W) -> std::io::Result<Self> {
        let mut w = PcapWriter {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
        };
        w.buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        w.buf.extend_from_slice(&2u16.to_le_bytes());
        w.buf.extend_from_slice(&4u16.to_le_bytes());
        w.buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        w.buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        w.buf.extend_from_slice(&SNAPLEN.to_le_bytes());
        w.buf.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        Ok(w)
    }

    /// One record; `micros` is microseconds since the epoch (validated non-negative and
    /// below 2^32 s by the caller).
    #[inline]
    pub(crate) fn record(&mut self, micros: i64, frame: &[u8]) -> std::io::Result<()> {
        let secs = (micros / 1_000_000) as u32;
        let usec = (micros % 1_000_000) as u32;
        let len = frame.len() as u32;
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&secs.to_le_bytes());
        hdr[4..8].copy_from_slice(&usec.to_le_bytes());
        hdr[8..12].copy_from_slice(&len.to_le_bytes());
        hdr[12..16].copy_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&hdr);
        self.buf.extend_from_slice(frame);
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}
