//! Landed-cost quotes and commercial invoices through the gateway, against
//! the mock Zonos-style and DHL Express landed-cost services (which compute
//! from `fixtures/landed_cost/tariffs.json`).

mod support;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::{spawn, Db, Setup, TestApp};
use tradelane::connectors::mock::{landed_cost, RunningMock};
use tradelane::store::Scope;

fn mocks() -> Vec<RunningMock> {
    landed_cost::start_all(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/landed_cost")), 0, 1).unwrap()
}

fn mock<'a>(mocks: &'a [RunningMock], provider: &str) -> &'a RunningMock {
    mocks.iter().find(|m| m.carrier == provider).unwrap()
}

async fn gateway(db: Db, mocks: &[RunningMock]) -> TestApp {
    let mut setup = Setup::new(db);
    setup.extra_toml = String::from("[landed_cost]\ndefault_provider = \"zonos\"\n");
    for m in mocks {
        setup.extra_toml.push_str(&format!(
            "[landed_cost.{}]\nbase_url = \"{}\"\n{}\nretries = 2\n",
            m.carrier,
            m.base_url,
            landed_cost::credentials(m.carrier)
        ));
    }
    spawn(setup).await
}

fn address(country: &str) -> Value {
    match country {
        "US" => json!({"company": "Acme Parts", "name": "Export desk", "street": ["4800 Distribution Way"], "city": "Columbus",
                       "state": "OH", "postal_code": "43228", "country": "US", "phone": "6145550142"}),
        "DE" => json!({"company": "Müller Kfz GmbH", "street": ["Hauptstraße 5"], "city": "Köln", "postal_code": "50667", "country": "DE"}),
        "CA" => json!({"company": "Northern Auto Supply", "street": ["120 King St W"], "city": "Toronto", "state": "ON",
                       "postal_code": "M5H 1J9", "country": "CA"}),
        other => json!({"company": "Importer", "street": ["1-2-3 Ginza"], "city": "Tokyo", "postal_code": "104-0061", "country": other}),
    }
}

/// Brake pads (US origin, HS 8708.30) and wheel bearings (HS 8482.10) worth 293.50 USD.
fn order(to: &str, bearing_origin: &str) -> Value {
    json!({
        "from": address("US"),
        "to": address(to),
        "shipping": {"amount": "35.00", "currency": "USD"},
        "declaration": {
            "contents_type": "merchandise",
            "reason_for_export": "sale",
            "incoterm": "DAP",
            "currency": "USD",
            "invoice_number": "INV-2026-0042",
            "invoice_date": "2026-11-25",
            "freight_charge": "35.00",
            "exporter_tax_ids": [{"type": "ein", "number": "12-3456789", "country": "US"}],
            "importer_tax_ids": [{"type": "eori", "number": "DE123456789012345", "country": "DE"}],
            "signer": {"name": "Jane Doe", "title": "Export manager"},
            "certify": true,
            "commodities": [
                {"description": "Brake pad set, ceramic", "quantity": 4, "unit_value": "42.50", "unit_net_weight": "1.2",
                 "hs_code": "8708.30", "origin_country": "US", "sku": "BP-4410"},
                {"description": "Wheel bearing", "quantity": 10, "unit_value": "12.35", "unit_net_weight": "0.4",
                 "hs_code": "848210", "origin_country": bearing_origin, "sku": "WB-220"}
            ]
        }
    })
}

fn item<'a>(q: &'a Value, reference: &str) -> &'a Value {
    q["items"].as_array().unwrap().iter().find(|i| i["ref"] == reference).unwrap()
}

/// An amount as its JSON text, so comparisons are to the cent.
fn amount(v: &Value) -> String {
    v.to_string()
}

async fn problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    r.json().await.unwrap()
}

async fn zonos_quote_is_exact_stored_and_owned(db: Db) {
    let mocks = mocks();
    let app = gateway(db, &mocks).await;
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &order("DE", "US")).await;
    assert_eq!(r.status(), 201);
    let q: Value = r.json().await.unwrap();
    assert_eq!(q["provider"], "zonos");
    assert_eq!(q["currency"], "USD");
    assert!(q["id"].as_str().unwrap().starts_with("lcq_"));
    assert!(q["quote_id"].as_str().unwrap().starts_with("ldct_"));
    assert_eq!(q["guaranteed"], true);
    assert_eq!(q["de_minimis_applied"], false);
    // DE: 8708.30 at 3 %, 8482 at 8 %, 3 % duty on freight (CIF), 19 % VAT on value + duty.
    let bp = item(&q, "BP-4410");
    assert_eq!(bp["hs_code"], "870830");
    assert_eq!((amount(&bp["duty"]), amount(&bp["tax"])), ("5.1".into(), "33.27".into()));
    assert_eq!(bp["formula"], "duty 3%; tax 19% of (item + duty)");
    let wb = item(&q, "WB-220");
    assert_eq!((amount(&wb["duty"]), amount(&wb["tax"])), ("9.88".into(), "25.34".into()));
    let t = &q["totals"];
    let got: Vec<String> = ["goods", "shipping", "duties", "taxes", "fees", "brokerage", "landed_total"]
        .iter()
        .map(|k| amount(&t[*k]))
        .collect();
    assert_eq!(got, ["293.5", "35", "16.03", "65.46", "0", "14.5", "424.49"]);

    // What the provider received: its own format and headers.
    let sent = mock(&mocks, "zonos").state.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/landed_cost");
    assert_eq!(sent[0].header("zonos-version"), "2019-11-21");
    assert_eq!(sent[0].header("servicetoken"), "mock-zonos-token");
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["ship_to"]["country"], "DE");
    assert_eq!(body["ship_from_country"], "US");
    assert_eq!(body["shipping"]["amount"], json!(35));
    assert_eq!(
        body["items"][0],
        json!({"id": "BP-4410", "amount": 42.5, "quantity": 4, "hs_code": "870830",
                                        "country_of_origin": "US", "description_customs": "Brake pad set, ceramic"})
    );

    // Stored for its owner: the same quote comes back; another owner sees nothing.
    let id = q["id"].as_str().unwrap();
    let again = app.get_json(&format!("/v1/customs/quotes/{id}"), &app.client_key).await;
    assert_eq!(again, q);
    let other = app.store.create_key("warehouse-2", &[Scope::Shipping]).await.unwrap().token;
    for path in [
        format!("/v1/customs/quotes/{id}"),
        format!("/v1/customs/quotes/{id}/commercial-invoice.pdf"),
        format!("/v1/customs/{id}/commercial-invoice.pdf"),
    ] {
        let r = app.get(&path, &other).await;
        assert_eq!(problem(r, 404).await["type"], "https://tradelane.dev/problems/not-found");
    }
    let operator = app.store.create_key("ops", &[Scope::Admin, Scope::Shipping]).await.unwrap().token;
    assert_eq!(app.get_json(&format!("/v1/customs/quotes/{id}"), &operator).await, q);
    // The documents scopes do not include customs quotes.
    assert_eq!(app.get(&format!("/v1/customs/quotes/{id}"), &app.acme_key).await.status(), 403);

    // Below both Canadian de minimis thresholds nothing is charged.
    let mut small = order("CA", "US");
    small["declaration"]["commodities"] = json!([{"description": "Brake pad clip", "quantity": 1, "unit_value": "25.00",
        "unit_net_weight": "0.1", "hs_code": "870830", "origin_country": "CN", "sku": "CL-1"}]);
    small["shipping"]["amount"] = json!("10.00");
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &small).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["de_minimis_applied"], true);
    let got: Vec<String> = ["duties", "taxes", "fees", "brokerage", "landed_total"]
        .iter()
        .map(|k| amount(&s["totals"][*k]))
        .collect();
    assert_eq!(got, ["0", "0", "0", "0", "35"]);
    app.stop().await;
}

async fn dhl_quote_is_exact(db: Db) {
    let mocks = mocks();
    let app = gateway(db, &mocks).await;
    let mut o = order("CA", "CN");
    o["provider"] = json!("dhl");
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await;
    assert_eq!(r.status(), 201);
    let q: Value = r.json().await.unwrap();
    assert_eq!(q["provider"], "dhl");
    assert_eq!(q["guaranteed"], false);
    assert_eq!(q["de_minimis_applied"], false);
    // CA: US-origin pads duty free (USMCA), Chinese bearings 5 % (6.175 rounds up), 5 % GST on value + duty and on freight.
    let bp = item(&q, "BP-4410");
    assert_eq!((amount(&bp["duty"]), amount(&bp["tax"])), ("0".into(), "8.5".into()));
    assert_eq!(bp["formula"], "duty (0 * COST); tax (0.05 * (COST + DUTY))");
    let wb = item(&q, "WB-220");
    assert_eq!((amount(&wb["duty"]), amount(&wb["tax"])), ("6.18".into(), "6.48".into()));
    let got: Vec<String> = ["goods", "shipping", "duties", "taxes", "fees", "brokerage", "landed_total"]
        .iter()
        .map(|k| amount(&q["totals"][*k]))
        .collect();
    assert_eq!(got, ["293.5", "35", "6.18", "16.73", "2.5", "9.95", "363.86"]);

    let sent = mock(&mocks, "dhl").state.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/landed-cost");
    assert!(sent[0].header("authorization").starts_with("Basic "));
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["customerDetails"]["receiverDetails"]["countryCode"], "CA");
    assert_eq!(body["accounts"][0], json!({"typeCode": "shipper", "number": "123456789"}));
    assert_eq!(
        body["charges"][0],
        json!({"typeCode": "freight", "amount": 35, "currencyCode": "USD"})
    );
    assert_eq!(body["packages"][0]["weight"], json!(8.8));
    assert_eq!(body["getCostBreakdown"], true);
    assert_eq!(body["items"][1]["commodityCode"], "848210");
    assert_eq!(body["items"][1]["manufacturerCountry"], "CN");
    assert_eq!(body["items"][1]["partNumber"], "WB-220");

    let id = q["id"].as_str().unwrap();
    assert_eq!(app.get_json(&format!("/v1/customs/quotes/{id}"), &app.client_key).await, q);
    app.stop().await;
}

on_both_databases!(
    zonos_quote_is_exact_stored_and_owned,
    dhl_quote_is_exact,
    amounts_beyond_cents_are_refused_by_field
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_5xx_is_retried_and_persistent_failure_is_typed() {
    let mocks = mocks();
    let app = gateway(Db::Sqlite, &mocks).await;
    let zonos = mock(&mocks, "zonos");
    zonos.state.fail_next(&[503, 500]);
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &order("DE", "US")).await;
    assert_eq!(r.status(), 201);
    let q: Value = r.json().await.unwrap();
    assert_eq!(amount(&q["totals"]["landed_total"]), "424.49");
    assert_eq!(zonos.state.requests().len(), 3, "two failures, then the answer");

    // Still failing after the retries: a typed 502, nothing stored.
    let dhl = mock(&mocks, "dhl");
    dhl.state.fail_next(&[503, 503, 503]);
    let mut o = order("CA", "CN");
    o["provider"] = json!("dhl");
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await;
    let p = problem(r, 502).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/landed-cost-unavailable");
    assert_eq!(dhl.state.requests().len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_rejections_become_typed_problems() {
    let mocks = mocks();
    let app = gateway(Db::Sqlite, &mocks).await;
    // Neither mock has tables for Japan: Zonos answers its error object, DHL its problem+json.
    let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &order("JP", "US")).await;
    let p = problem(r, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/landed-cost-rejected");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("unsupported") && detail.contains("param ship_to.country"),
        "{detail}"
    );

    let mut o = order("JP", "US");
    o["provider"] = json!("dhl");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/landed-cost-rejected");
    assert!(p["detail"].as_str().unwrap().contains("destination JP"), "{p}");

    // An unknown provider is the caller's mistake; no provider is called.
    o["provider"] = json!("avalara");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/unknown-provider");
    assert_eq!(p["field"], "provider", "{p}");
    assert_eq!(mock(&mocks, "dhl").state.requests().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_declarations_name_the_field() {
    let mocks = mocks();
    let app = gateway(Db::Sqlite, &mocks).await;
    let fields = |p: &Value| -> Vec<String> {
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_string())
            .collect()
    };
    let mut bad_hs = order("DE", "US");
    bad_hs["declaration"]["commodities"][1]["hs_code"] = json!("84A210");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &bad_hs).await, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/invalid-customs");
    assert_eq!(fields(&p), ["declaration.commodities[1].hs_code"]);

    // A US export line over 2,500 USD needs an ITN.
    let mut big = order("DE", "US");
    big["declaration"]["commodities"][0]["quantity"] = json!(100);
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &big).await, 422).await;
    assert_eq!(fields(&p), ["declaration.itn"]);

    // The shipping charge is in the declaration's currency; countries are checked too.
    let mut eur = order("DE", "US");
    eur["shipping"]["currency"] = json!("EUR");
    eur["to"]["country"] = json!("XX");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &eur).await, 422).await;
    assert_eq!(fields(&p), ["to.country"]);
    let mut eur = order("DE", "US");
    eur["shipping"]["currency"] = json!("EUR");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &eur).await, 422).await;
    assert_eq!(fields(&p), ["shipping.currency"]);

    // Not JSON of the right shape at all.
    let mut unknown = order("DE", "US");
    unknown["declaration"]["colour"] = json!("red");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &unknown).await, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/invalid-document");
    assert!(
        mock(&mocks, "zonos").state.requests().is_empty(),
        "no provider call for an invalid request"
    );
    app.stop().await;
}

/// Checks the xref table: every entry points at its `n 0 obj`, `/Size` counts them; returns the page count.
fn check_pdf(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let tail = String::from_utf8_lossy(&pdf[pdf.len() - 40..]).into_owned();
    let start: usize = tail.split("startxref\n").nth(1).unwrap().lines().next().unwrap().parse().unwrap();
    let xref = std::str::from_utf8(&pdf[start..]).unwrap();
    assert!(xref.starts_with("xref\n0 "));
    let count: usize = xref.lines().nth(1).unwrap()[2..].parse().unwrap();
    let size: usize = xref.split("/Size ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(size, count);
    for (n, line) in xref.lines().skip(2).take(count).enumerate().skip(1) {
        let offset: usize = line[..10].parse().unwrap();
        assert!(pdf[offset..].starts_with(format!("{n} 0 obj\n").as_bytes()), "xref entry {n}");
    }
    let text = String::from_utf8_lossy(pdf);
    text.split("/Type /Pages /Kids")
        .nth(1)
        .unwrap()
        .split("/Count ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commercial_invoice_is_a_well_formed_pdf() {
    let mocks = mocks();
    let app = gateway(Db::Sqlite, &mocks).await;
    let mut o = order("DE", "US");
    o["declaration"]["commodities"][0]["description"] = json!("Brake pad set (front), ceramic");
    let q: Value = app
        .post_json("/v1/customs/quotes", &app.client_key, "-", &o)
        .await
        .json()
        .await
        .unwrap();
    let id = q["id"].as_str().unwrap();
    let mut bodies = Vec::new();
    for path in [
        format!("/v1/customs/quotes/{id}/commercial-invoice.pdf"),
        format!("/v1/customs/{id}/commercial-invoice.pdf"),
    ] {
        let r = app.get(&path, &app.client_key).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        bodies.push(r.bytes().await.unwrap().to_vec());
    }
    assert_eq!(bodies[0], bodies[1]);
    let pdf = &bodies[0];
    assert_eq!(check_pdf(pdf), 1);
    let text = String::from_utf8_lossy(pdf);
    for s in [
        "(COMMERCIAL INVOICE)",
        "(Invoice no. INV-2026-0042)",
        "(Date 2026-11-25)",
        "(EIN 12-3456789 \\(US\\))",
        "(EORI DE123456789012345 \\(DE\\))",
        "(Brake pad set \\(front\\), ceramic \\(BP-4410\\))",
        "(870830)",
        "(848210)",
        "(DAP)",
        "(sale)",
        "(170.00)",
        "(123.50)",
        "(293.50)",
        "(35.00)",
        "(328.50)",
        "(NO EEI 30.37\\(a\\))",
        "(Signature: Jane Doe, Export manager)",
        "(M\\374ller Kfz GmbH)",
    ] {
        assert!(text.contains(s), "{s} not in the content stream");
    }
    // Where poppler is installed, its text extraction agrees.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(file.path())
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => {
            let extracted = String::from_utf8_lossy(&out.stdout);
            for s in [
                "INV-2026-0042",
                "870830",
                "848210",
                "328.50",
                "NO EEI 30.37(a)",
                "Müller Kfz GmbH",
                "Page 1 of 1",
            ] {
                assert!(extracted.contains(s), "{s} not extracted:\n{extracted}");
            }
        }
        _ => eprintln!("pdftotext not installed: skipping the extraction check"),
    }

    // With an ITN and many lines: the filing is printed and the lines flow onto more pages.
    let mut long = order("DE", "US");
    let line = long["declaration"]["commodities"][1].clone();
    let lines: Vec<Value> = (0..90)
        .map(|i| {
            let mut l = line.clone();
            l["sku"] = json!(format!("WB-{i:03}"));
            l
        })
        .collect();
    long["declaration"]["commodities"] = json!(lines);
    long["declaration"]["itn"] = json!("X20261125123456");
    // Without a freight charge in the declaration, the quoted shipping is the invoice's freight.
    long["declaration"].as_object_mut().unwrap().remove("freight_charge");
    long["shipping"]["amount"] = json!("20.00");
    let q: Value = app
        .post_json("/v1/customs/quotes", &app.client_key, "-", &long)
        .await
        .json()
        .await
        .unwrap();
    let id = q["id"].as_str().unwrap();
    let r = app.get(&format!("/v1/customs/{id}/commercial-invoice.pdf"), &app.client_key).await;
    let pdf = r.bytes().await.unwrap().to_vec();
    let pages = check_pdf(&pdf);
    assert!(pages >= 2, "{pages} pages");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("(AES X20261125123456)"));
    assert!(text.contains("(WB-089)") || text.contains("\\(WB-089\\)"));
    // 90 × 123.50 = 11,115.00
    assert!(text.contains("(11115.00)"));
    assert!(text.contains("(20.00)") && text.contains("(11135.00)"));
    assert!(text.contains(&format!("(Page {pages} of {pages})")));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_a_typed_gateway_error() {
    let mocks = mocks();
    let mut setup = Setup::new(Db::Sqlite);
    setup.extra_toml = format!(
        "[landed_cost.zonos]\nbase_url = \"{}\"\nkey = \"revoked-token\"\n",
        mock(&mocks, "zonos").base_url
    );
    let app = spawn(setup).await;
    let p = problem(
        app.post_json("/v1/customs/quotes", &app.client_key, "-", &order("DE", "US")).await,
        502,
    )
    .await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/landed-cost-auth");
    // Refused credentials are not retried, and the token never reaches the caller.
    assert_eq!(mock(&mocks, "zonos").state.requests().len(), 1);
    assert!(!p.to_string().contains("revoked-token"));
    // DHL is not configured here.
    let mut o = order("CA", "US");
    o["provider"] = json!("dhl");
    let p = problem(app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await, 422).await;
    assert_eq!(p["type"], "https://tradelane.dev/problems/unknown-provider");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_carriers_command_also_serves_the_landed_cost_mocks() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tradelane"))
        .args(["mock-carriers", "--port", "0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // The configuration is printed at start; read it up to the last table.
    let printed = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("account_number") && text.contains("[landed_cost.dhl]");
            text.push_str(&line);
            text.push('\n');
            if done {
                break;
            }
        }
        text
    })
    .await
    .unwrap();
    let config: toml::Value = toml::from_str(&printed).unwrap();
    let zonos = config["landed_cost"]["zonos"]["base_url"].as_str().unwrap().to_string();
    assert_eq!(config["landed_cost"]["zonos"]["key"].as_str(), Some(landed_cost::ZONOS_TOKEN));
    assert!(config["landed_cost"]["dhl"]["base_url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    // The printed settings work: the Zonos mock answers a quote.
    let r = reqwest::Client::new()
        .post(format!("{zonos}/v1/landed_cost"))
        .header("zonos-version", "2019-11-21")
        .header("serviceToken", landed_cost::ZONOS_TOKEN)
        .json(&json!({"currency": "USD", "ship_to": {"country": "GB"}, "shipping": {"amount": 0},
                      "items": [{"id": "1", "amount": 200, "quantity": 1, "hs_code": "848210", "country_of_origin": "US"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    // GB: 4 % duty on bearings, 20 % VAT on value + duty.
    assert_eq!(v["amount_subtotal"], json!({"duties": 8, "taxes": 41.6, "fees": 11}));
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Amounts too large to count in cents are the caller's error, named by field, on both providers.
async fn amounts_beyond_cents_are_refused_by_field(db: Db) {
    let mocks = mocks();
    let app = gateway(db, &mocks).await;
    for provider in ["zonos", "dhl"] {
        let mut o = order("DE", "US");
        o["provider"] = json!(provider);
        o["shipping"]["amount"] = json!("99999999999999999");
        let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await;
        let p = problem(r, 422).await;
        assert_eq!(p["type"], "https://tradelane.dev/problems/invalid-customs", "{p}");
        assert_eq!(p["errors"][0]["field"], "shipping.amount", "{p}");

        let mut o = order("DE", "US");
        o["provider"] = json!(provider);
        // Exported from Canada: no AES filing stands in the way of the value.
        o["from"] = address("CA");
        o["declaration"]["commodities"][0]["unit_value"] = json!("99999999999999999");
        let r = app.post_json("/v1/customs/quotes", &app.client_key, "-", &o).await;
        let p = problem(r, 422).await;
        assert_eq!(p["type"], "https://tradelane.dev/problems/invalid-customs", "{p}");
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["declaration.commodities"], "{p}");
    }
    app.stop().await;
}
