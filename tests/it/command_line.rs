//! The command line: `--help`, `--version`, `check` of a definitions folder offline, and JSON logs.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::gateway::{gateway_binary, GatewayHome};
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages, subscription};

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output =
        Command::new(gateway_binary()).args(args).envs(env.iter().copied()).output().expect("run gateway-host");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

#[test]
fn help_and_version_say_what_the_gateway_is() {
    let (code, help) = run(&["--help"], &[]);
    assert_eq!(code, Some(0), "{help}");
    assert!(help.contains("check") && help.contains("--config") && help.contains("--version"), "{help}");
    let (code, version) = run(&["--version"], &[]);
    assert_eq!(code, Some(0), "{version}");
    assert!(version.starts_with("gateway-host 0.1.0 (platform 4.8.0, plugin interface 0.7."), "{version}");
    let (code, wrong) = run(&["--nonsense"], &[]);
    assert_eq!(code, Some(2), "{wrong}");
}

#[test]
fn check_names_every_error_of_a_definitions_folder_with_its_file_and_path() {
    let home = GatewayHome::new();
    let folder = tempfile::tempdir().unwrap();
    let good = mock_api("good", "auto", json!({}), mock_messages(1, 10, "m"));
    std::fs::write(folder.path().join("good.json"), good.to_string()).unwrap();
    let plugins = home.plugins_dir();
    let env = [("GATEWAY_PLUGINS_DIR", plugins.to_str().unwrap())];
    let dir = folder.path().to_str().unwrap();
    let (code, said) = run(&["check", "--definitions", dir], &env);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("checked 1 definition file(s)") && said.contains("0 problem(s)"), "{said}");

    let mut bad = mock_api("bad", "sometimes", json!({ "http": { "readTimeout": -1 } }), mock_messages(1, 10, "m"));
    bad["listeners"][0]["entrypoints"][0]["qos"] = json!("sometimes");
    std::fs::write(folder.path().join("bad.json"), bad.to_string()).unwrap();
    std::fs::write(folder.path().join("broken.json"), "{ not json").unwrap();
    let (code, said) = run(&["check", "--definitions", dir], &env);
    assert_eq!(code, Some(1), "{said}");
    let bad_file = folder.path().join("bad.json").display().to_string();
    assert!(said.contains(&format!("{bad_file}: listeners[0].entrypoints[0].qos")), "{said}");
    assert!(said.contains("broken.json: not JSON"), "{said}");
    assert!(said.contains("checked 3 definition file(s)"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_the_plugin_id() {
    let home = GatewayHome::new();
    let mut gateway = home.start_with_env(&[("GATEWAY_LOG_FORMAT", "json")]);
    gateway.api().deploy(&mock_api("logged", "auto", json!({}), mock_messages(1, 10, "m"))).await;
    let receiver = Receiver::answering(200).await;
    gateway.api().subscribe("logged", &subscription(&receiver.url("/hook"))).await;
    assert!(receiver.wait_for(1, Duration::from_secs(20)).await);
    assert_eq!(gateway.terminate(), Some(0));
    let output = gateway.output();
    let events: Vec<Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}")))
        .collect();
    assert!(events.len() > 3, "{output}");
    for event in &events {
        for field in ["timestamp", "level", "target"] {
            assert!(event[field].is_string(), "{field} in {event}");
        }
        assert!(event["fields"]["message"].is_string(), "{event}");
    }
    assert!(
        events.iter().any(|event| event["target"] == "plugin" && event["fields"]["plugin"].is_string()),
        "{output}"
    );
}
