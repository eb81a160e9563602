//! What `/proc` says of a process: resident memory, CPU time, threads, open files.

/// `/proc/<pid>/stat` counts CPU time in ticks of 1/100 s (USER_HZ on Linux).
pub const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// Resident memory (VmRSS, KiB).
pub fn resident_kb(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    status
        .lines()
        .find(|line| line.starts_with("VmRSS"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .ok_or_else(|| format!("no VmRSS in {path}"))
}

/// CPU time so far (user and system), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok());
    field(11).zip(field(12)).map(|(user, system)| user + system).ok_or_else(|| format!("unreadable {path}"))
}

/// How many entries a `/proc/<pid>/<what>` directory has (`task`: threads, `fd`: open files).
pub fn count(pid: u32, what: &str) -> Result<usize, String> {
    let path = format!("/proc/{pid}/{what}");
    std::fs::read_dir(&path).map(Iterator::count).map_err(|error| format!("{path}: {error}"))
}

/// The share of one core `pid` uses over `span`, in percent.
pub async fn cpu_percent(pid: u32, span: std::time::Duration) -> Result<f64, String> {
    let (before, started) = (cpu_ticks(pid)?, std::time::Instant::now());
    tokio::time::sleep(span).await;
    let used = (cpu_ticks(pid)? - before) as f64 / CLOCK_TICKS_PER_SECOND;
    Ok(used / started.elapsed().as_secs_f64() * 100.0)
}
