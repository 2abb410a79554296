//! Partner profiles, one TOML file per partner in `mappings/partners/`.
//!
//! A profile names the partner's ISA and GS ids, the ids Tradelane uses
//! toward it, the X12 version and delimiters it expects, which functional
//! acknowledgment it wants, and cross-references for part numbers and units.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::model::Text;
use crate::x12::ack::AckKind;
use crate::x12::writer::EnvelopeParties;
use crate::x12::Delimiters;

/// Errors loading profiles.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A profile is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No profile with this id.
    #[error("unknown partner {0:?}")]
    Unknown(String),
}

/// ISA qualifier and id, and GS application id, of one side.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Identity {
    /// ISA05 / ISA07.
    pub qualifier: String,
    /// ISA06 / ISA08 (unpadded).
    pub id: String,
    /// GS02 / GS03.
    pub gs_id: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RawDelimiters {
    element: String,
    component: String,
    segment: String,
    #[serde(default)]
    repetition: Option<String>,
    #[serde(default)]
    newline: bool,
}

/// Cross-references applied when reading a partner's documents.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CrossReference {
    /// Buyer part number → vendor part number.
    #[serde(default)]
    pub part_numbers: BTreeMap<String, String>,
    /// Partner unit of measure → canonical unit.
    #[serde(default)]
    pub uom: BTreeMap<String, String>,
}

/// Values used when a document leaves them out.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Defaults {
    /// Currency (CUR02).
    #[serde(default)]
    pub currency: Option<String>,
    /// Carrier SCAC.
    #[serde(default)]
    pub carrier: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawProfile {
    id: String,
    name: String,
    interchange: Identity,
    tradelane: Identity,
    version: String,
    #[serde(default = "production")]
    usage: String,
    #[serde(default)]
    ack: AckKind,
    #[serde(default = "yes")]
    ack_all_sets: bool,
    #[serde(default = "day")]
    ack_window_hours: u32,
    delimiters: RawDelimiters,
    #[serde(default)]
    cross_reference: CrossReference,
    #[serde(default)]
    defaults: Defaults,
}

fn production() -> String {
    "P".into()
}
fn yes() -> bool {
    true
}
fn day() -> u32 {
    24
}

/// A validated partner profile.
#[derive(Debug, Clone)]
pub struct PartnerProfile {
    /// Profile id (file stem).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The partner's ids.
    pub interchange: Identity,
    /// Tradelane's ids toward this partner.
    pub tradelane: Identity,
    /// X12 version, `004010` or `005010`.
    pub version: String,
    /// ISA15.
    pub usage: String,
    /// 997 or 999.
    pub ack: AckKind,
    /// List accepted sets in acks too, not only rejected ones.
    pub ack_all_sets: bool,
    /// Hours after which an outbound document without an ack is overdue.
    pub ack_window_hours: u32,
    /// Delimiters for documents sent to the partner.
    pub delimiters: Delimiters,
    /// Newline after each segment terminator.
    pub newline: bool,
    /// Cross-references.
    pub cross_reference: CrossReference,
    /// Defaults.
    pub defaults: Defaults,
}

impl PartnerProfile {
    /// Parses and checks a profile.
    pub fn parse(text: &str, path: &str) -> Result<Self, PartnerError> {
        let invalid = |message: String| PartnerError::Invalid {
            path: path.to_string(),
            message,
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let one = |name: &str, s: &str| -> Result<u8, PartnerError> {
            match s.as_bytes() {
                [b] if !b.is_ascii_alphanumeric() && *b != b' ' => Ok(*b),
                _ => Err(invalid(format!(
                    "delimiters.{name} must be one non-alphanumeric character, not {s:?}"
                ))),
            }
        };
        let d = &raw.delimiters;
        let delimiters = Delimiters {
            element: one("element", &d.element)?,
            component: one("component", &d.component)?,
            segment: one("segment", &d.segment)?,
            repetition: match d.repetition.as_deref() {
                None | Some("") => None,
                Some(r) => Some(one("repetition", r)?),
            },
        };
        let mut all = vec![delimiters.element, delimiters.component, delimiters.segment];
        all.extend(delimiters.repetition);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != all.len() {
            return Err(invalid("delimiters must all differ".into()));
        }
        if !matches!(raw.version.as_str(), "004010" | "005010") {
            return Err(invalid(format!("version {} is not supported (004010, 005010)", raw.version)));
        }
        if raw.ack == AckKind::Fa999 && raw.version.as_str() < "005010" {
            return Err(invalid("a 999 needs version 005010".into()));
        }
        if delimiters.repetition.is_some() && raw.version.as_str() < "005010" {
            return Err(invalid("a repetition separator needs version 005010".into()));
        }
        for (side, ident) in [("interchange", &raw.interchange), ("tradelane", &raw.tradelane)] {
            if ident.qualifier.len() != 2 || ident.id.is_empty() || ident.id.len() > 15 || ident.gs_id.is_empty() || ident.gs_id.len() > 15
            {
                return Err(invalid(format!("{side}: qualifier must be 2 characters, id and gs_id 1-15")));
            }
        }
        Ok(Self {
            id: raw.id,
            name: raw.name,
            interchange: raw.interchange,
            tradelane: raw.tradelane,
            version: raw.version,
            usage: raw.usage,
            ack: raw.ack,
            ack_all_sets: raw.ack_all_sets,
            ack_window_hours: raw.ack_window_hours,
            delimiters,
            newline: d.newline,
            cross_reference: raw.cross_reference,
            defaults: raw.defaults,
        })
    }

    /// ISA12 for this partner's version.
    pub fn isa_version(&self) -> &'static str {
        if self.version.as_str() >= "005010" {
            "00501"
        } else {
            "00401"
        }
    }

    /// Envelope parties for documents Tradelane sends to this partner.
    pub fn outbound_parties(&self) -> EnvelopeParties {
        EnvelopeParties {
            sender_qualifier: self.tradelane.qualifier.clone(),
            sender_id: self.tradelane.id.clone(),
            receiver_qualifier: self.interchange.qualifier.clone(),
            receiver_id: self.interchange.id.clone(),
            gs_sender: self.tradelane.gs_id.clone(),
            gs_receiver: self.interchange.gs_id.clone(),
            isa_version: self.isa_version().into(),
            usage: self.usage.clone(),
        }
    }

    /// Applies part-number and unit cross-references to one line.
    pub fn apply_line_cross_reference(&self, buyer: &mut Option<Text>, vendor: &mut Option<Text>, uom: &mut Text) {
        if vendor.is_none() {
            if let Some(v) = buyer.as_deref().and_then(|b| self.cross_reference.part_numbers.get(b)) {
                *vendor = Some(v.into());
            }
        }
        if let Some(u) = self.cross_reference.uom.get(uom.as_str()) {
            *uom = u.into();
        }
    }
}

/// All partner profiles.
#[derive(Debug, Clone, Default)]
pub struct Partners {
    profiles: BTreeMap<String, PartnerProfile>,
}

/// The `*.toml` files of a mappings folder (partners, dealers, OEMs), sorted by name.
///
/// # Errors
/// The folder cannot be listed.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

impl Partners {
    /// Loads every `*.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Self, PartnerError> {
        let io = |source| PartnerError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut profiles = BTreeMap::new();
        for path in toml_files(dir).map_err(io)? {
            let text = std::fs::read_to_string(&path).map_err(|source| PartnerError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let p = PartnerProfile::parse(&text, &path.display().to_string())?;
            profiles.insert(p.id.clone(), p);
        }
        Ok(Self { profiles })
    }

    /// A profile by id.
    pub fn get(&self, id: &str) -> Result<&PartnerProfile, PartnerError> {
        self.profiles.get(id).ok_or_else(|| PartnerError::Unknown(id.to_string()))
    }

    /// The profile whose ISA qualifier and id match a sender.
    pub fn by_isa(&self, qualifier: &str, id: &str) -> Option<&PartnerProfile> {
        self.profiles
            .values()
            .find(|p| p.interchange.qualifier == qualifier && p.interchange.id == id)
    }

    /// All profiles.
    pub fn iter(&self) -> impl Iterator<Item = &PartnerProfile> {
        self.profiles.values()
    }
}
