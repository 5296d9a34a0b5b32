//! Live capture on Linux without libpcap: an `AF_PACKET` socket with a `TPACKET_V3`
//! memory-mapped receive ring, the mechanism libpcap itself uses there, written against the
//! kernel's ABI with the `libc` crate so that building the sensor links no system library.
//!
//! The kernel fills fixed-size blocks of the ring with variable-length frames and hands a
//! block to user space when it is full or `RETIRE_BLOCK_AFTER` old; [`Ring::next_block`]
//! waits for the next one, [`Block::frames`] walks it, and dropping the [`Block`] gives it
//! back. Every read of the shared memory goes through [`BlockFrames`], which parses a block
//! as a plain `&[u8]` and never trusts an offset it has not checked.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let mut ring = greenwatch_sensor::afpacket::Ring::open("eth0")?;
//! while let Some(block) = ring.next_block(std::time::Duration::from_millis(10))? {
//!     for frame in block.frames() {
//!         println!("{} bytes at {}", frame.wire_len, frame.ts.0);
//!     }
//! }
//! println!("dropped by the kernel: {}", ring.drops()?);
//! # Ok(())
//! # }
//! ```

use greenwatch_model::Timestamp;
use greenwatch_packet::{Frame, LinkType};
use std::ffi::CString;
use std::io;
use std::marker::PhantomData;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Bytes of a frame handed on: enough for every header the decoder reads (ICMP errors quote
/// an inner IP and transport header). The kernel cuts frames there already (a one-instruction
/// socket filter), so a block holds many more of them.
pub const SNAPLEN: u32 = 512;

/// One block of the ring: a multiple of the page size, far above one frame.
const BLOCK_BYTES: usize = 256 << 10;

/// Blocks in the ring: 32 MiB in all, room for bursts while a batch is being cut. Small
/// blocks and many of them, because a block that the timeout retires half empty still takes
/// a whole slot: on a quiet darknet 128 blocks hold 128 timeouts (1.3 s) of traffic.
const BLOCKS: usize = 128;

/// A block that is not full is handed over after this long, so an idle darknet's few packets
/// still arrive (milliseconds).
const RETIRE_BLOCK_AFTER_MS: u32 = 10;

/// The frame size `TPACKET_V3` wants declared (frames themselves are packed at any length).
const FRAME_BYTES: usize = 2048;

/// A live capture on one interface: the socket and its mapped receive ring, unmapped and
/// closed when dropped. Promiscuous while open.
pub struct Ring {
    /// Start of `BLOCKS * BLOCK_BYTES` bytes shared with the kernel.
    map: NonNull<u8>,
    /// Block to look at next; the kernel fills blocks in order.
    next: usize,
    link_type: LinkType,
    /// On loopback every packet passes twice, going out and coming in; like libpcap we keep
    /// the incoming copy only.
    skip_outgoing: bool,
    /// Drops counted so far (the kernel resets its counter on every read).
    drops: u64,
    fd: OwnedFd,
}

impl Ring {
    /// Opens a promiscuous capture on `interface` (needs root or `CAP_NET_RAW`).
    pub fn open(interface: &str) -> io::Result<Ring> {
        let name = CString::new(interface)
            .ok()
            .filter(|n| n.as_bytes().len() < libc::IFNAMSIZ)
            .ok_or_else(|| {
                let reason = format!("{interface:?} is not an interface name");
                io::Error::new(io::ErrorKind::InvalidInput, reason)
            })?;
        // Protocol 0: the socket receives nothing until `bind` names the interface, so no
        // packet of another interface slips into the ring meanwhile.
        // SAFETY: plain system call; no pointer is passed.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                " (live capture needs root or CAP_NET_RAW)"
            } else {
                ""
            };
            return Err(io::Error::new(
                e.kind(),
                format!("opening an AF_PACKET socket: {e}{hint}"),
            ));
        }
        // SAFETY: `fd` was just returned by socket() and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let index = interface_index(&fd, &name)?;
        let (link_type, skip_outgoing) = link_type(hardware_type(&fd, &name)?)?;
        set_option(
            &fd,
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V3 as libc::c_int),
            "selecting TPACKET_V3",
        )?;
        attach_snap_filter(&fd)?;
        let request = libc::tpacket_req3 {
            tp_block_size: BLOCK_BYTES as u32,
            tp_block_nr: BLOCKS as u32,
            tp_frame_size: FRAME_BYTES as u32,
            tp_frame_nr: (BLOCK_BYTES / FRAME_BYTES * BLOCKS) as u32,
            tp_retire_blk_tov: RETIRE_BLOCK_AFTER_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        set_option(
            &fd,
            libc::SOL_PACKET,
            libc::PACKET_RX_RING,
            &request,
            "setting up the receive ring",
        )?;
        let map = map_ring(&fd)?;
        // From here on the ring unmaps itself if a later step fails.
        let ring = Ring {
            map,
            next: 0,
            link_type,
            skip_outgoing,
            drops: 0,
            fd,
        };
        ring.bind(index)?;
        let promiscuous = libc::packet_mreq {
            mr_ifindex: index,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        set_option(
            &ring.fd,
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            &promiscuous,
            "entering promiscuous mode",
        )?;
        Ok(ring)
    }

    /// How frames of this interface begin (Ethernet, or raw IP for a tunnel).
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// The next block the kernel has filled, waiting at most `timeout` for it; `None` when
    /// none came (or a signal interrupted the wait). Dropping the block gives it back.
    pub fn next_block(&mut self, timeout: Duration) -> io::Result<Option<Block<'_>>> {
        if !self.user_owns(self.next) && !self.wait(timeout)? {
            return Ok(None);
        }
        if !self.user_owns(self.next) {
            return Ok(None);
        }
        let index = self.next;
        self.next = (self.next + 1) % BLOCKS;
        Ok(Some(Block {
            // SAFETY: `index < BLOCKS`, so the block lies within the mapping.
            start: unsafe { self.map.add(index * BLOCK_BYTES) },
            link_type: self.link_type,
            skip_outgoing: self.skip_outgoing,
            _ring: PhantomData,
        }))
    }

    /// Packets the kernel dropped since the ring was opened because the ring was full.
    pub fn drops(&mut self) -> io::Result<u64> {
        let mut stats = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `stats` and `len` are valid for writes and `len` is the size of `stats`.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut stats).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(os_error("reading the capture statistics"));
        }
        self.drops += u64::from(stats.tp_drops);
        Ok(self.drops)
    }

    /// The status word of block `index`, which the kernel and we hand each other.
    fn status(&self, index: usize) -> &AtomicU32 {
        // SAFETY: the word lies within the mapping (`index < BLOCKS`), is 4-aligned (blocks
        // are page-aligned and the word is at offset 8), and the mapping lives as long as
        // `self`. The kernel writes it concurrently, so it is only ever accessed atomically.
        unsafe { AtomicU32::from_ptr(block_status(self.map.add(index * BLOCK_BYTES))) }
    }

    fn user_owns(&self, index: usize) -> bool {
        self.status(index).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// Waits for the kernel to hand over a block; false on timeout or a signal.
    fn wait(&self, timeout: Duration) -> io::Result<bool> {
        let mut poll = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `poll` is one valid pollfd and we pass a count of 1.
        let rc = unsafe { libc::poll(&mut poll, 1, millis) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => Ok(false),
                _ => Err(io::Error::new(
                    e.kind(),
                    format!("waiting for packets: {e}"),
                )),
            };
        }
        if poll.revents & libc::POLLERR != 0 {
            self.pending_error()?;
        }
        Ok(rc > 0)
    }

    /// The error the kernel reported on the socket (the interface went down or away).
    fn pending_error(&self) -> io::Result<()> {
        let mut error: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `error` and `len` are valid for writes and `len` is the size of `error`.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut error).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(os_error("reading the socket's error"));
        }
        match error {
            0 => Ok(()),
            libc::ENETDOWN => Err(io::Error::new(
                io::ErrorKind::NetworkDown,
                "the interface went down",
            )),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    fn bind(&self, index: libc::c_int) -> io::Result<()> {
        // SAFETY: sockaddr_ll is plain data; all zeroes is a valid value.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        address.sll_ifindex = index;
        // SAFETY: `address` is a valid sockaddr_ll and we pass its size.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&raw const address).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(os_error("binding to the interface"));
        }
        Ok(())
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `map` is the mapping made in `map_ring` of exactly this length; no `Block`
        // outlives the ring (it borrows it), so nothing points into it any more. The socket
        // is closed after this, when `fd` drops.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), BLOCKS * BLOCK_BYTES);
        }
    }
}

/// A block of frames the kernel handed over; it is given back when dropped.
pub struct Block<'r> {
    start: NonNull<u8>,
    link_type: LinkType,
    skip_outgoing: bool,
    /// A block borrows its ring mutably: one block at a time, and never past the mapping.
    _ring: PhantomData<&'r mut Ring>,
}

impl Block<'_> {
    /// The frames of the block, in arrival order.
    pub fn frames(&self) -> BlockFrames<'_> {
        // SAFETY: the block lies within the mapping, which outlives `self`; the kernel owns
        // it again only after `drop` stores TP_STATUS_KERNEL, which cannot happen while this
        // borrow of `self` lives, so nobody writes the bytes while the slice exists.
        let bytes = unsafe { std::slice::from_raw_parts(self.start.as_ptr(), BLOCK_BYTES) };
        BlockFrames::new(bytes, self.link_type, self.skip_outgoing)
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        // SAFETY: the status word lies in the block (see `Ring::status`); no slice of the
        // block exists any more (`frames` borrows `self`). Release: our reads of the block
        // happen before the kernel may write it again.
        unsafe { AtomicU32::from_ptr(block_status(self.start)) }
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

/// The frames of one `TPACKET_V3` block given as bytes: what the kernel writes, checked
/// against the block's bounds (a bad offset ends the walk, never a panic).
pub struct BlockFrames<'b> {
    block: &'b [u8],
    link_type: LinkType,
    skip_outgoing: bool,
    /// Where the next frame's `tpacket3_hdr` starts.
    offset: usize,
    remaining: u32,
}

/// Layout of the kernel's structures (`linux/if_packet.h`), from `libc`'s definitions.
const BLOCK_HEADER: usize = offset_of!(libc::tpacket_block_desc, hdr);
const NUM_PKTS: usize = BLOCK_HEADER + offset_of!(libc::tpacket_hdr_v1, num_pkts);
const FIRST_PKT: usize = BLOCK_HEADER + offset_of!(libc::tpacket_hdr_v1, offset_to_first_pkt);
const STATUS: usize = BLOCK_HEADER + offset_of!(libc::tpacket_hdr_v1, block_status);
const FRAME_HEADER: usize = size_of::<libc::tpacket3_hdr>();
/// The kernel puts a `sockaddr_ll` after each frame header, at the next 16-byte boundary.
const FRAME_ADDRESS: usize = FRAME_HEADER.next_multiple_of(libc::TPACKET_ALIGNMENT);
const PKTTYPE: usize = FRAME_ADDRESS + offset_of!(libc::sockaddr_ll, sll_pkttype);

impl<'b> BlockFrames<'b> {
    /// Walks `block`, the bytes of one block, giving frames `link_type`; on loopback
    /// `skip_outgoing` keeps only the incoming copy of each packet.
    pub fn new(block: &'b [u8], link_type: LinkType, skip_outgoing: bool) -> BlockFrames<'b> {
        BlockFrames {
            block,
            link_type,
            skip_outgoing,
            offset: read_u32(block, FIRST_PKT).unwrap_or(0) as usize,
            remaining: read_u32(block, NUM_PKTS).unwrap_or(0),
        }
    }

    /// The frame whose header starts at `offset`, whether it went out of this host, and
    /// where the next frame starts (`None` after the last).
    fn frame_at(&self, offset: usize) -> Option<(Frame<'b>, bool, Option<usize>)> {
        let frame = self.block.get(offset..)?;
        let field = |at: usize| read_u32(frame, at);
        let next = field(offset_of!(libc::tpacket3_hdr, tp_next_offset))?;
        let sec = field(offset_of!(libc::tpacket3_hdr, tp_sec))?;
        let nsec = field(offset_of!(libc::tpacket3_hdr, tp_nsec))?;
        let snaplen = field(offset_of!(libc::tpacket3_hdr, tp_snaplen))?;
        let wire_len = field(offset_of!(libc::tpacket3_hdr, tp_len))?;
        let mac = usize::from(read_u16(frame, offset_of!(libc::tpacket3_hdr, tp_mac))?);
        let pkttype = *frame.get(PKTTYPE)?;
        let data = frame.get(mac..mac + snaplen.min(SNAPLEN) as usize)?;
        let frame = Frame {
            ts: Timestamp(i64::from(sec) * 1_000_000 + i64::from(nsec) / 1_000),
            link_type: self.link_type,
            data,
            wire_len,
            offset: 0,
        };
        let next = (next > 0)
            .then(|| offset.checked_add(next as usize))
            .flatten();
        Some((frame, pkttype == libc::PACKET_OUTGOING, next))
    }
}

impl<'b> Iterator for BlockFrames<'b> {
    type Item = Frame<'b>;

    fn next(&mut self) -> Option<Frame<'b>> {
        while self.remaining > 0 {
            let Some((frame, outgoing, next)) = self.frame_at(self.offset) else {
                self.remaining = 0;
                return None;
            };
            match next {
                Some(next) => {
                    self.offset = next;
                    self.remaining -= 1;
                }
                None => self.remaining = 0,
            }
            if !(outgoing && self.skip_outgoing) {
                return Some(frame);
            }
        }
        None
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes(b.try_into().ok()?))
}

/// The status word of the block starting at `block` (always the start of a block of a ring's
/// mapping: `Ring::status` and `Block` are the only callers).
fn block_status(block: NonNull<u8>) -> *mut u32 {
    // SAFETY: `block` starts a block of BLOCK_BYTES within the mapping, and STATUS lies in the
    // block's header, so the result stays within the same allocation.
    unsafe { block.as_ptr().add(STATUS).cast() }
}

/// The link type of an interface's hardware type (`ARPHRD_*`), and whether outgoing copies
/// are to be skipped (loopback).
fn link_type(arphrd: u16) -> io::Result<(LinkType, bool)> {
    match arphrd {
        libc::ARPHRD_ETHER => Ok((LinkType::ETHERNET, false)),
        // Linux frames loopback packets with an all-zero Ethernet header.
        libc::ARPHRD_LOOPBACK => Ok((LinkType::ETHERNET, true)),
        // Tunnels (tun, WireGuard): packets start at the IP header.
        libc::ARPHRD_NONE => Ok((LinkType::RAW, false)),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "the interface's hardware type is ARPHRD {other}; live capture takes \
                 Ethernet (ARPHRD_ETHER), loopback and tunnels without a link header \
                 (ARPHRD_NONE)"
            ),
        )),
    }
}

/// An interface request naming `name` (shorter than IFNAMSIZ, checked by the caller).
fn interface_request(name: &CString) -> libc::ifreq {
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.as_bytes()) {
        *slot = *byte as libc::c_char;
    }
    request
}

fn interface_ioctl(fd: &OwnedFd, name: &CString, what: libc::c_ulong) -> io::Result<libc::ifreq> {
    let mut request = interface_request(name);
    // SAFETY: both requests used here read `ifr_name` (NUL-terminated: zeroed, name shorter
    // than IFNAMSIZ) and write within the ifreq we pass.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), what as _, &mut request) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        let name = name.to_string_lossy();
        return Err(io::Error::new(e.kind(), format!("interface {name}: {e}")));
    }
    Ok(request)
}

fn interface_index(fd: &OwnedFd, name: &CString) -> io::Result<libc::c_int> {
    let request = interface_ioctl(fd, name, libc::SIOCGIFINDEX)?;
    // SAFETY: SIOCGIFINDEX filled the `ifru_ifindex` member of the union.
    Ok(unsafe { request.ifr_ifru.ifru_ifindex })
}

fn hardware_type(fd: &OwnedFd, name: &CString) -> io::Result<u16> {
    let request = interface_ioctl(fd, name, libc::SIOCGIFHWADDR)?;
    // SAFETY: SIOCGIFHWADDR filled the `ifru_hwaddr` member of the union.
    Ok(unsafe { request.ifr_ifru.ifru_hwaddr.sa_family })
}

/// A socket filter of one instruction, "accept the first SNAPLEN bytes": the kernel copies
/// no more than that into the ring.
fn attach_snap_filter(fd: &OwnedFd) -> io::Result<()> {
    let mut accept = [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: SNAPLEN,
    }];
    let program = libc::sock_fprog {
        len: 1,
        filter: accept.as_mut_ptr(),
    };
    set_option(
        fd,
        libc::SOL_SOCKET,
        libc::SO_ATTACH_FILTER,
        &program,
        "attaching the snap length filter",
    )
}

fn map_ring(fd: &OwnedFd) -> io::Result<NonNull<u8>> {
    // SAFETY: a fresh shared mapping of the socket's ring, of the size requested with
    // PACKET_RX_RING; nothing else is mapped at an address we choose.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            BLOCKS * BLOCK_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            0,
        )
    };
    if map == libc::MAP_FAILED {
        return Err(os_error("mapping the receive ring"));
    }
    NonNull::new(map.cast()).ok_or_else(|| io::Error::other("mapping the receive ring: null"))
}

fn set_option<T>(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    what: &str,
) -> io::Result<()> {
    // SAFETY: `value` points to a live T and we pass its size; the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(os_error(what));
    }
    Ok(())
}

/// The last system call's error, saying which step failed.
fn os_error(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block as the kernel writes it, holding `frames` (packet type, wire length, bytes
    /// captured) with the timestamps 1.000001 s, 2.000002 s...
    fn block(frames: &[(u8, u32, Vec<u8>)]) -> Vec<u8> {
        let mut block = vec![0u8; 8192];
        let put = |b: &mut Vec<u8>, at: usize, v: u32| {
            b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        };
        let first = size_of::<libc::tpacket_block_desc>().next_multiple_of(8);
        put(&mut block, STATUS, libc::TP_STATUS_USER);
        put(&mut block, NUM_PKTS, frames.len() as u32);
        put(&mut block, FIRST_PKT, first as u32);
        let mut at = first;
        for (i, (pkttype, wire_len, bytes)) in frames.iter().enumerate() {
            let mac = (FRAME_ADDRESS + size_of::<libc::sockaddr_ll>() + 2) as u16;
            let len = (usize::from(mac) + bytes.len()).next_multiple_of(16);
            let next = if i + 1 == frames.len() { 0 } else { len as u32 };
            let n = i as u32 + 1;
            put(&mut block, at, next);
            put(&mut block, at + offset_of!(libc::tpacket3_hdr, tp_sec), n);
            put(
                &mut block,
                at + offset_of!(libc::tpacket3_hdr, tp_nsec),
                n * 1000,
            );
            put(
                &mut block,
                at + offset_of!(libc::tpacket3_hdr, tp_snaplen),
                bytes.len() as u32,
            );
            put(
                &mut block,
                at + offset_of!(libc::tpacket3_hdr, tp_len),
                *wire_len,
            );
            let mac_at = at + offset_of!(libc::tpacket3_hdr, tp_mac);
            block[mac_at..mac_at + 2].copy_from_slice(&mac.to_ne_bytes());
            block[at + PKTTYPE] = *pkttype;
            let data = at + usize::from(mac);
            block[data..data + bytes.len()].copy_from_slice(bytes);
            at += len;
        }
        block
    }

    fn bytes(len: usize, fill: u8) -> Vec<u8> {
        vec![fill; len]
    }

    #[test]
    fn block_walker_yields_every_frame_cut_to_the_snap_length() {
        let block = block(&[
            (libc::PACKET_HOST, 60, bytes(60, 1)),
            (libc::PACKET_HOST, 1514, bytes(600, 2)),
            (libc::PACKET_BROADCAST, 42, bytes(42, 3)),
        ]);
        let frames: Vec<_> = BlockFrames::new(&block, LinkType::ETHERNET, false).collect();
        assert_eq!(frames.len(), 3);
        let seen: Vec<_> = frames
            .iter()
            .map(|f| (f.ts.0, f.wire_len, f.data.len(), f.data[0]))
            .collect();
        assert_eq!(
            seen,
            [
                (1_000_001, 60, 60, 1),
                (2_000_002, 1514, SNAPLEN as usize, 2),
                (3_000_003, 42, 42, 3)
            ]
        );
        assert!(frames.iter().all(|f| f.link_type == LinkType::ETHERNET));
    }

    #[test]
    fn outgoing_copies_are_skipped_only_when_asked() {
        let block = block(&[
            (libc::PACKET_OUTGOING, 60, bytes(60, 1)),
            (libc::PACKET_HOST, 60, bytes(60, 2)),
        ]);
        let kept = |skip| BlockFrames::new(&block, LinkType::ETHERNET, skip).count();
        assert_eq!((kept(true), kept(false)), (1, 2));
    }

    #[test]
    fn a_block_with_offsets_past_its_end_ends_the_walk() {
        let mut block = block(&[
            (libc::PACKET_HOST, 60, bytes(60, 1)),
            (libc::PACKET_HOST, 60, bytes(60, 2)),
        ]);
        let first = read_u32(&block, FIRST_PKT).unwrap() as usize;
        block[first..first + 4].copy_from_slice(&1_000_000u32.to_ne_bytes());
        assert_eq!(
            BlockFrames::new(&block, LinkType::ETHERNET, false).count(),
            1
        );
        // Claims more frames than it holds, and a header cut short.
        block[NUM_PKTS..NUM_PKTS + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(
            BlockFrames::new(&block[..first + 20], LinkType::ETHERNET, false).count(),
            0
        );
        assert_eq!(BlockFrames::new(&[], LinkType::ETHERNET, false).count(), 0);
    }

    #[test]
    fn hardware_types_map_to_link_types_or_a_named_refusal() {
        assert_eq!(
            link_type(libc::ARPHRD_ETHER).unwrap(),
            (LinkType::ETHERNET, false)
        );
        assert_eq!(
            link_type(libc::ARPHRD_LOOPBACK).unwrap(),
            (LinkType::ETHERNET, true)
        );
        assert_eq!(
            link_type(libc::ARPHRD_NONE).unwrap(),
            (LinkType::RAW, false)
        );
        let refused = link_type(libc::ARPHRD_IEEE80211_RADIOTAP).unwrap_err();
        assert!(refused.to_string().contains("ARPHRD 803"), "{refused}");
    }

    #[test]
    fn an_unknown_interface_is_named_in_the_error() {
        match Ring::open("gw-no-such0") {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                eprintln!("skipped: {e}");
            }
            Err(e) => assert!(e.to_string().contains("gw-no-such0"), "{e}"),
            Ok(_) => panic!("opened an interface that does not exist"),
        }
    }

    /// Sends UDP datagrams to 127.0.0.1 and finds them on `lo`, each once, big ones cut.
    #[test]
    fn datagrams_sent_to_loopback_are_captured_once_each() {
        let mut ring = match Ring::open("lo") {
            Ok(ring) => ring,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                eprintln!("skipped: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ring.link_type(), LinkType::ETHERNET);
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Ours: UDP over IPv4 between these two ports.
        let ports = [sender.local_addr(), receiver.local_addr()]
            .map(|a| a.unwrap().port().to_be_bytes())
            .concat();
        let sizes = [10usize, 100, 1400, 20];
        for size in sizes {
            sender
                .send_to(&vec![7u8; size], receiver.local_addr().unwrap())
                .unwrap();
        }
        // Until all have come, then one more wait in case any came twice.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        let mut after_all = 0;
        while after_all < 2 && std::time::Instant::now() < deadline {
            let wait = Duration::from_millis(50);
            if let Some(block) = ring.next_block(wait).unwrap() {
                // Ethernet (14 bytes) + IPv4 (20, no options on loopback), then the ports.
                let ours = |f: &Frame<'_>| {
                    f.data.len() >= 38
                        && f.data[12..14] == [8, 0]
                        && f.data[23] == 17
                        && f.data[34..38] == ports[..]
                };
                let frames = block.frames().filter(ours);
                seen.extend(frames.map(|f| (f.wire_len as usize, f.data.len())));
            }
            if seen.len() >= sizes.len() {
                after_all += 1;
            }
        }
        let expected: Vec<_> = sizes
            .iter()
            .map(|s| (14 + 20 + 8 + s, (14 + 20 + 8 + s).min(SNAPLEN as usize)))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(ring.drops().unwrap(), 0);
    }
}
