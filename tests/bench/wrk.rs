//! wrk from Debian: the machine's HTTP limit, POSTing 1 KiB bodies on one thread with a given number of
//! connections (requests in flight).

use std::process::Command;
use std::time::Duration;

/// Requests per second wrk reaches against `url` with `connections` in flight, after a warm-up of `warm_up`,
/// measured over `duration`.
pub fn rate(url: &str, connections: usize, warm_up: Duration, duration: Duration) -> Result<f64, String> {
    let script = tempfile::NamedTempFile::new().map_err(|error| error.to_string())?;
    std::fs::write(
        script.path(),
        "wrk.method = \"POST\"\nwrk.body = string.rep(\"x\", 1024)\nwrk.headers[\"Content-Type\"] = \"application/octet-stream\"\n",
    )
    .map_err(|error| error.to_string())?;
    run(url, connections, warm_up, script.path())?;
    run(url, connections, duration, script.path())
}

fn run(url: &str, connections: usize, duration: Duration, script: &std::path::Path) -> Result<f64, String> {
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs().max(1)), "-s"])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|error| format!("wrk (make bench installs it): {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
        .ok_or_else(|| format!("wrk said: {text}{}", String::from_utf8_lossy(&output.stderr)))
}
