//! Frame iteration over pcap / pcapng bytes.
//!
//! Both formats are parsed by hand, zero-copy over the input slice: each [`Frame`] borrows
//! its bytes from the capture. Legacy pcap takes a tight fast path (one bounds check and four
//! loads per record); pcapng walks blocks (SHB, IDB, EPB, SPB, obsolete PB; other block types
//! are skipped) and keeps one interface table per section.

use greenwatch_model::Timestamp;

/// Link-layer header type (pcap LINKTYPE_* value).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW_12: LinkType = LinkType(12);
    pub const RAW_14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// One captured frame, borrowed from the capture bytes.
#[derive(Clone, Debug)]
pub struct Frame<'a> {
    pub ts: Timestamp,
    pub link_type: LinkType,
    /// Captured bytes (may be shorter than `wire_len` when the snap length cut it).
    pub data: &'a [u8],
    /// Original length on the wire.
    pub wire_len: u32,
    /// Byte offset of this frame's record header in the file.
    pub offset: u64,
}

/// A capture that cannot be read further: the message names the byte offset and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte offset {offset}: {reason}")]
pub struct CaptureError {
    pub offset: u64,
    pub reason: String,
}

/// Which container a [`CaptureReader`] detected.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Legacy libpcap format.
    Pcap {
        big_endian: bool,
        nanosecond: bool,
        /// The "modified" (Kuznetzov) variant with 24-byte record headers.
        modified: bool,
        link_type: LinkType,
    },
    /// pcapng (byte order may change per section).
    PcapNg,
}

/// Largest captured length accepted for one record; bigger means a corrupt header.
pub const MAX_CAPLEN: u32 = 256 * 1024;

const PCAP_MAGIC_MICRO: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NANO: u32 = 0xa1b2_3c4d;
const PCAP_MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;
const PCAPNG_IDB: u32 = 1;
const PCAPNG_PB: u32 = 2;
const PCAPNG_SPB: u32 = 3;
const PCAPNG_EPB: u32 = 6;
/// libpcap's LT_LINKTYPE mask: upper bits of the header field carry FCS information.
const LINKTYPE_MASK: u32 = 0x03ff_ffff;

/// Iterates the frames of a pcap or pcapng capture. After the first error it yields `None`.
pub struct CaptureReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    done: bool,
    kind: Kind,
}

enum Kind {
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        link: LinkType,
    },
    PcapNg {
        big_endian: bool,
        ifaces: Vec<Iface>,
    },
}

#[derive(Copy, Clone, Debug)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    res: Resolution,
    offset_secs: i64,
}

/// Timestamp units of a pcapng interface.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Resolution {
    Micros,
    Nanos,
    /// Any other resolution: this many units per second.
    PerSec(u128),
}

impl Resolution {
    fn from_tsresol(v: u8) -> Option<Resolution> {
        let per_sec: u128 = if v & 0x80 == 0 {
            match v {
                6 => return Some(Resolution::Micros),
                9 => return Some(Resolution::Nanos),
                0..=38 => 10u128.pow(v as u32),
                _ => return None,
            }
        } else {
            1u128 << (v & 0x7f)
        };
        Some(Resolution::PerSec(per_sec))
    }

    #[inline]
    fn to_micros(self, units: u64) -> i64 {
        let us = match self {
            Resolution::Micros => units,
            Resolution::Nanos => units / 1000,
            Resolution::PerSec(n) => {
                let v = units as u128 * 1_000_000 / n;
                v.min(i64::MAX as u128) as u64
            }
        };
        us.min(i64::MAX as u64) as i64
    }
}

#[inline(always)]
fn rd32(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let a: [u8; 4] = match b.get(at..at + 4) {
        Some(s) => [s[0], s[1], s[2], s[3]],
        None => [0; 4],
    };
    if big_endian {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

#[inline(always)]
fn rd16(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let a: [u8; 2] = match b.get(at..at + 2) {
        Some(s) => [s[0], s[1]],
        None => [0; 2],
    };
    if big_endian {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    }
}

fn err(offset: usize, reason: impl Into<String>) -> CaptureError {
    CaptureError {
        offset: offset as u64,
        reason: reason.into(),
    }
}

impl<'a> CaptureReader<'a> {
    /// Detects the format (pcap in either byte order and time precision, or pcapng).
    pub fn new(bytes: &'a [u8]) -> Result<Self, CaptureError> {
        if bytes.len() < 4 {
            return Err(err(
                0,
                format!(
                    "not a pcap or pcapng file (only {} bytes, no magic number)",
                    bytes.len()
                ),
            ));
        }
        let le = rd32(bytes, 0, false);
        let be = rd32(bytes, 0, true);
        let pcap = |big_endian: bool, magic: u32| -> Result<Self, CaptureError> {
            if bytes.len() < 24 {
                return Err(err(
                    0,
                    format!("truncated pcap file header ({} of 24 bytes)", bytes.len()),
                ));
            }
            let link = LinkType(rd32(bytes, 20, big_endian) & LINKTYPE_MASK);
            Ok(CaptureReader {
                bytes,
                pos: 24,
                done: false,
                kind: Kind::Pcap {
                    big_endian,
                    nanos: magic == PCAP_MAGIC_NANO,
                    modified: magic == PCAP_MAGIC_MODIFIED,
                    link,
                },
            })
        };
        for magic in [PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PCAP_MAGIC_MODIFIED] {
            if le == magic {
                return pcap(false, magic);
            }
            if be == magic {
                return pcap(true, magic);
            }
        }
        if le == PCAPNG_SHB {
            if bytes.len() < 12 {
                return Err(err(0, "truncated pcapng section header block"));
            }
            let big_endian = match rd32(bytes, 8, false) {
                PCAPNG_BOM => false,
                m if m.swap_bytes() == PCAPNG_BOM => true,
                m => {
                    return Err(err(
                        0,
                        format!("pcapng section header with bad byte-order magic 0x{m:08x}"),
                    ))
                }
            };
            return Ok(CaptureReader {
                bytes,
                pos: 0,
                done: false,
                kind: Kind::PcapNg {
                    big_endian,
                    ifaces: Vec::new(),
                },
            });
        }
        Err(err(
            0,
            format!("not a pcap or pcapng file (magic 0x{be:08x})"),
        ))
    }

    /// The detected container format.
    pub fn format(&self) -> CaptureFormat {
        match self.kind {
            Kind::Pcap {
                big_endian,
                nanos,
                modified,
                link,
            } => CaptureFormat::Pcap {
                big_endian,
                nanosecond: nanos,
                modified,
                link_type: link,
            },
            Kind::PcapNg { .. } => CaptureFormat::PcapNg,
        }
    }

    /// Byte offset of the next record to read (for progress reporting).
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    #[inline(always)]
    fn next_pcap(
        &mut self,
        big_endian: bool,
        nanos: bool,
        modified: bool,
        link: LinkType,
    ) -> Option<Result<Frame<'a>, CaptureError>> {
        let bytes = self.bytes;
        let pos = self.pos;
        let rem = bytes.len() - pos;
        if rem == 0 {
            self.done = true;
            return None;
        }
        let hdr_len = if modified { 24 } else { 16 };
        let Some(hdr) = bytes.get(pos..pos + 16) else {
            return self.fail(
                pos,
                format!("truncated pcap record header ({rem} of {hdr_len} bytes)"),
            );
        };
        if rem < hdr_len {
            return self.fail(
                pos,
                format!("truncated pcap record header ({rem} of {hdr_len} bytes)"),
            );
        }
        let secs = rd32(hdr, 0, big_endian);
        let frac = rd32(hdr, 4, big_endian);
        let caplen = rd32(hdr, 8, big_endian);
        let wire_len = rd32(hdr, 12, big_endian);
        if caplen > MAX_CAPLEN {
            return self.fail(
                pos,
                format!(
                    "corrupt pcap record header: captured length {caplen} exceeds {MAX_CAPLEN}"
                ),
            );
        }
        let start = pos + hdr_len;
        let end = start + caplen as usize;
        let Some(data) = bytes.get(start..end) else {
            return self.fail(
                pos,
                format!(
                    "truncated pcap record: captured length {caplen} but only {} bytes left",
                    rem - hdr_len
                ),
            );
        };
        self.pos = end;
        let sub = if nanos { frac / 1000 } else { frac };
        Some(Ok(Frame {
            ts: Timestamp(secs as i64 * 1_000_000 + sub as i64),
            link_type: link,
            data,
            wire_len,
            offset: pos as u64,
        }))
    }

    #[cold]
    fn fail(&mut self, offset: usize, reason: String) -> Option<Result<Frame<'a>, CaptureError>> {
        self.done = true;
        Some(Err(err(offset, reason)))
    }

    fn next_pcapng(&mut self) -> Option<Result<Frame<'a>, CaptureError>> {
        match self.pcapng_step() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Reads blocks up to the next frame; `Ok(None)` at a clean end of data.
    fn pcapng_step(&mut self) -> Result<Option<Frame<'a>>, CaptureError> {
        loop {
            let bytes = self.bytes;
            let pos = self.pos;
            let rem = bytes.len() - pos;
            if rem == 0 {
                return Ok(None);
            }
            if rem < 12 {
                return Err(err(
                    pos,
                    format!("truncated pcapng block header ({rem} bytes left)"),
                ));
            }
            let Kind::PcapNg { big_endian, ifaces } = &mut self.kind else {
                return Ok(None);
            };
            let btype = rd32(bytes, pos, *big_endian);
            if btype == PCAPNG_SHB {
                // A new section: its own byte order and interface table.
                *big_endian = match rd32(bytes, pos + 8, false) {
                    PCAPNG_BOM => false,
                    m if m.swap_bytes() == PCAPNG_BOM => true,
                    m => {
                        return Err(err(
                            pos,
                            format!("pcapng section header with bad byte-order magic 0x{m:08x}"),
                        ))
                    }
                };
                ifaces.clear();
            }
            let be = *big_endian;
            let total = rd32(bytes, pos + 4, be) as usize;
            if total < 12 || total & 3 != 0 {
                return Err(err(
                    pos,
                    format!("corrupt pcapng block: total length {total} (type 0x{btype:08x})"),
                ));
            }
            if total > rem {
                return Err(err(
                    pos,
                    format!(
                        "truncated pcapng block: length {total} but only {rem} bytes left (type 0x{btype:08x})"
                    ),
                ));
            }
            let trailer = rd32(bytes, pos + total - 4, be) as usize;
            if trailer != total {
                return Err(err(
                    pos,
                    format!(
                        "corrupt pcapng block: leading length {total} != trailing length {trailer}"
                    ),
                ));
            }
            let body = &bytes[pos + 8..pos + total - 4];
            self.pos = pos + total;
            match btype {
                PCAPNG_EPB | PCAPNG_PB => {
                    if body.len() < 20 {
                        return Err(err(
                            pos,
                            format!("pcapng packet block too short ({total} bytes)"),
                        ));
                    }
                    let (if_id, ts_hi, ts_lo, caplen, wire_len) = if btype == PCAPNG_EPB {
                        (
                            rd32(body, 0, be) as usize,
                            rd32(body, 4, be),
                            rd32(body, 8, be),
                            rd32(body, 12, be),
                            rd32(body, 16, be),
                        )
                    } else {
                        (
                            rd16(body, 0, be) as usize,
                            rd32(body, 4, be),
                            rd32(body, 8, be),
                            rd32(body, 12, be),
                            rd32(body, 16, be),
                        )
                    };
                    let Some(iface) = ifaces.get(if_id).copied() else {
                        return Err(err(
                            pos,
                            format!(
                                "pcapng packet block names interface {if_id} but only {} described",
                                ifaces.len()
                            ),
                        ));
                    };
                    if caplen > MAX_CAPLEN {
                        return Err(err(
                            pos,
                            format!("corrupt pcapng packet block: captured length {caplen} exceeds {MAX_CAPLEN}"),
                        ));
                    }
                    let Some(data) = body.get(20..20 + caplen as usize) else {
                        return Err(err(
                            pos,
                            format!("corrupt pcapng packet block: captured length {caplen} exceeds block length {total}"),
                        ));
                    };
                    let units = ((ts_hi as u64) << 32) | ts_lo as u64;
                    let us = iface.res.to_micros(units);
                    let ts = us.saturating_add(iface.offset_secs.saturating_mul(1_000_000));
                    return Ok(Some(Frame {
                        ts: Timestamp(ts),
                        link_type: iface.link,
                        data,
                        wire_len,
                        offset: pos as u64,
                    }));
                }
                PCAPNG_SPB => {
                    if body.len() < 4 {
                        return Err(err(pos, "pcapng simple packet block too short".to_string()));
                    }
                    let Some(iface) = ifaces.first().copied() else {
                        return Err(err(
                            pos,
                            "pcapng simple packet block before any interface description"
                                .to_string(),
                        ));
                    };
                    let wire_len = rd32(body, 0, be);
                    let mut caplen = (wire_len as usize).min(body.len() - 4);
                    if iface.snaplen > 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    if caplen > MAX_CAPLEN as usize {
                        return Err(err(
                            pos,
                            format!("corrupt pcapng simple packet block: captured length {caplen} exceeds {MAX_CAPLEN}"),
                        ));
                    }
                    // A simple packet block carries no timestamp.
                    return Ok(Some(Frame {
                        ts: Timestamp(iface.offset_secs.saturating_mul(1_000_000)),
                        link_type: iface.link,
                        data: &body[4..4 + caplen],
                        wire_len,
                        offset: pos as u64,
                    }));
                }
                PCAPNG_IDB => {
                    if body.len() < 8 {
                        return Err(err(
                            pos,
                            "pcapng interface description block too short".to_string(),
                        ));
                    }
                    let link = LinkType(rd16(body, 0, be) as u32);
                    let snaplen = rd32(body, 4, be);
                    let mut iface = Iface {
                        link,
                        snaplen,
                        res: Resolution::Micros,
                        offset_secs: 0,
                    };
                    // Options: code u16, length u16, value padded to 4 bytes.
                    let mut o = 8;
                    while o + 4 <= body.len() {
                        let code = rd16(body, o, be);
                        let len = rd16(body, o + 2, be) as usize;
                        let val = &body[o + 4..(o + 4 + len).min(body.len())];
                        match code {
                            0 => break,
                            9 if len == 1 && !val.is_empty() => {
                                match Resolution::from_tsresol(val[0]) {
                                    Some(r) => iface.res = r,
                                    None => {
                                        return Err(err(
                                            pos,
                                            format!(
                                                "pcapng interface with unsupported if_tsresol {}",
                                                val[0]
                                            ),
                                        ))
                                    }
                                }
                            }
                            14 if len == 8 && val.len() == 8 => {
                                let hi = rd32(val, 0, be) as u64;
                                let lo = rd32(val, 4, be) as u64;
                                let v = if be { (hi << 32) | lo } else { (lo << 32) | hi };
                                iface.offset_secs = v as i64;
                            }
                            _ => {}
                        }
                        o += 4 + len.div_ceil(4) * 4;
                    }
                    ifaces.push(iface);
                }
                _ => {} // SHB (handled above), statistics, name resolution, custom, ...: skipped
            }
        }
    }
}

impl<'a> Iterator for CaptureReader<'a> {
    type Item = Result<Frame<'a>, CaptureError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.kind {
            Kind::Pcap {
                big_endian,
                nanos,
                modified,
                link,
            } => self.next_pcap(big_endian, nanos, modified, link),
            Kind::PcapNg { .. } => self.next_pcapng(),
        }
    }
}

impl std::iter::FusedIterator for CaptureReader<'_> {}
