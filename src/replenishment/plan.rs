//! The order a replenishment request calls for.
//!
//! Each position's part is followed to its current part, and positions of
//! superseded parts are added to the current part's. Then, per part, with
//! its class rule: available = on hand + on order − demand; at or below the
//! reorder point the order brings available up to max. Explicit order lines
//! are added on top. The quantity is raised to the class's minimum order and
//! rounded up to its order multiple.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::Date;

use super::{DealerPolicy, ReplenishmentError, Supersessions};

/// A replenishment request: stock positions (ordered from by the dealer's policy), explicit lines, or both.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplenishmentRequest {
    /// The dealer's own reference for this run (shown on the order).
    #[serde(default)]
    #[schema(example = "NIGHTLY-2026-11-25")]
    pub reference: Option<String>,
    /// Stock positions, ordered from by the dealer's policy.
    #[serde(default)]
    pub positions: Vec<StockPosition>,
    /// Parts ordered explicitly.
    #[serde(default)]
    pub lines: Vec<RequestLine>,
}

/// Stock of one part at the dealer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockPosition {
    /// Part number as the dealer knows it (1–48 characters; superseded numbers are followed to the current part).
    #[schema(min_length = 1, max_length = 48)]
    pub part: String,
    /// Units on the shelf (≥ 0).
    #[schema(minimum = 0)]
    pub on_hand: i64,
    /// Units already ordered and not received (≥ 0).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub on_order: i64,
    /// Units committed to repair orders and customers (≥ 0).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub demand: i64,
}

/// An explicit order line.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestLine {
    /// Part number as the dealer knows it (1–48 characters).
    #[schema(min_length = 1, max_length = 48)]
    pub part: String,
    /// Units wanted (> 0), added on top of what the positions call for.
    #[schema(minimum = 1)]
    pub quantity: i64,
}

/// One line of the order built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = DealerOrderLine)]
pub struct OrderLine {
    /// 1, 2, 3 … (PO101).
    pub line_number: u32,
    /// The part first named in the request for this line.
    pub requested_part: String,
    /// The current part, after supersessions: the one ordered.
    pub part: String,
    /// From the requested part to the ordered one.
    pub supersession_chain: Vec<String>,
    /// Other requested parts merged into this line (older numbers of the same part).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_parts: Vec<String>,
    /// The part class whose rule applied (none: the default rule).
    pub part_class: Option<String>,
    /// Units ordered.
    pub quantity: i64,
    /// Unit of measure.
    pub uom: String,
    /// On hand + on order − demand, when stock positions were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<i64>,
}

/// The most units of one part an order line, a stock figure or an explicit line may carry
/// (nine digits: an X12 quantity and an OEM's integer both hold it).
pub const MAX_QUANTITY: i64 = 999_999_999;

#[derive(Default)]
struct Tally {
    /// The request field that first named the part.
    field: String,
    requested: String,
    chain: Vec<String>,
    merged: Vec<String>,
    position: Option<(i64, i64, i64)>,
    explicit: i64,
}

fn invalid(field: String, reason: &str) -> ReplenishmentError {
    ReplenishmentError::Invalid {
        field,
        reason: reason.to_string(),
    }
}

/// Computes the order lines for `request` (empty: nothing to order).
///
/// # Errors
/// A supersession loop, an empty part, a negative stock figure, a
/// non-positive explicit quantity, a request with neither positions nor lines;
/// each names the field.
pub fn plan(
    policy: &DealerPolicy,
    supersessions: &Supersessions,
    request: &ReplenishmentRequest,
    today: Date,
) -> Result<Vec<OrderLine>, ReplenishmentError> {
    if request.positions.is_empty() && request.lines.is_empty() {
        return Err(invalid("positions".into(), "give stock positions or order lines"));
    }
    let mut order: Vec<String> = Vec::new();
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    let mut tally = |field: String, part: &str| -> Result<String, ReplenishmentError> {
        let part = part.trim();
        if part.is_empty() || part.len() > 48 {
            return Err(invalid(field, "a part number of 1-48 characters is required"));
        }
        let r = supersessions
            .resolve(part, today)
            .map_err(|chain| ReplenishmentError::SupersessionLoop {
                field: field.clone(),
                part: part.to_string(),
                chain,
            })?;
        if !tallies.contains_key(&r.part) {
            order.push(r.part.clone());
        }
        let current = r.part.clone();
        let t = tallies.entry(r.part).or_insert_with(|| Tally {
            field,
            requested: part.to_string(),
            chain: r.chain,
            ..Tally::default()
        });
        if t.requested != part && !t.merged.iter().any(|m| m == part) {
            t.merged.push(part.to_string());
        }
        Ok(current)
    };
    let mut positions = Vec::new();
    for (i, p) in request.positions.iter().enumerate() {
        for (name, v) in [("on_hand", p.on_hand), ("on_order", p.on_order), ("demand", p.demand)] {
            if v < 0 {
                return Err(invalid(format!("positions[{i}].{name}"), "must not be negative"));
            }
            if v > MAX_QUANTITY {
                return Err(invalid(format!("positions[{i}].{name}"), "must be at most 999999999"));
            }
        }
        positions.push((tally(format!("positions[{i}].part"), &p.part)?, p));
    }
    let mut explicit = Vec::new();
    for (i, l) in request.lines.iter().enumerate() {
        if l.quantity < 1 {
            return Err(invalid(format!("lines[{i}].quantity"), "must be at least 1"));
        }
        if l.quantity > MAX_QUANTITY {
            return Err(invalid(format!("lines[{i}].quantity"), "must be at most 999999999"));
        }
        explicit.push((i, tally(format!("lines[{i}].part"), &l.part)?, l.quantity));
    }
    for (part, p) in positions {
        if let Some(t) = tallies.get_mut(&part) {
            let (h, o, d) = t.position.unwrap_or_default();
            t.position = Some((
                h.saturating_add(p.on_hand),
                o.saturating_add(p.on_order),
                d.saturating_add(p.demand),
            ));
        }
    }
    for (i, part, q) in explicit {
        if let Some(t) = tallies.get_mut(&part) {
            t.explicit = t.explicit.saturating_add(q);
            if t.explicit > MAX_QUANTITY {
                return Err(invalid(
                    format!("lines[{i}].quantity"),
                    "the lines for this part add up to more than 999999999",
                ));
            }
        }
    }
    let mut lines = Vec::new();
    for part in order {
        let t = &tallies[&part];
        let (class, rule) = policy.rule_for(&part);
        let available = t.position.map(|(h, o, d)| h.saturating_add(o).saturating_sub(d));
        let reorder = match available {
            Some(a) if a <= rule.reorder_point => rule.max.saturating_sub(a),
            _ => 0,
        };
        let wanted = reorder.saturating_add(t.explicit);
        if wanted <= 0 {
            continue;
        }
        let wanted = wanted.max(rule.min_order);
        let m = rule.order_multiple;
        let quantity = (wanted / m + i64::from(wanted % m != 0)).saturating_mul(m);
        if quantity > MAX_QUANTITY {
            return Err(invalid(
                t.field.clone(),
                &format!("the order quantity for part {part} would be more than 999999999"),
            ));
        }
        lines.push(OrderLine {
            line_number: lines.len() as u32 + 1,
            requested_part: t.requested.clone(),
            part: part.clone(),
            supersession_chain: t.chain.clone(),
            merged_parts: t.merged.clone(),
            part_class: class.map(str::to_string),
            quantity,
            uom: "EA".into(),
            available,
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::super::policy::tests::POLICY;
    use super::*;

    fn setup() -> (DealerPolicy, Supersessions) {
        let p = DealerPolicy::parse(POLICY, "p.toml", |_| Some("s".into())).unwrap();
        let s = Supersessions::parse("old_part,new_part\nFL-1A,FL-1AZ\nFL-1AZ,FL-500S\nBR-9,BR-10\nBR-10,BR-9\n", "s.csv").unwrap();
        (p, s)
    }

    fn day() -> Date {
        Date::new(2024, 3, 12).unwrap()
    }

    fn pos(part: &str, on_hand: i64, on_order: i64, demand: i64) -> StockPosition {
        StockPosition {
            part: part.into(),
            on_hand,
            on_order,
            demand,
        }
    }

    #[test]
    fn orders_up_to_max_rounded_to_the_case_pack() {
        let (p, s) = setup();
        let req = ReplenishmentRequest {
            positions: vec![
                pos("FL-820S", 5, 12, 10), // available 7 <= 12: 48 - 7 = 41 -> 48 (multiple of 12)
                pos("SP-589", 4, 0, 1),    // available 3 > 1 (default rule): nothing
                pos("BR-1", 2, 0, 0),      // available 2 <= 2: 6 - 2 = 4 (min 4, multiple 2)
                pos("BR-2", 5, 0, 0),      // available 5 > 2: nothing
            ],
            ..Default::default()
        };
        let lines = plan(&p, &s, &req, day()).unwrap();
        let got: Vec<(&str, i64, Option<i64>)> = lines.iter().map(|l| (l.part.as_str(), l.quantity, l.available)).collect();
        assert_eq!(got, vec![("FL-820S", 48, Some(7)), ("BR-1", 4, Some(2))]);
        assert_eq!((lines[0].line_number, lines[1].line_number), (1, 2));
        assert_eq!(lines[0].part_class.as_deref(), Some("filters"));
    }

    #[test]
    fn merges_superseded_positions_into_the_current_part() {
        let (p, s) = setup();
        let req = ReplenishmentRequest {
            positions: vec![pos("FL-1A", 2, 0, 0), pos("FL-500S", 1, 0, 4)],
            ..Default::default()
        };
        let lines = plan(&p, &s, &req, day()).unwrap();
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        // available 2 + 1 - 4 = -1 <= 6: 24 + 1 = 25 -> 30 (multiple of 6, "long-life filters").
        assert_eq!((l.part.as_str(), l.quantity, l.available), ("FL-500S", 30, Some(-1)));
        assert_eq!(l.requested_part, "FL-1A");
        assert_eq!(l.supersession_chain, vec!["FL-1A", "FL-1AZ", "FL-500S"]);
        assert_eq!(l.merged_parts, vec!["FL-500S"]);
        assert_eq!(l.part_class.as_deref(), Some("long-life filters"));
    }

    #[test]
    fn explicit_lines_are_raised_to_the_minimum_and_the_multiple() {
        let (p, s) = setup();
        let req = ReplenishmentRequest {
            positions: vec![pos("BR-2", 5, 0, 0)],
            lines: vec![
                RequestLine {
                    part: "BR-2".into(),
                    quantity: 1,
                }, // min_order 4
                RequestLine {
                    part: "FL-1AZ".into(),
                    quantity: 13,
                }, // -> FL-500S, multiple 6: 18
                RequestLine {
                    part: "SP-589".into(),
                    quantity: 3,
                }, // default rule: 3
            ],
            ..Default::default()
        };
        let lines = plan(&p, &s, &req, day()).unwrap();
        let got: Vec<(&str, i64)> = lines.iter().map(|l| (l.part.as_str(), l.quantity)).collect();
        assert_eq!(got, vec![("BR-2", 4), ("FL-500S", 18), ("SP-589", 3)]);
    }

    #[test]
    fn names_the_field_of_a_loop_or_a_bad_value() {
        let (p, s) = setup();
        let req = ReplenishmentRequest {
            positions: vec![pos("SP-589", 1, 0, 0), pos("BR-9", 1, 0, 0)],
            ..Default::default()
        };
        let e = plan(&p, &s, &req, day()).unwrap_err();
        assert_eq!(
            e,
            ReplenishmentError::SupersessionLoop {
                field: "positions[1].part".into(),
                part: "BR-9".into(),
                chain: vec!["BR-9".into(), "BR-10".into(), "BR-9".into()],
            }
        );
        assert_eq!(
            e.to_string(),
            "positions[1].part: part BR-9 is superseded in a loop (BR-9 -> BR-10 -> BR-9)"
        );
        let req = ReplenishmentRequest {
            lines: vec![RequestLine {
                part: "SP-589".into(),
                quantity: 0,
            }],
            ..Default::default()
        };
        assert_eq!(plan(&p, &s, &req, day()).unwrap_err().field(), "lines[0].quantity");
        let req = ReplenishmentRequest {
            positions: vec![pos("SP-589", 1, -2, 0)],
            ..Default::default()
        };
        assert_eq!(plan(&p, &s, &req, day()).unwrap_err().field(), "positions[0].on_order");
        assert_eq!(
            plan(&p, &s, &ReplenishmentRequest::default(), day()).unwrap_err().field(),
            "positions"
        );
    }
}
