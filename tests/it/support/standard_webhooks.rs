//! Standard Webhooks signatures checked by the `standardwebhooks` library from PyPI, which no one here wrote.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use super::python;
use super::receiver::Recorded;

/// What `standardwebhooks` says of each request (`ok` or why not) with `secret`.
pub fn verify(secret: &str, requests: &[Recorded], tamper: bool) -> Vec<String> {
    let recorded: Vec<Value> = requests
        .iter()
        .map(|request| {
            let headers: serde_json::Map<String, Value> = request
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), json!(value.to_str().unwrap_or_default())))
                .collect();
            let mut body = String::from_utf8_lossy(&request.body).into_owned();
            if tamper {
                body.push(' ');
            }
            json!({ "headers": headers, "body": body })
        })
        .collect();
    let file = tempfile::NamedTempFile::new().expect("requests file");
    std::fs::write(file.path(), serde_json::to_string(&recorded).unwrap()).expect("write the requests");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("it/support/verify_standard_webhooks.py");
    let output = Command::new(python::tool("python"))
        .arg(script)
        .arg(secret)
        .arg(file.path())
        .output()
        .expect("run the verifier");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}
