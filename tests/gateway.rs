//! The gateway as a black box: HTTP on loopback, a real SQLite file or
//! PostgreSQL schema, and mock partner and fulfillment endpoints.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{fixture, po_850, spawn, Db, Scripted, Setup};

fn ship_notice() -> Value {
    serde_json::from_str(&fixture("documents/ship_notice.json")).unwrap()
}

/// The acme-parts 997 acknowledging our GS06 `group`, set `set` with AK5 `status`.
fn partner_997(isa: u32, group: &str, set: &str, status: &str) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240312*1015*U*00401*{isa:09}*0*P*>~\n\
         GS*FA*ACMEPARTS*TRADELANE*20240312*1015*{isa}*X*004010~\nST*997*0001~\nAK1*SH*{group}~\nAK2*856*{set}~\n\
         AK5*{status}~\nAK9*{status}*1*1*{}~\nSE*6*0001~\nGE*1*{isa}~\nIEA*1*{isa:09}~\n",
        if status == "A" { 1 } else { 0 }
    )
}

async fn inbound_850_is_acknowledged_and_delivered(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let r = app.post("/v1/x12", &app.acme_key, po_850(501)).await;
    assert_eq!(r.status(), 202);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["status"], "accepted");
    let ich = &receipt["interchanges"][0];
    assert_eq!(ich["control_number"], "000000501");
    let ack = ich["ack"].as_str().unwrap();
    assert!(
        ack.contains("AK1*PO*1101~") && ack.contains("AK2*850*0001~") && ack.contains("AK9*A*1*1*1~"),
        "{ack}"
    );
    // Our first ISA13 toward acme-parts.
    assert!(ack.starts_with("ISA*") && ack.contains("*000000001*0*P*>~"), "{ack}");
    let doc = &ich["documents"][0];
    assert_eq!((doc["set"].as_str(), doc["accepted"].as_bool()), (Some("850"), Some(true)));

    // The 997 reaches the partner, signed; the purchase order reaches fulfillment.
    let acks = app.partner.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(acks[0].header("content-type"), "application/edi-x12");
    assert_eq!(acks[0].header("idempotency-key"), ich["ack_message_id"].as_str().unwrap());
    assert_eq!(acks[0].text(), ack);
    let sig = tradelane::outbox::sign(
        &tradelane::outbox::secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        acks[0].header("webhook-id"),
        acks[0].header("webhook-timestamp").parse().unwrap(),
        &acks[0].body,
    );
    assert_eq!(acks[0].header("webhook-signature"), sig);
    let pos = app.fulfillment.wait_for(1, Duration::from_secs(15)).await;
    let po = pos[0].json();
    assert_eq!(po["type"], "purchase_order");
    assert_eq!(po["document"]["po_number"], "4500012345");
    assert_eq!(po["sender"], "ACMEPARTS");
    assert_eq!(pos[0].header("idempotency-key"), doc["message_id"].as_str().unwrap());

    app.wait_message(doc["message_id"].as_str().unwrap(), "delivered").await;
    let stored = app
        .get_json(&format!("/v1/documents/{}", doc["id"].as_str().unwrap()), &app.acme_key)
        .await;
    assert_eq!(stored["reference"], "4500012345");
    assert_eq!(stored["document"]["document"]["lines"].as_array().unwrap().len(), 3);
    let events: Vec<&str> = stored["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["created", "delivered"]);
    let ich_view = app
        .get_json(&format!("/v1/interchanges/{}", ich["id"].as_str().unwrap()), &app.acme_key)
        .await;
    assert!(ich_view["raw"].as_str().unwrap().contains("BEG*00*SA*4500012345"));
    assert_eq!(ich_view["ack"], ack);
    app.stop().await;
}

async fn retries_503_three_times_then_delivers_once(db: Db) {
    let app = spawn(Setup::new(db)).await;
    app.fulfillment
        .script([Scripted::status(503), Scripted::status(503), Scripted::status(503)]);
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(502)).await.json().await.unwrap();
    let id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let m = app.wait_message(&id, "delivered").await;
    assert_eq!(m["message"]["attempts"], 4);
    let outcomes: Vec<(&str, i64)> = m["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].as_str().unwrap(), a["status"].as_i64().unwrap()))
        .collect();
    assert_eq!(outcomes, vec![("retry", 503), ("retry", 503), ("retry", 503), ("delivered", 200)]);
    let got = app.fulfillment.requests();
    assert_eq!(got.len(), 4, "exactly four deliveries");
    assert!(got.iter().all(|r| r.header("idempotency-key") == id));
    let attempts: Vec<&str> = got.iter().map(|r| r.header("x-tradelane-attempt")).collect();
    assert_eq!(attempts, vec!["1", "2", "3", "4"]);
    app.stop().await;
}

async fn honours_retry_after_on_429(db: Db) {
    let app = spawn(Setup::new(db)).await;
    app.fulfillment.script([Scripted::status(429).header("retry-after", "2")]);
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(503)).await.json().await.unwrap();
    let id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.wait_message(&id, "delivered").await;
    let got = app.fulfillment.requests();
    assert_eq!(got.len(), 2);
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(1950),
        "second attempt after {gap:?}, Retry-After said 2 s"
    );
    app.stop().await;
}

async fn client_error_dead_letters_and_replay_delivers(db: Db) {
    let app = spawn(Setup::new(db)).await;
    app.fulfillment
        .script([Scripted::status(400).body(r#"{"error":"po_number unknown"}"#)]);
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(504)).await.json().await.unwrap();
    let id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let dead = app.wait_message(&id, "dead").await;
    assert_eq!(dead["message"]["attempts"], 1);
    assert_eq!(dead["attempts"][0]["status"], 400);
    assert_eq!(dead["attempts"][0]["response"], r#"{"error":"po_number unknown"}"#);
    let listed = app
        .get_json("/v1/admin/messages?status=dead&destination=fulfillment", &app.admin_key)
        .await;
    assert_eq!(listed["messages"].as_array().unwrap().len(), 1);
    let stats = app.get_json("/v1/admin/destinations", &app.admin_key).await;
    let f = stats["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["destination"] == "fulfillment")
        .unwrap()
        .clone();
    assert_eq!(f["dead"], 1);

    // Replay needs the admin scope, and only dead or cancelled messages replay.
    let r = app.post(&format!("/v1/admin/messages/{id}/replay"), &app.acme_key, "").await;
    assert_eq!(r.status(), 403);
    let r = app.post(&format!("/v1/admin/messages/{id}/replay"), &app.admin_key, "").await;
    assert_eq!(r.status(), 200);
    let m = app.wait_message(&id, "delivered").await;
    assert_eq!(m["attempts"].as_array().unwrap().len(), 2);
    let r = app.post(&format!("/v1/admin/messages/{id}/replay"), &app.admin_key, "").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(app.fulfillment.requests().len(), 2);
    app.stop().await;
}

async fn rate_limit_is_respected_per_destination(db: Db) {
    let mut setup = Setup::new(db);
    setup.fulfillment_dest = "rate_per_second = 5\nburst = 1".into();
    let app = spawn(setup).await;
    for i in 0..10 {
        let r = app.post("/v1/x12", &app.acme_key, po_850(600 + i)).await;
        assert_eq!(r.status(), 202);
    }
    let got = app.fulfillment.wait_for(10, Duration::from_secs(30)).await;
    let times: Vec<_> = got.iter().map(|r| r.at).collect();
    // GCRA bound: any window of W seconds holds at most burst + rate·W requests.
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().filter(|u| u.duration_since(*t) < Duration::from_secs(1)).count();
        assert!(in_window <= 6, "{in_window} requests within one second");
    }
    let span = *times.last().unwrap() - times[0];
    assert!(span >= Duration::from_millis(1600), "10 requests at 5/s took only {span:?}");
    // The partner destination is not throttled: its 10 acks are not held back by fulfillment's limit.
    let acks = app.partner.wait_for(10, Duration::from_secs(30)).await;
    assert!(acks[9].at <= times[9], "acks should not wait for the throttled destination");
    app.stop().await;
}

async fn duplicate_interchange_is_not_processed_again(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let first = app.post("/v1/x12", &app.acme_key, po_850(700)).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    // Same bytes: the original receipt, 200.
    let again = app.post("/v1/x12", &app.acme_key, po_850(700)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // Same sender and ISA13, different bytes: still a duplicate.
    let reformatted = po_850(700).replace("~\n", "~\r\n");
    let third = app.post("/v1/x12", &app.acme_key, reformatted).await;
    assert_eq!(third.status(), 200);
    assert_eq!(
        third.json::<Value>().await.unwrap()["interchanges"][0]["id"],
        first["interchanges"][0]["id"]
    );
    app.fulfillment.wait_for(1, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.fulfillment.requests().len(), 1);
    let docs = app.get_json("/v1/documents?direction=inbound", &app.acme_key).await;
    assert_eq!(docs["documents"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn tenants_see_only_their_own_data(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(800)).await.json().await.unwrap();
    let doc = receipt["interchanges"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let ich = receipt["interchanges"][0]["id"].as_str().unwrap().to_string();
    for path in [format!("/v1/documents/{doc}"), format!("/v1/interchanges/{ich}")] {
        let r = app.get(&path, &app.northwind_key).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "https://tradelane.dev/problems/not-found");
        assert_eq!(app.get(&path, &app.acme_key).await.status(), 200);
        assert_eq!(app.get(&path, &app.admin_key).await.status(), 200);
    }
    let theirs = app.get_json("/v1/documents", &app.northwind_key).await;
    assert!(theirs["documents"].as_array().unwrap().is_empty());
    // A partner's key cannot send another partner's interchange.
    let r = app.post("/v1/x12", &app.northwind_key, po_850(801)).await;
    assert_eq!(r.status(), 403);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://tradelane.dev/problems/sender-mismatch");
    // No key, a wrong key, a missing scope.
    assert_eq!(
        app.http.get(format!("{}/v1/documents", app.base)).send().await.unwrap().status(),
        401
    );
    assert_eq!(app.get("/v1/documents", "tl_000000000000_nope").await.status(), 401);
    assert_eq!(app.get("/v1/admin/messages", &app.acme_key).await.status(), 403);
    assert_eq!(app.post("/v1/x12", &app.client_key, po_850(802)).await.status(), 403);
    app.stop().await;
}

async fn ship_notice_is_numbered_sent_and_reconciled(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let body = json!({"partner": "acme-parts", "document": ship_notice()});
    let r = app.post_json("/v1/ship-notices", &app.client_key, "asn-1", &body).await;
    assert_eq!(r.status(), 202);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "queued");
    assert_eq!(
        (first["interchange_control"].as_str(), first["group_control"].as_str()),
        (Some("000000001"), Some("1"))
    );
    let x12 = first["x12"].as_str().unwrap();
    assert!(
        x12.contains("*000000001*0*P*>~") && x12.contains("BSN*00*SH-20240312-0042*20240312"),
        "{x12}"
    );

    // Same key, same body: the same document. Same key, other body: 422.
    let again = app.post_json("/v1/ship-notices", &app.client_key, "asn-1", &body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut other = body.clone();
    other["document"]["shipment_id"] = json!("SH-OTHER");
    let r = app.post_json("/v1/ship-notices", &app.client_key, "asn-1", &other).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "https://tradelane.dev/problems/idempotency-key-reused"
    );
    // Next document: the next numbers, no gap.
    let second: Value = app
        .post_json("/v1/ship-notices", &app.client_key, "asn-2", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["interchange_control"], "000000002");
    assert_eq!(second["set_control"], "0002");

    // Bad documents and missing keys are typed errors naming the problem.
    let bad = json!({"partner": "acme-parts", "document": {"shipment_id": "S1", "ship_date": "2024-02-30", "orders": []}});
    let r = app.post_json("/v1/ship-notices", &app.client_key, "asn-bad", &bad).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("date"), "{p}");
    let r = app.post("/v1/ship-notices", &app.client_key, body.to_string()).await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_json(
            "/v1/ship-notices",
            &app.client_key,
            "asn-x",
            &json!({"partner": "nobody", "document": ship_notice()}),
        )
        .await;
    assert_eq!(r.status(), 404);

    // Delivered to the partner, then its 997 reconciles: first accepted, second rejected.
    app.partner.wait_for(2, Duration::from_secs(15)).await;
    let id1 = first["id"].as_str().unwrap();
    let id2 = second["id"].as_str().unwrap();
    for id in [id1, id2] {
        wait_status(&app, id, "sent").await;
    }
    let r = app.post("/v1/x12", &app.acme_key, partner_997(900, "1", "0001", "A")).await;
    assert_eq!(r.status(), 202);
    let r = app.post("/v1/x12", &app.acme_key, partner_997(901, "2", "0002", "R")).await;
    assert_eq!(r.status(), 202);
    let d1 = app.get_json(&format!("/v1/documents/{id1}"), &app.client_key).await;
    assert_eq!(d1["status"], "accepted");
    let d2 = app.get_json(&format!("/v1/documents/{id2}"), &app.client_key).await;
    assert_eq!(d2["status"], "rejected");
    let events: Vec<&str> = d1["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["created", "delivered", "accepted"]);
    // The partner sees documents exchanged with it; filters work.
    let listed = app
        .get_json("/v1/documents?direction=outbound&status=accepted", &app.acme_key)
        .await;
    assert_eq!(listed["documents"].as_array().unwrap().len(), 1);
    let by_ref = app.get_json("/v1/documents?reference=SH-OTHER", &app.client_key).await;
    assert_eq!(by_ref["documents"][0]["id"], second["id"]);
    app.stop().await;
}

async fn wait_status(app: &support::TestApp, id: &str, status: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let d = app.get_json(&format!("/v1/documents/{id}"), &app.admin_key).await;
        if d["status"] == status {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "document {id} never became {status}: {d:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn unacknowledged_documents_become_overdue(db: Db) {
    let mut setup = Setup::new(db);
    setup.ack_window_hours = Some(0);
    let app = spawn(setup).await;
    let body = json!({"partner": "acme-parts", "document": ship_notice()});
    let doc: Value = app
        .post_json("/v1/ship-notices", &app.client_key, "asn-od", &body)
        .await
        .json()
        .await
        .unwrap();
    wait_status(&app, doc["id"].as_str().unwrap(), "overdue").await;
    app.stop().await;
}

on_both_databases!(
    inbound_850_is_acknowledged_and_delivered,
    retries_503_three_times_then_delivers_once,
    honours_retry_after_on_429,
    client_error_dead_letters_and_replay_delivers,
    rate_limit_is_respected_per_destination,
    duplicate_interchange_is_not_processed_again,
    tenants_see_only_their_own_data,
    ship_notice_is_numbered_sent_and_reconciled,
    unacknowledged_documents_become_overdue,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_typed_error_and_is_stored() {
    let mut setup = Setup::new(Db::Sqlite);
    setup.body_limit = 4096;
    let app = spawn(setup).await;
    let r = app.post("/v1/x12", &app.acme_key, "this is not X12 at all").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://tradelane.dev/problems/x12-unreadable");
    let sub = p["submission_id"].as_str().unwrap();
    let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT raw FROM submissions WHERE id = $1")
        .bind(sub)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(raw, b"this is not X12 at all");
    let r = app.post("/v1/x12", &app.acme_key, "x".repeat(5000)).await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["type"],
        "https://tradelane.dev/problems/body-too-large"
    );
    // A rejected set still gets its 997 and is kept, not forwarded.
    let bad = fixture("x12/invalid/850_missing_beg.edi");
    let r = app.post("/v1/x12", &app.acme_key, bad).await;
    assert_eq!(r.status(), 202);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["status"], "rejected");
    assert!(receipt["interchanges"][0]["ack"].as_str().unwrap().contains("AK5*R"));
    assert_eq!(receipt["interchanges"][0]["documents"][0]["accepted"], false);
    assert!(receipt["interchanges"][0]["documents"][0]["message_id"].is_null());
    let health = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tradelane_http_requests_total{method=\"POST\",route=\"/v1/x12\",status=\"413\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tradelane_outbox_depth{destination=\"partner\""), "{metrics}");
    app.stop().await;
}

/// Two gateway processes on one PostgreSQL store share the intake and the
/// outbox: every message is delivered exactly once, control numbers never repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_postgres_store() {
    if support::pg_url().is_none() {
        eprintln!("TEST_DATABASE_URL not set: skipping");
        return;
    }
    let a = spawn(Setup::new(Db::Postgres)).await;
    let mut setup = Setup::new(Db::Postgres);
    setup.shared = Some((a.database_url.clone(), a.partner.clone(), a.fulfillment.clone()));
    let b = spawn(setup).await;
    let mut acks = Vec::new();
    for i in 0..30u32 {
        let app = if i % 2 == 0 { &a } else { &b };
        let r = app.post("/v1/x12", &app.acme_key, po_850(1000 + i)).await;
        assert_eq!(r.status(), 202);
        let receipt: Value = r.json().await.unwrap();
        acks.push(receipt["interchanges"][0]["ack"].as_str().unwrap().to_string());
    }
    // Both instances allocated from one series: 30 distinct ISA13s in the acks.
    let isa13: std::collections::HashSet<String> = acks.iter().map(|a| a.split('*').nth(13).unwrap().to_string()).collect();
    assert_eq!(isa13.len(), 30);
    let delivered = a.fulfillment.wait_for(30, Duration::from_secs(30)).await;
    a.partner.wait_for(30, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let keys: std::collections::HashSet<String> = delivered.iter().map(|r| r.header("idempotency-key").to_string()).collect();
    assert_eq!(
        (a.fulfillment.requests().len(), keys.len()),
        (30, 30),
        "each document delivered exactly once"
    );
    assert_eq!(a.partner.requests().len(), 30);
    a.stop().await;
    b.stop().await;
}

/// Connection refused is retried with backoff, then dead-lettered after `max_attempts`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_errors_are_retried_then_dead_lettered() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut setup = Setup::new(Db::Sqlite);
    setup.fulfillment_url = Some(format!("http://127.0.0.1:{closed}/hook"));
    setup.fulfillment_dest = "max_attempts = 3".into();
    let app = spawn(setup).await;
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(950)).await.json().await.unwrap();
    let id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let dead = app.wait_message(&id, "dead").await;
    let attempts = dead["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|a| a["error"].as_str().unwrap().starts_with("connect")),
        "{attempts:?}"
    );
    assert_eq!(
        attempts.iter().map(|a| a["outcome"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["retry", "retry", "dead"]
    );
    // The ack to the partner is unaffected.
    app.partner.wait_for(1, Duration::from_secs(15)).await;
    app.stop().await;
}
