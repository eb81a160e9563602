//! The demo `make run` starts: it creates its subscriptions with the token in force, whichever its source, and its
//! deliveries show in the webhook logs.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::broker::free_port;

#[test]
fn the_demo_uses_a_token_given_in_the_environment() {
    let run = tempfile::tempdir().expect("temp dir");
    let listen = format!("127.0.0.1:{}", free_port());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo/run.sh");
    let mut demo = Command::new("bash")
        .arg(&script)
        .arg("mock")
        .env("DEMO_RUN_DIR", run.path())
        .env("GATEWAY_MANAGEMENT_LISTEN", &listen)
        .env("GATEWAY_MANAGEMENT_TOKEN", "demo-token-from-the-environment")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start the demo");
    let (lines, received) = mpsc::channel();
    let stdout = demo.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while let Ok(line) = received.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
        let done =
            line.contains("Gateway management API") || line.contains("could not") || line.contains("no management");
        seen.push(line);
        if done {
            break;
        }
    }
    // The demo API logs its deliveries: the page the README points at shows them.
    let logs_url = format!("http://{listen}/management/v2/apis/demo/webhook-logs");
    let mut logged = 0;
    for _ in 0..150 {
        let answer = Command::new("curl")
            .args(["-s", "-H", "Authorization: Bearer demo-token-from-the-environment", &logs_url])
            .output()
            .expect("curl");
        let logs: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap_or_default();
        logged = logs["data"].as_array().map_or(0, Vec::len);
        if logged > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The whole process group: the script, its receiver and its gateway.
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", demo.id())]).status();
    let _ = demo.wait();
    let output = seen.join("\n");
    assert!(output.contains("demo subscription created"), "{output}");
    assert!(output.contains("token from GATEWAY_MANAGEMENT_TOKEN"), "{output}");
    assert!(!run.path().join("data/management.token").exists(), "no token file when the token is configured");
    assert!(logged > 0, "the demo's deliveries are in its webhook logs");
}
