//! The OpenAPI document: it covers exactly the routes the gateway registers,
//! every operation is complete, every `$ref` resolves, the server serves it,
//! and the request examples in it are accepted by the running server.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use support::{spawn, Db, Mock, Setup};
use tradelane::connectors::mock::{self, RunningMock};
use tradelane::http::openapi::{self, PUBLIC_PATHS};

fn doc() -> Value {
    serde_json::to_value(openapi::spec()).unwrap()
}

/// `(method, path) -> operation` for every documented operation.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// Resolves a local JSON pointer (`#/components/schemas/X`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_registered_route_is_documented_and_nothing_else_is() {
    let table = tradelane::http::route_table();
    let routed: BTreeSet<(String, String)> = table.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(routed.len(), table.len(), "a route is registered twice: {table:?}");
    let documented: BTreeSet<(String, String)> = operations(&doc()).into_iter().map(|(m, p, _)| (m, p)).collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an operation in the OpenAPI document: {undocumented:?}"
    );
    assert!(unrouted.is_empty(), "documented operations that no route serves: {unrouted:?}");
    // Paths are full templates, the same spelling in both.
    assert!(routed.contains(&("GET".into(), "/v1/tracking/{carrier}/{number}".into())));
    assert!(routed.contains(&("GET".into(), "/openapi.json".into())));
}

#[test]
fn every_operation_is_complete() {
    let doc = doc();
    let mut ids = HashSet::new();
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{what}: no operationId"));
        assert!(ids.insert(id.to_string()), "{what}: operationId {id} is used twice");
        assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{what}: no tag");

        // Every `{name}` in the template is a required path parameter, and no other path parameter is declared.
        let template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let declared: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{what}: path parameter {p} must be required");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(template, declared, "{what}: path parameters differ from the template");

        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{what}: no responses"));
        let success: Vec<_> = responses.iter().filter(|(s, _)| s.starts_with('2')).collect();
        assert!(!success.is_empty(), "{what}: no 2xx response");
        for (status, r) in &success {
            let content = r["content"].as_object();
            let has_schema = content.is_some_and(|c| !c.is_empty() && c.values().all(|m| m.get("schema").is_some()));
            assert!(
                has_schema || (status.as_str() == "204" && content.is_none()),
                "{what} {status}: a 2xx needs a body schema, or is 204 without content"
            );
        }

        let security = op["security"].as_array().cloned().unwrap_or_default();
        if PUBLIC_PATHS.contains(&path.as_str()) {
            assert!(security.is_empty(), "{what}: public routes take no key");
            continue;
        }
        assert!(!security.is_empty(), "{what}: no security requirement");
        for requirement in &security {
            for (scheme, scopes) in requirement.as_object().unwrap() {
                assert!(
                    doc["components"]["securitySchemes"][scheme].is_object(),
                    "{what}: unknown security scheme {scheme}"
                );
                assert_eq!(
                    scopes.as_array().map(Vec::len),
                    Some(1),
                    "{what}: name exactly the scope the key needs"
                );
            }
        }
        // Authenticated operations answer 401 and 403, and every error is problem+json.
        for status in ["401", "403", "500"] {
            assert!(responses.contains_key(status), "{what}: no {status} response");
        }
        for (status, r) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
            let r = match r.get("$ref").and_then(Value::as_str) {
                Some(reference) => resolve(&doc, reference).unwrap_or_else(|| panic!("{what}: {reference}")),
                None => r,
            };
            let content = r["content"].as_object().unwrap_or_else(|| panic!("{what} {status}: no body"));
            let types: Vec<&String> = content.keys().collect();
            assert_eq!(types, ["application/problem+json"], "{what} {status}");
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
        }
    }
    assert!(ids.len() >= 22, "only {} operations documented", ids.len());
}

#[test]
fn every_ref_resolves_and_the_header_is_right() {
    let doc = doc();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50, "suspiciously few $refs: {}", all.len());
    let broken: BTreeSet<&String> = all.iter().filter(|r| resolve(&doc, r).is_none()).collect();
    assert!(broken.is_empty(), "unresolved $refs: {broken:?}");

    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], env!("CARGO_PKG_NAME"));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "/");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["name"], "X-Api-Key");
}

#[test]
fn value_types_have_exact_schemas() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Date"]["type"], "string");
    assert_eq!(schemas["Date"]["format"], "date");
    assert_eq!(schemas["Decimal"]["type"], json!(["number", "string"]));
    assert_eq!(schemas["Amount"]["type"], "string");
    assert!(schemas["Amount"]["pattern"].is_string());
    // Fields of those types point at them instead of being plain numbers or free strings.
    assert_eq!(
        schemas["PurchaseOrder"]["properties"]["po_date"]["$ref"],
        "#/components/schemas/Date"
    );
    assert_eq!(schemas["PoLine"]["properties"]["quantity"]["$ref"], "#/components/schemas/Decimal");
    assert_eq!(schemas["Money"]["properties"]["amount"]["$ref"], "#/components/schemas/Decimal");
    // The carrier breakdown line and the invoice charge do not collide.
    assert!(schemas["RateCharge"]["properties"]["amount"].is_object());
    assert!(schemas["Charge"]["properties"]["amount_cents"].is_object());
    assert_eq!(
        schemas["Scope"]["enum"],
        json!(["x12:write", "documents:write", "documents:read", "admin", "shipping"])
    );
    // The patterns the document announces accept exactly what the parsers accept.
    let pattern = |name: &str| regex::Regex::new(schemas[name]["pattern"].as_str().unwrap()).unwrap();
    let (decimal, amount, date) = (pattern("Decimal"), pattern("Amount"), pattern("Date"));
    let samples = [
        "4.5", "-1.005", "+12", "0.125", ".5", "16.", "007", "1.2.3", "", "-", ".", "abc", "1e5", "1,5", " 1", "+-1",
    ];
    for s in samples {
        let parses = s.parse::<tradelane::model::Decimal>().is_ok();
        assert_eq!(decimal.is_match(s), parses, "Decimal {s:?}");
        assert_eq!(amount.is_match(s), s.parse::<tradelane::model::Amount>().is_ok(), "Amount {s:?}");
    }
    for s in [
        "2024-03-12",
        "2024-02-29",
        "2024-3-12",
        "20240312",
        "2024-03-12T00:00:00Z",
        "12-03-2024",
    ] {
        // The pattern checks the shape; the calendar (2023-02-29) is the parser's alone.
        assert_eq!(date.is_match(s), s.parse::<tradelane::model::Date>().is_ok(), "Date {s:?}");
    }
}

/// The example of an operation's request body, for `content_type`.
fn request_example(doc: &Value, method: &str, path: &str, content_type: &str) -> Value {
    let ex = doc["paths"][path][method.to_lowercase()]["requestBody"]["content"][content_type]["example"].clone();
    assert!(!ex.is_null(), "{method} {path}: no {content_type} example");
    ex
}

#[test]
fn request_examples_deserialize_into_the_request_types() {
    use tradelane::flow::shipping::{LabelOrder, RateQuery, SubscriptionRequest};
    use tradelane::http::openapi::{InvoiceRequest, PoAckDocument, PoAckRequest, ShipNoticeRequest};
    let doc = doc();
    let q: RateQuery = serde_json::from_value(request_example(&doc, "POST", "/v1/rates", "application/json")).unwrap();
    assert_eq!(q.shipment.packages.len(), 1);
    assert_eq!(q.deliver_by.map(|d| d.to_string()).as_deref(), Some("2026-11-30"));
    let l: LabelOrder = serde_json::from_value(request_example(&doc, "POST", "/v1/labels", "application/json")).unwrap();
    assert_eq!((l.carrier.as_deref(), l.service_code.as_deref()), (Some("ups"), Some("03")));
    let _: SubscriptionRequest =
        serde_json::from_value(request_example(&doc, "POST", "/v1/tracking/subscriptions", "application/json")).unwrap();
    let a: PoAckRequest = serde_json::from_value(request_example(&doc, "POST", "/v1/po-acks", "application/json")).unwrap();
    assert!(
        matches!(a.document, PoAckDocument::Ack(_)),
        "an 855 example is read as an acknowledgment"
    );
    let _: ShipNoticeRequest = serde_json::from_value(request_example(&doc, "POST", "/v1/ship-notices", "application/json")).unwrap();
    let i: InvoiceRequest = serde_json::from_value(request_example(&doc, "POST", "/v1/invoices", "application/json")).unwrap();
    assert_eq!(i.document.computed_total_cents(), 97_000);
    let x12 = request_example(&doc, "POST", "/v1/x12", "application/edi-x12");
    assert!(x12.as_str().unwrap().starts_with("ISA*"));
    // The receipt example has the shape of a real receipt.
    let receipt = &doc["paths"]["/v1/x12"]["post"]["responses"]["202"]["content"]["application/json"]["example"];
    let _: tradelane::flow::Receipt = serde_json::from_value(receipt.clone()).unwrap();
}

/// The example of an operation's `status` response.
fn response_example(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let ex = doc["paths"][path][method.to_lowercase()]["responses"][status.to_string()]["content"]["application/json"]["example"].clone();
    assert!(!ex.is_null(), "{method} {path}: no {status} example");
    ex
}

#[test]
fn response_examples_have_the_shapes_the_server_writes() {
    use tradelane::connectors::carriers::{Label, Rate, Tracking};
    use tradelane::model::ShipNotice;
    let doc = doc();
    let t: Tracking = serde_json::from_value(response_example(&doc, "GET", "/v1/tracking/{carrier}/{number}", 200)).unwrap();
    assert_eq!(t.status, t.events[0].status, "the current status is the latest event's");
    let l = response_example(&doc, "POST", "/v1/labels", 201);
    let label: Label = serde_json::from_value(l["label"].clone()).unwrap();
    assert_eq!(l["tracking_number"], json!(label.tracking_numbers[0]));
    let rates = response_example(&doc, "POST", "/v1/rates", 200);
    let parsed: Vec<Rate> = serde_json::from_value(rates["rates"].clone()).unwrap();
    assert!(parsed.windows(2).all(|w| w[0].total.amount <= w[1].total.amount), "cheapest first");
    let d = response_example(&doc, "GET", "/v1/documents/{id}", 200);
    let _: ShipNotice = serde_json::from_value(d["document"].clone()).unwrap();
    // Every example property is one the schema declares (no stale field names).
    for (schema, example) in [("LabelRecord", &l), ("DocumentRecord", &d), ("Tracking", &json!(t))] {
        let props = doc["components"]["schemas"][schema]["properties"].as_object().unwrap();
        for key in example.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "{schema} example has {key}, the schema does not");
        }
    }
}

fn carriers_toml(mocks: &[RunningMock]) -> String {
    let mut t = String::from("[shipping]\nrate_timeout_ms = 5000\ntracking_poll_secs = 3600\n");
    for m in mocks {
        t.push_str(&format!(
            "[carriers.{}]\nbase_url = \"{}\"\n{}\nretries = 1\n",
            m.carrier,
            m.base_url,
            mock::credentials(m.carrier)
        ));
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_document_and_accepts_its_examples() {
    let mocks = mock::start_all(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")), 0, 1).unwrap();
    let mut setup = Setup::new(Db::Sqlite);
    setup.extra_toml = carriers_toml(&mocks);
    let app = spawn(setup).await;

    // Served without a key, as JSON, equal to the document built in process.
    let r = app.http.get(format!("{}/openapi.json", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served: Value = r.json().await.unwrap();
    assert_eq!(served, doc());

    // Every route of the table is really served: without a key it answers 401 (or, public, 200/503),
    // never the 404 of the fallback.
    for (method, path) in tradelane::http::route_table() {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let m = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let r = app.http.request(m, format!("{}{concrete}", app.base)).send().await.unwrap();
        let expected: &[u16] = if PUBLIC_PATHS.contains(&path) { &[200, 503] } else { &[401] };
        assert!(expected.contains(&r.status().as_u16()), "{method} {path}: {}", r.status());
    }
    let r = app.http.get(format!("{}/v1/nothing-here", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Errors look like the Problem schema says.
    let problem = &served["components"]["schemas"]["Problem"];
    let props: HashSet<&str> = problem["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let r = app.http.get(format!("{}/v1/documents", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    for key in body.as_object().unwrap().keys() {
        assert!(props.contains(key.as_str()), "{key} is not in the Problem schema");
    }
    for key in problem["required"].as_array().unwrap() {
        assert!(body.get(key.as_str().unwrap()).is_some(), "{key} missing from {body}");
    }
    assert_eq!(body["type"], "https://tradelane.dev/problems/unauthorized");
    let type_pattern = problem["properties"]["type"]["pattern"].as_str().unwrap();
    assert!(regex::Regex::new(type_pattern).unwrap().is_match(body["type"].as_str().unwrap()));
    let unauthorized = &served["components"]["responses"]["Unauthorized"]["content"]["application/problem+json"]["example"];
    assert_eq!(body["type"], unauthorized["type"]);
    assert_eq!(body["detail"], unauthorized["detail"]);
    // A query string that does not parse is a documented 400 problem, like every other error.
    let r = app.get("/v1/documents?limit=many", &app.client_key).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "https://tradelane.dev/problems/bad-request");
    assert!(served["paths"]["/v1/documents"]["get"]["responses"]["400"].is_object());

    // The request examples, sent as they are, do what the document says.
    let send = |method: &'static str, path: &'static str, ct: &'static str, key: String, idem: &str| {
        let example = request_example(&served, method, path, ct);
        let body = match example {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        let idem = idem.to_string();
        async move {
            http.post(url)
                .bearer_auth(key)
                .header("content-type", ct)
                .header("idempotency-key", idem)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let documented = |path: &str, status: u16| served["paths"][path]["post"]["responses"][status.to_string()].is_object();

    let r = send("POST", "/v1/x12", "application/edi-x12", app.acme_key.clone(), "-").await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["status"], "accepted");
    assert!(documented("/v1/x12", 202));

    for path in ["/v1/po-acks", "/v1/ship-notices", "/v1/invoices"] {
        let r = send("POST", path, "application/json", app.client_key.clone(), path).await;
        assert_eq!(r.status(), 202, "{path}: {}", r.text().await.unwrap());
        let d: Value = r.json().await.unwrap();
        assert_eq!(d["partner"], "acme-parts");
        assert!(documented(path, 202));
    }

    let r = send("POST", "/v1/rates", "application/json", app.client_key.clone(), "-").await;
    assert_eq!(r.status(), 200);
    let rates: Value = r.json().await.unwrap();
    assert!(!rates["rates"].as_array().unwrap().is_empty(), "{rates:#}");
    assert!(rates["rates"].as_array().unwrap().iter().all(|r| r["meets_promise"].is_boolean()));

    let r = send("POST", "/v1/labels", "application/json", app.client_key.clone(), "example-label").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let label: Value = r.json().await.unwrap();
    assert_eq!(label["status"], "purchased");
    assert_eq!(label["label"]["label_format"], "zpl");
    assert!(documented("/v1/labels", 201));

    // The example's webhook host is not ours: point it at a local endpoint (tests stay on loopback).
    let hook = Mock::start().await;
    let mut sub = request_example(&served, "POST", "/v1/tracking/subscriptions", "application/json");
    sub["url"] = json!(hook.url);
    let r = app.post_json("/v1/tracking/subscriptions", &app.client_key, "-", &sub).await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let schema = &served["components"]["schemas"]["SubscriptionCreated"];
    assert!(schema.to_string().contains("secret"), "{schema}");
    app.stop().await;
}
