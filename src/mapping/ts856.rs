//! 856 Ship Notice ⇄ [`ShipNotice`].
//!
//! Reading follows HL02 parents, so any level order (S,O,P,I or S,O,I,P,
//! tare levels, parents that jump back) lands items in the right order and
//! pack. Writing numbers HL01 1, 2, 3 … top-down, left-right, with HL02 and
//! HL04 computed, in the pick/pack structure (BSN05 `0001`).

use std::collections::HashMap;

use crate::model::{Decimal, Pack, Party, ShipItem, ShipNotice, ShipOrder};
use crate::x12::envelope::TransactionSet;
use crate::x12::tree::OwnedSegment as S;

use super::support::*;
use super::MappingError;

/// Where an HL level points into the notice being built.
#[derive(Clone, Copy, Default)]
struct Node {
    order: Option<usize>,
    pack: Option<usize>,
    item: Option<usize>,
}

/// Reads an 856.
pub fn read(set: &TransactionSet) -> Result<ShipNotice, MappingError> {
    let mut bsn = None;
    let mut notice_carrier = None;
    let (mut tracking, mut bol, mut weight, mut weight_uom) = (None, None, None, None);
    let (mut ship_from, mut ship_to) = (None::<Party>, None::<Party>);
    let mut party: Option<&str> = None;
    let mut orders: Vec<ShipOrder> = Vec::new();
    let mut nodes: HashMap<String, Node> = HashMap::new();
    let mut level = b'S';
    let mut here = Node::default();
    for seg in set.segments() {
        let seg = seg.fields();
        match seg.id() {
            b"BSN" => bsn = Some((req(&seg, "BSN", 2)?, date(&seg, "BSN", 3)?, opt(&seg, 4))),
            b"HL" => {
                let parent = nodes.get(seg.text(2)).copied().unwrap_or_default();
                level = seg.text(3).bytes().next().unwrap_or(b'?');
                here = parent;
                match level {
                    b'O' => {
                        orders.push(ShipOrder {
                            po_number: String::new(),
                            po_date: None,
                            packs: Vec::new(),
                        });
                        here = Node {
                            order: Some(orders.len() - 1),
                            ..Node::default()
                        };
                    }
                    b'T' | b'P' => {
                        let o = order_index(&mut orders, here.order);
                        match (level, here.item, here.pack) {
                            // S,O,I,P: the pack level under an item names that item's pack.
                            (b'P', Some(_), Some(p)) => here.pack = Some(p),
                            _ => {
                                orders[o].packs.push(Pack {
                                    sscc: None,
                                    items: Vec::new(),
                                });
                                here = Node {
                                    order: Some(o),
                                    pack: Some(orders[o].packs.len() - 1),
                                    item: None,
                                };
                            }
                        }
                    }
                    b'I' => {
                        let o = order_index(&mut orders, here.order);
                        let p = match here.pack {
                            Some(p) => p,
                            None => {
                                orders[o].packs.push(Pack {
                                    sscc: None,
                                    items: Vec::new(),
                                });
                                orders[o].packs.len() - 1
                            }
                        };
                        orders[o].packs[p].items.push(ShipItem {
                            vendor_part_number: None,
                            buyer_part_number: None,
                            quantity: Decimal::default(),
                            uom: "EA".into(),
                            line_number: None,
                        });
                        here = Node {
                            order: Some(o),
                            pack: Some(p),
                            item: Some(orders[o].packs[p].items.len() - 1),
                        };
                    }
                    _ => {}
                }
                nodes.insert(seg.text(1).to_string(), here);
                party = None;
            }
            b"TD5" if level == b'S' && notice_carrier.is_none() => notice_carrier = opt(&seg, 3),
            b"TD1" if level == b'S' && weight.is_none() => {
                if let Some(w) = opt::<String>(&seg, 7) {
                    weight = Some(w.parse::<Decimal>().map_err(|e| MappingError::Invalid {
                        segment: "TD1",
                        element: 7,
                        reason: e.to_string(),
                    })?);
                    weight_uom = opt(&seg, 8);
                }
            }
            b"REF" if level == b'S' => match seg.text(1) {
                "CN" if tracking.is_none() => tracking = opt(&seg, 2),
                "BM" if bol.is_none() => bol = opt(&seg, 2),
                _ => {}
            },
            b"N1" if level == b'S' => {
                party = match seg.text(1) {
                    "SF" => Some("SF"),
                    "ST" => Some("ST"),
                    _ => None,
                };
                if let Some(p) = party_target(party, &mut ship_from, &mut ship_to) {
                    party_segment(&seg, p);
                }
            }
            b"N3" | b"N4" if level == b'S' => {
                if let Some(p) = party_target(party, &mut ship_from, &mut ship_to) {
                    party_segment(&seg, p);
                }
            }
            b"PRF" => {
                if let Some(o) = here.order {
                    orders[o].po_number = req(&seg, "PRF", 1)?;
                    orders[o].po_date = opt_date(&seg, "PRF", 4)?;
                }
            }
            b"MAN" => {
                if let (Some(o), Some(p)) = (here.order, here.pack) {
                    if orders[o].packs[p].sscc.is_none() {
                        orders[o].packs[p].sscc = opt(&seg, 2);
                    }
                }
            }
            b"LIN" | b"SN1" => {
                if let (Some(o), Some(p), Some(i)) = (here.order, here.pack, here.item) {
                    let item = &mut orders[o].packs[p].items[i];
                    if seg.is("LIN") {
                        item.line_number = item.line_number.take().or_else(|| opt(&seg, 1));
                        for (q, v) in product_ids(&seg, 2) {
                            match q {
                                "VP" | "VN" if item.vendor_part_number.is_none() => item.vendor_part_number = Some(v.into()),
                                "BP" | "IN" if item.buyer_part_number.is_none() => item.buyer_part_number = Some(v.into()),
                                _ => {}
                            }
                        }
                    } else {
                        item.quantity = decimal(&seg, "SN1", 2)?;
                        item.uom = req(&seg, "SN1", 3)?;
                        if item.line_number.is_none() {
                            item.line_number = opt(&seg, 1);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let (shipment_id, ship_date, ship_time) = bsn.ok_or(MappingError::Missing("BSN"))?;
    for o in &mut orders {
        o.packs.retain(|p| !p.items.is_empty() || p.sscc.is_some());
    }
    Ok(ShipNotice {
        shipment_id,
        ship_date,
        ship_time,
        carrier: notice_carrier,
        tracking_number: tracking,
        bill_of_lading: bol,
        weight,
        weight_uom,
        ship_from,
        ship_to,
        orders,
    })
}

fn order_index(orders: &mut Vec<ShipOrder>, o: Option<usize>) -> usize {
    o.unwrap_or_else(|| {
        orders.push(ShipOrder {
            po_number: String::new(),
            po_date: None,
            packs: Vec::new(),
        });
        orders.len() - 1
    })
}

fn party_target<'a>(code: Option<&str>, sf: &'a mut Option<Party>, st: &'a mut Option<Party>) -> Option<&'a mut Party> {
    match code {
        Some("SF") => Some(sf.get_or_insert_with(Party::default)),
        Some("ST") => Some(st.get_or_insert_with(Party::default)),
        _ => None,
    }
}

/// Writes an 856 body (BSN … CTT) with HL numbering computed.
pub fn write(n: &ShipNotice) -> Vec<S> {
    let mut out = vec![
        S::new("BSN")
            .el("00")
            .el(n.shipment_id.clone())
            .el(n.ship_date.to_x12())
            .el(n.ship_time.clone().unwrap_or_else(|| "0000".into()))
            .el("0001"),
        S::new("DTM").el("011").el(n.ship_date.to_x12()),
    ];
    let mut hl = 0usize;
    let mut next_hl = |parent: Option<usize>, level: &str, has_children: bool, out: &mut Vec<S>| {
        hl += 1;
        out.push(
            S::new("HL")
                .el(hl.to_string())
                .opt(parent.map(|p| p.to_string()))
                .el(level)
                .el(if has_children { "1" } else { "0" }),
        );
        hl
    };
    let s = next_hl(None, "S", !n.orders.is_empty(), &mut out);
    let packs: usize = n.orders.iter().map(|o| o.packs.len()).sum();
    if let Some(w) = n.weight {
        out.push(
            S::new("TD1")
                .el("CTN25")
                .el(packs.to_string())
                .el("")
                .el("")
                .el("")
                .el("G")
                .el(w.to_string())
                .el(n.weight_uom.clone().unwrap_or_else(|| "LB".into())),
        );
    }
    if let Some(c) = &n.carrier {
        out.push(S::new("TD5").el("").el("2").el(c.clone()));
    }
    if let Some(b) = &n.bill_of_lading {
        out.push(S::new("REF").el("BM").el(b.clone()));
    }
    if let Some(t) = &n.tracking_number {
        out.push(S::new("REF").el("CN").el(t.clone()));
    }
    for (code, party) in [("SF", &n.ship_from), ("ST", &n.ship_to)] {
        if let Some(p) = party {
            out.extend(party_segments(code, p));
        }
    }
    let mut hash = Decimal::default();
    for o in &n.orders {
        let oh = next_hl(Some(s), "O", !o.packs.is_empty(), &mut out);
        out.push(
            S::new("PRF")
                .el(o.po_number.clone())
                .el("")
                .el("")
                .opt(o.po_date.map(|d| d.to_x12())),
        );
        for p in &o.packs {
            let ph = next_hl(Some(oh), "P", !p.items.is_empty(), &mut out);
            if let Some(sscc) = &p.sscc {
                out.push(S::new("MAN").el("GM").el(sscc.clone()));
            }
            for it in &p.items {
                next_hl(Some(ph), "I", false, &mut out);
                let lin = S::new("LIN").opt(it.line_number.clone());
                out.push(with_ids(lin, &[("VP", &it.vendor_part_number), ("BP", &it.buyer_part_number)]));
                out.push(
                    S::new("SN1")
                        .opt(it.line_number.clone())
                        .el(it.quantity.to_string())
                        .el(it.uom.clone()),
                );
                hash = hash + it.quantity;
            }
        }
    }
    out.push(S::new("CTT").el(hl.to_string()).el(hash.to_string()));
    out
}
