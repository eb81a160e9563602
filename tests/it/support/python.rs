//! The Python tools the tests use (schemathesis, PyJWT), as `scripts/install-test-python.sh` installs them
//! (`make test` does) in a virtual environment under the build folder.

use std::path::PathBuf;
use std::process::Command;

/// The virtual environment's program `name` (`st`, `python`).
pub fn tool(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("test-tools/venv/bin").join(name);
    assert!(path.exists(), "{} is not installed: run scripts/install-test-python.sh", path.display());
    path
}

/// Runs schemathesis with `args` off the async threads; asserts that it found nothing and returns what it printed.
pub async fn schemathesis(args: Vec<String>) -> String {
    let st = tool("st");
    let run = tokio::task::spawn_blocking(move || Command::new(st).args(args).output().expect("run schemathesis"))
        .await
        .expect("schemathesis ran");
    let said = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "schemathesis found problems:\n{said}\n{}", String::from_utf8_lossy(&run.stderr));
    said
}
