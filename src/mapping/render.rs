//! Canonical documents out as X12, in a partner's version and delimiters,
//! with envelopes, counts and control numbers filled in.

use crate::model::{Invoice, PurchaseOrder, PurchaseOrderAck, ShipNotice};
use crate::x12::writer::{write_interchange, OutboundGroup, OutboundSet, WriteError, Writer};

use super::partner::PartnerProfile;
use super::{ts810, ts850, ts855, ts856};

/// Errors rendering a document.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The set is not one Tradelane renders.
    #[error("transaction set {0} cannot be rendered (850, 855, 856, 810)")]
    UnsupportedSet(String),
    /// The JSON is not a valid document of that kind.
    #[error("invalid {kind} document: {message}")]
    InvalidDocument {
        /// Expected document.
        kind: &'static str,
        /// serde's message (names the field).
        message: String,
    },
    /// The document cannot be written with the partner's delimiters.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Control numbers and timestamp of the interchange to write.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// ISA13.
    pub interchange_control: u64,
    /// GS06.
    pub group_control: u64,
    /// ST02 (4–9 characters).
    pub set_control: String,
    /// GS04, CCYYMMDD.
    pub date: String,
    /// GS05, HHMM.
    pub time: String,
}

fn parse<T: serde::de::DeserializeOwned>(kind: &'static str, json: &serde_json::Value) -> Result<T, RenderError> {
    serde_json::from_value(json.clone()).map_err(|e| RenderError::InvalidDocument {
        kind,
        message: e.to_string(),
    })
}

/// Renders one document as a whole interchange for `partner`.
pub fn render(set: &str, partner: &PartnerProfile, json: &serde_json::Value, opts: &RenderOptions) -> Result<String, RenderError> {
    let (functional_id, body) = match set {
        "850" => ("PO", ts850::write(&parse::<PurchaseOrder>("PurchaseOrder", json)?)),
        "855" => {
            // An 855 renders from an acknowledgment, or accepts a whole purchase order.
            let ack = match parse::<PurchaseOrderAck>("PurchaseOrderAck", json) {
                Ok(a) => a,
                Err(e) => match parse::<PurchaseOrder>("PurchaseOrder", json) {
                    Ok(po) => PurchaseOrderAck::accepting(&po),
                    Err(_) => return Err(e),
                },
            };
            ("PR", ts855::write(&ack))
        }
        "856" => ("SH", ts856::write(&parse::<ShipNotice>("ShipNotice", json)?)),
        "810" => ("IN", ts810::write(&parse::<Invoice>("Invoice", json)?)),
        other => return Err(RenderError::UnsupportedSet(other.to_string())),
    };
    let group = OutboundGroup {
        functional_id: functional_id.into(),
        version: partner.version.clone(),
        control_number: opts.group_control,
        sets: vec![OutboundSet {
            id: set.into(),
            control_number: opts.set_control.clone(),
            implementation_reference: None,
            body,
        }],
    };
    let mut w = Writer::new(Vec::new(), partner.delimiters, partner.newline);
    write_interchange(
        &mut w,
        &partner.outbound_parties(),
        opts.interchange_control,
        &opts.date,
        &opts.time,
        &[],
        &[group],
    )?;
    Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
}
