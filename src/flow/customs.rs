//! Landed-cost quotes and commercial invoices.
//!
//! A quote request carries the parties, the shipping charge and a customs
//! declaration, validated by the customs model (every bad field named). The
//! chosen provider is asked once (its adapter retries throttling and 5xx),
//! and the canonical quote is stored with the request before it is
//! answered, scoped to the caller's owner. The commercial invoice is printed
//! from the stored declaration.

use serde::{Deserialize, Serialize};

use crate::calendar::iso_utc;
use crate::connectors::carriers::{Address, Money, Package};
use crate::customs::invoice::InvoiceDoc;
use crate::customs::quote::{date_of, quote_request, CustomsQuote};
use crate::customs::{CountryCode, Declaration, FieldError, FieldErrors, RawDeclaration};
use crate::model::Decimal;
use crate::store::{new_id, now_ms, NewQuote, QuoteRecord};

use super::{FlowError, Gateway};

/// `POST /v1/customs/quotes`: the parties, the shipping charge and the customs declaration to quote.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteOrder {
    /// Ship from (the exporter).
    pub from: Address,
    /// Ship to (the importer).
    pub to: Address,
    /// The customs declaration, as for a label.
    pub declaration: RawDeclaration,
    /// The shipping charge, in the declaration's currency (also read as `shipping_charge`).
    #[serde(alias = "shipping_charge")]
    pub shipping: Money,
    /// Provider (`zonos`, `dhl`); the configured default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "zonos")]
    pub provider: Option<String>,
    /// Packages (DHL rates them; derived from the declaration's weights when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
}

/// Largest amount a quote takes (shipping, declared goods): the provider's
/// charges are added to them in cents, which must not overflow.
const MAX_AMOUNT: i64 = 1_000_000_000_000;

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The validated declaration of an order; every bad field is reported.
fn validate(order: &QuoteOrder) -> Result<Declaration, FlowError> {
    let mut errors = Vec::new();
    let mut country = |name: &str, v: &str| match v.parse::<CountryCode>() {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(field(name, e.to_string()));
            None
        }
    };
    let origin = country("from.country", &order.from.country);
    let destination = country("to.country", &order.to.country);
    let declaration = match (origin, destination) {
        (Some(o), Some(d)) => match order.declaration.validate(o, d, "declaration") {
            Ok(d) => Some(d),
            Err(FieldErrors(mut e)) => {
                errors.append(&mut e);
                None
            }
        },
        _ => None,
    };
    if let (Some(o), Some(d)) = (origin, destination) {
        if o == d {
            errors.push(field("to.country", "a landed-cost quote needs an international shipment"));
        }
    }
    let max = Decimal::from_int(MAX_AMOUNT);
    if order.shipping.amount < Decimal::default() {
        errors.push(field("shipping.amount", "must not be negative"));
    } else if order.shipping.amount >= max {
        errors.push(field("shipping.amount", format!("must be less than {MAX_AMOUNT}")));
    }
    if let Some(d) = &declaration {
        if d.total_value() >= max {
            errors.push(field(
                "declaration.commodities",
                format!("the declared value of all commodities must be less than {MAX_AMOUNT}"),
            ));
        }
        if !order.shipping.currency.eq_ignore_ascii_case(d.currency.as_str()) {
            errors.push(field(
                "shipping.currency",
                format!("must be the declaration's currency {}", d.currency),
            ));
        }
    }
    match declaration {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(FlowError::InvalidCustoms(FieldErrors(errors))),
    }
}

impl Gateway {
    /// Quotes duties and taxes of a declaration and stores the quote for `owner`
    /// (committed before this returns).
    ///
    /// # Errors
    /// `InvalidDocument` (not the request shape), `InvalidCustoms` (every bad
    /// field), `UnknownProvider`, `LandedCost` (the provider failed), `Store`.
    pub async fn quote_landed_cost(&self, owner: &str, body: &[u8]) -> Result<CustomsQuote, FlowError> {
        let order: QuoteOrder = serde_json::from_slice(body).map_err(|e| FlowError::InvalidDocument(e.to_string()))?;
        let declaration = validate(&order)?;
        let (provider_id, provider) = self
            .landed_cost
            .get(order.provider.as_deref())
            .ok_or_else(|| FlowError::UnknownProvider(order.provider.clone().unwrap_or_else(|| "(default)".into())))?;
        let request = quote_request(&declaration, &order.from, &order.to, order.shipping.amount, &order.packages);
        let result = provider.quote(&request).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        self.metrics.inc(
            "tradelane_landed_cost_calls_total",
            format!("provider=\"{provider_id}\",outcome=\"{outcome}\""),
        );
        let quote = result.map_err(FlowError::LandedCost)?;
        let now = now_ms();
        let expires = now + i64::try_from(self.landed_cost.ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let stored = CustomsQuote {
            id: new_id("lcq_"),
            quote,
            created_at: iso_utc(now),
            expires_at: iso_utc(expires),
        };
        let request_json = serde_json::to_string(&order).map_err(|e| FlowError::Internal(e.to_string()))?;
        let quote_json = serde_json::to_string(&stored).map_err(|e| FlowError::Internal(e.to_string()))?;
        self.store
            .insert_customs_quote(&NewQuote {
                id: &stored.id,
                owner,
                provider: provider_id,
                provider_quote_id: stored.quote.quote_id.as_deref(),
                currency: &stored.quote.currency,
                landed_total: &stored.quote.totals.landed_total.to_string(),
                request: &request_json,
                quote: &quote_json,
                created_at: now,
                expires_at: expires,
            })
            .await?;
        Ok(stored)
    }

    /// A stored quote visible to `viewer` (`None`: an operator sees all).
    ///
    /// # Errors
    /// `NotFound` when it does not exist or belongs to another owner; `Store`.
    pub async fn customs_quote(&self, viewer: Option<&str>, id: &str) -> Result<QuoteRecord, FlowError> {
        self.store
            .customs_quote(id)
            .await?
            .filter(|q| viewer.is_none_or(|v| v == q.owner))
            .ok_or(FlowError::NotFound)
    }

    /// The commercial invoice (PDF) of a stored quote's declaration: (invoice number, PDF bytes).
    ///
    /// # Errors
    /// As [`Gateway::customs_quote`]; `Internal` when the stored request no longer reads.
    pub async fn commercial_invoice(&self, viewer: Option<&str>, id: &str) -> Result<(String, Vec<u8>), FlowError> {
        let record = self.customs_quote(viewer, id).await?;
        let order: QuoteOrder = serde_json::from_value(record.request.clone())
            .map_err(|e| FlowError::Internal(format!("stored quote request unreadable: {e}")))?;
        let declaration = validate(&order)?;
        let mut doc = InvoiceDoc::from_declaration(&declaration, &order.from, &order.to, &record.id, date_of(record.created_at));
        if declaration.freight_charge.is_none() {
            // The quoted shipping charge is the freight when the declaration names none.
            doc.freight = order.shipping.amount;
            doc.total = doc.subtotal + doc.freight + doc.insurance + doc.other;
        }
        Ok((doc.invoice_number.clone(), doc.render()))
    }
}
