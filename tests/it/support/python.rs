//! The Python tools the tests use (schemathesis, PyJWT), as `scripts/install-test-python.sh` installs them
//! (`make test` does) in a virtual environment under the build folder.

use std::path::PathBuf;

/// The virtual environment's program `name` (`st`, `python`).
pub fn tool(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("test-tools/venv/bin").join(name);
    assert!(path.exists(), "{} is not installed: run scripts/install-test-python.sh", path.display());
    path
}
