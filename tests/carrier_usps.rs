//! USPS v3 adapter against its local mock: request shapes, exact parsing of the
//! fixtures, error mapping, token refresh, backoff, and no retries of label purchases.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{json, Value};
use tradelane::connectors::carriers::usps::{self, Usps};
use tradelane::connectors::carriers::{
    Address, CarrierAccount, CarrierError, CarrierHttp, Dimensions, LabelFormat, LabelRequest, LengthUnit, Package, Shipment,
    TrackingStatus, WeightUnit,
};
use tradelane::connectors::mock::{self, RunningMock};
use tradelane::model::{Date, Decimal};

const TRACKING: &str = "9405511206219483075429";

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("usps").join(name)).expect("fixture")
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

fn start() -> RunningMock {
    mock::start(mock::usps::mock(), fixtures(), "127.0.0.1:0", 1).expect("mock starts")
}

fn account(base: &str) -> CarrierAccount {
    let mut a = CarrierAccount {
        base_url: Some(base.to_string()),
        key: Some("tl-client-id".into()),
        secret: Some("tl-client-secret".into()),
        account_number: Some("1000123456".into()),
        ..Default::default()
    };
    a.extra.insert("crid".into(), "56982563".into());
    a.extra.insert("mid".into(), "902345678".into());
    a.extra.insert("manifest_mid".into(), "902345679".into());
    a
}

fn adapter(m: &RunningMock) -> Usps {
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    Usps::new(&account(&m.base_url), http)
}

fn shipment() -> Shipment {
    Shipment {
        from: Address {
            name: Some("Dana Whitfield".into()),
            company: Some("Harbor Supply Co".into()),
            street: vec!["2020 York Rd".into()],
            city: "Timonium".into(),
            state: Some("MD".into()),
            postal_code: "21093".into(),
            country: "US".into(),
            phone: Some("(410) 555-0142".into()),
            ..Default::default()
        },
        to: Address {
            name: Some("Maria de la Gonzalez".into()),
            company: None,
            street: vec!["4120 Old Milton Pkwy".into(), "Ste 200".into()],
            city: "Alpharetta".into(),
            state: Some("ga".into()),
            postal_code: "30005-4403".into(),
            country: "US".into(),
            email: Some("maria@example.com".into()),
            residential: true,
            ..Default::default()
        },
        packages: vec![Package {
            weight: d("5.5"),
            weight_unit: WeightUnit::Lb,
            dimensions: Some(Dimensions {
                length: d("12"),
                width: d("10"),
                height: d("6"),
                unit: LengthUnit::In,
            }),
            reference: Some("PO-88231".into()),
        }],
        ship_date: Date::new(2025, 3, 17),
        shipper: None,
        customs: None,
    }
}

fn label_request() -> LabelRequest {
    LabelRequest {
        shipment: shipment(),
        service_code: "PRIORITY_MAIL".into(),
        label_format: LabelFormat::Pdf,
    }
}

fn body(r: &mock::Recorded) -> Value {
    serde_json::from_slice(&r.body).expect("recorded JSON body")
}

fn count(m: &RunningMock, method: &str, prefix: &str) -> usize {
    m.state
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

// ------------------------------------------------------------------ pure builders

#[test]
fn options_request_matches_the_published_schema() {
    let s = shipment();
    let b = usps::build_options_request(&s, &s.packages[0], &account("http://x")).expect("builds");
    assert_eq!(
        b,
        json!({
            "originZIPCode": "21093",
            "destinationZIPCode": "30005",
            "destinationEntryFacilityType": "NONE",
            "packageDescription": {
                "weight": 5.5, "length": 12, "width": 10, "height": 6,
                "mailClass": "ALL_OUTBOUND", "mailingDate": "2025-03-17"
            },
            "pricingOptions": [ { "priceType": "COMMERCIAL",
                "paymentAccount": { "accountType": "EPS", "accountNumber": "1000123456", "CRID": "56982563" } } ]
        })
    );
}

#[test]
fn metric_packages_are_converted_to_pounds_and_inches_rounding_up() {
    let mut s = shipment();
    s.packages[0] = Package {
        weight: d("2"),
        weight_unit: WeightUnit::Kg,
        dimensions: Some(Dimensions {
            length: d("30"),
            width: d("20"),
            height: d("10"),
            unit: LengthUnit::Cm,
        }),
        reference: None,
    };
    let b = usps::build_options_request(&s, &s.packages[0], &account("http://x")).expect("builds");
    let p = &b["packageDescription"];
    assert_eq!((p["weight"].clone(), p["length"].clone()), (json!(4.41), json!(11.82)));
    assert_eq!((p["width"].clone(), p["height"].clone()), (json!(7.88), json!(3.94)));

    s.packages[0].dimensions = None;
    let e = usps::build_options_request(&s, &s.packages[0], &account("http://x")).unwrap_err();
    assert!(matches!(e, CarrierError::Invalid(m) if m.contains("dimensions")));
    let mut intl = shipment();
    intl.to.country = "CA".into();
    assert!(matches!(
        usps::build_options_request(&intl, &intl.packages[0], &account("x")),
        Err(CarrierError::Unsupported(_))
    ));
}

#[test]
fn payment_authorization_names_payer_and_label_owner() {
    let b = usps::build_payment_authorization(&account("http://x")).expect("builds");
    let role = |name: &str| {
        json!({ "roleName": name, "CRID": "56982563", "MID": "902345678", "manifestMID": "902345679",
                "accountType": "EPS", "accountNumber": "1000123456" })
    };
    assert_eq!(b, json!({ "roles": [role("PAYER"), role("LABEL_OWNER")] }));
    let mut a = account("http://x");
    a.extra.remove("mid");
    assert_eq!(
        usps::build_payment_authorization(&a),
        Err(CarrierError::Invalid("USPS account has no extra.mid".into()))
    );
}

#[test]
fn label_request_matches_the_published_schema() {
    let r = label_request();
    let b = usps::build_label_request(&r, &r.shipment.packages[0]).expect("builds");
    assert_eq!(
        b["imageInfo"],
        json!({ "imageType": "PDF", "labelType": "4X6LABEL", "receiptOption": "NONE", "suppressPostage": false, "returnLabel": false })
    );
    assert_eq!(
        b["toAddress"],
        json!({ "firstName": "Maria de la", "lastName": "Gonzalez", "streetAddress": "4120 Old Milton Pkwy",
                "secondaryAddress": "Ste 200", "city": "Alpharetta", "state": "GA", "ZIPCode": "30005", "ZIPPlus4": "4403",
                "email": "maria@example.com" })
    );
    assert_eq!(
        b["fromAddress"],
        json!({ "firstName": "Dana", "lastName": "Whitfield", "firm": "Harbor Supply Co", "streetAddress": "2020 York Rd",
                "city": "Timonium", "state": "MD", "ZIPCode": "21093", "phone": "4105550142" })
    );
    assert_eq!(
        b["packageDescription"],
        json!({ "mailClass": "PRIORITY_MAIL", "rateIndicator": "SP", "weightUOM": "lb", "weight": 5.5, "dimensionsUOM": "in",
                "length": 12, "width": 10, "height": 6, "processingCategory": "MACHINABLE", "mailingDate": "2025-03-17",
                "destinationEntryFacilityType": "NONE", "customerReference": [ { "referenceNumber": "PO-88231" } ] })
    );
    let mut zpl = label_request();
    zpl.label_format = LabelFormat::Zpl;
    let b = usps::build_label_request(&zpl, &zpl.shipment.packages[0]).expect("builds");
    assert_eq!(b["imageInfo"]["imageType"], "ZPL203DPI");
    let mut bad = label_request();
    bad.service_code = "priority mail; DROP".into();
    assert!(matches!(
        usps::build_label_request(&bad, &bad.shipment.packages[0]),
        Err(CarrierError::Invalid(_))
    ));
}

// ------------------------------------------------------------------ pure parsers

/// Service code, name, total, transit days, delivery date, guaranteed.
type RateSummary = (String, String, Decimal, Option<u32>, Option<Date>, bool);

#[test]
fn options_fixture_parses_to_exact_rates() {
    let rates = usps::parse_rates(fixture("options-search.json").as_bytes()).expect("parses");
    let summary: Vec<RateSummary> = rates
        .iter()
        .map(|r| {
            (
                r.service_code.clone(),
                r.service_name.clone(),
                r.total.amount,
                r.transit_days,
                r.estimated_delivery,
                r.guaranteed,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "USPS_GROUND_ADVANTAGE".into(),
                "USPS Ground Advantage".into(),
                d("9.14"),
                Some(3),
                Date::new(2025, 3, 20),
                false
            ),
            (
                "PRIORITY_MAIL".into(),
                "Priority Mail".into(),
                d("12.23"),
                Some(2),
                Date::new(2025, 3, 19),
                false
            ),
            (
                "PRIORITY_MAIL_EXPRESS".into(),
                "Priority Mail Express".into(),
                d("44.15"),
                Some(1),
                Date::new(2025, 3, 18),
                true
            ),
        ]
    );
    assert!(rates.iter().all(|r| r.carrier == "usps" && r.total.currency == "USD"));
    // Ground Advantage: base postage plus the nonstandard-length fee.
    let ga: Vec<(String, Decimal)> = rates[0].breakdown.iter().map(|c| (c.code.clone(), c.amount.amount)).collect();
    assert_eq!(ga, vec![("DUXP0XXXXC05060".into(), d("8.14")), ("D811XUCXXXX0000".into(), d("1"))]);
    assert_eq!(rates[0].breakdown[1].description.as_deref(), Some("Nonstandard Length > 22"));
    // Express: totalPrice includes the signature extra service.
    let pme: Vec<(String, Decimal)> = rates[2].breakdown.iter().map(|c| (c.code.clone(), c.amount.amount)).collect();
    assert_eq!(pme, vec![("DEXX0XXXXC05060".into(), d("41.05")), ("921".into(), d("3.1"))]);
}

#[test]
fn amounts_never_go_through_f64() {
    let body = r#"{"pricingOptions":[{"shippingOptions":[{"mailClass":"MEDIA_MAIL","rateOptions":[
        {"totalBasePrice": 0.30000000000000001, "rates":[{"price": 1234567.89, "rateIndicator":"SP"}],
         "commitment":{"name":"NO STD"}}]}]}]}"#;
    let rates = usps::parse_rates(body.as_bytes()).expect("parses");
    assert_eq!(rates[0].total.amount.to_string(), "0.30000000000000001");
    assert_eq!(rates[0].breakdown[0].amount.amount.to_string(), "1234567.89");
    assert_eq!(rates[0].service_name, "Media Mail");
    assert_eq!(rates[0].transit_days, None);
    assert_eq!(rates[0].estimated_delivery, None);
    // Strings keep their escapes and digits.
    let reply = tradelane::connectors::carriers::json::quoted(br#"{"a":"x\"1,-2","b":[-1.5e3,0,true,null]}"#);
    let v = usps::lossless_json(&reply).expect("parses");
    assert_eq!(v["a"].as_str(), Some("x\"1,-2"));
    assert_eq!(v["b"][0].as_str(), Some("-1.5e3"));
    assert_eq!(v["b"][1].as_str(), Some("0"));
    assert_eq!(
        (v["b"][2].as_bool(), v["b"][3].is_null(), v["b"].as_array().map(<[_]>::len)),
        (Some(true), true, Some(4))
    );
    assert!(usps::parse_rates(b"{\"unexpected\": true}").is_err());
    assert!(usps::parse_rates(b"<html>").is_err());
}

#[test]
fn json_label_variant_parses() {
    let meta: Value = serde_json::from_str(&fixture("label-metadata.json")).expect("json");
    let image: String = fixture("label-image.pdf.b64").split_whitespace().collect();
    let doc = json!({ "labelMetadata": meta, "labelImage": image }).to_string();
    let l = usps::parse_label(
        "application/vnd.usps.labels+json",
        doc.as_bytes(),
        "PRIORITY_MAIL",
        LabelFormat::Pdf,
    )
    .expect("parses");
    assert_eq!(l.tracking_numbers, vec![TRACKING.to_string()]);
    assert_eq!(l.labels, vec![image]);
    assert_eq!(l.charges.amount, d("15.33"));
    assert!(usps::parse_label("multipart/form-data", b"--x\r\n", "PRIORITY_MAIL", LabelFormat::Pdf).is_err());
    assert!(usps::parse_label("multipart/form-data; boundary=x", b"garbage", "PRIORITY_MAIL", LabelFormat::Pdf).is_err());
}

#[test]
fn tracking_fixture_parses_newest_first() {
    let t = usps::parse_tracking(fixture("tracking.json").as_bytes()).expect("parses");
    assert_eq!(t.carrier, "usps");
    assert_eq!(t.tracking_number, TRACKING);
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(t.carrier_code, "01");
    assert_eq!(t.estimated_delivery, Date::new(2025, 3, 19));
    let ev: Vec<(&str, TrackingStatus, &str)> = t
        .events
        .iter()
        .map(|e| (e.occurred_at.as_str(), e.status, e.carrier_code.as_str()))
        .collect();
    assert_eq!(
        ev,
        vec![
            ("2025-03-19T13:42:00-04:00", TrackingStatus::Delivered, "01"),
            ("2025-03-19T07:10:00-04:00", TrackingStatus::OutForDelivery, "OF"),
            ("2025-03-19T06:02:00-04:00", TrackingStatus::InTransit, "07"),
            ("2025-03-18T21:55:00-04:00", TrackingStatus::InTransit, "T1"),
            ("2025-03-17T15:25:00-04:00", TrackingStatus::InTransit, "03"),
            ("2025-03-17T09:12:00-04:00", TrackingStatus::PreTransit, "GX"),
        ]
    );
    assert_eq!(t.events[0].description, "Delivered, In/At Mailbox");
    assert_eq!(t.events[0].location.as_deref(), Some("ALPHARETTA, GA, 30005"));
    assert_eq!(t.events[3].location.as_deref(), Some("ATLANTA GA DISTRIBUTION CENTER"));
}

#[test]
fn status_normalization() {
    use TrackingStatus::*;
    let cases = [
        ("01", "Delivered, Front Door/Porch", Delivered),
        ("OF", "Out for Delivery", OutForDelivery),
        ("GX", "Shipping Label Created, USPS Awaiting Item", PreTransit),
        ("02", "Notice Left (No Authorized Recipient Available)", Exception),
        ("21", "No Such Number", Returned),
        ("", "Return to Sender Processed", Returned),
        ("", "Arrived at USPS Regional Facility", InTransit),
        ("", "Delivery Attempted - No Access to Delivery Location", Exception),
        ("ZZ", "Something new", Unknown),
    ];
    for (code, text, want) in cases {
        assert_eq!(usps::normalize_status(code, text), want, "{code} {text}");
    }
    assert_eq!(usps::transit_days("2 Days"), Some(2));
    assert_eq!(usps::transit_days("1 Day"), Some(1));
    assert_eq!(usps::transit_days("MILITARY"), None);
}

#[test]
fn error_shapes_map_to_typed_errors() {
    let e400 = fixture("error-400.json");
    assert_eq!(
        usps::parse_error(e400.as_bytes()),
        Some(("020125".into(), "toAddress.ZIPCode is required.".into()))
    );
    assert_eq!(
        usps::error_for(400, e400.as_bytes()),
        CarrierError::Rejected {
            carrier: "usps",
            code: "020125".into(),
            message: "toAddress.ZIPCode is required.".into()
        }
    );
    assert!(matches!(usps::error_for(403, e400.as_bytes()), CarrierError::Auth(m) if m.contains("020125")));
    assert_eq!(usps::error_for(401, e400.as_bytes()), CarrierError::Auth("HTTP 401".into()));
    assert_eq!(usps::error_for(429, b"{}"), CarrierError::RateLimited);
    assert_eq!(usps::error_for(503, e400.as_bytes()), CarrierError::Unavailable(503));
    assert!(matches!(usps::error_for(400, b"<html>oops</html>"), CarrierError::Parse(_)));
    assert!(usps::parse_cancel(br#"{"trackingNumber":"9405","status":"CANCELED"}"#).is_ok());
    assert_eq!(
        usps::parse_cancel(br#"{"trackingNumber":"9405","status":"DISPUTED","disputeId":"D-1182"}"#),
        Err(CarrierError::Rejected {
            carrier: "usps",
            code: "DISPUTED".into(),
            message: "refund of 9405 under review (dispute D-1182)".into()
        })
    );
}

// ------------------------------------------------------------------ against the mock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_from_the_mock() {
    let m = start();
    let rates = adapter(&m).rate(&shipment()).await.expect("rates");
    let totals: Vec<(&str, Decimal)> = rates.iter().map(|r| (r.service_code.as_str(), r.total.amount)).collect();
    assert_eq!(
        totals,
        vec![
            ("USPS_GROUND_ADVANTAGE", d("9.14")),
            ("PRIORITY_MAIL", d("12.23")),
            ("PRIORITY_MAIL_EXPRESS", d("44.15"))
        ]
    );
    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!((reqs[0].method.as_str(), reqs[0].path.as_str()), ("POST", "/oauth2/v3/token"));
    assert_eq!(reqs[0].header("content-type"), "application/json");
    assert_eq!(
        body(&reqs[0]),
        json!({ "client_id": "tl-client-id", "client_secret": "tl-client-secret", "grant_type": "client_credentials" })
    );
    assert_eq!(
        (reqs[1].method.as_str(), reqs[1].path.as_str()),
        ("POST", "/shipments/v3/options/search")
    );
    assert!(reqs[1].header("authorization").starts_with("Bearer mock-usps-"));
    assert_eq!(reqs[1].header("content-type"), "application/json");
    assert_eq!(body(&reqs[1])["packageDescription"]["mailClass"], "ALL_OUTBOUND");

    // Two packages: one search each, totals summed per mail class; the token is reused.
    let mut two = shipment();
    two.packages.push(two.packages[0].clone());
    let rates = adapter(&m).rate(&two).await.expect("rates");
    assert_eq!(rates[0].total.amount, d("18.28"));
    assert_eq!(rates[2].total.amount, d("88.3"));
    assert_eq!(count(&m, "POST", "/shipments/v3/options/search"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_purchase_uses_payment_token_and_multipart() {
    let m = start();
    let usps = adapter(&m);
    let label = usps.ship(&label_request()).await.expect("label");
    let image: String = fixture("label-image.pdf.b64").split_whitespace().collect();
    assert_eq!(label.carrier, "usps");
    assert_eq!(label.service_code, "PRIORITY_MAIL");
    assert_eq!(label.tracking_numbers, vec![TRACKING.to_string()]);
    assert_eq!(label.label_format, LabelFormat::Pdf);
    assert_eq!(label.labels, vec![image]);
    assert_eq!((label.charges.amount, label.charges.currency.as_str()), (d("15.33"), "USD"));

    let reqs = m.state.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["/oauth2/v3/token", "/payments/v3/payment-authorization", "/labels/v3/label"]
    );
    assert_eq!(body(&reqs[1])["roles"][1]["roleName"], "LABEL_OWNER");
    let pay = reqs[2].header("x-payment-authorization-token");
    assert!(pay.starts_with("pay-mock-usps-"), "{pay}");
    assert_eq!(reqs[2].header("accept"), usps::LABEL_ACCEPT);
    assert_eq!(
        body(&reqs[2]),
        usps::build_label_request(&label_request(), &label_request().shipment.packages[0]).expect("builds")
    );

    // The payment token is cached: a second label goes straight to /labels.
    usps.ship(&label_request()).await.expect("second label");
    assert_eq!(count(&m, "POST", "/payments/v3/payment-authorization"), 1);
    assert_eq!(count(&m, "POST", "/labels/v3/label"), 2);
    assert_eq!(
        m.state
            .requests()
            .last()
            .map(|r| r.header("x-payment-authorization-token").to_string()),
        Some(pay.to_string())
    );

    // Void cancels by tracking number with the payment header.
    usps.void(&label).await.expect("void");
    let last = m.state.requests().last().cloned().expect("request");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("DELETE", "/labels/v3/label/9405511206219483075429")
    );
    assert_eq!(last.header("x-payment-authorization-token"), pay);
    let mut other = label.clone();
    other.tracking_numbers = vec!["9400100000000000000000".into()];
    match usps.void(&other).await {
        Err(CarrierError::Rejected { code, message, .. }) => {
            assert_eq!(code, "020404");
            assert_eq!(message, "No label found for tracking number 9400100000000000000000.");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_enforces_required_fields_headers_and_tokens() {
    let m = start();
    let c = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", m.base_url);
    // No bearer token.
    let r = c
        .get(url("/tracking/v3/tracking/9405511206219483075429"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"https://api.usps.com\"");
    // Token request without a secret.
    let r = c
        .post(url("/oauth2/v3/token"))
        .json(&json!({"client_id": "a", "grant_type": "client_credentials"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["errors"][0]["source"]["parameter"], "client_secret");
    let tok: Value = c
        .post(url("/oauth2/v3/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=a&client_secret=b")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let bearer = format!("Bearer {}", tok["access_token"].as_str().expect("token"));
    assert_eq!(tok["expires_in"], "28799");
    // Label without the payment authorization header.
    let body = usps::build_label_request(&label_request(), &label_request().shipment.packages[0]).expect("builds");
    let r = c
        .post(url("/labels/v3/label"))
        .header("authorization", &bearer)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 403);
    // Label missing a ZIP Code, with a valid payment token.
    let pay: Value = c
        .post(url("/payments/v3/payment-authorization"))
        .header("authorization", &bearer)
        .json(&usps::build_payment_authorization(&account(&m.base_url)).expect("builds"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let mut broken = body.clone();
    broken["toAddress"].as_object_mut().expect("object").remove("ZIPCode");
    let r = c
        .post(url("/labels/v3/label"))
        .header("authorization", &bearer)
        .header(
            "x-payment-authorization-token",
            pay["paymentAuthorizationToken"].as_str().expect("token"),
        )
        .json(&broken)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 400);
    let bytes = r.bytes().await.expect("body");
    assert_eq!(
        usps::parse_error(&bytes),
        Some(("020100".into(), "toAddress.ZIPCode is required.".into()))
    );
    // Options search without pricing options.
    let r = c
        .post(url("/shipments/v3/options/search"))
        .header("authorization", &bearer)
        .json(&json!({"originZIPCode": "21093", "destinationZIPCode": "30005",
                      "packageDescription": {"weight": 1, "length": 1, "width": 1, "height": 1, "mailClass": "ALL_OUTBOUND"}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_from_the_mock() {
    let m = start();
    let usps = adapter(&m);
    let t = usps.track(TRACKING).await.expect("tracking");
    assert_eq!(
        (t.status, t.carrier_code.as_str(), t.events.len()),
        (TrackingStatus::Delivered, "01", 6)
    );
    let last = m.state.requests().last().cloned().expect("request");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/tracking/v3/tracking/9405511206219483075429?expand=DETAIL")
    );
    assert!(last.header("authorization").starts_with("Bearer "));

    match usps.track("9400100000000000000000").await {
        Err(CarrierError::Rejected { carrier, code, message }) => {
            assert_eq!((carrier, code.as_str()), ("usps", "-2147219283"));
            assert!(message.starts_with("A status update is not yet available"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(matches!(usps.track("94/../x").await, Err(CarrierError::Invalid(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refreshed_once() {
    let m = start();
    let usps = adapter(&m);
    usps.track(TRACKING).await.expect("first");
    m.state.revoke_tokens();
    let t = usps.track(TRACKING).await.expect("after refresh");
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(count(&m, "POST", "/oauth2/v3/token"), 2);
    // First call, the 401, and exactly one retry.
    assert_eq!(count(&m, "GET", "/tracking/v3/tracking/"), 3);

    // A 401 whose refresh is refused too surfaces as Auth, with no further attempt
    // (the second injected 401 hits the token endpoint).
    m.state.fail_next(&[401, 401]);
    let e = usps.track(TRACKING).await.unwrap_err();
    assert!(matches!(&e, CarrierError::Auth(m) if m.contains("401")), "{e:?}");
    assert_eq!(count(&m, "GET", "/tracking/v3/tracking/"), 4);
    assert_eq!(count(&m, "POST", "/oauth2/v3/token"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_backs_off_and_succeeds() {
    let m = start();
    let usps = adapter(&m);
    usps.track(TRACKING).await.expect("warm token");
    m.state.fail_next(&[429]);
    let rates = usps.rate(&shipment()).await.expect("rates after 429");
    assert_eq!(rates.len(), 3);
    assert_eq!(count(&m, "POST", "/shipments/v3/options/search"), 2);

    m.state.fail_next(&[429, 429, 429]);
    assert_eq!(usps.rate(&shipment()).await.unwrap_err(), CarrierError::RateLimited);
    m.state.fail_next(&[503, 503, 503]);
    assert_eq!(usps.track(TRACKING).await.unwrap_err(), CarrierError::Unavailable(503));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_not_retried_on_server_errors() {
    let m = start();
    let usps = adapter(&m);
    usps.ship(&label_request()).await.expect("warm tokens");
    for status in [500, 503] {
        m.state.fail_next(&[status]);
        assert_eq!(usps.ship(&label_request()).await.unwrap_err(), CarrierError::Unavailable(status));
    }
    assert_eq!(count(&m, "POST", "/labels/v3/label"), 3);
    // The adapter still works afterwards.
    usps.ship(&label_request()).await.expect("label");
    assert_eq!(count(&m, "POST", "/labels/v3/label"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_invalid_without_a_call() {
    let m = start();
    let mut a = account(&m.base_url);
    a.secret = None;
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2);
    let e = Usps::new(&a, http).rate(&shipment()).await.unwrap_err();
    assert_eq!(e, CarrierError::Invalid("carrier account has no secret".into()));
    assert!(m.state.requests().is_empty());
}

// ------------------------------------------------------------------ international labels

/// The test shipment sent to Paris as a gift, with the international mail class.
fn to_france() -> LabelRequest {
    let mut r = label_request();
    r.service_code = "PRIORITY_MAIL_INTERNATIONAL".into();
    r.shipment.to = Address {
        name: Some("Louise Martin".into()),
        street: vec!["14 Rue de Rivoli".into()],
        city: "Paris".into(),
        postal_code: "75001".into(),
        country: "FR".into(),
        phone: Some("+33 1 42 60 00 00".into()),
        ..Default::default()
    };
    r.shipment.customs = Some(
        serde_json::from_value(json!({
            "contents_type": "gift", "currency": "USD", "non_delivery": "abandon", "invoice_number": "INV-4004",
            "importer_tax_ids": [{ "type": "ioss", "number": "IM2500000123", "country": "FR" }],
            "commodities": [
                { "description": "Hand-knit wool sweater", "quantity": 1, "unit_value": "85", "unit_net_weight": "1.1",
                  "weight_unit": "lb", "hs_code": "6110.11.0010", "origin_country": "US" },
                { "description": "Ceramic coffee mug", "quantity": 2, "unit_value": "14.50", "unit_net_weight": "350",
                  "weight_unit": "g", "hs_code": "6912.00.4810", "origin_country": "PT" }
            ]
        }))
        .expect("declaration"),
    );
    r
}

#[test]
fn international_label_request_matches_the_published_schema() {
    let r = to_france();
    let b = usps::build_label_request(&r, &r.shipment.packages[0]).expect("builds");
    assert_eq!(
        b["customsForm"],
        json!({
            "customsContentType": "GIFT",
            "AESITN": "NO EEI 30.37(a)",
            "invoiceNumber": "INV-4004",
            "importersReference": { "referenceType": "VAT_NUMBER", "reference": "IM2500000123" },
            "contents": [
                { "itemDescription": "Hand-knit wool sweater", "itemQuantity": 1, "itemTotalValue": 85, "weightUOM": "lb",
                  "itemTotalWeight": 1.1, "HSTariffNumber": "6110110010", "countryofOrigin": "US" },
                { "itemDescription": "Ceramic coffee mug", "itemQuantity": 2, "itemTotalValue": 29, "weightUOM": "lb",
                  "itemTotalWeight": 1.543, "HSTariffNumber": "6912004810", "countryofOrigin": "PT" }
            ]
        })
    );
    assert_eq!(
        b["toAddress"],
        json!({ "firstName": "Louise", "lastName": "Martin", "streetAddress": "14 Rue de Rivoli", "city": "Paris",
                "postalCode": "75001", "country": "France", "countryISOAlpha2Code": "FR", "phone": "33142600000" })
    );
    assert_eq!(b["fromAddress"]["ZIPCode"], "21093");
    assert_eq!(
        b["packageDescription"],
        json!({
            "mailClass": "PRIORITY_MAIL_INTERNATIONAL", "rateIndicator": "SP", "weightUOM": "lb", "weight": 5.5,
            "dimensionsUOM": "in", "length": 12, "width": 10, "height": 6, "processingCategory": "MACHINABLE",
            "mailingDate": "2025-03-17", "destinationEntryFacilityType": "NONE",
            "packageOptions": { "nonDeliveryOption": "ABANDON", "packageValue": 114 },
            "customerReference": [{ "referenceNumber": "PO-88231" }]
        })
    );
    assert_eq!(
        b["imageInfo"],
        json!({ "imageType": "PDF", "labelType": "4X6LABEL", "suppressPostage": false })
    );

    // What USPS cannot take is refused before any call, naming the field.
    let refused = |r: &LabelRequest| match usps::build_label_request(r, &r.shipment.packages[0]) {
        Err(CarrierError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let mut long = to_france();
    long.shipment.customs.as_mut().unwrap().commodities[0].description = Some("Hand-knit merino wool sweater, navy".into());
    assert_eq!(
        refused(&long),
        "shipment.customs.commodities[0].description: USPS takes at most 30 characters"
    );
    let mut vague = to_france();
    vague.shipment.customs.as_mut().unwrap().commodities[1].description = Some("Merchandise".into());
    assert_eq!(
        refused(&vague),
        "shipment.customs.commodities[1].description: USPS refuses \"Merchandise\" as a description"
    );
    let mut png = to_france();
    png.label_format = LabelFormat::Png;
    assert!(refused(&png).contains("PDF or ZPL"));
    let mut domestic_class = to_france();
    domestic_class.service_code = "PRIORITY_MAIL".into();
    assert!(refused(&domestic_class).contains("not a USPS international mail class"));
    let mut two = to_france();
    two.shipment.packages.push(two.shipment.packages[0].clone());
    assert!(refused(&two).contains("one package"));
    let mut none = to_france();
    none.shipment.customs = None;
    assert!(refused(&none).contains("shipment.customs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_label_is_bought_and_voided_on_the_international_api() {
    let m = start();
    let usps = adapter(&m);
    let r = to_france();
    let label = usps.ship(&r).await.expect("label");
    assert_eq!(label.tracking_numbers, vec![mock::usps::INTERNATIONAL_TRACKING_NUMBER.to_string()]);
    assert_eq!(label.service_code, "PRIORITY_MAIL_INTERNATIONAL");
    // Postage plus the insurance extra service.
    assert_eq!((label.charges.amount, label.charges.currency.as_str()), (d("73.05"), "USD"));

    let reqs = m.state.requests();
    let sent = reqs.last().expect("label request");
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", usps::INTERNATIONAL_LABEL_PATH));
    assert!(sent.header("x-payment-authorization-token").starts_with("pay-mock-usps-"));
    assert_eq!(body(sent), usps::build_label_request(&r, &r.shipment.packages[0]).expect("builds"));

    usps.void(&label).await.expect("void");
    let last = m.state.requests().last().cloned().expect("request");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("DELETE", "/international-labels/v3/international-label/LZ123456789US")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_checks_the_customs_form_in_usps_shape() {
    let m = start();
    let usps = adapter(&m);
    usps.ship(&to_france()).await.expect("label");
    let reqs = m.state.requests();
    let sent = reqs.last().expect("label request");
    let (bearer, pay) = (
        sent.header("authorization").to_string(),
        sent.header("x-payment-authorization-token").to_string(),
    );
    let c = reqwest::Client::new();
    let post = |v: Value| {
        c.post(format!("{}{}", m.base_url, usps::INTERNATIONAL_LABEL_PATH))
            .header("authorization", bearer.clone())
            .header("x-payment-authorization-token", pay.clone())
            .json(&v)
            .send()
    };
    let good = body(sent);
    assert_eq!(post(good.clone()).await.expect("send").status(), 201);
    let error = |v: Value| {
        let e = &v["error"]["errors"][0];
        (
            e["code"].as_str().unwrap_or("").to_string(),
            e["detail"].as_str().unwrap_or("").to_string(),
        )
    };

    let mut no_aes = good.clone();
    no_aes["customsForm"].as_object_mut().unwrap().remove("AESITN");
    let r = post(no_aes).await.expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(
        error(r.json().await.expect("json")),
        ("020100".into(), "customsForm.AESITN is required.".into())
    );

    let mut vague = good.clone();
    vague["customsForm"]["contents"][0]["itemDescription"] = json!("Gift");
    assert_eq!(
        error(post(vague).await.expect("send").json().await.expect("json")).1,
        "customsForm.contents[0].itemDescription: must be a specific description of at most 30 characters"
    );

    let mut no_value = good.clone();
    no_value["customsForm"]["contents"][1]
        .as_object_mut()
        .unwrap()
        .remove("itemTotalValue");
    assert_eq!(
        error(post(no_value).await.expect("send").json().await.expect("json")).1,
        "customsForm.contents[1].itemTotalValue: itemTotalValue and itemTotalWeight (or itemValue and itemWeight) are required"
    );

    let mut other = good;
    other["customsForm"]["customsContentType"] = json!("OTHER");
    assert_eq!(
        error(post(other).await.expect("send").json().await.expect("json")).1,
        "customsForm.contentComments: is required (at most 25 characters) when customsContentType is OTHER"
    );
}

#[test]
fn territories_stay_on_the_domestic_api() {
    let mut r = label_request();
    r.shipment.to.country = "PR".into();
    assert_eq!(usps::label_path(&r.shipment), "/labels/v3/label");
    // The domestic API addresses territories with a state code; a PR country stays unsupported as before.
    assert!(matches!(
        usps::build_label_request(&r, &r.shipment.packages[0]),
        Err(CarrierError::Unsupported(_))
    ));
    assert_eq!(usps::label_path(&to_france().shipment), usps::INTERNATIONAL_LABEL_PATH);
}
