//! The benchmark's table: printed, and written to `docs/benchmarks.md` with the machine and the date.

use std::fmt::Write;

/// One line of the table.
pub struct Row {
    pub measure: String,
    pub value: String,
    pub limit: String,
    pub ratio: String,
    pub target: String,
}

impl Row {
    pub fn new(measure: &str, value: String) -> Self {
        Self { measure: measure.into(), value, limit: String::new(), ratio: String::new(), target: String::new() }
    }

    pub fn against(mut self, limit: f64, unit: &str) -> Self {
        self.limit = format!("{limit:.0} {unit}");
        self
    }

    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = format!("{ratio:.2}");
        self
    }

    /// A measure that could not be made, with why: reported as a failure, never as a number.
    pub fn failed(measure: &str, why: &str) -> Self {
        Self::new(measure, format!("FAILED: {why}"))
    }

    pub fn target(mut self, target: &str, met: bool) -> Self {
        self.target = format!("{target}: {}", if met { "met" } else { "MISSED" });
        self
    }
}

/// The table as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut text = String::from("| measure | value | limit | ratio | target |\n| --- | --- | --- | --- | --- |\n");
    for row in rows {
        let _ = writeln!(text, "| {} | {} | {} | {} | {} |", row.measure, row.value, row.limit, row.ratio, row.target);
    }
    text
}

/// What machine this ran on.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: u64 = meminfo
        .lines()
        .find(|line| line.starts_with("MemTotal"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    format!("{cores} cores ({model}), {:.0} GiB", memory_kb as f64 / 1024.0 / 1024.0)
}
