//! A small HTML builder that escapes by construction: tag and attribute
//! names are static strings, every text and attribute value goes through
//! [`escape`]. Partners control document content, so nothing they send
//! reaches the page unescaped.

use std::fmt::Write;

use crate::calendar::{civil_from_days, days_from_civil, days_in_month};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markup under construction.
#[derive(Debug, Default)]
pub struct Html(String);

impl Html {
    /// Empty markup.
    pub fn new() -> Self {
        Self::default()
    }

    /// Static markup written in this crate.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    /// Escaped text.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.0.push_str(&escape(s));
        self
    }

    /// `<tag a="v" …>` with escaped values.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.0, " {name}=\"{}\"", escape(value));
        }
        self.0.push('>');
        self
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        let _ = write!(self.0, "</{tag}>");
        self
    }

    /// `<tag …>text</tag>`.
    pub fn elem(&mut self, tag: &'static str, attrs: &[(&'static str, &str)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// A self-closing element (`<input …>`, SVG shapes).
    pub fn void(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) -> &mut Self {
        self.open(tag, attrs);
        // `<x …>` becomes `<x …/>`, valid in HTML and inside SVG.
        self.0.pop();
        self.0.push_str("/>");
        self
    }

    /// Appends markup built by another builder.
    pub fn append(&mut self, other: Html) -> &mut Self {
        self.0.push_str(&other.0);
        self
    }

    /// A table row of text cells.
    pub fn row(&mut self, cells: &[&str]) -> &mut Self {
        self.raw("<tr>");
        for c in cells {
            self.elem("td", &[], c);
        }
        self.raw("</tr>")
    }

    /// A table header row.
    pub fn head_row(&mut self, cells: &[&str]) -> &mut Self {
        self.raw("<thead><tr>");
        for c in cells {
            self.elem("th", &[], c);
        }
        self.raw("</tr></thead>")
    }

    /// The markup.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix milliseconds.
pub fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60)
}

/// `YYYY-MM-DD` of days since 1970-01-01.
pub fn date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A duration for people: `850 ms`, `42 s`, `3.5 min`, `2.1 h`, `1.5 d`.
pub fn duration(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 60_000.0 {
        format!("{:.0} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else if ms < 86_400_000.0 {
        format!("{:.1} h", ms / 3_600_000.0)
    } else {
        format!("{:.1} d", ms / 86_400_000.0)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date; `None` unless it is a real date.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (s[0..4].parse().ok()?, s[5..7].parse().ok()?, s[8..10].parse().ok()?);
    let max = days_in_month(y, m)?;
    if !(1..=max).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(escape(r#"<b onclick='x'>"&"#), "&lt;b onclick=&#39;x&#39;&gt;&quot;&amp;");
        let mut h = Html::new();
        h.elem("td", &[("title", "\"><script>")], "</td><script>");
        assert_eq!(
            h.into_string(),
            "<td title=\"&quot;&gt;&lt;script&gt;\">&lt;/td&gt;&lt;script&gt;</td>"
        );
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-03-12"), Some(19_794));
        assert_eq!(date(19_794), "2024-03-12");
        assert_eq!(parse_date("2024-02-29").map(date).as_deref(), Some("2024-02-29"));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("24-03-12"), None);
        assert_eq!(datetime(19_794 * 86_400_000 + 3_723_000), "2024-03-12 01:02:03");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(850.0), "850 ms");
        assert_eq!(duration(2_500.0), "2.5 s");
        assert_eq!(duration(42_000.0), "42 s");
        assert_eq!(duration(210_000.0), "3.5 min");
        assert_eq!(duration(7_560_000.0), "2.1 h");
    }
}
