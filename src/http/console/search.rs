//! The search form of the document and interchange lists: parsing the query
//! into a [`ConsoleFilter`] (bad values are a 400, never a panic) and
//! rendering the form and the pager.

use serde::Deserialize;

use super::error::ConsoleError;
use super::html::{parse_date, Html};
use crate::store::ConsoleFilter;

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// The query string as typed.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    partner: Option<String>,
    reference: Option<String>,
    control_number: Option<String>,
    direction: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl Search {
    /// The store filter for this search; one row more than a page, to know whether a next page exists.
    pub fn filter(&self) -> Result<ConsoleFilter, ConsoleError> {
        let day = |name: &str, v: &Option<String>| -> Result<Option<i64>, ConsoleError> {
            given(v)
                .map(|s| parse_date(&s).ok_or_else(|| ConsoleError::BadRequest(format!("{name}: expected a date YYYY-MM-DD, got {s:?}"))))
                .transpose()
        };
        let direction = given(&self.direction);
        if let Some(d) = direction.as_deref().filter(|d| !matches!(*d, "inbound" | "outbound")) {
            return Err(ConsoleError::BadRequest(format!("direction: inbound or outbound, got {d:?}")));
        }
        let page = self.page()?;
        Ok(ConsoleFilter {
            partner: given(&self.partner),
            reference: given(&self.reference),
            control_number: given(&self.control_number),
            direction,
            status: given(&self.status),
            interchange: None,
            from: day("from", &self.from)?.map(|d| d * 86_400_000),
            // The end date is inclusive.
            until: day("to", &self.to)?.map(|d| (d + 1) * 86_400_000),
            offset: (page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE + 1,
        })
    }

    fn page(&self) -> Result<i64, ConsoleError> {
        match given(&self.page) {
            None => Ok(1),
            Some(p) => p
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| ConsoleError::BadRequest(format!("page: a number from 1, got {p:?}"))),
        }
    }

    /// The search form; `documents` adds the direction and PO-number fields' document wording.
    pub fn form(&self, action: &'static str, documents: bool) -> Html {
        let mut h = Html::new();
        h.open("form", &[("method", "get"), ("action", action), ("class", "search")]);
        let field = |h: &mut Html, name: &'static str, label: &str, kind: &'static str, value: &Option<String>| {
            h.open("label", &[])
                .text(label)
                .void(
                    "input",
                    &[("type", kind), ("name", name), ("value", value.as_deref().unwrap_or(""))],
                )
                .close("label");
        };
        field(&mut h, "partner", "Partner", "text", &self.partner);
        field(&mut h, "reference", "PO / reference", "text", &self.reference);
        field(&mut h, "control_number", "Control number", "text", &self.control_number);
        field(&mut h, "status", "Status", "text", &self.status);
        field(&mut h, "from", "From", "date", &self.from);
        field(&mut h, "to", "To", "date", &self.to);
        if documents {
            h.open("label", &[]).text("Direction").open("select", &[("name", "direction")]);
            for (value, label) in [("", "any"), ("inbound", "inbound"), ("outbound", "outbound")] {
                if self.direction.as_deref().unwrap_or("") == value {
                    h.open("option", &[("value", value), ("selected", "selected")]);
                } else {
                    h.open("option", &[("value", value)]);
                }
                h.text(label).close("option");
            }
            h.close("select").close("label");
        }
        h.elem("button", &[("type", "submit")], "Search").close("form");
        h
    }

    /// Previous / next links that keep the search.
    pub fn pager(&self, path: &str, has_next: bool) -> Html {
        let page = self.page().unwrap_or(1);
        let link = |p: i64| {
            let mut q: Vec<(&str, String)> = [
                ("partner", &self.partner),
                ("reference", &self.reference),
                ("control_number", &self.control_number),
                ("direction", &self.direction),
                ("status", &self.status),
                ("from", &self.from),
                ("to", &self.to),
            ]
            .into_iter()
            .filter_map(|(k, v)| given(v).map(|v| (k, v)))
            .collect();
            q.push(("page", p.to_string()));
            let query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
            format!("{path}?{}", query.join("&"))
        };
        let mut h = Html::new();
        h.open("p", &[("class", "pager")]);
        if page > 1 {
            h.elem("a", &[("href", &link(page - 1)), ("rel", "prev")], "← Newer");
        }
        h.elem("span", &[], &format!("Page {page}"));
        if has_next {
            h.elem("a", &[("href", &link(page + 1)), ("rel", "next")], "Older →");
        }
        h.close("p");
        h
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pairs: &[(&str, &str)]) -> Search {
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        actix_web::web::Query::<Search>::from_query(&q.join("&")).unwrap().into_inner()
    }

    #[test]
    fn parses_a_full_search() {
        let f = search(&[
            ("partner", " acme-parts "),
            ("reference", "4500"),
            ("from", "2024-03-12"),
            ("to", "2024-03-12"),
            ("page", "3"),
            ("status", ""),
        ])
        .filter()
        .unwrap();
        assert_eq!(f.partner.as_deref(), Some("acme-parts"));
        assert_eq!(f.status, None);
        assert_eq!(f.from, Some(19_794 * 86_400_000));
        assert_eq!(f.until, Some(19_795 * 86_400_000));
        assert_eq!((f.offset, f.limit), (100, 51));
    }

    #[test]
    fn rejects_bad_values_with_a_message() {
        for (k, v) in [
            ("from", "12/03/2024"),
            ("to", "2024-02-30"),
            ("page", "0"),
            ("page", "x"),
            ("direction", "sideways"),
        ] {
            match search(&[(k, v)]).filter() {
                Err(ConsoleError::BadRequest(m)) => assert!(m.starts_with(k), "{m}"),
                other => panic!("{k}={v}: {other:?}"),
            }
        }
    }

    #[test]
    fn pager_keeps_the_search() {
        let s = search(&[("reference", "PO 1&2"), ("page", "2")]);
        let html = s.pager("/console/documents", true).into_string();
        assert!(
            html.contains("href=\"/console/documents?reference=PO%201%262&amp;page=1\""),
            "{html}"
        );
        assert!(html.contains("reference=PO%201%262&amp;page=3"), "{html}");
    }
}
