//! Tradelane: a carrier and EDI integration gateway.
//!
//! Layout:
//! * [`x12`]: the X12 engine (tokenizer, envelopes, schemas, validation, acks, writer);
//!   it knows nothing of the rest of the crate;
//! * [`model`]: canonical business documents (purchase order, ship notice, invoice, acks);
//! * [`mapping`]: X12 ⇄ canonical model, driven by partner profiles from `mappings/`;
//! * [`cli`]: the `tradelane` command line.

pub mod cli;
pub mod mapping;
pub mod model;
pub mod x12;
