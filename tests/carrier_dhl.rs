//! DHL Express (MyDHL API) adapter against its local mock: request shape and
//! headers, exact parsing of the fixtures, error mapping, retries and the
//! missing void.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use tradelane::connectors::carriers::dhl::{self, Dhl};
use tradelane::connectors::carriers::{
    Address, CarrierAccount, CarrierError, CarrierHttp, Dimensions, LabelFormat, LabelRequest, LengthUnit, Package, Shipment,
    TrackingStatus, WeightUnit,
};
use tradelane::connectors::mock::{self, RunningMock};
use tradelane::customs::RawDeclaration;
use tradelane::model::{Date, Decimal};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers/dhl");

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn start() -> RunningMock {
    mock::start(
        mock::dhl::mock(),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")),
        "127.0.0.1:0",
        1,
    )
    .unwrap()
}

fn account(base_url: &str, user: &str, pass: &str) -> CarrierAccount {
    CarrierAccount {
        base_url: Some(base_url.to_string()),
        key: Some(user.to_string()),
        secret: Some(pass.to_string()),
        account_number: Some("123456789".to_string()),
        extra: Default::default(),
    }
}

fn adapter(base_url: &str) -> Dhl {
    adapter_as(base_url, "mock-user", "mock-pass")
}

fn adapter_as(base_url: &str, user: &str, pass: &str) -> Dhl {
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    Dhl::new(&account(base_url, user, pass), http)
}

fn shipment() -> Shipment {
    Shipment {
        from: Address {
            name: Some("Dana Whitfield".into()),
            company: Some("Chesapeake Outfitters".into()),
            street: vec!["2120 York Rd".into(), "Suite 300".into()],
            city: "Timonium".into(),
            state: Some("MD".into()),
            postal_code: "21093".into(),
            country: "US".into(),
            phone: Some("+1 410 555 0142".into()),
            email: Some("shipping@chesapeake.example".into()),
            residential: false,
        },
        to: Address {
            name: Some("Louise Martin".into()),
            company: None,
            street: vec!["14 Rue de Rivoli".into()],
            city: "Paris".into(),
            state: None,
            postal_code: "75001".into(),
            country: "FR".into(),
            phone: Some("+33 1 42 60 00 00".into()),
            email: None,
            residential: true,
        },
        packages: vec![Package {
            weight: d("2.5"),
            weight_unit: WeightUnit::Kg,
            dimensions: Some(Dimensions {
                length: d("30"),
                width: d("20"),
                height: d("10.5"),
                unit: LengthUnit::Cm,
            }),
            reference: Some("order-1001".into()),
        }],
        ship_date: Some(date("2025-03-17")),
        shipper: None,
        customs: None,
    }
}

/// A US → France declaration: two lines, one of them priced per gram.
fn declaration() -> RawDeclaration {
    serde_json::from_value(json!({
        "contents_type": "merchandise", "reason_for_export": "sale", "incoterm": "DAP", "currency": "USD",
        "invoice_number": "INV-1001", "invoice_date": "2025-03-17", "po_number": "PO-77", "freight_charge": "25.00",
        "exporter_tax_ids": [{ "type": "ein", "number": "12-3456789", "country": "US" }],
        "importer_tax_ids": [{ "type": "eori", "number": "FR12345678901234", "country": "FR" }],
        "signer": { "name": "Dana Whitfield", "title": "Shipping Manager" },
        "commodities": [
            { "description": "Men's cotton T-shirt, knitted", "quantity": 4, "unit": "PCS", "unit_value": "12.50",
              "unit_net_weight": "0.2", "weight_unit": "kg", "hs_code": "6109.10.0012", "origin_country": "US", "sku": "TS-100-M" },
            { "description": "Leather belt", "quantity": 1, "unit_value": 35, "unit_net_weight": 300, "weight_unit": "g",
              "hs_code": "4203.30.0000", "origin_country": "IT", "eccn": "EAR99" }
        ]
    }))
    .unwrap()
}

fn label_request() -> LabelRequest {
    let mut shipment = shipment();
    shipment.customs = Some(declaration());
    LabelRequest {
        shipment,
        service_code: "P".into(),
        label_format: LabelFormat::Pdf,
    }
}

/// The `content` DHL gets for [`label_request`].
fn expected_content() -> serde_json::Value {
    json!({
        "packages": [{ "weight": 2.5, "dimensions": { "length": 30, "width": 20, "height": 10.5 },
                       "customerReferences": [{ "typeCode": "CU", "value": "order-1001" }] }],
        "isCustomsDeclarable": true,
        "declaredValue": 85,
        "declaredValueCurrency": "USD",
        "description": "Men's cotton T-shirt, knitted, Leather belt",
        "incoterm": "DAP",
        "unitOfMeasurement": "metric",
        "USFilingTypeValue": "NO EEI 30.37(a)",
        "exportDeclaration": {
            "lineItems": [
                { "number": 1, "description": "Men's cotton T-shirt, knitted", "price": 12.5,
                  "quantity": { "value": 4, "unitOfMeasurement": "PCS" },
                  "commodityCodes": [{ "typeCode": "outbound", "value": "6109100012" }],
                  "exportReasonType": "commercial_purpose_or_sale", "manufacturerCountry": "US",
                  "weight": { "netValue": 0.8, "grossValue": 0.8 },
                  "customerReferences": [{ "typeCode": "PAN", "value": "TS-100-M" }] },
                { "number": 2, "description": "Leather belt", "price": 35,
                  "quantity": { "value": 1, "unitOfMeasurement": "PCS" },
                  "commodityCodes": [{ "typeCode": "outbound", "value": "4203300000" }],
                  "exportReasonType": "commercial_purpose_or_sale", "manufacturerCountry": "IT",
                  "weight": { "netValue": 0.3, "grossValue": 0.3 },
                  "exportControlClassificationNumber": "EAR99" }
            ],
            "invoice": { "number": "INV-1001", "date": "2025-03-17", "signatureName": "Dana Whitfield",
                         "signatureTitle": "Shipping Manager", "customerReferences": [{ "typeCode": "PON", "value": "PO-77" }] },
            "exportReasonType": "commercial_purpose_or_sale",
            "shipmentType": "commercial",
            "additionalCharges": [{ "value": 25, "typeCode": "freight" }]
        }
    })
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn rejected(e: CarrierError) -> (String, String) {
    match e {
        CarrierError::Rejected { carrier, code, message } => {
            assert_eq!(carrier, "dhl");
            (code, message)
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn rate_request_follows_the_published_schema() {
    let body = adapter("http://unused").rate_request(&shipment()).unwrap();
    assert_eq!(
        body,
        json!({
            "customerDetails": {
                "shipperDetails": {
                    "postalCode": "21093", "cityName": "Timonium", "countryCode": "US", "provinceCode": "MD",
                    "addressLine1": "2120 York Rd", "addressLine2": "Suite 300"
                },
                "receiverDetails": { "postalCode": "75001", "cityName": "Paris", "countryCode": "FR", "addressLine1": "14 Rue de Rivoli" }
            },
            "accounts": [{ "typeCode": "shipper", "number": "123456789" }],
            "payerCountryCode": "US",
            "plannedShippingDateAndTime": "2025-03-17T12:00:00GMT+00:00",
            "unitOfMeasurement": "metric",
            "isCustomsDeclarable": true,
            "estimatedDeliveryDate": { "isRequested": true, "typeCode": "QDDC" },
            "packages": [{ "weight": 2.5, "dimensions": { "length": 30, "width": 20, "height": 10.5 } }]
        })
    );
    // The number text on the wire is the decimal's own text.
    let text = serde_json::to_string(&body).unwrap();
    assert!(text.contains(r#""weight":2.5"#) && text.contains(r#""height":10.5"#), "{text}");
}

#[test]
fn shipment_request_follows_the_published_schema() {
    let mut r = label_request();
    r.label_format = LabelFormat::Zpl;
    let body = adapter("http://unused").shipment_request(&r).unwrap();
    assert_eq!(body["plannedShippingDateAndTime"], "2025-03-17T12:00:00 GMT+00:00");
    assert_eq!(body["pickup"], json!({ "isRequested": false }));
    assert_eq!(body["productCode"], "P");
    assert_eq!(body["getRateEstimates"], true);
    assert_eq!(body["accounts"], json!([{ "typeCode": "shipper", "number": "123456789" }]));
    assert_eq!(body["outputImageProperties"]["encodingFormat"], "zpl");
    assert_eq!(body["outputImageProperties"]["imageOptions"][0]["typeCode"], "label");
    let shipper = &body["customerDetails"]["shipperDetails"];
    assert_eq!(
        shipper["postalAddress"],
        json!({ "postalCode": "21093", "cityName": "Timonium", "countryCode": "US", "provinceCode": "MD",
                "addressLine1": "2120 York Rd", "addressLine2": "Suite 300" })
    );
    assert_eq!(
        shipper["contactInformation"],
        json!({ "fullName": "Dana Whitfield", "companyName": "Chesapeake Outfitters", "phone": "+1 410 555 0142",
                "email": "shipping@chesapeake.example" })
    );
    assert_eq!(shipper["typeCode"], "business");
    let receiver = &body["customerDetails"]["receiverDetails"];
    // No company: DHL requires companyName, the person's name stands in.
    assert_eq!(receiver["contactInformation"]["companyName"], "Louise Martin");
    assert_eq!(receiver["typeCode"], "private");
    assert_eq!(body["content"], expected_content());
    assert_eq!(
        shipper["registrationNumbers"],
        json!([{ "typeCode": "EIN", "number": "12-3456789", "issuerCountryCode": "US" }])
    );
    assert_eq!(
        receiver["registrationNumbers"],
        json!([{ "typeCode": "EOR", "number": "FR12345678901234", "issuerCountryCode": "FR" }])
    );
    // The receiver pays duties without an account: no duties-taxes account, no DD service.
    assert!(body.get("valueAddedServices").is_none());
}

#[test]
fn duties_payer_and_itn_reach_dhl() {
    let mut r = label_request();
    let c = r.shipment.customs.as_mut().unwrap();
    c.incoterm = Some("DDP".into());
    c.itn = Some("AES X20250317123456".into());
    let body = adapter("http://unused").shipment_request(&r).unwrap();
    assert_eq!(body["valueAddedServices"], json!([{ "serviceCode": "DD" }]));
    assert_eq!(body["content"]["incoterm"], "DDP");
    assert_eq!(body["content"]["USFilingTypeValue"], "AES X20250317123456");

    let mut r = label_request();
    let c = r.shipment.customs.as_mut().unwrap();
    c.duties_payer = Some("third_party".into());
    c.duties_account = Some("950000001".into());
    let body = adapter("http://unused").shipment_request(&r).unwrap();
    assert_eq!(
        body["accounts"],
        json!([{ "typeCode": "shipper", "number": "123456789" }, { "typeCode": "duties-taxes", "number": "950000001" }])
    );
}

#[test]
fn international_labels_need_a_valid_declaration() {
    let mut r = label_request();
    r.shipment.customs = None;
    let e = adapter("http://unused").shipment_request(&r).unwrap_err();
    assert!(matches!(&e, CarrierError::Invalid(m) if m.contains("shipment.customs")), "{e:?}");
    let mut r = label_request();
    r.shipment.customs.as_mut().unwrap().commodities[1].hs_code = Some("42".into());
    let e = adapter("http://unused").shipment_request(&r).unwrap_err();
    assert!(
        matches!(&e, CarrierError::Invalid(m) if m.contains("shipment.customs.commodities[1].hs_code")),
        "{e:?}"
    );
}

#[test]
fn rates_carry_the_declared_value() {
    let mut s = shipment();
    s.customs = Some(declaration());
    let body = adapter("http://unused").rate_request(&s).unwrap();
    assert_eq!(body["isCustomsDeclarable"], true);
    assert_eq!(
        body["monetaryAmount"],
        json!([{ "typeCode": "declaredValue", "value": 85, "currency": "USD" }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_rejects_incomplete_customs_in_dhl_shape() {
    let m = start();
    let client = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        client
            .post(format!("{}/shipments", m.base_url))
            .basic_auth("mock-user", Some("mock-pass"))
            .json(&body)
            .send()
    };
    let good = adapter("http://unused").shipment_request(&label_request()).unwrap();
    assert_eq!(post(good.clone()).await.unwrap().status(), 201);

    let mut no_declaration = good.clone();
    no_declaration["content"].as_object_mut().unwrap().remove("exportDeclaration");
    let r = post(no_declaration).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["status"], "422");
    assert_eq!(problem["detail"], "#/content: required key [exportDeclaration] not found");

    let mut no_origin = good.clone();
    no_origin["content"]["exportDeclaration"]["lineItems"][1]
        .as_object_mut()
        .unwrap()
        .remove("manufacturerCountry");
    let problem: serde_json::Value = post(no_origin).await.unwrap().json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "#/content/exportDeclaration/lineItems/1: required key [manufacturerCountry] not found"
    );

    let mut not_declarable = good;
    not_declarable["content"]["isCustomsDeclarable"] = json!(false);
    let problem: serde_json::Value = post(not_declarable).await.unwrap().json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "#/content/isCustomsDeclarable: must be true for a dutiable shipment between these countries"
    );
}

#[test]
fn units_imperial_kept_mixed_converted_to_metric() {
    let mut s = shipment();
    s.packages = vec![Package {
        weight: d("10"),
        weight_unit: WeightUnit::Lb,
        dimensions: Some(Dimensions {
            length: d("12"),
            width: d("10"),
            height: d("8"),
            unit: LengthUnit::In,
        }),
        reference: None,
    }];
    let body = adapter("http://unused").rate_request(&s).unwrap();
    assert_eq!(body["unitOfMeasurement"], "imperial");
    assert_eq!(
        body["packages"],
        json!([{ "weight": 10, "dimensions": { "length": 12, "width": 10, "height": 8 } }])
    );

    s.packages.push(shipment().packages[0].clone());
    let body = adapter("http://unused").rate_request(&s).unwrap();
    assert_eq!(body["unitOfMeasurement"], "metric");
    assert_eq!(
        body["packages"],
        json!([
            { "weight": 4.54, "dimensions": { "length": 30.48, "width": 25.4, "height": 20.32 } },
            { "weight": 2.5, "dimensions": { "length": 30, "width": 20, "height": 10.5 } }
        ])
    );
}

/// (code, name, total, currency, transit days, estimated delivery)
type RateSummary<'a> = (&'a str, &'a str, String, &'a str, Option<u32>, Option<Date>);

#[test]
fn rates_fixture_parses_to_exact_values() {
    let rates = dhl::parse_rates(&fixture("rates_response.json")).unwrap();
    let summary: Vec<RateSummary> = rates
        .iter()
        .map(|r| {
            (
                r.service_code.as_str(),
                r.service_name.as_str(),
                r.total.amount.to_string(),
                r.total.currency.as_str(),
                r.transit_days,
                r.estimated_delivery,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("P", "EXPRESS WORLDWIDE", "161.35".into(), "USD", Some(3), Some(date("2025-03-20"))),
            // BILLC is listed last for this product: still the one picked.
            ("T", "EXPRESS 12:00", "181.79".into(), "USD", Some(2), Some(date("2025-03-19"))),
            ("Y", "EXPRESS 9:00", "228.68".into(), "USD", Some(2), Some(date("2025-03-19"))),
        ]
    );
    let p = &rates[0];
    assert_eq!(p.carrier, "dhl");
    assert!(!p.guaranteed);
    let lines: Vec<(&str, Option<&str>, i64, &str)> = p
        .breakdown
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.description.as_deref(),
                c.amount.amount.to_cents(),
                c.amount.currency.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("BASE", Some("EXPRESS WORLDWIDE"), 13140, "USD"),
            ("FF", Some("FUEL SURCHARGE"), 2845, "USD"),
            ("CR", Some("EMERGENCY SITUATION"), 150, "USD"),
        ]
    );
    let sum = p.breakdown.iter().fold(Decimal::default(), |a, c| a + c.amount.amount);
    assert_eq!(sum, p.total.amount);
    assert_eq!(p.total.amount, d("161.35"));
}

#[test]
fn tracking_fixture_parses_newest_first() {
    let t = dhl::parse_tracking(&fixture("tracking_response.json")).unwrap();
    assert_eq!(t.carrier, "dhl");
    assert_eq!(t.tracking_number, "1234567890");
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(t.carrier_code, "OK");
    assert_eq!(t.estimated_delivery, Some(date("2025-03-20")));
    assert_eq!(t.events.len(), 11);
    let first = &t.events[0];
    assert_eq!(first.occurred_at, "2025-03-20T11:31:57+01:00");
    assert_eq!(first.description, "Delivered");
    assert_eq!(first.location.as_deref(), Some("Paris-FR"));
    let codes: Vec<(&str, TrackingStatus)> = t.events.iter().map(|e| (e.carrier_code.as_str(), e.status)).collect();
    use TrackingStatus::*;
    assert_eq!(
        codes,
        vec![
            ("OK", Delivered),
            ("WC", OutForDelivery),
            ("RR", InTransit),
            ("AR", InTransit),
            ("DF", InTransit),
            ("AF", InTransit),
            ("DF", InTransit),
            ("AF", InTransit),
            ("DF", InTransit),
            ("PL", InTransit),
            ("PU", InTransit),
        ]
    );
    let last = &t.events[10];
    assert_eq!(last.occurred_at, "2025-03-17T14:02:11-04:00");
    assert_eq!(last.location.as_deref(), Some("Baltimore-US"));
}

#[test]
fn tracking_orders_by_instant_across_time_zones() {
    // Listed out of order; 01:00+01:00 (00:00Z) is before 21:30-04:00 of the day before (01:30Z).
    let body = json!({ "shipments": [{ "shipmentTrackingNumber": "5550001111", "events": [
        { "date": "2025-03-19", "time": "01:00:00", "GMTOffset": "+01:00", "typeCode": "AF", "description": "Arrived" },
        { "date": "2025-03-18", "time": "21:30:00", "GMTOffset": "-04:00", "typeCode": "OH", "description": "Held" },
        { "date": "2025-03-18", "time": "09:00:00", "GMTOffset": "-04:00", "typeCode": "ZZ", "description": "Something new" }
    ]}]});
    let t = dhl::parse_tracking(body.to_string().as_bytes()).unwrap();
    let codes: Vec<&str> = t.events.iter().map(|e| e.carrier_code.as_str()).collect();
    assert_eq!(codes, ["OH", "AF", "ZZ"]);
    assert_eq!(t.status, TrackingStatus::Exception);
    assert_eq!(t.events[2].status, TrackingStatus::Unknown);
    assert_eq!(t.estimated_delivery, None);

    let none = dhl::parse_tracking(br#"{"shipments":[{"shipmentTrackingNumber":"5550001111","events":[]}]}"#).unwrap();
    assert_eq!(
        (none.status, none.carrier_code.as_str(), none.events.len()),
        (TrackingStatus::PreTransit, "", 0)
    );
    assert_eq!(dhl::status_of("RT"), TrackingStatus::Returned);
}

#[test]
fn error_shapes_map_to_typed_errors() {
    let (code, message) = rejected(dhl::parse_error(422, &fixture("error_validation.json")));
    assert_eq!(code, "422");
    assert_eq!(
        message,
        "Validation error: Multiple problems found, see Additional Details \
         (#/customerDetails/shipperDetails/postalAddress: required key [countryCode] not found; \
         #/content/packages/0: required key [weight] not found)"
    );
    let (code, message) = rejected(dhl::parse_error(400, &fixture("error_process.json")));
    assert_eq!(code, "998");
    assert!(
        message.starts_with("Product not available: 998: Process failure occurred"),
        "{message}"
    );
    assert!(message.contains("420505"), "{message}");

    let auth = br#"{"instance":"/expressapi/rates","detail":"Invalid Credentials","title":"Unauthorized","message":"Unauthorized","status":"401"}"#;
    assert_eq!(
        dhl::parse_error(401, auth),
        CarrierError::Auth("Unauthorized: Invalid Credentials".into())
    );
    assert_eq!(dhl::parse_error(429, b"{}"), CarrierError::RateLimited);
    assert_eq!(dhl::parse_error(503, b"<html>down</html>"), CarrierError::Unavailable(503));
    assert!(matches!(dhl::parse_error(400, b"<html>bad</html>"), CarrierError::Parse(_)));
}

#[test]
fn bad_carrier_input_is_an_error_not_a_panic() {
    for body in [
        &b""[..],
        b"not json",
        b"[]",
        b"{}",
        b"{\"products\": 5}",
        b"{\"shipments\": [{}]}",
        b"\x00\xff",
    ] {
        assert!(matches!(dhl::parse_rates(body), Err(CarrierError::Parse(_))));
        assert!(matches!(dhl::parse_tracking(body), Err(CarrierError::Parse(_))));
        assert!(matches!(dhl::parse_label(body, "P", LabelFormat::Pdf), Err(CarrierError::Parse(_))));
        let _ = dhl::parse_error(400, body);
    }
    let bad_label = br#"{"shipmentTrackingNumber":"1","documents":[{"typeCode":"label","content":"%%%not base64"}]}"#;
    assert!(matches!(
        dhl::parse_label(bad_label, "P", LabelFormat::Pdf),
        Err(CarrierError::Parse(_))
    ));
    // A product without any price is left out; prices far beyond f64 precision stay exact.
    let rates = dhl::parse_rates(
        br#"{"products":[{"productCode":"P","totalPrice":[]},
            {"productCode":"D","productName":"EXPRESS WORLDWIDE DOC","totalPrice":[{"currencyType":"BILLC","priceCurrency":"EUR","price":12345678901234.57}]}]}"#,
    )
    .unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0].total.amount.to_string(), "12345678901234.57");
    assert_eq!(rates[0].total.currency, "EUR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_over_http_send_basic_auth_and_dhl_headers() {
    let m = start();
    let dhl = adapter(&m.base_url);
    let s = shipment();
    let rates = dhl.rate(&s).await.unwrap();
    assert_eq!(rates, dhl::parse_rates(&fixture("rates_response.json")).unwrap());
    assert_eq!(rates.len(), 3);

    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/rates"));
    assert_eq!(r.header("authorization"), basic("mock-user", "mock-pass"));
    assert_eq!(r.header("x-version"), "3.1.0");
    assert_eq!(r.header("content-type"), "application/json");
    let reference = r.header("message-reference");
    assert_eq!(reference.len(), 36, "{reference}");
    assert_eq!(reference.matches('-').count(), 4);
    assert!(
        httpdate::parse_http_date(r.header("message-reference-date")).is_ok(),
        "{}",
        r.header("message-reference-date")
    );
    let sent: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(sent, dhl.rate_request(&s).unwrap());

    // A fresh Message-Reference per call.
    dhl.rate(&s).await.unwrap();
    let reqs = m.state.requests();
    assert_ne!(reqs[1].header("message-reference"), reference);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_over_http_returns_the_waybill_and_label() {
    let m = start();
    let dhl = adapter(&m.base_url);
    let label = dhl.ship(&label_request()).await.unwrap();
    assert_eq!(label.carrier, "dhl");
    assert_eq!(label.service_code, "P");
    assert_eq!(label.shipment_id.as_deref(), Some("1234567890"));
    assert_eq!(label.tracking_numbers, ["1234567890", "JD014600006281230704"]);
    assert_eq!(label.label_format, LabelFormat::Pdf);
    assert_eq!(label.labels.len(), 1, "the invoice document is not a label");
    let pdf = base64::engine::general_purpose::STANDARD.decode(&label.labels[0]).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert!(String::from_utf8_lossy(&pdf).contains("WAYBILL 12 3456 7890"));
    // BILLC, although BASEC comes first in shipmentCharges.
    assert_eq!(label.charges.amount, d("161.35"));
    assert_eq!(label.charges.currency, "USD");

    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("POST", "/shipments"));
    assert_eq!(reqs[0].header("authorization"), basic("mock-user", "mock-pass"));
    assert_eq!(reqs[0].header("x-version"), "3.1.0");
    let sent: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    assert_eq!(sent, dhl.shipment_request(&label_request()).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_over_http() {
    let m = start();
    let dhl = adapter(&m.base_url);
    let t = dhl.track("1234567890").await.unwrap();
    assert_eq!(t, dhl::parse_tracking(&fixture("tracking_response.json")).unwrap());
    assert_eq!(t.status, TrackingStatus::Delivered);
    let reqs = m.state.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(
        reqs[0].path,
        "/shipments/1234567890/tracking?trackingView=all-checkpoints&levelOfDetail=all&requestGMTOffsetPerEvent=true"
    );
    assert_eq!(reqs[0].header("authorization"), basic("mock-user", "mock-pass"));

    let (code, message) = rejected(dhl.track("9999999999").await.unwrap_err());
    assert_eq!((code.as_str(), message.as_str()), ("404", "Not Found: No data found"));
    assert!(matches!(dhl.track("12/../x").await, Err(CarrierError::Invalid(_))));
    assert_eq!(m.state.requests().len(), 2, "an invalid number is not sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_an_auth_error() {
    let m = start();
    let dhl = adapter_as(&m.base_url, "mock-user", "wrong");
    assert_eq!(
        dhl.rate(&shipment()).await,
        Err(CarrierError::Auth("Unauthorized: Invalid Credentials".into()))
    );
    assert!(matches!(dhl.track("1234567890").await, Err(CarrierError::Auth(_))));
    assert!(matches!(dhl.ship(&label_request()).await, Err(CarrierError::Auth(_))));
    // Basic auth: nothing to refresh, one request per call.
    assert_eq!(m.state.requests().len(), 3);
    assert_eq!(m.state.requests()[0].header("authorization"), basic("mock-user", "wrong"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_fields_are_rejected_in_dhl_shape() {
    let m = start();
    let dhl = adapter(&m.base_url);
    let mut r = label_request();
    r.shipment.to.phone = None;
    let (code, message) = rejected(dhl.ship(&r).await.unwrap_err());
    assert_eq!(code, "422");
    assert_eq!(
        message,
        "Validation error: #/customerDetails/receiverDetails/contactInformation: required key [phone] not found"
    );

    let mut s = shipment();
    s.from.city = String::new();
    let (code, message) = rejected(dhl.rate(&s).await.unwrap_err());
    assert_eq!(code, "400");
    assert_eq!(
        message,
        "Bad request: #/customerDetails/shipperDetails: required key [cityName] not found"
    );

    // Caught before any request.
    let mut s = shipment();
    s.packages[0].dimensions = None;
    assert!(matches!(dhl.rate(&s).await, Err(CarrierError::Invalid(_))));
    let mut r = label_request();
    r.label_format = LabelFormat::Png;
    assert!(matches!(dhl.ship(&r).await, Err(CarrierError::Invalid(_))));
    assert_eq!(m.state.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_rates_back_off_and_succeed() {
    let m = start();
    let dhl = adapter(&m.base_url);
    m.state.fail_next(&[429]);
    let started = std::time::Instant::now();
    let rates = dhl.rate(&shipment()).await.unwrap();
    assert_eq!(rates[0].total.amount, d("161.35"));
    assert_eq!(m.state.requests().len(), 2);
    // The mock's Retry-After: 1 is honoured.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());

    m.state.fail_next(&[503]);
    assert_eq!(dhl.track("1234567890").await.unwrap().tracking_number, "1234567890");
    assert_eq!(m.state.requests().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn still_throttled_after_retries_is_rate_limited() {
    let m = start();
    let dhl = adapter(&m.base_url);
    m.state.fail_next(&[500, 500, 500]);
    assert_eq!(dhl.rate(&shipment()).await, Err(CarrierError::Unavailable(500)));
    assert_eq!(m.state.requests().len(), 3, "first try and two retries");
    m.state.fail_next(&[429, 429, 429]);
    assert_eq!(dhl.track("1234567890").await, Err(CarrierError::RateLimited));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipments_are_not_retried() {
    let m = start();
    let dhl = adapter(&m.base_url);
    m.state.fail_next(&[500]);
    assert_eq!(dhl.ship(&label_request()).await, Err(CarrierError::Unavailable(500)));
    assert_eq!(m.state.requests().len(), 1);
    m.state.fail_next(&[429]);
    assert_eq!(dhl.ship(&label_request()).await, Err(CarrierError::RateLimited));
    assert_eq!(m.state.requests().len(), 2);
    // Normal service afterwards.
    assert_eq!(dhl.ship(&label_request()).await.unwrap().tracking_numbers[0], "1234567890");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn void_is_unsupported() {
    let m = start();
    let dhl = adapter(&m.base_url);
    let label = dhl.ship(&label_request()).await.unwrap();
    match dhl.void(&label).await {
        Err(CarrierError::Unsupported(msg)) => {
            assert!(msg.contains("no void"), "{msg}");
            assert!(msg.contains("1234567890"), "{msg}");
            assert!(msg.contains("not billed"), "{msg}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(m.state.requests().len(), 1, "void sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_use_dhl_error_shape() {
    let m = start();
    m.state.fail_next(&[401]);
    let r = reqwest::Client::new()
        .post(format!("{}/rates", m.base_url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "401");
    assert_eq!(v["title"], "Unauthorized");
    for status in [429u16, 500, 503] {
        let (ct, body) = (mock::dhl::mock().fault_body)(status);
        assert_eq!(ct, "application/problem+json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], status.to_string());
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
}
