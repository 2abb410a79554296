//! Canonical shipping types: what fulfillment systems send and get back,
//! whatever the carrier.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Date, Decimal};

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    /// Contact name.
    #[serde(default)]
    pub name: Option<String>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Street lines (1–3).
    pub street: Vec<String>,
    /// City.
    pub city: String,
    /// State or province code.
    #[serde(default)]
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country.
    #[schema(pattern = "^[A-Z]{2}$", example = "US")]
    pub country: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Residential delivery.
    #[serde(default)]
    pub residential: bool,
}

/// Weight unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeightUnit {
    /// Pounds.
    Lb,
    /// Kilograms.
    Kg,
}

/// Length unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LengthUnit {
    /// Inches.
    In,
    /// Centimetres.
    Cm,
}

/// Package dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dimensions {
    /// Length.
    pub length: Decimal,
    /// Width.
    pub width: Decimal,
    /// Height.
    pub height: Decimal,
    /// Unit.
    pub unit: LengthUnit,
}

/// One package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Package {
    /// Weight.
    pub weight: Decimal,
    /// Unit.
    pub weight_unit: WeightUnit,
    /// Dimensions, when known.
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    /// Reference printed on the label.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A shipment to rate or label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Shipment {
    /// Ship from.
    pub from: Address,
    /// Ship to.
    pub to: Address,
    /// Packages (at least one).
    pub packages: Vec<Package>,
    /// Ship date (default: today).
    #[serde(default)]
    pub ship_date: Option<Date>,
    /// Shipper id selecting the carrier accounts (default account when absent).
    #[serde(default)]
    pub shipper: Option<String>,
    /// Customs declaration: required on labels that cross a customs border
    /// (see [`crate::customs::crosses_border`]), sent on rates where the carrier takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs: Option<crate::customs::RawDeclaration>,
}

impl Shipment {
    /// The validated declaration; `base` is the shipment's path in the request
    /// (`shipment`, or empty) and `required` asks for one when the shipment crosses a border.
    pub fn declaration(&self, base: &str, required: bool) -> Result<Option<crate::customs::Declaration>, crate::customs::CustomsError> {
        crate::customs::validate_for(&self.from.country, &self.to.country, self.customs.as_ref(), base, required)
    }
}

/// Money with its currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Amount, exact.
    pub amount: Decimal,
    /// ISO 4217 currency.
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
}

/// One line of a rate's breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(as = RateCharge)]
pub struct Charge {
    /// Carrier's charge code or name (`BASE`, `FUEL`, `RESIDENTIAL` …).
    pub code: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Amount.
    pub amount: Money,
}

/// A rate quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rate {
    /// Carrier id (`ups`, `fedex`, `usps`, `dhl`, `canadapost`).
    pub carrier: String,
    /// Carrier's service code.
    pub service_code: String,
    /// Service name.
    pub service_name: String,
    /// Total charge.
    pub total: Money,
    /// Breakdown.
    #[serde(default)]
    pub breakdown: Vec<Charge>,
    /// Business days in transit.
    #[serde(default)]
    pub transit_days: Option<u32>,
    /// Estimated delivery date.
    #[serde(default)]
    pub estimated_delivery: Option<Date>,
    /// Delivery date guaranteed by the carrier.
    #[serde(default)]
    pub guaranteed: bool,
}

/// Label image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LabelFormat {
    /// PDF.
    #[default]
    Pdf,
    /// Zebra ZPL.
    Zpl,
    /// PNG image.
    Png,
}

/// A label to buy for a chosen service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LabelRequest {
    /// The shipment.
    pub shipment: Shipment,
    /// Carrier service code.
    pub service_code: String,
    /// Format.
    #[serde(default)]
    pub label_format: LabelFormat,
}

/// A bought label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Label {
    /// Carrier.
    pub carrier: String,
    /// Service code.
    pub service_code: String,
    /// Carrier's shipment id (for void), when it has one.
    #[serde(default)]
    pub shipment_id: Option<String>,
    /// Tracking numbers, one per package (the first is the master).
    pub tracking_numbers: Vec<String>,
    /// Format.
    pub label_format: LabelFormat,
    /// Label images, base64, one per package.
    pub labels: Vec<String>,
    /// What the carrier charged.
    pub charges: Money,
}

/// Normalized tracking status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    /// Label created, not yet with the carrier.
    PreTransit,
    /// Moving.
    InTransit,
    /// On the vehicle for delivery.
    OutForDelivery,
    /// Delivered.
    Delivered,
    /// Delay, damage, failed attempt, held.
    Exception,
    /// Returned to sender.
    Returned,
    /// Anything else.
    Unknown,
}

/// One tracking event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrackingEvent {
    /// When, ISO 8601 as the carrier gives it (local time with offset when known).
    pub occurred_at: String,
    /// Normalized status.
    pub status: TrackingStatus,
    /// The carrier's own status or event code.
    pub carrier_code: String,
    /// Description.
    pub description: String,
    /// Where (city, state, country), when given.
    #[serde(default)]
    pub location: Option<String>,
}

/// A shipment's tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tracking {
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Current normalized status (the latest event's).
    pub status: TrackingStatus,
    /// The carrier's code for the current status.
    pub carrier_code: String,
    /// Estimated delivery, when given.
    #[serde(default)]
    pub estimated_delivery: Option<Date>,
    /// Events, newest first.
    pub events: Vec<TrackingEvent>,
}
