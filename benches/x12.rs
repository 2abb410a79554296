//! X12 throughput on a generated 004010 file of many 850 purchase orders
//! (default ~50 MB; `TRADELANE_BENCH_MB` overrides).
//!
//! Peers in the same run, same input: a bare memchr segment count (the floor),
//! the `edi` crate's `parse` (dev-dependency only), Tradelane's zero-copy
//! tokenizer and streaming reader, and the full pipeline: envelope checks,
//! schema validation and 850 → PurchaseOrder JSON.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tradelane::mapping::{read_document, translate, Partners};
use tradelane::x12::schema::Registry;
use tradelane::x12::{EnvelopeReader, Event, Reader, SegmentSource, Tokenizer};

// The same allocator as the `tradelane` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One interchange per 1,000 purchase orders, each with a few header segments and 5 lines.
fn generate(target_bytes: usize) -> String {
    let mut out = String::with_capacity(target_bytes + 4096);
    let mut isa = 0u32;
    while out.len() < target_bytes {
        isa += 1;
        out.push_str(&format!(
            "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240315*1200*U*00401*{isa:09}*0*P*>~\n"
        ));
        out.push_str(&format!("GS*PO*ACMEPARTS*TRADELANE*20240315*1200*{isa}*X*004010~\n"));
        for st in 1..=1000u32 {
            let body = format!(
                "BEG*00*SA*45{isa:04}{st:05}**20240315~\nCUR*BY*USD~\nREF*DP*041~\nDTM*002*20240325~\nTD5*O*2*UPSN*U*UPS GROUND~\n\
                 N1*ST*ACME PARTS DC 12*92*0012~\nN3*4800 DISTRIBUTION WAY~\nN4*COLUMBUS*OH*43228*US~\n\
                 N1*BY*ACME PARTS STORE 0417*92*0417~\n"
            );
            out.push_str(&format!("ST*850*{st:04}~\n"));
            out.push_str(&body);
            let mut count = 2 + body.matches('~').count();
            for line in 1..=5 {
                out.push_str(&format!(
                    "PO1*{line}*{}*EA*{}.95**VP*BP-44{line}1*BP*ACM-{line}0471~\n",
                    line * 6,
                    10 + line
                ));
                out.push_str(&format!("PID*F****CERAMIC BRAKE PAD SET {line}~\n"));
                count += 2;
            }
            out.push_str("CTT*5*90~\n");
            count += 1;
            out.push_str(&format!("SE*{count}*{st:04}~\n"));
        }
        out.push_str(&format!("GE*1000*{isa}~\nIEA*1*{isa:09}~\n"));
    }
    out
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("TRADELANE_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let data = generate(mb << 20);
    let bytes = data.as_bytes();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let reg = Registry::load(&root.join("x12")).expect("schemas");
    let partners = Partners::load(&root.join("partners")).expect("partners");

    let mut g = c.benchmark_group("x12");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(10);

    g.bench_function("memchr_segment_count", |b| {
        b.iter(|| memchr::memchr_iter(b'~', black_box(bytes)).count())
    });

    g.bench_function("tradelane_tokenize", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for s in Tokenizer::new(black_box(bytes)).flatten() {
                n += s.id().len();
            }
            n
        })
    });

    g.bench_function("tradelane_tokenize_elements", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for s in Tokenizer::new(black_box(bytes)).flatten() {
                n += s.elements().count();
            }
            n
        })
    });

    g.bench_function("tradelane_stream_reader", |b| {
        b.iter(|| {
            let mut r = Reader::new(black_box(bytes));
            let mut n = 0usize;
            while let Some(s) = SegmentSource::next_segment(&mut r) {
                n += s.map(|s| s.id().len()).unwrap_or(0);
            }
            n
        })
    });

    g.bench_function("edi_parse", |b| {
        b.iter(|| edi::parse(black_box(&data)).map(|d| d.interchanges.len()).unwrap_or(0))
    });

    // The same conversion without schema validation: where the time goes, not what the gateway runs.
    g.bench_function("tradelane_850_to_json_unvalidated", |b| {
        b.iter(|| {
            let mut sink = std::io::sink();
            let mut docs = 0usize;
            let mut reader = EnvelopeReader::new(Tokenizer::new(black_box(bytes)));
            let partner = partners.get("acme-parts").ok();
            while let Some(event) = reader.next_event() {
                if let Event::TransactionSet(set) = event {
                    let d = read_document(&set, partner).expect("850");
                    serde_json::to_writer(&mut sink, &d).expect("json");
                    docs += 1;
                }
            }
            docs
        })
    });

    g.bench_function("tradelane_850_to_json", |b| {
        b.iter(|| {
            let mut sink = std::io::sink();
            let mut docs = 0usize;
            translate(&reg, &partners, Tokenizer::new(black_box(bytes)), |d| {
                serde_json::to_writer(&mut sink, &d).expect("json");
                docs += 1;
            });
            docs
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
