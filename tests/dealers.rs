//! Dealer replenishment against a mock X12 supplier (acme-parts) and a mock
//! dealer webhook: the 850 on the wire, 855/856 status back to the dealer,
//! bad input as problem+json, and dealers kept apart. Both databases.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{spawn, Db, Mock, Setup, TestApp};
use tradelane::store::Scope;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Supersessions for the tests: a chain of three and a loop.
const SUPERSESSIONS: &str = "old_part,new_part,effective,interchangeable\n\
    FL-1A,FL-1AZ,2019-03-01,true\n\
    FL-1AZ,FL-500S,2021-06-15,true\n\
    SP-901,SP-902,2020-01-01,true\n\
    SP-902,SP-901,2020-01-01,true\n";

fn shipped(path: &str) -> String {
    std::fs::read_to_string(format!("{}/mappings/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The shipped Lakeside Motors policy with its webhook pointed at `hook`.
fn lakeside(hook: &Mock) -> String {
    shipped("dealers/lakeside-motors.toml")
        .replace("https://dms.lakeside-motors.example/hooks/tradelane", &hook.url)
        .replace(
            "secret_env = \"TRADELANE_LAKESIDE_WEBHOOK_SECRET\"",
            &format!("secret = \"{SECRET}\""),
        )
}

struct Dealers {
    app: TestApp,
    hook: Mock,
    lakeside_key: String,
    harbor_key: String,
}

async fn start(db: Db) -> Dealers {
    let hook = Mock::start().await;
    let mut setup = Setup::new(db);
    setup.mapping_files = vec![
        ("dealers/lakeside-motors.toml".into(), lakeside(&hook)),
        ("parts/supersessions.csv".into(), SUPERSESSIONS.into()),
    ];
    let app = spawn(setup).await;
    let lakeside_key = app
        .store
        .create_key("lakeside-motors", &[Scope::Replenishment])
        .await
        .unwrap()
        .token;
    let harbor_key = app
        .store
        .create_key("harbor-city-auto", &[Scope::Replenishment])
        .await
        .unwrap()
        .token;
    Dealers {
        app,
        hook,
        lakeside_key,
        harbor_key,
    }
}

async fn replenish(app: &TestApp, dealer: &str, key: &str, idem: &str, body: &Value) -> reqwest::Response {
    app.post_json(&format!("/v1/dealers/{dealer}/replenishment"), key, idem, body).await
}

/// Polls the order until its status is `status`.
async fn wait_status(app: &TestApp, key: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = app.get_json(&format!("/v1/dealers/lakeside-motors/orders/{id}"), key).await;
        if o["status"] == status {
            return o;
        }
        assert!(Instant::now() < deadline, "order {id} never became {status}: {o:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn today() -> String {
    tradelane::model::Date::today().to_x12()
}

async fn replenishment_sends_an_850_with_superseded_parts_resolved(db: Db) {
    let d = start(db).await;
    let body = json!({
        "reference": "night-run-0312",
        "positions": [
            {"part": "FL-1A", "on_hand": 2, "demand": 9},
            {"part": "FL-500S", "on_hand": 1},
            {"part": "SP-589", "on_hand": 40}
        ],
        "lines": [{"part": "BRF-1934", "quantity": 1}]
    });
    let r = replenish(&d.app, "lakeside-motors", &d.lakeside_key, "run-1", &body).await;
    assert_eq!(r.status(), 202);
    let order: Value = r.json().await.unwrap();
    assert_eq!(order["po_number"], "LKM000001");
    assert_eq!(
        (order["route"].as_str(), order["supplier"].as_str()),
        (Some("x12"), Some("acme-parts"))
    );
    assert_eq!(order["status"], "submitted");
    // Oil filters: available 2 + 1 - 9 = -6 <= 12, up to 48 -> 54, case of 12 -> 60.
    // Spark plugs: 40 > 16, nothing. Brake pads: 1 explicit, minimum order 2.
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["requested_part"], "FL-1A");
    assert_eq!(lines[0]["part"], "FL-500S");
    assert_eq!(lines[0]["supersession_chain"], json!(["FL-1A", "FL-1AZ", "FL-500S"]));
    assert_eq!(lines[0]["merged_parts"], json!(["FL-500S"]));
    assert_eq!(
        (lines[0]["quantity"].as_i64(), lines[0]["available"].as_i64()),
        (Some(60), Some(-6))
    );
    assert_eq!(lines[0]["part_class"], "oil filters");
    assert_eq!(
        (lines[1]["part"].as_str(), lines[1]["quantity"].as_i64()),
        (Some("BRF-1934"), Some(2))
    );

    let got = d.app.partner.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got[0].header("content-type"), "application/edi-x12");
    assert_eq!(got[0].header("idempotency-key"), order["message_id"].as_str().unwrap());
    let x12 = got[0].text();
    let segments: Vec<&str> = x12.lines().collect();
    assert!(segments[0].starts_with("ISA*00*          *00*          *ZZ*TRADELANE      *ZZ*ACMEPARTS      *"));
    assert!(segments[0].ends_with("*U*00401*000000001*0*P*>~"), "{}", segments[0]);
    assert!(segments[1].starts_with("GS*PO*TRADELANE*ACMEPARTS*") && segments[1].ends_with("*1*X*004010~"));
    assert_eq!(
        segments[2..segments.len() - 2],
        [
            "ST*850*0001~".to_string(),
            format!("BEG*00*SA*LKM000001**{}~", today()),
            "CUR*BY*USD~".into(),
            "N1*BY*Lakeside Motors*92*LKM01~".into(),
            "N1*ST*LAKESIDE MOTORS PARTS DEPT*92*LKM01~".into(),
            "N3*1200 LAKESHORE DR~".into(),
            "N4*CLEVELAND*OH*44114*US~".into(),
            "PO1*1*60*EA***VP*FL-500S~".into(),
            "PO1*2*2*EA***VP*BRF-1934~".into(),
            "CTT*2*62~".into(),
            "SE*11*0001~".into(),
        ]
    );

    // The order is sent once the partner took it; the 850 is an outbound document of the dealer.
    let id = order["id"].as_str().unwrap();
    let sent = wait_status(&d.app, &d.lakeside_key, id, "sent").await;
    let events: Vec<&str> = sent["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["created", "sent"]);
    let doc = d
        .app
        .get_json(
            &format!("/v1/documents/{}", order["document_id"].as_str().unwrap()),
            &d.app.admin_key,
        )
        .await;
    assert_eq!(
        (doc["set_id"].as_str(), doc["reference"].as_str()),
        (Some("850"), Some("LKM000001"))
    );
    assert_eq!(doc["x12"].as_str().unwrap(), x12);

    // A second run takes the next PO number and the next control numbers.
    let r = replenish(
        &d.app,
        "lakeside-motors",
        &d.lakeside_key,
        "run-2",
        &json!({"lines": [{"part": "FL-1AZ", "quantity": 5}]}),
    )
    .await;
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["po_number"], "LKM000002");
    assert_eq!(second["lines"][0]["quantity"], 12);
    let got = d.app.partner.wait_for(2, Duration::from_secs(15)).await;
    assert!(got[1].text().contains("*000000002*0*P*>~") && got[1].text().contains("PO1*1*12*EA***VP*FL-500S~"));
    d.app.stop().await;
}

fn x12_855(isa: u32, po: &str) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240312*1015*U*00401*{isa:09}*0*P*>~\n\
         GS*PR*ACMEPARTS*TRADELANE*20240312*1015*{isa}*X*004010~\nST*855*0001~\nBAK*00*AC*{po}*20240312~\n\
         PO1*1*60*EA***VP*FL-500S~\nACK*IA*60*EA~\nCTT*1~\nSE*6*0001~\nGE*1*{isa}~\nIEA*1*{isa:09}~\n"
    )
}

fn x12_856(isa: u32, po: &str) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240313*0900*U*00401*{isa:09}*0*P*>~\n\
         GS*SH*ACMEPARTS*TRADELANE*20240313*0900*{isa}*X*004010~\nST*856*0001~\nBSN*00*ASN-77120*20240313*0900*0001~\n\
         HL*1**S*1~\nTD5**2*UPSN~\nREF*CN*1Z999AA10123456784~\nHL*2*1*O*1~\nPRF*{po}~\nHL*3*2*I*0~\n\
         LIN**VP*FL-500S~\nSN1**60*EA~\nCTT*3*60~\nSE*12*0001~\nGE*1*{isa}~\nIEA*1*{isa:09}~\n"
    )
}

fn check_signature(r: &support::Recorded) {
    let sig = tradelane::outbox::sign(
        &tradelane::outbox::secret_bytes(SECRET),
        r.header("webhook-id"),
        r.header("webhook-timestamp").parse().unwrap(),
        &r.body,
    );
    assert_eq!(r.header("webhook-signature"), sig);
}

async fn supplier_855_and_856_reach_the_dealer_signed(db: Db) {
    let d = start(db).await;
    let body = json!({"lines": [{"part": "FL-1A", "quantity": 50}]});
    let order: Value = replenish(&d.app, "lakeside-motors", &d.lakeside_key, "run-1", &body)
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["lines"][0]["quantity"], 60);

    let r = d.app.post("/v1/x12", &d.app.acme_key, x12_855(901, "LKM000001")).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "accepted");
    let hooks = d.hook.wait_for(1, Duration::from_secs(15)).await;
    check_signature(&hooks[0]);
    let ack = hooks[0].json();
    assert_eq!(ack["type"], "dealer_order.acknowledged");
    assert_eq!(ack["order"]["id"], id.as_str());
    assert_eq!(ack["order"]["po_number"], "LKM000001");
    assert_eq!(ack["order"]["status"], "acknowledged");
    assert_eq!(ack["detail"]["ack_type"], "AC");
    assert_eq!(ack["detail"]["lines"][0]["status"], "IA");
    assert_eq!(ack["detail"]["lines"][0]["part"], "FL-500S");

    let r = d.app.post("/v1/x12", &d.app.acme_key, x12_856(902, "LKM000001")).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "accepted");
    let hooks = d.hook.wait_for(2, Duration::from_secs(15)).await;
    check_signature(&hooks[1]);
    let shipped = hooks[1].json();
    assert_eq!(shipped["type"], "dealer_order.shipped");
    assert_eq!(shipped["order"]["status"], "shipped");
    assert_eq!(shipped["detail"]["tracking_number"], "1Z999AA10123456784");
    assert_eq!(shipped["detail"]["carrier"], "UPSN");
    assert_eq!(
        shipped["detail"]["items"],
        json!([{"part": "FL-500S", "quantity": 60, "uom": "EA", "sscc": null}])
    );

    let o = wait_status(&d.app, &d.lakeside_key, &id, "shipped").await;
    assert_eq!(o["shipments"][0]["shipment_id"], "ASN-77120");
    assert_eq!(o["shipments"][0]["tracking_number"], "1Z999AA10123456784");
    let events: Vec<&str> = o["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert!(
        events.ends_with(&["acknowledged", "shipped"]) && events[0] == "created",
        "{events:?}"
    );
    let listed = d.app.get_json("/v1/dealers/lakeside-motors/orders", &d.lakeside_key).await;
    assert_eq!(listed["orders"][0]["status"], "shipped");
    // A late acknowledgment is recorded but does not take the order back from shipped.
    assert_eq!(
        d.app.post("/v1/x12", &d.app.acme_key, x12_855(903, "LKM000001")).await.status(),
        202
    );
    let o = d
        .app
        .get_json(&format!("/v1/dealers/lakeside-motors/orders/{id}"), &d.lakeside_key)
        .await;
    assert_eq!(o["status"], "shipped");
    assert_eq!(o["history"].as_array().unwrap().last().unwrap()["event"], "acknowledged");
    // An 855 naming a PO this supplier never got changes nothing.
    assert_eq!(
        d.app.post("/v1/x12", &d.app.acme_key, x12_855(904, "LKM999999")).await.status(),
        202
    );
    d.app.stop().await;
}

async fn problem(r: reqwest::Response, status: u16, slug: &str) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], format!("https://tradelane.dev/problems/{slug}"), "{p:#}");
    p
}

async fn bad_requests_answer_problem_json_naming_the_field(db: Db) {
    let d = start(db).await;
    let ghost = d.app.store.create_key("ghost-motors", &[Scope::Replenishment]).await.unwrap().token;
    let body = json!({"lines": [{"part": "FL-500S", "quantity": 1}]});
    let p = problem(replenish(&d.app, "ghost-motors", &ghost, "g-1", &body).await, 404, "unknown-dealer").await;
    assert_eq!(p["field"], "dealer");
    assert_eq!(p["detail"], "dealer: unknown dealer \"ghost-motors\"");

    let looped = json!({"positions": [{"part": "SP-902", "on_hand": 0}]});
    let p = problem(
        replenish(&d.app, "lakeside-motors", &d.lakeside_key, "l-1", &looped).await,
        422,
        "supersession-loop",
    )
    .await;
    assert_eq!(p["field"], "positions[0].part");
    assert_eq!(p["part"], "SP-902");
    assert_eq!(p["chain"], json!(["SP-902", "SP-901", "SP-902"]));
    assert_eq!(
        p["detail"],
        "positions[0].part: part SP-902 is superseded in a loop (SP-902 -> SP-901 -> SP-902)"
    );

    let zero = json!({"lines": [{"part": "FL-500S", "quantity": 0}]});
    let p = problem(
        replenish(&d.app, "lakeside-motors", &d.lakeside_key, "z-1", &zero).await,
        422,
        "invalid-replenishment",
    )
    .await;
    assert_eq!(p["field"], "lines[0].quantity");
    let p = problem(
        replenish(
            &d.app,
            "lakeside-motors",
            &d.lakeside_key,
            "u-1",
            &json!({"lines": [{"part": "FL-500S", "qty": 2}]}),
        )
        .await,
        422,
        "invalid-document",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("qty"), "{p:#}");
    let r = d
        .app
        .post("/v1/dealers/lakeside-motors/replenishment", &d.lakeside_key, body.to_string())
        .await;
    problem(r, 400, "idempotency-key-missing").await;

    // Nothing below its reorder point: 200 and no order.
    let quiet = json!({"positions": [{"part": "FL-500S", "on_hand": 30}]});
    let r = replenish(&d.app, "lakeside-motors", &d.lakeside_key, "q-1", &quiet).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "nothing_to_order");
    let listed = d.app.get_json("/v1/dealers/lakeside-motors/orders", &d.lakeside_key).await;
    assert!(listed["orders"].as_array().unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(d.app.partner.requests().is_empty());
    d.app.stop().await;
}

async fn dealers_see_only_their_own_orders(db: Db) {
    let d = start(db).await;
    let body = json!({"lines": [{"part": "BRF-1934", "quantity": 3}]});
    let r = replenish(&d.app, "lakeside-motors", &d.lakeside_key, "run-1", &body).await;
    assert_eq!(r.status(), 202);
    let order: Value = r.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    // The same key and body: the same order, 200; the same key with another body: 422.
    let again = replenish(&d.app, "lakeside-motors", &d.lakeside_key, "run-1", &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id);
    let other = json!({"lines": [{"part": "BRF-1934", "quantity": 4}]});
    problem(
        replenish(&d.app, "lakeside-motors", &d.lakeside_key, "run-1", &other).await,
        422,
        "idempotency-key-reused",
    )
    .await;

    for path in [
        format!("/v1/dealers/lakeside-motors/orders/{id}"),
        format!("/v1/dealers/harbor-city-auto/orders/{id}"),
        "/v1/dealers/lakeside-motors/orders".to_string(),
    ] {
        problem(d.app.get(&path, &d.harbor_key).await, 404, "not-found").await;
    }
    problem(
        replenish(&d.app, "lakeside-motors", &d.harbor_key, "h-1", &body).await,
        404,
        "not-found",
    )
    .await;
    problem(
        d.app
            .get(&format!("/v1/dealers/lakeside-motors/orders/{id}"), &d.app.acme_key)
            .await,
        403,
        "missing-scope",
    )
    .await;
    let own = d
        .app
        .get_json(&format!("/v1/dealers/lakeside-motors/orders/{id}"), &d.lakeside_key)
        .await;
    assert_eq!(own["po_number"], "LKM000001");
    // An operator with the scope sees every dealer's orders.
    let ops = d
        .app
        .store
        .create_key("ops-2", &[Scope::Admin, Scope::Replenishment])
        .await
        .unwrap()
        .token;
    assert_eq!(
        d.app.get(&format!("/v1/dealers/lakeside-motors/orders/{id}"), &ops).await.status(),
        200
    );
    d.app.stop().await;
}

async fn deliveries_missed_by_a_stopped_process_are_applied_on_recovery(db: Db) {
    use std::sync::Arc;
    use tradelane::store::{self, Attempt, Finish, NewDealerOrder, NewMessage, Store};
    // An OEM order whose message a process delivered and recorded, then stopped before applying the answer.
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite:{}", dir.path().join("recover.db").display()),
        Db::Postgres => support::pg_schema().await,
    };
    let st = Store::connect(&url, 4).await.unwrap();
    let mut tx = st.begin_write().await.unwrap();
    let message = store::enqueue(
        &mut tx,
        &NewMessage {
            owner: "harbor-city-auto",
            destination: "oem-northstar",
            kind: "oem_order",
            document_id: None,
            interchange_id: None,
            ordering_key: Some("harbor-city-auto"),
            content_type: "application/json",
            body: b"{}",
            url: None,
            secret: None,
        },
    )
    .await
    .unwrap();
    let order = NewDealerOrder {
        id: "dor_recover",
        dealer: "harbor-city-auto",
        po_number: "HCA000001",
        route: "oem",
        supplier: "northstar",
        status: "submitted",
        reference: None,
        lines: "[]",
        document_id: None,
        message_id: Some(&message),
        idempotency_key: "run-1",
        request_hash: "h",
    };
    assert!(store::insert_dealer_order(&mut tx, &order).await.unwrap());
    tx.commit().await.unwrap();
    let claimed = st.claim("oem-northstar", 1, 60_000, false).await.unwrap();
    let attempt = Attempt {
        attempt: 1,
        outcome: "delivered".into(),
        status: Some(201),
        response: Some(r#"{"orderId": "NS-00000042", "status": "ACCEPTED"}"#.into()),
        ..Attempt::default()
    };
    assert!(st.finish(&claimed[0], &Finish::Delivered, &attempt).await.unwrap());

    let mappings = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let dealers = tradelane::replenishment::Dealers::load(&mappings.join("dealers"), |_| Some(SECRET.into())).unwrap();
    let oems = tradelane::connectors::oem::Oems::load(&mappings.join("oem")).unwrap();
    let config = tradelane::config::Config::default();
    let outbox = tradelane::outbox::Outbox::new(st.clone(), &config, Arc::default()).unwrap();
    let deliveries = tradelane::flow::DealerDeliveries::new(st.clone(), Arc::new(dealers), Arc::new(oems), &outbox);
    assert_eq!(deliveries.recover().await.unwrap(), 1);
    let o = st.dealer_order("dor_recover").await.unwrap().unwrap();
    assert_eq!(
        (o.status.as_str(), o.supplier_order_id.as_deref()),
        ("acknowledged", Some("NS-00000042"))
    );
    let events: Vec<&str> = o.history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, vec!["created", "acknowledged"]);
    let hooks = st
        .list_messages(&tradelane::store::MessageFilter {
            destination: Some("webhooks".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((hooks.len(), hooks[0].kind.as_str()), (1, "dealer_status"));
    // Applied once: nothing left for the next start.
    assert_eq!(deliveries.recover().await.unwrap(), 0);
    st.close().await;
}

/// Quantities too large for a purchase order are the caller's error, named by field (never a 500).
async fn huge_quantities_are_refused_by_field(db: Db) {
    let d = start(db).await;
    let cases = [
        (json!({"lines": [{"part": "FL-500S", "quantity": i64::MAX}]}), "lines[0].quantity"),
        (
            json!({"lines": [{"part": "FL-500S", "quantity": 600_000_000}, {"part": "FL-500S", "quantity": 600_000_000}]}),
            "lines[1].quantity",
        ),
        (
            json!({"positions": [{"part": "FL-500S", "on_hand": 0, "demand": i64::MAX}]}),
            "positions[0].demand",
        ),
        // Each figure fits, but bringing the part back up to its max would not.
        (
            json!({"positions": [{"part": "FL-500S", "on_hand": 0, "demand": 999_999_999}]}),
            "positions[0].part",
        ),
    ];
    for (i, (body, field)) in cases.into_iter().enumerate() {
        let r = replenish(&d.app, "lakeside-motors", &d.lakeside_key, &format!("h-{i}"), &body).await;
        let p = problem(r, 422, "invalid-replenishment").await;
        assert_eq!(p["field"], field, "{p:#}");
    }
    let listed = d.app.get_json("/v1/dealers/lakeside-motors/orders", &d.lakeside_key).await;
    assert!(listed["orders"].as_array().unwrap().is_empty());
    d.app.stop().await;
}

on_both_databases!(
    huge_quantities_are_refused_by_field,
    deliveries_missed_by_a_stopped_process_are_applied_on_recovery,
    replenishment_sends_an_850_with_superseded_parts_resolved,
    supplier_855_and_856_reach_the_dealer_signed,
    bad_requests_answer_problem_json_naming_the_field,
    dealers_see_only_their_own_orders,
);
