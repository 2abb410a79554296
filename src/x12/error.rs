//! Errors of the X12 layer.
//!
//! [`SyntaxError`] means the byte stream cannot be read as X12 at that point
//! (no ISA, bad delimiters, a segment too long to buffer). Everything that can
//! still be read but breaks a rule of the standard (counts, control numbers,
//! element lengths, codes) is not an error here: it is reported as an X12
//! code by the envelope checks and the validator, and ends up in a 997/999 or
//! TA1.

use std::fmt;

/// A point in the input: byte offset and 1-based segment index in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset of the segment's first byte from the start of the input.
    pub offset: u64,
    /// 1-based index of the segment in the input.
    pub segment: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}, segment {}", self.offset, self.segment)
    }
}

/// The input cannot be tokenized at `position`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at {position}")]
pub struct SyntaxError {
    /// What went wrong.
    pub kind: SyntaxErrorKind,
    /// Where.
    pub position: Position,
}

/// Kinds of [`SyntaxError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// Data where an interchange header (`ISA`) was expected.
    #[error("expected an ISA interchange header")]
    ExpectedIsa,
    /// The input ends inside the ISA header.
    #[error("the ISA header is truncated")]
    TruncatedIsa,
    /// ISA byte 3 cannot be an element separator.
    #[error("invalid element separator 0x{0:02x}")]
    InvalidElementSeparator(u8),
    /// ISA16 cannot be a component separator.
    #[error("invalid component separator 0x{0:02x}")]
    InvalidComponentSeparator(u8),
    /// The byte after ISA16 cannot be a segment terminator.
    #[error("invalid segment terminator 0x{0:02x}")]
    InvalidSegmentTerminator(u8),
    /// A segment is longer than the reader's limit.
    #[error("segment longer than {0} bytes")]
    SegmentTooLong(usize),
    /// Reading the input failed.
    #[error("read error: {0}")]
    Io(String),
}

impl SyntaxErrorKind {
    /// The TA1 note code (element I18) this error is reported with.
    pub fn ta1_code(&self) -> &'static str {
        match self {
            Self::InvalidElementSeparator(_) => "026",
            Self::InvalidComponentSeparator(_) => "027",
            Self::InvalidSegmentTerminator(_) => "004",
            Self::TruncatedIsa => "023",
            Self::ExpectedIsa | Self::SegmentTooLong(_) | Self::Io(_) => "024",
        }
    }
}
