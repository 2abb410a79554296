//! Local mock carriers: one HTTP server per carrier that accepts the real
//! request formats, rejects missing required fields with the carrier's own
//! error shape, answers from `fixtures/carriers/<carrier>/`, and can inject
//! latency, 401, 429 and 5xx. Used by `tradelane mock-carriers`, the tests
//! and the benchmarks.

pub mod canadapost;
pub mod dhl;
pub mod fedex;
pub mod landed_cost;
pub mod oem;
mod timer;
pub mod ups;
pub mod usps;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::Service;
use actix_web::{web, App, HttpResponse, HttpServer};

/// How many requests a mock keeps for inspection: a long-running `mock-carriers` (or a
/// benchmark's hundreds of thousands of calls) must not grow without bound.
pub const RECORDED: usize = 1000;

/// A request a mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header value, empty when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Shared state of one mock carrier.
pub struct MockState {
    /// Carrier id.
    pub carrier: &'static str,
    /// `fixtures/carriers` (the carrier's files are in its sub-folder).
    pub fixtures: PathBuf,
    /// Delay before every answer.
    pub latency: Mutex<Duration>,
    /// Statuses to answer with, in order, before normal service (401, 429, 500, 503 …).
    pub faults: Mutex<VecDeque<u16>>,
    /// The last [`RECORDED`] requests received, oldest first.
    requests: Mutex<VecDeque<Recorded>>,
    /// Tokens issued (OAuth carriers), so a test can revoke them.
    pub tokens: Mutex<Vec<String>>,
    /// The carrier's error body for an injected status: (content type, body).
    pub fault_body: fn(u16) -> (&'static str, String),
    /// Fixture files already read.
    cache: Mutex<BTreeMap<String, String>>,
}

impl MockState {
    /// The state of a fresh mock of `mock`: no latency, no faults, nothing recorded.
    fn new(mock: &MockCarrier, fixtures: PathBuf) -> Self {
        Self {
            carrier: mock.carrier,
            fixtures,
            latency: Mutex::new(Duration::ZERO),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(VecDeque::new()),
            tokens: Mutex::new(Vec::new()),
            fault_body: mock.fault_body,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// The text of `fixtures/carriers/<carrier>/<name>`; JSON without the indentation
    /// (the files are indented for reading, carriers answer minified JSON).
    pub fn fixture(&self, name: &str) -> String {
        if let Some(text) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return text;
        }
        let text = std::fs::read_to_string(self.fixtures.join(self.carrier).join(name))
            .unwrap_or_else(|e| panic!("fixture {}/{name}: {e}", self.carrier));
        let text = if name.ends_with(".json") { minify(&text) } else { text };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), text.clone());
        }
        text
    }

    /// Issues a new bearer token and remembers it.
    pub fn issue_token(&self) -> String {
        let t = format!("mock-{}-{}", self.carrier, crate::store::new_id(""));
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.push(t.clone());
        }
        t
    }

    /// True when the request carries a bearer token this mock issued.
    pub fn bearer_ok(&self, req: &actix_web::HttpRequest) -> bool {
        let Some(t) = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        self.tokens.lock().map(|tokens| tokens.iter().any(|k| k == t)).unwrap_or(false)
    }

    /// Forgets every token (the next business call gets 401).
    pub fn revoke_tokens(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            t.clear();
        }
    }

    /// Queues injected statuses.
    pub fn fail_next(&self, statuses: &[u16]) {
        if let Ok(mut f) = self.faults.lock() {
            f.extend(statuses);
        }
    }

    /// Sets the latency.
    pub fn set_latency(&self, d: Duration) {
        if let Ok(mut l) = self.latency.lock() {
            *l = d;
        }
    }

    /// The last [`RECORDED`] requests received, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    /// The carrier's error response for an injected or detected problem.
    pub fn error(&self, status: u16) -> HttpResponse {
        let (ct, body) = (self.fault_body)(status);
        let mut r = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default());
        if status == 429 {
            r.insert_header(("retry-after", "1"));
        }
        r.content_type(ct).body(body)
    }
}

/// JSON without the whitespace between tokens.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// What a carrier mock module provides.
pub struct MockCarrier {
    /// Carrier id.
    pub carrier: &'static str,
    /// Registers its routes (handlers take `web::Data<MockState>`).
    pub routes: fn(&mut web::ServiceConfig),
    /// Error body for an injected status.
    pub fault_body: fn(u16) -> (&'static str, String),
}

/// The account settings that the mock of `carrier` accepts, as TOML lines.
pub fn credentials(carrier: &str) -> &'static str {
    match carrier {
        "dhl" | "canadapost" => "key = \"mock-user\"\nsecret = \"mock-pass\"\naccount_number = \"123456789\"",
        "usps" => {
            "key = \"mock-client-id\"\nsecret = \"mock-client-secret\"\naccount_number = \"1000405525\"\n\
             extra = { crid = \"56982563\", mid = \"902345678\" }"
        }
        _ => "key = \"mock-client-id\"\nsecret = \"mock-client-secret\"\naccount_number = \"A1B2C3\"",
    }
}

/// Every carrier mock.
pub fn all() -> [MockCarrier; 5] {
    [ups::mock(), fedex::mock(), usps::mock(), dhl::mock(), canadapost::mock()]
}

/// A running mock carrier.
pub struct RunningMock {
    /// Carrier id.
    pub carrier: &'static str,
    /// Base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// Its state (faults, latency, recorded requests).
    pub state: Arc<MockState>,
    /// The server handle.
    pub handle: actix_web::dev::ServerHandle,
}

#[derive(serde::Deserialize)]
struct FaultRequest {
    #[serde(default)]
    latency_ms: Option<u64>,
    #[serde(default)]
    fail_next: Vec<u16>,
    #[serde(default)]
    revoke_tokens: bool,
}

async fn control(state: web::Data<MockState>, body: web::Json<FaultRequest>) -> HttpResponse {
    if let Some(ms) = body.latency_ms {
        state.set_latency(Duration::from_millis(ms));
    }
    state.fail_next(&body.fail_next);
    if body.revoke_tokens {
        state.revoke_tokens();
    }
    HttpResponse::NoContent().finish()
}

/// Starts one carrier's mock on `addr` (`127.0.0.1:0` for any port).
pub fn start(mock: MockCarrier, fixtures: PathBuf, addr: &str, workers: usize) -> std::io::Result<RunningMock> {
    let state = Arc::new(MockState::new(&mock, fixtures));
    let data = web::Data::from(state.clone());
    let routes = mock.routes;
    let listener = std::net::TcpListener::bind(addr)?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 << 20))
            .route("/__mock/control", web::post().to(control))
            .wrap_fn(|req, srv| {
                let arrived = Instant::now();
                let state = req.app_data::<web::Data<MockState>>().cloned();
                let control = req.path().starts_with("/__mock/");
                let fut = srv.call(req);
                async move {
                    let res = fut.await?;
                    if let (Some(state), false) = (state, control) {
                        let latency = state.latency.lock().map(|l| *l).unwrap_or_default();
                        if !latency.is_zero() {
                            timer::until(arrived + latency).await;
                        }
                        let fault = state.faults.lock().ok().and_then(|mut f| f.pop_front());
                        if let Some(status) = fault {
                            let (req, _) = res.into_parts();
                            return Ok(actix_web::dev::ServiceResponse::new(req, state.error(status)));
                        }
                    }
                    Ok(res)
                }
            })
            .configure(routes)
    })
    .workers(workers)
    .disable_signals()
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(RunningMock {
        carrier: mock.carrier,
        base_url: format!("http://127.0.0.1:{port}"),
        state,
        handle,
    })
}

/// Records a request (call first thing in every mock handler), dropping the oldest once
/// [`RECORDED`] are kept.
pub fn record(state: &MockState, req: &actix_web::HttpRequest, body: &[u8]) {
    let rec = Recorded {
        method: req.method().to_string(),
        path: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body.to_vec(),
    };
    if let Ok(mut r) = state.requests.lock() {
        if r.len() == RECORDED {
            r.pop_front();
        }
        r.push_back(rec);
    }
}

/// Starts every carrier mock on consecutive ports from `first_port` (0: any free ports).
pub fn start_all(fixtures: PathBuf, first_port: u16, workers: usize) -> std::io::Result<Vec<RunningMock>> {
    start_each(all(), fixtures, first_port, workers)
}

/// Starts `mocks` on consecutive ports from `first_port` (0: any free ports).
pub fn start_each(
    mocks: impl IntoIterator<Item = MockCarrier>,
    fixtures: PathBuf,
    first_port: u16,
    workers: usize,
) -> std::io::Result<Vec<RunningMock>> {
    mocks
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let addr = if first_port == 0 {
                "127.0.0.1:0".to_string()
            } else {
                format!("127.0.0.1:{}", first_port + i as u16)
            };
            start(m, fixtures.clone(), &addr, workers)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_requests_only() {
        let state = MockState::new(&ups::mock(), PathBuf::new());
        for i in 0..RECORDED + 5 {
            let req = actix_web::test::TestRequest::post()
                .uri(&format!("/rate/{i}"))
                .insert_header(("x-call", i.to_string()))
                .to_http_request();
            record(&state, &req, format!("body {i}").as_bytes());
        }
        let kept = state.requests();
        assert_eq!(kept.len(), RECORDED);
        assert_eq!(kept[0].path, "/rate/5");
        assert_eq!(kept[0].header("x-call"), "5");
        assert_eq!(kept[RECORDED - 1].path, format!("/rate/{}", RECORDED + 4));
        assert_eq!(kept[RECORDED - 1].body, format!("body {}", RECORDED + 4).into_bytes());
    }

    #[test]
    fn minified_fixtures_read_the_same() {
        let fixtures = crate::connectors::carriers::json::carrier_fixtures();
        assert!(fixtures.len() > 20);
        for (path, body) in fixtures {
            let text = String::from_utf8(body).unwrap();
            let small = minify(&text);
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&small).unwrap(),
                parsed,
                "{}",
                path.display()
            );
            assert!(!small.contains("\n  "), "{}", path.display());
        }
        assert_eq!(minify("{ \"a b\" : [ 1, \"x \\\" y\" ] }"), r#"{"a b":[1,"x \" y"]}"#);
    }
}
