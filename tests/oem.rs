//! The OEM connector against the mock Northstar API: the mapped JSON order
//! with an OAuth bearer token, the OEM's answer back on the dealer order and
//! to the dealer's webhook, a 401 cured by a new token, 429 and 5xx retried
//! by the outbox, a validation error dead-lettered. Both databases.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{spawn, Db, Mock, Setup, TestApp};
use tradelane::connectors::mock::{self, oem, RunningMock};
use tradelane::store::Scope;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn shipped(path: &str) -> String {
    std::fs::read_to_string(format!("{}/mappings/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

struct Oem {
    app: TestApp,
    northstar: RunningMock,
    hook: Mock,
    key: String,
}

async fn start(db: Db) -> Oem {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oem");
    let northstar = mock::start(oem::mock(), fixtures, "127.0.0.1:0", 1).unwrap();
    let hook = Mock::start().await;
    let oem_toml = shipped("oem/northstar.toml")
        .replace("https://api.northstar-parts.example", &northstar.base_url)
        .replace(
            "client_secret_env = \"TRADELANE_NORTHSTAR_CLIENT_SECRET\"",
            &format!("client_secret = \"{}\"", oem::CLIENT_SECRET),
        );
    let dealer = shipped("dealers/harbor-city-auto.toml")
        .replace("https://dms.harborcityauto.example/tradelane/status", &hook.url)
        .replace(
            "secret_env = \"TRADELANE_HARBOR_WEBHOOK_SECRET\"",
            &format!("secret = \"{SECRET}\""),
        );
    let mut setup = Setup::new(db);
    setup.mapping_files = vec![
        ("oem/northstar.toml".into(), oem_toml),
        ("dealers/harbor-city-auto.toml".into(), dealer),
    ];
    let app = spawn(setup).await;
    let key = app
        .store
        .create_key("harbor-city-auto", &[Scope::Replenishment])
        .await
        .unwrap()
        .token;
    Oem { app, northstar, hook, key }
}

async fn order(o: &Oem, idem: &str, body: &Value) -> Value {
    let r = o
        .app
        .post_json("/v1/dealers/harbor-city-auto/replenishment", &o.key, idem, body)
        .await;
    assert_eq!(r.status(), 202);
    r.json().await.unwrap()
}

async fn wait_status(o: &Oem, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = o.app.get_json(&format!("/v1/dealers/harbor-city-auto/orders/{id}"), &o.key).await;
        if v["status"] == status {
            return v;
        }
        assert!(Instant::now() < deadline, "order {id} never became {status}: {v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn orders_calls(m: &RunningMock) -> Vec<mock::Recorded> {
    m.state
        .requests()
        .into_iter()
        .filter(|r| r.path == "/dealer-orders/v2/orders")
        .collect()
}

fn token_calls(m: &RunningMock) -> Vec<mock::Recorded> {
    m.state.requests().into_iter().filter(|r| r.path == "/oauth2/token").collect()
}

async fn order_reaches_the_oem_mapped_with_a_bearer_token(db: Db) {
    let o = start(db).await;
    // Oil filters at Harbor City: FL-1A -> FL-500S; available 3 - 5 = -2 <= 10, up to 40 -> 42, tens -> 50.
    let placed = order(&o, "run-1", &json!({"positions": [{"part": "FL-1A", "on_hand": 3, "demand": 5}]})).await;
    assert_eq!(
        (placed["route"].as_str(), placed["supplier"].as_str()),
        (Some("oem"), Some("northstar"))
    );
    assert_eq!(placed["po_number"], "HCA000001");
    let id = placed["id"].as_str().unwrap();
    let done = wait_status(&o, id, "acknowledged").await;

    let tokens = token_calls(&o.northstar);
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(&tokens[0].body),
        "grant_type=client_credentials&scope=dealer-orders%3Awrite"
    );
    assert_eq!(tokens[0].header("content-type"), "application/x-www-form-urlencoded");
    let calls = orders_calls(&o.northstar);
    assert_eq!(calls.len(), 1);
    let issued = o.northstar.state.tokens.lock().unwrap().clone();
    assert_eq!(calls[0].header("authorization"), format!("Bearer {}", issued[0]));
    assert_eq!(calls[0].header("idempotency-key"), placed["message_id"].as_str().unwrap());
    let body: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "dealerCode": "HCA-20417",
            "purchaseOrderNumber": "HCA000001",
            "orderDate": tradelane::model::Date::today().to_string(),
            "orderType": "STOCK",
            "currency": "USD",
            "shipTo": {"name": "HARBOR CITY AUTO", "addressLine1": "88 PIER ST", "city": "SAN PEDRO", "stateCode": "CA", "postalCode": "90731", "countryCode": "US"},
            "orderLines": [{"lineNumber": 1, "partNumber": "FL-500S", "orderedPartNumber": "FL-1A", "quantity": 50, "unitOfMeasure": "EA"}]
        })
    );
    // The OEM's order number and status come back on the order and to the dealer, signed.
    let oem_id = done["supplier_order_id"].as_str().unwrap();
    assert!(oem_id.starts_with("NS-") && oem_id.len() == 11, "{oem_id}");
    let hooks = o.hook.wait_for(1, Duration::from_secs(15)).await;
    let sig = tradelane::outbox::sign(
        &tradelane::outbox::secret_bytes(SECRET),
        hooks[0].header("webhook-id"),
        hooks[0].header("webhook-timestamp").parse().unwrap(),
        &hooks[0].body,
    );
    assert_eq!(hooks[0].header("webhook-signature"), sig);
    let event = hooks[0].json();
    assert_eq!(event["type"], "dealer_order.acknowledged");
    assert_eq!(event["order"]["supplier_order_id"], oem_id);
    assert_eq!(event["detail"]["oem_status"], "ACCEPTED");

    // A second order reuses the cached token.
    order(&o, "run-2", &json!({"lines": [{"part": "BRF-1934", "quantity": 1}]})).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while orders_calls(&o.northstar).len() < 2 {
        assert!(Instant::now() < deadline, "second order never reached the OEM");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let second: Value = serde_json::from_slice(&orders_calls(&o.northstar)[1].body).unwrap();
    assert_eq!(second["orderLines"][0]["quantity"], 2, "brake pads: minimum order 2");
    assert_eq!(token_calls(&o.northstar).len(), 1);
    o.northstar.handle.stop(false).await;
    o.app.stop().await;
}

async fn expired_token_is_refreshed_and_throttling_is_retried(db: Db) {
    let o = start(db).await;
    let first = order(&o, "run-1", &json!({"lines": [{"part": "FL-500S", "quantity": 10}]})).await;
    wait_status(&o, first["id"].as_str().unwrap(), "acknowledged").await;
    assert_eq!(token_calls(&o.northstar).len(), 1);

    // The OEM forgets its tokens and throttles, then fails, then serves.
    o.northstar.state.revoke_tokens();
    o.northstar.state.fail_next(&[429, 503]);
    let second = order(&o, "run-2", &json!({"lines": [{"part": "FL-500S", "quantity": 20}]})).await;
    let done = wait_status(&o, second["id"].as_str().unwrap(), "acknowledged").await;
    assert!(done["supplier_order_id"].as_str().unwrap().starts_with("NS-"));
    let m = o.app.wait_message(second["message_id"].as_str().unwrap(), "delivered").await;
    let outcomes: Vec<(&str, i64)> = m["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].as_str().unwrap(), a["status"].as_i64().unwrap()))
        .collect();
    // The 401 is answered inside the third attempt: a new token, the same request again.
    assert_eq!(outcomes, vec![("retry", 429), ("retry", 503), ("delivered", 201)]);
    let calls = orders_calls(&o.northstar);
    assert_eq!(calls.len(), 5, "first order, then 429, 503, 401 and 201");
    let tokens = token_calls(&o.northstar);
    assert_eq!(tokens.len(), 2);
    assert_ne!(calls[3].header("authorization"), calls[4].header("authorization"));
    assert!(calls[1..]
        .iter()
        .all(|c| c.header("idempotency-key") == second["message_id"].as_str().unwrap()));
    o.northstar.handle.stop(false).await;
    o.app.stop().await;
}

async fn oem_validation_error_is_dead_lettered_and_the_dealer_told(db: Db) {
    let o = start(db).await;
    // The OEM's 400 is injected (Tradelane never sends what the mock's checks refuse).
    let placed = order(&o, "run-1", &json!({"lines": [{"part": "FL-500S", "quantity": 10}]})).await;
    let id = placed["id"].as_str().unwrap();
    wait_status(&o, id, "acknowledged").await;
    o.northstar.state.fail_next(&[400]);
    let refused = order(&o, "run-2", &json!({"lines": [{"part": "FL-500S", "quantity": 10}]})).await;
    let failed = wait_status(&o, refused["id"].as_str().unwrap(), "delivery_failed").await;
    let m = o.app.wait_message(refused["message_id"].as_str().unwrap(), "dead").await;
    assert_eq!(m["message"]["attempts"], 1);
    assert_eq!(m["attempts"][0]["status"], 400);
    let last = failed["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "delivery_failed");
    assert!(last["detail"].as_str().unwrap().contains("\"status\":400"), "{last:#}");
    let hooks = o.hook.wait_for(2, Duration::from_secs(15)).await;
    let types: Vec<String> = hooks.iter().map(|h| h.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, vec!["dealer_order.acknowledged", "dealer_order.delivery_failed"]);
    o.northstar.handle.stop(false).await;
    o.app.stop().await;
}

/// An OEM that takes an API key header instead of OAuth, answering with an empty 200.
async fn api_key_oem_gets_its_header_and_the_order_is_sent(db: Db) {
    let api = Mock::start().await;
    let base = api.url.trim_end_matches("/hook").to_string();
    let keystone = shipped("oem/northstar.toml")
        .replace("id = \"northstar\"", "id = \"keystone\"")
        .replace("https://api.northstar-parts.example", &base)
        .replace(
            "kind = \"oauth_client_credentials\"",
            "kind = \"api_key\"\nheader = \"x-api-key\"\nvalue = \"ks-live-7f3a\"",
        )
        .replace("token_url = \"/oauth2/token\"\n", "")
        .replace("client_id = \"tradelane-gateway\"\n", "")
        .replace("client_secret_env = \"TRADELANE_NORTHSTAR_CLIENT_SECRET\"\n", "")
        .replace("scope = \"dealer-orders:write\"\n", "");
    let dealer = shipped("dealers/harbor-city-auto.toml").replace("oem = \"northstar\"", "oem = \"keystone\"");
    let mut setup = Setup::new(db);
    setup.mapping_files = vec![
        ("oem/keystone.toml".into(), keystone),
        ("dealers/harbor-city-auto.toml".into(), dealer),
    ];
    let app = spawn(setup).await;
    let key = app
        .store
        .create_key("harbor-city-auto", &[Scope::Replenishment])
        .await
        .unwrap()
        .token;
    let r = app
        .post_json(
            "/v1/dealers/harbor-city-auto/replenishment",
            &key,
            "run-1",
            &json!({"lines": [{"part": "FL-500S", "quantity": 10}]}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let placed: Value = r.json().await.unwrap();
    let got = api.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got[0].path, "/dealer-orders/v2/orders");
    assert_eq!(got[0].header("x-api-key"), "ks-live-7f3a");
    assert_eq!(got[0].header("authorization"), "");
    assert_eq!(got[0].json()["purchaseOrderNumber"], "HCA000001");
    // No order id or status in the answer: the order is sent, not acknowledged.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = app
            .get_json(
                &format!("/v1/dealers/harbor-city-auto/orders/{}", placed["id"].as_str().unwrap()),
                &key,
            )
            .await;
        if v["status"] == "sent" {
            assert_eq!(v["supplier_order_id"], Value::Null);
            break;
        }
        assert!(Instant::now() < deadline, "order never became sent: {v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

on_both_databases!(
    api_key_oem_gets_its_header_and_the_order_is_sent,
    oem_validation_error_is_dead_lettered_and_the_dealer_told,
    order_reaches_the_oem_mapped_with_a_bearer_token,
    expired_token_is_refreshed_and_throttling_is_retried,
);
