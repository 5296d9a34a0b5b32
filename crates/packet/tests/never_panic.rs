//! Property tests: decode and the reader never panic on arbitrary or corrupted input, and a
//! valid capture of N records yields exactly N frames.

mod common;

use common::{pcap_eth, syn_frame, Ng};
use greenwatch_model::Timestamp;
use greenwatch_packet::{decode, CaptureReader, Frame, LinkType};
use proptest::prelude::*;

const LINKS: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

fn drain(bytes: &[u8]) -> (usize, usize) {
    let (mut ok, mut errs) = (0, 0);
    if let Ok(r) = CaptureReader::new(bytes) {
        for item in r {
            match item {
                Ok(f) => {
                    assert!(f.data.len() <= bytes.len());
                    assert!((f.offset as usize) < bytes.len());
                    let _ = decode(&f);
                    ok += 1;
                }
                Err(e) => {
                    assert!((e.offset as usize) <= bytes.len());
                    errs += 1;
                }
            }
        }
    }
    assert!(errs <= 1, "iteration must stop after the first error");
    (ok, errs)
}

/// Realistic-ish frames: a valid SYN, then mutated at a few positions and cut somewhere.
fn mutated_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        0u32..1000,
        prop::collection::vec((0usize..120, any::<u8>()), 0..6),
        0usize..130,
        prop::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(i, muts, cut, tail)| {
            let mut f = syn_frame(i);
            f.extend_from_slice(&tail);
            for (at, v) in muts {
                if at < f.len() {
                    f[at] = v;
                }
            }
            f.truncate(cut.max(1));
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        link in prop::sample::select(LINKS.to_vec()),
        data in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let f = Frame { ts: Timestamp(0), link_type: LinkType(link), data: &data, wire_len: 0, offset: 0 };
        let _ = decode(&f);
    }

    #[test]
    fn decode_never_panics_on_mutated_frames(
        link in prop::sample::select(LINKS.to_vec()),
        data in mutated_frame(),
    ) {
        // for non-Ethernet links, feed the IP part (or the frame with its link header)
        let body = if link == 1 || data.len() <= 14 { &data[..] } else { &data[14..] };
        let f = Frame { ts: Timestamp(0), link_type: LinkType(link), data: body, wire_len: 0, offset: 0 };
        let _ = decode(&f);
    }

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(
        magic in prop::sample::select(vec![
            0xa1b2_c3d4u32.to_le_bytes(), 0xa1b2_c3d4u32.to_be_bytes(),
            0xa1b2_3c4du32.to_le_bytes(), 0xa1b2_cd34u32.to_be_bytes(),
            0x0a0d_0d0au32.to_le_bytes(),
        ]),
        rest in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut b = magic.to_vec();
        b.extend_from_slice(&rest);
        drain(&b);
        drain(&rest);
    }

    #[test]
    fn reader_never_panics_on_corrupted_valid_captures(
        n in 0usize..20,
        ng in any::<bool>(),
        be in any::<bool>(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let frames: Vec<Vec<u8>> = (0..n as u32).map(syn_frame).collect();
        let mut bytes = if ng {
            let mut w = Ng::new(be);
            w.idb(1, 0, Some(9));
            for f in &frames { w.epb(0, 1, f, f.len() as u32); w.spb(f); }
            w.out
        } else {
            pcap_eth(&frames)
        };
        for (at, v) in muts {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        drain(&bytes);
    }

    #[test]
    fn valid_capture_of_n_records_yields_n_frames(
        lens in prop::collection::vec(0usize..300, 0..40),
        ng in any::<bool>(),
        be in any::<bool>(),
    ) {
        let frames: Vec<Vec<u8>> = lens.iter().map(|&l| vec![0x5a; l]).collect();
        let bytes = if ng {
            let mut w = Ng::new(be);
            w.idb(1, 0, None);
            for f in &frames { w.epb(0, 0, f, f.len() as u32); }
            w.out
        } else {
            pcap_eth(&frames)
        };
        let got: Vec<_> = CaptureReader::new(&bytes).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(got.len(), frames.len());
        for (g, f) in got.iter().zip(&frames) {
            prop_assert_eq!(g.data, &f[..]);
        }
        // cutting any number of bytes off the end gives one error and no extra frame
        if !bytes.is_empty() && !frames.is_empty() {
            let (ok, errs) = drain(&bytes[..bytes.len() - 1]);
            prop_assert_eq!((ok + 1, errs), (frames.len(), 1));
        }
    }
}
