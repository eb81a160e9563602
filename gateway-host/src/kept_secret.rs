//! Secrets the gateway needs from its configuration, or generates once and keeps in a file beside the store,
//! readable by the owner only: the management API's bearer token and the store's encryption key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// One secret kept beside the store.
pub struct KeptSecret {
    /// The configuration key that sets it (`management.token`).
    pub setting: &'static str,
    /// The file's name in the store's folder.
    pub file: &'static str,
    /// Makes a new value.
    pub generate: fn() -> String,
}

/// The management API's bearer token.
pub const MANAGEMENT_TOKEN: KeptSecret =
    KeptSecret { setting: "management.token", file: "management.token", generate: new_token };

/// The key that encrypts the store's secret fields: base64 of 32 bytes.
pub const STORE_KEY: KeptSecret =
    KeptSecret { setting: "store.encryption_key", file: "store.key", generate: new_store_key };

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn new_store_key() -> String {
    STANDARD.encode(secrets::Sealer::generate_key())
}

impl KeptSecret {
    /// The configured value; else the one kept beside the store at `store_path`; else a new one, written there for
    /// the owner only.
    pub fn resolve(&self, configured: &str, store_path: &Path) -> std::io::Result<String> {
        if !configured.is_empty() {
            return Ok(configured.to_string());
        }
        let file = self.path(store_path);
        if let Ok(kept) = std::fs::read_to_string(&file) {
            if !kept.trim().is_empty() {
                tracing::info!(file = %file.display(), setting = self.setting, "read from file");
                return Ok(kept.trim().to_string());
            }
        }
        let value = (self.generate)();
        if let Some(folder) = file.parent() {
            std::fs::create_dir_all(folder)?;
        }
        write_private(&file, &value)?;
        tracing::info!(file = %file.display(), setting = self.setting, "generated and written to file");
        Ok(value)
    }

    /// Where the value is kept for a store at `store_path`.
    pub fn path(&self, store_path: &Path) -> PathBuf {
        store_path.parent().unwrap_or(Path::new(".")).join(self.file)
    }
}

fn write_private(file: &Path, value: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?.write_all(value.as_bytes())
}
