//! A small PDF 1.4 writer for printed forms: pages of text and rules laid
//! out top to bottom, one uncompressed content stream per page (so the text
//! stays checkable), the standard Helvetica and Helvetica-Bold Type 1 fonts in
//! WinAnsiEncoding (nothing to embed), and an xref table with exact byte offsets.

use std::fmt::Write as _;

/// US Letter width, in points.
pub(super) const PAGE_WIDTH: f32 = 612.0;
/// US Letter height, in points.
pub(super) const PAGE_HEIGHT: f32 = 792.0;
/// Page margin.
pub(super) const MARGIN: f32 = 40.0;
/// Height of a table row.
pub(super) const ROW: f32 = 13.0;

/// `s` cut (with `...`) to at most `width` points at `size`.
pub(super) fn fit(s: &str, width: f32, size: f32) -> String {
    let fits = |t: &str| text_width(t, false) * size / 1000.0 <= width;
    if fits(s) {
        return s.to_string();
    }
    let mut t: String = s.to_string();
    while !t.is_empty() && !fits(&format!("{t}...")) {
        t.pop();
    }
    format!("{}...", t.trim_end())
}

/// `s` broken into lines of at most `width` characters, at spaces.
pub(super) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being laid out: one content stream each, the cursor on the current one.
pub(super) struct Layout {
    pages: Vec<String>,
    /// The cursor: baseline of the next row.
    pub(super) y: f32,
    /// Printed atop every page after the first.
    running_head: String,
}

impl Layout {
    pub(super) fn new(running_head: String) -> Self {
        Self {
            pages: vec![String::new()],
            y: PAGE_HEIGHT - MARGIN - 10.0,
            running_head,
        }
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(String::new());
        self.y = PAGE_HEIGHT - MARGIN - 10.0;
        let head = self.running_head.clone();
        self.text(MARGIN, self.y, 9.0, true, &head);
        self.y -= 2.0 * ROW;
    }

    fn current(&mut self) -> &mut String {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        let font = if bold { "F2" } else { "F1" };
        let literal = pdf_string(s);
        let _ = writeln!(self.current(), "BT /{font} {size} Tf {x:.2} {y:.2} Td {literal} Tj ET");
    }

    pub(super) fn right(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        let w = text_width(s, bold) * size / 1000.0;
        self.text(x - w, y, size, bold, s);
    }

    pub(super) fn line(&mut self, x1: f32, y: f32, x2: f32) {
        let _ = writeln!(self.current(), "0.5 w {x1:.2} {y:.2} m {x2:.2} {y:.2} l S");
    }

    /// Numbers the pages and writes the file.
    pub(super) fn finish(mut self) -> Vec<u8> {
        let n = self.pages.len();
        for i in 0..n {
            let label = format!("Page {} of {n}", i + 1);
            let w = text_width(&label, false) * 8.0 / 1000.0;
            let _ = writeln!(
                self.pages[i],
                "BT /F1 8 Tf {:.2} {:.2} Td {} Tj ET",
                PAGE_WIDTH - MARGIN - w,
                MARGIN - 15.0,
                pdf_string(&label)
            );
        }
        write_pdf(&self.pages)
    }
}

/// Object numbers: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold,
/// then for page i: 5 + 2i the page and 6 + 2i its content stream.
fn write_pdf(contents: &[String]) -> Vec<u8> {
    let n = contents.len();
    let page_ids: Vec<usize> = (0..n).map(|i| 5 + 2 * i).collect();
    let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    for (i, c) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                6 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", c.len()).into_bytes();
        stream.extend_from_slice(c.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    // A binary comment line after the header marks the file as binary for transfer tools.
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(table, "{o:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// A WinAnsi byte for `c` (`?` when the encoding has none).
fn win_ansi(c: char) -> u8 {
    let u = c as u32;
    match u {
        0x20..=0x7e | 0xa0..=0xff => u as u8,
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            'Š' => 0x8a,
            'š' => 0x9a,
            'Ž' => 0x8e,
            'ž' => 0x9e,
            'Œ' => 0x8c,
            'œ' => 0x9c,
            'Ÿ' => 0x9f,
            _ => b'?',
        },
    }
}

/// A PDF literal string: `(`, `)` and `\` escaped, bytes outside ASCII as octal escapes,
/// so the content stream stays plain ASCII.
pub fn pdf_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('(');
    for c in s.chars() {
        match win_ansi(c) {
            b'(' => out.push_str("\\("),
            b')' => out.push_str("\\)"),
            b'\\' => out.push_str("\\\\"),
            b @ 0x20..=0x7e => out.push(b as char),
            b => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// Width of `s` in thousandths of the font size (Helvetica metrics for the
/// characters invoices print most; an average for the rest).
pub(super) fn text_width(s: &str, bold: bool) -> f32 {
    s.chars()
        .map(|c| match c {
            '0'..='9' => 556.0,
            ' ' | '.' | ',' | ':' | ';' | 'i' | 'j' | 'l' | '\'' | '!' | '|' | 'I' => {
                if bold && !matches!(c, ' ' | '.' | ',') {
                    333.0
                } else {
                    278.0
                }
            }
            'f' | 't' | 'r' | '(' | ')' | '-' | '[' | ']' | '/' => 333.0,
            'm' | 'M' | 'W' => 833.0,
            'w' => 722.0,
            'A'..='Z' => 667.0,
            _ => {
                if bold {
                    611.0
                } else {
                    556.0
                }
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_its_column() {
        let long = "Brake pad set, ceramic, front axle, for heavy-duty pickup trucks and vans";
        let cut = fit(long, 150.0, 8.0);
        assert!(cut.ends_with("...") && cut.len() < long.len(), "{cut}");
        assert!(text_width(&cut, false) * 8.0 / 1000.0 <= 150.0);
        assert_eq!(fit("Wheel bearing", 150.0, 8.0), "Wheel bearing");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(pdf_string("a(b)c\\d"), "(a\\(b\\)c\\\\d)");
        assert_eq!(pdf_string("€5 – ok ✓"), "(\\2005 \\226 ok ?)");
    }
}
