//! The OpenAPI document: it covers exactly the routes the gateway registers,
//! every operation is complete, every `$ref` resolves, the server serves it,
//! and the request examples in it are accepted by the running server.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use serde_json::{json, Value};
use support::{spawn, Db, Mock, Setup};
use tradelane::connectors::mock::{self, landed_cost, RunningMock};
use tradelane::http::openapi::{self, PUBLIC_PATHS};
use tradelane::store::Scope;

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
        json!([
            "x12:write",
            "documents:write",
            "documents:read",
            "admin",
            "shipping",
            "replenishment"
        ])
    );
    // Customs codes are patterned strings, and the declaration's fields point at them.
    for name in ["HsCode", "CountryCode", "CurrencyCode", "Itn"] {
        assert_eq!(schemas[name]["type"], "string", "{name}");
        assert!(schemas[name]["pattern"].is_string(), "{name}");
    }
    let commodity = &schemas["RawCommodity"]["properties"];
    for (field, schema) in [
        ("hs_code", "HsCode"),
        ("origin_country", "CountryCode"),
        ("currency", "CurrencyCode"),
    ] {
        assert!(
            commodity[field].to_string().contains(&format!("#/components/schemas/{schema}")),
            "RawCommodity.{field}: {}",
            commodity[field]
        );
    }
    assert!(schemas["RawDeclaration"]["properties"]["itn"]
        .to_string()
        .contains("#/components/schemas/Itn"));
    assert_eq!(schemas["RawDeclaration"]["additionalProperties"], false);
    assert_eq!(schemas["Pdf"]["format"], "binary");
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
    // ECMA-262 and `regex` agree on these patterns once `\d` and `\s` are ASCII.
    let code = |name: &str| regex::Regex::new(&format!("(?-u){}", schemas[name]["pattern"].as_str().unwrap())).unwrap();
    let (hs, country, currency, itn) = (code("HsCode"), code("CountryCode"), code("CurrencyCode"), code("Itn"));
    // What the HS pattern announces parses, and what it refuses does not (the parser also
    // takes spaces and dashes, which the document does not advertise); the canonical form matches.
    for (s, ok) in [
        ("6109.10.0012", true),
        ("610910", true),
        ("8708.30", true),
        ("6109100012", true),
        ("6109", false),
        ("61091000123", false),
        ("6109.1O", false),
        ("", false),
    ] {
        assert_eq!(hs.is_match(s), ok, "HsCode pattern {s:?}");
        let parsed = s.parse::<tradelane::customs::HsCode>();
        assert_eq!(parsed.is_ok(), ok, "HsCode {s:?}");
        assert!(parsed.is_err() || hs.is_match(parsed.unwrap().as_str()), "HsCode {s:?}");
    }
    for s in ["US", "DE", "XK", "us", "USA", "U", "ZZ"] {
        let parsed = s.parse::<tradelane::customs::CountryCode>();
        // The pattern is the canonical shape; the list of assigned codes is the parser's alone.
        assert!(parsed.is_err() || country.is_match(parsed.unwrap().as_str()), "CountryCode {s:?}");
        assert_eq!(
            country.is_match(s),
            s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()),
            "CountryCode {s:?}"
        );
    }
    for s in ["USD", "EUR", "usd", "US$", "EURO"] {
        let parsed = s.parse::<tradelane::customs::CurrencyCode>();
        assert!(parsed.is_err() || currency.is_match(parsed.unwrap().as_str()), "CurrencyCode {s:?}");
        assert_eq!(
            currency.is_match(s),
            s.parse::<tradelane::customs::CurrencyCode>().is_ok() && s == s.to_uppercase(),
            "CurrencyCode {s:?}"
        );
    }
    for s in [
        "X20250317123456",
        "AES X20250317123456",
        "AESX20250317123456",
        "X2025031712345",
        "Y20250317123456",
        "X202503171234567",
    ] {
        assert_eq!(itn.is_match(s), s.parse::<tradelane::customs::Itn>().is_ok(), "Itn {s:?}");
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
    let q: tradelane::flow::customs::QuoteOrder =
        serde_json::from_value(request_example(&doc, "POST", "/v1/customs/quotes", "application/json")).unwrap();
    let (from, to) = (q.from.country.parse().unwrap(), q.to.country.parse().unwrap());
    let declaration = q
        .declaration
        .validate(from, to, "declaration")
        .expect("the example declaration is valid");
    assert_eq!((declaration.origin.as_str(), declaration.destination.as_str()), ("US", "DE"));
    assert_eq!(declaration.total_value().to_string(), "293.5");
    let r: tradelane::replenishment::ReplenishmentRequest = serde_json::from_value(request_example(
        &doc,
        "POST",
        "/v1/dealers/{dealer}/replenishment",
        "application/json",
    ))
    .unwrap();
    assert!(!r.positions.is_empty() && !r.lines.is_empty());
    let x12 = request_example(&doc, "POST", "/v1/x12", "application/edi-x12");
    assert!(x12.as_str().unwrap().starts_with("ISA*"));
    // The receipt example has the shape of a real receipt.
    let receipt = &doc["paths"]["/v1/x12"]["post"]["responses"]["202"]["content"]["application/json"]["example"];
    let _: tradelane::flow::Receipt = serde_json::from_value(receipt.clone()).unwrap();
}

/// The property names of a schema, with those of its `allOf` members (a `#[serde(flatten)]`).
fn properties(doc: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => resolve(doc, r).unwrap(),
        None => schema,
    };
    let mut out: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for member in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(properties(doc, member));
    }
    out
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
    let q = response_example(&doc, "POST", "/v1/customs/quotes", 201);
    let quote: tradelane::customs::quote::CustomsQuote = serde_json::from_value(q.clone()).unwrap();
    let sum = &quote.quote.totals;
    assert_eq!(
        sum.goods + sum.shipping + sum.duties + sum.taxes + sum.fees + sum.brokerage,
        sum.landed_total
    );
    assert_eq!(response_example(&doc, "GET", "/v1/customs/quotes/{id}", 200), q);
    let order = response_example(&doc, "POST", "/v1/dealers/{dealer}/replenishment", 202);
    let _: Vec<tradelane::replenishment::OrderLine> = serde_json::from_value(order["lines"].clone()).unwrap();
    let shipped = response_example(&doc, "GET", "/v1/dealers/{dealer}/orders/{id}", 200);
    let shipment = &shipped["shipments"][0];
    // Every example property is one the schema declares (no stale field names).
    for (schema, example) in [
        ("LabelRecord", &l),
        ("DocumentRecord", &d),
        ("Tracking", &json!(t)),
        ("CustomsQuote", &q),
        ("LandedCostItem", &q["items"][0]),
        ("DealerOrder", &order),
        ("DealerOrder", &shipped),
        ("DealerOrderLine", &order["lines"][0]),
        ("DealerShipment", shipment),
        ("DealerShippedItem", &shipment["items"][0]),
    ] {
        let props = properties(&doc, &doc["components"]["schemas"][schema]);
        assert!(!props.is_empty(), "{schema}: no properties");
        for key in example.as_object().unwrap().keys() {
            assert!(props.contains(key), "{schema} example has {key}, the schema does not");
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
    let providers = landed_cost::start_all(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/landed_cost")), 0, 1).unwrap();
    let mut setup = Setup::new(Db::Sqlite);
    setup.extra_toml = carriers_toml(&mocks);
    setup.extra_toml.push_str("[landed_cost]\ndefault_provider = \"zonos\"\n");
    for m in &providers {
        setup.extra_toml.push_str(&format!(
            "[landed_cost.{}]\nbase_url = \"{}\"\n{}\n",
            m.carrier,
            m.base_url,
            landed_cost::credentials(m.carrier)
        ));
    }
    // The shipped mappings serve the dealer example: lakeside-motors, restocked by acme-parts,
    // with mappings/parts/supersessions.csv.
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

    // The landed-cost quote example, against the mock Zonos: the amounts of the response example.
    let r = send("POST", "/v1/customs/quotes", "application/json", app.client_key.clone(), "-").await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert!(documented("/v1/customs/quotes", 201));
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let quote: Value = r.json().await.unwrap();
    let example = &served["paths"]["/v1/customs/quotes"]["post"]["responses"]["201"]["content"]["application/json"]["example"];
    for key in ["provider", "currency", "items", "totals", "de_minimis_applied", "guaranteed"] {
        assert_eq!(quote[key], example[key], "{key}: {quote:#}");
    }
    let id = quote["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/customs/quotes/{id}"));
    assert_eq!(app.get_json(&location, &app.client_key).await, quote);
    for path in [
        format!("/v1/customs/quotes/{id}/commercial-invoice.pdf"),
        format!("/v1/customs/{id}/commercial-invoice.pdf"),
    ] {
        let r = app.get(&path, &app.client_key).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    }
    for path in [
        "/v1/customs/quotes/{id}/commercial-invoice.pdf",
        "/v1/customs/{id}/commercial-invoice.pdf",
    ] {
        let ok = &served["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(ok["application/pdf"]["schema"].is_object(), "{path}: {ok}");
    }

    // The replenishment example, by Lakeside Motors' own key: an 850 to acme-parts with the lines of the example.
    let lakeside = app
        .store
        .create_key("lakeside-motors", &[Scope::Replenishment])
        .await
        .unwrap()
        .token;
    let path = "/v1/dealers/{dealer}/replenishment";
    let example = request_example(&served, "POST", path, "application/json");
    let url = "/v1/dealers/lakeside-motors/replenishment";
    let r = app.post_json(url, &lakeside, "nightly-2026-11-25", &example).await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let order: Value = r.json().await.unwrap();
    let documented_order = &served["paths"][path]["post"]["responses"]["202"]["content"]["application/json"]["example"];
    for key in [
        "dealer",
        "po_number",
        "route",
        "supplier",
        "status",
        "reference",
        "lines",
        "shipments",
    ] {
        assert_eq!(order[key], documented_order[key], "{key}: {order:#}");
    }
    let again = app.post_json(url, &lakeside, "nightly-2026-11-25", &example).await;
    assert_eq!(again.status(), 200);
    assert!(served["paths"][path]["post"]["responses"]["200"].is_object());
    let id = order["id"].as_str().unwrap();
    let listed = app.get_json("/v1/dealers/lakeside-motors/orders", &lakeside).await;
    assert_eq!(listed["orders"][0]["id"], json!(id));
    let one = app.get_json(&format!("/v1/dealers/lakeside-motors/orders/{id}"), &lakeside).await;
    assert_eq!(one["lines"], order["lines"]);
    app.stop().await;
}
