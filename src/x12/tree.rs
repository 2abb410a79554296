//! Owned segments: what the writer takes and what `x12 parse` prints.
//!
//! An [`OwnedSegment`] keeps each element as repetitions of components, so a
//! segment read with one set of delimiters can be written with another.

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::segment::Segment;

/// One element: its repetitions, each a list of components.
pub type OwnedElement = Vec<Vec<String>>;

/// A segment detached from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSegment {
    /// Segment id.
    pub id: String,
    /// Elements in order.
    pub elements: Vec<OwnedElement>,
}

impl OwnedSegment {
    /// A segment with no elements yet.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            elements: Vec::new(),
        }
    }

    /// Appends a simple element.
    pub fn el(mut self, value: impl Into<String>) -> Self {
        self.elements.push(vec![vec![value.into()]]);
        self
    }

    /// Appends a simple element, empty when `None`.
    pub fn opt(self, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.el(v),
            None => self.el(""),
        }
    }

    /// Appends a composite element.
    pub fn composite<S: Into<String>>(mut self, components: impl IntoIterator<Item = S>) -> Self {
        self.elements.push(vec![components.into_iter().map(Into::into).collect()]);
        self
    }

    /// Copies a borrowed segment; the ISA's ISA11 and ISA16 are kept as written.
    pub fn from_segment(seg: &Segment<'_>) -> Self {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let is_isa = seg.is("ISA");
        let elements = seg
            .elements()
            .map(|e| {
                if is_isa {
                    return vec![vec![text(e.raw())]];
                }
                e.repetitions().map(|r| r.components().map(text).collect()).collect()
            })
            .collect();
        Self {
            id: text(seg.id()),
            elements,
        }
    }

    /// Element `n` (1-based) as plain text: components joined with `>`-free first component.
    pub fn text(&self, n: usize) -> &str {
        self.elements
            .get(n.wrapping_sub(1))
            .and_then(|e| e.first())
            .and_then(|r| r.first())
            .map(String::as_str)
            .unwrap_or("")
    }
}

impl Serialize for OwnedSegment {
    /// `["BEG", "00", "SA", ["2", "1"], …]`: simple elements as strings,
    /// composites as arrays, repeated elements as arrays of those.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.elements.len() + 1))?;
        seq.serialize_element(&self.id)?;
        for e in &self.elements {
            seq.serialize_element(&ElementJson(e))?;
        }
        seq.end()
    }
}

struct ElementJson<'a>(&'a OwnedElement);

impl Serialize for ElementJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let comp = |r: &Vec<String>| -> serde_json::Value {
            if r.len() == 1 {
                serde_json::Value::String(r[0].clone())
            } else {
                serde_json::Value::Array(r.iter().cloned().map(serde_json::Value::String).collect())
            }
        };
        if self.0.len() == 1 {
            comp(&self.0[0]).serialize(s)
        } else {
            serde_json::Value::Array(self.0.iter().map(comp).collect()).serialize(s)
        }
    }
}
