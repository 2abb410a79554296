//! X12 in, canonical documents out, one per transaction set.

use serde::Serialize;

use crate::model::{Document, Text};
use crate::x12::ack::{check, CheckReport};
use crate::x12::envelope::TransactionSet;
use crate::x12::schema::Registry;
use crate::x12::{EnvelopeReader, SegmentSource};

use super::partner::{PartnerProfile, Partners};
use super::{ts810, ts850, ts855, ts856, ts997, MappingError};

/// One translated transaction set.
#[derive(Debug, Clone, Serialize)]
pub struct Translated {
    /// ST01.
    pub set: Text,
    /// ST02.
    pub control_number: Text,
    /// GS06 of its group.
    pub group_control_number: Text,
    /// ISA sender id.
    pub sender: Text,
    /// The partner profile matched by the ISA sender, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<Text>,
    /// True when the set passed validation.
    pub accepted: bool,
    /// The document, tagged with `type`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// Why no document could be made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Maps one set to its document.
pub fn read_document(set: &TransactionSet, partner: Option<&PartnerProfile>) -> Result<Document, MappingError> {
    Ok(match set.id.as_str() {
        "850" => Document::PurchaseOrder(ts850::read(set, partner)?),
        "855" => Document::PurchaseOrderAck(ts855::read(set)?),
        "856" => Document::ShipNotice(ts856::read(set)?),
        "810" => Document::Invoice(ts810::read(set)?),
        "997" | "999" => Document::FunctionalAck(ts997::read(set)?),
        other => return Err(MappingError::Unsupported(other.to_string())),
    })
}

/// Validates and translates every set of a source, streaming: `emit` gets
/// each document as soon as its set is read. Returns the validation report.
pub fn translate<S: SegmentSource>(registry: &Registry, partners: &Partners, source: S, mut emit: impl FnMut(Translated)) -> CheckReport {
    check(registry, EnvelopeReader::new(source), |group, set, r| {
        let partner = partners
            .iter()
            .find(|p| p.interchange.gs_id == group.sender || p.interchange.id == group.sender);
        let (document, error) = match read_document(set, partner) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        emit(Translated {
            set: set.id.as_str().into(),
            control_number: set.control_number.as_str().into(),
            group_control_number: group.control_number.as_str().into(),
            sender: group.sender.as_str().into(),
            partner: partner.map(|p| p.id.as_str().into()),
            accepted: r.accepted(),
            document,
            error,
        });
    })
}
