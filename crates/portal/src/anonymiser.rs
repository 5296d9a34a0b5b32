//! The deployment's anonymisation key: one Crypto-PAn key for every page, API response and
//! export, so an address anonymises alike everywhere (`docs/anonymisation.md`).

use crate::error::PortalError;
use greenwatch_model::anonymise::{CryptoPan, KEY_LEN};
use std::path::Path;

/// The key's file in the data directory.
const KEY_FILE: &str = "anonymisation.key";

/// The deployment's Crypto-PAn, its key made on first use (32 random bytes, hex, owner-only).
pub fn load_or_make(data_dir: &Path) -> Result<CryptoPan, PortalError> {
    let path = data_dir.join(KEY_FILE);
    let internal =
        |e: String| PortalError::Internal(format!("anonymisation key {}: {e}", path.display()));
    if !path.exists() {
        // Written whole under a name of its own, then linked into place: a request reading
        // the key never sees it half written, and of two requests making it at once the
        // first link wins and both use that key.
        let secret = greenwatch_auth::new_secret().map_err(|e| internal(e.to_string()))?;
        let draft = data_dir.join(format!("{KEY_FILE}.{}", &secret[..16]));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&draft).and_then(|mut file| {
            std::io::Write::write_all(&mut file, secret.as_bytes())?;
            file.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&draft, &path));
        let _ = std::fs::remove_file(&draft);
        match linked {
            Ok(()) => {}
            // Another request made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(internal(e.to_string())),
        }
    }
    let hex = std::fs::read_to_string(&path).map_err(|e| internal(e.to_string()))?;
    let hex = hex.trim();
    let mut key = [0u8; KEY_LEN];
    if hex.len() != 2 * KEY_LEN {
        return Err(internal(format!("expected {} hex digits", 2 * KEY_LEN)));
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| internal("not hex".into()))?;
    }
    Ok(CryptoPan::new(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many first requests at once all get the one key that ends up on disk, never a half
    /// written file (seen as "expected 64 hex digits" under load before).
    #[test]
    fn concurrent_first_uses_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let probe: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        let images: Vec<std::net::IpAddr> = std::thread::scope(|s| {
            let made: Vec<_> = (0..16)
                .map(|_| s.spawn(|| load_or_make(dir.path()).unwrap().anonymise(probe)))
                .collect();
            made.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let kept = load_or_make(dir.path()).unwrap().anonymise(probe);
        assert!(images.iter().all(|i| *i == kept), "{images:?}");
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 1, "drafts are removed");
    }
}
