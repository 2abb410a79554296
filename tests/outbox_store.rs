//! The outbox's storage contract on a real database: claims are exclusive,
//! leases expire and are recovered, a late worker cannot overwrite the state
//! written by the one that took over, ordered keys go one at a time, and
//! concurrent duplicate submissions are processed once.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::{Db, Setup};
use tradelane::store::{enqueue, Attempt, Finish, NewMessage, Store};

async fn store(db: Db) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite:{}", dir.path().join("o.db").display()),
        Db::Postgres => support::pg_schema().await,
    };
    (Store::connect(&url, 8).await.unwrap(), dir)
}

async fn put(store: &Store, n: usize, key: Option<&str>) -> Vec<String> {
    let mut tx = store.begin_write().await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let body = format!("message {i}");
        let m = NewMessage {
            owner: "acme-parts",
            destination: "d",
            kind: "document",
            document_id: None,
            interchange_id: None,
            ordering_key: key,
            content_type: "text/plain",
            body: body.as_bytes(),
            url: None,
            secret: None,
        };
        ids.push(enqueue(&mut tx, &m).await.unwrap());
    }
    tx.commit().await.unwrap();
    ids
}

fn attempt(outcome: &str) -> Attempt {
    Attempt {
        attempt: 1,
        outcome: outcome.into(),
        ..Attempt::default()
    }
}

async fn concurrent_claims_are_exclusive(db: Db) {
    let (store, _dir) = store(db).await;
    let ids = put(&store, 200, None).await;
    let mut workers = Vec::new();
    for _ in 0..6 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim("d", 3, 30_000, false).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for m in got {
                    assert!(store.finish(&m, &Finish::Delivered, &attempt("delivered")).await.unwrap());
                    mine.push(m.id);
                }
            }
        }));
    }
    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.unwrap());
    }
    assert_eq!(seen.len(), 200, "every message claimed exactly once");
    assert_eq!(seen.iter().collect::<HashSet<_>>(), ids.iter().collect::<HashSet<_>>());
}

async fn expired_lease_is_recovered_and_late_worker_loses(db: Db) {
    let (store, _dir) = store(db).await;
    put(&store, 1, None).await;
    let a = store.claim("d", 1, 100, false).await.unwrap().remove(0);
    assert!(
        store.claim("d", 1, 100, false).await.unwrap().is_empty(),
        "leased message is not claimable"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(store.expired_leases().await.unwrap(), 1);
    let b = store.claim("d", 1, 30_000, false).await.unwrap().remove(0);
    assert_eq!((b.id.as_str(), b.attempts), (a.id.as_str(), 2));
    assert!(store.finish(&b, &Finish::Delivered, &attempt("delivered")).await.unwrap());
    // Worker A wakes up late: its compare-and-set affects nothing.
    assert!(!store.finish(&a, &Finish::Dead, &attempt("dead")).await.unwrap());
    let (m, attempts) = store.message(&a.id).await.unwrap().unwrap();
    assert_eq!(m.state, "delivered");
    assert_eq!(attempts.len(), 2);
    assert!(attempts[1].outcome.contains("lease lost"), "{attempts:?}");
    assert_eq!(store.expired_leases().await.unwrap(), 0);
}

async fn ordered_keys_go_one_at_a_time(db: Db) {
    let (store, _dir) = store(db).await;
    let ids = put(&store, 3, Some("acme-parts")).await;
    put(&store, 1, Some("northwind")).await;
    let first = store.claim("d", 10, 30_000, true).await.unwrap();
    // One per key: the head of acme-parts and the head of northwind.
    assert_eq!(first.len(), 2);
    assert!(first.iter().any(|m| m.id == ids[0]));
    let acme = first.iter().find(|m| m.id == ids[0]).unwrap();
    // A retry keeps the key blocked until the head is done.
    assert!(store.finish(acme, &Finish::Retry { at: 0 }, &attempt("retry")).await.unwrap());
    let again = store.claim("d", 10, 30_000, true).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec![ids[0].as_str()]);
    assert!(store.finish(&again[0], &Finish::Delivered, &attempt("delivered")).await.unwrap());
    let next = store.claim("d", 10, 30_000, true).await.unwrap();
    assert_eq!(next.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec![ids[1].as_str()]);
}

async fn concurrent_duplicates_are_processed_once(db: Db) {
    let app = support::spawn(Setup::new(db)).await;
    let body = support::po_850(4242);
    let mut posts = Vec::new();
    for _ in 0..20 {
        let (http, base, key, body) = (app.http.clone(), app.base.clone(), app.acme_key.clone(), body.clone());
        posts.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1/x12"))
                .bearer_auth(key)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (status, v["interchanges"][0]["id"].as_str().unwrap_or_default().to_string())
        }));
    }
    let mut results = Vec::new();
    for p in posts {
        results.push(p.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.0 == 202).count(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|r| r.0 == 200).count(), 19, "{results:?}");
    assert_eq!(results.iter().map(|r| &r.1).collect::<HashSet<_>>().len(), 1);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM interchanges")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.stop().await;
}

on_both_databases!(
    concurrent_claims_are_exclusive,
    expired_lease_is_recovered_and_late_worker_loses,
    ordered_keys_go_one_at_a_time,
    concurrent_duplicates_are_processed_once,
);
