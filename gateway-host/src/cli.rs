//! The command line: `gateway-host [--config FILE]` runs the gateway; `gateway-host check` validates a
//! configuration and a definitions folder offline, for pipelines that ship definitions.

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// The webhook push gateway: loads plugins, deploys APIs, pushes every message to its subscribers' callbacks.
///
/// Every configuration key can also be set by an environment variable GATEWAY_<SECTION>_<KEY>
/// (docs/configuration.md).
#[derive(Debug, Parser)]
#[command(name = "gateway-host")]
pub struct Cli {
    /// The configuration file (TOML) laid over the embedded default.
    #[arg(long, global = true, env = "GATEWAY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do; without one, the gateway runs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks the configuration, then every API definition of the definitions folder against the plugins of the
    /// plugins folder, without starting anything: every error with its file and JSON path; exit code 1 if any.
    Check {
        /// The definitions folder to check, instead of the configuration's `definitions.dir`.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
    /// Reads a password from standard input (its first line) and prints its Argon2id PHC hash, for a
    /// `[[management.users]]` entry's `password_hash`.
    HashPassword,
}

impl Cli {
    /// Parses the process's arguments; `--help`, `--version` and a wrong argument print and exit.
    pub fn from_args(platform: &str) -> Self {
        let version = format!(
            "{} (platform {platform}, plugin interface {})",
            env!("CARGO_PKG_VERSION"),
            plugin_api::INTERFACE_VERSION
        );
        // Made once per process: clap takes a static text unless its `string` feature is on.
        let matches = Self::command().version(&*version.leak()).get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
    }
}
