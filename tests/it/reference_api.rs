//! The reference product's management API v2 paths and shapes: a client written from its document (paths under
//! `/environments/{envId}`, subscription objects, `Pagination` and `Links`, errors with `details[]`).

use serde_json::{json, Value};

use crate::support::gateway::GatewayHome;
use crate::support::receiver::Receiver;
use crate::support::scenario::{mock_api, mock_messages};

const BASE: &str = "/management/v2/environments/DEFAULT";
const ORG_BASE: &str = "/management/v2/organizations/DEFAULT/environments/DEFAULT";

fn create_body(callback: &str, application: &str) -> Value {
    json!({ "applicationId": application, "planId": "push",
            "consumerConfiguration": { "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": callback } },
            "metadata": { "team": "billing" } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_client_subscribes_pauses_resumes_closes_and_pages() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let mut api = mock_api("orders", "auto", json!({}), mock_messages(1000, 50, "m"));
    api["plans"] = json!([{ "id": "push", "name": "Push", "mode": "PUSH", "security": { "type": "push" } }]);
    gateway.api().deploy(&api).await;

    let created = gateway
        .api()
        .post(&format!("{BASE}/apis/orders/subscriptions"), &create_body(&receiver.url("/hook"), "app-1"))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let subscription = &created.body;
    assert_eq!(subscription["api"]["id"], "orders");
    assert_eq!(subscription["plan"]["id"], "push");
    assert_eq!(subscription["application"]["id"], "app-1");
    assert_eq!(subscription["metadata"], json!({ "team": "billing" }));
    assert_eq!(
        (subscription["status"].as_str(), subscription["consumerStatus"].as_str()),
        (Some("ACCEPTED"), Some("STARTED"))
    );
    assert_eq!(subscription["origin"], "MANAGEMENT");
    assert!(subscription["processedAt"].is_string() && subscription["startingAt"].is_string());
    assert!(receiver.wait_for(1, std::time::Duration::from_secs(15)).await);

    let one = format!("{ORG_BASE}/apis/orders/subscriptions/{id}");
    let paused = gateway.api().post(&format!("{one}/_pause"), &Value::Null).await;
    assert_eq!((paused.status, paused.body["status"].as_str()), (200, Some("PAUSED")), "{}", paused.body);
    assert!(paused.body["pausedAt"].is_string());
    let resumed = gateway.api().post(&format!("{one}/_resume"), &Value::Null).await;
    assert_eq!(resumed.body["status"], "ACCEPTED");
    let closed = gateway.api().post(&format!("{one}/_close"), &Value::Null).await;
    assert_eq!(closed.body["status"], "CLOSED");
    assert!(closed.body["closedAt"].is_string());
    let again = gateway.api().post(&format!("{one}/_close"), &Value::Null).await;
    assert_eq!((again.status, again.body["status"].as_str()), (200, Some("CLOSED")), "a close of a closed one is 200");

    for index in 0..12 {
        let reply = gateway
            .api()
            .post(
                &format!("{BASE}/apis/orders/subscriptions"),
                &create_body(&receiver.url("/more"), &format!("app-{}", index % 2)),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let first = gateway.api().get(&format!("{BASE}/apis/orders/subscriptions")).await.body;
    assert_eq!(
        first["pagination"],
        json!({ "page": 1, "perPage": 10, "pageCount": 2, "pageItemsCount": 10, "totalCount": 12 }),
        "ACCEPTED ones only, 10 a page"
    );
    let next = first["links"]["next"].as_str().unwrap().to_string();
    let second = gateway.api().get(&next).await.body;
    assert_eq!(second["pagination"]["pageItemsCount"], 2, "{second}");
    let filtered = gateway
        .api()
        .get(&format!("{BASE}/apis/orders/subscriptions?statuses=CLOSED,ACCEPTED&applicationIds=app-1&perPage=50"))
        .await
        .body;
    assert_eq!(filtered["pagination"]["totalCount"], 7, "six app-1 subscriptions and the closed one: {filtered}");
    // Today's paths keep today's shapes.
    let own = gateway.api().get("/management/v2/apis/orders/subscriptions").await.body;
    assert_eq!(own["data"].as_array().unwrap().len(), 13);
    assert_eq!(own["data"][0]["apiId"], "orders");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_errors_have_the_reference_shape() {
    let home = GatewayHome::new();
    let gateway = home.start_with_env(&[("GATEWAY_MANAGEMENT_ENVIRONMENT_ID", "prod")]);
    gateway.api().deploy(&mock_api("orders", "auto", json!({}), mock_messages(1, 10, "m"))).await;

    let unknown = gateway.api().get("/management/v2/environments/staging/apis/orders/subscriptions").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["technicalCode"], "environment.notFound");
    let configured = gateway.api().get("/management/v2/environments/prod/apis/orders/subscriptions").await;
    assert_eq!(configured.status, 200, "the configured id is served: {}", configured.body);

    let invalid = gateway
        .api()
        .post(
            &format!("{BASE}/apis/orders/subscriptions"),
            &json!({ "applicationId": "a", "consumerConfiguration": { "entrypointId": "nope" } }),
        )
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.body);
    assert_eq!(invalid.body["details"][0]["location"], "consumerConfiguration.entrypointId", "{}", invalid.body);
    assert!(invalid.body["parameters"].as_object().unwrap().values().all(Value::is_string), "{}", invalid.body);

    let missing = gateway.api().get(&format!("{BASE}/apis/orders/subscriptions/none")).await;
    assert_eq!((missing.status, missing.body["technicalCode"].as_str()), (404, Some("subscription.notFound")));

    let mut body = json!({ "id": "fixed", "applicationId": "a",
        "consumerConfiguration": { "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": "http://127.0.0.1:1/x" } } });
    assert_eq!(gateway.api().post(&format!("{BASE}/apis/orders/subscriptions"), &body).await.status, 201);
    body["applicationId"] = json!("b");
    let duplicate = gateway.api().post(&format!("{BASE}/apis/orders/subscriptions"), &body).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apis_are_imported_read_exported_and_listed_as_the_reference_does() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut definition = mock_api("ignored", "auto", json!({}), mock_messages(1, 10, "m"));
    definition.as_object_mut().unwrap().remove("id");
    definition["analytics"] = json!({ "enabled": true, "sampling": { "type": "COUNT", "value": "0" } });
    let wrapped = json!({ "export": { "apimVersion": "4.8.2" }, "api": definition, "plans": [], "members": [] });

    let refused = gateway.api().post(&format!("{BASE}/apis/_import/definition"), &wrapped).await;
    assert_eq!(refused.status, 400, "analytics.sampling is read like messageSampling: {}", refused.body);
    assert_eq!(refused.body["details"][0]["location"], "analytics.sampling.value", "{}", refused.body);

    let mut good = wrapped.clone();
    good["api"]["analytics"]["sampling"] = json!({ "type": "TEMPORAL", "value": "PT1S" });
    let imported = gateway.api().post(&format!("{BASE}/apis/_import/definition"), &good).await;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let id = imported.body["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a generated id: {id}");
    for (field, value) in
        [("state", "STARTED"), ("deploymentState", "DEPLOYED"), ("definitionVersion", "V4"), ("type", "MESSAGE")]
    {
        assert_eq!(imported.body[field], value, "{}", imported.body);
    }
    assert!(imported.body["listeners"].is_array() && imported.body["warnings"].is_array());

    let exported = gateway.api().get(&format!("{BASE}/apis/{id}/_export/definition")).await;
    assert_eq!(exported.status, 200);
    assert_eq!(exported.body["api"]["id"], id.as_str());
    assert!(exported.body["plans"].is_array());
    let reimported = gateway.api().put(&format!("{BASE}/apis/{id}/_import/definition"), &exported.body).await;
    assert_eq!(reimported.status, 200, "{}", reimported.body);

    let listed = gateway.api().get(&format!("{BASE}/apis?perPage=1")).await.body;
    assert_eq!(listed["pagination"]["totalCount"], 1, "{listed}");
    assert_eq!(listed["data"][0]["state"], "STARTED");
    assert_eq!(gateway.api().get("/management/v2/apis").await.body["data"][0]["state"], "DEPLOYED", "today's shape");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_logs_read_as_the_reference_consoles_message_logs() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let receiver = Receiver::answering(200).await;
    let configuration = json!({ "logging": { "enabled": true } });
    gateway.api().deploy(&mock_api("logged", "auto", configuration, mock_messages(3, 10, "m"))).await;
    let body = json!({ "applicationId": "app-1",
        "consumerConfiguration": { "entrypointId": "webhook", "entrypointConfiguration": { "callbackUrl": receiver.url("/hook") } } });
    let id = gateway.api().subscribe("logged", &body).await;
    let path = format!("{BASE}/apis/logged/logs/messages?connectorId=webhook&perPage=2");
    let written = crate::support::eventually(std::time::Duration::from_secs(20), || async {
        gateway.api().get(&path).await.body["pagination"]["totalCount"] == 3
    })
    .await;
    let page = gateway.api().get(&path).await.body;
    assert!(written, "{page}");
    assert_eq!(page["pagination"]["pageItemsCount"], 2);
    assert!(page["links"]["next"].is_string());
    let log = &page["data"][0];
    assert_eq!(
        (log["connectorType"].as_str(), log["connectorId"].as_str(), log["operation"].as_str()),
        (Some("entrypoint"), Some("webhook"), Some("subscribe"))
    );
    assert_eq!(log["clientIdentifier"], id.as_str());
    assert_eq!(log["error"], false);
    assert_eq!(log["additionalMetrics"]["int_webhook_resp-status"], 200);
    assert_eq!(log["additionalMetrics"]["string_webhook_url"], receiver.url("/hook"));
    let endpoints = gateway.api().get(&format!("{BASE}/apis/logged/logs/messages?connectorType=endpoint")).await.body;
    assert_eq!(endpoints["pagination"]["totalCount"], 0, "only the entrypoint logs deliveries");
}

/// The reference product's own OpenAPI document (kept beside the project, never copied into it).
fn reference_document() -> std::path::PathBuf {
    let relative = "reference/gravitee-mapi-v2/openapi-apis.yaml";
    let candidates = [
        std::env::var_os("GATEWAY_SHARED_DIR").map(std::path::PathBuf::from),
        Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")),
        Some(std::path::PathBuf::from("/work/shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join(relative))
        .find(|path| path.exists())
        .expect("the reference's OpenAPI document (set GATEWAY_SHARED_DIR to the folder holding reference/)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_with_the_references_own_document() {
    let home = GatewayHome::new();
    let gateway = home.start();
    let mut api = mock_api("orders", "auto", json!({ "logging": { "enabled": true } }), mock_messages(5, 10, "m"));
    api["plans"] = json!([{ "id": "push", "name": "Push", "mode": "PUSH", "security": { "type": "push" } }]);
    gateway.api().deploy(&api).await;
    let mut body = create_body("http://127.0.0.1:1/hook", "app-1");
    body["id"] = json!("known");
    assert_eq!(gateway.api().post(&format!("{BASE}/apis/orders/subscriptions"), &body).await.status, 201);
    let config = tempfile::NamedTempFile::new().expect("config file");
    std::fs::write(
        config.path(),
        "[parameters]\n\"path.envId\" = \"DEFAULT\"\n\"path.apiId\" = \"orders\"\n\"path.subscriptionId\" = \"known\"\n\"path.planId\" = \"push\"\n",
    )
    .expect("write the config");
    let url = format!("{}/management/v2", gateway.api().base());
    let config_path = config.path().display().to_string();
    let document = reference_document().display().to_string();
    let run = |scope: &[&str]| {
        let mut args = vec!["--config-file", &config_path, "run", &document, "--url", &url];
        args.extend(["-H", "Authorization: Bearer test-token"]);
        args.extend(scope);
        args.extend(["--max-examples", "20", "--workers", "1", "--max-time", "30", "--seed", "1"]);
        crate::support::python::schemathesis(args.iter().map(ToString::to_string).collect())
    };
    // The subscription operations and the message logs. "Positive data acceptance" is left out: the reference's
    // schemas say what a subscription looks like, not what this gateway can run (a plan it has, an entrypoint it
    // serves).
    let said = run(&[
        "--include-path-regex",
        r"^/environments/\{envId\}/apis/\{apiId\}(/subscriptions(/\{subscriptionId\}(/_pause|/_resume|/_close)?)?|/logs/messages)$",
        "--exclude-checks",
        "positive_data_acceptance",
    ])
    .await;
    assert!(said.contains("passed"), "{said}");

    // The API operations (their import ones reference a file the document does not ship), with three checks left
    // out: the answers' schema (the reference's `Api` is a `oneOf` whose `ApiFederated` matches any API, so no V4
    // API is valid under exactly one), PATCH (not served here) and so `Allow` (which lists PATCH).
    let said = run(&[
        "--include-path-regex",
        r"^/environments/\{envId\}/apis(/\{apiId\}(/_export/definition)?)?$",
        "--exclude-method",
        "PATCH",
        "--exclude-checks",
        "positive_data_acceptance,response_schema_conformance,allow_header_conformance",
    ])
    .await;
    assert!(said.contains("passed"), "{said}");

    // The plans and the API's lifecycle, with the same checks left out (the reference's `Plan` is a `oneOf` whose
    // `PlanFederated` matches any plan, as its `Api` does; a plan's PATCH is not served here).
    let said = run(&[
        "--include-path-regex",
        r"^/environments/\{envId\}/apis/\{apiId\}(/plans(/\{planId\}(/_publish|/_deprecate|/_close)?)?|/_start|/_stop|/deployments(/current)?)$",
        "--exclude-method",
        "PATCH",
        "--exclude-checks",
        "positive_data_acceptance,response_schema_conformance,allow_header_conformance",
    ])
    .await;
    assert!(said.contains("passed"), "{said}");
}
