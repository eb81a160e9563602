//! The compatibility matrix: which plugin versions run on which platform versions.

use semver::{Version, VersionReq};
use serde::Deserialize;

/// The matrix shipped with the host (`compatibility.toml`, shown in `docs/plugins.md`).
const MATRIX: &str = include_str!("../../compatibility.toml");

/// Plugin version ranges and the platform versions each runs on.
#[derive(Debug, Clone)]
pub struct CompatibilityMatrix {
    platform: Version,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    plugin: VersionReq,
    platform: VersionReq,
    plugin_text: String,
    platform_text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    platform: String,
    rule: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    plugin: String,
    platform: String,
}

impl CompatibilityMatrix {
    /// The matrix shipped with the host.
    pub fn shipped() -> Self {
        Self::parse(MATRIX).expect("the shipped compatibility matrix is valid")
    }

    fn parse(text: &str) -> Result<Self, String> {
        let file: MatrixFile = toml::from_str(text).map_err(|error| error.to_string())?;
        let platform = Version::parse(&file.platform).map_err(|error| format!("platform: {error}"))?;
        let rules = file
            .rule
            .into_iter()
            .map(|rule| {
                Ok(Rule {
                    plugin: VersionReq::parse(&rule.plugin).map_err(|error| format!("{}: {error}", rule.plugin))?,
                    platform: VersionReq::parse(&rule.platform)
                        .map_err(|error| format!("{}: {error}", rule.platform))?,
                    plugin_text: rule.plugin,
                    platform_text: rule.platform,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { platform, rules })
    }

    /// The platform version this host implements.
    pub fn platform(&self) -> &Version {
        &self.platform
    }

    /// Whether a plugin of `version` runs on this host; the error names the rule it broke.
    pub fn check(&self, version: &str) -> Result<(), String> {
        let parsed = Version::parse(version).map_err(|error| format!("version `{version}` is not semver: {error}"))?;
        let rule = self
            .rules
            .iter()
            .find(|rule| rule.plugin.matches(&parsed))
            .ok_or_else(|| format!("no rule of the compatibility matrix covers plugin version {version}"))?;
        if rule.platform.matches(&self.platform) {
            Ok(())
        } else {
            Err(format!(
                "incompatible: plugin versions {} need platform {}, this host implements {}",
                rule.plugin_text, rule.platform_text, self.platform
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_matrix_follows_the_spec() {
        let matrix = CompatibilityMatrix::shipped();
        assert_eq!(matrix.platform().to_string(), "4.8.0");
        assert!(matrix.check("4.0.0").is_ok());
        assert!(matrix.check("4.3.7").is_ok());
        assert_eq!(
            matrix.check("3.2.0").unwrap_err(),
            "incompatible: plugin versions 3.x need platform >=4.4.0, <4.6.0, this host implements 4.8.0"
        );
        assert!(matrix.check("1.0.0").is_err());
        assert!(matrix.check("5.0.0").unwrap_err().contains("no rule"));
        assert!(matrix.check("four").unwrap_err().contains("not semver"));
    }
}
