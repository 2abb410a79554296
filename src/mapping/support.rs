//! Helpers shared by the set mappings: typed element access and N1 loops.
//!
//! Typed values (dates, decimals, amounts) are parsed straight from the
//! segment's text; a `String` is made only for what the document keeps.

use crate::model::{Amount, Date, Decimal, Party};
use crate::x12::Fields;

use super::MappingError;

/// Element `n` as an owned string (`String` or `Text`), `None` when empty.
pub fn opt<'a, T: From<&'a str>>(seg: &Fields<'a>, n: usize) -> Option<T> {
    present(seg, n).map(T::from)
}

/// Element `n` as borrowed text, `None` when empty.
fn present<'a>(seg: &Fields<'a>, n: usize) -> Option<&'a str> {
    let t = seg.text(n);
    (!t.is_empty()).then_some(t)
}

/// Element `n` as borrowed text, required.
fn required<'a>(seg: &Fields<'a>, id: &'static str, n: usize) -> Result<&'a str, MappingError> {
    present(seg, n).ok_or_else(|| MappingError::Invalid {
        segment: id,
        element: n,
        reason: "value is missing".into(),
    })
}

/// Element `n` as an owned string (`String` or `Text`), required.
pub fn req<'a, T: From<&'a str>>(seg: &Fields<'a>, id: &'static str, n: usize) -> Result<T, MappingError> {
    required(seg, id, n).map(T::from)
}

/// Element `n` as a CCYYMMDD date, required.
pub fn date(seg: &Fields<'_>, id: &'static str, n: usize) -> Result<Date, MappingError> {
    Date::from_x12(required(seg, id, n)?).map_err(|e| invalid(id, n, e))
}

/// Element `n` as a date when present.
pub fn opt_date(seg: &Fields<'_>, id: &'static str, n: usize) -> Result<Option<Date>, MappingError> {
    present(seg, n)
        .map(|v| Date::from_x12(v).map_err(|e| invalid(id, n, e)))
        .transpose()
}

/// Element `n` as a decimal, required.
pub fn decimal(seg: &Fields<'_>, id: &'static str, n: usize) -> Result<Decimal, MappingError> {
    required(seg, id, n)?.parse().map_err(|e| invalid(id, n, e))
}

/// Element `n` as a price when present.
pub fn amount(seg: &Fields<'_>, id: &'static str, n: usize) -> Result<Option<Amount>, MappingError> {
    present(seg, n).map(|v| v.parse().map_err(|e| invalid(id, n, e))).transpose()
}

/// An N0/N2 integer (implied decimals), required.
pub fn integer(seg: &Fields<'_>, id: &'static str, n: usize) -> Result<i64, MappingError> {
    required(seg, id, n)?.parse().map_err(|e| invalid(id, n, e))
}

fn invalid(segment: &'static str, element: usize, e: impl std::fmt::Display) -> MappingError {
    MappingError::Invalid {
        segment,
        element,
        reason: e.to_string(),
    }
}

/// Product id pairs (qualifier, id) from element `from` on: `VP*BP-1*BP*X`.
pub fn product_ids<'a, 's>(seg: &'s Fields<'a>, from: usize) -> impl Iterator<Item = (&'a str, &'a str)> + 's {
    (from..seg.len())
        .step_by(2)
        .map(|n| (seg.text(n), seg.text(n + 1)))
        .filter(|(q, v)| !q.is_empty() && !v.is_empty())
}

/// Applies N1/N3/N4 to a party.
pub fn party_segment(seg: &Fields<'_>, party: &mut Party) {
    match seg.id() {
        b"N1" => {
            party.name = opt(seg, 2);
            party.id_qualifier = opt(seg, 3);
            party.id = opt(seg, 4);
        }
        b"N3" => {
            if party.address1.is_none() {
                party.address1 = opt(seg, 1);
                party.address2 = opt(seg, 2);
            } else if party.address2.is_none() {
                party.address2 = opt(seg, 1);
            }
        }
        b"N4" => {
            party.city = opt(seg, 1);
            party.state = opt(seg, 2);
            party.postal_code = opt(seg, 3);
            party.country = opt(seg, 4);
        }
        _ => {}
    }
}

/// N1/N3/N4 segments for a party with entity code `entity`.
pub fn party_segments(entity: &str, p: &Party) -> Vec<crate::x12::tree::OwnedSegment> {
    use crate::x12::tree::OwnedSegment as S;
    let mut out = vec![S::new("N1")
        .el(entity)
        .opt(p.name.clone())
        .opt(p.id_qualifier.clone())
        .opt(p.id.clone())];
    if p.address1.is_some() {
        out.push(S::new("N3").opt(p.address1.clone()).opt(p.address2.clone()));
    }
    if p.city.is_some() || p.state.is_some() || p.postal_code.is_some() || p.country.is_some() {
        out.push(
            S::new("N4")
                .opt(p.city.clone())
                .opt(p.state.clone())
                .opt(p.postal_code.clone())
                .opt(p.country.clone()),
        );
    }
    out
}

/// Product id pairs to append to a segment: only those present.
pub fn with_ids<T: Clone + Into<String>>(
    mut seg: crate::x12::tree::OwnedSegment,
    ids: &[(&str, &Option<T>)],
) -> crate::x12::tree::OwnedSegment {
    for (q, v) in ids {
        if let Some(v) = v {
            seg = seg.el(*q).el(v.clone());
        }
    }
    seg
}
