//! End-to-end tests: each starts the real `gateway-host` binary with real plugin files copied from the build, talks
//! to its management API, and counts what real HTTP receivers on loopback get.
//!
//! The plugin libraries are not built by `cargo test`: run `cargo build --workspace` first (`make test` does).

mod support;

mod advanced;
mod broker_faults;
mod cluster;
mod command_line;
mod console;
mod dashboard;
mod definitions;
mod delivery;
mod demo;
mod egress;
mod fan_out;
mod faults;
mod fencing;
mod flows;
mod hostile;
mod http2;
mod isolation;
mod jwt;
mod kafka;
mod lifecycle;
mod logs_page;
mod management_users;
mod metrics;
mod notifications;
mod openapi;
mod ordering;
mod pacing;
mod plugins;
mod proxy;
mod rebalance;
mod reference_api;
mod reference_automation;
mod replay;
mod secrets;
mod signing;
mod soak;
mod stops;
mod tls;
mod traces;
mod validation;
mod webhook_logs;
