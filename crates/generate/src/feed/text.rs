//! Text encodings the writers need, kept allocation-free: numbers, times, CSV quoting, JSON
//! string escaping and base64.

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| d as char));
}

/// Appends `v` with `decimals` (at most 6) digits after the point, rounded half away from 0.
pub(crate) fn push_fixed(out: &mut String, v: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round() as u64;
    if v < 0.0 && scaled > 0 {
        out.push('-');
    }
    push_u64(out, scaled / scale);
    if decimals > 0 {
        out.push('.');
        let frac = scaled % scale;
        for d in (0..decimals).rev() {
            out.push((b'0' + (frac / 10u64.pow(d) % 10) as u8) as char);
        }
    }
}

/// Appends an address; IPv4 without going through `fmt`.
pub(crate) fn push_ip(out: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(a) => {
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, o as u64);
            }
        }
        std::net::IpAddr::V6(a) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{a}");
        }
    }
}

fn push_2(out: &mut String, n: u32) {
    out.push((b'0' + (n / 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// Appends `date` + `sep` + `HH:MM:SS` for `secs` seconds into the day.
pub(crate) fn push_date_time(out: &mut String, date: &str, sep: char, secs: u32) {
    out.push_str(date);
    out.push(sep);
    push_2(out, secs / 3600);
    out.push(':');
    push_2(out, secs / 60 % 60);
    out.push(':');
    push_2(out, secs % 60);
}

/// Appends a CSV field, quoted (with doubled quotes) when it holds a comma, quote or newline.
pub(crate) fn push_csv_field(out: &mut String, field: &str) {
    if field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push('"');
        for c in field.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so `i` is a char boundary.
        out.push_str(&s[plain..i]);
        if escaped.is_empty() {
            out.push_str("\\u00");
            push_2_hex(out, b);
        } else {
            out.push_str(escaped);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

fn push_2_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

/// Appends the standard base64 (with padding) of `bytes`.
pub(crate) fn push_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            push_base64(&mut s, plain.as_bytes());
            assert_eq!(s, encoded, "{plain:?}");
        }
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        let mut s = String::new();
        for f in ["plain", "a, b", "say \"hi\"", ""] {
            push_csv_field(&mut s, f);
            s.push('|');
        }
        assert_eq!(s, "plain|\"a, b\"|\"say \"\"hi\"\"\"||");
    }

    #[test]
    fn json_strings_escape_quotes_and_controls() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
        assert_eq!(
            serde_json::from_str::<String>(&s).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
    }

    #[test]
    fn numbers_and_times_are_zero_padded_where_due() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        s.push(' ');
        push_u64(&mut s, u64::MAX);
        s.push(' ');
        push_date_time(&mut s, "2026-10-05", 'T', 3 * 3600 + 4 * 60 + 5);
        for (v, d) in [
            (2.5, 4),
            (-0.00004, 4),
            (-12.34567, 2),
            (0.999, 2),
            (7.0, 0),
        ] {
            s.push(' ');
            push_fixed(&mut s, v, d);
        }
        assert_eq!(
            s,
            "0 18446744073709551615 2026-10-05T03:04:05 2.5000 0.0000 -12.35 1.00 7"
        );
        for ip in ["1.2.3.4", "255.0.10.200", "2001:db8::1"] {
            let mut s = String::new();
            push_ip(&mut s, ip.parse().unwrap());
            assert_eq!(s, ip);
        }
    }
}
