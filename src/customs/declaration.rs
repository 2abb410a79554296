//! The customs declaration: the JSON shape callers send ([`RawDeclaration`],
//! loosely typed so that every mistake can be reported at once) and the
//! validated [`Declaration`] the carrier adapters read.
//!
//! Values: `unit_value` is the price of **one** unit in the declaration's
//! `currency`; line totals are `unit_value × quantity`. `unit_net_weight` is
//! the net weight of **one** unit. For US exports priced in another currency
//! every line also needs `unit_value_usd` (EEI thresholds and USPS forms are
//! in USD; the gateway does not guess exchange rates).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::codes::{CountryCode, CurrencyCode, HsCode, Itn};
use super::eei::{self, ExportFiling};
use super::{FieldError, FieldErrors, MassUnit};
use crate::model::{Date, Decimal};

/// What the parcel holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentsType {
    /// Goods sold.
    Merchandise,
    /// A gift.
    Gift,
    /// Documents.
    Documents,
    /// Commercial sample.
    Sample,
    /// Goods sent back.
    ReturnedGoods,
    /// Sent for repair or under warranty.
    Repair,
    /// Personal effects.
    PersonalEffects,
    /// Dangerous goods.
    DangerousGoods,
    /// Humanitarian donation.
    HumanitarianDonation,
    /// Anything else (`contents_explanation` says what).
    Other,
}

/// Why the goods leave the country.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportReason {
    /// Sale.
    Sale,
    /// Gift.
    Gift,
    /// Sample.
    Sample,
    /// Return.
    Return,
    /// Repair or warranty.
    Repair,
    /// Between companies of one group.
    Intercompany,
    /// Personal use.
    PersonalUse,
    /// Temporary export.
    Temporary,
    /// Anything else (`reason_explanation` says what).
    Other,
}

/// Terms of sale (Incoterms 2020, plus the legacy terms carriers still take).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[allow(missing_docs)]
pub enum Incoterm {
    EXW,
    FCA,
    CPT,
    CIP,
    DAP,
    DPU,
    DDP,
    FAS,
    FOB,
    CFR,
    CIF,
    DDU,
    DAF,
    DEQ,
    DES,
    DAT,
}

impl Incoterm {
    /// The three-letter code.
    pub fn code(self) -> &'static str {
        INCOTERMS.iter().find(|(_, t)| *t == self).map(|(n, _)| *n).unwrap_or("DAP")
    }
}

/// What the post does with a parcel it cannot deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NonDelivery {
    /// Return to sender.
    Return,
    /// Treat as abandoned.
    Abandon,
}

/// Import restriction on the contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// None.
    None,
    /// Quarantine.
    Quarantine,
    /// Sanitary or phytosanitary inspection.
    SanitaryInspection,
    /// Other (`restriction_comments` says what).
    Other,
}

/// Who pays duties and taxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DutiesPayer {
    /// The shipper (DDP).
    Sender,
    /// The receiver.
    Recipient,
    /// Another account (`duties_account`).
    ThirdParty,
}

/// Kind of a party's tax or customs registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxIdKind {
    /// EU / UK Economic Operators Registration and Identification.
    Eori,
    /// VAT registration.
    Vat,
    /// EU Import One-Stop Shop (`IM` + 10 digits).
    Ioss,
    /// Norway VAT On E-Commerce.
    Voec,
    /// GST registration (Australia, New Zealand, Canada …).
    Gst,
    /// US Employer Identification Number.
    Ein,
    /// Any other taxpayer identification number.
    Tin,
}

/// A party's tax or customs id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxId {
    /// Kind.
    pub kind: TaxIdKind,
    /// The number, spaces removed.
    pub number: String,
    /// Issuing country.
    pub country: CountryCode,
}

/// Who signs the declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// Name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
}

/// One validated commodity line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commodity {
    /// Plain-language description.
    pub description: String,
    /// Number of units.
    pub quantity: u32,
    /// Unit of measure of `quantity` (`PCS`, `EA`, `KG`, `PR` …).
    pub unit: String,
    /// Value of one unit, in the declaration's currency.
    pub unit_value: Decimal,
    /// Value of one unit in USD: `unit_value` when the currency is USD, else as given.
    pub unit_value_usd: Option<Decimal>,
    /// Net weight of one unit.
    pub unit_net_weight: Decimal,
    /// Unit of `unit_net_weight`.
    pub weight_unit: MassUnit,
    /// HS code (export Schedule B for US exports).
    pub hs_code: HsCode,
    /// Country of origin (manufacture).
    pub origin_country: CountryCode,
    /// SKU / part number.
    pub sku: Option<String>,
    /// Export Control Classification Number (`EAR99`, `5A992` …).
    pub eccn: Option<String>,
    /// Export licence number.
    pub export_licence: Option<String>,
}

impl Commodity {
    /// `unit_value × quantity`.
    pub fn line_value(&self) -> Decimal {
        self.unit_value * Decimal::from_int(i64::from(self.quantity))
    }

    /// `unit_value_usd × quantity`, when known.
    pub fn line_value_usd(&self) -> Option<Decimal> {
        self.unit_value_usd.map(|v| v * Decimal::from_int(i64::from(self.quantity)))
    }

    /// Net weight of one unit in kilograms.
    pub fn unit_weight_kg(&self) -> Decimal {
        self.weight_unit.to_kg(self.unit_net_weight)
    }

    /// Net weight of the line in kilograms.
    pub fn line_weight_kg(&self) -> Decimal {
        self.unit_weight_kg() * Decimal::from_int(i64::from(self.quantity))
    }

    /// Net weight of the line in pounds.
    pub fn line_weight_lb(&self) -> Decimal {
        self.weight_unit.to_lb(self.unit_net_weight) * Decimal::from_int(i64::from(self.quantity))
    }
}

/// A validated customs declaration for one shipment lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declaration {
    /// Export country (the shipment's origin).
    pub origin: CountryCode,
    /// Import country (the shipment's destination).
    pub destination: CountryCode,
    /// Contents.
    pub contents_type: ContentsType,
    /// What `other` contents are.
    pub contents_explanation: Option<String>,
    /// Reason for export.
    pub reason_for_export: ExportReason,
    /// What an `other` reason is.
    pub reason_explanation: Option<String>,
    /// Terms of sale.
    pub incoterm: Incoterm,
    /// Non-delivery instruction.
    pub non_delivery: NonDelivery,
    /// Restriction.
    pub restriction: Restriction,
    /// Restriction comments.
    pub restriction_comments: Option<String>,
    /// Commercial invoice number.
    pub invoice_number: Option<String>,
    /// Invoice date.
    pub invoice_date: Option<Date>,
    /// Purchase order number.
    pub po_number: Option<String>,
    /// Currency of every value.
    pub currency: CurrencyCode,
    /// Freight charge on the invoice.
    pub freight_charge: Option<Decimal>,
    /// Insurance charge on the invoice.
    pub insurance_charge: Option<Decimal>,
    /// Other charges on the invoice.
    pub other_charges: Option<Decimal>,
    /// Who pays duties and taxes.
    pub duties_payer: DutiesPayer,
    /// The duties payer's carrier account (required for a third party).
    pub duties_account: Option<String>,
    /// Exporter (shipper) registrations.
    pub exporter_tax_ids: Vec<TaxId>,
    /// Importer (receiver) registrations.
    pub importer_tax_ids: Vec<TaxId>,
    /// Declaration statement printed on the invoice.
    pub declaration_statement: Option<String>,
    /// Signer.
    pub signer: Option<Signer>,
    /// The shipper certifies the declaration is true.
    pub certify: bool,
    /// US export filing: ITN or exemption legend.
    pub export_filing: ExportFiling,
    /// Import licence number (postal forms).
    pub import_licence: Option<String>,
    /// Certificate number (postal forms).
    pub certificate_number: Option<String>,
    /// Units of `currency` per 1 CAD (Canada Post's `conversion-from-cad`, needed when the currency is not CAD).
    pub conversion_from_cad: Option<Decimal>,
    /// Lines, at least one.
    pub commodities: Vec<Commodity>,
}

impl Declaration {
    /// Sum of the line values, in `currency`.
    pub fn total_value(&self) -> Decimal {
        self.commodities.iter().fold(Decimal::default(), |acc, c| acc + c.line_value())
    }

    /// Sum of the line values in USD, when every line has one.
    pub fn total_value_usd(&self) -> Option<Decimal> {
        self.commodities
            .iter()
            .try_fold(Decimal::default(), |acc, c| Some(acc + c.line_value_usd()?))
    }

    /// Net weight of all lines in kilograms.
    pub fn net_weight_kg(&self) -> Decimal {
        self.commodities.iter().fold(Decimal::default(), |acc, c| acc + c.line_weight_kg())
    }

    /// The first registration of `kind` on the exporter or importer side.
    pub fn tax_id(&self, importer: bool, kind: TaxIdKind) -> Option<&TaxId> {
        let ids = if importer { &self.importer_tax_ids } else { &self.exporter_tax_ids };
        ids.iter().find(|t| t.kind == kind)
    }
}

/// A tax id as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTaxId {
    /// `eori`, `vat`, `ioss`, `voec`, `gst`, `ein`, `tin` (required).
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<TaxIdKind>)]
    pub kind: Option<String>,
    /// The number (required; spaces are removed). IOSS: `IM` + 10 digits; EORI: a 2-letter country prefix and up to 15 characters.
    #[serde(default)]
    #[schema(max_length = 35, example = "DE123456789")]
    pub number: Option<String>,
    /// Issuing country (required).
    #[serde(default)]
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
}

/// A signer as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSigner {
    /// Name (required).
    #[serde(default)]
    #[schema(max_length = 35)]
    pub name: Option<String>,
    /// Title.
    #[serde(default)]
    #[schema(max_length = 35)]
    pub title: Option<String>,
}

/// A whole number of units as a request may give it: a JSON integer or a string of digits.
fn whole_number_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    utoipa::openapi::ObjectBuilder::new()
        .schema_type([Type::Integer, Type::String].into_iter().collect::<SchemaType>())
        .pattern(Some("^[0-9]+$"))
        .minimum(Some(1))
        .maximum(Some(999_999))
        .description(Some(
            "Number of units (required): a whole number from 1 to 999999, as a JSON integer or a string of digits.",
        ))
        .examples([serde_json::json!(4)])
        .build()
}

/// A commodity line as sent. Numbers may be JSON numbers or strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommodity {
    /// Description (required), in plain language (`Brake caliper, front left`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 450)]
    pub description: Option<String>,
    /// Units (required, whole number from 1 to 999999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = whole_number_schema)]
    pub quantity: Option<Value>,
    /// Unit of measure of `quantity`: 1–5 letters or digits (`PCS` by default, `EA`, `KG`, `PR` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9]{1,5}$", example = "PCS")]
    pub unit: Option<String>,
    /// Value of one unit in the declaration's currency (required, > 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub unit_value: Option<Value>,
    /// Currency of the line: defaults to, and must equal, the declaration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CurrencyCode>)]
    pub currency: Option<String>,
    /// Value of one unit in USD: required for US exports priced in another currency (the gateway does not convert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub unit_value_usd: Option<Value>,
    /// Net weight of one unit (required, > 0), in `weight_unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub unit_net_weight: Option<Value>,
    /// Unit of `unit_net_weight`: `kg` (default), `g`, `lb`, `oz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<MassUnit>)]
    pub weight_unit: Option<String>,
    /// HS code (required): export Schedule B for US exports; 6 to 10 digits, dots allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HsCode>)]
    pub hs_code: Option<String>,
    /// Country of origin, where the goods were made (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CountryCode>)]
    pub origin_country: Option<String>,
    /// SKU / part number (names the line in a landed-cost quote when every line has a distinct one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub sku: Option<String>,
    /// Export Control Classification Number: `EAR99`, or a CCL number such as `5A992` / `3A001.a.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20, example = "EAR99")]
    pub eccn: Option<String>,
    /// Export licence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub export_licence: Option<String>,
}

/// The declaration as sent (`shipment.customs`). Every field is optional
/// here so that [`RawDeclaration::validate`] can report all problems at once;
/// the descriptions say which are required. Names of choices are read
/// case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeclaration {
    /// What the parcel holds (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ContentsType>)]
    pub contents_type: Option<String>,
    /// What `other` contents are (required for `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub contents_explanation: Option<String>,
    /// Why the goods leave the country; by default implied by `contents_type` (`merchandise`: `sale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ExportReason>)]
    pub reason_for_export: Option<String>,
    /// What an `other` reason is (required for `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 44)]
    pub reason_explanation: Option<String>,
    /// Terms of sale; `DDP` when the sender pays duties, else `DAP`, by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Incoterm>)]
    pub incoterm: Option<String>,
    /// What the post does with a parcel it cannot deliver (`return` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<NonDelivery>)]
    pub non_delivery: Option<String>,
    /// Import restriction on the contents (`none` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Restriction>)]
    pub restriction: Option<String>,
    /// What an `other` restriction is (required for `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub restriction_comments: Option<String>,
    /// Commercial invoice number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub invoice_number: Option<String>,
    /// Invoice date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Date>)]
    pub invoice_date: Option<String>,
    /// Purchase order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub po_number: Option<String>,
    /// Currency of every value (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CurrencyCode>)]
    pub currency: Option<String>,
    /// Freight charge on the invoice (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub freight_charge: Option<Value>,
    /// Insurance charge on the invoice (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub insurance_charge: Option<Value>,
    /// Other charges on the invoice (≥ 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub other_charges: Option<Value>,
    /// Who pays duties and taxes; `sender` for `DDP`, else `recipient`, by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DutiesPayer>)]
    pub duties_payer: Option<String>,
    /// The duties payer's carrier account (required for `third_party`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub duties_account: Option<String>,
    /// Exporter (shipper) registrations: EORI, VAT, EIN ….
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exporter_tax_ids: Vec<RawTaxId>,
    /// Importer (receiver) registrations: EORI, VAT, IOSS ….
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub importer_tax_ids: Vec<RawTaxId>,
    /// Declaration statement printed on the commercial invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 550)]
    pub declaration_statement: Option<String>,
    /// Who signs the declaration (required when `certify` is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<RawSigner>,
    /// The shipper certifies the declaration is true (false by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certify: Option<bool>,
    /// AES ITN of the export filing: required for US exports that need EEI (a line over 2500 USD per
    /// Schedule B, a licence, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Itn>)]
    pub itn: Option<String>,
    /// EEI exemption legend of a US export that needs no ITN, an exemption of §30.36–§30.40
    /// (`NO EEI 30.37(a)` by default when one applies; read case-insensitively).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^NO EEI 30\.(36|37|38|39|40)(\([a-z0-9]+\))*$", example = "NO EEI 30.37(a)")]
    pub eei_exemption: Option<String>,
    /// Import licence number (postal forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub import_licence: Option<String>,
    /// Certificate number (postal forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 35)]
    pub certificate_number: Option<String>,
    /// Units of `currency` per 1 CAD (> 0): Canada Post needs it when the currency is not CAD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Decimal>)]
    pub conversion_from_cad: Option<Value>,
    /// Lines (required): at least one, at most 999.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 999)]
    pub commodities: Vec<RawCommodity>,
}

/// Collects errors under a path prefix.
struct Check<'a> {
    base: &'a str,
    errors: Vec<FieldError>,
}

impl Check<'_> {
    fn path(&self, field: &str) -> String {
        if self.base.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.base)
        }
    }

    fn err(&mut self, field: &str, message: impl Into<String>) {
        let field = self.path(field);
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// A trimmed, non-empty text of at most `max` characters.
    fn text(&mut self, field: &str, v: &Option<String>, max: usize) -> Option<String> {
        let t = v.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
        if t.chars().count() > max {
            self.err(field, format!("at most {max} characters"));
            return None;
        }
        Some(t.to_string())
    }

    fn required_text(&mut self, field: &str, v: &Option<String>, max: usize) -> Option<String> {
        let t = self.text(field, v, max);
        if t.is_none() && v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            self.err(field, "required");
        }
        t
    }

    /// One of the `(name, value)` choices, by name.
    fn choice<T: Copy>(&mut self, field: &str, v: &Option<String>, choices: &[(&str, T)]) -> Option<T> {
        let s = v.as_deref()?.trim();
        let found = choices.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            self.err(field, format!("{s:?} is not one of {}", names.join(", ")));
        }
        found
    }

    fn parse<T: std::str::FromStr>(&mut self, field: &str, v: &Option<String>) -> Option<T>
    where
        T::Err: std::fmt::Display,
    {
        let s = v.as_deref()?;
        match s.parse() {
            Ok(t) => Some(t),
            Err(e) => {
                self.err(field, e.to_string());
                None
            }
        }
    }

    /// A decimal from a JSON number or numeric string; `positive` rejects zero too.
    fn decimal(&mut self, field: &str, v: &Option<Value>, positive: bool) -> Option<Decimal> {
        let text = match v.as_ref()? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_string(),
            Value::Null => return None,
            other => {
                self.err(field, format!("a number is required, not {other}"));
                return None;
            }
        };
        let d = match text.parse::<Decimal>() {
            Ok(d) => d,
            Err(_) => {
                self.err(field, format!("{text:?} is not a decimal number"));
                return None;
            }
        };
        let zero = Decimal::default();
        if d < zero || (positive && d == zero) {
            self.err(
                field,
                if positive {
                    "must be greater than 0"
                } else {
                    "must not be negative"
                },
            );
            return None;
        }
        Some(d)
    }
}

const CONTENTS: &[(&str, ContentsType)] = &[
    ("merchandise", ContentsType::Merchandise),
    ("gift", ContentsType::Gift),
    ("documents", ContentsType::Documents),
    ("sample", ContentsType::Sample),
    ("returned_goods", ContentsType::ReturnedGoods),
    ("repair", ContentsType::Repair),
    ("personal_effects", ContentsType::PersonalEffects),
    ("dangerous_goods", ContentsType::DangerousGoods),
    ("humanitarian_donation", ContentsType::HumanitarianDonation),
    ("other", ContentsType::Other),
];

const REASONS: &[(&str, ExportReason)] = &[
    ("sale", ExportReason::Sale),
    ("gift", ExportReason::Gift),
    ("sample", ExportReason::Sample),
    ("return", ExportReason::Return),
    ("repair", ExportReason::Repair),
    ("intercompany", ExportReason::Intercompany),
    ("personal_use", ExportReason::PersonalUse),
    ("temporary", ExportReason::Temporary),
    ("other", ExportReason::Other),
];

const INCOTERMS: &[(&str, Incoterm)] = &[
    ("EXW", Incoterm::EXW),
    ("FCA", Incoterm::FCA),
    ("CPT", Incoterm::CPT),
    ("CIP", Incoterm::CIP),
    ("DAP", Incoterm::DAP),
    ("DPU", Incoterm::DPU),
    ("DDP", Incoterm::DDP),
    ("FAS", Incoterm::FAS),
    ("FOB", Incoterm::FOB),
    ("CFR", Incoterm::CFR),
    ("CIF", Incoterm::CIF),
    ("DDU", Incoterm::DDU),
    ("DAF", Incoterm::DAF),
    ("DEQ", Incoterm::DEQ),
    ("DES", Incoterm::DES),
    ("DAT", Incoterm::DAT),
];

const NON_DELIVERY: &[(&str, NonDelivery)] = &[("return", NonDelivery::Return), ("abandon", NonDelivery::Abandon)];

const RESTRICTIONS: &[(&str, Restriction)] = &[
    ("none", Restriction::None),
    ("quarantine", Restriction::Quarantine),
    ("sanitary_inspection", Restriction::SanitaryInspection),
    ("other", Restriction::Other),
];

const PAYERS: &[(&str, DutiesPayer)] = &[
    ("sender", DutiesPayer::Sender),
    ("recipient", DutiesPayer::Recipient),
    ("third_party", DutiesPayer::ThirdParty),
];

const TAX_KINDS: &[(&str, TaxIdKind)] = &[
    ("eori", TaxIdKind::Eori),
    ("vat", TaxIdKind::Vat),
    ("ioss", TaxIdKind::Ioss),
    ("voec", TaxIdKind::Voec),
    ("gst", TaxIdKind::Gst),
    ("ein", TaxIdKind::Ein),
    ("tin", TaxIdKind::Tin),
];

const MASS_UNITS: &[(&str, MassUnit)] = &[("kg", MassUnit::Kg), ("g", MassUnit::G), ("lb", MassUnit::Lb), ("oz", MassUnit::Oz)];

/// The reason implied by the contents when the caller gives none.
fn default_reason(c: ContentsType) -> ExportReason {
    match c {
        ContentsType::Merchandise | ContentsType::DangerousGoods => ExportReason::Sale,
        ContentsType::Gift | ContentsType::HumanitarianDonation => ExportReason::Gift,
        ContentsType::Sample => ExportReason::Sample,
        ContentsType::ReturnedGoods => ExportReason::Return,
        ContentsType::Repair => ExportReason::Repair,
        ContentsType::PersonalEffects => ExportReason::PersonalUse,
        ContentsType::Documents | ContentsType::Other => ExportReason::Other,
    }
}

/// `EAR99`, or a CCL number such as `5A992` / `3A001.a.1`.
fn valid_eccn(s: &str) -> bool {
    if s.eq_ignore_ascii_case("EAR99") {
        return true;
    }
    let b = s.as_bytes();
    b.len() >= 5
        && b[0].is_ascii_digit()
        && (b'A'..=b'E').contains(&b[1])
        && b[2..5].iter().all(u8::is_ascii_digit)
        && (b.len() == 5 || (b[5] == b'.' && b.len() > 6 && b[6..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.')))
}

impl RawDeclaration {
    /// Validates the declaration for a shipment from `origin` to `destination`;
    /// error paths start with `path` (e.g. `shipment.customs`).
    pub fn validate(&self, origin: CountryCode, destination: CountryCode, path: &str) -> Result<Declaration, FieldErrors> {
        let mut c = Check {
            base: path,
            errors: Vec::new(),
        };
        let contents_type = match &self.contents_type {
            None => {
                c.err("contents_type", "required");
                None
            }
            Some(_) => c.choice("contents_type", &self.contents_type, CONTENTS),
        };
        let contents_explanation = c.text("contents_explanation", &self.contents_explanation, 255);
        if contents_type == Some(ContentsType::Other) && contents_explanation.is_none() {
            c.err("contents_explanation", "required when contents_type is other");
        }
        let reason_for_export = c.choice("reason_for_export", &self.reason_for_export, REASONS);
        let reason_explanation = c.text("reason_explanation", &self.reason_explanation, 44);
        if reason_for_export == Some(ExportReason::Other) && reason_explanation.is_none() {
            c.err("reason_explanation", "required when reason_for_export is other");
        }
        let incoterm = self.incoterm.as_ref().and_then(|_| c.choice("incoterm", &self.incoterm, INCOTERMS));
        let non_delivery = c.choice("non_delivery", &self.non_delivery, NON_DELIVERY);
        let restriction = c.choice("restriction", &self.restriction, RESTRICTIONS);
        let restriction_comments = c.text("restriction_comments", &self.restriction_comments, 255);
        if restriction == Some(Restriction::Other) && restriction_comments.is_none() {
            c.err("restriction_comments", "required when restriction is other");
        }
        let invoice_number = c.text("invoice_number", &self.invoice_number, 35);
        let invoice_date = c.parse::<Date>("invoice_date", &self.invoice_date);
        let po_number = c.text("po_number", &self.po_number, 35);
        let currency = match &self.currency {
            None => {
                c.err("currency", "required");
                None
            }
            Some(_) => c.parse::<CurrencyCode>("currency", &self.currency),
        };
        let freight_charge = c.decimal("freight_charge", &self.freight_charge, false);
        let insurance_charge = c.decimal("insurance_charge", &self.insurance_charge, false);
        let other_charges = c.decimal("other_charges", &self.other_charges, false);
        let payer = c.choice("duties_payer", &self.duties_payer, PAYERS);
        let duties_account = c.text("duties_account", &self.duties_account, 35);
        if payer == Some(DutiesPayer::ThirdParty) && duties_account.is_none() {
            c.err("duties_account", "required when duties_payer is third_party");
        }
        if payer == Some(DutiesPayer::Recipient) && incoterm == Some(Incoterm::DDP) {
            c.err("duties_payer", "incoterm DDP means the sender pays duties and taxes");
        }
        let exporter_tax_ids = tax_ids(&mut c, "exporter_tax_ids", &self.exporter_tax_ids);
        let importer_tax_ids = tax_ids(&mut c, "importer_tax_ids", &self.importer_tax_ids);
        let declaration_statement = c.text("declaration_statement", &self.declaration_statement, 550);
        let signer = self.signer.as_ref().and_then(|s| {
            let name = c.required_text("signer.name", &s.name, 35);
            let title = c.text("signer.title", &s.title, 35);
            Some(Signer { name: name?, title })
        });
        let certify = self.certify.unwrap_or(false);
        if certify && signer.is_none() && self.signer.is_none() {
            c.err("signer", "required when certify is true");
        }
        let itn = c.parse::<Itn>("itn", &self.itn);
        let legend = self.eei_exemption.as_deref().and_then(|s| match eei::parse_legend(s) {
            Ok(l) => Some(l),
            Err(e) => {
                c.err("eei_exemption", e.to_string());
                None
            }
        });
        let import_licence = c.text("import_licence", &self.import_licence, 35);
        let certificate_number = c.text("certificate_number", &self.certificate_number, 35);
        let conversion_from_cad = c.decimal("conversion_from_cad", &self.conversion_from_cad, true);

        let us_export = eei::is_us_export(origin, destination);
        if self.commodities.is_empty() {
            c.err("commodities", "at least one commodity is required");
        }
        if self.commodities.len() > 999 {
            c.err("commodities", "at most 999 commodities");
        }
        let commodities: Vec<Option<Commodity>> = self
            .commodities
            .iter()
            .enumerate()
            .map(|(i, raw)| commodity(&mut c, i, raw, currency, us_export))
            .collect();

        // EEI needs every line; without them the filing cannot be decided (their errors are reported above).
        let mut export_filing = None;
        if let Some(lines) = commodities.iter().cloned().collect::<Option<Vec<Commodity>>>() {
            let eei_lines: Option<Vec<eei::Line<'_>>> = lines
                .iter()
                .enumerate()
                .map(|(index, l)| {
                    Some(eei::Line {
                        index,
                        hs_code: &l.hs_code,
                        value_usd: l.line_value_usd().or((!us_export).then(Decimal::default))?,
                        export_licence: l.export_licence.as_deref(),
                        eccn: l.eccn.as_deref(),
                    })
                })
                .collect();
            if let Some(eei_lines) = eei_lines {
                let requirement = eei::assess(origin, destination, &eei_lines);
                match eei::resolve(&requirement, destination, itn.clone(), legend.clone()) {
                    Ok(f) => export_filing = Some(f),
                    Err(message) => c.err("itn", message),
                }
            }
        }

        if !c.errors.is_empty() {
            return Err(FieldErrors(c.errors));
        }
        let contents_type = contents_type.ok_or_else(FieldErrors::default)?;
        let duties_payer = payer.unwrap_or(if incoterm == Some(Incoterm::DDP) {
            DutiesPayer::Sender
        } else {
            DutiesPayer::Recipient
        });
        let incoterm = incoterm.unwrap_or(if duties_payer == DutiesPayer::Sender {
            Incoterm::DDP
        } else {
            Incoterm::DAP
        });
        Ok(Declaration {
            origin,
            destination,
            contents_type,
            contents_explanation,
            reason_for_export: reason_for_export.unwrap_or_else(|| default_reason(contents_type)),
            reason_explanation,
            incoterm,
            non_delivery: non_delivery.unwrap_or(NonDelivery::Return),
            restriction: restriction.unwrap_or(Restriction::None),
            restriction_comments,
            invoice_number,
            invoice_date,
            po_number,
            currency: currency.ok_or_else(FieldErrors::default)?,
            freight_charge,
            insurance_charge,
            other_charges,
            duties_payer,
            duties_account,
            exporter_tax_ids,
            importer_tax_ids,
            declaration_statement,
            signer,
            certify,
            export_filing: export_filing.ok_or_else(FieldErrors::default)?,
            import_licence,
            certificate_number,
            conversion_from_cad,
            commodities: commodities.into_iter().flatten().collect(),
        })
    }
}

fn tax_ids(c: &mut Check<'_>, field: &str, raw: &[RawTaxId]) -> Vec<TaxId> {
    let mut out = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let kind = match &t.kind {
            None => {
                c.err(&f("type"), "required");
                None
            }
            Some(_) => c.choice(&f("type"), &t.kind, TAX_KINDS),
        };
        let country = match &t.country {
            None => {
                c.err(&f("country"), "required (the issuing country)");
                None
            }
            Some(_) => c.parse::<CountryCode>(&f("country"), &t.country),
        };
        let number = c
            .required_text(&f("number"), &t.number, 35)
            .map(|n| n.chars().filter(|ch| !ch.is_whitespace()).collect::<String>());
        let Some(number) = number else { continue };
        if !number.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '.' | '/')) {
            c.err(&f("number"), "only letters, digits, '-', '.' and '/' are allowed");
            continue;
        }
        match kind {
            Some(TaxIdKind::Ioss)
                if !(number.len() == 12 && number.starts_with("IM") && number[2..].bytes().all(|b| b.is_ascii_digit())) =>
            {
                c.err(&f("number"), "an IOSS number is IM followed by 10 digits");
                continue;
            }
            Some(TaxIdKind::Eori)
                if !(number.len() >= 3 && number.len() <= 17 && number.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)) =>
            {
                c.err(&f("number"), "an EORI number is a 2-letter country prefix and up to 15 characters");
                continue;
            }
            _ => {}
        }
        if let (Some(kind), Some(country)) = (kind, country) {
            out.push(TaxId { kind, number, country });
        }
    }
    out
}

fn commodity(c: &mut Check<'_>, i: usize, raw: &RawCommodity, currency: Option<CurrencyCode>, us_export: bool) -> Option<Commodity> {
    let f = |name: &str| format!("commodities[{i}].{name}");
    let description = c.required_text(&f("description"), &raw.description, 450);
    let quantity = match &raw.quantity {
        None => {
            c.err(&f("quantity"), "required");
            None
        }
        Some(v) => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
            Some(q) if (1..=999_999).contains(&q) => Some(q as u32),
            _ => {
                c.err(&f("quantity"), format!("a whole number from 1 to 999999 is required, not {v}"));
                None
            }
        },
    };
    let unit = match raw.unit.as_deref().map(str::trim) {
        None | Some("") => Some("PCS".to_string()),
        Some(u) if (1..=5).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric()) => Some(u.to_ascii_uppercase()),
        Some(u) => {
            c.err(&f("unit"), format!("{u:?} is not a unit of measure code (PCS, EA, KG, PR …)"));
            None
        }
    };
    let unit_value = if raw.unit_value.is_none() {
        c.err(&f("unit_value"), "required");
        None
    } else {
        c.decimal(&f("unit_value"), &raw.unit_value, true)
    };
    let line_currency = c.parse::<CurrencyCode>(&f("currency"), &raw.currency);
    if let (Some(lc), Some(dc)) = (line_currency, currency) {
        if lc != dc {
            c.err(&f("currency"), format!("must be the declaration's currency {dc}"));
        }
    }
    let given_usd = c.decimal(&f("unit_value_usd"), &raw.unit_value_usd, true);
    let unit_value_usd = match currency {
        Some(CurrencyCode::USD) => unit_value,
        Some(other) => {
            if given_usd.is_none() && raw.unit_value_usd.is_none() && us_export {
                c.err(
                    &f("unit_value_usd"),
                    format!(
                        "required for US exports priced in {other}: EEI thresholds are in USD and the gateway does not convert currencies"
                    ),
                );
            }
            given_usd
        }
        None => None,
    };
    let unit_net_weight = if raw.unit_net_weight.is_none() {
        c.err(&f("unit_net_weight"), "required (net weight of one unit)");
        None
    } else {
        c.decimal(&f("unit_net_weight"), &raw.unit_net_weight, true)
    };
    let weight_unit = match &raw.weight_unit {
        None => Some(MassUnit::Kg),
        Some(_) => c.choice(&f("weight_unit"), &raw.weight_unit, MASS_UNITS),
    };
    let hs_code = match &raw.hs_code {
        None => {
            c.err(&f("hs_code"), "required");
            None
        }
        Some(_) => c.parse::<HsCode>(&f("hs_code"), &raw.hs_code),
    };
    let origin_country = match &raw.origin_country {
        None => {
            c.err(&f("origin_country"), "required");
            None
        }
        Some(_) => c.parse::<CountryCode>(&f("origin_country"), &raw.origin_country),
    };
    let sku = c.text(&f("sku"), &raw.sku, 35);
    let eccn = c.text(&f("eccn"), &raw.eccn, 20).map(|e| e.to_ascii_uppercase());
    if let Some(e) = eccn.as_deref().filter(|e| !valid_eccn(e)) {
        c.err(&f("eccn"), format!("{e:?} is not an ECCN (EAR99, or like 5A992 / 3A001.A.1)"));
    }
    let export_licence = c.text(&f("export_licence"), &raw.export_licence, 35);
    Some(Commodity {
        description: description?,
        quantity: quantity?,
        unit: unit?,
        unit_value: unit_value?,
        unit_value_usd,
        unit_net_weight: unit_net_weight?,
        weight_unit: weight_unit?,
        hs_code: hs_code?,
        origin_country: origin_country?,
        sku,
        eccn: eccn.filter(|e| valid_eccn(e)),
        export_licence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    fn raw(v: serde_json::Value) -> RawDeclaration {
        serde_json::from_value(v).unwrap()
    }

    fn tee() -> serde_json::Value {
        serde_json::json!({
            "description": "Cotton T-shirt", "quantity": 2, "unit_value": "12.50",
            "unit_net_weight": "0.2", "hs_code": "6109.10.0012", "origin_country": "US"
        })
    }

    #[test]
    fn minimal_declaration_gets_defaults() {
        let d = raw(serde_json::json!({"contents_type": "merchandise", "currency": "usd", "commodities": [tee()]}))
            .validate(c("US"), c("DE"), "customs")
            .unwrap();
        assert_eq!(d.reason_for_export, ExportReason::Sale);
        assert_eq!(d.incoterm, Incoterm::DAP);
        assert_eq!(d.duties_payer, DutiesPayer::Recipient);
        assert_eq!(d.currency, CurrencyCode::USD);
        assert_eq!(d.export_filing, ExportFiling::Exemption("NO EEI 30.37(a)".into()));
        assert_eq!(d.total_value().to_string(), "25");
        assert_eq!(d.commodities[0].line_weight_kg().to_string(), "0.4");
        assert_eq!(d.commodities[0].unit, "PCS");
    }

    #[test]
    fn ddp_makes_the_sender_pay_and_contradictions_are_errors() {
        let d = raw(serde_json::json!({"contents_type": "gift", "currency": "EUR", "incoterm": "ddp", "commodities": [tee()]}))
            .validate(c("DE"), c("GB"), "customs")
            .unwrap();
        assert_eq!(
            (d.duties_payer, d.incoterm, d.export_filing),
            (DutiesPayer::Sender, Incoterm::DDP, ExportFiling::NotApplicable)
        );
        let e = raw(serde_json::json!({"contents_type": "gift", "currency": "EUR", "incoterm": "DDP", "duties_payer": "recipient", "commodities": [tee()]}))
            .validate(c("DE"), c("GB"), "customs")
            .unwrap_err();
        assert_eq!(e.0[0].field, "customs.duties_payer");
    }

    #[test]
    fn non_usd_us_exports_need_usd_values() {
        let mut line = tee();
        line["currency"] = "EUR".into();
        let e = raw(serde_json::json!({"contents_type": "merchandise", "currency": "EUR", "commodities": [line.clone()]}))
            .validate(c("US"), c("FR"), "customs")
            .unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].field, "customs.commodities[0].unit_value_usd");
        line["unit_value_usd"] = "1400".into();
        let e = raw(serde_json::json!({"contents_type": "merchandise", "currency": "EUR", "commodities": [line]}))
            .validate(c("US"), c("FR"), "customs")
            .unwrap_err();
        assert_eq!(e.0[0].field, "customs.itn");
        assert!(e.0[0].message.contains("2800.00 USD"), "{e}");
    }

    #[test]
    fn eccn_shapes() {
        for ok in ["EAR99", "5A992", "3A001.a.1", "5D002"] {
            assert!(valid_eccn(&ok.to_ascii_uppercase()), "{ok}");
        }
        for bad in ["EAR9", "5F992", "A5992", "5A99", "5A992."] {
            assert!(!valid_eccn(bad), "{bad}");
        }
    }
}
