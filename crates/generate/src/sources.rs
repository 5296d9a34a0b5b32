//! Where a darknet's sources are. A telescope does not see the address space uniformly:
//! scanners sit in hosting and broadband networks of a few countries (China and the United
//! States first, then Russia, the Netherlands, Germany, Brazil, India, Korea, Viet Nam,
//! Taiwan...), and infected IoT devices in broadband networks (Brazil, China, India, Viet Nam
//! first). Drawing uniformly over allocated space instead puts the big legacy blocks (the US
//! Department of Defense's /8s) at the top of every ranking. So sources are drawn per range
//! with a weight: the range's size, with the part above a /16 counting only by its square
//! root (one huge allocation is one organisation, not sixteen million hosts), times its
//! country's factor, chosen so that each listed country gets about its share of sources;
//! every other country gets half the average density of the pool.

use greenwatch_model::CountryCode;

/// Whom sources are drawn for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Scanners, UDP probes, DoS victims and hosts of exposed services.
    Scanners,
    /// Infected IoT devices: Mirai-fingerprinted scanners and sinkhole (botnet) feeds.
    Iot,
}

/// Share of sources per country, per mille, as darknet and honeypot reports rank them
/// (roughly; the rest of the world shares what is left).
const SCANNERS: &[(&str, f64)] = &[
    ("CN", 165.0),
    ("US", 160.0),
    ("RU", 55.0),
    ("NL", 55.0),
    ("DE", 45.0),
    ("BR", 40.0),
    ("IN", 40.0),
    ("GB", 30.0),
    ("KR", 30.0),
    ("SG", 28.0),
    ("HK", 28.0),
    ("VN", 25.0),
    ("TW", 25.0),
    ("FR", 22.0),
    ("JP", 18.0),
    ("BG", 14.0),
    ("CA", 14.0),
    ("ID", 14.0),
    ("UA", 12.0),
    ("IR", 10.0),
    ("TR", 10.0),
    ("TH", 10.0),
    ("RO", 9.0),
    ("MX", 8.0),
    ("AR", 7.0),
];

const IOT: &[(&str, f64)] = &[
    ("BR", 140.0),
    ("CN", 120.0),
    ("IN", 90.0),
    ("VN", 80.0),
    ("TW", 50.0),
    ("RU", 45.0),
    ("KR", 40.0),
    ("US", 40.0),
    ("EG", 35.0),
    ("IR", 35.0),
    ("ID", 30.0),
    ("MX", 25.0),
    ("TH", 25.0),
    ("TR", 25.0),
    ("AR", 20.0),
    ("PK", 20.0),
    ("BD", 15.0),
    ("UA", 15.0),
    ("CO", 15.0),
    ("IT", 10.0),
];

/// Density of sources in unlisted countries, relative to the pool's average.
const ELSEWHERE: f64 = 0.5;
/// No country is denser than this many times the pool's average (keeps tiny pools sane).
const MOST: f64 = 20.0;
/// Addresses of a range beyond this count by their square root.
const DAMPEN_ABOVE: f64 = 65_536.0;

fn table(profile: Profile) -> &'static [(&'static str, f64)] {
    match profile {
        Profile::Scanners => SCANNERS,
        Profile::Iot => IOT,
    }
}

/// A range's weight before its country's factor (0 for a reversed range, which the pool
/// refuses).
fn dampened(first: u32, last: u32) -> f64 {
    if first > last {
        return 0.0;
    }
    let size = (last - first) as f64 + 1.0;
    if size <= DAMPEN_ABOVE {
        size
    } else {
        DAMPEN_ABOVE * (size / DAMPEN_ABOVE).sqrt()
    }
}

/// Each range's weight for `profile`. A listed country absent from `ranges` gives its share
/// to the others.
pub(crate) fn weights(
    ranges: &[(u32, u32, CountryCode)],
    profile: Profile,
) -> Vec<(u32, u32, f64)> {
    let table = table(profile);
    let listed = |cc: CountryCode| table.iter().position(|(c, _)| c.as_bytes() == cc.0);
    let mut space = vec![0.0; table.len()];
    let mut all = 0.0;
    for &(a, b, cc) in ranges {
        let g = dampened(a, b);
        all += g;
        if let Some(i) = listed(cc) {
            space[i] += g;
        }
    }
    let factors: Vec<f64> = table
        .iter()
        .zip(&space)
        .map(|(&(_, share), &space)| {
            if space > 0.0 {
                (share / 1000.0 / (space / all)).min(MOST)
            } else {
                0.0
            }
        })
        .collect();
    ranges
        .iter()
        .map(|&(a, b, cc)| {
            let factor = listed(cc).map_or(ELSEWHERE, |i| factors[i]);
            (a, b, dampened(a, b) * factor)
        })
        .collect()
}
