//! `gateway-host check`: the configuration and a definitions folder validated offline, as a deploy would, against
//! the plugins of the plugins folder. Nothing is started, stored or listened on.

use std::path::Path;
use std::process::ExitCode;

use crate::config::GatewayConfig;
use crate::deploy::{definition_files, plan, DeployError};
use crate::plugins::{CompatibilityMatrix, PluginRegistry, PluginServices, PluginStatus};

/// Prints every problem (`file: path: message`) and a summary; success when there is none.
pub fn run(config: &GatewayConfig, definitions: &Path) -> ExitCode {
    let egress = match config.egress.settings() {
        Ok(egress) => egress,
        Err(error) => {
            eprintln!("configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let registry = PluginRegistry::load_dir(
        &config.plugins.dir,
        &CompatibilityMatrix::shipped(),
        &PluginServices::untraced(egress),
    );
    let mut problems = 0;
    for record in registry.records().iter().filter(|record| record.status == PluginStatus::Refused) {
        println!("{}: plugin refused: {}", record.file, record.reason.as_deref().unwrap_or("unknown reason"));
    }
    let files = definition_files(definitions);
    for (file, read) in &files {
        let errors = match read.clone().map(|document| plan(document, &registry)) {
            Err(error) => vec![format!("not JSON: {error}")],
            Ok(Ok(_)) => Vec::new(),
            Ok(Err(DeployError::Invalid(errors))) => errors.iter().map(ToString::to_string).collect(),
            Ok(Err(DeployError::NotRunnable { reasons, .. })) => reasons,
        };
        problems += errors.len();
        for error in errors {
            println!("{file}: {error}");
        }
    }
    println!("checked {} definition file(s) in {}: {problems} problem(s)", files.len(), definitions.display());
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
