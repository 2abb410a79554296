//! Rates, labels and tracking through the gateway, against the five mock carriers.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use support::{spawn, Db, Mock, Setup};
use tradelane::connectors::carriers::{CarrierConfig, Carriers, Shipment};
use tradelane::connectors::mock::{self, RunningMock};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers"))
}

fn carriers_toml(mocks: &[RunningMock], timeout_ms: u64) -> String {
    let mut t = format!("[shipping]\nrate_timeout_ms = {timeout_ms}\ntracking_poll_secs = 1\n");
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

/// A domestic US shipment every mock carrier rates.
fn shipment() -> Value {
    json!({
        "from": {"name": "Acme Parts DC 12", "street": ["4800 Distribution Way"], "city": "Columbus", "state": "OH",
                 "postal_code": "43228", "country": "US", "phone": "6145550142"},
        "to": {"name": "Dana Whitfield", "street": ["2215 W Broad St"], "city": "Columbus", "state": "OH",
               "postal_code": "43204", "country": "US", "phone": "6145550199", "residential": true},
        "packages": [{"weight": "4.5", "weight_unit": "lb",
                      "dimensions": {"length": 12, "width": 10, "height": 6, "unit": "in"}}],
        "ship_date": "2026-11-26"
    })
}

fn mocks() -> Vec<RunningMock> {
    mock::start_all(fixtures(), 0, 1).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_shopping_merges_carriers_and_reports_failures() {
    let mocks = mocks();
    // One carrier keeps failing, one answers too late: the others still come back.
    let fedex = mocks.iter().find(|m| m.carrier == "fedex").unwrap();
    fedex.state.fail_next(&[503; 10]);
    let dhl = mocks.iter().find(|m| m.carrier == "dhl").unwrap();
    dhl.state.set_latency(Duration::from_millis(1500));
    let mut setup = Setup::new(Db::Sqlite);
    setup.extra_toml = carriers_toml(&mocks, 700);
    let app = spawn(setup).await;

    let r = app.post_json("/v1/rates", &app.client_key, "-", &shipment()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let errors = v["errors"].as_array().unwrap();
    let failed: HashSet<(&str, &str)> = errors
        .iter()
        .map(|e| (e["carrier"].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    // Canada Post only ships from Canada: it refuses this US shipment without a call.
    let expected = HashSet::from([
        ("fedex", "carrier-unavailable"),
        ("dhl", "carrier-timeout"),
        ("canadapost", "invalid-shipment"),
    ]);
    assert_eq!(failed, expected, "{v:#}");

    // The gateway returns exactly what the adapters return, cheapest first.
    let rates = v["rates"].as_array().unwrap();
    let totals: Vec<f64> = rates.iter().map(|r| r["total"]["amount"].as_f64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "sorted by total: {totals:?}");
    let carriers: HashSet<&str> = rates.iter().map(|r| r["carrier"].as_str().unwrap()).collect();
    assert_eq!(carriers, HashSet::from(["ups", "usps"]));
    let direct = direct_carriers(&mocks);
    let s: Shipment = serde_json::from_value(shipment()).unwrap();
    let ups = direct.get("ups", None).unwrap().rate(&s).await.unwrap();
    let ups_via_gateway: Vec<&Value> = rates.iter().filter(|r| r["carrier"] == "ups").collect();
    assert_eq!(ups_via_gateway.len(), ups.len());
    for r in &ups {
        let g = ups_via_gateway
            .iter()
            .find(|g| g["service_code"] == r.service_code.as_str())
            .unwrap();
        assert_eq!(
            g["total"]["amount"].to_string(),
            serde_json::to_value(r.total.amount).unwrap().to_string()
        );
        assert_eq!(g["service_name"], r.service_name.as_str());
    }
    // A carrier filter and an unknown carrier.
    let mut only = shipment();
    only["carriers"] = json!(["ups"]);
    let v: Value = app.post_json("/v1/rates", &app.client_key, "-", &only).await.json().await.unwrap();
    assert!(v["rates"].as_array().unwrap().iter().all(|r| r["carrier"] == "ups"));
    only["carriers"] = json!(["pigeon"]);
    let r = app.post_json("/v1/rates", &app.client_key, "-", &only).await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "https://tradelane.dev/problems/unknown-carrier"
    );
    app.stop().await;
}

/// The same adapters the gateway uses, called directly.
fn direct_carriers(mocks: &[RunningMock]) -> Carriers {
    let config = mocks
        .iter()
        .map(|m| {
            let toml = format!("base_url = \"{}\"\n{}", m.base_url, mock::credentials(m.carrier));
            (m.carrier.to_string(), toml::from_str::<CarrierConfig>(&toml).unwrap())
        })
        .collect();
    Carriers::new(&config).unwrap()
}

async fn label_is_bought_once_per_key_and_voided(db: Db) {
    let mocks = mocks();
    let mut setup = Setup::new(db);
    setup.extra_toml = carriers_toml(&mocks, 3000);
    let app = spawn(setup).await;
    let rates: Value = app
        .post_json("/v1/rates", &app.client_key, "-", &shipment())
        .await
        .json()
        .await
        .unwrap();
    let cheapest = &rates["rates"][0];

    let order = json!({"shipment": shipment(), "policy": "cheapest", "label_format": "pdf"});
    let r = app.post_json("/v1/labels", &app.client_key, "label-1", &order).await;
    assert_eq!(r.status(), 201);
    let label: Value = r.json().await.unwrap();
    assert_eq!(label["status"], "purchased");
    assert_eq!(label["carrier"], cheapest["carrier"]);
    assert_eq!(label["service_code"], cheapest["service_code"]);
    assert!(!label["label"]["labels"][0].as_str().unwrap().is_empty());
    assert_eq!(label["tracking_number"], label["label"]["tracking_numbers"][0]);

    // The same key returns the first purchase; the carrier saw one ship request.
    let ship_calls = |m: &RunningMock| m.state.requests().iter().filter(|r| r.method == "POST").count();
    let carrier_mock = mocks.iter().find(|m| m.carrier == label["carrier"].as_str().unwrap()).unwrap();
    let before = ship_calls(carrier_mock);
    let again = app.post_json("/v1/labels", &app.client_key, "label-1", &order).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], label["id"]);
    assert_eq!(ship_calls(carrier_mock), before, "no second purchase");
    let mut other = order.clone();
    other["policy"] = json!("fastest");
    assert_eq!(app.post_json("/v1/labels", &app.client_key, "label-1", &other).await.status(), 422);
    let no_key = app.post("/v1/labels", &app.client_key, order.to_string()).await;
    assert_eq!(no_key.status(), 400);

    // Void; a voided label cannot be voided again; another owner cannot see it.
    let id = label["id"].as_str().unwrap();
    let r = app.post(&format!("/v1/labels/{id}/void"), &app.client_key, "").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(app.get_json(&format!("/v1/labels/{id}"), &app.client_key).await["status"], "voided");
    assert_eq!(app.post(&format!("/v1/labels/{id}/void"), &app.client_key, "").await.status(), 409);

    // DHL Express has no void: a typed error, the label stays purchased.
    let dhl = json!({"shipment": shipment(), "carrier": "dhl", "service_code": dhl_service(&rates), "label_format": "pdf"});
    let r = app.post_json("/v1/labels", &app.client_key, "label-dhl", &dhl).await;
    assert_eq!(r.status(), 201);
    let dhl_id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/v1/labels/{dhl_id}/void"), &app.client_key, "").await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "https://tradelane.dev/problems/carrier-unsupported"
    );
    app.stop().await;
}

fn dhl_service(rates: &Value) -> String {
    rates["rates"].as_array().unwrap().iter().find(|r| r["carrier"] == "dhl").unwrap()["service_code"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn tracking_is_normalized_and_pushed_signed(db: Db) {
    let mocks = mocks();
    let mut setup = Setup::new(db);
    setup.extra_toml = carriers_toml(&mocks, 3000);
    let app = spawn(setup).await;
    // Buy a UPS label to get a tracking number the mock knows.
    let rates: Value = app
        .post_json("/v1/rates", &app.client_key, "-", &shipment())
        .await
        .json()
        .await
        .unwrap();
    let ups = rates["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["carrier"] == "ups")
        .unwrap()
        .clone();
    let order = json!({"shipment": shipment(), "carrier": "ups", "service_code": ups["service_code"], "label_format": "pdf"});
    let label: Value = app
        .post_json("/v1/labels", &app.client_key, "trk-1", &order)
        .await
        .json()
        .await
        .unwrap();
    let number = label["tracking_number"].as_str().unwrap().to_string();

    let t = app.get_json(&format!("/v1/tracking/ups/{number}"), &app.client_key).await;
    let allowed = [
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "exception",
        "returned",
        "unknown",
    ];
    assert!(allowed.contains(&t["status"].as_str().unwrap()));
    let events = t["events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| !e["carrier_code"].as_str().unwrap().is_empty()));
    assert_eq!(t["status"], events[0]["status"], "current status is the latest event's");

    let hook = Mock::start().await;
    let r = app
        .post_json(
            "/v1/tracking/subscriptions",
            &app.client_key,
            "-",
            &json!({"carrier": "ups", "tracking_number": number, "url": hook.url}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let sub: Value = r.json().await.unwrap();
    let secret = sub["secret"].as_str().unwrap();
    let got = hook.wait_for(1, Duration::from_secs(15)).await;
    let body = got[0].json();
    assert_eq!(body["type"], "tracking.updated");
    assert_eq!(body["tracking"]["tracking_number"], number.as_str());
    assert_eq!(body["tracking"]["status"], t["status"]);
    let expected = tradelane::outbox::sign(
        &tradelane::outbox::secret_bytes(secret),
        got[0].header("webhook-id"),
        got[0].header("webhook-timestamp").parse().unwrap(),
        &got[0].body,
    );
    assert_eq!(got[0].header("webhook-signature"), expected);
    // Nothing changed: no second push on the next polls.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(hook.requests().len(), 1);
    app.stop().await;
}

on_both_databases!(label_is_bought_once_per_key_and_voided, tracking_is_normalized_and_pushed_signed);
