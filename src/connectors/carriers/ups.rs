//! UPS adapter (placeholder until the adapter lands).

use super::{CarrierAccount, CarrierError, CarrierHttp, Label, LabelRequest, Rate, Shipment, Tracking};

/// UPS.
pub struct Ups {
    #[allow(dead_code)]
    account: CarrierAccount,
    #[allow(dead_code)]
    http: CarrierHttp,
}

impl Ups {
    /// The adapter for one account.
    pub fn new(account: &CarrierAccount, http: CarrierHttp) -> Self {
        Self {
            account: account.clone(),
            http,
        }
    }

    /// Rates.
    pub async fn rate(&self, _: &Shipment) -> Result<Vec<Rate>, CarrierError> {
        Err(CarrierError::Unsupported("UPS adapter not built yet".into()))
    }

    /// Label.
    pub async fn ship(&self, _: &LabelRequest) -> Result<Label, CarrierError> {
        Err(CarrierError::Unsupported("UPS adapter not built yet".into()))
    }

    /// Void.
    pub async fn void(&self, _: &Label) -> Result<(), CarrierError> {
        Err(CarrierError::Unsupported("UPS adapter not built yet".into()))
    }

    /// Tracking.
    pub async fn track(&self, _: &str) -> Result<Tracking, CarrierError> {
        Err(CarrierError::Unsupported("UPS adapter not built yet".into()))
    }
}
