//! X12 ⇄ canonical model.
//!
//! One module per transaction set, each with `read` (X12 → document) and,
//! where Tradelane sends the set, `write` (document → segments between ST and
//! SE). Partner profiles ([`partner`]) supply ids, delimiters, versions and
//! cross-references; [`translate`] and [`render`] tie it together.

pub mod partner;
mod render;
mod support;
mod translate;
mod ts810;
mod ts850;
mod ts855;
mod ts856;
mod ts997;

pub use partner::{toml_files, PartnerError, PartnerProfile, Partners};
pub use render::{render, RenderError, RenderOptions};
pub use translate::{read_document, translate, Translated};

/// Errors mapping a transaction set to a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// No mapping for this set.
    #[error("no mapping for transaction set {0}")]
    Unsupported(String),
    /// A segment the document needs is absent.
    #[error("segment {0} is missing")]
    Missing(&'static str),
    /// A value cannot be read.
    #[error("{segment}{element:02}: {reason}")]
    Invalid {
        /// Segment id.
        segment: &'static str,
        /// Element position.
        element: usize,
        /// What is wrong.
        reason: String,
    },
}
