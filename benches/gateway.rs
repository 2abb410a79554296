//! Load benchmark of the running gateway, over loopback, with peers in the same run.
//!
//! * `sqlite_commit_floor`: single-row `INSERT` transactions on a WAL + `synchronous=FULL` file
//!   (the durable-commit ceiling of the machine, which every accepted interchange pays);
//! * `intake`: `POST /v1/x12` of one 850 interchange per request from `TRADELANE_BENCH_CONCURRENCY`
//!   (default 8) clients; each request commits the raw bytes, interchange, document, 997 and two
//!   outbox rows in one transaction;
//! * `delivery`: from the first request until the sink has every ack and document (two POSTs per
//!   interchange, each claimed, delivered and marked).
//!
//! `cargo bench --bench gateway` (SQLite); with `TEST_DATABASE_URL` set it runs on PostgreSQL too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use tradelane::app::Application;
use tradelane::config::Config;
use tradelane::store::Scope;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn po_850(control: u32) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/x12/valid/850_4010_basic.edi")).unwrap();
    text.replace("000000101", &format!("{control:09}"))
}

async fn sink() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = web::Data::from(count.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(c.clone())
            .default_service(web::to(|c: web::Data<AtomicUsize>| async move {
                c.fetch_add(1, Ordering::SeqCst);
                HttpResponse::Ok().finish()
            }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/hook"), count)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn commit_floor(dir: &std::path::Path, n: usize) -> f64 {
    use sqlx::{Connection, Executor};
    let url = format!("sqlite://{}?mode=rwc", dir.join("floor.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id TEXT PRIMARY KEY, body BLOB)")
        .await
        .unwrap();
    let body = vec![b'x'; 1500];
    let start = Instant::now();
    for i in 0..n {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES ($1, $2)")
            .bind(i.to_string())
            .bind(&body)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn run(label: &str, database_url: String, n: u32, concurrency: usize) {
    let (url, delivered) = sink().await;
    let mut config = Config::parse(&format!(
        "listen = \"127.0.0.1:0\"\ndatabase_url = \"{database_url}\"\n[outbox]\npoll_ms = 20\n\
         [destinations.partner]\nurl = \"{url}\"\nconcurrency = 8\n[destinations.fulfillment]\nurl = \"{url}\"\nconcurrency = 8\n\
         [partners.acme-parts]\ndestination = \"partner\"\n[routing]\ndocuments = \"fulfillment\"\n"
    ))
    .unwrap();
    config.mappings = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/mappings").into());
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let key = app
        .gateway()
        .store
        .create_key("acme-parts", &[Scope::X12Write])
        .await
        .unwrap()
        .token;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..concurrency {
        let (http, base, key, next) = (http.clone(), base.clone(), key.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as u32;
                if i >= n {
                    return latencies;
                }
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/v1/x12"))
                    .bearer_auth(&key)
                    .body(po_850(i + 1))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for c in clients {
        latencies.extend(c.await.unwrap());
    }
    let intake = start.elapsed();
    while delivered.load(Ordering::SeqCst) < 2 * n as usize {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let end_to_end = start.elapsed();
    latencies.sort();
    println!(
        "{label:<10} intake {:>7.0} interchanges/s  p50 {:>6.1} ms  p99 {:>6.1} ms | delivered {:>7.0} messages/s ({} in {:.2} s)",
        n as f64 / intake.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        2.0 * n as f64 / end_to_end.as_secs_f64(),
        2 * n,
        end_to_end.as_secs_f64(),
    );
    let _ = stop.send(());
    let _ = server.await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only as a bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: u32 = std::env::var("TRADELANE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let concurrency: usize = std::env::var("TRADELANE_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let floor = commit_floor(dir.path(), n as usize).await;
        println!("{:<10} {floor:>7.0} single-row durable commits/s (WAL, synchronous=FULL)", "floor");
        run(
            "sqlite",
            format!("sqlite:{}", dir.path().join("bench.db").display()),
            n,
            concurrency,
        )
        .await;
        if let Ok(pg) = std::env::var("TEST_DATABASE_URL") {
            use sqlx::Connection;
            let schema = format!("bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&pg).await.unwrap();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
            let sep = if pg.contains('?') { '&' } else { '?' };
            run("postgres", format!("{pg}{sep}options=-c%20search_path%3D{schema}"), n, concurrency).await;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
}
