//! h2load from Debian (`nghttp2-client`): the machine's HTTP/2 limit, POSTing 1 KiB bodies over one connection with a
//! given number of streams in flight (h2c, prior knowledge).

use std::process::Command;
use std::time::Duration;

/// Requests per second h2load reaches against `url` with `streams` in flight on one connection, after a warm-up of
/// `warm_up`, measured over `duration`.
pub fn rate(url: &str, streams: usize, warm_up: Duration, duration: Duration) -> Result<f64, String> {
    let body = tempfile::NamedTempFile::new().map_err(|error| error.to_string())?;
    std::fs::write(body.path(), "x".repeat(1024)).map_err(|error| error.to_string())?;
    let output = Command::new("h2load")
        .args(["-c1", &format!("-m{streams}"), &format!("-D{}", duration.as_secs().max(1))])
        .arg(format!("--warm-up-time={}", warm_up.as_secs().max(1)))
        .args(["-H", "content-type: application/octet-stream", "-d"])
        .arg(body.path())
        .arg(url)
        .output()
        .map_err(|error| format!("h2load (make bench installs it): {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "finished in 4.00s, 123456.78 req/s, 12.34MB/s"
    text.lines()
        .find_map(|line| line.strip_prefix("finished in "))
        .and_then(|line| line.split(", ").nth(1))
        .and_then(|rate| rate.strip_suffix(" req/s"))
        .and_then(|rate| rate.trim().parse().ok())
        .ok_or_else(|| format!("h2load said: {text}{}", String::from_utf8_lossy(&output.stderr)))
}
