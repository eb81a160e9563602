//! The management API's bearer token: configured, or generated once and kept beside the store.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The name of the generated token's file, in the store's folder.
const TOKEN_FILE: &str = "management.token";

/// The configured token; else the one kept beside the store; else a new one, written there for the owner only.
pub fn resolve(configured: &str, store_path: &Path) -> std::io::Result<String> {
    if !configured.is_empty() {
        return Ok(configured.to_string());
    }
    let file = token_file(store_path);
    if let Ok(kept) = std::fs::read_to_string(&file) {
        if !kept.trim().is_empty() {
            tracing::info!(file = %file.display(), "management token read from file");
            return Ok(kept.trim().to_string());
        }
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    write_private(&file, &token)?;
    tracing::info!(file = %file.display(), "management token generated and written to file");
    Ok(token)
}

fn token_file(store_path: &Path) -> PathBuf {
    store_path.parent().unwrap_or(Path::new(".")).join(TOKEN_FILE)
}

fn write_private(file: &Path, token: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?.write_all(token.as_bytes())
}
