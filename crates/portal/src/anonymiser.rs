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
        let secret = greenwatch_auth::new_secret().map_err(|e| internal(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, secret.as_bytes())
                    .map_err(|e| internal(e.to_string()))?;
            }
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
