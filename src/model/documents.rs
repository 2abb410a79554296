//! The documents: purchase order, its acknowledgment, ship notice, invoice,
//! and functional acknowledgments.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::{Amount, Date, Decimal, Text};

/// A party with its address: buyer, ship-to, bill-to, ship-from, remit-to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Party {
    /// Name (N102).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Text>,
    /// Identification code qualifier (N103: 92, 91, 1, UL…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id_qualifier: Option<Text>,
    /// Identification code (N104).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id: Option<Text>,
    /// First address line (N301).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub address1: Option<Text>,
    /// Second address line (N302).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub address2: Option<Text>,
    /// City (N401).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Text>,
    /// State or province (N402).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<Text>,
    /// Postal code (N403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Text>,
    /// ISO country code (N404).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Text>,
}

/// Why a purchase order was sent (BEG01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 00.
    Original,
    /// 01.
    Cancellation,
    /// 04.
    Change,
    /// 05.
    Replace,
    /// 06.
    Confirmation,
    /// 07.
    Duplicate,
}

impl Purpose {
    /// From BEG01 / BSN01 / BAK01.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "00" => Self::Original,
            "01" => Self::Cancellation,
            "04" => Self::Change,
            "05" => Self::Replace,
            "06" => Self::Confirmation,
            "07" => Self::Duplicate,
            _ => return None,
        })
    }

    /// The X12 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Original => "00",
            Self::Cancellation => "01",
            Self::Change => "04",
            Self::Replace => "05",
            Self::Confirmation => "06",
            Self::Duplicate => "07",
        }
    }
}

/// One purchase-order line (PO1 with its PID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PoLine {
    /// PO101.
    #[schema(value_type = String)]
    pub line_number: Text,
    /// Buyer's part number (BP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub buyer_part_number: Option<Text>,
    /// Vendor's part number (VP), after the partner's cross-reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub vendor_part_number: Option<Text>,
    /// UPC (UP), if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub upc: Option<Text>,
    /// Free-form description (PID05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Text>,
    /// Quantity ordered (PO102).
    pub quantity: Decimal,
    /// Unit of measure (PO103).
    #[schema(value_type = String)]
    pub uom: Text,
    /// Unit price as sent (PO104).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Amount>,
}

/// A purchase order (850).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PurchaseOrder {
    /// BEG03.
    #[schema(value_type = String)]
    pub po_number: Text,
    /// BEG05.
    pub po_date: Date,
    /// BEG01.
    pub purpose: Purpose,
    /// BEG02 (SA stand-alone, NE new order, RO rush…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub order_type: Option<Text>,
    /// CUR02.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Text>,
    /// N1*BY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    /// N1*ST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// N1*BT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<Party>,
    /// TD503, the carrier's SCAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub carrier: Option<Text>,
    /// DTM*002, requested delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery: Option<Date>,
    /// PO1 lines.
    pub lines: Vec<PoLine>,
    /// Number of lines (CTT01).
    pub line_count: usize,
    /// Sum of quantities (CTT02).
    pub quantity_total: Decimal,
}

/// One acknowledged line (PO1 + ACK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PoAckLine {
    /// PO101.
    pub line_number: String,
    /// ACK01: IA accepted, IR rejected, IB backordered, IQ quantity changed…
    pub status: String,
    /// ACK02 (or PO102 when ACK02 is absent).
    pub quantity: Decimal,
    /// ACK03.
    pub uom: String,
    /// Vendor's part number (VP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_part_number: Option<String>,
    /// Buyer's part number (BP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part_number: Option<String>,
    /// PO104.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Amount>,
    /// ACK05 estimated ship/delivery date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
}

/// A purchase-order acknowledgment (855).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PurchaseOrderAck {
    /// BAK03.
    pub po_number: String,
    /// BAK04.
    pub po_date: Date,
    /// BAK02: AC accepted with changes, AD with detail, AK no detail, RJ rejected…
    pub ack_type: String,
    /// BAK09 acknowledgment date (BAK04 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_date: Option<Date>,
    /// Lines.
    #[serde(default)]
    pub lines: Vec<PoAckLine>,
}

impl PurchaseOrderAck {
    /// An acknowledgment that accepts every line of `po` as ordered.
    pub fn accepting(po: &PurchaseOrder) -> Self {
        Self {
            po_number: po.po_number.to_string(),
            po_date: po.po_date,
            ack_type: "AD".into(),
            ack_date: None,
            lines: po
                .lines
                .iter()
                .map(|l| PoAckLine {
                    line_number: l.line_number.to_string(),
                    status: "IA".into(),
                    quantity: l.quantity,
                    uom: l.uom.to_string(),
                    vendor_part_number: l.vendor_part_number.as_deref().map(String::from),
                    buyer_part_number: l.buyer_part_number.as_deref().map(String::from),
                    unit_price: l.unit_price.clone(),
                    date: None,
                })
                .collect(),
        }
    }
}

/// An item in a pack (LIN + SN1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ShipItem {
    /// LIN VP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_part_number: Option<String>,
    /// LIN BP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part_number: Option<String>,
    /// SN102.
    pub quantity: Decimal,
    /// SN103.
    #[serde(default = "each")]
    pub uom: String,
    /// PO line it ships (LIN01 / SN101).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
}

fn each() -> String {
    "EA".into()
}

/// A carton or pallet (MAN*GM SSCC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Pack {
    /// MAN02: SSCC-18 as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sscc: Option<String>,
    /// Items.
    pub items: Vec<ShipItem>,
}

/// One purchase order in a shipment (PRF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ShipOrder {
    /// PRF01.
    pub po_number: String,
    /// PRF04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<Date>,
    /// Packs.
    pub packs: Vec<Pack>,
}

/// A ship notice (856): shipment → orders → packs → items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ShipNotice {
    /// BSN02.
    pub shipment_id: String,
    /// BSN03.
    pub ship_date: Date,
    /// BSN04, HHMM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_time: Option<String>,
    /// TD503 SCAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// REF*CN (PRO or parcel tracking number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// REF*BM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_of_lading: Option<String>,
    /// TD107 gross weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Decimal>,
    /// TD108.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_uom: Option<String>,
    /// N1*SF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_from: Option<Party>,
    /// N1*ST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// Orders.
    pub orders: Vec<ShipOrder>,
}

/// One invoice line (IT1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct InvoiceLine {
    /// IT101.
    pub line_number: String,
    /// IT102.
    pub quantity: Decimal,
    /// IT103.
    #[serde(default = "each")]
    pub uom: String,
    /// IT104.
    pub unit_price: Amount,
    /// VP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_part_number: Option<String>,
    /// BP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_part_number: Option<String>,
    /// PID05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A summary charge or allowance (SAC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Charge {
    /// SAC02 (D240 freight, C310 discount…).
    pub code: String,
    /// Amount in cents: positive for charges, negative for allowances.
    pub amount_cents: i64,
    /// SAC15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An invoice (810).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Invoice {
    /// BIG02.
    pub invoice_number: String,
    /// BIG01.
    pub invoice_date: Date,
    /// BIG04.
    pub po_number: String,
    /// BIG03.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<Date>,
    /// CUR02.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// N1*RI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remit_to: Option<Party>,
    /// N1*ST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Party>,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
    /// Summary charges and allowances.
    #[serde(default)]
    pub charges: Vec<Charge>,
    /// TDS01: lines plus charges minus allowances, in cents. Computed when rendering.
    #[serde(default)]
    pub total_cents: i64,
}

impl Invoice {
    /// Merchandise plus charges minus allowances, in cents (TDS01).
    pub fn computed_total_cents(&self) -> i64 {
        let lines = self
            .lines
            .iter()
            .fold(Decimal::default(), |acc, l| acc + l.quantity * l.unit_price.value())
            .to_cents();
        lines + self.charges.iter().map(|c| c.amount_cents).sum::<i64>()
    }
}

/// One acknowledged set in a functional acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SetAck {
    /// AK201.
    pub set_id: String,
    /// AK202.
    pub control_number: String,
    /// AK501 / IK501.
    pub status: String,
    /// AK502… / IK502….
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A functional acknowledgment received (997 or 999).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct FunctionalAck {
    /// `997` or `999`.
    pub kind: String,
    /// AK101.
    pub functional_id: String,
    /// AK102.
    pub group_control_number: String,
    /// AK901: A, E, P or R.
    pub status: String,
    /// AK2/AK5 per set.
    pub sets: Vec<SetAck>,
    /// AK905….
    #[serde(default)]
    pub group_codes: Vec<String>,
}

/// Any canonical document, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(tag = "type", content = "document", rename_all = "snake_case")]
pub enum Document {
    /// 850.
    PurchaseOrder(PurchaseOrder),
    /// 855.
    PurchaseOrderAck(PurchaseOrderAck),
    /// 856.
    ShipNotice(ShipNotice),
    /// 810.
    Invoice(Invoice),
    /// 997 / 999.
    FunctionalAck(FunctionalAck),
}
