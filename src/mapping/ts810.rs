//! 810 Invoice ⇄ [`Invoice`]. TDS01 and SAC05 are N2: whole cents, no point.

use crate::model::{Charge, Decimal, Invoice, InvoiceLine, Party};
use crate::x12::envelope::TransactionSet;
use crate::x12::tree::OwnedSegment as S;

use super::support::*;
use super::MappingError;

/// Reads an 810.
pub fn read(set: &TransactionSet) -> Result<Invoice, MappingError> {
    let mut big = None;
    let mut currency = None;
    let (mut remit_to, mut ship_to) = (None::<Party>, None::<Party>);
    let mut party: Option<&str> = None;
    let mut lines: Vec<InvoiceLine> = Vec::new();
    let mut charges = Vec::new();
    let mut total = None;
    for seg in set.segments() {
        let seg = seg.fields();
        match seg.id() {
            b"BIG" => {
                big = Some((
                    date(&seg, "BIG", 1)?,
                    req(&seg, "BIG", 2)?,
                    opt_date(&seg, "BIG", 3)?,
                    req(&seg, "BIG", 4)?,
                ))
            }
            b"CUR" if currency.is_none() => currency = opt(&seg, 2),
            b"N1" if lines.is_empty() => {
                party = match seg.text(1) {
                    "RI" => Some("RI"),
                    "ST" => Some("ST"),
                    _ => None,
                };
                if let Some(p) = target(party, &mut remit_to, &mut ship_to) {
                    party_segment(&seg, p);
                }
            }
            b"N3" | b"N4" if lines.is_empty() => {
                if let Some(p) = target(party, &mut remit_to, &mut ship_to) {
                    party_segment(&seg, p);
                }
            }
            b"IT1" => {
                let mut line = InvoiceLine {
                    line_number: opt(&seg, 1).unwrap_or_else(|| (lines.len() + 1).to_string()),
                    quantity: decimal(&seg, "IT1", 2)?,
                    uom: req(&seg, "IT1", 3)?,
                    unit_price: amount(&seg, "IT1", 4)?.ok_or_else(|| MappingError::Invalid {
                        segment: "IT1",
                        element: 4,
                        reason: "value is missing".into(),
                    })?,
                    vendor_part_number: None,
                    buyer_part_number: None,
                    description: None,
                };
                for (q, v) in product_ids(&seg, 6) {
                    match q {
                        "VP" | "VN" if line.vendor_part_number.is_none() => line.vendor_part_number = Some(v.into()),
                        "BP" | "IN" if line.buyer_part_number.is_none() => line.buyer_part_number = Some(v.into()),
                        _ => {}
                    }
                }
                lines.push(line);
            }
            b"PID" if total.is_none() => {
                if let Some(l) = lines.last_mut() {
                    if l.description.is_none() {
                        l.description = opt(&seg, 5);
                    }
                }
            }
            b"TDS" => total = Some(integer(&seg, "TDS", 1)?),
            b"SAC" => {
                let cents = if seg.text(5).is_empty() { 0 } else { integer(&seg, "SAC", 5)? };
                let sign = match seg.text(1) {
                    "A" => -1,
                    "C" => 1,
                    _ => 0,
                };
                charges.push(Charge {
                    code: req(&seg, "SAC", 2)?,
                    amount_cents: sign * cents,
                    description: opt(&seg, 15),
                });
            }
            _ => {}
        }
    }
    let (invoice_date, invoice_number, po_date, po_number) = big.ok_or(MappingError::Missing("BIG"))?;
    Ok(Invoice {
        invoice_number,
        invoice_date,
        po_number,
        po_date,
        currency,
        remit_to,
        ship_to,
        lines,
        charges,
        total_cents: total.ok_or(MappingError::Missing("TDS"))?,
    })
}

fn target<'a>(code: Option<&str>, ri: &'a mut Option<Party>, st: &'a mut Option<Party>) -> Option<&'a mut Party> {
    match code {
        Some("RI") => Some(ri.get_or_insert_with(Party::default)),
        Some("ST") => Some(st.get_or_insert_with(Party::default)),
        _ => None,
    }
}

/// Writes an 810 body (BIG … CTT); TDS01 is computed from lines and charges.
pub fn write(inv: &Invoice) -> Vec<S> {
    let mut out = vec![S::new("BIG")
        .el(inv.invoice_date.to_x12())
        .el(inv.invoice_number.clone())
        .opt(inv.po_date.map(|d| d.to_x12()))
        .el(inv.po_number.clone())];
    if let Some(c) = &inv.currency {
        out.push(S::new("CUR").el("SE").el(c.clone()));
    }
    for (code, party) in [("RI", &inv.remit_to), ("ST", &inv.ship_to)] {
        if let Some(p) = party {
            out.extend(party_segments(code, p));
        }
    }
    let mut qty = Decimal::default();
    for l in &inv.lines {
        let it1 = S::new("IT1")
            .el(l.line_number.clone())
            .el(l.quantity.to_string())
            .el(l.uom.clone())
            .el(l.unit_price.to_string())
            .el("PE");
        out.push(with_ids(it1, &[("VP", &l.vendor_part_number), ("BP", &l.buyer_part_number)]));
        if let Some(d) = &l.description {
            out.push(S::new("PID").el("F").el("").el("").el("").el(d.clone()));
        }
        qty = qty + l.quantity;
    }
    out.push(S::new("TDS").el(inv.computed_total_cents().to_string()));
    for c in &inv.charges {
        let (kind, cents) = if c.amount_cents < 0 {
            ("A", -c.amount_cents)
        } else {
            ("C", c.amount_cents)
        };
        let mut sac = S::new("SAC").el(kind).el(c.code.clone()).el("").el("").el(cents.to_string());
        if let Some(d) = &c.description {
            sac = sac.el("").el("").el("").el("").el("").el("").el("").el("").el("").el(d.clone());
        }
        out.push(sac);
    }
    out.push(S::new("CTT").el(inv.lines.len().to_string()).el(qty.to_string()));
    out
}
