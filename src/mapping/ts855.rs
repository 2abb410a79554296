//! 855 Purchase Order Acknowledgment ⇄ [`PurchaseOrderAck`].

use crate::model::{PoAckLine, PurchaseOrderAck};
use crate::x12::envelope::TransactionSet;
use crate::x12::tree::OwnedSegment as S;

use super::support::*;
use super::MappingError;

/// Reads an 855.
pub fn read(set: &TransactionSet) -> Result<PurchaseOrderAck, MappingError> {
    let mut head = None;
    let mut lines: Vec<PoAckLine> = Vec::new();
    for seg in set.segments() {
        let seg = seg.fields();
        match seg.id() {
            b"BAK" => {
                head = Some((
                    req(&seg, "BAK", 2)?,
                    req(&seg, "BAK", 3)?,
                    date(&seg, "BAK", 4)?,
                    opt_date(&seg, "BAK", 9)?,
                ))
            }
            b"PO1" => {
                let mut line = PoAckLine {
                    line_number: opt(&seg, 1).unwrap_or_else(|| (lines.len() + 1).to_string()),
                    status: String::new(),
                    quantity: decimal(&seg, "PO1", 2)?,
                    uom: req(&seg, "PO1", 3)?,
                    vendor_part_number: None,
                    buyer_part_number: None,
                    unit_price: amount(&seg, "PO1", 4)?,
                    date: None,
                };
                for (q, v) in product_ids(&seg, 6) {
                    match q {
                        "VP" => line.vendor_part_number = Some(v.into()),
                        "BP" => line.buyer_part_number = Some(v.into()),
                        _ => {}
                    }
                }
                lines.push(line);
            }
            b"ACK" => {
                if let Some(l) = lines.last_mut() {
                    if l.status.is_empty() {
                        l.status = req(&seg, "ACK", 1)?;
                        if !seg.text(2).is_empty() {
                            l.quantity = decimal(&seg, "ACK", 2)?;
                        }
                        if let Some(u) = opt(&seg, 3) {
                            l.uom = u;
                        }
                        l.date = opt_date(&seg, "ACK", 5)?;
                    }
                }
            }
            _ => {}
        }
    }
    let (ack_type, po_number, po_date, ack_date) = head.ok_or(MappingError::Missing("BAK"))?;
    Ok(PurchaseOrderAck {
        po_number,
        po_date,
        ack_type,
        ack_date,
        lines,
    })
}

/// Writes an 855 body (BAK … CTT).
pub fn write(ack: &PurchaseOrderAck) -> Vec<S> {
    let mut out = vec![S::new("BAK")
        .el("00")
        .el(ack.ack_type.clone())
        .el(ack.po_number.clone())
        .el(ack.po_date.to_x12())
        .el("")
        .el("")
        .el("")
        .el("")
        .opt(ack.ack_date.map(|d| d.to_x12()))];
    for l in &ack.lines {
        let po1 = S::new("PO1")
            .el(l.line_number.clone())
            .el(l.quantity.to_string())
            .el(l.uom.clone())
            .opt(l.unit_price.as_ref().map(|p| p.to_string()))
            .el(if l.unit_price.is_some() { "PE" } else { "" });
        out.push(with_ids(po1, &[("VP", &l.vendor_part_number), ("BP", &l.buyer_part_number)]));
        let mut a = S::new("ACK").el(l.status.clone()).el(l.quantity.to_string()).el(l.uom.clone());
        if let Some(d) = l.date {
            a = a.el("068").el(d.to_x12());
        }
        out.push(a);
    }
    out.push(S::new("CTT").el(ack.lines.len().to_string()));
    out
}
