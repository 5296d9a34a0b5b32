//! The data directory: one deployment's files, laid out in one place so the command line,
//! the portal and the background work agree on where each lives.
//!
//! ```text
//! <data>/greenwatch.toml     settings every command reads (optional): `store = "postgres://…"`
//! <data>/greenwatch.sqlite   the embedded store (the default `--store`)
//! <data>/netdb/              imported IP data, one snapshot per date
//! <data>/risks.toml          the operator's risk catalogue overrides (optional)
//! <data>/allowlist.txt       the operator's early-warning allowlist (optional)
//! <data>/anonymisation.key   the deployment's Crypto-PAn key (made on first use)
//! <data>/reports/<label>/    published reports
//! <data>/uploads/<id>/       files uploaded through the portal, while ingested
//! <data>/tls/                the certificates of `serve --tls-self-signed`
//! <data>/captures/           the captures and feeds `demo` generates
//! <data>/export/             the open data `demo` exports
//! ```

use greenwatch_model::anonymise::{CryptoPan, KEY_LEN};
use greenwatch_store::StoreLocation;
use std::path::{Path, PathBuf};

/// The key's file in the data directory.
const KEY_FILE: &str = "anonymisation.key";

/// Where a deployment's files live under its data directory.
#[derive(Clone, Debug)]
pub struct DataLayout {
    root: PathBuf,
}

impl DataLayout {
    pub fn new(root: impl Into<PathBuf>) -> DataLayout {
        DataLayout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The deployment's store when `--store` names none: the embedded database here.
    pub fn default_store(&self) -> StoreLocation {
        StoreLocation::Sqlite(self.root.join("greenwatch.sqlite"))
    }

    /// The settings file every command reads.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("greenwatch.toml")
    }

    /// The store `greenwatch.toml` names (`store = "postgres://…"`), if the file exists and
    /// names one; a file that cannot be read, or a setting that is not a store location, is an
    /// error naming the file and why.
    pub fn configured_store(&self) -> Result<Option<StoreLocation>, ConfigError> {
        let path = self.config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ConfigError {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        config
            .store
            .map(|s| s.parse().map_err(|reason| ConfigError { path, reason }))
            .transpose()
    }

    pub fn netdb_dir(&self) -> PathBuf {
        self.root.join("netdb")
    }

    /// The operator's overrides of the shipped risk catalogue.
    pub fn risks_file(&self) -> PathBuf {
        self.root.join("risks.toml")
    }

    /// The operator's early-warning allowlist (the shipped one when absent).
    pub fn allowlist_file(&self) -> PathBuf {
        self.root.join("allowlist.txt")
    }

    /// The captures and feeds the demo generates.
    pub fn demo_captures_dir(&self) -> PathBuf {
        self.root.join("captures")
    }

    /// The open data the demo exports.
    pub fn demo_export_dir(&self) -> PathBuf {
        self.root.join("export")
    }

    pub fn reports_dir(&self) -> PathBuf {
        self.root.join("reports")
    }

    pub fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    pub fn tls_dir(&self) -> PathBuf {
        self.root.join("tls")
    }

    /// The deployment's Crypto-PAn, one key for every page, API answer, export and report,
    /// so an address anonymises alike everywhere (`docs/anonymisation.md`).
    pub fn anonymiser(&self) -> Result<CryptoPan, KeyError> {
        load_or_make(&self.root)
    }
}

/// `greenwatch.toml`: the settings a deployment gives every command at once.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// As `--store`.
    store: Option<String>,
}

/// `greenwatch.toml` could not be read or says something that cannot be.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}", path = path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub reason: String,
}

/// The anonymisation key could not be read or made.
#[derive(Debug, thiserror::Error)]
#[error("anonymisation key {path}: {reason}")]
pub struct KeyError {
    pub path: PathBuf,
    pub reason: String,
}

/// The deployment's Crypto-PAn, its key made on first use (32 random bytes, hex, owner-only).
fn load_or_make(data_dir: &Path) -> Result<CryptoPan, KeyError> {
    let path = data_dir.join(KEY_FILE);
    let internal = |reason: String| KeyError {
        path: path.clone(),
        reason,
    };
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

    #[test]
    fn greenwatch_toml_names_the_store_and_a_bad_one_says_where_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let layout = DataLayout::new(dir.path());
        assert_eq!(layout.configured_store().unwrap(), None);
        std::fs::write(
            layout.config_file(),
            "store = \"postgres://gw:pw@db.example:5432/greenwatch\"\n",
        )
        .unwrap();
        assert_eq!(
            layout.configured_store().unwrap(),
            Some(StoreLocation::Postgres(
                "postgres://gw:pw@db.example:5432/greenwatch".into()
            ))
        );
        std::fs::write(layout.config_file(), "store = \"mysql://db\"\n").unwrap();
        let err = layout.configured_store().unwrap_err().to_string();
        assert!(
            err.contains("greenwatch.toml") && err.contains("unknown store"),
            "{err}"
        );
        std::fs::write(layout.config_file(), "stor = \"sqlite:x\"\n").unwrap();
        let err = layout.configured_store().unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{err}");
    }

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
