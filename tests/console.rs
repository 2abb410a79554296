//! The web console over plain HTTP: admin login and sessions, CSRF on
//! replay and logout, escaping of partner content, search filters and the
//! KPIs computed from real exchanges, on SQLite and PostgreSQL.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{fixture, po_850, spawn, Db, Scripted, Setup, TestApp};

/// A browser-like client: keeps the session cookie, does not follow redirects.
struct Console {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_login(app: &TestApp, key: &str) -> reqwest::Response {
    client()
        .post(format!("{}/console/login", app.base))
        .form(&[("key", key)])
        .send()
        .await
        .unwrap()
}

async fn login(app: &TestApp) -> Console {
    let r = post_login(app, &app.admin_key).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    Console {
        base: app.base.clone(),
        http: client(),
        cookie: set_cookie.split(';').next().unwrap().to_string(),
    }
}

impl Console {
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send().await.unwrap()
    }
}

/// The CSRF token of the page's forms.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[start..start + 64].to_string()
}

/// The references in the documents table, in order.
fn references(html: &str) -> Vec<String> {
    html.split("<td class=\"reference\">")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').unwrap() + 1..];
            text[..text.find("</a>").unwrap()].to_string()
        })
        .collect()
}

async fn refs(console: &Console, query: &str) -> Vec<String> {
    references(&console.page(&format!("/console/documents{query}")).await)
}

/// An 850 with its own control number, PO number and requested delivery date.
fn po(control: u32, po_number: &str, deliver_by: &str) -> String {
    po_850(control)
        .replace("4500012345", po_number)
        .replace("DTM*002*20240325", &format!("DTM*002*{deliver_by}"))
}

async fn login_gives_an_httponly_strict_session_only_to_admin_keys(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let anonymous = client();
    let r = anonymous.get(format!("{}/console", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console/login");
    let r = anonymous.get(format!("{}/console/outbox", app.base)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/console/login");

    let r = post_login(&app, "tl_nope_nope").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("That API key is not valid."));
    let r = post_login(&app, &app.acme_key).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("lacks the admin scope"));

    let r = post_login(&app, &app.admin_key).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/console");
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("tl_console="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing: {set_cookie}");
    }
    let secret = app.admin_key.splitn(3, '_').nth(2).unwrap();
    assert_eq!(secret.len(), 43);
    assert!(!set_cookie.contains(secret), "the key never goes into the cookie");
    let token = set_cookie.split(';').next().unwrap().trim_start_matches("tl_console=").to_string();
    assert_eq!(token.len(), 43, "256 random bits, base64url");

    // Only the token's hash is stored.
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM console_sessions")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, vec![(tradelane::store::sha256_hex(token.as_bytes()),)]);

    let console = Console {
        base: app.base.clone(),
        http: client(),
        cookie: format!("tl_console={token}"),
    };
    let r = console
        .http
        .get(format!("{}/console", app.base))
        .header("cookie", &console.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("<h1>Overview</h1>") && body.contains(">ops</span>"));
    assert!(!body.contains(secret));

    // Logout needs the form's token; then the session is gone.
    let r = console.post("/console/logout", &[("csrf", "0".repeat(64).as_str())], None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(console.get("/console").await.0, StatusCode::OK);
    let token = csrf(&body);
    let r = console.post("/console/logout", &[("csrf", token.as_str())], None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(console.get("/console").await.0, StatusCode::SEE_OTHER);

    // Revoking the key ends its sessions.
    let console = login(&app).await;
    assert_eq!(console.get("/console/documents").await.0, StatusCode::OK);
    let key_id = app.admin_key.split('_').nth(1).unwrap();
    assert!(app.store.revoke_key(key_id).await.unwrap());
    assert_eq!(console.get("/console/documents").await.0, StatusCode::SEE_OTHER);
    app.stop().await;
}

async fn replay_from_the_outbox_page_needs_the_csrf_token(db: Db) {
    let app = spawn(Setup::new(db)).await;
    // Fulfillment refuses the purchase order once: a 400 is a dead letter at once.
    app.fulfillment
        .script([Scripted::status(400).body("{\"error\":\"unknown ship-to 0012\"}")]);
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(801)).await.json().await.unwrap();
    let id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.wait_message(&id, "dead").await;

    let console = login(&app).await;
    let page = console.page("/console/outbox").await;
    let row = &page[page.find(&format!("<tr id=\"dead-{id}\">")).expect("the dead letter is listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("<td>fulfillment</td>") && row.contains("<td class=\"reason\">HTTP 400</td>"),
        "{row}"
    );
    assert!(row.contains("{&quot;error&quot;:&quot;unknown ship-to 0012&quot;}"), "{row}");
    assert!(row.contains(&format!("action=\"/console/outbox/{id}/replay\"")), "{row}");
    let fulfillment_row = page.split("<tr>").find(|r| r.starts_with("<td>fulfillment</td>")).unwrap();
    assert!(
        fulfillment_row.starts_with("<td>fulfillment</td><td>0</td><td>0</td><td>1</td><td>0</td>"),
        "{fulfillment_row}"
    );

    let path = format!("/console/outbox/{id}/replay");
    let token = csrf(&page);
    let r = console.post(&path, &[("csrf", "f".repeat(64).as_str())], None).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = console.post(&path, &[("csrf", token.as_str())], Some("http://evil.example")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = client()
        .post(format!("{}{path}", app.base))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/console/login", "no session, no replay");
    let m = app.get_json(&format!("/v1/admin/messages/{id}"), &app.admin_key).await;
    assert_eq!(m["message"]["state"], "dead", "refused replays changed nothing");

    let r = console.post(&path, &[("csrf", token.as_str())], Some(&app.base)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/console/outbox?replayed={id}"));
    let m = app.wait_message(&id, "delivered").await;
    assert_eq!(m["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(app.fulfillment.requests().len(), 2);
    // A second replay of a delivered message is a conflict, shown as a page.
    let (status, body) = {
        let r = console.post(&path, &[("csrf", token.as_str())], None).await;
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("only dead or cancelled messages can be replayed"));
    let page = console.page("/console/outbox").await;
    assert!(page.contains("No dead letters."));
    app.stop().await;
}

async fn partner_content_is_escaped_everywhere(db: Db) {
    let app = spawn(Setup::new(db)).await;
    let hostile = "<img src=x onerror=a()";
    let r = app.post("/v1/x12", &app.acme_key, po(811, hostile, "20240325")).await;
    assert_eq!(r.status(), 202);
    let receipt: Value = r.json().await.unwrap();
    let doc = receipt["interchanges"][0]["documents"][0]["id"].as_str().unwrap().to_string();
    let ich = receipt["interchanges"][0]["id"].as_str().unwrap().to_string();
    let console = login(&app).await;
    let escaped = "&lt;img src=x onerror=a()";
    for path in [
        "/console/documents".to_string(),
        format!("/console/documents/{doc}"),
        format!("/console/interchanges/{ich}"),
    ] {
        let page = console.page(&path).await;
        assert!(page.contains(escaped), "{path}: {page}");
        assert!(!page.contains("<img"), "{path} lets partner markup through");
    }
    let list = console.page("/console/documents").await;
    assert_eq!(references(&list), vec![escaped.to_string()]);
    let detail = console.page(&format!("/console/interchanges/{ich}")).await;
    assert_eq!(references(&detail), vec![escaped.to_string()], "the interchange lists its set");
    assert!(detail.contains("<pre id=\"ack\">ISA*"), "the 997 sent back is shown");
    // A search value is echoed back escaped too.
    let page = console.page("/console/documents?reference=%22%3E%3Cscript%3E").await;
    assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;\"") && !page.contains("\"><script>"));
    app.stop().await;
}

async fn search_filters_documents_and_interchanges(db: Db) {
    let app = spawn(Setup::new(db)).await;
    for (control, po_number) in [(601, "4500000001"), (602, "4500000002"), (603, "4600000003")] {
        assert_eq!(
            app.post("/v1/x12", &app.acme_key, po(control, po_number, "20240325"))
                .await
                .status(),
            202
        );
    }
    let console = login(&app).await;
    assert_eq!(refs(&console, "").await, vec!["4600000003", "4500000002", "4500000001"]);
    assert_eq!(refs(&console, "?reference=4500000002").await, vec!["4500000002"]);
    assert_eq!(refs(&console, "?reference=45000").await, vec!["4500000002", "4500000001"]);
    assert_eq!(refs(&console, "?reference=%25").await, Vec::<String>::new(), "% is literal");
    assert_eq!(refs(&console, "?control_number=000000603").await, vec!["4600000003"]);
    assert_eq!(refs(&console, "?partner=acme-parts&direction=inbound").await.len(), 3);
    assert_eq!(refs(&console, "?partner=northwind").await, Vec::<String>::new());
    assert_eq!(refs(&console, "?direction=outbound").await, Vec::<String>::new());
    let today = tradelane::model::Date::today().to_string();
    assert_eq!(refs(&console, &format!("?from={today}&to={today}")).await.len(), 3);
    assert_eq!(refs(&console, "?to=2024-03-11").await, Vec::<String>::new());
    assert_eq!(refs(&console, "?page=2").await, Vec::<String>::new());

    let list = console.page("/console/documents?reference=4500000001").await;
    assert!(list.contains("000000601 / 1101 / 0001"), "control numbers shown: {list}");
    assert!(list.contains("<td class=\"status received\">received</td>"), "{list}");

    for (q, message) in [
        ("?from=2024-02-30", "from: expected a date YYYY-MM-DD"),
        ("?page=-1", "page: a number from 1"),
        ("?direction=up", "direction: inbound or outbound"),
    ] {
        let (status, body) = console.get(&format!("/console/documents{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert!(body.contains(message), "{q}: {body}");
    }

    let page = console.page("/console/interchanges?control_number=000000602").await;
    assert_eq!(page.matches("<tr><td>").count(), 1, "{page}");
    assert!(page.contains(">000000602</a>") && page.contains("<td class=\"status accepted\">accepted</td>"));
    let page = console.page("/console/interchanges?reference=4600000003").await;
    assert!(page.contains(">000000603</a>") && !page.contains(">000000602</a>"));
    let page = console.page("/console/interchanges?partner=acme-parts").await;
    assert_eq!(page.matches("<tr><td>").count(), 3);
    assert_eq!(console.get("/console/documents/doc_nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(console.get("/console/interchanges/ich_nope").await.0, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn wait_status(app: &TestApp, id: &str, status: &str) {
    for _ in 0..400 {
        let d = app.get_json(&format!("/v1/documents/{id}"), &app.admin_key).await;
        if d["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("document {id} never became {status}");
}

/// The acme-parts 997 answering our group `group`, set `set` with `status`.
fn partner_997(isa: u32, group: &str, set: &str, status: &str) -> String {
    let accepted = if status == "A" { 1 } else { 0 };
    format!(
        "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240312*1015*U*00401*{isa:09}*0*P*>~\n\
         GS*FA*ACMEPARTS*TRADELANE*20240312*1015*{isa}*X*004010~\nST*997*0001~\nAK1*SH*{group}~\nAK2*856*{set}~\n\
         AK5*{status}~\nAK9*{status}*1*1*{accepted}~\nSE*6*0001~\nGE*1*{isa}~\nIEA*1*{isa:09}~\n"
    )
}

async fn kpis_follow_orders_ship_notices_acks_and_tracking(db: Db) {
    let carriers = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers"));
    let mocks = tradelane::connectors::mock::start_all(carriers, 0, 1).unwrap();
    let ups = mocks.iter().find(|m| m.carrier == "ups").unwrap();
    let mut setup = Setup::new(db);
    setup.extra_toml = format!(
        "[shipping]\ntracking_poll_secs = 1\n[carriers.ups]\nbase_url = \"{}\"\n{}\nretries = 1\n",
        ups.base_url,
        tradelane::connectors::mock::credentials("ups")
    );
    let app = spawn(setup).await;
    // Two orders: one wanted by 2024-03-25, one by 2025-03-25. The mock UPS delivers on 2025-03-20.
    app.post("/v1/x12", &app.acme_key, po(701, "4500012345", "20240325")).await;
    app.post("/v1/x12", &app.acme_key, po(702, "4500099999", "20250325")).await;
    app.fulfillment.wait_for(2, Duration::from_secs(15)).await;

    let mut notice: Value = serde_json::from_str(&fixture("documents/ship_notice.json")).unwrap();
    let first: Value = app
        .post_json(
            "/v1/ship-notices",
            &app.client_key,
            "sn-1",
            &json!({"partner": "acme-parts", "document": notice}),
        )
        .await
        .json()
        .await
        .unwrap();
    notice["shipment_id"] = json!("SH-20240312-0043");
    notice["tracking_number"] = json!("1Z999AA10123456791");
    notice["orders"][0]["po_number"] = json!("4500099999");
    let second: Value = app
        .post_json(
            "/v1/ship-notices",
            &app.client_key,
            "sn-2",
            &json!({"partner": "acme-parts", "document": notice}),
        )
        .await
        .json()
        .await
        .unwrap();
    for d in [&first, &second] {
        wait_status(&app, d["id"].as_str().unwrap(), "sent").await;
    }
    // The partner accepts the first ship notice and rejects the second.
    let ack = |d: &Value| {
        (
            d["group_control"].as_str().unwrap().to_string(),
            d["set_control"].as_str().unwrap().to_string(),
        )
    };
    let (g1, s1) = ack(&first);
    let (g2, s2) = ack(&second);
    assert_eq!(
        app.post("/v1/x12", &app.acme_key, partner_997(900, &g1, &s1, "A")).await.status(),
        202
    );
    assert_eq!(
        app.post("/v1/x12", &app.acme_key, partner_997(901, &g2, &s2, "R")).await.status(),
        202
    );
    wait_status(&app, first["id"].as_str().unwrap(), "accepted").await;
    wait_status(&app, second["id"].as_str().unwrap(), "rejected").await;

    let hook = support::Mock::start().await;
    for number in ["1Z999AA10123456784", "1Z999AA10123456791"] {
        let r = app
            .post_json(
                "/v1/tracking/subscriptions",
                &app.client_key,
                "-",
                &json!({"carrier": "ups", "tracking_number": number, "url": hook.url}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    hook.wait_for(2, Duration::from_secs(20)).await;

    let kpis = app.store.kpis().await.unwrap();
    let cycle = &kpis.cycle_time;
    assert_eq!((cycle.len(), cycle[0].partner.as_str(), cycle[0].samples), (1, "acme-parts", 2));
    assert!(cycle[0].mean_ms >= 0 && cycle[0].max_ms >= cycle[0].mean_ms);
    let latency = &kpis.ack_latency;
    assert_eq!(
        (latency.len(), latency[0].partner.as_str(), latency[0].samples),
        (1, "acme-parts", 2)
    );
    assert_eq!(
        kpis.rejections,
        vec![tradelane::store::Rejections {
            partner: "acme-parts".into(),
            inbound: 2,
            inbound_rejected: 0,
            outbound: 2,
            outbound_rejected: 1,
        }]
    );
    assert_eq!(kpis.rejections[0].rate(), 0.25);
    assert_eq!(
        kpis.on_time,
        vec![tradelane::store::OnTime {
            carrier: "ups".into(),
            on_time: 1,
            late: 1,
            no_promise: 0,
        }]
    );
    let activity = app.store.carrier_activity().await.unwrap();
    assert_eq!((activity[0].carrier.as_str(), activity[0].tracking_delivered), ("ups", 2));

    let console = login(&app).await;
    let page = console.page("/console").await;
    let section = |id: &str| {
        let start = page.find(&format!("id=\"{id}\"")).unwrap();
        page[start..start + page[start..].find("</section>").unwrap()].to_string()
    };
    assert!(section("rejections").contains("<td>acme-parts</td><td>0 / 2</td><td>1 / 2</td><td>25%</td>"));
    assert!(section("on-time").contains("<td>ups</td><td>1</td><td>1</td><td>0</td>"));
    assert!(section("on-time").contains(">50%</text>"), "the chart shows the on-time share");
    assert!(section("cycle-time").contains("<td>acme-parts</td><td>2</td>"));
    assert!(section("ack-latency").contains("<td>acme-parts</td><td>2</td>"));
    // Today's point: 4 inbound documents (two 850s, two 997s) and 2 outbound.
    let throughput = section("throughput");
    assert!(
        throughput.contains("inbound: 4</title>") && throughput.contains("outbound: 2</title>"),
        "{throughput}"
    );
    let carriers = console.page("/console/carriers").await;
    assert!(
        carriers.contains("<td>ups</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td>"),
        "{carriers}"
    );
    assert!(carriers.contains("<td>ups</td><td>track</td><td>2</td><td>0</td>"), "{carriers}");
    app.stop().await;
}

on_both_databases!(
    login_gives_an_httponly_strict_session_only_to_admin_keys,
    replay_from_the_outbox_page_needs_the_csrf_token,
    partner_content_is_escaped_everywhere,
    search_filters_documents_and_interchanges,
    kpis_follow_orders_ship_notices_acks_and_tracking,
);
