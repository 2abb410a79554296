//! UPS adapter against the UPS mock: request shapes (recorded by the mock and
//! from the pure builders), fixture responses to exact canonical values,
//! error mapping, token refresh, backoff and the no-retry rule for labels.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tradelane::connectors::carriers::ups::{self, Ups};
use tradelane::connectors::carriers::{
    Address, CarrierAccount, CarrierError, CarrierHttp, Dimensions, Label, LabelFormat, LabelRequest, LengthUnit, Package, Shipment,
    TrackingStatus, WeightUnit,
};
use tradelane::connectors::mock::{self, Recorded, RunningMock};
use tradelane::model::{Date, Decimal};

const TRACKING: &str = "1ZA1B2C30392751836";

fn start() -> RunningMock {
    mock::start(
        mock::ups::mock(),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")),
        "127.0.0.1:0",
        1,
    )
    .expect("mock starts")
}

fn account(base_url: &str) -> CarrierAccount {
    CarrierAccount {
        base_url: Some(base_url.to_string()),
        key: Some("client-id-123".into()),
        secret: Some("client-secret-456".into()),
        account_number: Some("A1B2C3".into()),
        ..Default::default()
    }
}

fn adapter(base_url: &str) -> Ups {
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    Ups::new(&account(base_url), http)
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn shipment() -> Shipment {
    Shipment {
        from: Address {
            name: Some("Dana Shipper".into()),
            company: Some("Harbor Supply Co".into()),
            street: vec!["11 Schilling Rd".into()],
            city: "Hunt Valley".into(),
            state: Some("MD".into()),
            postal_code: "21031".into(),
            country: "US".into(),
            phone: Some("4105550100".into()),
            ..Default::default()
        },
        to: Address {
            name: Some("Riley Buyer".into()),
            street: vec!["2000 Main St".into(), "Apt 4".into()],
            city: "Alpharetta".into(),
            state: Some("GA".into()),
            postal_code: "30005".into(),
            country: "US".into(),
            residential: true,
            ..Default::default()
        },
        packages: vec![Package {
            weight: dec("5.5"),
            weight_unit: WeightUnit::Lb,
            dimensions: Some(Dimensions {
                length: dec("12"),
                width: dec("10"),
                height: dec("6"),
                unit: LengthUnit::In,
            }),
            reference: Some("order-1001".into()),
        }],
        ship_date: Some(Date::new(2025, 3, 17).expect("date")),
        shipper: None,
        customs: None,
    }
}

fn requests_to(m: &RunningMock, prefix: &str) -> Vec<Recorded> {
    m.state.requests().into_iter().filter(|r| r.path.starts_with(prefix)).collect()
}

fn body(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

/// (code, name, total, currency, transit days, estimated delivery, guaranteed).
type RateRow<'a> = (&'a str, &'a str, String, &'a str, Option<u32>, Option<String>, bool);

const TOKEN: &str = "/security/v1/oauth/token";
const RATING: &str = "/api/rating/";
const SHIP: &str = "/api/shipments/v2409/ship";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_shop_sends_published_schema_and_parses_every_service() {
    let m = start();
    let ups = adapter(&m.base_url);
    let rates = ups.rate(&shipment()).await.expect("rates");

    // Token request: Basic client credentials, form body, merchant id.
    let tokens = requests_to(&m, TOKEN);
    assert_eq!(tokens.len(), 1);
    let t = &tokens[0];
    assert_eq!(t.method, "POST");
    let basic = base64::engine::general_purpose::STANDARD.encode("client-id-123:client-secret-456");
    assert_eq!(t.header("authorization"), format!("Basic {basic}"));
    assert_eq!(t.header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(t.header("x-merchant-id"), "A1B2C3");
    assert_eq!(t.body, b"grant_type=client_credentials");

    // Rating request: path, headers, body.
    let rating = requests_to(&m, RATING);
    assert_eq!(rating.len(), 1);
    let r = &rating[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/rating/v2409/Shop?additionalinfo=timeintransit");
    assert!(
        r.header("authorization").starts_with("Bearer mock-ups-"),
        "{}",
        r.header("authorization")
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("transactionsrc"), "tradelane");
    let trans_id = r.header("transid");
    assert!(!trans_id.is_empty() && trans_id.len() <= 32, "transId {trans_id:?}");
    let b = body(r);
    let s = &b["RateRequest"]["Shipment"];
    assert_eq!(b["RateRequest"]["Request"]["SubVersion"], "2409");
    assert_eq!(b["RateRequest"]["Request"]["TransactionReference"]["CustomerContext"], "order-1001");
    assert_eq!(s["Shipper"]["ShipperNumber"], "A1B2C3");
    assert_eq!(s["Shipper"]["Name"], "Harbor Supply Co");
    assert_eq!(s["Shipper"]["Address"]["AddressLine"], json!(["11 Schilling Rd"]));
    assert_eq!(s["Shipper"]["Address"]["StateProvinceCode"], "MD");
    assert_eq!(s["Shipper"]["Address"]["PostalCode"], "21031");
    assert_eq!(s["ShipTo"]["Address"]["AddressLine"], json!(["2000 Main St", "Apt 4"]));
    assert_eq!(s["ShipTo"]["Address"]["ResidentialAddressIndicator"], "");
    assert!(s["Shipper"]["Address"].get("ResidentialAddressIndicator").is_none());
    assert_eq!(s["ShipFrom"]["Address"]["City"], "Hunt Valley");
    assert_eq!(s["PaymentDetails"]["ShipmentCharge"][0]["Type"], "01");
    assert_eq!(s["PaymentDetails"]["ShipmentCharge"][0]["BillShipper"]["AccountNumber"], "A1B2C3");
    assert!(s.get("Service").is_none(), "Shop rates every service");
    assert_eq!(s["NumOfPieces"], "1");
    let p = &s["Package"][0];
    assert_eq!(p["PackagingType"]["Code"], "02");
    assert!(p.get("Packaging").is_none());
    assert_eq!(
        p["PackageWeight"],
        json!({ "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "5.5" })
    );
    assert_eq!(
        p["Dimensions"],
        json!({ "UnitOfMeasurement": { "Code": "IN" }, "Length": "12", "Width": "10", "Height": "6" })
    );
    assert_eq!(s["ShipmentRatingOptions"]["NegotiatedRatesIndicator"], "");
    assert_eq!(
        s["DeliveryTimeInformation"],
        json!({ "PackageBillType": "03", "Pickup": { "Date": "20250317" } })
    );

    // Canonical rates, exact.
    let summary: Vec<RateRow> = rates
        .iter()
        .map(|r| {
            (
                r.service_code.as_str(),
                r.service_name.as_str(),
                r.total.amount.to_string(),
                r.total.currency.as_str(),
                r.transit_days,
                r.estimated_delivery.map(|d| d.to_string()),
                r.guaranteed,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("03", "UPS Ground", "15.31".into(), "USD", Some(3), Some("2025-03-20".into()), false),
            (
                "12",
                "UPS 3 Day Select",
                "33.43".into(),
                "USD",
                Some(3),
                Some("2025-03-20".into()),
                true
            ),
            (
                "02",
                "UPS 2nd Day Air",
                "43.26".into(),
                "USD",
                Some(2),
                Some("2025-03-19".into()),
                true
            ),
            (
                "01",
                "UPS Next Day Air",
                "104.19".into(),
                "USD",
                Some(1),
                Some("2025-03-18".into()),
                true
            ),
        ]
    );
    assert!(rates.iter().all(|r| r.carrier == "ups"));
    let ground: Vec<(&str, String)> = rates[0]
        .breakdown
        .iter()
        .map(|c| (c.code.as_str(), c.amount.amount.to_string()))
        .collect();
    assert_eq!(ground, vec![("BASE", "13.1".to_string()), ("FUEL", "2.21".to_string())]);
    assert_eq!(rates[3].breakdown[1].amount.amount, dec("15.52"));
    assert_eq!(rates[0].total.amount.to_cents(), 1531);
    m.handle.stop(false).await;
}

#[test]
fn builder_converts_units_to_the_origin_system() {
    let ups = Ups::new(
        &account("http://unused"),
        CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(1), 0),
    );
    // Metric package from the US: pounds and inches, rounded up.
    let mut s = shipment();
    s.packages = vec![Package {
        weight: dec("2"),
        weight_unit: WeightUnit::Kg,
        dimensions: Some(Dimensions {
            length: dec("30"),
            width: dec("20"),
            height: dec("10"),
            unit: LengthUnit::Cm,
        }),
        reference: None,
    }];
    let p = &ups.rate_request(&s).unwrap()["RateRequest"]["Shipment"]["Package"][0];
    assert_eq!(
        p["PackageWeight"],
        json!({ "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "4.5" })
    );
    assert_eq!(
        p["Dimensions"],
        json!({ "UnitOfMeasurement": { "Code": "IN" }, "Length": "11.82", "Width": "7.88", "Height": "3.94" })
    );
    // Imperial package from Germany: kilograms and centimetres.
    let mut s = shipment();
    s.from.country = "DE".into();
    s.from.state = None;
    let v = ups.rate_request(&s).unwrap();
    let p = &v["RateRequest"]["Shipment"]["Package"][0];
    assert_eq!(
        p["PackageWeight"],
        json!({ "UnitOfMeasurement": { "Code": "KGS" }, "Weight": "2.5" })
    );
    assert_eq!(
        p["Dimensions"],
        json!({ "UnitOfMeasurement": { "Code": "CM" }, "Length": "30.48", "Width": "25.4", "Height": "15.24" })
    );
    assert!(v["RateRequest"]["Shipment"]["Shipper"]["Address"]
        .get("StateProvinceCode")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_buys_zpl_pdf_and_png_labels() {
    let m = start();
    let ups = adapter(&m.base_url);
    let req = LabelRequest {
        shipment: shipment(),
        service_code: "03".into(),
        label_format: LabelFormat::Zpl,
    };
    let label = ups.ship(&req).await.expect("label");
    assert_eq!(label.carrier, "ups");
    assert_eq!(label.service_code, "03");
    assert_eq!(label.shipment_id.as_deref(), Some(TRACKING));
    assert_eq!(label.tracking_numbers, vec![TRACKING.to_string()]);
    assert_eq!(label.label_format, LabelFormat::Zpl);
    assert_eq!(label.charges.amount, dec("15.31"));
    assert_eq!(label.charges.currency, "USD");
    let zpl = base64::engine::general_purpose::STANDARD
        .decode(&label.labels[0])
        .expect("base64 label");
    let zpl = String::from_utf8(zpl).expect("text");
    assert!(zpl.starts_with("^XA") && zpl.ends_with("^XZ") && zpl.contains(TRACKING), "{zpl}");

    let ships = requests_to(&m, SHIP);
    assert_eq!(ships.len(), 1);
    assert_eq!(ships[0].path, SHIP);
    assert_eq!(ships[0].header("content-type"), "application/json");
    assert_eq!(ships[0].header("transactionsrc"), "tradelane");
    let b = body(&ships[0]);
    let r = &b["ShipmentRequest"];
    assert_eq!(r["Request"]["RequestOption"], "nonvalidate");
    assert_eq!(r["Request"]["SubVersion"], "2409");
    let s = &r["Shipment"];
    assert_eq!(s["Shipper"]["ShipperNumber"], "A1B2C3");
    assert_eq!(s["Shipper"]["AttentionName"], "Dana Shipper");
    assert_eq!(s["Shipper"]["Phone"]["Number"], "4105550100");
    assert_eq!(s["ShipTo"]["Name"], "Riley Buyer");
    assert_eq!(
        s["PaymentInformation"]["ShipmentCharge"][0],
        json!({ "Type": "01", "BillShipper": { "AccountNumber": "A1B2C3" } })
    );
    assert_eq!(s["Service"]["Code"], "03");
    let p = &s["Package"][0];
    assert_eq!(p["Packaging"]["Code"], "02");
    assert!(p.get("PackagingType").is_none());
    assert_eq!(p["ReferenceNumber"], json!([{ "Value": "order-1001" }]));
    assert_eq!(p["PackageWeight"]["Weight"], "5.5");
    assert_eq!(
        r["LabelSpecification"],
        json!({ "LabelImageFormat": { "Code": "ZPL" }, "LabelStockSize": { "Height": "6", "Width": "4" } })
    );

    // PDF and PNG: UPS is asked for GIF, which the adapter converts.
    let pdf = LabelRequest {
        label_format: LabelFormat::Pdf,
        ..req.clone()
    };
    let label = ups.ship(&pdf).await.expect("pdf label");
    assert_eq!(
        (label.label_format, label.tracking_numbers.clone()),
        (LabelFormat::Pdf, vec![TRACKING.to_string()])
    );
    let pdf_bytes = base64::engine::general_purpose::STANDARD
        .decode(&label.labels[0])
        .expect("base64 pdf");
    assert_eq!(pdf_pixels(&pdf_bytes), (1200 * 800, LABEL_BLACK_PIXELS));
    let png = LabelRequest {
        label_format: LabelFormat::Png,
        ..req
    };
    let label = ups.ship(&png).await.expect("png label");
    let png_bytes = base64::engine::general_purpose::STANDARD
        .decode(&label.labels[0])
        .expect("base64 png");
    assert_eq!(png_pixels(&png_bytes), (1200, 800, LABEL_BLACK_PIXELS));
    let ships = requests_to(&m, SHIP);
    assert_eq!(ships.len(), 3);
    assert_eq!(
        body(&ships[1])["ShipmentRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"],
        "GIF"
    );
    assert_eq!(
        body(&ships[2])["ShipmentRequest"]["LabelSpecification"]["LabelImageFormat"]["Code"],
        "GIF"
    );
    m.handle.stop(false).await;
}

/// Black pixels drawn in `fixtures/carriers/ups/ship_gif.json` (1200×800, palette white, black).
const LABEL_BLACK_PIXELS: usize = 182_580;

/// (pixels, pixels of palette index 1) of the single run-length image in a PDF from the adapter.
fn pdf_pixels(pdf: &[u8]) -> (usize, usize) {
    assert!(pdf.starts_with(b"%PDF-1.4\n") && pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(pdf);
    assert!(
        text.contains("/Width 1200 /Height 800 /ColorSpace [/Indexed /DeviceRGB 1 <ffffff000000>]"),
        "{}",
        &text[..400]
    );
    assert!(text.contains("/MediaBox [0 0 432 288]"));
    let dict = text.find("/Filter /RunLengthDecode").expect("image");
    let start = dict + text[dict..].find("stream\n").expect("stream") + 7;
    let (mut i, mut pixels) = (start, Vec::new());
    loop {
        let n = pdf[i] as usize;
        match n {
            128 => break,
            0..=127 => {
                pixels.extend_from_slice(&pdf[i + 1..i + 2 + n]);
                i += n + 2;
            }
            _ => {
                pixels.extend(std::iter::repeat_n(pdf[i + 1], 257 - n));
                i += 2;
            }
        }
    }
    (pixels.len(), pixels.iter().filter(|&&p| p == 1).count())
}

/// (width, height, pixels of palette index 1) of a PNG with stored deflate blocks.
fn png_pixels(png: &[u8]) -> (u32, u32, usize) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (mut i, mut idat, mut size) = (8, Vec::new(), (0, 0));
    while i < png.len() {
        let n = be(&png[i..]) as usize;
        let kind = &png[i + 4..i + 8];
        let data = &png[i + 8..i + 8 + n];
        match kind {
            b"IHDR" => {
                size = (be(data), be(&data[4..]));
                assert_eq!(&data[8..13], &[8, 3, 0, 0, 0]);
            }
            b"PLTE" => assert_eq!(data, &[0xff, 0xff, 0xff, 0, 0, 0]),
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        i += 12 + n;
    }
    let (mut j, mut raw) = (2, Vec::new());
    loop {
        let last = idat[j] & 1 == 1;
        let len = u16::from_le_bytes([idat[j + 1], idat[j + 2]]) as usize;
        raw.extend_from_slice(&idat[j + 5..j + 5 + len]);
        j += 5 + len;
        if last {
            break;
        }
    }
    let width = size.0 as usize + 1;
    assert_eq!(raw.len(), width * size.1 as usize);
    assert!(raw.chunks(width).all(|row| row[0] == 0), "filter type 0 on every row");
    let black = raw.chunks(width).map(|row| row[1..].iter().filter(|&&p| p == 1).count()).sum();
    (size.0, size.1, black)
}

fn label(shipment_id: &str) -> Label {
    Label {
        carrier: "ups".into(),
        service_code: "03".into(),
        shipment_id: Some(shipment_id.into()),
        tracking_numbers: vec![shipment_id.into()],
        label_format: LabelFormat::Zpl,
        labels: vec![],
        charges: tradelane::connectors::carriers::Money {
            amount: dec("15.31"),
            currency: "USD".into(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn void_cancels_by_shipment_id_and_maps_the_void_window_error() {
    let m = start();
    let ups = adapter(&m.base_url);
    ups.void(&label(TRACKING)).await.expect("voided");
    let voids = requests_to(&m, "/api/shipments/v2409/void/cancel/");
    assert_eq!(voids.len(), 1);
    assert_eq!(voids[0].method, "DELETE");
    assert_eq!(voids[0].path, format!("/api/shipments/v2409/void/cancel/{TRACKING}"));

    match ups.void(&label("9ZA1B2C30392751836")).await {
        Err(CarrierError::Rejected { carrier, code, message }) => {
            assert_eq!((carrier, code.as_str()), ("ups", "190102"));
            assert_eq!(message, "No shipment found within the allowed void period");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    // Ids go into the path: anything but letters and digits is refused locally.
    assert!(matches!(ups.void(&label("1Z../../x")).await, Err(CarrierError::Invalid(_))));
    assert_eq!(requests_to(&m, "/api/shipments/v2409/void/cancel/").len(), 2);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_normalizes_statuses_newest_first() {
    let m = start();
    let ups = adapter(&m.base_url);
    let t = ups.track(TRACKING).await.expect("tracking");
    assert_eq!(t.carrier, "ups");
    assert_eq!(t.tracking_number, TRACKING);
    assert_eq!(t.status, TrackingStatus::Delivered);
    assert_eq!(t.carrier_code, "FS");
    assert_eq!(t.estimated_delivery, Date::new(2025, 3, 20));
    let events: Vec<(&str, TrackingStatus, &str, Option<&str>)> = t
        .events
        .iter()
        .map(|e| (e.occurred_at.as_str(), e.status, e.carrier_code.as_str(), e.location.as_deref()))
        .collect();
    assert_eq!(
        events,
        vec![
            (
                "2025-03-20T14:32:12-04:00",
                TrackingStatus::Delivered,
                "FS",
                Some("Alpharetta, GA, US")
            ),
            (
                "2025-03-20T07:45:01-04:00",
                TrackingStatus::OutForDelivery,
                "OT",
                Some("Alpharetta, GA, US")
            ),
            (
                "2025-03-19T21:20:00-04:00",
                TrackingStatus::InTransit,
                "AR",
                Some("Atlanta, GA, US")
            ),
            (
                "2025-03-18T02:10:04-04:00",
                TrackingStatus::InTransit,
                "DP",
                Some("Baltimore, MD, US")
            ),
            (
                "2025-03-17T18:42:00-04:00",
                TrackingStatus::InTransit,
                "PU",
                Some("Hunt Valley, MD, US")
            ),
            ("2025-03-17T10:15:33-04:00", TrackingStatus::PreTransit, "MP", Some("US")),
        ]
    );
    assert_eq!(t.events[1].description, "Out For Delivery Today");

    let tr = requests_to(&m, "/api/track/v1/details/");
    assert_eq!(tr.len(), 1);
    assert_eq!(tr[0].method, "GET");
    assert_eq!(
        tr[0].path,
        format!("/api/track/v1/details/{TRACKING}?locale=en_US&returnSignature=false&returnMilestones=false&returnPOD=false")
    );
    assert_eq!(tr[0].header("transactionsrc"), "tradelane");
    assert!((1..=32).contains(&tr[0].header("transid").len()));

    match ups.track("9400100000000000000000").await {
        Err(CarrierError::Rejected { code, message, .. }) => {
            assert_eq!(code, "151044");
            assert_eq!(message, "Tracking Information Not Found");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ups_errors_map_to_typed_errors() {
    let m = start();
    let ups = adapter(&m.base_url);
    let mut s = shipment();
    s.to.postal_code = "00000".into();
    match ups.rate(&s).await {
        Err(CarrierError::Rejected { carrier, code, message }) => {
            assert_eq!(carrier, "ups");
            assert_eq!(code, "111285");
            assert_eq!(message, "The postal code 00000 is invalid for GA United States.");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    // A persistent 500 is retried (2 retries) and then reported as Unavailable.
    m.state.fail_next(&[500, 500, 500]);
    assert_eq!(ups.rate(&shipment()).await, Err(CarrierError::Unavailable(500)));
    assert_eq!(requests_to(&m, RATING).len(), 4);

    // Missing credentials never reach the network.
    let mut acct = account(&m.base_url);
    acct.secret = None;
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2);
    assert!(matches!(
        Ups::new(&acct, http).rate(&shipment()).await,
        Err(CarrierError::Invalid(_))
    ));

    // The mapping itself, from UPS's bodies.
    let body = |code: &str, msg: &str| json!({ "response": { "errors": [ { "code": code, "message": msg } ] } }).to_string();
    assert_eq!(
        ups::error_of(401, body("250002", "Invalid Authentication Information.").as_bytes()),
        CarrierError::Auth("250002: Invalid Authentication Information.".into())
    );
    assert_eq!(
        ups::error_of(429, body("10429", "Too Many Requests").as_bytes()),
        CarrierError::RateLimited
    );
    assert_eq!(ups::error_of(503, b"<html>down</html>"), CarrierError::Unavailable(503));
    assert_eq!(
        ups::error_of(404, body("151044", "Tracking Information Not Found").as_bytes()),
        CarrierError::Rejected {
            carrier: "ups",
            code: "151044".into(),
            message: "Tracking Information Not Found".into()
        }
    );
    assert!(matches!(ups::error_of(400, b"not json"), CarrierError::Parse(m) if m.contains("HTTP 400")));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_rejects_missing_fields_headers_and_tokens_in_ups_shape() {
    let m = start();
    let c = reqwest::Client::new();
    let first_error = |v: &Value| v["response"]["errors"][0]["code"].as_str().unwrap_or("").to_string();

    // No bearer token.
    let r = c
        .post(format!("{}/api/rating/v2409/Shop", m.base_url))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(first_error(&r.json().await.expect("json")), "250002");

    // Token without credentials.
    let r = c
        .post(format!("{}{TOKEN}", m.base_url))
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(first_error(&r.json().await.expect("json")), "10400");

    let tok: Value = c
        .post(format!("{}{TOKEN}", m.base_url))
        .basic_auth("id", Some("secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], "14399");
    let bearer = tok["access_token"].as_str().expect("token").to_string();

    // A rate request without packages.
    let ups = adapter(&m.base_url);
    let mut req = ups.rate_request(&shipment()).unwrap();
    req["RateRequest"]["Shipment"].as_object_mut().expect("object").remove("Package");
    let r = c
        .post(format!("{}/api/rating/v2409/Shop", m.base_url))
        .bearer_auth(&bearer)
        .json(&req)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(first_error(&v), "900001");
    assert!(v["response"]["errors"][0]["message"].as_str().unwrap_or("").contains("Package"));

    // Tracking without transId.
    let r = c
        .get(format!("{}/api/track/v1/details/{TRACKING}", m.base_url))
        .bearer_auth(&bearer)
        .header("transactionSrc", "x")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert_eq!(first_error(&r.json().await.expect("json")), "900003");
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_refreshed_once_and_the_call_retried() {
    let m = start();
    let ups = adapter(&m.base_url);
    ups.rate(&shipment()).await.expect("first rates");
    m.state.revoke_tokens();
    let rates = ups.rate(&shipment()).await.expect("rates after refresh");
    assert_eq!(rates.len(), 4);
    assert_eq!(requests_to(&m, TOKEN).len(), 2, "one token at start, one refresh");
    let rating = requests_to(&m, RATING);
    assert_eq!(rating.len(), 3, "first call, the 401, the retry");
    assert_ne!(rating[1].header("authorization"), rating[2].header("authorization"));
    assert_eq!(rating[0].header("authorization"), rating[1].header("authorization"));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_call_backs_off_and_succeeds() {
    let m = start();
    let ups = adapter(&m.base_url);
    ups.track(TRACKING).await.expect("warm the token");
    m.state.fail_next(&[429]);
    let rates = ups.rate(&shipment()).await.expect("rates after 429");
    assert_eq!(rates[0].total.amount, dec("15.31"));
    assert_eq!(requests_to(&m, RATING).len(), 2, "the 429 and the retry");
    assert_eq!(requests_to(&m, TOKEN).len(), 1);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_purchase_is_not_retried_on_5xx() {
    let m = start();
    let ups = adapter(&m.base_url);
    ups.track(TRACKING).await.expect("warm the token");
    m.state.fail_next(&[503]);
    let req = LabelRequest {
        shipment: shipment(),
        service_code: "03".into(),
        label_format: LabelFormat::Zpl,
    };
    assert_eq!(ups.ship(&req).await, Err(CarrierError::Unavailable(503)));
    assert_eq!(requests_to(&m, SHIP).len(), 1);
    m.handle.stop(false).await;
}

#[test]
fn parsers_accept_single_objects_and_prefer_negotiated_rates() {
    // Pre-v2409 shape: RatedShipment and ItemizedCharges as bare objects.
    let body = json!({ "RateResponse": {
        "Response": { "ResponseStatus": { "Code": "1", "Description": "Success" } },
        "RatedShipment": {
            "Service": { "Code": "11", "Description": "" },
            "TransportationCharges": { "CurrencyCode": "CAD", "MonetaryValue": "41.07" },
            "BaseServiceCharge": { "CurrencyCode": "CAD", "MonetaryValue": "35.00" },
            "ItemizedCharges": { "Code": "375", "CurrencyCode": "CAD", "MonetaryValue": "6.07" },
            "ServiceOptionsCharges": { "CurrencyCode": "CAD", "MonetaryValue": "3.50" },
            "TotalCharges": { "CurrencyCode": "CAD", "MonetaryValue": "44.57" },
            "NegotiatedRateCharges": { "TotalCharge": { "CurrencyCode": "CAD", "MonetaryValue": "31.20" } },
            "GuaranteedDelivery": { "BusinessDaysInTransit": "4" }
        }
    }});
    let rates = ups::parse_rates(body.to_string().as_bytes()).expect("rates");
    assert_eq!(rates.len(), 1);
    let r = &rates[0];
    assert_eq!((r.service_code.as_str(), r.service_name.as_str()), ("11", "UPS Standard"));
    assert_eq!((r.total.amount, r.total.currency.as_str()), (dec("31.2"), "CAD"));
    assert_eq!((r.transit_days, r.guaranteed, r.estimated_delivery), (Some(4), true, None));
    // Negotiated charges carry no breakdown here: the published transportation charge and options are listed.
    let lines: Vec<(&str, String)> = r.breakdown.iter().map(|c| (c.code.as_str(), c.amount.amount.to_string())).collect();
    assert_eq!(lines, vec![("TRANSPORTATION", "41.07".into()), ("OPTIONS", "3.5".into())]);

    // Unknown code keeps UPS's description; entries without a service or a price are skipped.
    let body = br#"{"RateResponse":{"RatedShipment":[1,null,{"Service":{}},
        {"Service":{"Code":"M4","Description":"UPS Mail Innovations"},"TotalCharges":{"CurrencyCode":"USD","MonetaryValue":"7.45"}},
        {"Service":{"Code":"03"},"TotalCharges":{"CurrencyCode":"USD","MonetaryValue":"abc"}}]}}"#;
    let rates = ups::parse_rates(body).expect("rates");
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0].service_name, "UPS Mail Innovations");
    assert_eq!(rates[0].total.amount, dec("7.45"));

    assert!(matches!(ups::parse_rates(b"<html/>"), Err(CarrierError::Parse(_))));
    assert!(matches!(ups::parse_rates(b"{}"), Err(CarrierError::Parse(_))));

    // Label: PackageResults as an object, CIE's stray carriage returns trimmed.
    let body = json!({ "ShipmentResponse": { "ShipmentResults": {
        "ShipmentCharges": { "TotalCharges": { "CurrencyCode": "USD", "MonetaryValue": "22.10" } },
        "ShipmentIdentificationNumber": "1ZA1B2C30312345678&#xD;",
        "PackageResults": { "TrackingNumber": "1ZA1B2C30312345678", "ShippingLabel": { "GraphicImage": "R0lG\nODlh" } }
    }}});
    let l = ups::parse_label(body.to_string().as_bytes(), "03", LabelFormat::Zpl).expect("label");
    assert_eq!(l.shipment_id.as_deref(), Some("1ZA1B2C30312345678"));
    assert_eq!(l.labels, vec!["R0lGODlh".to_string()]);
    assert_eq!(l.charges.amount, dec("22.1"));
    let no_label = json!({ "ShipmentResponse": { "ShipmentResults": { "PackageResults": [ { "TrackingNumber": "1Z1" } ] } } });
    assert!(matches!(
        ups::parse_label(no_label.to_string().as_bytes(), "03", LabelFormat::Zpl),
        Err(CarrierError::Parse(_))
    ));

    // Void not accepted.
    let body = br#"{"VoidShipmentResponse":{"SummaryResult":{"Status":{"Code":"0","Description":"Failure"}}}}"#;
    assert!(matches!(ups::parse_void(body), Err(CarrierError::Rejected { code, .. }) if code == "0"));
}

#[test]
fn tracking_parser_sorts_by_utc_and_reports_missing_packages() {
    // Out of order, across time zones, no currentStatus: the latest event decides.
    let body = json!({ "trackResponse": { "shipment": [ { "inquiryNumber": "1ZA1B2C30312345678", "package": [ {
        "trackingNumber": "1ZA1B2C30312345678",
        "deliveryDate": [ { "type": "SDD", "date": "20250321" }, { "type": "RDD", "date": "20250324" } ],
        "activity": [
            { "date": "20250319", "time": "080000", "gmtDate": "20250319", "gmtTime": "15:00:00", "gmtOffset": "-07:00",
              "status": { "type": "X", "code": "U2", "description": "Severe weather conditions have delayed delivery." },
              "location": { "address": { "city": "Phoenix", "stateProvince": "AZ", "countryCode": "US" } } },
            { "date": "20250319", "time": "100000", "gmtDate": "20250319", "gmtTime": "14:00:00", "gmtOffset": "-04:00",
              "status": { "type": "I", "code": "DP", "description": "Departed from Facility" } },
            { "date": "bad", "time": "", "status": { "type": "I" } }
        ] } ] } ] } });
    let t = ups::parse_tracking(body.to_string().as_bytes()).expect("tracking");
    assert_eq!(t.status, TrackingStatus::Exception);
    assert_eq!(t.carrier_code, "U2");
    assert_eq!(t.estimated_delivery, Date::new(2025, 3, 24));
    let order: Vec<&str> = t.events.iter().map(|e| e.occurred_at.as_str()).collect();
    assert_eq!(order, vec!["2025-03-19T08:00:00-07:00", "2025-03-19T10:00:00-04:00"]);
    assert_eq!(t.events[1].location, None);

    let body = br#"{"trackResponse":{"shipment":[{"inquiryNumber":"1Z0000000000000000",
        "warnings":[{"code":"TW0001","message":"Tracking Information Not Found"}]}]}}"#;
    assert!(matches!(ups::parse_tracking(body), Err(CarrierError::Rejected { code, .. }) if code == "TW0001"));
    assert!(matches!(
        ups::parse_tracking(b"{\"trackResponse\":{}}"),
        Err(CarrierError::Parse(_))
    ));
}

// ---- customs ----

/// The test shipment sent to Toronto with a one-line declaration.
fn to_canada() -> Shipment {
    let mut s = shipment();
    s.to = Address {
        name: Some("Morgan Lee".into()),
        company: Some("Lakeshore Goods Ltd".into()),
        street: vec!["200 Bay St".into()],
        city: "Toronto".into(),
        state: Some("ON".into()),
        postal_code: "M5J 2J5".into(),
        country: "CA".into(),
        phone: Some("4165550133".into()),
        ..Default::default()
    };
    s.customs = Some(
        serde_json::from_value(json!({
            "contents_type": "merchandise", "currency": "USD",
            "invoice_number": "INV-2001", "invoice_date": "2025-03-14", "po_number": "PO-55",
            "freight_charge": "18.5", "insurance_charge": "2",
            "exporter_tax_ids": [{ "type": "ein", "number": "12-3456789", "country": "US" }],
            "declaration_statement": "I certify that this invoice is true and correct.",
            "commodities": [{
                "description": "Stainless steel insulated water bottle, 750 ml, powder coated",
                "quantity": 6, "unit_value": "18.75", "unit_net_weight": "12", "weight_unit": "oz",
                "hs_code": "9617.00.1000", "origin_country": "CN", "sku": "BTL-750-BLK-2025"
            }]
        }))
        .expect("declaration"),
    );
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_label_sends_international_forms() {
    let m = start();
    let ups = adapter(&m.base_url);
    let req = LabelRequest {
        shipment: to_canada(),
        service_code: "11".into(),
        label_format: LabelFormat::Zpl,
    };
    ups.ship(&req).await.expect("label");
    let ships = requests_to(&m, SHIP);
    assert_eq!(ships.len(), 1);
    let b = body(&ships[0]);
    let s = &b["ShipmentRequest"]["Shipment"];
    assert_eq!(
        s["ShipmentServiceOptions"]["InternationalForms"],
        json!({
            "FormType": ["01"],
            "InvoiceNumber": "INV-2001",
            "InvoiceDate": "20250314",
            "PurchaseOrderNumber": "PO-55",
            "ReasonForExport": "SALE",
            "TermsOfShipment": "DAP",
            "CurrencyCode": "USD",
            "DeclarationStatement": "I certify that this invoice is true and correct.",
            "FreightCharges": { "MonetaryValue": "18.50" },
            "InsuranceCharges": { "MonetaryValue": "2.00" },
            "Contacts": { "SoldTo": {
                "Name": "Lakeshore Goods Ltd", "AttentionName": "Morgan Lee", "Phone": { "Number": "4165550133" },
                "Address": { "AddressLine": ["200 Bay St"], "City": "Toronto", "StateProvinceCode": "ON",
                             "PostalCode": "M5J 2J5", "CountryCode": "CA" } } },
            "EEIFilingOption": { "Code": "1", "ShipperFiled": { "Code": "B", "ExemptionLegend": "NO EEI 30.36" } },
            "Product": [{
                "Description": ["Stainless steel insulated water", "bottle, 750 ml, powder coated"],
                "Unit": { "Number": "6", "UnitOfMeasurement": { "Code": "PCS" }, "Value": "18.75" },
                "CommodityCode": "9617001000",
                "OriginCountryCode": "CN",
                "PartNumber": "BTL-750-BL",
                "ProductWeight": { "UnitOfMeasurement": { "Code": "LBS" }, "Weight": "4.5" }
            }]
        })
    );
    assert_eq!(s["Description"], "Stainless steel insulated water bottle, 750 ml,");
    assert_eq!(s["InvoiceLineTotal"], json!({ "CurrencyCode": "USD", "MonetaryValue": "112.50" }));
    assert_eq!(s["Shipper"]["TaxIdentificationNumber"], "12-3456789");
    // The receiver pays duties (UPS's default): only the transportation charge is billed.
    assert_eq!(
        s["PaymentInformation"]["ShipmentCharge"],
        json!([{ "Type": "01", "BillShipper": { "AccountNumber": "A1B2C3" } }])
    );
    assert_eq!(b, ups.ship_request(&req).unwrap());
    m.handle.stop(false).await;
}

#[test]
fn itn_exports_add_the_eei_form_and_schedule_b() {
    let ups = adapter("http://unused");
    let mut s = to_canada();
    s.to.country = "GB".into();
    s.to.state = None;
    let c = s.customs.as_mut().unwrap();
    c.commodities[0].unit_value = Some(json!("450"));
    c.commodities[0].export_licence = None;
    c.commodities[0].eccn = Some("EAR99".into());
    c.itn = Some("X20250314000123".into());
    c.duties_payer = Some("sender".into());
    let req = LabelRequest {
        shipment: s,
        service_code: "65".into(),
        label_format: LabelFormat::Zpl,
    };
    let b = ups.ship_request(&req).unwrap();
    let s = &b["ShipmentRequest"]["Shipment"];
    let forms = &s["ShipmentServiceOptions"]["InternationalForms"];
    assert_eq!(forms["FormType"], json!(["01", "11"]));
    assert_eq!(
        forms["EEIFilingOption"],
        json!({ "Code": "1", "ShipperFiled": { "Code": "A", "PreDepartureITNNumber": "X20250314000123" } })
    );
    assert_eq!(forms["TermsOfShipment"], "DDP");
    assert_eq!(forms["Contacts"]["UltimateConsignee"]["Address"]["CountryCode"], "GB");
    let p = &forms["Product"][0];
    assert_eq!(
        p["ScheduleB"],
        json!({ "Number": "9617001000", "Quantity": "6", "UnitOfMeasurement": [{ "Code": "PCS" }] })
    );
    assert_eq!(p["EEIInformation"], json!({ "License": { "ECCNNumber": "EAR99" } }));
    // Sender pays duties: a type 02 charge on the shipper's account; no InvoiceLineTotal outside CA/PR.
    assert_eq!(
        s["PaymentInformation"]["ShipmentCharge"][1],
        json!({ "Type": "02", "BillShipper": { "AccountNumber": "A1B2C3" } })
    );
    assert!(s.get("InvoiceLineTotal").is_none());

    // Too long for three lines of 35: refused before any call, naming the field.
    let mut long = req.clone();
    long.shipment.customs.as_mut().unwrap().commodities[0].description = Some("word ".repeat(30));
    let e = ups.ship_request(&long).unwrap_err();
    assert!(
        matches!(&e, CarrierError::Invalid(m) if m.starts_with("shipment.customs.commodities[0].description")),
        "{e:?}"
    );
    // No declaration on an international label.
    let mut none = req;
    none.shipment.customs = None;
    assert!(matches!(ups.ship_request(&none), Err(CarrierError::Invalid(m)) if m.contains("shipment.customs")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_rejects_international_labels_without_forms() {
    let m = start();
    let ups = adapter(&m.base_url);
    let req = LabelRequest {
        shipment: to_canada(),
        service_code: "11".into(),
        label_format: LabelFormat::Zpl,
    };
    ups.rate(&shipment()).await.expect("a token");
    let bearer = requests_to(&m, RATING)[0].header("authorization").to_string();
    let c = reqwest::Client::new();
    let send = |v: Value| {
        c.post(format!("{}{SHIP}", m.base_url))
            .header("authorization", bearer.clone())
            .json(&v)
            .send()
    };
    let good = ups.ship_request(&req).unwrap();
    assert_eq!(send(good.clone()).await.expect("send").status(), 200);

    let message = |v: Value| v["response"]["errors"][0]["message"].as_str().unwrap_or("").to_string();
    let mut no_forms = good.clone();
    no_forms["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"]
        .as_object_mut()
        .unwrap()
        .remove("InternationalForms");
    let r = send(no_forms).await.expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["response"]["errors"][0]["code"], "900001");
    assert_eq!(message(v), "InternationalForms is required for an international shipment");

    let mut no_legend = good.clone();
    no_legend["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"]["InternationalForms"]["EEIFilingOption"]["ShipperFiled"]
        .as_object_mut()
        .unwrap()
        .remove("ExemptionLegend");
    let v: Value = send(no_legend).await.expect("send").json().await.expect("json");
    assert_eq!(message(v), "Missing or invalid ShipmentRequest.Shipment.ShipmentServiceOptions.InternationalForms.EEIFilingOption.ShipperFiled.ExemptionLegend");

    let mut long_line = good;
    long_line["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"]["InternationalForms"]["Product"][0]["Description"] =
        json!(["A description far longer than thirty-five characters"]);
    let v: Value = send(long_line).await.expect("send").json().await.expect("json");
    assert_eq!(message(v), "Product.Description must be 1 to 3 lines of at most 35 characters");
    m.handle.stop(false).await;
}
