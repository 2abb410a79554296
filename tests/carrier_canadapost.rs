//! Canada Post adapter against its mock: request shapes (rate-v4, shipment-v8,
//! track-v2 media types and namespaces, Basic auth), exact parsing of the
//! fixtures, error mapping, retries and the void paths.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use tradelane::connectors::carriers::canadapost::{self, CanadaPost, XmlNode};
use tradelane::connectors::carriers::{
    CarrierAccount, CarrierError, CarrierHttp, Charge, LabelFormat, LabelRequest, Money, Shipment, TrackingStatus,
};
use tradelane::connectors::mock::{self, RunningMock};
use tradelane::model::{Date, Decimal};

const RATE_MEDIA: &str = "application/vnd.cpc.ship.rate-v4+xml";
const SHIPMENT_MEDIA: &str = "application/vnd.cpc.shipment-v8+xml";
const TRACK_MEDIA: &str = "application/vnd.cpc.track-v2+xml";
const PIN: &str = "7045210075310562";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers/canadapost/").to_string() + name).unwrap()
}

fn start() -> RunningMock {
    mock::start(
        mock::canadapost::mock(),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers")),
        "127.0.0.1:0",
        1,
    )
    .unwrap()
}

fn account(m: &RunningMock, extra: &[(&str, &str)]) -> CarrierAccount {
    CarrierAccount {
        base_url: Some(m.base_url.clone()),
        key: Some("mock-user".into()),
        secret: Some("mock-pass".into()),
        account_number: Some("0001234567".into()),
        extra: extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn adapter(account: &CarrierAccount) -> CanadaPost {
    let http = CarrierHttp::new(reqwest::Client::new(), None, Duration::from_secs(5), 2).with_base_delay(Duration::from_millis(20));
    CanadaPost::new(account, http)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn cad(s: &str) -> Money {
    Money {
        amount: dec(s),
        currency: "CAD".into(),
    }
}

fn charge(code: &str, description: &str, amount: &str) -> Charge {
    Charge {
        code: code.into(),
        description: Some(description.into()),
        amount: cad(amount),
    }
}

/// Ottawa to Toronto, one parcel given in pounds and inches.
fn shipment() -> Shipment {
    serde_json::from_value(json!({
        "from": {"name": "Marie Tremblay", "company": "Northwind Outfitters", "street": ["111 Wellington St"], "city": "Ottawa",
                 "state": "ON", "postal_code": "k1a 0b1", "country": "CA", "phone": "613-555-0142"},
        "to": {"name": "Michael Chen", "company": "Chen & Daughters", "street": ["290 Bremner Blvd", "Suite 4"], "city": "Toronto",
               "state": "ON", "postal_code": "M5V 3L9", "country": "CA", "phone": "416-555-0199", "email": "m.chen@example.ca"},
        "packages": [{"weight": "5.5", "weight_unit": "lb", "reference": "PO-2201447",
                      "dimensions": {"length": "12", "width": "10", "height": "6", "unit": "in"}}],
        "ship_date": "2025-03-17"
    }))
    .unwrap()
}

fn label_request(format: LabelFormat) -> LabelRequest {
    LabelRequest {
        shipment: shipment(),
        service_code: "DOM.EP".into(),
        label_format: format,
    }
}

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("mock-user:mock-pass"))
}

fn names(n: &XmlNode) -> Vec<&str> {
    n.children.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn rate_request_follows_the_rate_v4_schema() {
    let account = CarrierAccount {
        account_number: Some("0001234567".into()),
        extra: [("contract_id".to_string(), "0040123456".to_string())].into(),
        ..Default::default()
    };
    let body = canadapost::rate_request(&shipment(), &account).unwrap();
    let doc = canadapost::parse_xml(body.as_bytes()).unwrap();
    assert_eq!(
        (doc.name.as_str(), doc.ns.as_str()),
        ("mailing-scenario", "http://www.canadapost.ca/ws/ship/rate-v4")
    );
    assert_eq!(
        names(&doc),
        [
            "customer-number",
            "contract-id",
            "quote-type",
            "expected-mailing-date",
            "parcel-characteristics",
            "origin-postal-code",
            "destination"
        ]
    );
    assert_eq!(doc.text_at(&["customer-number"]), Some("0001234567"));
    assert_eq!(doc.text_at(&["contract-id"]), Some("0040123456"));
    assert_eq!(doc.text_at(&["quote-type"]), Some("commercial"));
    assert_eq!(doc.text_at(&["expected-mailing-date"]), Some("2025-03-17"));
    // 5.5 lb = 2.494758 kg, 3 decimals; inches to cm with 1 decimal.
    assert_eq!(doc.text_at(&["parcel-characteristics", "weight"]), Some("2.495"));
    assert_eq!(doc.text_at(&["parcel-characteristics", "dimensions", "length"]), Some("30.5"));
    assert_eq!(doc.text_at(&["parcel-characteristics", "dimensions", "width"]), Some("25.4"));
    assert_eq!(doc.text_at(&["parcel-characteristics", "dimensions", "height"]), Some("15.2"));
    assert_eq!(doc.text_at(&["origin-postal-code"]), Some("K1A0B1"));
    assert_eq!(doc.text_at(&["destination", "domestic", "postal-code"]), Some("M5V3L9"));
    assert!(body
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mailing-scenario xmlns=\"http://www.canadapost.ca/ws/ship/rate-v4\">"));

    // US and international destinations use their own destination elements.
    let mut s = shipment();
    s.to.country = "US".into();
    s.to.postal_code = "30005-1234".into();
    let doc = canadapost::parse_xml(canadapost::rate_request(&s, &account).unwrap().as_bytes()).unwrap();
    assert_eq!(doc.text_at(&["destination", "united-states", "zip-code"]), Some("30005"));
    s.to.country = "FR".into();
    s.to.postal_code = "75008".into();
    let doc = canadapost::parse_xml(canadapost::rate_request(&s, &account).unwrap().as_bytes()).unwrap();
    assert_eq!(doc.text_at(&["destination", "international", "country-code"]), Some("FR"));
    assert_eq!(doc.text_at(&["destination", "international", "postal-code"]), Some("75008"));

    // Canada Post only mails from Canada, one parcel per request.
    s.from.country = "US".into();
    assert!(matches!(canadapost::rate_request(&s, &account), Err(CarrierError::Invalid(_))));
    let mut two = shipment();
    two.packages.push(two.packages[0].clone());
    assert!(matches!(canadapost::rate_request(&two, &account), Err(CarrierError::Invalid(_))));
}

#[test]
fn shipment_request_follows_the_shipment_v8_schema() {
    let account = CarrierAccount {
        account_number: Some("0001234567".into()),
        extra: [("contract_id".to_string(), "0040123456".to_string())].into(),
        ..Default::default()
    };
    let body = canadapost::shipment_request(&label_request(LabelFormat::Pdf), &account).unwrap();
    let doc = canadapost::parse_xml(body.as_bytes()).unwrap();
    assert_eq!(
        (doc.name.as_str(), doc.ns.as_str()),
        ("shipment", "http://www.canadapost.ca/ws/shipment-v8")
    );
    assert_eq!(
        names(&doc),
        [
            "transmit-shipment",
            "requested-shipping-point",
            "expected-mailing-date",
            "provide-pricing-info",
            "delivery-spec"
        ]
    );
    assert_eq!(doc.text_at(&["requested-shipping-point"]), Some("K1A0B1"));
    let spec = doc.child("delivery-spec").unwrap();
    assert_eq!(
        names(spec),
        [
            "service-code",
            "sender",
            "destination",
            "parcel-characteristics",
            "notification",
            "print-preferences",
            "preferences",
            "references",
            "settlement-info"
        ]
    );
    assert_eq!(spec.text_at(&["service-code"]), Some("DOM.EP"));
    let sender = spec.child("sender").unwrap();
    assert_eq!(names(sender), ["name", "company", "contact-phone", "address-details"]);
    assert_eq!(sender.text_at(&["company"]), Some("Northwind Outfitters"));
    assert_eq!(sender.text_at(&["contact-phone"]), Some("613-555-0142"));
    let from = sender.child("address-details").unwrap();
    assert_eq!(
        names(from),
        ["address-line-1", "city", "prov-state", "country-code", "postal-zip-code"]
    );
    assert_eq!(from.text_at(&["postal-zip-code"]), Some("K1A0B1"));
    let dest = spec.child("destination").unwrap();
    assert_eq!(names(dest), ["name", "company", "client-voice-number", "address-details"]);
    assert_eq!(dest.text_at(&["company"]), Some("Chen & Daughters"));
    assert_eq!(dest.text_at(&["address-details", "address-line-2"]), Some("Suite 4"));
    assert_eq!(spec.text_at(&["parcel-characteristics", "weight"]), Some("2.495"));
    assert_eq!(spec.text_at(&["notification", "email"]), Some("m.chen@example.ca"));
    assert_eq!(spec.text_at(&["print-preferences", "output-format"]), Some("4x6"));
    assert_eq!(spec.text_at(&["print-preferences", "encoding"]), Some("PDF"));
    assert_eq!(spec.text_at(&["references", "customer-ref-1"]), Some("PO-2201447"));
    let settlement = spec.child("settlement-info").unwrap();
    assert_eq!(names(settlement), ["paid-by-customer", "contract-id", "intended-method-of-payment"]);
    assert_eq!(settlement.text_at(&["paid-by-customer"]), Some("0001234567"));
    assert_eq!(settlement.text_at(&["contract-id"]), Some("0040123456"));
    assert_eq!(settlement.text_at(&["intended-method-of-payment"]), Some("Account"));
    // The ampersand is escaped on the wire.
    assert!(body.contains("<company>Chen &amp; Daughters</company>"), "{body}");

    // A group id replaces immediate transmission; PNG labels, and labels abroad without a declaration, are refused.
    let grouped = CarrierAccount {
        extra: [("group_id".to_string(), "batch-0317".to_string())].into(),
        ..account.clone()
    };
    let doc = canadapost::parse_xml(
        canadapost::shipment_request(&label_request(LabelFormat::Zpl), &grouped)
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(doc.text_at(&["group-id"]), Some("batch-0317"));
    assert!(doc.child("transmit-shipment").is_none());
    assert_eq!(doc.text_at(&["delivery-spec", "print-preferences", "encoding"]), Some("ZPL"));
    assert!(matches!(
        canadapost::shipment_request(&label_request(LabelFormat::Png), &account),
        Err(CarrierError::Invalid(_))
    ));
    let mut abroad = label_request(LabelFormat::Pdf);
    abroad.shipment.to.country = "US".into();
    assert!(matches!(
        canadapost::shipment_request(&abroad, &account),
        Err(CarrierError::Invalid(_))
    ));
}

#[test]
fn rate_fixture_parses_to_exact_values() {
    let rates = canadapost::parse_rates(&fixture("rates.xml")).unwrap();
    let codes: Vec<&str> = rates.iter().map(|r| r.service_code.as_str()).collect();
    assert_eq!(codes, ["DOM.EP", "DOM.PC", "DOM.RP", "DOM.XP"]);
    let ep = &rates[0];
    assert_eq!(ep.carrier, "canadapost");
    assert_eq!(ep.service_name, "Expedited Parcel");
    assert_eq!(ep.total, cad("14.59"));
    assert_eq!(
        ep.breakdown,
        vec![
            charge("BASE", "Base price", "12.09"),
            charge("DC", "Delivery confirmation", "0.00"),
            charge("AUTDISC", "Automation discount", "-0.36"),
            charge("FUELSC", "Fuel surcharge", "1.18"),
            charge("HST", "HST", "1.68"),
        ]
    );
    // The breakdown adds up to the total, to the cent.
    let sum = ep.breakdown.iter().fold(Decimal::default(), |a, c| a + c.amount.amount);
    assert_eq!(sum, dec("14.59"));
    assert_eq!(ep.transit_days, Some(2));
    assert_eq!(ep.estimated_delivery, Date::new(2025, 3, 19));
    assert!(ep.guaranteed);
    let rp = &rates[2];
    assert_eq!((rp.service_name.as_str(), rp.total.clone()), ("Regular Parcel", cad("13.83")));
    assert_eq!(
        (rp.transit_days, rp.estimated_delivery, rp.guaranteed),
        (Some(3), Date::new(2025, 3, 20), false)
    );
    let pc = &rates[1];
    assert_eq!(
        (pc.service_name.as_str(), pc.total.clone(), pc.transit_days),
        ("Priority", cad("42.04"), Some(1))
    );
    assert_eq!(rates[3].total, cad("23.79"));
    for r in &rates {
        let sum = r.breakdown.iter().fold(Decimal::default(), |a, c| a + c.amount.amount);
        assert_eq!(sum, r.total.amount, "{}", r.service_code);
    }
}

#[test]
fn tracking_fixture_parses_to_exact_values() {
    let t = canadapost::parse_tracking(&fixture("tracking.xml")).unwrap();
    assert_eq!(t.carrier, "canadapost");
    assert_eq!(t.tracking_number, PIN);
    assert_eq!((t.status, t.carrier_code.as_str()), (TrackingStatus::Delivered, "1496"));
    assert_eq!(t.estimated_delivery, Date::new(2025, 3, 19));
    let got: Vec<(&str, TrackingStatus, &str, Option<&str>)> = t
        .events
        .iter()
        .map(|e| (e.occurred_at.as_str(), e.status, e.carrier_code.as_str(), e.location.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("2025-03-19T11:42:17-04:00", TrackingStatus::Delivered, "1496", Some("TORONTO, ON")),
            (
                "2025-03-19T07:58:03-04:00",
                TrackingStatus::OutForDelivery,
                "174",
                Some("TORONTO, ON")
            ),
            ("2025-03-18T22:14:09-04:00", TrackingStatus::InTransit, "170", Some("TORONTO, ON")),
            ("2025-03-17T16:31:44-04:00", TrackingStatus::InTransit, "100", Some("OTTAWA, ON")),
            ("2025-03-17T09:12:03-04:00", TrackingStatus::PreTransit, "3000", None),
        ]
    );
    assert_eq!(t.events[0].description, "Item successfully delivered");

    // Events come out newest first whatever order the answer lists them in.
    let text = String::from_utf8(fixture("tracking.xml")).unwrap();
    let start = text.find("<occurrence>").unwrap();
    let end = text.find("</occurrence>").unwrap() + "</occurrence>".len();
    let newest = &text[start..end];
    let reordered = text
        .replacen(newest, "", 1)
        .replace("</significant-events>", &format!("{newest}</significant-events>"));
    let t2 = canadapost::parse_tracking(reordered.as_bytes()).unwrap();
    assert_eq!(t2.events, t.events);
}

#[test]
fn event_identifiers_normalize() {
    use canadapost::status_of;
    assert_eq!(status_of("1408", ""), TrackingStatus::Delivered);
    assert_eq!(status_of("1442", ""), TrackingStatus::Delivered);
    assert_eq!(status_of("0500", ""), TrackingStatus::OutForDelivery);
    assert_eq!(status_of("3000", ""), TrackingStatus::PreTransit);
    assert_eq!(status_of("167", "Delivery attempted; notice card left"), TrackingStatus::Exception);
    assert_eq!(status_of("810", "Item in customs"), TrackingStatus::Exception);
    assert_eq!(
        status_of("20", "Item being returned to sender. Incorrect address."),
        TrackingStatus::Returned
    );
    assert_eq!(status_of("1701", "Item processed"), TrackingStatus::InTransit);
    assert_eq!(status_of("", ""), TrackingStatus::Unknown);
    assert_eq!(status_of("X1", "?"), TrackingStatus::Unknown);
}

#[test]
fn carrier_input_never_panics() {
    for body in [
        &b""[..],
        b"not xml",
        b"<price-quotes xmlns=\"http://www.canadapost.ca/ws/ship/rate-v4\"><price-quote>",
        b"<price-quotes xmlns=\"http://www.canadapost.ca/ws/ship/rate-v4\"></tracking-detail>",
        b"<a><b></a>",
        b"<price-quotes xmlns=\"http://example.com/other\"/>",
        b"\xff\xfe<\x00",
    ] {
        assert!(matches!(canadapost::parse_rates(body), Err(CarrierError::Parse(_))), "{body:?}");
        assert!(matches!(canadapost::parse_shipment(body), Err(CarrierError::Parse(_))), "{body:?}");
        assert!(matches!(canadapost::parse_tracking(body), Err(CarrierError::Parse(_))), "{body:?}");
    }
    // Well-formed but wrong values.
    let bad_amount = b"<price-quotes xmlns=\"http://www.canadapost.ca/ws/ship/rate-v4\"><price-quote><service-code>DOM.EP</service-code>\
        <price-details><due>12,50</due></price-details></price-quote></price-quotes>";
    assert!(matches!(canadapost::parse_rates(bad_amount), Err(CarrierError::Parse(_))));
    let no_events = b"<tracking-detail xmlns=\"http://www.canadapost.ca/ws/track\"><pin>123456789012</pin>\
        <significant-events><occurrence><event-date>2025-13-45</event-date></occurrence></significant-events></tracking-detail>";
    let t = canadapost::parse_tracking(no_events).unwrap();
    assert_eq!(
        (t.status, t.events[0].occurred_at.as_str()),
        (TrackingStatus::Unknown, "2025-13-45")
    );
    let deep = "<a>".repeat(10_000);
    assert!(matches!(canadapost::parse_tracking(deep.as_bytes()), Err(CarrierError::Parse(_))));
}

#[test]
fn error_shapes_map_to_typed_errors() {
    let auth = br#"<messages xmlns="http://www.canadapost.ca/ws/messages"><message><code>E002</code><description>AAA Authentication Failure</description></message></messages>"#;
    assert_eq!(
        canadapost::error_from(401, auth),
        CarrierError::Auth("E002: AAA Authentication Failure".into())
    );
    assert_eq!(
        canadapost::error_from(403, &fixture("error_mobo.xml")),
        CarrierError::Rejected {
            carrier: "canadapost",
            code: "AA004".into(),
            message: "You cannot mail on behalf of the requested customer.".into()
        }
    );
    assert_eq!(
        canadapost::error_from(404, &fixture("tracking_no_history.xml")),
        CarrierError::Rejected {
            carrier: "canadapost",
            code: "004".into(),
            message: "No Pin History".into()
        }
    );
    assert_eq!(canadapost::error_from(503, auth), CarrierError::Unavailable(503));
    assert_eq!(canadapost::error_from(429, b""), CarrierError::RateLimited);
    assert!(matches!(
        canadapost::error_from(404, b"<messages xmlns=\"http://www.canadapost.ca/ws/messages\"/>"),
        CarrierError::Parse(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_over_http_send_the_published_request() {
    let m = start();
    let cp = adapter(&account(&m, &[("contract_id", "0040123456")]));
    let rates = cp.rate(&shipment()).await.unwrap();
    assert_eq!(rates, canadapost::parse_rates(&fixture("rates.xml")).unwrap());
    assert_eq!(rates[0].total, cad("14.59"));

    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/rs/ship/price"));
    assert_eq!(r.header("accept"), RATE_MEDIA);
    assert_eq!(r.header("content-type"), RATE_MEDIA);
    assert_eq!(r.header("accept-language"), "en-CA");
    assert_eq!(r.header("authorization"), basic());
    let sent = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(
        sent,
        canadapost::rate_request(&shipment(), &account(&m, &[("contract_id", "0040123456")])).unwrap()
    );
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ship_fetches_the_label_artifact_and_void_deletes_an_untransmitted_shipment() {
    let m = start();
    let cp = adapter(&account(&m, &[("group_id", "batch-0317")]));
    let label = cp.ship(&label_request(LabelFormat::Pdf)).await.unwrap();
    assert_eq!(label.carrier, "canadapost");
    assert_eq!(label.service_code, "DOM.EP");
    assert_eq!(label.tracking_numbers, vec![PIN.to_string()]);
    assert_eq!(label.charges, cad("14.59"));
    assert_eq!(label.label_format, LabelFormat::Pdf);
    let id = label.shipment_id.clone().unwrap();
    assert_eq!(id.len(), 18);
    let pdf = base64::engine::general_purpose::STANDARD.decode(&label.labels[0]).unwrap();
    assert_eq!(pdf, fixture("label.pdf"));
    assert!(pdf.starts_with(b"%PDF-1.4"));

    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/rs/0001234567/0001234567/shipment")
    );
    assert_eq!(reqs[0].header("accept"), SHIPMENT_MEDIA);
    assert_eq!(reqs[0].header("content-type"), SHIPMENT_MEDIA);
    assert_eq!(reqs[0].header("authorization"), basic());
    let sent = canadapost::parse_xml(&reqs[0].body).unwrap();
    assert_eq!(sent.text_at(&["group-id"]), Some("batch-0317"));
    assert_eq!(reqs[1].method, "GET");
    assert_eq!(reqs[1].path, format!("/rs/artifact/76108cb5192002d5/{id}p/0"));
    assert_eq!(reqs[1].header("accept"), "application/pdf");
    assert_eq!(reqs[1].header("authorization"), basic());

    cp.void(&label).await.unwrap();
    let reqs = m.state.requests();
    let tail: Vec<(&str, &str)> = reqs[2..].iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    let path = format!("/rs/0001234567/0001234567/shipment/{id}");
    assert_eq!(tail, [("GET", path.as_str()), ("DELETE", path.as_str())]);
    assert!(reqs[2..].iter().all(|r| r.header("accept") == SHIPMENT_MEDIA));
    // Gone now: Canada Post answers 404 with an empty <messages/>.
    assert!(matches!(cp.void(&label).await, Err(CarrierError::Parse(e)) if e.contains("HTTP 404")));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmitted_shipments_are_refunded_and_zpl_labels_fetched() {
    let m = start();
    let cp = adapter(&account(&m, &[]));
    let label = cp.ship(&label_request(LabelFormat::Zpl)).await.unwrap();
    assert_eq!(label.label_format, LabelFormat::Zpl);
    let zpl = base64::engine::general_purpose::STANDARD.decode(&label.labels[0]).unwrap();
    assert!(zpl.starts_with(b"^XA"), "{}", String::from_utf8_lossy(&zpl));
    let artifact = &m.state.requests()[1];
    assert_eq!(artifact.header("accept"), "application/zpl");
    assert!(canadapost::parse_xml(&m.state.requests()[0].body)
        .unwrap()
        .child("transmit-shipment")
        .is_some());

    // Transmitted: no delete; a refund needs an email to send the ticket to.
    assert!(matches!(cp.void(&label).await, Err(CarrierError::Invalid(_))));
    let cp = adapter(&account(&m, &[("refund_email", "shipping@northwind.example.ca")]));
    cp.void(&label).await.unwrap();
    let reqs = m.state.requests();
    let refund = reqs.last().unwrap();
    assert_eq!(refund.method, "POST");
    assert_eq!(
        refund.path,
        format!(
            "/rs/0001234567/0001234567/shipment/{}/refund",
            label.shipment_id.as_deref().unwrap()
        )
    );
    assert_eq!(refund.header("content-type"), SHIPMENT_MEDIA);
    let body = canadapost::parse_xml(&refund.body).unwrap();
    assert_eq!(
        (body.name.as_str(), body.ns.as_str()),
        ("shipment-refund-request", "http://www.canadapost.ca/ws/shipment-v8")
    );
    assert_eq!(body.text_at(&["email"]), Some("shipping@northwind.example.ca"));
    assert!(!reqs.iter().any(|r| r.method == "DELETE"));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_over_http() {
    let m = start();
    let cp = adapter(&account(&m, &[]));
    let t = cp.track(PIN).await.unwrap();
    assert_eq!((t.status, t.events.len()), (TrackingStatus::Delivered, 5));
    let r = &m.state.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/vis/track/pin/7045210075310562/detail")
    );
    assert_eq!(r.header("accept"), TRACK_MEDIA);
    assert_eq!(r.header("authorization"), basic());
    assert_eq!(r.header("content-type"), "");

    assert_eq!(
        cp.track("123456789012").await,
        Err(CarrierError::Rejected {
            carrier: "canadapost",
            code: "004".into(),
            message: "No Pin History".into()
        })
    );
    assert!(matches!(cp.track("12/../x").await, Err(CarrierError::Invalid(_))));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_rejections() {
    let m = start();
    let mut bad = account(&m, &[]);
    bad.secret = Some("wrong".into());
    assert_eq!(
        adapter(&bad).rate(&shipment()).await,
        Err(CarrierError::Auth("E002: AAA Authentication Failure".into()))
    );
    // Not retried: one request.
    assert_eq!(m.state.requests().len(), 1);

    let mobo = adapter(&account(&m, &[("mobo", "0009999999")]));
    assert_eq!(
        mobo.ship(&label_request(LabelFormat::Pdf)).await,
        Err(CarrierError::Rejected {
            carrier: "canadapost",
            code: "AA004".into(),
            message: "You cannot mail on behalf of the requested customer.".into()
        })
    );
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_enforces_media_types_and_required_elements() {
    let m = start();
    let client = reqwest::Client::new();
    let url = format!("{}/rs/ship/price", m.base_url);
    let good = canadapost::rate_request(&shipment(), &account(&m, &[])).unwrap();
    let send = |accept: &'static str, body: String| {
        client
            .post(&url)
            .header("authorization", basic())
            .header("accept", accept)
            .header("accept-language", "en-CA")
            .header("content-type", RATE_MEDIA)
            .body(body)
            .send()
    };
    let r = send("*/*", good.clone()).await.unwrap();
    assert_eq!(r.status(), 406);
    let r = send("application/vnd.cpc.ship.rate-v3+xml", good.clone()).await.unwrap();
    assert_eq!(r.status(), 406);
    let without_origin = good.replace("<origin-postal-code>K1A0B1</origin-postal-code>", "");
    let r = send(RATE_MEDIA, without_origin).await.unwrap();
    assert_eq!(r.status(), 400);
    let body = r.bytes().await.unwrap();
    let messages = canadapost::parse_messages(&body);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, "Server");
    assert!(messages[0].1.contains("origin-postal-code"), "{messages:?}");
    let wrong_ns = good.replace("ship/rate-v4", "ship/rate-v3");
    assert_eq!(send(RATE_MEDIA, wrong_ns).await.unwrap().status(), 400);
    assert_eq!(send(RATE_MEDIA, good).await.unwrap().status(), 200);
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_backs_off_and_succeeds() {
    let m = start();
    let cp = adapter(&account(&m, &[]));
    m.state.fail_next(&[429, 503]);
    let rates = cp.rate(&shipment()).await.unwrap();
    assert_eq!(rates.len(), 4);
    assert_eq!(m.state.requests().len(), 3);

    m.state.fail_next(&[429, 429, 429]);
    assert_eq!(cp.track(PIN).await, Err(CarrierError::RateLimited));
    m.handle.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_shipment_is_not_retried_on_5xx() {
    let m = start();
    let cp = adapter(&account(&m, &[]));
    m.state.fail_next(&[503]);
    assert_eq!(cp.ship(&label_request(LabelFormat::Pdf)).await, Err(CarrierError::Unavailable(503)));
    let reqs = m.state.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    // The next attempt goes through.
    assert!(cp.ship(&label_request(LabelFormat::Pdf)).await.is_ok());
    m.handle.stop(false).await;
}

// ---- customs ----

/// Ottawa to New York, priced in USD, with the CAD conversion Canada Post asks for.
fn to_new_york() -> LabelRequest {
    let mut r = label_request(LabelFormat::Pdf);
    r.service_code = "USA.EP".into();
    r.shipment.to = serde_json::from_value(json!({
        "name": "Ava Brooks", "street": ["350 5th Ave"], "city": "New York", "state": "NY",
        "postal_code": "10118", "country": "US", "phone": "212-555-0110"
    }))
    .unwrap();
    r.shipment.customs = Some(
        serde_json::from_value(json!({
            "contents_type": "merchandise", "currency": "USD", "conversion_from_cad": "0.7312",
            "invoice_number": "CP-5005", "import_licence": "L-778",
            "commodities": [
                { "description": "Maple syrup, grade A amber, 500 ml glass", "quantity": 4, "unit_value": "11.25",
                  "unit_net_weight": "0.68", "weight_unit": "kg", "hs_code": "1702.20.0000", "origin_country": "CA", "sku": "MPL-500-AMBER-GLASS" },
                { "description": "Wool toque", "quantity": 1, "unit_value": "24", "unit_net_weight": "3.5",
                  "weight_unit": "oz", "hs_code": "650510", "origin_country": "CA" }
            ]
        }))
        .unwrap(),
    );
    r
}

const CUSTOMS_XML: &str = "<customs><currency>USD</currency><conversion-from-cad>0.7312</conversion-from-cad>\
<reason-for-export>SOG</reason-for-export><sku-list>\
<item><customs-number-of-units>4</customs-number-of-units><customs-description>Maple syrup, grade A amber, 500 ml glass</customs-description>\
<sku>MPL-500-AMBER-G</sku><hs-tariff-code>1702.20.00.00</hs-tariff-code><unit-weight>0.68</unit-weight>\
<customs-value-per-unit>11.25</customs-value-per-unit><country-of-origin>CA</country-of-origin></item>\
<item><customs-number-of-units>1</customs-number-of-units><customs-description>Wool toque</customs-description>\
<hs-tariff-code>6505.10</hs-tariff-code><unit-weight>0.099</unit-weight><customs-value-per-unit>24.00</customs-value-per-unit>\
<country-of-origin>CA</country-of-origin></item></sku-list>\
<licence-number>L-778</licence-number><invoice-number>CP-5005</invoice-number></customs>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn international_label_sends_the_customs_element() {
    let m = start();
    let account = account(&m, &[]);
    let cp = adapter(&account);
    let r = to_new_york();
    cp.ship(&r).await.unwrap();
    let reqs = m.state.requests();
    let sent = String::from_utf8(reqs[0].body.clone()).unwrap();
    assert_eq!(sent, canadapost::shipment_request(&r, &account).unwrap());
    let flat: String = sent.lines().map(str::trim).collect();
    assert!(flat.contains(CUSTOMS_XML), "{flat}");
    let doc = canadapost::parse_xml(sent.as_bytes()).unwrap();
    let spec = doc.child("delivery-spec").unwrap();
    assert_eq!(
        names(spec),
        [
            "service-code",
            "sender",
            "destination",
            "options",
            "parcel-characteristics",
            "print-preferences",
            "preferences",
            "references",
            "customs",
            "settlement-info"
        ]
    );
    // Return to sender if undeliverable (the declaration's default).
    assert_eq!(spec.text_at(&["options", "option", "option-code"]), Some("RTS"));
    assert_eq!(spec.text_at(&["destination", "address-details", "country-code"]), Some("US"));
    m.handle.stop(false).await;
}

#[test]
fn customs_fit_canada_post_or_are_refused() {
    let account = CarrierAccount {
        account_number: Some("0001234567".into()),
        ..Default::default()
    };
    let refused = |r: &LabelRequest| match canadapost::shipment_request(r, &account) {
        Err(CarrierError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let mut no_rate = to_new_york();
    no_rate.shipment.customs.as_mut().unwrap().conversion_from_cad = None;
    assert_eq!(
        refused(&no_rate),
        "shipment.customs.conversion_from_cad: Canada Post needs the USD per CAD rate when the currency is not CAD"
    );
    let mut long = to_new_york();
    long.shipment.customs.as_mut().unwrap().commodities[1].description = Some("Hand-knit merino wool toque with a pompom, red".into());
    assert_eq!(
        refused(&long),
        "shipment.customs.commodities[1].description: Canada Post takes at most 45 characters"
    );
    // In CAD with a gift: no conversion, OTH with its reason, abandon if undeliverable.
    let mut gift = to_new_york();
    let c = gift.shipment.customs.as_mut().unwrap();
    c.currency = Some("CAD".into());
    c.conversion_from_cad = None;
    c.contents_type = Some("gift".into());
    c.non_delivery = Some("abandon".into());
    let doc = canadapost::parse_xml(canadapost::shipment_request(&gift, &account).unwrap().as_bytes()).unwrap();
    let customs = doc.at(&["delivery-spec", "customs"]).unwrap();
    assert_eq!(
        names(customs),
        [
            "currency",
            "reason-for-export",
            "other-reason",
            "sku-list",
            "licence-number",
            "invoice-number"
        ]
    );
    assert_eq!(customs.text_at(&["reason-for-export"]), Some("OTH"));
    assert_eq!(customs.text_at(&["other-reason"]), Some("Gift"));
    assert_eq!(doc.text_at(&["delivery-spec", "options", "option", "option-code"]), Some("ABAN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_rejects_us_and_international_shipments_without_customs() {
    let m = start();
    let account = account(&m, &[]);
    let good = canadapost::shipment_request(&to_new_york(), &account).unwrap();
    let c = reqwest::Client::new();
    let post = |body: String| {
        c.post(format!("{}/rs/0001234567/0001234567/shipment", m.base_url))
            .header("authorization", basic())
            .header("accept", SHIPMENT_MEDIA)
            .header("content-type", SHIPMENT_MEDIA)
            .header("accept-language", "en-CA")
            .body(body)
            .send()
    };
    assert_eq!(post(good.clone()).await.unwrap().status(), 200);
    let messages = |body: &[u8]| canadapost::parse_messages(body);

    let start_at = good.find("<customs>").unwrap();
    let end_at = good.find("</customs>").unwrap() + "</customs>".len();
    let no_customs = format!("{}{}", &good[..start_at], &good[end_at..]);
    let r = post(no_customs).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        messages(&r.bytes().await.unwrap()),
        [(
            "9101".to_string(),
            "Customs information is required for US and international shipments.".to_string()
        )]
    );

    let no_rate = good.replace("<conversion-from-cad>0.7312</conversion-from-cad>", "");
    let r = post(no_rate).await.unwrap();
    assert_eq!(
        messages(&r.bytes().await.unwrap())[0].1,
        "conversion-from-cad is required when the customs currency is not CAD."
    );

    let undotted = good.replace(
        "<hs-tariff-code>1702.20.00.00</hs-tariff-code>",
        "<hs-tariff-code>1702200000</hs-tariff-code>",
    );
    let r = post(undotted).await.unwrap();
    assert_eq!(
        messages(&r.bytes().await.unwrap())[0].1,
        "cvc-pattern-valid: hs-tariff-code \"1702200000\" does not match dddd.dd.dd.dd."
    );

    let a = good.find("<options>").unwrap();
    let b = good.find("</options>").unwrap() + "</options>".len();
    let r = post(format!("{}{}", &good[..a], &good[b..])).await.unwrap();
    assert_eq!(messages(&r.bytes().await.unwrap())[0].0, "9111");
    m.handle.stop(false).await;
}
