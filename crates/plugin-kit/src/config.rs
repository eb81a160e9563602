//! Parsing a configuration document into typed values, with JSON paths on every error.

use plugin_api::{join_path, ConfigError, ConfigErrors};
use serde::de::DeserializeOwned;

/// Parses `json` into `T`; an error names the JSON path it is about, prefixed with `prefix` (may be empty).
pub fn parse_config<T: DeserializeOwned>(json: &str, prefix: &str) -> Result<T, ConfigErrors> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let inner = error.path().to_string();
        let path = join_path(prefix, if inner == "." { "" } else { &inner });
        vec![ConfigError::new(path, error.into_inner().to_string())].into()
    })
}

/// Puts `prefix` in front of the path of every error.
pub fn prefix_errors(prefix: &str, errors: ConfigErrors) -> ConfigErrors {
    errors
        .into_iter()
        .map(|error| ConfigError { path: join_path(prefix, &error.path).into(), message: error.message })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        http: Http,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Http {
        timeout: u64,
    }

    #[test]
    fn errors_name_the_path_under_the_prefix() {
        let errors = parse_config::<Doc>(r#"{"http":{"timeout":"x"}}"#, "configuration").unwrap_err();
        assert_eq!(errors[0].path.as_str(), "configuration.http.timeout");
    }

    #[test]
    fn prefixes_join_array_indexes_without_a_dot() {
        let errors = prefix_errors("headers", vec![ConfigError::new("[0].name", "bad")].into());
        assert_eq!(errors[0].path.as_str(), "headers[0].name");
    }
}
