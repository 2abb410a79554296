//! Test harness: the gateway on a random port over a fresh SQLite file or
//! PostgreSQL schema, and local mock servers standing in for partners and
//! fulfillment webhooks.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tradelane::app::Application;
use tradelane::config::Config;
use tradelane::store::{Scope, Store};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// PostgreSQL URL for tests, when the environment provides one.
pub fn pg_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// A fresh, empty schema on the test PostgreSQL server; returns a URL that uses it.
pub async fn pg_schema() -> String {
    use sqlx::Connection;
    let base = pg_url().expect("TEST_DATABASE_URL");
    let schema = format!("t_{}", &tradelane::store::new_id("")[..16]);
    let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// Generates `<name>_sqlite` and `<name>_postgres` tests from `async fn name(db: Db)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::support::pg_url().is_none() {
                        eprintln!("TEST_DATABASE_URL not set: skipping the PostgreSQL run");
                        return;
                    }
                    super::$name($crate::support::Db::Postgres).await;
                }
            )*
        }
    };
}

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Scripted {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn body(mut self, b: &str) -> Self {
        self.body = b.into();
        self
    }
}

/// A request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub at: Instant,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, k: &str) -> &str {
        self.headers.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Default)]
struct MockState {
    script: Mutex<VecDeque<Scripted>>,
    requests: Mutex<Vec<Recorded>>,
    delay: Mutex<Duration>,
}

/// A local HTTP endpoint that answers from a script (then 200) and records every request.
#[derive(Clone)]
pub struct Mock {
    pub url: String,
    state: Arc<MockState>,
}

async fn mock_handler(req: HttpRequest, body: web::Bytes, state: web::Data<MockState>) -> HttpResponse {
    state.requests.lock().unwrap().push(Recorded {
        at: Instant::now(),
        path: req.path().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    });
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let next = state.script.lock().unwrap().pop_front().unwrap_or(Scripted::status(200));
    let mut resp = HttpResponse::build(actix_web::http::StatusCode::from_u16(next.status).unwrap());
    for (k, v) in &next.headers {
        resp.insert_header((k.as_str(), v.as_str()));
    }
    resp.body(next.body)
}

impl Mock {
    pub async fn start() -> Mock {
        let state = Arc::new(MockState::default());
        let data = web::Data::from(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 << 20))
                .default_service(web::to(mock_handler))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Mock {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
        }
    }

    /// Answers every request after `delay`.
    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// Queues responses, answered in order before the default 200.
    pub fn script(&self, responses: impl IntoIterator<Item = Scripted>) {
        self.state.script.lock().unwrap().extend(responses);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "mock got {} of {n} requests: {got:#?}", got.len());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The gateway under test.
pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub http: reqwest::Client,
    pub store: Store,
    /// acme-parts (X12 sender, documents read/write for itself).
    pub acme_key: String,
    /// northwind (another partner).
    pub northwind_key: String,
    /// A fulfillment client sending ship notices and invoices.
    pub client_key: String,
    /// An operator.
    pub admin_key: String,
    pub partner: Mock,
    pub fulfillment: Mock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Options for [`spawn`].
pub struct Setup {
    pub db: Db,
    /// Extra TOML for the `[destinations.partner]` table.
    pub partner_dest: String,
    /// Extra TOML for the `[destinations.fulfillment]` table.
    pub fulfillment_dest: String,
    pub body_limit: usize,
    /// Overrides acme-parts' acknowledgment window (hours).
    pub ack_window_hours: Option<u32>,
    /// More TOML appended to the configuration (carriers, shipping).
    pub extra_toml: String,
    /// Send fulfillment deliveries here instead of the mock.
    pub fulfillment_url: Option<String>,
    /// Share a database and mocks with another instance.
    pub shared: Option<(String, Mock, Mock)>,
    /// Files written into the mappings copy (path relative to `mappings/`, text).
    pub mapping_files: Vec<(String, String)>,
}

impl Setup {
    pub fn new(db: Db) -> Self {
        Setup {
            db,
            partner_dest: String::new(),
            fulfillment_dest: String::new(),
            body_limit: 50 << 20,
            ack_window_hours: None,
            shared: None,
            fulfillment_url: None,
            extra_toml: String::new(),
            mapping_files: Vec::new(),
        }
    }
}

/// Copies `mappings/` into `dir`, optionally changing acme-parts' ack window.
fn mappings_copy(dir: &std::path::Path, window: Option<u32>) -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let dst = dir.join("mappings");
    for sub in ["x12/004010", "x12/005010", "partners", "dealers", "parts", "oem"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                let mut text = std::fs::read_to_string(&p).unwrap();
                if let (Some(w), Some("acme-parts.toml")) = (window, p.file_name().and_then(|n| n.to_str())) {
                    text = text.replace("ack_window_hours = 24", &format!("ack_window_hours = {w}"));
                }
                std::fs::write(dst.join(sub).join(p.file_name().unwrap()), text).unwrap();
            }
        }
    }
    dst
}

pub async fn spawn(setup: Setup) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, partner, fulfillment) = match setup.shared.clone() {
        Some(shared) => shared,
        None => {
            let url = match setup.db {
                Db::Sqlite => format!("sqlite:{}", dir.path().join("gateway.db").display()),
                Db::Postgres => pg_schema().await,
            };
            (url, Mock::start().await, Mock::start().await)
        }
    };
    let mappings = mappings_copy(dir.path(), setup.ack_window_hours);
    for (path, text) in &setup.mapping_files {
        std::fs::write(mappings.join(path), text).unwrap();
    }
    let toml = format!(
        r#"
        listen = "127.0.0.1:0"
        database_url = "{database_url}"
        mappings = "{mappings}"
        body_limit = {body_limit}
        overdue_check_secs = 1
        [outbox]
        poll_ms = 50
        base_delay_ms = 100
        max_delay_secs = 1
        lease_ms = 5000
        shutdown_grace_secs = 2
        [destinations.partner]
        url = "{partner_url}"
        timeout_ms = 2000
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        {partner_dest}
        [destinations.fulfillment]
        url = "{fulfillment_url}"
        timeout_ms = 2000
        {fulfillment_dest}
        [partners.acme-parts]
        destination = "partner"
        [partners.northwind]
        destination = "partner"
        [routing]
        documents = "fulfillment"
        {extra}
        "#,
        extra = setup.extra_toml,
        mappings = mappings.display(),
        body_limit = setup.body_limit,
        partner_url = partner.url,
        fulfillment_url = setup.fulfillment_url.clone().unwrap_or_else(|| fulfillment.url.clone()),
        partner_dest = setup.partner_dest,
        fulfillment_dest = setup.fulfillment_dest,
    );
    let config = Config::parse(&toml).expect("test config");
    config.check().expect("test config is consistent");
    let app = Application::build(config).await.expect("build app");
    let port = app.port();
    let store = app.gateway().store.clone();
    let key = |owner: &'static str, scopes: Vec<Scope>| {
        let store = store.clone();
        async move { store.create_key(owner, &scopes).await.unwrap().token }
    };
    let acme_key = key("acme-parts", vec![Scope::X12Write, Scope::DocumentsRead, Scope::DocumentsWrite]).await;
    let northwind_key = key("northwind", vec![Scope::X12Write, Scope::DocumentsRead]).await;
    let client_key = key("warehouse-1", vec![Scope::DocumentsWrite, Scope::DocumentsRead, Scope::Shipping]).await;
    let admin_key = key("ops", vec![Scope::Admin, Scope::DocumentsRead]).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        database_url,
        http: reqwest::Client::new(),
        store,
        acme_key,
        northwind_key,
        client_key,
        admin_key,
        partner,
        fulfillment,
        stop: Some(stop),
        task: Some(task),
        _dir: dir,
    }
}

impl TestApp {
    pub async fn post(&self, path: &str, key: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, key: &str, idem: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("idempotency-key", idem)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(key).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str, key: &str) -> serde_json::Value {
        let r = self.get(path, key).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Waits until an outbox message reaches `state`; returns the message with its attempts.
    pub async fn wait_message(&self, id: &str, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.get_json(&format!("/v1/admin/messages/{id}"), &self.admin_key).await;
            if m["message"]["state"] == state {
                return m;
            }
            assert!(Instant::now() < deadline, "message {id} never became {state}: {m:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the gateway gracefully.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// The basic 850 fixture with its ISA13/IEA02 replaced by `control` (nine digits).
pub fn po_850(control: u32) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/x12/valid/850_4010_basic.edi")).unwrap();
    text.replace("000000101", &format!("{control:09}"))
}

/// A fixture file's text.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
