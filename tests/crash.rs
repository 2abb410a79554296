//! Crash test: `tradelane serve` as a child process, SIGKILLed twice (during
//! intake and during delivery), restarted each time. Every interchange that
//! was answered 2xx must have its ack and its document delivered at least
//! once; duplicates may only come from deliveries in flight at a kill and
//! carry the same Idempotency-Key; no lease is left behind.

mod support;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{po_850, Db, Mock};

struct Gateway {
    config: std::path::PathBuf,
    base: String,
    child: Option<Child>,
}

impl Gateway {
    /// Starts `tradelane serve --config CONFIG` on `port` and waits until it is ready.
    async fn launch(config: std::path::PathBuf, port: u16, http: &reqwest::Client) -> Gateway {
        let mut gw = Gateway {
            config,
            base: format!("http://127.0.0.1:{port}"),
            child: None,
        };
        gw.start();
        gw.wait_ready(http).await;
        gw
    }

    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_tradelane"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("TRADELANE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tradelane serve");
        self.child = Some(child);
    }

    async fn wait_ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("gateway did not become ready");
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().unwrap();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Writes a `tradelane.toml` for a child gateway: acks to `partner`, documents to `fulfillment`.
fn config_file(
    dir: &std::path::Path,
    port: u16,
    database_url: &str,
    partner: &Mock,
    fulfillment: &Mock,
    outbox: &str,
    timeout_ms: u64,
) -> std::path::PathBuf {
    let path = dir.join("tradelane.toml");
    let text = format!(
        "listen = \"127.0.0.1:{port}\"\ndatabase_url = \"{database_url}\"\nmappings = \"{mappings}\"\n[outbox]\n{outbox}\n\
         [destinations.partner]\nurl = \"{p}\"\ntimeout_ms = 2000\n\
         [destinations.fulfillment]\nurl = \"{f}\"\ntimeout_ms = {timeout_ms}\n\
         [partners.acme-parts]\ndestination = \"partner\"\n[routing]\ndocuments = \"fulfillment\"\n",
        mappings = concat!(env!("CARGO_MANIFEST_DIR"), "/mappings"),
        p = partner.url,
        f = fulfillment.url,
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn key(config: &std::path::Path, owner: &str, scope: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tradelane"))
        .args(["keys", "create", "--owner", owner, "--scope", scope, "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Posts interchange `n` until it is answered; returns the message ids it promised, or None if the gateway was down.
async fn post(http: &reqwest::Client, base: &str, key: &str, n: u32) -> Option<Vec<String>> {
    let r = http
        .post(format!("{base}/v1/x12"))
        .bearer_auth(key)
        .body(po_850(n))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    let i = &v["interchanges"][0];
    let mut ids = vec![i["ack_message_id"].as_str()?.to_string()];
    ids.push(i["documents"][0]["message_id"].as_str()?.to_string());
    Some(ids)
}

async fn crash_and_recover(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let partner = Mock::start().await;
    let fulfillment = Mock::start().await;
    // Slow destinations keep deliveries in flight when the process dies.
    partner.set_delay(Duration::from_millis(40));
    fulfillment.set_delay(Duration::from_millis(120));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let database_url = match db {
        Db::Sqlite => format!("sqlite:{}", dir.path().join("crash.db").display()),
        Db::Postgres => support::pg_schema().await,
    };
    let outbox = "lease_ms = 3000\npoll_ms = 50\nbase_delay_ms = 100\nmax_delay_secs = 1";
    let config = config_file(dir.path(), port, &database_url, &partner, &fulfillment, outbox, 2000);
    let acme = key(&config, "acme-parts", "x12:write");
    let admin = key(&config, "ops", "admin");
    let http = reqwest::Client::new();
    let mut gw = Gateway::launch(config, port, &http).await;

    const TOTAL: u32 = 80;
    let mut promised: HashMap<u32, Vec<String>> = HashMap::new();
    let mut kills = 0;
    let mut next = 1;
    while promised.len() < TOTAL as usize {
        // Four concurrent senders; unanswered interchanges are sent again, as a partner would.
        let batch: Vec<u32> = (1..=TOTAL).filter(|n| !promised.contains_key(n)).take(4).collect();
        let tasks: Vec<_> = batch
            .iter()
            .map(|&n| {
                let (http, base, acme) = (http.clone(), gw.base.clone(), acme.clone());
                tokio::spawn(async move { (n, post(&http, &base, &acme, 10_000 + n).await) })
            })
            .collect();
        if next == 8 && kills == 0 {
            // Kill while requests are being committed.
            tokio::time::sleep(Duration::from_millis(5)).await;
            gw.kill();
            kills += 1;
        }
        for t in tasks {
            let (n, ids) = t.await.unwrap();
            if let Some(ids) = ids {
                promised.insert(n, ids);
            }
        }
        if gw.child.is_none() {
            gw.start();
            gw.wait_ready(&http).await;
        }
        next += 1;
    }
    // Kill again while the slow destinations still have a backlog.
    tokio::time::sleep(Duration::from_millis(300)).await;
    gw.kill();
    kills += 1;
    gw.start();
    gw.wait_ready(&http).await;

    let expected: HashSet<String> = promised.values().flatten().cloned().collect();
    assert_eq!(expected.len(), 2 * TOTAL as usize);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for r in partner.requests().iter().chain(fulfillment.requests().iter()) {
            *counts.entry(r.header("idempotency-key").to_string()).or_default() += 1;
        }
        if expected.iter().all(|id| counts.contains_key(id)) {
            break;
        }
        let missing = expected.iter().filter(|id| !counts.contains_key(*id)).count();
        assert!(Instant::now() < deadline, "{missing} accepted messages never delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing stuck: the queues drain and no lease is left.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats: serde_json::Value = http
            .get(format!("{}/v1/admin/destinations", gw.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let busy: i64 = stats["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["pending"].as_i64().unwrap() + d["inflight"].as_i64().unwrap())
            .sum();
        let dead: i64 = stats["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["dead"].as_i64().unwrap())
            .sum();
        assert_eq!(dead, 0, "{stats}");
        if busy == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "queues never drained: {stats}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Counted once the queues are empty, so redeliveries after a kill are included.
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for r in partner.requests().iter().chain(fulfillment.requests().iter()) {
        *delivered.entry(r.header("idempotency-key").to_string()).or_default() += 1;
    }
    // No phantoms: everything delivered was promised in a receipt.
    let phantoms: Vec<_> = delivered.keys().filter(|k| !expected.contains(*k)).collect();
    assert!(phantoms.is_empty(), "{phantoms:?}");
    // Duplicates only for what was in flight at a kill: at most the destinations' concurrency per kill.
    let extra: usize = delivered.values().map(|c| c - 1).sum();
    assert!(extra <= kills * 2 * 4, "{extra} duplicate deliveries after {kills} kills");
    eprintln!(
        "crash test: {kills} kills, {} messages, {extra} duplicate deliveries",
        expected.len()
    );

    gw.kill();
    if db == Db::Sqlite {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", dir.path().join("crash.db").display()))
            .await
            .unwrap();
        let (ok,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
        assert_eq!(ok, "ok");
    }
}

on_both_databases!(crash_and_recover);

/// SIGTERM: stop claiming, let in-flight deliveries finish within the grace
/// period, then give back the leases of those still running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_releases_leases() {
    let dir = tempfile::tempdir().unwrap();
    let partner = Mock::start().await;
    let fulfillment = Mock::start().await;
    fulfillment.set_delay(Duration::from_secs(5));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let db = dir.path().join("term.db");
    let url = format!("sqlite:{}", db.display());
    let config = config_file(
        dir.path(),
        port,
        &url,
        &partner,
        &fulfillment,
        "shutdown_grace_secs = 1\npoll_ms = 50",
        20_000,
    );
    let acme = key(&config, "acme-parts", "x12:write");
    let http = reqwest::Client::new();
    let mut gw = Gateway::launch(config, port, &http).await;
    let ids = post(&http, &gw.base, &acme, 77).await.expect("accepted");
    partner.wait_for(1, Duration::from_secs(15)).await;
    fulfillment.wait_for(1, Duration::from_secs(15)).await;
    let mut child = gw.child.take().unwrap();
    let started = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown waited for the slow delivery");

    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display())).await.unwrap();
    let rows: Vec<(String, String, Option<String>, i64)> =
        sqlx::query_as("SELECT id, state, lease_token, attempts FROM outbox ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let ack = rows.iter().find(|r| r.0 == ids[0]).unwrap();
    assert_eq!(ack.1, "delivered");
    let doc = rows.iter().find(|r| r.0 == ids[1]).unwrap();
    assert_eq!(
        (doc.1.as_str(), doc.2.as_deref(), doc.3),
        ("pending", None, 0),
        "lease released, attempt not counted"
    );
}
