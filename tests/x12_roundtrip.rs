//! parse → write → parse is identical: for every fixture, with its own
//! delimiters and with other ones, and for generated documents. And the
//! reader survives arbitrary bytes.

use proptest::prelude::*;
use tradelane::x12::tree::OwnedSegment;
use tradelane::x12::writer::Writer;
use tradelane::x12::{Delimiters, EnvelopeReader, Tokenizer};

/// All segments of an input, owned, plus the delimiters of each.
fn parse(data: &[u8]) -> Vec<(OwnedSegment, Delimiters)> {
    Tokenizer::new(data)
        .filter_map(Result::ok)
        .map(|s| (OwnedSegment::from_segment(&s), s.delimiters()))
        .collect()
}

/// ISA11 and ISA16 carry delimiters; compare everything else.
fn comparable(segs: &[(OwnedSegment, Delimiters)]) -> Vec<OwnedSegment> {
    segs.iter()
        .map(|(s, _)| {
            let mut s = s.clone();
            if s.id == "ISA" {
                for i in [10, 15] {
                    if let Some(e) = s.elements.get_mut(i) {
                        *e = vec![vec![String::new()]];
                    }
                }
            }
            // Trailing empty components and elements are not written.
            for e in &mut s.elements {
                for r in e.iter_mut() {
                    while r.len() > 1 && r.last().is_some_and(String::is_empty) {
                        r.pop();
                    }
                }
            }
            while s.elements.last().is_some_and(|e| e.iter().all(|r| r.iter().all(String::is_empty))) && s.id != "ISA" {
                s.elements.pop();
            }
            s
        })
        .collect()
}

fn write(segs: &[(OwnedSegment, Delimiters)], with: Option<Delimiters>, newline: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (seg, d) in segs {
        let mut w = Writer::new(&mut out, with.unwrap_or(*d), newline);
        w.write(seg).expect("writable");
    }
    out
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/x12/valid");
    let mut v: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn fixtures_round_trip_with_their_own_delimiters() {
    for (name, data) in fixtures() {
        let first = parse(&data);
        assert!(!first.is_empty(), "{name}");
        for newline in [false, true] {
            let again = parse(&write(&first, None, newline));
            assert_eq!(comparable(&first), comparable(&again), "{name}");
        }
    }
}

#[test]
fn fixtures_round_trip_with_other_delimiters() {
    let other = Delimiters {
        element: 0x1D,
        component: 0x1F,
        segment: 0x1C,
        repetition: None,
    };
    for (name, data) in fixtures() {
        let first = parse(&data);
        // Repeated elements need a repetition separator; keep the original one for those files.
        let has_reps = first.iter().any(|(s, _)| s.elements.iter().any(|e| e.len() > 1));
        let target = Delimiters {
            repetition: if has_reps { first[0].1.repetition } else { None },
            ..other
        };
        let again = parse(&write(&first, Some(target), false));
        assert_eq!(comparable(&first), comparable(&again), "{name}");
        assert!(again.iter().all(|(_, d)| d.element == 0x1D), "{name}");
    }
}

fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 .,/#-]{0,12}"
}

fn segment() -> impl Strategy<Value = OwnedSegment> {
    (
        "[A-Z][A-Z0-9]{1,2}",
        prop::collection::vec(prop::collection::vec(prop::collection::vec(value(), 1..3), 1..3), 0..8),
    )
        .prop_filter("not an envelope id", |(id, _)| !matches!(id.as_str(), "ISA" | "IEA"))
        .prop_map(|(id, elements)| OwnedSegment { id, elements })
}

fn delimiters() -> impl Strategy<Value = Delimiters> {
    prop::sample::subsequence(vec![b'*', b'|', b'~', b'^', b'>', b':', b'!', b'\n', 0x1D, 0x1F, 0x1C], 4)
        .prop_shuffle()
        .prop_map(|v| Delimiters {
            element: v[0],
            component: v[1],
            segment: v[2],
            repetition: Some(v[3]),
        })
        .prop_filter("newline cannot separate elements", |d| d.element != b'\n' && d.component != b'\n')
}

/// An ISA as the reader returns it: fields padded to their widths.
fn isa() -> OwnedSegment {
    let mut s = OwnedSegment::new("ISA");
    for v in [
        "00",
        "          ",
        "00",
        "          ",
        "ZZ",
        "SENDER         ",
        "ZZ",
        "RECEIVER       ",
        "240315",
        "1200",
        "^",
        "00501",
        "000000042",
        "0",
        "P",
        ">",
    ] {
        s = s.el(v);
    }
    s
}

fn registry() -> &'static tradelane::x12::schema::Registry {
    static REG: std::sync::OnceLock<tradelane::x12::schema::Registry> = std::sync::OnceLock::new();
    REG.get_or_init(|| {
        tradelane::x12::schema::Registry::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/x12")).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_documents_round_trip(d in delimiters(), body in prop::collection::vec(segment(), 0..20)) {
        let mut segs = vec![(isa(), d)];
        segs.extend(body.into_iter().map(|s| (s, d)));
        segs.push((OwnedSegment::new("IEA").el("0").el("000000042"), d));
        let bytes = write(&segs, None, false);
        let again = parse(&bytes);
        prop_assert_eq!(comparable(&segs), comparable(&again));
        prop_assert!(again.iter().all(|(_, got)| *got == d));
    }

    #[test]
    fn reader_and_validator_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), prefix in any::<bool>()) {
        let mut data = Vec::new();
        if prefix {
            data.extend_from_slice(b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240315*1200*U*00401*000000001*0*P*>~GS*PO*A*B*20240315*1200*1*X*004010~ST*850*0001~");
        }
        data.extend_from_slice(&bytes);
        let report = tradelane::x12::ack::check(registry(), EnvelopeReader::new(Tokenizer::new(&data)), |_, _, _| {});
        for ic in &report.interchanges {
            let _ = tradelane::x12::ack::ack_interchange(ic, tradelane::x12::ack::AckKind::Fa999, tradelane::x12::ack::AckNumbers { interchange: 1, first_group: 1 }, "20240315", "1200");
        }
    }
}
