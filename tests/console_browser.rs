//! The console in a real browser: headless Chromium driven by chromedriver
//! over the W3C WebDriver protocol (plain HTTP with reqwest), against a
//! running gateway with seeded data. Logs in, reads the documents table,
//! opens a document, replays a dead letter and saves screenshots, `console.png`
//! (the overview) and one per page visited, in `$TRADELANE_SCREENSHOT_DIR`, else
//! `$CARGO_TARGET_DIR`, else `target/`.
//!
//! Without chromedriver and Chromium the test is skipped, unless
//! `TRADELANE_BROWSER_TESTS=1` (CI sets it), where their absence fails.

mod support;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{fixture, po_850, spawn, Db, Scripted, Setup};

/// The WebDriver element key (W3C).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    http: reqwest::Client,
    port: u16,
    session: String,
    driver: std::process::Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (and its Chromium) even when an assertion failed; plain TCP, no runtime needed.
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.session, self.port
            );
            let _ = s.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(driver: PathBuf, chromium: PathBuf) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            http,
            port,
            session: String::new(),
            driver: child,
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser.call(reqwest::Method::GET, "/status", None).await;
            if ready.as_ref().is_some_and(|v| v["value"]["ready"] == true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                // Headless, and no traffic beyond loopback: no background services, no name resolution.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--no-first-run", "--no-default-browser-check",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-extensions", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
                         "--disable-features=OptimizationHints,MediaRouter,Translate",
                         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                         format!("--user-data-dir={}", browser._profile.path().display())]
            }
        }}});
        let created = browser
            .call(reqwest::Method::POST, "/session", Some(caps))
            .await
            .expect("new session");
        browser.session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Option<Value> {
        let mut req = self.http.request(method, format!("http://127.0.0.1:{}{path}", self.port));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.ok()?;
        r.json().await.ok()
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let v = self.call(method, &path, body).await.expect("webdriver answer");
        assert!(v["value"].get("error").is_none(), "{path}: {v}");
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_string()
    }

    /// Elements matching `css`, waiting up to ten seconds for at least one.
    async fn all(&self, css: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let path = format!("/session/{}/elements", self.session);
            let v = self
                .call(reqwest::Method::POST, &path, Some(json!({"using": "css selector", "value": css})))
                .await
                .expect("webdriver answer");
            let found: Vec<String> = v["value"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e[ELEMENT].as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if !found.is_empty() || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn one(&self, css: &str) -> String {
        self.all(css)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no {css} on {}", "the page"))
    }

    async fn text(&self, element: &str) -> String {
        let v = self.command(reqwest::Method::GET, &format!("/element/{element}/text"), None).await;
        v.as_str().unwrap_or_default().to_string()
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.all(css).await {
            out.push(self.text(&e).await);
        }
        out
    }

    async fn click(&self, element: &str) {
        self.command(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({})))
            .await;
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Waits until the page's URL satisfies `f`.
    async fn wait_url(&self, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url().await;
            if f(&url) {
                return url;
            }
            if Instant::now() > deadline {
                let source = self.command(reqwest::Method::GET, "/source", None).await;
                panic!("stuck at {url}: {}", source.as_str().unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let v = self.command(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        assert!(png.len() > 10_000, "a real page, not a blank image ({} bytes)", png.len());
        let dir = std::env::var_os("TRADELANE_SCREENSHOT_DIR")
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR"))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, &png).unwrap();
        path
    }
}

/// The acme-parts 997 accepting our group `group`, set `set`.
fn accepting_997(isa: u32, group: &str, set: &str) -> String {
    format!(
        "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240312*1015*U*00401*{isa:09}*0*P*>~\n\
         GS*FA*ACMEPARTS*TRADELANE*20240312*1015*{isa}*X*004010~\nST*997*0001~\nAK1*SH*{group}~\nAK2*856*{set}~\n\
         AK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\nGE*1*{isa}~\nIEA*1*{isa:09}~\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_headless_chromium() {
    let required = std::env::var("TRADELANE_BROWSER_TESTS").is_ok_and(|v| v == "1");
    let driver = find_program("TRADELANE_CHROMEDRIVER", &["chromedriver"]);
    let chromium = find_program("TRADELANE_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        assert!(!required, "TRADELANE_BROWSER_TESTS=1 but chromedriver or chromium is not installed");
        eprintln!("chromedriver or chromium not found: skipping the browser test (set TRADELANE_BROWSER_TESTS=1 to require it)");
        return;
    };

    // Seed: a purchase order fulfillment refuses (a dead letter), two it takes, a ship notice the partner accepts.
    let app = spawn(Setup::new(Db::Sqlite)).await;
    app.fulfillment.script([Scripted::status(400).body("unknown ship-to 0012")]);
    let receipt: Value = app.post("/v1/x12", &app.acme_key, po_850(901)).await.json().await.unwrap();
    let dead_id = receipt["interchanges"][0]["documents"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.wait_message(&dead_id, "dead").await;
    for (control, po) in [(902, "4500000002"), (903, "4500000003")] {
        let x12 = po_850(control).replace("4500012345", po);
        assert_eq!(app.post("/v1/x12", &app.acme_key, x12).await.status(), 202);
    }
    let notice: Value = serde_json::from_str(&fixture("documents/ship_notice.json")).unwrap();
    let sent: Value = app
        .post_json(
            "/v1/ship-notices",
            &app.client_key,
            "sn-browser",
            &json!({"partner": "acme-parts", "document": notice}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.partner.wait_for(4, Duration::from_secs(15)).await;
    let ack = accepting_997(950, sent["group_control"].as_str().unwrap(), sent["set_control"].as_str().unwrap());
    assert_eq!(app.post("/v1/x12", &app.acme_key, ack).await.status(), 202);

    let browser = Browser::start(driver, chromium).await;
    let base = &app.base;

    // Unauthenticated: sent to the login page; log in with the admin key.
    browser.goto(&format!("{base}/console/documents")).await;
    browser.wait_url(|u| u.ends_with("/console/login")).await;
    browser.screenshot("console-login.png").await;
    let key = browser.one("#key").await;
    browser.type_into(&key, &app.admin_key).await;
    browser.click(&browser.one("#login").await).await;
    browser.wait_url(|u| u.ends_with("/console")).await;
    assert_eq!(browser.texts("h1").await, vec!["Overview"]);

    // The documents table: every document, newest first, with PO numbers and statuses.
    browser.goto(&format!("{base}/console/documents")).await;
    browser.screenshot("console-documents.png").await;
    let refs = browser.texts("#documents td.reference").await;
    assert_eq!(refs.len(), 5, "{refs:?}");
    for po in ["4500012345", "4500000002", "4500000003", "SH-20240312-0042"] {
        assert!(refs.iter().any(|r| r == po), "{po} missing from {refs:?}");
    }
    let rows = browser.texts("#documents tbody tr").await;
    let shipped = rows.iter().find(|r| r.contains("SH-20240312-0042")).unwrap();
    assert!(shipped.contains("outbound") && shipped.contains("accepted"), "{shipped}");

    // Search by PO number through the form.
    let field = browser.one("form.search input[name=reference]").await;
    browser.type_into(&field, "4500000002").await;
    browser.click(&browser.one("form.search button").await).await;
    browser.wait_url(|u| u.contains("reference=4500000002")).await;
    assert_eq!(browser.texts("#documents td.reference").await, vec!["4500000002"]);

    // One document: raw X12, canonical JSON and the failed delivery side by side.
    browser.goto(&format!("{base}/console/documents?reference=4500012345")).await;
    browser.click(&browser.one("#documents td.reference a").await).await;
    browser.wait_url(|u| u.contains("/console/documents/doc_")).await;
    assert!(browser
        .text(&browser.one("#x12").await)
        .await
        .contains("BEG*00*SA*4500012345**20240311~"));
    assert!(browser
        .text(&browser.one("#json").await)
        .await
        .contains("\"po_number\": \"4500012345\""));
    let panes = browser.text(&browser.one(".panes").await).await;
    assert!(panes.contains(&format!("fulfillment · dead · {dead_id}")), "{panes}");
    assert!(
        panes.contains(" dead 400 unknown ship-to 0012"),
        "the attempt with its response: {panes}"
    );
    browser.screenshot("console-document.png").await;

    // The outbox: the dead letter with its reason; Replay delivers it (fulfillment answers 200 now).
    browser.goto(&format!("{base}/console/outbox")).await;
    let dead = browser.texts("#dead tbody tr").await;
    assert_eq!(dead.len(), 1);
    assert!(dead[0].contains(&dead_id) && dead[0].contains("HTTP 400") && dead[0].contains("unknown ship-to 0012"));
    browser.screenshot("console-outbox.png").await;
    browser.click(&browser.one("#dead button.replay").await).await;
    browser.wait_url(|u| u.contains("replayed=")).await;
    assert!(browser.text(&browser.one("#notice").await).await.contains(&dead_id));
    let m = app.wait_message(&dead_id, "delivered").await;
    assert_eq!(m["attempts"].as_array().unwrap().len(), 2);
    browser.goto(&format!("{base}/console/outbox")).await;
    assert!(browser.texts("p.empty").await.contains(&"No dead letters.".to_string()));

    // Interchanges: the three orders and the partner's 997, each with its validation and ack state.
    browser.goto(&format!("{base}/console/interchanges")).await;
    let rows = browser.texts("#interchanges tbody tr").await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[0].contains("000000950") && rows[0].contains("accepted"), "{rows:?}");
    assert!(rows[3].contains("000000901") && rows[3].contains("ack delivered"), "{rows:?}");
    browser.goto(&format!("{base}/console/carriers")).await;
    assert!(browser
        .texts("p.empty")
        .await
        .contains(&"No labels or tracking subscriptions yet.".to_string()));

    // The overview with its charts, saved as the screenshot.
    browser.goto(&format!("{base}/console")).await;
    // Throughput, cycle time, ack latency and rejections have data; nothing was tracked yet.
    assert_eq!(browser.all("svg.chart").await.len(), 4);
    let on_time = browser.text(&browser.one("#on-time").await).await;
    assert!(on_time.contains("On-time delivery: no data yet"), "{on_time}");
    let path = browser.screenshot("console.png").await;
    eprintln!("screenshot: {}", path.display());
    drop(browser);
    app.stop().await;
}
