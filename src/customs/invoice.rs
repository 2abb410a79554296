//! The commercial invoice as a PDF, written by hand ([`pdf`]: PDF 1.4, one
//! uncompressed content stream per page, the standard Helvetica fonts; no
//! font files, no external program). Lines that do not fit go on further pages,
//! each repeating the table header; the totals, the export filing, the
//! declaration and the signature follow the last line.
//!
//! [`InvoiceDoc`] is what is printed; [`InvoiceDoc::from_declaration`] fills
//! it from a validated customs [`Declaration`] and the parties' addresses.

pub mod pdf;

use super::declaration::Declaration;
use super::money_text;
use crate::connectors::carriers::Address;
use crate::model::{Date, Decimal};

pub use pdf::pdf_string;
use pdf::{fit, wrap, Layout, MARGIN, PAGE_WIDTH, ROW};
/// The statement printed when the declaration has none.
pub const DEFAULT_STATEMENT: &str =
    "I declare that all the information contained in this invoice is true and correct, and that the contents of this shipment are as stated above.";

/// A party block: name lines, address lines, registrations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Party {
    /// Name / company lines.
    pub names: Vec<String>,
    /// Address lines.
    pub address: Vec<String>,
    /// Registrations (`EORI DE123456789012345`, `EIN 12-3456789`).
    pub tax_ids: Vec<String>,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceLine {
    /// Description.
    pub description: String,
    /// HS code as printed.
    pub hs_code: String,
    /// Country of origin.
    pub origin: String,
    /// Quantity with its unit (`4 PCS`).
    pub quantity: String,
    /// Value of one unit.
    pub unit_value: Decimal,
    /// Line total.
    pub line_total: Decimal,
    /// Net weight of the line with unit (`2.4 kg`).
    pub weight: String,
}

/// Everything printed on the invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceDoc {
    /// Invoice number.
    pub invoice_number: String,
    /// Invoice date.
    pub invoice_date: String,
    /// Purchase order.
    pub po_number: Option<String>,
    /// Exporter (shipper).
    pub exporter: Party,
    /// Importer (consignee).
    pub importer: Party,
    /// Terms of sale.
    pub incoterm: String,
    /// Reason for export.
    pub reason_for_export: String,
    /// Currency.
    pub currency: String,
    /// Who pays duties and taxes.
    pub duties_payer: String,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines.
    pub subtotal: Decimal,
    /// Freight.
    pub freight: Decimal,
    /// Insurance.
    pub insurance: Decimal,
    /// Other charges.
    pub other: Decimal,
    /// Invoice total.
    pub total: Decimal,
    /// Total net weight (`12.5 kg`).
    pub net_weight: String,
    /// EEI filing: `AES X…` or the exemption legend; none outside US exports.
    pub export_filing: Option<String>,
    /// Declaration statement.
    pub statement: String,
    /// Signer name and title.
    pub signer: Option<(String, Option<String>)>,
    /// The shipper certified the declaration.
    pub certified: bool,
}

fn snake_words(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

fn address_lines(a: &Address) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = [a.company.clone(), a.name.clone()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    let mut address: Vec<String> = a.street.clone();
    let city = [Some(a.city.clone()), a.state.clone(), Some(a.postal_code.clone())]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    address.push(format!("{city}, {}", a.country));
    if let Some(p) = &a.phone {
        address.push(format!("Tel. {p}"));
    }
    (names, address)
}

fn weight_text(kg: Decimal) -> String {
    format!("{} kg", super::round(kg, 3))
}

impl InvoiceDoc {
    /// The invoice of a declaration; `number` and `date` stand in when it has none.
    pub fn from_declaration(d: &Declaration, from: &Address, to: &Address, number: &str, date: Date) -> Self {
        let party = |a: &Address, importer: bool| {
            let (names, address) = address_lines(a);
            let ids = if importer { &d.importer_tax_ids } else { &d.exporter_tax_ids };
            let tax_ids = ids
                .iter()
                .map(|t| format!("{} {} ({})", snake_words(t.kind).to_ascii_uppercase(), t.number, t.country))
                .collect();
            Party { names, address, tax_ids }
        };
        let zero = Decimal::default();
        let subtotal = d.total_value();
        let freight = d.freight_charge.unwrap_or(zero);
        let insurance = d.insurance_charge.unwrap_or(zero);
        let other = d.other_charges.unwrap_or(zero);
        Self {
            invoice_number: d.invoice_number.clone().unwrap_or_else(|| number.to_string()),
            invoice_date: d.invoice_date.unwrap_or(date).to_string(),
            po_number: d.po_number.clone(),
            exporter: party(from, false),
            importer: party(to, true),
            incoterm: format!("{:?}", d.incoterm),
            reason_for_export: snake_words(d.reason_for_export),
            currency: d.currency.to_string(),
            duties_payer: snake_words(d.duties_payer),
            lines: d
                .commodities
                .iter()
                .map(|c| InvoiceLine {
                    description: match &c.sku {
                        Some(sku) => format!("{} ({sku})", c.description),
                        None => c.description.clone(),
                    },
                    hs_code: c.hs_code.to_string(),
                    origin: c.origin_country.to_string(),
                    quantity: format!("{} {}", c.quantity, c.unit),
                    unit_value: c.unit_value,
                    line_total: c.line_value(),
                    weight: weight_text(c.line_weight_kg()),
                })
                .collect(),
            subtotal,
            freight,
            insurance,
            other,
            total: subtotal + freight + insurance + other,
            net_weight: weight_text(d.net_weight_kg()),
            export_filing: d.export_filing.printed(),
            statement: d.declaration_statement.clone().unwrap_or_else(|| DEFAULT_STATEMENT.to_string()),
            signer: d.signer.as_ref().map(|s| (s.name.clone(), s.title.clone())),
            certified: d.certify,
        }
    }

    /// The PDF.
    pub fn render(&self) -> Vec<u8> {
        let mut pages = Layout::new(format!("Commercial invoice {} (continued)", self.invoice_number));
        self.header(&mut pages);
        self.table(&mut pages);
        self.footer(&mut pages);
        pages.finish()
    }

    fn header(&self, p: &mut Layout) {
        p.text(MARGIN, p.y, 16.0, true, "COMMERCIAL INVOICE");
        p.right(
            PAGE_WIDTH - MARGIN,
            p.y,
            9.0,
            false,
            &format!("Invoice no. {}", self.invoice_number),
        );
        p.y -= ROW;
        p.right(PAGE_WIDTH - MARGIN, p.y, 9.0, false, &format!("Date {}", self.invoice_date));
        p.y -= ROW;
        if let Some(po) = &self.po_number {
            p.right(PAGE_WIDTH - MARGIN, p.y, 9.0, false, &format!("PO {po}"));
        }
        p.y -= ROW;
        let top = p.y;
        let column = |p: &mut Layout, x: f32, title: &str, party: &Party| {
            p.y = top;
            p.text(x, p.y, 9.0, true, title);
            p.y -= ROW;
            for l in party.names.iter().chain(&party.address) {
                p.text(x, p.y, 9.0, false, &fit(l, PAGE_WIDTH / 2.0 - MARGIN - 20.0, 9.0));
                p.y -= 11.0;
            }
            for t in &party.tax_ids {
                p.text(x, p.y, 9.0, false, &fit(t, PAGE_WIDTH / 2.0 - MARGIN - 20.0, 9.0));
                p.y -= 11.0;
            }
            p.y
        };
        let left = column(p, MARGIN, "EXPORTER / SHIPPER", &self.exporter);
        let right = column(p, PAGE_WIDTH / 2.0 + 10.0, "IMPORTER / CONSIGNEE", &self.importer);
        p.y = left.min(right) - 6.0;
        let terms = [
            ("Terms of sale (Incoterm)", self.incoterm.as_str()),
            ("Reason for export", self.reason_for_export.as_str()),
            ("Currency", self.currency.as_str()),
            ("Duties and taxes paid by", self.duties_payer.as_str()),
        ];
        for (i, (k, v)) in terms.iter().enumerate() {
            let x = MARGIN + (i as f32) * 133.0;
            p.text(x, p.y, 7.0, true, k);
            p.text(x, p.y - 10.0, 9.0, false, v);
        }
        p.y -= 28.0;
    }

    fn table(&self, p: &mut Layout) {
        table_header(p);
        for l in &self.lines {
            if p.y < MARGIN + 40.0 {
                p.new_page();
                table_header(p);
            }
            let y = p.y;
            p.text(COLUMNS[0], y, 8.0, false, &fit(&l.description, COLUMNS[1] - COLUMNS[0] - 6.0, 8.0));
            p.text(COLUMNS[1], y, 8.0, false, &l.hs_code);
            p.text(COLUMNS[2], y, 8.0, false, &l.origin);
            p.right(COLUMNS[4] - 8.0, y, 8.0, false, &l.quantity);
            p.right(COLUMNS[5] - 8.0, y, 8.0, false, &money_text(l.unit_value));
            p.right(COLUMNS[6] - 8.0, y, 8.0, false, &money_text(l.line_total));
            p.right(PAGE_WIDTH - MARGIN, y, 8.0, false, &l.weight);
            p.y -= ROW;
        }
        p.line(MARGIN, p.y + 9.0, PAGE_WIDTH - MARGIN);
    }

    fn footer(&self, p: &mut Layout) {
        // Totals, filing, statement and signature stay together.
        if p.y < MARGIN + 200.0 {
            p.new_page();
        }
        p.y -= 6.0;
        let label_x = COLUMNS[5] - 8.0;
        let amount_x = COLUMNS[6] - 8.0;
        let rows = [
            ("Subtotal", self.subtotal),
            ("Freight", self.freight),
            ("Insurance", self.insurance),
            ("Other charges", self.other),
        ];
        for (k, v) in rows {
            p.right(label_x, p.y, 9.0, false, k);
            p.right(amount_x, p.y, 9.0, false, &money_text(v));
            p.y -= ROW;
        }
        p.right(label_x, p.y, 10.0, true, &format!("Total ({})", self.currency));
        p.right(amount_x, p.y, 10.0, true, &money_text(self.total));
        p.right(PAGE_WIDTH - MARGIN, p.y, 9.0, false, &self.net_weight);
        p.y -= 2.0 * ROW;
        if let Some(f) = &self.export_filing {
            p.text(MARGIN, p.y, 9.0, true, "EEI filing (15 CFR 30):");
            p.text(MARGIN + 120.0, p.y, 9.0, false, f);
            p.y -= 1.5 * ROW;
        }
        p.text(MARGIN, p.y, 9.0, true, "Declaration");
        p.y -= ROW;
        for l in wrap(&self.statement, 110) {
            p.text(MARGIN, p.y, 8.5, false, &l);
            p.y -= 11.0;
        }
        if self.certified {
            p.text(
                MARGIN,
                p.y,
                8.5,
                false,
                "The shipper certifies that this declaration is true and correct.",
            );
            p.y -= 11.0;
        }
        p.y -= 2.0 * ROW;
        p.line(MARGIN, p.y + 10.0, MARGIN + 220.0);
        let signer = match &self.signer {
            Some((name, Some(title))) => format!("{name}, {title}"),
            Some((name, None)) => name.clone(),
            None => String::new(),
        };
        p.text(MARGIN, p.y, 9.0, false, &format!("Signature: {signer}"));
        p.right(PAGE_WIDTH - MARGIN, p.y, 9.0, false, &format!("Date: {}", self.invoice_date));
    }
}

/// Left edges of the table columns (the last one is right-aligned at the margin).
const COLUMNS: [f32; 7] = [MARGIN, 228.0, 288.0, 318.0, 372.0, 442.0, 516.0];

fn table_header(p: &mut Layout) {
    let heads = ["Description", "HS code", "Origin"];
    for (x, h) in COLUMNS.iter().zip(heads) {
        p.text(*x, p.y, 8.0, true, h);
    }
    p.right(COLUMNS[4] - 8.0, p.y, 8.0, true, "Qty");
    p.right(COLUMNS[5] - 8.0, p.y, 8.0, true, "Unit value");
    p.right(COLUMNS[6] - 8.0, p.y, 8.0, true, "Line total");
    p.right(PAGE_WIDTH - MARGIN, p.y, 8.0, true, "Net weight");
    p.line(MARGIN, p.y - 4.0, PAGE_WIDTH - MARGIN);
    p.y -= ROW + 2.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lines: usize) -> InvoiceDoc {
        let line = |i: usize| InvoiceLine {
            description: format!("Brake pad set (front) #{i} \\ ceramic"),
            hs_code: "870830".into(),
            origin: "US".into(),
            quantity: "4 PCS".into(),
            unit_value: "42.5".parse().unwrap(),
            line_total: "170".parse().unwrap(),
            weight: "4.8 kg".into(),
        };
        InvoiceDoc {
            invoice_number: "INV-2026-0042".into(),
            invoice_date: "2026-11-25".into(),
            po_number: Some("PO-77".into()),
            exporter: Party {
                names: vec!["Acme Parts".into()],
                address: vec!["4800 Distribution Way".into(), "Columbus OH 43228, US".into()],
                tax_ids: vec!["EIN 12-3456789 (US)".into()],
            },
            importer: Party {
                names: vec!["Müller Kfz GmbH".into()],
                address: vec!["Hauptstraße 5".into(), "Köln 50667, DE".into()],
                tax_ids: vec!["EORI DE123456789012345 (DE)".into()],
            },
            incoterm: "DAP".into(),
            reason_for_export: "sale".into(),
            currency: "USD".into(),
            duties_payer: "recipient".into(),
            lines: (0..lines).map(line).collect(),
            subtotal: "170".parse().unwrap(),
            freight: "35".parse().unwrap(),
            insurance: Decimal::default(),
            other: Decimal::default(),
            total: "205".parse().unwrap(),
            net_weight: "4.8 kg".into(),
            export_filing: Some("NO EEI 30.37(a)".into()),
            statement: DEFAULT_STATEMENT.into(),
            signer: Some(("Jane Doe".into(), Some("Export manager".into()))),
            certified: true,
        }
    }

    /// Checks every xref entry points at its `n 0 obj` and returns the page count.
    fn check_structure(pdf: &[u8]) -> usize {
        let text = String::from_utf8_lossy(pdf);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let start: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[start..].starts_with(b"xref\n0 "));
        let size: usize = text.split("/Size ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let tail = std::str::from_utf8(&pdf[start..]).unwrap();
        let entries: Vec<&str> = tail.lines().skip(2).take(size).collect();
        assert_eq!(entries[0], "0000000000 65535 f ");
        for (n, e) in entries.iter().enumerate().skip(1) {
            let off: usize = e[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{n} 0 obj\n").as_bytes()), "object {n}");
        }
        text.split("/Count ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn one_page_invoice_is_well_formed() {
        let pdf = doc(3).render();
        assert_eq!(check_structure(&pdf), 1);
        let text = String::from_utf8_lossy(&pdf);
        for s in [
            "(Invoice no. INV-2026-0042)",
            "(870830)",
            "(205.00)",
            "(170.00)",
            "(NO EEI 30.37\\(a\\))",
            "(Page 1 of 1)",
        ] {
            assert!(text.contains(s), "{s}");
        }
        // Escapes: backslash, parentheses, WinAnsi ü (0xFC) as octal.
        assert!(text.contains("(Brake pad set \\(front\\) #0 \\\\ ceramic)"));
        assert!(text.contains("(M\\374ller Kfz GmbH)"));
    }

    #[test]
    fn long_invoices_flow_onto_more_pages() {
        let pdf = doc(120).render();
        let pages = check_structure(&pdf);
        assert!(pages >= 3, "{pages} pages");
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(text.matches("(Line total)").count(), pages);
        assert!(text.contains(&format!("(Page {pages} of {pages})")));
        assert_eq!(
            text.matches("(Commercial invoice INV-2026-0042 \\(continued\\))").count(),
            pages - 1
        );
        assert_eq!(text.matches("(870830)").count(), 120);
    }
}
