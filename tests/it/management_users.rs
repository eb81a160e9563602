//! Management users: HTTP Basic authentication (as the reference product's clients send it) for a configured user
//! (an Argon2 hash `gateway-host hash-password` printed) and for the environment's user; a wrong password answers 401,
//! is counted, slows the next attempts from the address (boundedly), and no password ever reaches the log. Paths
//! answer with a trailing slash as without it.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hyper::Method;

use crate::support::gateway::{gateway_binary, GatewayHome};

const PASSWORD: &str = "correct-horse-battery-staple";
const VAULT_PASSWORD: &str = "from-the-vault-4711";
const WRONG: &str = "wrong-password-0815";

/// What `gateway-host hash-password` prints for `password` given on its input.
fn hash(password: &str) -> String {
    let mut child = Command::new(gateway_binary())
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gateway-host hash-password");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write the password");
    let output = child.wait_with_output().expect("hash-password ends");
    assert!(output.status.success());
    String::from_utf8(output.stdout).expect("text").trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_users_sign_in_and_a_wrong_password_is_refused_counted_slowed_and_never_logged() {
    let hashed = hash(PASSWORD);
    assert!(hashed.starts_with("$argon2id$"), "{hashed}");
    let home = GatewayHome::new();
    let config =
        home.write_config(&format!("[[management.users]]\nusername = \"admin\"\npassword_hash = \"{hashed}\"\n"));
    let gateway = home.start_with_env(&[
        ("GATEWAY_CONFIG", config.to_str().unwrap()),
        ("GATEWAY_MANAGEMENT_USERNAME", "ci"),
        ("GATEWAY_MANAGEMENT_PASSWORD", VAULT_PASSWORD),
    ]);
    let api = gateway.api();
    // The reference's clients: Basic, and a trailing slash.
    let listed =
        api.send_basic(Method::GET, "/management/v2/environments/DEFAULT/apis/", None, ("admin", PASSWORD)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let own = api.send_basic(Method::GET, "/management/v2/apis/", None, ("ci", VAULT_PASSWORD)).await;
    assert_eq!(own.status, 200, "{}", own.body);

    let started = Instant::now();
    let refused = api.send_basic(Method::GET, "/management/v2/apis", None, ("admin", WRONG)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let first = started.elapsed();
    let started = Instant::now();
    let again = api.send_basic(Method::GET, "/management/v2/apis", None, ("admin", WRONG)).await;
    assert_eq!(again.status, 401);
    let second = started.elapsed();
    assert!(second >= first + Duration::from_millis(200), "the second failure waits: {first:?} then {second:?}");
    let unknown = api.send_basic(Method::GET, "/management/v2/apis", None, ("nobody", PASSWORD)).await;
    assert_eq!(unknown.status, 401);
    let vault = api.send_basic(Method::GET, "/management/v2/apis", None, ("ci", WRONG)).await;
    assert_eq!(vault.status, 401);
    assert_eq!(api.metric("gateway_management_login_failures_total").await, 4.0);
    // A success forgets the address's failures.
    let after = api.send_basic(Method::GET, "/management/v2/apis", None, ("admin", PASSWORD)).await;
    assert_eq!(after.status, 200);

    let output = gateway.output();
    for secret in [PASSWORD, VAULT_PASSWORD, WRONG] {
        assert!(!output.contains(secret), "a password in the log:\n{output}");
    }
    assert!(output.contains("management login failed"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_an_environment_user_or_a_hash_that_is_not_argon2_stops_the_start() {
    let home = GatewayHome::new();
    let (code, said) = home.run_refused(&[("GATEWAY_MANAGEMENT_USERNAME", "ci")]);
    assert_ne!(code, Some(0), "{said}");
    assert!(said.contains("GATEWAY_MANAGEMENT_PASSWORD"), "{said}");
    let config = home.write_config("[[management.users]]\nusername = \"admin\"\npassword_hash = \"plain-text\"\n");
    let (code, said) = home.run_refused(&[("GATEWAY_CONFIG", config.to_str().unwrap())]);
    assert_ne!(code, Some(0), "{said}");
    assert!(said.contains("management.users[0].password_hash") && !said.contains("plain-text"), "{said}");
}
