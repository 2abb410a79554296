//! FedEx adapter against the FedEx mock: request shapes, exact parsing of the
//! fixtures, error mapping, token refresh, backoff and the no-retry rule for labels.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tradelane::connectors::carriers::fedex::FedEx;
use tradelane::connectors::carriers::{
    Address, CarrierAccount, CarrierError, CarrierHttp, Dimensions, LabelFormat, LabelRequest, LengthUnit, Package, Shipment,
    TrackingStatus, WeightUnit,
};
use tradelane::connectors::mock::{self, Recorded, RunningMock};
use tradelane::model::{Date, Decimal};

const ACCOUNT: &str = "740561073";

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn account(base: &str, number: &str) -> CarrierAccount {
    CarrierAccount {
        base_url: Some(base.to_string()),
        key: Some("l7a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6".into()),
        secret: Some("9f8e7d6c5b4a39281706f5e4d3c2b1a0".into()),
        account_number: Some(number.into()),
        ..Default::default()
    }
}

fn adapter(m: &RunningMock, number: &str) -> FedEx {
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    FedEx::new(&account(&m.base_url, number), http)
}

fn start() -> RunningMock {
    mock::start(
        mock::fedex::mock(),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")),
        "127.0.0.1:0",
        1,
    )
    .expect("start FedEx mock")
}

fn shipment() -> Shipment {
    Shipment {
        from: Address {
            name: Some("Dana Whitfield".into()),
            company: Some("Chesapeake Outfitters".into()),
            street: vec!["2205 York Rd".into(), "Suite 300".into()],
            city: "Timonium".into(),
            state: Some("MD".into()),
            postal_code: "21093".into(),
            country: "US".into(),
            phone: Some("4105550142".into()),
            email: None,
            residential: false,
        },
        to: Address {
            name: Some("Luis Morales".into()),
            company: None,
            street: vec!["11575 Great Oaks Way".into()],
            city: "Alpharetta".into(),
            state: Some("GA".into()),
            postal_code: "30005".into(),
            country: "US".into(),
            phone: Some("6785550199".into()),
            email: Some("luis@example.com".into()),
            residential: true,
        },
        packages: vec![Package {
            weight: dec("5.5"),
            weight_unit: WeightUnit::Lb,
            dimensions: Some(Dimensions {
                length: dec("12"),
                width: dec("10"),
                height: dec("6.5"),
                unit: LengthUnit::In,
            }),
            reference: Some("order-1001".into()),
        }],
        ship_date: Some(date("2025-03-17")),
        shipper: None,
        customs: None,
    }
}

fn label_request(format: LabelFormat) -> LabelRequest {
    LabelRequest {
        shipment: shipment(),
        service_code: "FEDEX_2_DAY".into(),
        label_format: format,
    }
}

fn calls(m: &RunningMock, path: &str) -> Vec<Recorded> {
    m.state.requests().into_iter().filter(|r| r.path == path).collect()
}

fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).expect("recorded body is JSON")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers/fedex/").to_string() + name).unwrap()
}

fn assert_fedex_headers(r: &Recorded) {
    assert!(r.header("authorization").starts_with("Bearer mock-fedex-"), "{:?}", r.headers);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("x-locale"), "en_US");
    assert!(r.header("x-customer-transaction-id").starts_with("tl-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_request_follows_the_published_schema() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let built = fx.rate_request(&shipment()).unwrap();
    fx.rate(&shipment()).await.unwrap();

    let sent = calls(&m, "/rate/v1/rates/quotes");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_fedex_headers(&sent[0]);
    let b = body(&sent[0]);
    assert_eq!(b, built);
    assert_eq!(b["accountNumber"], json!({ "value": "740561073" }));
    assert_eq!(b["rateRequestControlParameters"]["returnTransitTimes"], json!(true));
    let rs = &b["requestedShipment"];
    assert_eq!(
        rs["shipper"]["address"],
        json!({ "streetLines": ["2205 York Rd", "Suite 300"], "city": "Timonium", "stateOrProvinceCode": "MD",
                "postalCode": "21093", "countryCode": "US", "residential": false })
    );
    assert_eq!(rs["recipient"]["address"]["postalCode"], "30005");
    assert_eq!(rs["recipient"]["address"]["residential"], json!(true));
    // No serviceType: FedEx answers every service (rate shopping).
    assert!(rs.get("serviceType").is_none());
    assert_eq!(rs["pickupType"], "DROPOFF_AT_FEDEX_LOCATION");
    assert_eq!(rs["packagingType"], "YOUR_PACKAGING");
    assert_eq!(rs["rateRequestType"], json!(["ACCOUNT", "LIST"]));
    assert_eq!(rs["shipDateStamp"], "2025-03-17");
    assert_eq!(rs["totalPackageCount"], json!(1));
    let item = &rs["requestedPackageLineItems"][0];
    assert_eq!(item["weight"], json!({ "units": "LB", "value": 5.5 }));
    // Dimensions are whole units, rounded up.
    assert_eq!(item["dimensions"], json!({ "length": 12, "width": 10, "height": 7, "units": "IN" }));

    // The token call: form-encoded client credentials.
    let token = calls(&m, "/oauth/token");
    assert_eq!(token.len(), 1);
    assert_eq!(token[0].header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(
        String::from_utf8_lossy(&token[0].body),
        "grant_type=client_credentials&client_id=l7a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6&client_secret=9f8e7d6c5b4a39281706f5e4d3c2b1a0"
    );
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_fixture_parses_to_exact_values() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let rates = fx.rate(&shipment()).await.unwrap();
    let codes: Vec<&str> = rates.iter().map(|r| r.service_code.as_str()).collect();
    assert_eq!(codes, ["PRIORITY_OVERNIGHT", "FEDEX_2_DAY", "FEDEX_GROUND"]);

    // ACCOUNT is chosen over LIST even when LIST comes first.
    let po = &rates[0];
    assert_eq!(po.carrier, "fedex");
    assert_eq!(po.service_name, "FedEx Priority Overnight®");
    assert_eq!(po.total.amount, dec("82.36"));
    assert_eq!(po.total.currency, "USD");
    let lines: Vec<(&str, String)> = po
        .breakdown
        .iter()
        .map(|c| (c.code.as_str(), c.amount.amount.to_string()))
        .collect();
    assert_eq!(
        lines,
        [
            ("BASE", "78.4".into()),
            ("FUEL", "11.62".into()),
            ("DELIVERY_AREA", "4.1".into()),
            ("DISCOUNT", "-11.76".into())
        ]
    );
    assert_eq!(po.breakdown[1].description.as_deref(), Some("Fuel Surcharge"));
    let sum = po.breakdown.iter().fold(Decimal::default(), |a, c| a + c.amount.amount);
    assert_eq!(sum, po.total.amount);
    assert_eq!(po.estimated_delivery, Some(date("2025-03-18")));
    assert_eq!(po.transit_days, Some(1), "counted from the ship date to the commit date");
    assert!(po.guaranteed);

    let two = &rates[1];
    assert_eq!(two.service_name, "FedEx 2Day®");
    assert_eq!(two.total.amount.to_cents(), 3601);
    assert_eq!(two.estimated_delivery, Some(date("2025-03-19")));
    assert_eq!(two.transit_days, Some(2));
    assert!(two.guaranteed);

    let ground = &rates[2];
    assert_eq!(ground.service_name, "FedEx Ground®");
    assert_eq!(ground.total.amount, dec("15.23"));
    assert_eq!(ground.breakdown.len(), 2);
    assert_eq!(ground.transit_days, Some(3), "from transitTime THREE_DAYS");
    assert_eq!(ground.estimated_delivery, None);
    assert!(!ground.guaranteed);

    // The pure parser gives the same quotes, without the ship-date derived transit days.
    let pure = FedEx::parse_rates(&fixture("rate.json")).unwrap();
    assert_eq!(pure[0].total, po.total);
    assert_eq!(pure[0].transit_days, None);
    assert_eq!(pure[2], *ground);
    m.handle.stop(false).await;
}

#[test]
fn amounts_never_go_through_floats() {
    // 0.1 + 0.2 style values and more digits than an f64 holds exactly.
    let reply = br#"{"output":{"rateReplyDetails":[{"serviceType":"FEDEX_GROUND","serviceName":"FedEx Ground",
        "ratedShipmentDetails":[{"rateType":"ACCOUNT","totalBaseCharge":0.1,"totalNetCharge":12345678.901234567,"currency":"CAD",
        "shipmentRateDetail":{"surCharges":[{"type":"FUEL","amount":0.2},{"type":"ODD","amount":1.5E1}]}}]}]}}"#;
    let rates = FedEx::parse_rates(reply).unwrap();
    assert_eq!(rates[0].total.amount.to_string(), "12345678.901234567");
    assert_eq!(rates[0].total.currency, "CAD");
    assert_eq!(
        rates[0].breakdown[0].amount.amount + rates[0].breakdown[1].amount.amount,
        dec("0.3")
    );
    assert_eq!(rates[0].breakdown[2].amount.amount, dec("15"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_sends_the_schema_and_returns_the_label() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let label = fx.ship(&label_request(LabelFormat::Pdf)).await.unwrap();

    let sent = calls(&m, "/ship/v1/shipments");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_fedex_headers(&sent[0]);
    let b = body(&sent[0]);
    assert_eq!(b["labelResponseOptions"], "LABEL");
    assert_eq!(b["accountNumber"]["value"], ACCOUNT);
    let rs = &b["requestedShipment"];
    assert_eq!(rs["shipDatestamp"], "2025-03-17");
    assert_eq!(rs["serviceType"], "FEDEX_2_DAY");
    assert_eq!(
        rs["shipper"]["contact"],
        json!({ "personName": "Dana Whitfield", "companyName": "Chesapeake Outfitters", "phoneNumber": "4105550142" })
    );
    assert_eq!(rs["shipper"]["address"]["streetLines"], json!(["2205 York Rd", "Suite 300"]));
    assert!(rs["recipients"].is_array());
    assert_eq!(rs["recipients"][0]["contact"]["emailAddress"], "luis@example.com");
    assert_eq!(rs["recipients"][0]["address"]["residential"], json!(true));
    assert_eq!(rs["shippingChargesPayment"], json!({ "paymentType": "SENDER" }));
    assert_eq!(
        rs["labelSpecification"],
        json!({ "imageType": "PDF", "labelStockType": "PAPER_4X6" })
    );
    let item = &rs["requestedPackageLineItems"][0];
    assert_eq!(item["sequenceNumber"], json!(1));
    assert_eq!(item["weight"], json!({ "units": "LB", "value": 5.5 }));
    assert_eq!(
        item["customerReferences"],
        json!([{ "customerReferenceType": "CUSTOMER_REFERENCE", "value": "order-1001" }])
    );

    assert_eq!(label.carrier, "fedex");
    assert_eq!(label.service_code, "FEDEX_2_DAY");
    assert_eq!(label.tracking_numbers, ["794953535000"]);
    assert_eq!(label.label_format, LabelFormat::Pdf);
    assert_eq!(label.labels.len(), 1);
    let pdf = base64::engine::general_purpose::STANDARD.decode(&label.labels[0]).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert_eq!(label.charges.amount, dec("36.01"));
    assert_eq!(label.charges.currency, "USD");

    // ZPL asks for thermal stock.
    let zpl = fx.ship_request(&label_request(LabelFormat::Zpl)).unwrap();
    assert_eq!(
        zpl["requestedShipment"]["labelSpecification"],
        json!({ "imageType": "ZPLII", "labelStockType": "STOCK_4X6" })
    );
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn void_cancels_by_tracking_number() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let label = FedEx::parse_label(&fixture("ship.json")).unwrap();
    fx.void(&label).await.unwrap();
    let sent = calls(&m, "/ship/v1/shipments/cancel");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "PUT");
    assert_fedex_headers(&sent[0]);
    assert_eq!(
        body(&sent[0]),
        json!({ "accountNumber": { "value": ACCOUNT }, "trackingNumber": "794953535000",
                "deletionControl": "DELETE_ALL_PACKAGES", "emailShipment": false })
    );
    let refused = FedEx::parse_cancel(br#"{"output":{"cancelledShipment":false,"message":"Shipment already tendered"}}"#);
    assert!(matches!(refused, Err(CarrierError::Rejected { carrier: "fedex", ref message, .. }) if message == "Shipment already tendered"));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_normalizes_statuses_newest_first() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let t = fx.track("794953535000").await.unwrap();
    let sent = calls(&m, "/track/v1/trackingnumbers");
    assert_eq!(sent.len(), 1);
    assert_fedex_headers(&sent[0]);
    assert_eq!(
        body(&sent[0]),
        json!({ "includeDetailedScans": true, "trackingInfo": [ { "trackingNumberInfo": { "trackingNumber": "794953535000" } } ] })
    );

    assert_eq!(t.carrier, "fedex");
    assert_eq!(t.tracking_number, "794953535000");
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(t.carrier_code, "DL");
    assert_eq!(t.estimated_delivery, None);
    let seen: Vec<(&str, TrackingStatus)> = t.events.iter().map(|e| (e.carrier_code.as_str(), e.status)).collect();
    assert_eq!(
        seen,
        [
            ("DL", TrackingStatus::Delivered),
            ("OD", TrackingStatus::OutForDelivery),
            ("AR", TrackingStatus::InTransit),
            ("DP", TrackingStatus::InTransit),
            ("AR", TrackingStatus::InTransit),
            ("DP", TrackingStatus::InTransit),
            ("PU", TrackingStatus::InTransit),
            ("OC", TrackingStatus::PreTransit),
        ]
    );
    assert_eq!(t.events[0].occurred_at, "2025-03-19T14:32:00-04:00");
    assert_eq!(t.events[0].description, "Delivered");
    assert_eq!(t.events[0].location.as_deref(), Some("ALPHARETTA, GA, US"));
    assert_eq!(t.events[3].location.as_deref(), Some("MEMPHIS, TN, US"));
    assert_eq!(t.events[7].location, None);

    // Unknown number: HTTP 200 with a per-result error.
    let e = fx.track("123456789012").await.unwrap_err();
    assert!(
        matches!(e, CarrierError::Rejected { carrier: "fedex", ref code, .. } if code == "TRACKING.TRACKINGNUMBER.NOTFOUND"),
        "{e:?}"
    );
    m.handle.stop(false).await;
}

#[test]
fn tracking_exceptions_returns_and_ordering() {
    let reply = br#"{"output":{"completeTrackResults":[{"trackingNumber":"776655443322","trackResults":[{
        "trackingNumberInfo":{"trackingNumber":"776655443322"},
        "latestStatusDetail":{"code":"DE","derivedCode":"DE","description":"Delivery exception"},
        "dateAndTimes":[{"type":"ESTIMATED_DELIVERY","dateTime":"2025-03-21T00:00:00-07:00"}],
        "scanEvents":[
          {"date":"2025-03-20T10:00:00-04:00","eventType":"AR","eventDescription":"At local FedEx facility","derivedStatusCode":"IT"},
          {"date":"2025-03-20T09:15:00-05:00","eventType":"DE","eventDescription":"Customer not available or business closed",
           "exceptionCode":"08","derivedStatusCode":"DE","scanLocation":{"city":"RENO","stateOrProvinceCode":"NV","countryCode":"US"}},
          {"date":"2025-03-19T22:00:00-05:00","eventType":"ZZ","eventDescription":"Something new"}]}]}]}}"#;
    let t = FedEx::parse_tracking(reply).unwrap();
    assert_eq!(t.status, TrackingStatus::Exception);
    assert_eq!(t.carrier_code, "DE");
    assert_eq!(t.estimated_delivery, Some(date("2025-03-21")));
    // 09:15 -05:00 (14:15Z) is later than 10:00 -04:00 (14:00Z), though it sorts before it as text.
    let order: Vec<(&str, TrackingStatus)> = t.events.iter().map(|e| (e.carrier_code.as_str(), e.status)).collect();
    assert_eq!(
        order,
        [
            ("DE", TrackingStatus::Exception),
            ("AR", TrackingStatus::InTransit),
            ("ZZ", TrackingStatus::Unknown)
        ]
    );

    let returned = br#"{"output":{"completeTrackResults":[{"trackResults":[{"trackingNumberInfo":{"trackingNumber":"1"},
        "latestStatusDetail":{"code":"RS","derivedCode":"RS"},"scanEvents":[]}]}]}}"#;
    assert_eq!(FedEx::parse_tracking(returned).unwrap().status, TrackingStatus::Returned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fedex_errors_map_to_typed_errors() {
    let m = start();
    // The account the mock refuses with its error fixture.
    let wrong = adapter(&m, "000000000");
    let e = wrong.rate(&shipment()).await.unwrap_err();
    assert_eq!(
        e,
        CarrierError::Rejected {
            carrier: "fedex",
            code: "ACCOUNT.NUMBER.MISMATCH".into(),
            message: "Please enter a valid 9-digit FedEx account number or register for a new FedEx account number.".into(),
        }
    );

    // Missing phone: refused before any call.
    let fx = adapter(&m, ACCOUNT);
    let mut r = label_request(LabelFormat::Pdf);
    r.shipment.to.phone = None;
    assert!(matches!(fx.ship(&r).await, Err(CarrierError::Invalid(_))));
    assert!(calls(&m, "/ship/v1/shipments").is_empty());

    // The mock itself refuses what FedEx refuses, in FedEx's shape.
    let client = reqwest::Client::new();
    let noauth = client
        .post(format!("{}/rate/v1/rates/quotes", m.base_url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(noauth.status(), 401);
    let v: Value = noauth.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], "NOT.AUTHORIZED.ERROR");
    assert!(v["transactionId"].is_string());
    let token: Value = client
        .post(format!("{}/oauth/token", m.base_url))
        .form(&[("grant_type", "client_credentials"), ("client_id", "k"), ("client_secret", "s")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], json!(3599));
    let bearer = token["access_token"].as_str().unwrap().to_string();
    let mut body = fx.rate_request(&shipment()).unwrap();
    body["requestedShipment"]["recipient"]["address"]
        .as_object_mut()
        .unwrap()
        .remove("postalCode");
    let bad = client
        .post(format!("{}/rate/v1/rates/quotes", m.base_url))
        .bearer_auth(&bearer)
        .header("x-customer-transaction-id", "order-1001-rate")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let v: Value = bad.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], "INVALID.INPUT.EXCEPTION");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("requestedShipment.recipient.address.postalCode"));
    assert_eq!(v["customerTransactionId"], "order-1001-rate");
    // Same error through the adapter's mapping.
    let mapped = FedEx::parse_error(400, serde_json::to_vec(&v).unwrap().as_slice());
    assert!(matches!(mapped, CarrierError::Rejected { ref code, .. } if code == "INVALID.INPUT.EXCEPTION"));
    let bad_grant = client
        .post(format!("{}/oauth/token", m.base_url))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_grant.status(), 400);

    // Status classes keep their own variants.
    let body = |code: &str| format!(r#"{{"transactionId":"t","errors":[{{"code":"{code}","message":"m"}}]}}"#).into_bytes();
    assert!(
        matches!(FedEx::parse_error(401, &body("NOT.AUTHORIZED.ERROR")), CarrierError::Auth(ref s) if s.starts_with("NOT.AUTHORIZED.ERROR"))
    );
    assert_eq!(FedEx::parse_error(429, &body("TOO.MANY.REQUESTS")), CarrierError::RateLimited);
    assert_eq!(
        FedEx::parse_error(503, &body("SERVICE.UNAVAILABLE.ERROR")),
        CarrierError::Unavailable(503)
    );
    assert!(
        matches!(FedEx::parse_error(404, &body("NOT.FOUND.ERROR")), CarrierError::Rejected { ref code, .. } if code == "NOT.FOUND.ERROR")
    );
    assert!(matches!(
        FedEx::parse_error(400, b"<html>bad gateway</html>"),
        CarrierError::Parse(_)
    ));
    m.handle.stop(false).await;
}

#[test]
fn carrier_garbage_is_an_error_not_a_panic() {
    let junk: [&[u8]; 9] = [
        b"",
        b"null",
        b"[]",
        b"{\"output\":7}",
        b"{\"output\":{\"rateReplyDetails\":[{\"serviceType\":5}]}}",
        b"{\"output\":{\"rateReplyDetails\":[{\"serviceType\":\"X\",\"ratedShipmentDetails\":[{\"totalNetCharge\":\"abc\",\"currency\":\"USD\"}]}]}}",
        b"{\"output\":{\"transactionShipments\":[{\"pieceResponses\":[{\"trackingNumber\":\"1\",\"packageDocuments\":[{\"encodedLabel\":\"%%%\"}]}]}]}}",
        b"{\"output\":{\"completeTrackResults\":[{\"trackResults\":[7]}]}}",
        b"\xff\xfe{",
    ];
    for junk in junk {
        assert!(FedEx::parse_rates(junk).is_err());
        assert!(FedEx::parse_label(junk).is_err());
        assert!(FedEx::parse_cancel(junk).is_err());
        let _ = FedEx::parse_tracking(junk);
    }
    // Rate answer with no service and a warning alert.
    let none =
        br#"{"output":{"alerts":[{"code":"SERVICE.UNAVAILABLE.FOR.ZIP","message":"No service to this ZIP","alertType":"WARNING"}]}}"#;
    assert!(matches!(FedEx::parse_rates(none), Err(CarrierError::Rejected { ref code, .. }) if code == "SERVICE.UNAVAILABLE.FOR.ZIP"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refreshed_once() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    fx.rate(&shipment()).await.unwrap();
    assert_eq!(calls(&m, "/oauth/token").len(), 1);
    // Cached token: no second token call.
    fx.track("794953535000").await.unwrap();
    assert_eq!(calls(&m, "/oauth/token").len(), 1);

    m.state.revoke_tokens();
    let rates = fx.rate(&shipment()).await.unwrap();
    assert_eq!(rates.len(), 3);
    assert_eq!(calls(&m, "/oauth/token").len(), 2);
    let rate_calls = calls(&m, "/rate/v1/rates/quotes");
    assert_eq!(rate_calls.len(), 3, "first call, the 401, exactly one retry");
    assert_ne!(rate_calls[1].header("authorization"), rate_calls[2].header("authorization"));
    // The retry is the same transaction.
    assert_eq!(
        rate_calls[1].header("x-customer-transaction-id"),
        rate_calls[2].header("x-customer-transaction-id")
    );

    // A second 401 after the refresh is an authentication error, not a loop.
    m.state.fail_next(&[401, 401]);
    // (the injected faults hit the business call, then the token call of the refresh)
    let e = fx.rate(&shipment()).await.unwrap_err();
    assert!(matches!(e, CarrierError::Auth(_)), "{e:?}");
    assert_eq!(calls(&m, "/rate/v1/rates/quotes").len(), 4);
    assert_eq!(calls(&m, "/oauth/token").len(), 3);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_backs_off_then_succeeds() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    fx.track("794953535000").await.unwrap();
    m.state.fail_next(&[429]);
    let t = fx.track("794953535000").await.unwrap();
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(calls(&m, "/track/v1/trackingnumbers").len(), 3);

    // Still throttled after the 2 retries.
    m.state.fail_next(&[429, 429, 429]);
    assert_eq!(fx.rate(&shipment()).await.unwrap_err(), CarrierError::RateLimited);
    assert_eq!(calls(&m, "/rate/v1/rates/quotes").len(), 3);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_purchase_is_not_retried_on_5xx() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    fx.track("794953535000").await.unwrap();
    m.state.fail_next(&[503]);
    assert_eq!(
        fx.ship(&label_request(LabelFormat::Pdf)).await.unwrap_err(),
        CarrierError::Unavailable(503)
    );
    assert_eq!(calls(&m, "/ship/v1/shipments").len(), 1);
    m.state.fail_next(&[500]);
    assert_eq!(
        fx.ship(&label_request(LabelFormat::Pdf)).await.unwrap_err(),
        CarrierError::Unavailable(500)
    );
    assert_eq!(calls(&m, "/ship/v1/shipments").len(), 2);

    // Cancel is idempotent: retried past a 500.
    m.state.fail_next(&[500]);
    fx.void(&FedEx::parse_label(&fixture("ship.json")).unwrap()).await.unwrap();
    assert_eq!(calls(&m, "/ship/v1/shipments/cancel").len(), 2);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_outage_is_unavailable_not_auth() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    // A fresh adapter's first request goes to the token endpoint, which gets the faults;
    // token requests are retried like the idempotent call they serve.
    m.state.fail_next(&[503, 503, 503]);
    assert_eq!(fx.rate(&shipment()).await.unwrap_err(), CarrierError::Unavailable(503));
    assert!(calls(&m, "/rate/v1/rates/quotes").is_empty());
    m.state.fail_next(&[429, 429, 429]);
    assert_eq!(fx.track("794953535000").await.unwrap_err(), CarrierError::RateLimited);
    m.state.fail_next(&[503]);
    assert!(fx.rate(&shipment()).await.is_ok(), "one token outage is retried");
    // Bad credentials stay an authentication error.
    let denied = br#"{"errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"The given client credentials were not valid."}]}"#;
    assert!(matches!(FedEx::parse_error(401, denied), CarrierError::Auth(_)));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_mock_credentials_are_accepted() {
    let m = start();
    let toml = format!("base_url = \"{}\"\n{}", m.base_url, mock::credentials("fedex"));
    let config: tradelane::connectors::carriers::CarrierConfig = toml::from_str(&toml).unwrap();
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    let fx = FedEx::new(&config.account, http);
    assert_eq!(fx.rate(&shipment()).await.unwrap().len(), 3);
    // The label carries the service that was bought.
    let mut r = label_request(LabelFormat::Pdf);
    r.service_code = "FEDEX_GROUND".into();
    let label = fx.ship(&r).await.unwrap();
    assert_eq!(label.service_code, "FEDEX_GROUND");
    assert_eq!(
        body(&calls(&m, "/ship/v1/shipments")[0])["requestedShipment"]["serviceType"],
        "FEDEX_GROUND"
    );
    m.handle.stop(false).await;
}

// ---- customs ----

/// The test shipment to Berlin: a licensed sample worth over 2,500 USD, with its ITN.
fn to_germany() -> LabelRequest {
    let mut r = label_request(LabelFormat::Pdf);
    r.service_code = "INTERNATIONAL_PRIORITY".into();
    let to = &mut r.shipment.to;
    to.street = vec!["Friedrichstrasse 68".into()];
    to.city = "Berlin".into();
    to.state = None;
    to.postal_code = "10117".into();
    to.country = "DE".into();
    r.shipment.customs = Some(
        serde_json::from_value(json!({
            "contents_type": "sample", "currency": "USD", "invoice_number": "CI-3003", "po_number": "PO-9",
            "freight_charge": "40", "duties_payer": "third_party", "duties_account": "510087020",
            "importer_tax_ids": [{ "type": "eori", "number": "DE123456789012345", "country": "DE" }],
            "itn": "X20250317123456",
            "declaration_statement": "These commodities are licensed for the ultimate destination shown.",
            "commodities": [
                { "description": "Industrial pressure sensor", "quantity": 3, "unit_value": "1000.00", "unit_net_weight": "0.75",
                  "weight_unit": "lb", "hs_code": "9026.20.4000", "origin_country": "US", "sku": "PS-200", "export_licence": "D765432" },
                { "description": "Sensor mounting bracket", "quantity": 3, "unit_value": "12.40", "unit_net_weight": "4",
                  "weight_unit": "oz", "hs_code": "7326.90.8688", "origin_country": "MX" }
            ]
        }))
        .unwrap(),
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_label_sends_customs_clearance_detail() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let r = to_germany();
    fx.ship(&r).await.unwrap();
    let sent = calls(&m, "/ship/v1/shipments");
    let b = body(&sent[0]);
    let rs = &b["requestedShipment"];
    assert_eq!(
        rs["customsClearanceDetail"],
        json!({
            "dutiesPayment": { "paymentType": "THIRD_PARTY",
                               "payor": { "responsibleParty": { "accountNumber": { "value": "510087020" } } } },
            "isDocumentOnly": false,
            "commercialInvoice": {
                "shipmentPurpose": "SAMPLE",
                "termsOfSale": "DAP",
                "customerReferences": [
                    { "customerReferenceType": "INVOICE_NUMBER", "value": "CI-3003" },
                    { "customerReferenceType": "P_O_NUMBER", "value": "PO-9" }
                ],
                "freightCharge": { "amount": 40, "currency": "USD" },
                "declarationStatement": "These commodities are licensed for the ultimate destination shown."
            },
            "commodities": [
                { "description": "Industrial pressure sensor", "quantity": 3, "quantityUnits": "PCS", "numberOfPieces": 1,
                  "unitPrice": { "amount": 1000, "currency": "USD" }, "customsValue": { "amount": 3000, "currency": "USD" },
                  "weight": { "units": "LB", "value": 2.25 }, "countryOfManufacture": "US", "harmonizedCode": "9026204000",
                  "partNumber": "PS-200", "exportLicenseNumber": "D765432" },
                { "description": "Sensor mounting bracket", "quantity": 3, "quantityUnits": "PCS", "numberOfPieces": 1,
                  "unitPrice": { "amount": 12.4, "currency": "USD" }, "customsValue": { "amount": 37.2, "currency": "USD" },
                  "weight": { "units": "LB", "value": 0.75 }, "countryOfManufacture": "MX", "harmonizedCode": "7326908688" }
            ],
            "totalCustomsValue": { "amount": 3037.2, "currency": "USD" },
            "exportDetail": { "exportComplianceStatement": "AESX20250317123456" }
        })
    );
    assert_eq!(
        rs["recipients"][0]["tins"],
        json!([{ "number": "DE123456789012345", "tinType": "BUSINESS_UNION" }])
    );
    assert!(rs["shipper"].get("tins").is_none());
    assert_eq!(b, fx.ship_request(&r).unwrap());

    // Exempt exports carry FedEx's code for the legend; rates get the subset the rate API takes.
    let mut low = to_germany();
    let c = low.shipment.customs.as_mut().unwrap();
    c.commodities.truncate(1);
    c.commodities[0].quantity = Some(json!(1));
    c.commodities[0].export_licence = None;
    c.itn = None;
    c.duties_payer = None;
    c.duties_account = None;
    let b = fx.ship_request(&low).unwrap();
    assert_eq!(
        b["requestedShipment"]["customsClearanceDetail"]["exportDetail"],
        json!({ "exportComplianceStatement": "NO_EEI_30_37_A" })
    );
    assert_eq!(
        b["requestedShipment"]["customsClearanceDetail"]["dutiesPayment"],
        json!({ "paymentType": "RECIPIENT" })
    );
    let rate = fx.rate_request(&low.shipment).unwrap();
    let detail = &rate["requestedShipment"]["customsClearanceDetail"];
    assert_eq!(detail["dutiesPayment"], json!({ "paymentType": "RECIPIENT" }));
    assert_eq!(
        detail["commodities"][0]["customsValue"],
        json!({ "amount": 1000, "currency": "USD" })
    );
    assert!(detail.get("exportDetail").is_none() && detail.get("commercialInvoice").is_none());
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_rejects_international_labels_without_customs() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    fx.ship(&label_request(LabelFormat::Pdf)).await.unwrap();
    let bearer = calls(&m, "/ship/v1/shipments")[0].header("authorization").to_string();
    let c = reqwest::Client::new();
    let send = |v: Value| {
        c.post(format!("{}/ship/v1/shipments", m.base_url))
            .header("authorization", bearer.clone())
            .json(&v)
            .send()
    };
    let good = fx.ship_request(&to_germany()).unwrap();
    assert_eq!(send(good.clone()).await.unwrap().status(), 200);

    let message = |v: Value| (v["errors"][0]["code"].clone(), v["errors"][0]["message"].clone());
    let mut none = good.clone();
    none["requestedShipment"].as_object_mut().unwrap().remove("customsClearanceDetail");
    let r = send(none).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        message(r.json().await.unwrap()),
        (
            json!("INVALID.INPUT.EXCEPTION"),
            json!("Invalid field value in the input: requestedShipment.customsClearanceDetail is required for an international shipment")
        )
    );
    let mut no_origin = good.clone();
    no_origin["requestedShipment"]["customsClearanceDetail"]["commodities"][1]
        .as_object_mut()
        .unwrap()
        .remove("countryOfManufacture");
    assert_eq!(
        message(send(no_origin).await.unwrap().json().await.unwrap()).1,
        json!("Invalid field value in the input: requestedShipment.customsClearanceDetail.commodities[1].countryOfManufacture is required")
    );
    let mut no_statement = good;
    no_statement["requestedShipment"]["customsClearanceDetail"]
        .as_object_mut()
        .unwrap()
        .remove("exportDetail");
    assert_eq!(
        message(send(no_statement).await.unwrap().json().await.unwrap()).1,
        json!("Invalid field value in the input: requestedShipment.customsClearanceDetail.exportDetail.exportComplianceStatement must be an AES ITN or an EEI exemption")
    );
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_dimensions_do_not_overflow() {
    let m = start();
    let fx = adapter(&m, ACCOUNT);
    let mut s = shipment();
    if let Some(d) = s.packages[0].dimensions.as_mut() {
        d.length = dec("99999999999999999");
    }
    // Built (FedEx itself refuses such a package), never a panic.
    let built = fx.rate_request(&s).unwrap();
    let length = &built["requestedShipment"]["requestedPackageLineItems"][0]["dimensions"]["length"];
    assert!(length.as_i64().is_some_and(|l| l > 0), "{length}");
}
