//! Every fixture in `fixtures/x12/` against `fixtures/x12/expected.toml`:
//! envelope counts, ack codes at every level, and concrete translated values.

use std::path::PathBuf;

use serde::Deserialize;
use tradelane::mapping::{translate, Partners};
use tradelane::x12::ack::{check, CheckReport};
use tradelane::x12::schema::Registry;
use tradelane::x12::{EnvelopeReader, Tokenizer};

#[derive(Debug, Deserialize)]
struct Expected {
    fixture: Vec<Fixture>,
}

#[derive(Debug, Deserialize)]
struct Fixture {
    file: String,
    accepted: bool,
    interchanges: usize,
    groups: usize,
    sets: usize,
    ta1: Option<String>,
    group_status: Option<Vec<String>>,
    group_codes: Option<Vec<String>>,
    set_status: Option<Vec<String>>,
    set_codes: Option<Vec<String>>,
    segment_errors: Option<Vec<SegErr>>,
    element_errors: Option<Vec<ElErr>>,
    #[serde(default)]
    values: toml::Table,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct SegErr {
    id: String,
    position: usize,
    code: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct ElErr {
    segment: String,
    element: usize,
    code: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mappings() -> PathBuf {
    std::env::var_os("TRADELANE_MAPPINGS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("mappings"))
}

fn load() -> (Registry, Partners, Expected) {
    let reg = Registry::load(&mappings().join("x12")).expect("schemas load");
    let partners = Partners::load(&mappings().join("partners")).expect("partners load");
    let text = std::fs::read_to_string(root().join("fixtures/x12/expected.toml")).expect("expected.toml");
    (reg, partners, toml::from_str(&text).expect("expected.toml parses"))
}

fn run(reg: &Registry, data: &[u8]) -> CheckReport {
    check(reg, EnvelopeReader::new(Tokenizer::new(data)), |_, _, _| {})
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).expect("toml value to json")
}

fn assert_fixture(reg: &Registry, partners: &Partners, f: &Fixture) -> Result<(), String> {
    let data = std::fs::read(root().join("fixtures/x12").join(&f.file)).map_err(|e| e.to_string())?;
    let report = run(reg, &data);
    let mut problems = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{what}: {detail}"));
        }
    };
    expect("accepted", report.accepted() == f.accepted, format!("got {}", report.accepted()));
    expect(
        "interchanges",
        report.interchanges.len() == f.interchanges,
        format!("got {}", report.interchanges.len()),
    );
    let groups: Vec<_> = report.interchanges.iter().flat_map(|i| &i.groups).collect();
    expect("groups", groups.len() == f.groups, format!("got {}", groups.len()));
    let sets: Vec<_> = groups.iter().flat_map(|g| &g.sets).collect();
    expect("sets", sets.len() == f.sets, format!("got {}", sets.len()));
    if let Some(code) = &f.ta1 {
        let ta1: Vec<_> = report
            .interchanges
            .iter()
            .filter(|i| i.needs_ta1())
            .map(|i| tradelane::x12::ack::ta1(i).text(5).to_string())
            .collect();
        expect("ta1", ta1.first() == Some(code), format!("got {ta1:?}"));
    }
    if let Some(want) = &f.group_status {
        let got: Vec<_> = groups.iter().map(|g| g.status().to_string()).collect();
        expect("group_status", &got == want, format!("got {got:?}"));
    }
    if let Some(want) = &f.group_codes {
        let got: Vec<_> = groups.iter().flat_map(|g| g.issues.iter().map(|i| i.code().to_string())).collect();
        expect("group_codes", &got == want, format!("got {got:?}"));
    }
    if let Some(want) = &f.set_status {
        let got: Vec<_> = sets.iter().map(|s| if s.accepted() { "A" } else { "R" }.to_string()).collect();
        expect("set_status", &got == want, format!("got {got:?}"));
    }
    if let Some(want) = &f.set_codes {
        let got: Vec<_> = sets.iter().flat_map(|s| s.issues.iter().map(|i| i.code().to_string())).collect();
        expect("set_codes", &got == want, format!("got {got:?}"));
    }
    if let Some(want) = &f.segment_errors {
        let mut got: Vec<SegErr> = sets
            .iter()
            .flat_map(|s| &s.errors)
            .map(|e| SegErr {
                id: e.id.clone(),
                position: e.position,
                code: e.code.code().to_string(),
            })
            .collect();
        let mut want = want.clone();
        got.sort();
        want.sort();
        expect("segment_errors", got == want, format!("got {got:?}"));
    }
    if let Some(want) = &f.element_errors {
        let mut got: Vec<ElErr> = sets
            .iter()
            .flat_map(|s| &s.errors)
            .flat_map(|e| {
                e.elements.iter().map(|el| ElErr {
                    segment: e.id.clone(),
                    element: el.position,
                    code: el.code.code().to_string(),
                })
            })
            .collect();
        let mut want = want.clone();
        got.sort();
        want.sort();
        expect("element_errors", got == want, format!("got {got:?}"));
    }
    if !f.values.is_empty() {
        let mut docs = Vec::new();
        translate(reg, partners, Tokenizer::new(&data), |d| docs.push(d));
        let json = serde_json::to_value(&docs).map_err(|e| e.to_string())?;
        for (pointer, want) in &f.values {
            let got = json.pointer(pointer);
            let want = toml_to_json(want);
            let same = match (got, &want) {
                (Some(serde_json::Value::Number(a)), serde_json::Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Some(g), w) => g == w,
                (None, _) => false,
            };
            expect(pointer, same, format!("got {got:?}, want {want}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}:\n  {}", f.file, problems.join("\n  ")))
    }
}

#[test]
fn every_fixture_meets_its_expectations() {
    let (reg, partners, expected) = load();
    assert!(expected.fixture.len() >= 30, "at least 30 fixtures");
    let failures: Vec<String> = expected
        .fixture
        .iter()
        .filter_map(|f| assert_fixture(&reg, &partners, f).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        expected.fixture.len(),
        failures.join("\n")
    );
}

#[test]
fn every_fixture_file_is_listed() {
    let (_, _, expected) = load();
    let listed: std::collections::HashSet<_> = expected.fixture.iter().map(|f| f.file.clone()).collect();
    for dir in ["valid", "invalid"] {
        for e in std::fs::read_dir(root().join("fixtures/x12").join(dir)).unwrap() {
            let name = format!("{dir}/{}", e.unwrap().file_name().to_string_lossy());
            assert!(listed.contains(&name), "{name} has no entry in expected.toml");
        }
    }
}

#[test]
fn streaming_reader_agrees_with_the_slice_tokenizer_on_every_fixture() {
    use tradelane::x12::{Reader, SegmentSource};
    for dir in ["valid", "invalid"] {
        for e in std::fs::read_dir(root().join("fixtures/x12").join(dir)).unwrap() {
            let path = e.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let a: Vec<_> = Tokenizer::new(&data).map(|r| r.map(|s| (s.raw().to_vec(), s.position()))).collect();
            let mut r = Reader::with_limits(Trickle(&data), 512, 1 << 20);
            let mut b = Vec::new();
            while let Some(s) = SegmentSource::next_segment(&mut r) {
                b.push(s.map(|s| (s.raw().to_vec(), s.position())));
            }
            assert_eq!(a, b, "{}", path.display());
        }
    }
}

/// Hands out 7 bytes per read, to split segments and ISAs across refills.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(7).min(out.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
