//! The X12 engine: bytes in, segments, envelopes, validation and acknowledgments out.
//!
//! Layout:
//! * [`delimiters`]: delimiters of an interchange, read from its ISA;
//! * [`tokenizer`]: zero-copy [`Tokenizer`] over a buffer and streaming [`Reader`];
//! * [`segment`]: borrowed [`Segment`] / [`Element`] views;
//! * [`envelope`]: ISA/GS/ST nesting, counts and control numbers, as [`Event`]s;
//! * [`schema`]: declarative transaction-set definitions loaded from `mappings/x12/`;
//! * [`validate`]: a transaction set checked against its schema, errors with X12 codes;
//! * [`ack`]: 997, 999 and TA1 built from those results, and received acks read back;
//! * [`writer`]: segments and envelopes out with any delimiters.
//!
//! This module depends on nothing else in the crate: no HTTP, no database.

pub mod ack;
pub mod delimiters;
pub mod envelope;
pub mod error;
pub mod schema;
pub mod segment;
pub mod tokenizer;
pub mod tree;
pub mod validate;
pub mod writer;

pub use delimiters::Delimiters;
pub use envelope::{EnvelopeReader, Event};
pub use error::{Position, SyntaxError, SyntaxErrorKind};
pub use segment::{Element, Fields, Segment};
pub use tokenizer::{Reader, SegmentSource, Tokenizer};
