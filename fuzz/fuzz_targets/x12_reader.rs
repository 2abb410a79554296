//! Any byte sequence through the tokenizer, the streaming reader, envelope
//! checks, schema validation, acknowledgment building and translation: no
//! panic, and both tokenizers agree.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tradelane::mapping::{translate, Partners};
use tradelane::x12::ack::{ack_interchange, check, AckKind, AckNumbers};
use tradelane::x12::schema::Registry;
use tradelane::x12::{EnvelopeReader, Reader, SegmentSource, Tokenizer};

fn setup() -> &'static (Registry, Partners) {
    static S: OnceLock<(Registry, Partners)> = OnceLock::new();
    S.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings");
        (Registry::load(&root.join("x12")).unwrap(), Partners::load(&root.join("partners")).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let (reg, partners) = setup();
    let slice: Vec<_> = Tokenizer::new(data).map(|r| r.map(|s| s.raw().to_vec())).collect();
    let mut reader = Reader::with_limits(data, 512, 1 << 16);
    let mut streamed = Vec::new();
    while let Some(s) = SegmentSource::next_segment(&mut reader) {
        streamed.push(s.map(|s| s.raw().to_vec()));
    }
    if data.len() < 1 << 16 {
        assert_eq!(slice.len(), streamed.len());
    }
    let report = check(reg, EnvelopeReader::new(Tokenizer::new(data)), |_, _, _| {});
    for ic in &report.interchanges {
        let _ = ack_interchange(ic, AckKind::Fa999, AckNumbers { interchange: 1, first_group: 1 }, "20240315", "1200");
    }
    translate(reg, partners, Tokenizer::new(data), |d| {
        let _ = serde_json::to_string(&d);
    });
});
