//! The outbox: delivers what the store queued, at least once.
//!
//! One dispatcher per destination claims due messages (with a lease), waits
//! for that destination's rate limiter, and hands each message to a delivery
//! task under the destination's concurrency cap. A throttled or failing
//! destination therefore never holds up another. Every outcome is written
//! back with a compare-and-set on the lease; a process that dies leaves
//! leases that expire and are claimed again.

mod auth;
pub mod backoff;
mod deliver;

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::config::{Config, DestinationConfig};
use crate::metrics::{label, Metrics};
use crate::store::{now_ms, Attempt, Claimed, Finish, Store};

pub use auth::Authorizer;
pub use backoff::Schedule;
pub use deliver::{secret_bytes, sign, Response};

/// The built-in destination of tracking webhooks (each message has its own URL and secret).
pub const WEBHOOKS: &str = "webhooks";

/// Most messages one claim statement takes.
const CLAIM_BATCH: usize = 16;

/// One destination's runtime state.
struct Lane {
    name: String,
    config: DestinationConfig,
    limiter: Option<DefaultDirectRateLimiter>,
    slots: Arc<Semaphore>,
    /// Set from a 429/503 Retry-After: nothing goes out before it.
    paused_until: Mutex<Option<Instant>>,
    wake: Notify,
    /// Credentials sent with every request, when the destination wants them.
    auth: Option<Authorizer>,
}

/// Told about every delivered or dead message, after its outcome is recorded
/// (for example to read an order id from the response). A crash between the
/// record and the call loses the call; a replay calls again.
pub trait DeliveryObserver: Send + Sync {
    /// `message` was delivered (`delivered`) or is dead; `response` is the
    /// destination's last answer (truncated) or the network error.
    fn finished<'a>(&'a self, message: &'a Claimed, delivered: bool, response: &'a str) -> futures_util::future::BoxFuture<'a, ()>;
}

/// The delivery engine.
pub struct Outbox {
    store: Store,
    lanes: BTreeMap<String, Arc<Lane>>,
    client: reqwest::Client,
    schedule: Schedule,
    max_attempts: i64,
    max_age_ms: i64,
    lease_ms: i64,
    poll: Duration,
    grace: Duration,
    metrics: Arc<Metrics>,
    /// Leases held by this process, released on shutdown.
    held: Mutex<HashSet<(String, String)>>,
    observer: std::sync::OnceLock<Arc<dyn DeliveryObserver>>,
}

impl Outbox {
    /// Builds lanes for every configured destination.
    pub fn new(store: Store, config: &Config, metrics: Arc<Metrics>) -> Result<Arc<Self>, reqwest::Error> {
        // Webhook subscriptions carry their own URL and secret; they share this lane.
        let mut destinations = config.destinations.clone();
        destinations.entry(WEBHOOKS.to_string()).or_insert_with(|| DestinationConfig {
            url: String::new(),
            rate_per_second: None,
            burst: None,
            concurrency: 8,
            ordered: true,
            timeout_ms: 10_000,
            secret: None,
            headers: Default::default(),
            max_attempts: None,
            auth: None,
        });
        let lanes = destinations
            .iter()
            .map(|(name, d)| {
                let limiter = d.rate_per_second.and_then(NonZeroU32::new).map(|rate| {
                    let burst = d.burst.and_then(NonZeroU32::new).unwrap_or(NonZeroU32::MIN);
                    RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
                });
                let lane = Lane {
                    name: name.clone(),
                    config: d.clone(),
                    limiter,
                    slots: Arc::new(Semaphore::new(d.concurrency)),
                    paused_until: Mutex::new(None),
                    wake: Notify::new(),
                    auth: d.auth.as_ref().map(Authorizer::new),
                };
                (name.clone(), Arc::new(lane))
            })
            .collect();
        let o = &config.outbox;
        Ok(Arc::new(Self {
            store,
            lanes,
            client: deliver::client()?,
            schedule: Schedule {
                base: Duration::from_millis(o.base_delay_ms),
                cap: Duration::from_secs(o.max_delay_secs),
                max_retry_after: Duration::from_secs(o.max_retry_after_secs),
            },
            max_attempts: o.max_attempts,
            max_age_ms: o.max_age_secs * 1000,
            lease_ms: o.lease_ms,
            poll: Duration::from_millis(o.poll_ms),
            grace: Duration::from_secs(o.shutdown_grace_secs),
            metrics,
            held: Mutex::new(HashSet::new()),
            observer: std::sync::OnceLock::new(),
        }))
    }

    /// Sets the observer of deliveries (once; later calls are ignored).
    pub fn observe(&self, observer: Arc<dyn DeliveryObserver>) {
        let _ = self.observer.set(observer);
    }

    /// POSTs with the lane's credentials; an OAuth 401 fetches a new token and tries once more.
    async fn post(&self, lane: &Lane, message: &Claimed) -> Response {
        let Some(auth) = &lane.auth else {
            return deliver::post(&self.client, &lane.config, message, None).await;
        };
        for fresh in [false, true] {
            let header = match auth.header(&self.client).await {
                Ok(h) => h,
                Err(e) => return Response::Failed(e),
            };
            let r = deliver::post(&self.client, &lane.config, message, Some(&header)).await;
            match r {
                Response::Http { status: 401, .. } if !fresh && auth.refreshes() => auth.invalidate().await,
                r => return r,
            }
        }
        Response::Failed("auth: unreachable".into())
    }

    /// Configured destination names.
    pub fn destinations(&self) -> impl Iterator<Item = &str> {
        self.lanes.keys().map(String::as_str)
    }

    /// Wakes a destination's dispatcher (new messages were committed).
    pub fn notify(&self, destination: &str) {
        if let Some(l) = self.lanes.get(destination) {
            l.wake.notify_one();
        }
    }

    /// Runs until `stop` turns true: stops claiming, lets in-flight deliveries
    /// finish within the grace period, then releases the leases still held.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut dispatchers = JoinSet::new();
        for lane in self.lanes.values() {
            dispatchers.spawn(self.clone().dispatch(lane.clone(), stop.clone()));
        }
        let _ = stop.wait_for(|s| *s).await;
        while dispatchers.join_next().await.is_some() {}
        let held: Vec<(String, String)> = self.held.lock().map(|h| h.iter().cloned().collect()).unwrap_or_default();
        for (id, token) in held {
            if let Err(e) = self.store.release(&id, &token).await {
                tracing::warn!(message = %id, error = %e, "could not release lease");
            }
        }
    }

    async fn dispatch(self: Arc<Self>, lane: Arc<Lane>, mut stop: watch::Receiver<bool>) {
        let mut deliveries = JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            while deliveries.try_join_next().is_some() {}
            let pause = lane.paused_until.lock().ok().and_then(|p| *p).filter(|t| *t > Instant::now());
            if let Some(until) = pause {
                tokio::select! {
                    _ = tokio::time::sleep_until(until.into()) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let first = tokio::select! {
                p = lane.slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                _ = stop.changed() => continue,
            };
            // Claim as many as there are free slots in one statement (one commit). A rate-limited
            // destination claims one at a time, so no lease waits on the limiter for long.
            let mut permits = vec![first];
            if lane.limiter.is_none() {
                while permits.len() < CLAIM_BATCH {
                    match lane.slots.clone().try_acquire_owned() {
                        Ok(p) => permits.push(p),
                        Err(_) => break,
                    }
                }
            }
            let claimed = self
                .store
                .claim(&lane.name, permits.len() as i64, self.lease_ms, lane.config.ordered)
                .await;
            let messages = match claimed {
                Ok(v) if !v.is_empty() => v,
                Ok(_) => {
                    drop(permits);
                    tokio::select! {
                        _ = tokio::time::sleep(self.poll) => {}
                        _ = lane.wake.notified() => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
                Err(e) => {
                    drop(permits);
                    tracing::error!(destination = %lane.name, error = %e, "claim failed");
                    tokio::time::sleep(self.poll * 4).await;
                    continue;
                }
            };
            if let Ok(mut h) = self.held.lock() {
                h.extend(messages.iter().map(|m| (m.id.clone(), m.lease_token.clone())));
            }
            for (message, permit) in messages.into_iter().zip(permits) {
                if let Some(limiter) = &lane.limiter {
                    limiter.until_ready().await;
                }
                let this = self.clone();
                let lane = lane.clone();
                deliveries.spawn(async move {
                    this.deliver(&lane, message).await;
                    drop(permit);
                });
            }
        }
        // Let in-flight deliveries finish; whatever outlives the grace period keeps its lease until release.
        let _ = tokio::time::timeout(self.grace, async { while deliveries.join_next().await.is_some() {} }).await;
        deliveries.abort_all();
    }

    async fn deliver(&self, lane: &Lane, message: Claimed) {
        let started_at = now_ms();
        let clock = Instant::now();
        let response = self.post(lane, &message).await;
        let elapsed = clock.elapsed();
        let dest = label(&lane.name);
        self.metrics.observe(
            "tradelane_delivery_duration_seconds",
            format!("destination=\"{dest}\""),
            elapsed.as_secs_f64(),
        );
        let mut attempt = Attempt {
            attempt: message.attempts,
            started_at,
            duration_ms: elapsed.as_millis() as i64,
            ..Attempt::default()
        };
        let retry_after = match &response {
            Response::Http { retry_after, .. } => retry_after
                .as_deref()
                .and_then(|v| backoff::parse_retry_after(v, SystemTime::now())),
            Response::Failed(_) => None,
        };
        let retryable = match &response {
            Response::Http { status, body, .. } => {
                attempt.status = Some(i64::from(*status));
                attempt.response = Some(body.clone());
                match *status {
                    200..=299 => None,
                    408 | 425 | 429 | 500..=599 => Some(true),
                    _ => Some(false),
                }
            }
            Response::Failed(e) => {
                attempt.error = Some(e.clone());
                Some(true)
            }
        };
        let max_attempts = lane.config.max_attempts.unwrap_or(self.max_attempts);
        let too_old = now_ms() - message.created_at > self.max_age_ms;
        let finish = match retryable {
            None => Finish::Delivered,
            Some(true) if message.attempts < max_attempts && !too_old => {
                if let (Some(after), Response::Http { status: 429 | 503, .. }) = (retry_after, &response) {
                    if let Ok(mut p) = lane.paused_until.lock() {
                        *p = Some(Instant::now() + after.min(self.schedule.max_retry_after));
                    }
                }
                let delay = self.schedule.delay(
                    message.attempts.clamp(1, u32::MAX as i64) as u32,
                    retry_after,
                    &mut rand::thread_rng(),
                );
                Finish::Retry {
                    at: now_ms() + delay.as_millis() as i64,
                }
            }
            Some(_) => Finish::Dead,
        };
        let (outcome, metric) = match finish {
            Finish::Delivered => ("delivered", "tradelane_deliveries_total"),
            Finish::Retry { .. } => ("retry", "tradelane_retries_total"),
            _ => ("dead", "tradelane_dead_letters_total"),
        };
        attempt.outcome = outcome.into();
        self.metrics.inc(metric, format!("destination=\"{dest}\""));
        match self.store.finish(&message, &finish, &attempt).await {
            Ok(true) => {
                tracing::info!(message = %message.id, destination = %lane.name, attempt = message.attempts, outcome, "delivery");
                if let (Finish::Delivered | Finish::Dead, Some(o)) = (&finish, self.observer.get()) {
                    let text = match &response {
                        Response::Http { body, .. } => body,
                        Response::Failed(e) => e,
                    };
                    o.finished(&message, matches!(finish, Finish::Delivered), text).await;
                }
            }
            Ok(false) => tracing::warn!(message = %message.id, "lease lost: another worker owns the message now"),
            Err(e) => tracing::error!(message = %message.id, error = %e, "could not record delivery"),
        }
        if let Ok(mut h) = self.held.lock() {
            h.remove(&(message.id.clone(), message.lease_token.clone()));
        }
    }
}
