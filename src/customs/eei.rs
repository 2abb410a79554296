//! US export filing (Electronic Export Information in AES, 15 CFR Part 30).
//!
//! The rule applied to a US export (origin US or Puerto Rico, destination
//! outside the US customs territory and not a US possession):
//! * lines are grouped by Schedule B (the full 10-digit code; shorter codes
//!   group by the code given) and their USD values summed;
//! * EEI is required, so the caller must give the ITN AES returned, when a
//!   group is worth more than 2,500 USD, when a line carries an export
//!   licence, when a line is rough diamonds (HS 7102.10 / 7102.21 / 7102.31),
//!   or, for China, Russia and Venezuela, when a line has an ECCN other than
//!   EAR99;
//! * otherwise the shipment is exempt and its documents carry the legend
//!   `NO EEI 30.36` (destination Canada, §30.36) or `NO EEI 30.37(a)`
//!   (every Schedule B group ≤ 2,500 USD, §30.37(a)).
//!
//! Canada's exemption holds whatever the value; a licence or rough diamonds
//! still need an ITN. Shipments to Puerto Rico and the US Virgin Islands are
//! not exempt; those to Guam, American Samoa, the Northern Mariana Islands and
//! the minor outlying islands are (they do not leave US jurisdiction for EEI).

use std::collections::BTreeMap;

use serde::Serialize;

use super::codes::{CodeError, CountryCode, HsCode, Itn};
use crate::model::Decimal;

/// The value per Schedule B above which EEI is required (USD).
pub const THRESHOLD_USD: i64 = 2_500;

/// Legend for exports worth ≤ 2,500 USD per Schedule B, no licence.
pub const LEGEND_LOW_VALUE: &str = "NO EEI 30.37(a)";
/// Legend for unlicensed exports to Canada.
pub const LEGEND_CANADA: &str = "NO EEI 30.36";

/// US possessions: shipments there need no EEI (Puerto Rico and the US
/// Virgin Islands are not in this list on purpose).
const POSSESSIONS: &[&str] = &["AS", "GU", "MP", "UM"];
/// Destinations where any item on the Commerce Control List (an ECCN other
/// than EAR99) needs EEI, whatever its value (§30.2(a)(1)(iv)).
const CCL_ANY_VALUE: &[&str] = &["CN", "RU", "VE"];
/// Rough diamonds (HS 7102.10, 7102.21, 7102.31) always need EEI.
const ROUGH_DIAMONDS: &[&str] = &["710210", "710221", "710231"];

/// True when a shipment from `origin` to `destination` is a US export for EEI.
pub fn is_us_export(origin: CountryCode, destination: CountryCode) -> bool {
    origin.is_any(&["US", "PR"]) && destination != origin && !destination.is_any(POSSESSIONS)
}

/// One commodity line as EEI sees it.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// Position in the declaration (0-based).
    pub index: usize,
    /// HS / Schedule B code.
    pub hs_code: &'a HsCode,
    /// Line value in USD (unit value × quantity).
    pub value_usd: Decimal,
    /// Export licence number, when licensed.
    pub export_licence: Option<&'a str>,
    /// ECCN, when classified.
    pub eccn: Option<&'a str>,
}

/// What a shipment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Not a US export.
    NotApplicable,
    /// Exempt, with the legend to print.
    Exempt(&'static str),
    /// EEI must be filed; why, naming the lines.
    Required(Vec<String>),
}

/// How the filing obligation of a declaration is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ExportFiling {
    /// Not a US export.
    NotApplicable,
    /// Filed in AES: the ITN.
    Itn(Itn),
    /// Exempt: the legend (`NO EEI 30.37(a)`, `NO EEI 30.36` …).
    Exemption(String),
}

impl ExportFiling {
    /// The text carriers print: `AES X…` or the legend; none when not applicable.
    pub fn printed(&self) -> Option<String> {
        match self {
            ExportFiling::NotApplicable => None,
            ExportFiling::Itn(itn) => Some(itn.printed()),
            ExportFiling::Exemption(legend) => Some(legend.clone()),
        }
    }
}

fn lines_list(indexes: &[usize]) -> String {
    indexes.iter().map(|i| format!("commodities[{i}]")).collect::<Vec<_>>().join(", ")
}

/// Decides whether EEI is required for these lines.
pub fn assess(origin: CountryCode, destination: CountryCode, lines: &[Line<'_>]) -> Requirement {
    if !is_us_export(origin, destination) {
        return Requirement::NotApplicable;
    }
    let mut reasons = Vec::new();
    for l in lines {
        if let Some(licence) = l.export_licence {
            reasons.push(format!("commodities[{}] is exported under licence {licence}", l.index));
        }
        if ROUGH_DIAMONDS.contains(&l.hs_code.subheading()) {
            reasons.push(format!(
                "commodities[{}] is rough diamonds (HS {})",
                l.index,
                l.hs_code.subheading()
            ));
        }
        if let Some(eccn) = l.eccn.filter(|e| !e.eq_ignore_ascii_case("EAR99")) {
            if destination.is_any(CCL_ANY_VALUE) {
                reasons.push(format!(
                    "commodities[{}] has ECCN {eccn} (not EAR99) and goes to {destination}",
                    l.index
                ));
            }
        }
    }
    let canada = destination.is("CA");
    if !canada {
        let mut groups: BTreeMap<&str, (Decimal, Vec<usize>)> = BTreeMap::new();
        for l in lines {
            let g = groups.entry(l.hs_code.as_str()).or_default();
            g.0 = g.0 + l.value_usd;
            g.1.push(l.index);
        }
        let threshold = Decimal::from_int(THRESHOLD_USD);
        for (code, (total, indexes)) in groups {
            if total > threshold {
                reasons.push(format!(
                    "{} with Schedule B {code} {} {} USD, over {THRESHOLD_USD} USD",
                    lines_list(&indexes),
                    if indexes.len() == 1 { "is worth" } else { "are worth together" },
                    super::money_text(total),
                ));
            }
        }
    }
    if !reasons.is_empty() {
        Requirement::Required(reasons)
    } else if canada {
        Requirement::Exempt(LEGEND_CANADA)
    } else {
        Requirement::Exempt(LEGEND_LOW_VALUE)
    }
}

/// Parses an exemption legend given by the caller (`NO EEI 30.37(a)`,
/// `no eei 30.36`, `NO EEI 30.37(h)` …): an exemption of §30.36–§30.40.
pub fn parse_legend(s: &str) -> Result<String, CodeError> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let bad = || CodeError(format!("{s:?} is not an EEI exemption legend such as \"NO EEI 30.37(a)\""));
    let [no, eei, section] = words.as_slice() else { return Err(bad()) };
    if !no.eq_ignore_ascii_case("NO") || !eei.eq_ignore_ascii_case("EEI") {
        return Err(bad());
    }
    let section = section.to_ascii_lowercase();
    let (number, paragraphs) = section.split_at(section.find('(').unwrap_or(section.len()));
    let known = ["30.36", "30.37", "30.38", "30.39", "30.40"].contains(&number);
    let mut rest = paragraphs;
    while let Some(after) = rest.strip_prefix('(') {
        let close = after.find(')').ok_or_else(bad)?;
        if close == 0 || !after[..close].bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        rest = &after[close + 1..];
    }
    if !known || !rest.is_empty() {
        return Err(bad());
    }
    Ok(format!("NO EEI {section}"))
}

/// Combines the requirement with what the caller gave; the error explains what is missing.
pub fn resolve(
    requirement: &Requirement,
    destination: CountryCode,
    itn: Option<Itn>,
    legend: Option<String>,
) -> Result<ExportFiling, String> {
    match (requirement, itn, legend) {
        (_, Some(itn), _) => Ok(ExportFiling::Itn(itn)),
        (Requirement::NotApplicable, None, _) => Ok(ExportFiling::NotApplicable),
        (Requirement::Required(reasons), None, legend) => Err(format!(
            "an AES ITN is required{}: {}",
            legend.map(|l| format!(" (the exemption {l:?} does not apply)")).unwrap_or_default(),
            reasons.join("; ")
        )),
        (Requirement::Exempt(default), None, None) => Ok(ExportFiling::Exemption(default.to_string())),
        (Requirement::Exempt(_), None, Some(legend)) => {
            if legend == LEGEND_CANADA && !destination.is("CA") {
                Err(format!("{LEGEND_CANADA} applies only to shipments to Canada"))
            } else {
                Ok(ExportFiling::Exemption(legend))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> CountryCode {
        s.parse().unwrap()
    }

    struct L {
        hs: HsCode,
        usd: Decimal,
        licence: Option<&'static str>,
        eccn: Option<&'static str>,
    }

    fn l(hs: &str, usd: &str) -> L {
        L {
            hs: hs.parse().unwrap(),
            usd: usd.parse().unwrap(),
            licence: None,
            eccn: None,
        }
    }

    fn run(from: &str, to: &str, ls: &[L]) -> Requirement {
        let lines: Vec<Line<'_>> = ls
            .iter()
            .enumerate()
            .map(|(index, x)| Line {
                index,
                hs_code: &x.hs,
                value_usd: x.usd,
                export_licence: x.licence,
                eccn: x.eccn,
            })
            .collect();
        assess(c(from), c(to), &lines)
    }

    #[test]
    fn low_value_is_exempt_and_the_boundary_is_inclusive() {
        assert_eq!(
            run("US", "DE", &[l("6109100012", "2500.00")]),
            Requirement::Exempt(LEGEND_LOW_VALUE)
        );
        assert_eq!(
            run("US", "DE", &[l("6109100012", "1200"), l("8471300100", "1400")]),
            Requirement::Exempt(LEGEND_LOW_VALUE)
        );
    }

    #[test]
    fn one_line_over_2500_requires_an_itn_and_names_it() {
        let r = run("US", "DE", &[l("6109100012", "10"), l("8471300100", "2500.01")]);
        let Requirement::Required(reasons) = r else { panic!("{r:?}") };
        assert_eq!(
            reasons,
            vec!["commodities[1] with Schedule B 8471300100 is worth 2500.01 USD, over 2500 USD".to_string()]
        );
    }

    #[test]
    fn lines_sharing_a_schedule_b_are_summed() {
        let r = run(
            "US",
            "GB",
            &[l("8471.30.0100", "1500"), l("6109100012", "100"), l("8471300100", "1000.50")],
        );
        let Requirement::Required(reasons) = r else { panic!("{r:?}") };
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with("commodities[0], commodities[2] with Schedule B 8471300100 are worth together 2500.50 USD"),
            "{}",
            reasons[0]
        );
        // Shorter codes group by the code given, so a 6-digit and a 10-digit code are separate groups.
        assert_eq!(
            run("US", "GB", &[l("847130", "1500"), l("8471300100", "1500")]),
            Requirement::Exempt(LEGEND_LOW_VALUE)
        );
        assert!(matches!(
            run("US", "GB", &[l("847130", "1500"), l("847130", "1500")]),
            Requirement::Required(_)
        ));
    }

    #[test]
    fn canada_is_exempt_at_any_value_unless_licensed() {
        assert_eq!(run("US", "CA", &[l("8471300100", "9000")]), Requirement::Exempt(LEGEND_CANADA));
        let mut licensed = l("8471300100", "100");
        licensed.licence = Some("D123456");
        let Requirement::Required(reasons) = run("US", "CA", &[licensed]) else {
            panic!()
        };
        assert_eq!(reasons, vec!["commodities[0] is exported under licence D123456".to_string()]);
    }

    #[test]
    fn a_licence_forces_an_itn_at_any_value() {
        let mut x = l("8471300100", "5");
        x.licence = Some("D123456");
        assert!(matches!(run("US", "FR", &[x]), Requirement::Required(_)));
    }

    #[test]
    fn controlled_eccn_to_china_russia_venezuela() {
        let mut x = l("8471300100", "50");
        x.eccn = Some("5A992");
        let Requirement::Required(reasons) = run("US", "CN", std::slice::from_ref(&x)) else {
            panic!()
        };
        assert_eq!(
            reasons,
            vec!["commodities[0] has ECCN 5A992 (not EAR99) and goes to CN".to_string()]
        );
        assert!(matches!(run("US", "RU", std::slice::from_ref(&x)), Requirement::Required(_)));
        assert!(matches!(run("US", "VE", std::slice::from_ref(&x)), Requirement::Required(_)));
        assert_eq!(run("US", "DE", std::slice::from_ref(&x)), Requirement::Exempt(LEGEND_LOW_VALUE));
        x.eccn = Some("EAR99");
        assert_eq!(run("US", "CN", &[x]), Requirement::Exempt(LEGEND_LOW_VALUE));
    }

    #[test]
    fn rough_diamonds_always_need_eei() {
        assert!(matches!(run("US", "BE", &[l("7102.10", "100")]), Requirement::Required(_)));
        assert!(matches!(run("US", "CA", &[l("7102310000", "100")]), Requirement::Required(_)));
    }

    #[test]
    fn territories_and_non_us_origins() {
        assert_eq!(run("US", "GU", &[l("8471300100", "9000")]), Requirement::NotApplicable);
        assert_eq!(run("US", "AS", &[l("8471300100", "9000")]), Requirement::NotApplicable);
        assert!(matches!(run("US", "PR", &[l("8471300100", "9000")]), Requirement::Required(_)));
        assert!(matches!(run("US", "VI", &[l("8471300100", "9000")]), Requirement::Required(_)));
        assert!(matches!(run("PR", "DE", &[l("8471300100", "9000")]), Requirement::Required(_)));
        assert_eq!(run("CA", "DE", &[l("8471300100", "9000")]), Requirement::NotApplicable);
        assert_eq!(run("DE", "US", &[l("8471300100", "9000")]), Requirement::NotApplicable);
    }

    #[test]
    fn resolution() {
        let itn: Itn = "X20250317123456".parse().unwrap();
        let req = Requirement::Required(vec![
            "commodities[0] with Schedule B 8471300100 is worth 3000 USD, over 2500 USD".into()
        ]);
        assert_eq!(resolve(&req, c("DE"), Some(itn.clone()), None), Ok(ExportFiling::Itn(itn.clone())));
        let err = resolve(&req, c("DE"), None, Some(LEGEND_LOW_VALUE.into())).unwrap_err();
        assert!(err.contains("commodities[0]") && err.contains("does not apply"), "{err}");
        let exempt = Requirement::Exempt(LEGEND_LOW_VALUE);
        assert_eq!(
            resolve(&exempt, c("DE"), None, None),
            Ok(ExportFiling::Exemption(LEGEND_LOW_VALUE.into()))
        );
        assert!(resolve(&exempt, c("DE"), None, Some(LEGEND_CANADA.into())).is_err());
        assert_eq!(
            resolve(&Requirement::Exempt(LEGEND_CANADA), c("CA"), None, None),
            Ok(ExportFiling::Exemption(LEGEND_CANADA.into()))
        );
        assert_eq!(
            resolve(&Requirement::NotApplicable, c("US"), None, None),
            Ok(ExportFiling::NotApplicable)
        );
    }

    #[test]
    fn legends() {
        assert_eq!(parse_legend("no eei 30.37(A)").unwrap(), "NO EEI 30.37(a)");
        assert_eq!(parse_legend("NO EEI  30.36").unwrap(), "NO EEI 30.36");
        assert_eq!(parse_legend("NO EEI 30.37(h)").unwrap(), "NO EEI 30.37(h)");
        for bad in [
            "NOEEI 30.37(a)",
            "NO EEI 30.5",
            "NO EEI 30.37(a",
            "NO EEI 30.37()",
            "EEI 30.37(a)",
            "",
        ] {
            assert!(parse_legend(bad).is_err(), "{bad}");
        }
    }
}
