//! International labels through the gateway: a shipment that crosses a customs
//! border needs a valid declaration before any carrier is called; a valid one
//! reaches the carrier in its own structure.

mod support;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::{spawn, Db, Setup, TestApp};
use tradelane::connectors::mock::{self, RunningMock};

fn mocks() -> Vec<RunningMock> {
    mock::start_all(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")), 0, 1).unwrap()
}

async fn gateway(mocks: &[RunningMock]) -> TestApp {
    let mut toml = "[shipping]\nrate_timeout_ms = 3000\n".to_string();
    for m in mocks {
        toml.push_str(&format!(
            "[carriers.{}]\nbase_url = \"{}\"\n{}\nretries = 1\n",
            m.carrier,
            m.base_url,
            mock::credentials(m.carrier)
        ));
    }
    let mut setup = Setup::new(Db::Sqlite);
    setup.extra_toml = toml;
    spawn(setup).await
}

fn mock_of<'a>(mocks: &'a [RunningMock], carrier: &str) -> &'a RunningMock {
    mocks.iter().find(|m| m.carrier == carrier).unwrap()
}

/// Bodies a carrier mock received on `path`.
fn sent(m: &RunningMock, path: &str) -> Vec<Value> {
    m.state
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Columbus, Ohio to Munich, one package.
fn shipment() -> Value {
    json!({
        "from": {"name": "Acme Parts DC 12", "company": "Acme Parts", "street": ["4800 Distribution Way"], "city": "Columbus",
                 "state": "OH", "postal_code": "43228", "country": "US", "phone": "6145550142"},
        "to": {"name": "Jonas Weber", "street": ["Leopoldstrasse 12"], "city": "Munich", "postal_code": "80802",
               "country": "DE", "phone": "+49 89 1234567"},
        "packages": [{"weight": "4.5", "weight_unit": "lb", "reference": "order-9001",
                      "dimensions": {"length": 12, "width": 10, "height": 6, "unit": "in"}}],
        "ship_date": "2026-11-26"
    })
}

fn declaration() -> Value {
    json!({
        "contents_type": "merchandise", "currency": "USD", "invoice_number": "INV-9001",
        "importer_tax_ids": [{"type": "eori", "number": "DE987654321000", "country": "DE"}],
        "commodities": [
            {"description": "Hydraulic hose fitting", "quantity": 10, "unit_value": "8.40", "unit_net_weight": "0.12",
             "weight_unit": "kg", "hs_code": "7307.22.5000", "origin_country": "US", "sku": "HF-22"}
        ]
    })
}

fn order(carrier: &str, service: &str, customs: Option<Value>) -> Value {
    let mut s = shipment();
    if let Some(c) = customs {
        s["customs"] = c;
    }
    json!({"shipment": s, "carrier": carrier, "service_code": service, "label_format": "pdf"})
}

async fn problem(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    (status, r.json().await.unwrap())
}

fn error_fields(p: &Value) -> Vec<&str> {
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_labels_need_a_valid_declaration_before_any_carrier_call() {
    let mocks = mocks();
    let app = gateway(&mocks).await;
    let fedex = mock_of(&mocks, "fedex");

    // No declaration.
    let r = app
        .post_json(
            "/v1/labels",
            &app.client_key,
            "intl-1",
            &order("fedex", "INTERNATIONAL_PRIORITY", None),
        )
        .await;
    let (status, p) = problem(r).await;
    assert_eq!(status, 422);
    assert_eq!(p["type"], "https://tradelane.dev/problems/customs-required");
    assert_eq!(
        p["detail"],
        "a customs declaration (shipment.customs) is required for a shipment from US to DE"
    );
    assert_eq!(p["errors"], json!([{"field": "shipment.customs", "message": "required"}]));

    // Invalid declaration: every field is named.
    let mut bad = declaration();
    bad["currency"] = json!("EUROS");
    bad["commodities"][0]["hs_code"] = json!("7307");
    bad["commodities"][0]["origin_country"] = json!("USA");
    let r = app
        .post_json(
            "/v1/labels",
            &app.client_key,
            "intl-1",
            &order("fedex", "INTERNATIONAL_PRIORITY", Some(bad)),
        )
        .await;
    let (status, p) = problem(r).await;
    assert_eq!(status, 422);
    assert_eq!(p["type"], "https://tradelane.dev/problems/invalid-customs");
    assert_eq!(
        error_fields(&p),
        [
            "shipment.customs.currency",
            "shipment.customs.commodities[0].hs_code",
            "shipment.customs.commodities[0].origin_country"
        ]
    );
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("shipment.customs.commodities[0].hs_code: HS code \"7307\" has 4 digits"));

    // Over 2,500 USD without an ITN: the line and the reason are named.
    let mut costly = declaration();
    costly["commodities"][0]["unit_value"] = json!("300");
    let r = app
        .post_json(
            "/v1/labels",
            &app.client_key,
            "intl-1",
            &order("fedex", "INTERNATIONAL_PRIORITY", Some(costly)),
        )
        .await;
    let (_, p) = problem(r).await;
    assert_eq!(error_fields(&p), ["shipment.customs.itn"]);
    assert_eq!(
        p["errors"][0]["message"],
        "an AES ITN is required: commodities[0] with Schedule B 7307225000 is worth 3000.00 USD, over 2500 USD"
    );

    // Nothing reached FedEx, and nothing was reserved under the key: it still buys.
    assert!(sent(fedex, "/ship/v1/shipments").is_empty());
    let r = app
        .post_json(
            "/v1/labels",
            &app.client_key,
            "intl-1",
            &order("fedex", "INTERNATIONAL_PRIORITY", Some(declaration())),
        )
        .await;
    assert_eq!(r.status(), 201);
    let label: Value = r.json().await.unwrap();
    assert_eq!(label["status"], "purchased", "{label:#}");
    let ships = sent(fedex, "/ship/v1/shipments");
    assert_eq!(ships.len(), 1);
    let detail = &ships[0]["requestedShipment"]["customsClearanceDetail"];
    assert_eq!(
        detail["commodities"],
        json!([{
            "description": "Hydraulic hose fitting", "quantity": 10, "quantityUnits": "PCS", "numberOfPieces": 1,
            "unitPrice": {"amount": 8.4, "currency": "USD"}, "customsValue": {"amount": 84, "currency": "USD"},
            "weight": {"units": "LB", "value": 2.65}, "countryOfManufacture": "US", "harmonizedCode": "7307225000",
            "partNumber": "HF-22"
        }])
    );
    assert_eq!(detail["totalCustomsValue"], json!({"amount": 84, "currency": "USD"}));
    assert_eq!(detail["exportDetail"], json!({"exportComplianceStatement": "NO_EEI_30_37_A"}));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_shopping_policies_check_customs_first_and_each_carrier_gets_its_own_structure() {
    let mocks = mocks();
    let app = gateway(&mocks).await;

    // A policy would rate-shop first: without a declaration no carrier is asked at all.
    let mut shop = order("ups", "65", None);
    shop.as_object_mut().unwrap().remove("carrier");
    shop.as_object_mut().unwrap().remove("service_code");
    shop["policy"] = json!("cheapest");
    let (status, p) = problem(app.post_json("/v1/labels", &app.client_key, "shop-1", &shop).await).await;
    assert_eq!(
        (status, p["type"].as_str().unwrap()),
        (422, "https://tradelane.dev/problems/customs-required")
    );
    assert!(mocks.iter().all(|m| m.state.requests().is_empty()), "no carrier was called");

    // UPS: InternationalForms with the exemption legend.
    let r = app
        .post_json("/v1/labels", &app.client_key, "ups-1", &order("ups", "65", Some(declaration())))
        .await;
    assert_eq!(r.status(), 201);
    let ships = sent(mock_of(&mocks, "ups"), "/api/shipments/v2409/ship");
    let forms = &ships[0]["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"]["InternationalForms"];
    assert_eq!(forms["FormType"], json!(["01"]));
    assert_eq!(forms["InvoiceNumber"], "INV-9001");
    assert_eq!(forms["Product"][0]["CommodityCode"], "7307225000");
    assert_eq!(
        forms["EEIFilingOption"]["ShipperFiled"],
        json!({"Code": "B", "ExemptionLegend": "NO EEI 30.37(a)"})
    );

    // DHL: exportDeclaration and the importer's EORI.
    let r = app
        .post_json("/v1/labels", &app.client_key, "dhl-1", &order("dhl", "P", Some(declaration())))
        .await;
    assert_eq!(r.status(), 201);
    let ships = sent(mock_of(&mocks, "dhl"), "/shipments");
    let content = &ships[0]["content"];
    assert_eq!(content["declaredValue"], 84);
    assert_eq!(content["exportDeclaration"]["invoice"]["number"], "INV-9001");
    assert_eq!(
        content["exportDeclaration"]["lineItems"][0]["commodityCodes"],
        json!([{"typeCode": "outbound", "value": "7307225000"}])
    );
    assert_eq!(
        ships[0]["customerDetails"]["receiverDetails"]["registrationNumbers"],
        json!([{"typeCode": "EOR", "number": "DE987654321000", "issuerCountryCode": "DE"}])
    );

    // USPS: the International Labels API with its customs form.
    let r = app
        .post_json(
            "/v1/labels",
            &app.client_key,
            "usps-1",
            &order("usps", "PRIORITY_MAIL_INTERNATIONAL", Some(declaration())),
        )
        .await;
    assert_eq!(r.status(), 201);
    let label: Value = r.json().await.unwrap();
    assert_eq!(label["tracking_number"], mock::usps::INTERNATIONAL_TRACKING_NUMBER);
    let ships = sent(mock_of(&mocks, "usps"), "/international-labels/v3/international-label");
    assert_eq!(
        ships[0]["customsForm"],
        json!({
            "customsContentType": "MERCHANDISE", "AESITN": "NO EEI 30.37(a)", "invoiceNumber": "INV-9001",
            "importersReference": {"referenceType": "IMPORTER_CODE", "reference": "DE987654321000"},
            "contents": [{"itemDescription": "Hydraulic hose fitting", "itemQuantity": 10, "itemTotalValue": 84,
                          "weightUOM": "lb", "itemTotalWeight": 2.646, "HSTariffNumber": "7307225000", "countryofOrigin": "US"}]
        })
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_validate_a_declaration_when_one_is_given() {
    let mocks = mocks();
    let app = gateway(&mocks).await;
    let mut query = shipment();
    query["carriers"] = json!(["dhl"]);
    // Rates need no declaration.
    let r = app.post_json("/v1/rates", &app.client_key, "-", &query).await;
    assert_eq!(r.status(), 200);
    // A given one must be valid, and DHL gets its declared value.
    let mut bad = declaration();
    bad["commodities"][0]["quantity"] = json!(0);
    query["customs"] = bad;
    let (status, p) = problem(app.post_json("/v1/rates", &app.client_key, "-", &query).await).await;
    assert_eq!(status, 422);
    assert_eq!(error_fields(&p), ["customs.commodities[0].quantity"]);
    query["customs"] = declaration();
    let r = app.post_json("/v1/rates", &app.client_key, "-", &query).await;
    assert_eq!(r.status(), 200);
    let rates = sent(mock_of(&mocks, "dhl"), "/rates");
    assert_eq!(
        rates.last().unwrap()["monetaryAmount"],
        json!([{"typeCode": "declaredValue", "value": 84, "currency": "USD"}])
    );
    app.stop().await;
}
