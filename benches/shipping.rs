//! Rate shopping under load: `POST /v1/rates` through the running gateway,
//! fanned out to the five mock carriers, each answering after 50 ms. The
//! shipment is US domestic: UPS, FedEx, USPS and DHL are called over HTTP,
//! Canada Post (which ships from Canada only) refuses it before any call.
//! Reports p50/p99 end to end and the overhead over the carriers' 50 ms,
//! at 1, 50 and 200 concurrent clients.
//!
//! `cargo bench --bench shipping` (`TRADELANE_BENCH_REQUESTS` per level, default 1,000 and
//! at least 100 per client;
//! `TRADELANE_BENCH_LEVELS=50` runs only the levels listed).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradelane::app::Application;
use tradelane::config::Config;
use tradelane::connectors::carriers::{CarrierConfig, Carriers, Shipment};
use tradelane::connectors::mock;
use tradelane::store::Scope;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LATENCY: Duration = Duration::from_millis(50);

fn shipment() -> String {
    serde_json::json!({
        "from": {"street": ["4800 Distribution Way"], "city": "Columbus", "state": "OH", "postal_code": "43228", "country": "US"},
        "to": {"street": ["2215 W Broad St"], "city": "Columbus", "state": "OH", "postal_code": "43204", "country": "US"},
        "packages": [{"weight": "4.5", "weight_unit": "lb", "dimensions": {"length": 12, "width": 10, "height": 6, "unit": "in"}}],
        "ship_date": "2026-11-26"
    })
    .to_string()
}

/// The part of a `POST /v1/rates` answer the load generator checks.
#[derive(serde::Deserialize)]
struct RatesAnswer {
    rates: Vec<serde::de::IgnoredAny>,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Runs `total` calls of `call` from `concurrency` tasks, twice (the first round opens
/// connections), and returns p50 and p99 of the second. With `ramp`, task `i` starts
/// `i / concurrency` of one carrier latency late, so the clients reach the steady state
/// spread over the cycle instead of all sending in the same millisecond.
async fn measure<F, Fut>(concurrency: usize, total: usize, ramp: bool, call: F) -> (Duration, Duration)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut result = (Duration::ZERO, Duration::ZERO);
    for _ in 0..2 {
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..concurrency)
            .map(|i| {
                let (call, next) = (call.clone(), next.clone());
                let delay = if ramp {
                    LATENCY * i as u32 / concurrency as u32
                } else {
                    Duration::ZERO
                };
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let mut lat = Vec::new();
                    while next.fetch_add(1, Ordering::SeqCst) < total {
                        let t = Instant::now();
                        call().await;
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        lat.sort();
        result = (pct(&lat, 0.5), pct(&lat, 0.99));
    }
    result
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Default: 1,000 requests per level, and at least 100 per client, so the p99 is not
    // the first round of every client.
    let per_level: Option<usize> = std::env::var("TRADELANE_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let fixtures = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers"));
        // With TRADELANE_BENCH_MOCK_PORT the carriers are an external `tradelane mock-carriers
        // --port PORT --latency-ms 50` (e.g. pinned to another CPU with taskset); otherwise in process.
        let external: Option<u16> = std::env::var("TRADELANE_BENCH_MOCK_PORT").ok().and_then(|v| v.parse().ok());
        let in_process = match external {
            Some(_) => Vec::new(),
            None => mock::start_all(fixtures, 0, 1).unwrap(),
        };
        for m in &in_process {
            m.state.set_latency(LATENCY);
        }
        let mocks: Vec<(&str, String)> = match external {
            Some(port) => tradelane::connectors::carriers::CARRIERS
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, format!("http://127.0.0.1:{}", port + i as u16)))
                .collect(),
            None => in_process.iter().map(|m| (m.carrier, m.base_url.clone())).collect(),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut toml = format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite:{}\"\n[outbox]\nenabled = false\n[shipping]\nrate_timeout_ms = 2000\n",
            dir.path().join("bench.db").display()
        );
        for (carrier, base_url) in &mocks {
            toml.push_str(&format!(
                "[carriers.{carrier}]\nbase_url = \"{base_url}\"\n{}\n",
                mock::credentials(carrier)
            ));
        }
        let mut config = Config::parse(&toml).unwrap();
        // TRADELANE_HTTP_WORKERS and the other settings' variables apply as in the binary.
        config.apply_env(|k| std::env::var(k).ok()).unwrap();
        config.mappings = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings").into());
        let app = Application::build(config).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let key = app.gateway().store.create_key("bench", &[Scope::Shipping]).await.unwrap().token;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let body = shipment();
        // Warm up: tokens, connections.
        for _ in 0..20 {
            let r = http
                .post(format!("{base}/v1/rates"))
                .bearer_auth(&key)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let v: serde_json::Value = r.json().await.unwrap();
            // Canada Post only ships from Canada: it refuses this US shipment without a call.
            let errors: Vec<&str> = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["carrier"].as_str().unwrap())
                .collect();
            assert_eq!(errors, vec!["canadapost"], "{v}");
        }
        // The peer: the same fan-out to the same mocks through the same adapters, called
        // in process without the gateway (no HTTP in front, no auth, no JSON in or out).
        let direct = {
            let mut map = std::collections::BTreeMap::new();
            for (carrier, base_url) in &mocks {
                let t = format!("base_url = \"{base_url}\"\n{}", mock::credentials(carrier));
                map.insert(carrier.to_string(), toml::from_str::<CarrierConfig>(&t).unwrap());
            }
            Arc::new(Carriers::new(&map).unwrap())
        };
        let parsed: Shipment = serde_json::from_str(&body).unwrap();
        println!(
            "{:>11} {:>9} {:>10} {:>10} {:>10} {:>10} {:>13} {:>13}",
            "concurrency", "requests", "p50", "p99", "direct p50", "direct p99", "over 50ms p99", "over direct p99"
        );
        // TRADELANE_BENCH_RAMP=0: every client sends its first request at the same instant.
        let ramp = std::env::var("TRADELANE_BENCH_RAMP").map_or(true, |v| v != "0");
        let levels: Vec<usize> = std::env::var("TRADELANE_BENCH_LEVELS")
            .ok()
            .map(|v| v.split(',').filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 50, 200]);
        for concurrency in levels {
            let total = per_level.unwrap_or(1000.max(100 * concurrency)).max(concurrency);
            let (http, base, key, body) = (http.clone(), base.clone(), key.clone(), body.clone());
            let gateway = measure(concurrency, total, ramp, move || {
                let (http, base, key, body) = (http.clone(), base.clone(), key.clone(), body.clone());
                async move {
                    let r = http
                        .post(format!("{base}/v1/rates"))
                        .bearer_auth(&key)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    // Only what the check needs: a DOM of every rate would be the load
                    // generator's own cost, counted in the gateway's latency.
                    let answer: RatesAnswer = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                    assert!(!answer.rates.is_empty());
                }
            })
            .await;
            let (direct, parsed) = (direct.clone(), parsed.clone());
            let peer = measure(concurrency, total, ramp, move || {
                let (direct, parsed) = (direct.clone(), parsed.clone());
                async move {
                    let calls = tradelane::connectors::carriers::CARRIERS.iter().map(|c| {
                        let (direct, parsed) = (direct.clone(), parsed.clone());
                        async move { direct.get(c, None).unwrap().rate(&parsed).await }
                    });
                    let n = futures_util::future::join_all(calls).await.iter().filter(|r| r.is_ok()).count();
                    assert_eq!(n, 4);
                }
            })
            .await;
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "{concurrency:>11} {total:>9} {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>8.1}ms {:>11.1}ms {:>11.1}ms",
                ms(gateway.0),
                ms(gateway.1),
                ms(peer.0),
                ms(peer.1),
                ms(gateway.1.saturating_sub(LATENCY)),
                ms(gateway.1.saturating_sub(peer.1)),
            );
        }
        let _ = stop.send(());
        let _ = server.await;
    });
}
