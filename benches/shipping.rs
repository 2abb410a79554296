//! Rate shopping under load: `POST /v1/rates` through the running gateway,
//! fanned out to the five mock carriers, each answering after 50 ms.
//! Reports p50/p99 end to end and the overhead over the carriers' 50 ms,
//! at 1, 50 and 200 concurrent clients.
//!
//! `cargo bench --bench shipping` (`TRADELANE_BENCH_REQUESTS` per level, default 1,000).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradelane::app::Application;
use tradelane::config::Config;
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

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let per_level: usize = std::env::var("TRADELANE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let fixtures = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/carriers"));
        let mocks = mock::start_all(fixtures, 0, 2).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut toml = format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite:{}\"\n[outbox]\nenabled = false\n[shipping]\nrate_timeout_ms = 2000\n",
            dir.path().join("bench.db").display()
        );
        for m in &mocks {
            m.state.set_latency(LATENCY);
            toml.push_str(&format!(
                "[carriers.{}]\nbase_url = \"{}\"\n{}\n",
                m.carrier,
                m.base_url,
                mock::credentials(m.carrier)
            ));
        }
        let mut config = Config::parse(&toml).unwrap();
        config.mappings = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings").into());
        let app = Application::build(config).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let key = app.gateway().store.create_key("bench", &[Scope::Shipping]).await.unwrap().token;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
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
            assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
        }
        println!(
            "{:>11} {:>9} {:>9} {:>9} {:>14} {:>14}",
            "concurrency", "requests", "p50", "p99", "overhead p50", "overhead p99"
        );
        for concurrency in [1usize, 50, 200] {
            let next = Arc::new(AtomicUsize::new(0));
            let total = per_level.max(concurrency);
            let tasks: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (http, base, key, body, next) = (http.clone(), base.clone(), key.clone(), body.clone(), next.clone());
                    tokio::spawn(async move {
                        let mut lat = Vec::new();
                        while next.fetch_add(1, Ordering::SeqCst) < total {
                            let t = Instant::now();
                            let r = http
                                .post(format!("{base}/v1/rates"))
                                .bearer_auth(&key)
                                .body(body.clone())
                                .send()
                                .await
                                .unwrap();
                            let v: serde_json::Value = r.json().await.unwrap();
                            lat.push(t.elapsed());
                            assert_eq!(v["rates"].as_array().map(|r| r.is_empty()), Some(false));
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
            let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            println!(
                "{concurrency:>11} {:>9} {:>7.1}ms {:>7.1}ms {:>12.1}ms {:>12.1}ms",
                lat.len(),
                ms(p50),
                ms(p99),
                ms(p50.saturating_sub(LATENCY)),
                ms(p99.saturating_sub(LATENCY))
            );
        }
        let _ = stop.send(());
        let _ = server.await;
    });
}
