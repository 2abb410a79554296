//! Landed-cost (duty and tax) quoting behind one interface: a Zonos-style
//! adapter (legacy REST `POST /v1/landed_cost`) and DHL Express MyDHL
//! `POST /landed-cost`. Both take the same [`QuoteRequest`] and answer the
//! canonical [`LandedCost`]; amounts are exact decimals rounded to the cent.
//!
//! Quotes are reads: the shared carrier HTTP plumbing
//! ([`CarrierHttp`](super::carriers::CarrierHttp)) retries 429, 5xx and
//! network errors with backoff, under each provider's rate limit and timeout.
//! Errors are the connectors' [`CarrierError`]; the flow tells them apart
//! from carrier errors.

pub mod dhl;
pub mod zonos;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::carriers::{Address, CarrierConfig, CarrierError, CarrierHttp, Package};
use crate::model::Decimal;

/// Provider ids.
pub const PROVIDERS: [&str; 2] = ["zonos", "dhl"];

/// `[landed_cost]` in the configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LandedCostConfig {
    /// Provider used when a request names none (else the only configured one, Zonos first).
    pub default_provider: Option<String>,
    /// How long a stored quote stays valid (s); 24 h by default.
    pub quote_ttl_secs: Option<u64>,
    /// Zonos: `base_url` (e.g. `https://api.zonos.com`) and `key` (the service token).
    pub zonos: Option<CarrierConfig>,
    /// DHL Express MyDHL: `base_url`, `key`/`secret` (basic auth), `account_number`.
    pub dhl: Option<CarrierConfig>,
}

impl LandedCostConfig {
    /// Default validity of a quote.
    pub const DEFAULT_TTL_SECS: u64 = 86_400;

    /// Checks the default provider names a configured one.
    ///
    /// # Errors
    /// A message naming the offending key.
    pub fn check(&self) -> Result<(), String> {
        for (id, c) in [("zonos", &self.zonos), ("dhl", &self.dhl)] {
            if c.as_ref().is_some_and(|c| !c.shippers.is_empty()) {
                return Err(format!("landed_cost.{id}.shippers: landed-cost providers have one account"));
            }
        }
        if let Some(p) = &self.default_provider {
            let configured = match p.as_str() {
                "zonos" => self.zonos.is_some(),
                "dhl" => self.dhl.is_some(),
                _ => return Err(format!("landed_cost.default_provider {p:?}: one of {}", PROVIDERS.join(", "))),
            };
            if !configured {
                return Err(format!("landed_cost.default_provider {p:?} has no [landed_cost.{p}] table"));
            }
        }
        Ok(())
    }
}

/// One line of goods to quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    /// The line's reference in the answer (SKU, else line number).
    pub reference: String,
    /// SKU / part number.
    pub sku: Option<String>,
    /// Customs description.
    pub description: String,
    /// HS code, digits only (6–10).
    pub hs_code: String,
    /// ISO country of origin.
    pub origin: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Value of one unit, in the request currency.
    pub unit_value: Decimal,
    /// Net weight of the whole line in kg, when known.
    pub weight_kg: Option<Decimal>,
}

impl QuoteLine {
    /// Quantity × unit value.
    pub fn value(&self) -> Decimal {
        self.quantity * self.unit_value
    }
}

/// What a provider is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuoteRequest {
    /// Ship from.
    pub from: Address,
    /// Ship to (the import country decides duties and taxes).
    pub to: Address,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Shipping (freight) charge.
    pub shipping: Decimal,
    /// Insurance charge.
    pub insurance: Decimal,
    /// Incoterm, when declared.
    pub incoterm: Option<String>,
    /// Commercial (B2B) rather than personal (B2C).
    pub commercial: bool,
    /// Packages (DHL wants at least one; derived from the lines' weights when absent).
    pub packages: Vec<Package>,
    /// Goods.
    pub lines: Vec<QuoteLine>,
}

impl QuoteRequest {
    /// Sum of the lines' values.
    pub fn goods(&self) -> Decimal {
        self.lines.iter().fold(Decimal::default(), |a, l| a + l.value())
    }
}

/// Duty, tax and fees of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LandedCostItem)]
pub struct ItemCharges {
    /// The line's reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// HS code, digits only.
    #[schema(pattern = "^[0-9]{6,10}$", example = "8708305090")]
    pub hs_code: String,
    /// Duty.
    pub duty: Decimal,
    /// Taxes (VAT, GST …).
    pub tax: Decimal,
    /// Fees levied on the line.
    pub fees: Decimal,
    /// The provider's formula (duty first, then tax), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
}

/// Totals of a quote. `landed_total` = goods + shipping + duties + taxes + fees + brokerage.
/// Duties and taxes include those on shipping, which no item carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LandedCostTotals)]
pub struct Totals {
    /// Goods value.
    pub goods: Decimal,
    /// Shipping charge.
    pub shipping: Decimal,
    /// Duties.
    pub duties: Decimal,
    /// Taxes.
    pub taxes: Decimal,
    /// Fees other than brokerage.
    pub fees: Decimal,
    /// Brokerage / clearance.
    pub brokerage: Decimal,
    /// Everything the importer pays.
    pub landed_total: Decimal,
}

/// A landed-cost quote, whatever the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LandedCost {
    /// Provider id (`zonos`, `dhl`).
    #[schema(example = "zonos")]
    pub provider: String,
    /// ISO 4217 currency of every amount.
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    /// Per line.
    pub items: Vec<ItemCharges>,
    /// Totals.
    pub totals: Totals,
    /// A de minimis threshold waived duties or taxes.
    pub de_minimis_applied: bool,
    /// The provider guarantees the amounts.
    pub guaranteed: bool,
    /// The provider's quote id.
    pub quote_id: Option<String>,
}

/// Cents → exact decimal.
pub(crate) fn cents(c: i64) -> Decimal {
    Decimal::from_cents(c)
}

/// Builds totals from cent sums.
pub(crate) fn totals(goods: Decimal, shipping: Decimal, duties: i64, taxes: i64, fees: i64, brokerage: i64) -> Totals {
    // Saturating: a provider's absurd amount must not overflow the sum.
    let landed = [shipping.to_cents(), duties, taxes, fees, brokerage]
        .into_iter()
        .fold(goods.to_cents(), i64::saturating_add);
    Totals {
        goods: cents(goods.to_cents()),
        shipping: cents(shipping.to_cents()),
        duties: cents(duties),
        taxes: cents(taxes),
        fees: cents(fees),
        brokerage: cents(brokerage),
        landed_total: cents(landed),
    }
}

/// One configured provider.
pub enum Provider {
    /// Zonos-style REST.
    Zonos(zonos::Zonos),
    /// DHL Express MyDHL landed cost.
    Dhl(dhl::DhlLandedCost),
}

impl Provider {
    /// Quotes duties, taxes and fees.
    ///
    /// # Errors
    /// The provider's rejection, or a transport / parse error.
    pub async fn quote(&self, r: &QuoteRequest) -> Result<LandedCost, CarrierError> {
        check(r)?;
        match self {
            Provider::Zonos(p) => p.quote(r).await,
            Provider::Dhl(p) => p.quote(r).await,
        }
    }
}

fn check(r: &QuoteRequest) -> Result<(), CarrierError> {
    if r.lines.is_empty() {
        return Err(CarrierError::Invalid("at least one line of goods is required".into()));
    }
    Ok(())
}

/// Every configured provider.
pub struct LandedCostProviders {
    providers: BTreeMap<&'static str, Provider>,
    default: Option<&'static str>,
    /// Validity of a quote.
    pub ttl: Duration,
}

impl LandedCostProviders {
    /// Builds the adapters from `[landed_cost]`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built or the default provider is not configured.
    pub fn new(config: &LandedCostConfig) -> Result<Self, String> {
        config.check()?;
        let client = CarrierHttp::client().map_err(|e| e.to_string())?;
        let http = |c: &CarrierConfig| CarrierHttp::new(client.clone(), c.rate_per_second, Duration::from_millis(c.timeout_ms), c.retries);
        let mut providers = BTreeMap::new();
        if let Some(c) = &config.zonos {
            providers.insert("zonos", Provider::Zonos(zonos::Zonos::new(&c.account, http(c))));
        }
        if let Some(c) = &config.dhl {
            providers.insert("dhl", Provider::Dhl(dhl::DhlLandedCost::new(&c.account, http(c))));
        }
        let default = match config.default_provider.as_deref() {
            Some(p) => PROVIDERS.iter().copied().find(|id| *id == p),
            None => PROVIDERS.iter().copied().find(|id| providers.contains_key(id)),
        };
        Ok(Self {
            providers,
            default,
            ttl: Duration::from_secs(config.quote_ttl_secs.unwrap_or(LandedCostConfig::DEFAULT_TTL_SECS)),
        })
    }

    /// The provider `id`, or the default one; with its id.
    pub fn get(&self, id: Option<&str>) -> Option<(&'static str, &Provider)> {
        let id = match id {
            Some(id) => PROVIDERS.iter().copied().find(|p| *p == id)?,
            None => self.default?,
        };
        self.providers.get(id).map(|p| (id, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> LandedCostConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn default_provider_must_be_configured() {
        let zonos_only = "default_provider = \"dhl\"\n[zonos]\nbase_url = \"http://127.0.0.1:1\"\nkey = \"t\"\n";
        let e = config(zonos_only).check().unwrap_err();
        assert!(e.contains("[landed_cost.dhl]"), "{e}");
        assert!(config("default_provider = \"avalara\"")
            .check()
            .unwrap_err()
            .contains("one of zonos, dhl"));
        assert!(toml::from_str::<LandedCostConfig>("[easyship]\nkey = \"k\"").is_err());
        assert!(config("[zonos.shippers.dc-2]\nkey = \"k\"")
            .check()
            .unwrap_err()
            .contains("one account"));
        let providers = LandedCostProviders::new(&config("[dhl]\nbase_url = \"http://127.0.0.1:1\"\n")).unwrap();
        assert_eq!(
            providers.get(None).map(|(id, _)| id),
            Some("dhl"),
            "the only provider is the default"
        );
        assert!(providers.get(Some("zonos")).is_none());
        assert_eq!(providers.ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn totals_add_up_in_cents() {
        let t = totals("293.5".parse().unwrap(), "35".parse().unwrap(), 1603, 6546, 0, 1450);
        assert_eq!(t.landed_total.to_string(), "424.49");
        assert_eq!(t.goods.to_string(), "293.5");
    }
}
