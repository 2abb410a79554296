//! 850 Purchase Order ⇄ [`PurchaseOrder`].

use crate::model::{Decimal, Party, PoLine, PurchaseOrder, Purpose, Text};
use crate::x12::envelope::TransactionSet;
use crate::x12::tree::OwnedSegment as S;

use super::partner::PartnerProfile;
use super::support::*;
use super::MappingError;

#[derive(Clone, Copy)]
enum Slot {
    Buyer,
    ShipTo,
    BillTo,
    Other,
}

/// Reads an 850.
pub fn read(set: &TransactionSet, partner: Option<&PartnerProfile>) -> Result<PurchaseOrder, MappingError> {
    let mut beg = None;
    let mut currency = None;
    let mut carrier = None;
    let mut requested_delivery = None;
    let (mut buyer, mut ship_to, mut bill_to) = (None::<Party>, None::<Party>, None::<Party>);
    let mut slot = Slot::Other;
    let mut lines: Vec<PoLine> = Vec::new();
    for (i, seg) in set.segments().enumerate() {
        // Split only the segments read below (ST, REF, CTT and SE are not).
        if !matches!(
            seg.id(),
            b"BEG" | b"CUR" | b"TD5" | b"DTM" | b"N1" | b"N2" | b"N3" | b"N4" | b"PO1" | b"PID"
        ) {
            continue;
        }
        let seg = seg.fields();
        let in_lines = !lines.is_empty();
        match seg.id() {
            b"BEG" => {
                let purpose = Purpose::from_code(seg.text(1)).ok_or_else(|| MappingError::Invalid {
                    segment: "BEG",
                    element: 1,
                    reason: format!("unknown purpose code {:?}", seg.text(1)),
                })?;
                beg = Some((purpose, opt(&seg, 2), req(&seg, "BEG", 3)?, date(&seg, "BEG", 5)?));
            }
            b"CUR" if currency.is_none() => currency = opt(&seg, 2),
            b"TD5" if !in_lines && carrier.is_none() => carrier = opt(&seg, 3).or_else(|| opt(&seg, 5)),
            b"DTM" if !in_lines && seg.text(1) == "002" => requested_delivery = opt_date(&seg, "DTM", 2)?,
            b"N1" if !in_lines => {
                slot = match seg.text(1) {
                    "BY" => Slot::Buyer,
                    "ST" => Slot::ShipTo,
                    "BT" => Slot::BillTo,
                    _ => Slot::Other,
                };
                if let Some(p) = slot_mut(slot, &mut buyer, &mut ship_to, &mut bill_to) {
                    *p = Party::default();
                    party_segment(&seg, p);
                }
            }
            b"N2" | b"N3" | b"N4" if !in_lines => {
                if let Some(p) = slot_mut(slot, &mut buyer, &mut ship_to, &mut bill_to) {
                    party_segment(&seg, p);
                }
            }
            b"PO1" => {
                if lines.is_empty() {
                    // Lines are mostly PO1 + PID: half the segments left is room for all.
                    lines.reserve(set.len().saturating_sub(i) / 2);
                }
                let mut line = PoLine {
                    line_number: opt(&seg, 1).unwrap_or_else(|| (lines.len() + 1).to_string().into()),
                    buyer_part_number: None,
                    vendor_part_number: None,
                    upc: None,
                    description: None,
                    quantity: decimal(&seg, "PO1", 2)?,
                    uom: req(&seg, "PO1", 3)?,
                    unit_price: amount(&seg, "PO1", 4)?,
                };
                for (q, v) in product_ids(&seg, 6) {
                    let slot = match q {
                        "VP" | "VN" => &mut line.vendor_part_number,
                        "BP" | "IN" => &mut line.buyer_part_number,
                        "UP" | "EN" => &mut line.upc,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = Some(v.into());
                    }
                }
                if let Some(p) = partner {
                    p.apply_line_cross_reference(&mut line.buyer_part_number, &mut line.vendor_part_number, &mut line.uom);
                }
                lines.push(line);
            }
            b"PID" if in_lines => {
                if let Some(l) = lines.last_mut() {
                    if l.description.is_none() {
                        l.description = opt(&seg, 5);
                    }
                }
            }
            _ => {}
        }
    }
    let (purpose, order_type, po_number, po_date) = beg.ok_or(MappingError::Missing("BEG"))?;
    let quantity_total = lines.iter().fold(Decimal::default(), |a, l| a + l.quantity);
    Ok(PurchaseOrder {
        po_number,
        po_date,
        purpose,
        order_type,
        currency: currency.or_else(|| partner.and_then(|p| p.defaults.currency.as_deref()).map(Text::from)),
        buyer,
        ship_to,
        bill_to,
        carrier,
        requested_delivery,
        line_count: lines.len(),
        quantity_total,
        lines,
    })
}

fn slot_mut<'a>(slot: Slot, by: &'a mut Option<Party>, st: &'a mut Option<Party>, bt: &'a mut Option<Party>) -> Option<&'a mut Party> {
    let target = match slot {
        Slot::Buyer => by,
        Slot::ShipTo => st,
        Slot::BillTo => bt,
        Slot::Other => return None,
    };
    Some(target.get_or_insert_with(Party::default))
}

/// Writes an 850 body (BEG … CTT).
pub fn write(po: &PurchaseOrder) -> Vec<S> {
    let mut out = vec![S::new("BEG")
        .el(po.purpose.code())
        .el(po.order_type.clone().unwrap_or_else(|| "SA".into()))
        .el(po.po_number.clone())
        .el("")
        .el(po.po_date.to_x12())];
    if let Some(c) = &po.currency {
        out.push(S::new("CUR").el("BY").el(c.clone()));
    }
    if let Some(d) = po.requested_delivery {
        out.push(S::new("DTM").el("002").el(d.to_x12()));
    }
    if let Some(c) = &po.carrier {
        out.push(S::new("TD5").el("").el("2").el(c.clone()));
    }
    for (code, party) in [("BY", &po.buyer), ("ST", &po.ship_to), ("BT", &po.bill_to)] {
        if let Some(p) = party {
            out.extend(party_segments(code, p));
        }
    }
    for l in &po.lines {
        let po1 = S::new("PO1")
            .el(l.line_number.clone())
            .el(l.quantity.to_string())
            .el(l.uom.clone())
            .opt(l.unit_price.as_ref().map(|p| p.to_string()))
            .el(if l.unit_price.is_some() { "PE" } else { "" });
        out.push(with_ids(
            po1,
            &[("VP", &l.vendor_part_number), ("BP", &l.buyer_part_number), ("UP", &l.upc)],
        ));
        if let Some(d) = &l.description {
            out.push(S::new("PID").el("F").el("").el("").el("").el(d.clone()));
        }
    }
    let total = po.lines.iter().fold(Decimal::default(), |a, l| a + l.quantity);
    out.push(S::new("CTT").el(po.lines.len().to_string()).el(total.to_string()));
    out
}
