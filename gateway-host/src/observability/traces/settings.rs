//! Whether and where spans are exported: `[tracing]`, then the OpenTelemetry variables an operator already sets.

use opentelemetry::KeyValue;
use plugin_api::TraceSettings;

use crate::config::TracingSection;

/// The service name when neither `tracing.service_name` nor `OTEL_SERVICE_NAME` gives one.
const DEFAULT_SERVICE_NAME: &str = "webhook-gateway";
/// The path of traces under an OTLP/HTTP endpoint.
const TRACES_PATH: &str = "/v1/traces";

/// How spans are exported, when they are.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceExportSettings {
    /// Where spans go: `tracing.otlp.endpoint` with `/v1/traces` added; `None`: the exporter reads
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub traces_url: Option<String>,
    /// The share of new traces recorded.
    pub sampling_ratio: f64,
    /// `service.name`.
    pub service_name: String,
    /// Resource attributes of ours (over `OTEL_RESOURCE_ATTRIBUTES`, which the SDK reads).
    pub resource_attributes: Vec<KeyValue>,
}

impl TraceExportSettings {
    /// The settings of `section`, whose keys the `GATEWAY_TRACING_*` variables already overrode; off (`None`)
    /// unless an endpoint is configured there or in `env`'s OpenTelemetry variables.
    pub fn resolve(section: &TracingSection, env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let ratio = section.sampling_ratio;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(format!(
                "tracing.sampling_ratio (GATEWAY_TRACING_SAMPLING_RATIO): {ratio} is not between 0 and 1"
            ));
        }
        let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let ours = match section.otlp.endpoint.trim() {
            "" => section.otlp_endpoint.trim(),
            endpoint => endpoint,
        };
        let traces_url = if ours.is_empty() {
            if set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none() && set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none() {
                return Ok(None);
            }
            None
        } else {
            let uri: axum::http::Uri = ours
                .parse()
                .map_err(|error| format!("tracing.otlp.endpoint (GATEWAY_TRACING_OTLP_ENDPOINT): `{ours}`: {error}"))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) {
                return Err(format!(
                    "tracing.otlp.endpoint (GATEWAY_TRACING_OTLP_ENDPOINT): `{ours}` is not an http(s) URL"
                ));
            }
            Some(traces_url(ours))
        };
        let service_name = match section.service_name.trim() {
            "" => set("OTEL_SERVICE_NAME").unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string()),
            name => name.to_string(),
        };
        let resource_attributes = section
            .resource_attributes
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    Ok(KeyValue::new(key.trim().to_string(), value.trim().to_string()))
                }
                _ => Err(format!(
                    "tracing.resource_attributes (GATEWAY_TRACING_RESOURCE_ATTRIBUTES): `{pair}` is not key=value"
                )),
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(Self { traces_url, sampling_ratio: ratio, service_name, resource_attributes }))
    }

    /// What the plugins are told: record spans, at this ratio.
    pub fn for_plugins(settings: Option<&Self>) -> TraceSettings {
        settings.map_or(TraceSettings::default(), |settings| TraceSettings {
            enabled: true,
            sampling_ratio: settings.sampling_ratio,
        })
    }
}

/// An OTLP/HTTP base endpoint's traces URL (as `OTEL_EXPORTER_OTLP_ENDPOINT` is read); one that already names the
/// traces path is kept.
fn traces_url(endpoint: &str) -> String {
    if endpoint.trim_end_matches('/').ends_with(TRACES_PATH) {
        endpoint.to_string()
    } else {
        format!("{}{TRACES_PATH}", endpoint.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OtlpSection;

    fn section(endpoint: &str) -> TracingSection {
        TracingSection {
            otlp: OtlpSection { endpoint: endpoint.into() },
            otlp_endpoint: String::new(),
            sampling_ratio: 1.0,
            service_name: String::new(),
            resource_attributes: vec!["deployment.environment=test".into()],
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    }

    #[test]
    fn off_unless_an_endpoint_is_set_here_or_in_the_opentelemetry_variables() {
        assert_eq!(TraceExportSettings::resolve(&section(""), env(&[])).unwrap(), None);
        let otel = TraceExportSettings::resolve(&section(""), env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]));
        assert_eq!(otel.unwrap().unwrap().traces_url, None, "the exporter reads the variable itself");
        let ours = TraceExportSettings::resolve(
            &section("http://collector:4318/"),
            env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318")]),
        );
        assert_eq!(ours.unwrap().unwrap().traces_url.as_deref(), Some("http://collector:4318/v1/traces"));
    }

    #[test]
    fn the_endpoint_may_be_a_key_of_the_section_too() {
        let mut flat = section("");
        flat.otlp_endpoint = "http://flat:4318".into();
        let settings = TraceExportSettings::resolve(&flat, env(&[])).unwrap().unwrap();
        assert_eq!(settings.traces_url.as_deref(), Some("http://flat:4318/v1/traces"));
        flat.otlp.endpoint = "http://nested:4318".into();
        let settings = TraceExportSettings::resolve(&flat, env(&[])).unwrap().unwrap();
        assert_eq!(settings.traces_url.as_deref(), Some("http://nested:4318/v1/traces"));
    }

    #[test]
    fn the_service_name_is_ours_then_opentelemetrys_then_the_default() {
        let name = |section: &TracingSection, pairs| {
            TraceExportSettings::resolve(section, env(pairs)).unwrap().unwrap().service_name
        };
        let mut named = section("http://c:4318");
        assert_eq!(name(&named, &[]), "webhook-gateway");
        assert_eq!(name(&named, &[("OTEL_SERVICE_NAME", "orders")]), "orders");
        named.service_name = "push".into();
        assert_eq!(name(&named, &[("OTEL_SERVICE_NAME", "orders")]), "push");
    }

    #[test]
    fn a_ratio_out_of_range_or_a_bad_attribute_is_named() {
        let mut wrong = section("http://c:4318");
        wrong.sampling_ratio = 1.5;
        let error = TraceExportSettings::resolve(&wrong, env(&[])).unwrap_err();
        assert!(error.contains("GATEWAY_TRACING_SAMPLING_RATIO"), "{error}");
        let mut wrong = section("http://c:4318");
        wrong.resource_attributes = vec!["no-equals".into()];
        let error = TraceExportSettings::resolve(&wrong, env(&[])).unwrap_err();
        assert!(error.contains("tracing.resource_attributes"), "{error}");
    }
}
