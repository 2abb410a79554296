//! Rates, labels and tracking across carriers.
//!
//! Rate shopping asks every eligible carrier at once, each under its own
//! deadline, and answers with whatever came back plus one error per carrier
//! that failed. A label purchase is reserved under the caller's
//! Idempotency-Key before the carrier is called and is never retried blindly:
//! the same key returns the first result. Tracking subscriptions are polled
//! and every change is pushed to the subscriber through the outbox, signed.

use std::time::Duration;

use base64::Engine;
use futures_util::future::join_all;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::connectors::carriers::{Carrier, CarrierError, Label, LabelFormat, LabelRequest, Rate, Shipment, Tracking, TrackingStatus};
use crate::model::Date;
use crate::outbox::WEBHOOKS;
use crate::store::{enqueue, now_ms, sha256_hex, LabelRecord, NewMessage, Subscription};

use super::{FlowError, Gateway};

/// `POST /v1/rates`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RateQuery {
    /// The shipment.
    #[serde(flatten)]
    pub shipment: Shipment,
    /// Only these carriers.
    #[serde(default)]
    pub carriers: Option<Vec<String>>,
    /// Only these service codes.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// The delivery promise: rates that cannot meet it are marked.
    #[serde(default)]
    pub deliver_by: Option<Date>,
}

/// One rate, with whether it meets the promise.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    /// The rate.
    #[serde(flatten)]
    pub rate: Rate,
    /// Whether it meets `deliver_by` (absent without a promise; false when the carrier gives no estimate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meets_promise: Option<bool>,
}

/// A carrier that gave no rates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarrierFailure {
    /// Carrier.
    pub carrier: String,
    /// Stable error type.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "carrier-timeout")]
    pub kind: &'static str,
    /// What happened.
    pub detail: String,
}

/// Rates, cheapest first, and per-carrier errors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rates {
    /// Rates.
    pub rates: Vec<Quote>,
    /// Carriers that failed.
    pub errors: Vec<CarrierFailure>,
}

/// How to pick a rate when the caller does not name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Lowest total.
    Cheapest,
    /// Earliest delivery (fewest transit days), then lowest total.
    Fastest,
    /// Lowest total among the rates that meet `deliver_by`.
    CheapestMeetingPromise,
}

/// `POST /v1/labels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelOrder {
    /// The shipment.
    pub shipment: Shipment,
    /// Carrier (with `service_code`), or leave both out and give a `policy`.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Service code.
    #[serde(default)]
    pub service_code: Option<String>,
    /// Rate-shopping policy.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// Delivery promise for `cheapest_meeting_promise`.
    #[serde(default)]
    pub deliver_by: Option<Date>,
    /// Only these carriers when shopping.
    #[serde(default)]
    pub carriers: Option<Vec<String>>,
    /// Label format.
    #[serde(default)]
    pub label_format: LabelFormat,
}

/// `POST /v1/tracking/subscriptions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Webhook receiving `tracking.updated` events.
    pub url: String,
}

fn kind(e: &CarrierError) -> &'static str {
    match e {
        CarrierError::Auth(_) => "carrier-auth",
        CarrierError::Rejected { .. } => "carrier-rejected",
        CarrierError::RateLimited => "carrier-rate-limited",
        CarrierError::Unavailable(_) | CarrierError::Network(_) => "carrier-unavailable",
        CarrierError::Parse(_) => "carrier-response",
        CarrierError::Unsupported(_) => "carrier-unsupported",
        CarrierError::Invalid(_) => "invalid-shipment",
        CarrierError::Timeout(_) => "carrier-timeout",
    }
}

fn meets(rate: &Rate, ship_date: Option<Date>, deliver_by: Date) -> bool {
    match (rate.estimated_delivery, rate.transit_days, ship_date) {
        (Some(eta), _, _) => eta <= deliver_by,
        (None, Some(t), Some(ship)) => ship.days() + i64::from(t) <= deliver_by.days(),
        _ => false,
    }
}

fn sort_cheapest(rates: &mut [Quote]) {
    rates.sort_by(|a, b| {
        a.rate.total.amount.cmp(&b.rate.total.amount).then(
            a.rate
                .transit_days
                .unwrap_or(u32::MAX)
                .cmp(&b.rate.transit_days.unwrap_or(u32::MAX)),
        )
    });
}

impl Gateway {
    fn count_call(&self, carrier: &str, call: &str, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.metrics.inc(
            "tradelane_carrier_calls_total",
            format!("carrier=\"{carrier}\",call=\"{call}\",outcome=\"{outcome}\""),
        );
    }

    fn carrier(&self, id: &str, shipper: Option<&str>) -> Result<&Carrier, FlowError> {
        self.carriers
            .get(id, shipper)
            .ok_or_else(|| FlowError::UnknownCarrier(id.to_string()))
    }

    /// Asks every eligible carrier at once; partial results come back with per-carrier errors.
    pub async fn shop_rates(&self, q: &RateQuery) -> Result<Rates, FlowError> {
        if q.shipment.packages.is_empty() {
            return Err(FlowError::InvalidDocument(
                "shipment.packages: at least one package is required".into(),
            ));
        }
        q.shipment.declaration("", false)?;
        let ids: Vec<String> = match &q.carriers {
            Some(list) => {
                for c in list {
                    self.carrier(c, None)?;
                }
                list.clone()
            }
            None => self.carriers.ids().into_iter().map(str::to_string).collect(),
        };
        let deadline = Duration::from_millis(self.config.shipping.rate_timeout_ms);
        let shipper = q.shipment.shipper.as_deref();
        let calls = ids.iter().map(|id| async move {
            let result = match self.carriers.get(id, shipper) {
                Some(c) => match tokio::time::timeout(deadline, c.rate(&q.shipment)).await {
                    Ok(r) => r,
                    Err(_) => Err(CarrierError::Timeout(deadline.as_millis() as u64)),
                },
                None => Err(CarrierError::Invalid(format!("carrier {id} is not configured"))),
            };
            (id, result)
        });
        let mut out = Rates {
            rates: Vec::new(),
            errors: Vec::new(),
        };
        for (id, result) in join_all(calls).await {
            self.count_call(id, "rate", result.is_ok());
            match result {
                Ok(rates) => out.rates.extend(
                    rates
                        .into_iter()
                        .filter(|r| q.services.as_ref().is_none_or(|s| s.contains(&r.service_code)))
                        .map(|rate| Quote {
                            meets_promise: q.deliver_by.map(|by| meets(&rate, q.shipment.ship_date, by)),
                            rate,
                        }),
                ),
                Err(e) => out.errors.push(CarrierFailure {
                    carrier: id.clone(),
                    kind: kind(&e),
                    detail: e.to_string(),
                }),
            }
        }
        sort_cheapest(&mut out.rates);
        Ok(out)
    }

    /// Buys a label once per Idempotency-Key.
    pub async fn buy_label(&self, owner: &str, key: Option<&str>, body: &[u8]) -> Result<(bool, LabelRecord), FlowError> {
        let key = key
            .filter(|k| !k.is_empty() && k.len() <= 255)
            .ok_or(FlowError::MissingIdempotencyKey)?;
        let hash = sha256_hex(body);
        if let Some(existing) = self.store.label_by_key(owner, key).await? {
            return replayed_label(existing, key, &hash);
        }
        let order: LabelOrder = serde_json::from_slice(body).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;
        // Customs are checked before any carrier is asked (rate shopping included) or anything is reserved.
        order.shipment.declaration("shipment", true)?;
        let shipper = order.shipment.shipper.clone();
        let (carrier_id, service) = match (&order.carrier, &order.service_code, order.policy) {
            (Some(c), Some(s), _) => (c.clone(), s.clone()),
            (_, _, Some(policy)) => self.choose(&order, policy).await?,
            _ => {
                return Err(FlowError::InvalidDocument(
                    "give carrier and service_code, or a policy (cheapest, fastest, cheapest_meeting_promise)".into(),
                ))
            }
        };
        let carrier = self.carrier(&carrier_id, shipper.as_deref())?;
        let id = match self
            .store
            .reserve_label(owner, key, &hash, &carrier_id, shipper.as_deref(), &service)
            .await?
        {
            Ok(id) => id,
            Err(existing) => return replayed_label(existing, key, &hash),
        };
        let request = LabelRequest {
            shipment: order.shipment.clone(),
            service_code: service,
            label_format: order.label_format,
        };
        let result = carrier.ship(&request).await;
        self.count_call(&carrier_id, "ship", result.is_ok());
        match result {
            Ok(label) => {
                let json = serde_json::to_string(&label).unwrap_or_default();
                self.store
                    .finish_label(
                        &id,
                        "purchased",
                        label.tracking_numbers.first().map(String::as_str),
                        Some(&json),
                        None,
                    )
                    .await?;
            }
            Err(e) => {
                let err = serde_json::json!({"type": kind(&e), "detail": e.to_string()}).to_string();
                self.store.finish_label(&id, "failed", None, None, Some(&err)).await?;
            }
        }
        let record = self.store.label(&id).await?.ok_or(FlowError::NotFound)?;
        Ok((true, record))
    }

    async fn choose(&self, order: &LabelOrder, policy: Policy) -> Result<(String, String), FlowError> {
        let q = RateQuery {
            shipment: order.shipment.clone(),
            carriers: order.carriers.clone(),
            services: None,
            deliver_by: order.deliver_by,
        };
        if policy == Policy::CheapestMeetingPromise && q.deliver_by.is_none() {
            return Err(FlowError::InvalidDocument(
                "deliver_by is required for cheapest_meeting_promise".into(),
            ));
        }
        let mut rates = self.shop_rates(&q).await?.rates;
        match policy {
            Policy::Cheapest => {}
            Policy::CheapestMeetingPromise => rates.retain(|r| r.meets_promise == Some(true)),
            Policy::Fastest => rates.sort_by_key(|r| {
                (
                    r.rate
                        .estimated_delivery
                        .map(Date::days)
                        .or(r.rate.transit_days.map(i64::from))
                        .unwrap_or(i64::MAX),
                    r.rate.total.amount,
                )
            }),
        }
        let best = rates
            .first()
            .ok_or_else(|| FlowError::NoRate("no carrier offered a rate that fits the policy".into()))?;
        Ok((best.rate.carrier.clone(), best.rate.service_code.clone()))
    }

    /// Voids a purchased label.
    pub async fn void_label(&self, owner: Option<&str>, id: &str) -> Result<LabelRecord, FlowError> {
        let record = self
            .store
            .label(id)
            .await?
            .filter(|l| owner.is_none_or(|o| o == l.owner))
            .ok_or(FlowError::NotFound)?;
        if record.status != "purchased" {
            return Err(FlowError::Conflict(format!(
                "label is {}, only purchased labels can be voided",
                record.status
            )));
        }
        let label: Label = record
            .label
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| FlowError::Internal("stored label unreadable".into()))?;
        let carrier = self.carrier(&record.carrier, record.shipper.as_deref())?;
        carrier.void(&label).await.map_err(FlowError::Carrier)?;
        self.store.finish_label(id, "voided", None, None, None).await?;
        self.store.label(id).await?.ok_or(FlowError::NotFound)
    }

    /// Current tracking of a shipment.
    pub async fn track(&self, carrier: &str, number: &str) -> Result<Tracking, FlowError> {
        let c = self.carrier(carrier, None)?;
        let r = c.track(number).await;
        self.count_call(carrier, "track", r.is_ok());
        r.map_err(FlowError::Carrier)
    }

    /// Subscribes a webhook to a shipment's tracking; the answer carries the signing secret, once.
    pub async fn subscribe(&self, owner: &str, req: &SubscriptionRequest) -> Result<Subscription, FlowError> {
        self.carrier(&req.carrier, None)?;
        if !(req.url.starts_with("https://") || req.url.starts_with("http://")) {
            return Err(FlowError::InvalidDocument("url: an http(s) URL is required".into()));
        }
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes));
        Ok(self
            .store
            .create_subscription(owner, &req.carrier, &req.tracking_number, &req.url, &secret)
            .await?)
    }

    /// One polling round: tracks due subscriptions and queues a signed webhook for each change.
    pub async fn poll_tracking(&self) -> Result<usize, FlowError> {
        let every = self.config.shipping.tracking_poll_secs as i64 * 1000;
        let due = self.store.due_subscriptions(50, every.max(1000)).await?;
        let mut pushed = 0;
        for s in due {
            let tracking = match self.track(&s.carrier, &s.tracking_number).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(subscription = %s.id, error = %e, "tracking poll failed");
                    let mut tx = self.store.begin_write().await?;
                    self.store.polled(&mut tx, &s.id, None, None, now_ms() + every, true).await?;
                    tx.commit().await?;
                    continue;
                }
            };
            let status = serde_json::to_value(tracking.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            let latest = tracking.events.first().map(|e| e.occurred_at.clone());
            let changed = status != s.last_status || latest.as_deref() != s.last_event_at();
            let done = matches!(tracking.status, TrackingStatus::Delivered | TrackingStatus::Returned);
            let mut tx = self.store.begin_write().await?;
            if changed {
                let body = serde_json::json!({
                    "type": "tracking.updated",
                    "subscription_id": s.id,
                    "tracking": tracking,
                })
                .to_string();
                enqueue(
                    &mut tx,
                    &NewMessage {
                        owner: &s.owner,
                        destination: WEBHOOKS,
                        kind: "tracking",
                        document_id: None,
                        interchange_id: None,
                        ordering_key: Some(&s.id),
                        content_type: "application/json",
                        body: body.as_bytes(),
                        url: Some(&s.url),
                        secret: Some(s.secret()),
                    },
                )
                .await?;
                pushed += 1;
            }
            self.store
                .polled(&mut tx, &s.id, status.as_deref(), latest.as_deref(), now_ms() + every, !done)
                .await?;
            tx.commit().await?;
        }
        if pushed > 0 {
            self.notify(&[WEBHOOKS.to_string()]);
        }
        Ok(pushed)
    }
}

fn replayed_label(existing: LabelRecord, key: &str, hash: &str) -> Result<(bool, LabelRecord), FlowError> {
    if existing.request_hash() != hash {
        return Err(FlowError::IdempotencyKeyReused(key.to_string()));
    }
    if existing.status == "pending" {
        // The carrier was called and the answer never recorded (a crash): buying again could pay twice.
        return Err(FlowError::Conflict(format!(
            "label {} is pending: its purchase outcome is unknown; check with the carrier before buying again",
            existing.id
        )));
    }
    Ok((false, existing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers() {
        let d = |s: &str| Date::days(s.parse().unwrap());
        assert_eq!(d("1970-01-01"), 0);
        assert_eq!(d("2024-03-01") - d("2024-02-28"), 2);
        assert_eq!(d("2025-01-01") - d("2024-12-31"), 1);
    }
}
