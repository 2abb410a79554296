//! Part supersessions: `old_part,new_part,effective,interchangeable` rows
//! from `mappings/parts/supersessions.csv`. A part is followed to the current
//! part through every link already in effect; a chain that comes back to a
//! part it passed is a loop, reported at load time ([`Supersessions::loops`])
//! and refused at lookup with the parts named.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::model::Date;

use super::PolicyError;

/// One link: `old` is replaced by `new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supersession {
    /// The replacing part.
    pub new_part: String,
    /// From when the link applies.
    pub effective: Option<Date>,
    /// True when old stock may be used in place of the new part.
    pub interchangeable: bool,
}

/// Where a part resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The current part.
    pub part: String,
    /// Every part from the one asked for to the current one (one entry when not superseded).
    pub chain: Vec<String>,
}

/// The supersession table.
#[derive(Debug, Clone, Default)]
pub struct Supersessions {
    links: BTreeMap<String, Supersession>,
}

impl Supersessions {
    /// Loads the CSV at `path`; a missing file is an empty table.
    ///
    /// # Errors
    /// Unreadable file, malformed rows, a part superseded twice.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses CSV text with a header row.
    ///
    /// # Errors
    /// Malformed rows, a part superseded by itself or twice.
    pub fn parse(text: &str, path: &str) -> Result<Self, PolicyError> {
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            path: path.to_string(),
            message: format!("line {line}: {message}"),
        };
        let mut links = BTreeMap::new();
        let mut rows = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        match rows.next() {
            Some((_, header)) if header.trim().starts_with("old_part,new_part") => {}
            _ => return Err(invalid(1, "the header must start with old_part,new_part".into())),
        }
        for (n, row) in rows {
            let cells: Vec<&str> = row.split(',').map(str::trim).collect();
            let (old, new) = match cells.as_slice() {
                [old, new, ..] if !old.is_empty() && !new.is_empty() => (old.to_string(), new.to_string()),
                _ => return Err(invalid(n + 1, "old_part and new_part are required".into())),
            };
            if old == new {
                return Err(invalid(n + 1, format!("{old} supersedes itself")));
            }
            let effective = match cells.get(2).filter(|c| !c.is_empty()) {
                Some(d) => Some(d.parse::<Date>().map_err(|e| invalid(n + 1, format!("effective: {e}")))?),
                None => None,
            };
            let interchangeable = match cells.get(3).copied().unwrap_or("") {
                "" | "true" | "yes" | "Y" => true,
                "false" | "no" | "N" => false,
                other => return Err(invalid(n + 1, format!("interchangeable: {other:?} is not true or false"))),
            };
            let link = Supersession {
                new_part: new,
                effective,
                interchangeable,
            };
            if links.insert(old.clone(), link).is_some() {
                return Err(invalid(n + 1, format!("{old} is superseded twice")));
            }
        }
        Ok(Self { links })
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    /// True when there are no links.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The link replacing `part`, if any.
    pub fn link(&self, part: &str) -> Option<&Supersession> {
        self.links.get(part)
    }

    /// Follows `part` to the current part through the links effective on `today`.
    ///
    /// # Errors
    /// `Err(chain)` when the chain comes back to a part it passed; the chain
    /// ends with that part.
    pub fn resolve(&self, part: &str, today: Date) -> Result<Resolution, Vec<String>> {
        let mut chain = vec![part.to_string()];
        let mut here = part;
        while let Some(link) = self.links.get(here).filter(|l| l.effective.is_none_or(|d| d <= today)) {
            let seen = chain.contains(&link.new_part);
            chain.push(link.new_part.clone());
            if seen {
                return Err(chain);
            }
            here = &link.new_part;
        }
        Ok(Resolution {
            part: here.to_string(),
            chain,
        })
    }

    /// Every loop in the table, each as the chain from its smallest part back to it.
    pub fn loops(&self) -> Vec<Vec<String>> {
        let mut found: Vec<Vec<String>> = Vec::new();
        for start in self.links.keys() {
            let mut chain = vec![start.clone()];
            let mut here = start;
            while let Some(link) = self.links.get(here) {
                if link.new_part == *start {
                    chain.push(start.clone());
                    // Report each loop once, from its smallest part.
                    if chain.iter().all(|p| p >= start) {
                        found.push(chain);
                    }
                    break;
                }
                if chain.contains(&link.new_part) {
                    break;
                }
                chain.push(link.new_part.clone());
                here = &link.new_part;
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "old_part,new_part,effective,interchangeable\n\
        FL-1A,FL-1AZ,2019-03-01,true\n\
        FL-1AZ,FL-500S,2021-06-15,true\n\
        BRF-1411,BRF-1934,2030-01-01,false\n\
        SP-479,SP-515,,\n\
        SP-515,SP-520,2020-01-01,true\n\
        SP-520,SP-479,2020-01-01,true\n";

    fn day() -> Date {
        Date::new(2024, 3, 12).unwrap()
    }

    #[test]
    fn follows_a_chain_of_three_to_the_current_part() {
        let s = Supersessions::parse(CSV, "t.csv").unwrap();
        let r = s.resolve("FL-1A", day()).unwrap();
        assert_eq!(r.part, "FL-500S");
        assert_eq!(r.chain, vec!["FL-1A", "FL-1AZ", "FL-500S"]);
        assert_eq!(s.resolve("FL-500S", day()).unwrap().chain, vec!["FL-500S"]);
        assert_eq!(s.resolve("FL-1AZ", day()).unwrap().part, "FL-500S");
    }

    #[test]
    fn ignores_links_not_yet_effective() {
        let s = Supersessions::parse(CSV, "t.csv").unwrap();
        assert_eq!(s.resolve("BRF-1411", day()).unwrap().part, "BRF-1411");
        assert_eq!(s.resolve("BRF-1411", Date::new(2030, 1, 1).unwrap()).unwrap().part, "BRF-1934");
        assert!(!s.link("BRF-1411").unwrap().interchangeable);
    }

    #[test]
    fn reports_loops_at_load_and_refuses_them_at_lookup() {
        let s = Supersessions::parse(CSV, "t.csv").unwrap();
        assert_eq!(s.loops(), vec![vec!["SP-479", "SP-515", "SP-520", "SP-479"]]);
        assert_eq!(
            s.resolve("SP-515", day()).unwrap_err(),
            vec!["SP-515", "SP-520", "SP-479", "SP-515"]
        );
    }

    #[test]
    fn rejects_bad_rows_with_the_line_number() {
        let twice = "old_part,new_part\nA-1,B-1\nA-1,C-1\n";
        let e = Supersessions::parse(twice, "t.csv").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 3: A-1 is superseded twice");
        let e = Supersessions::parse("old_part,new_part\nA-1,A-1\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv: line 2: A-1 supersedes itself");
        let e = Supersessions::parse("old_part,new_part,effective\nA-1,B-1,03/01/2024\n", "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv: line 2: effective:"), "{e}");
        assert!(Supersessions::parse("part,replacement\n", "t.csv").is_err());
    }

    #[test]
    fn the_shipped_table_has_no_loop() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/parts/supersessions.csv");
        let s = Supersessions::load(&path).unwrap();
        assert!(s.len() >= 6);
        assert!(s.loops().is_empty());
    }
}
