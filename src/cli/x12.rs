//! `tradelane x12 …`: parse, validate, translate and render files.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::json;

use crate::mapping::{render, translate, Partners, RenderOptions};
use crate::x12::ack::{ack_interchange, check, AckKind, AckNumbers, CheckReport};
use crate::x12::schema::Registry;
use crate::x12::tree::OwnedSegment;
use crate::x12::{EnvelopeReader, Event, Reader};

#[derive(Debug, Subcommand)]
pub enum X12Command {
    /// Print the interchange → group → set → segment tree as JSON.
    Parse {
        /// X12 file, or `-` for standard input.
        file: PathBuf,
    },
    /// Check envelopes and sets against the schemas; print errors and the acknowledgment.
    Validate {
        /// X12 file, or `-` for standard input.
        file: PathBuf,
        /// ISA13 of the acknowledgment interchange (GS06 counts up from it).
        #[arg(long, default_value_t = 1)]
        control_number: u64,
        /// Acknowledgment timestamp, CCYYMMDDHHMM (default: now, UTC).
        #[arg(long)]
        timestamp: Option<String>,
    },
    /// Translate every transaction set to its canonical JSON document.
    Translate {
        /// X12 file, or `-` for standard input.
        file: PathBuf,
    },
    /// Render a canonical JSON document as X12 for a partner.
    Render {
        /// Transaction set: 850, 855, 856 or 810.
        #[arg(long)]
        set: String,
        /// Partner profile id (`mappings/partners/<id>.toml`).
        #[arg(long)]
        partner: String,
        /// ISA13; GS06 takes the same value, ST02 is 0001.
        #[arg(long, default_value_t = 1)]
        control_number: u64,
        /// Timestamp, CCYYMMDDHHMM (default: now, UTC).
        #[arg(long)]
        timestamp: Option<String>,
        /// JSON file, or `-` for standard input.
        file: PathBuf,
    },
    /// Print the JSON Schema of the canonical documents.
    Schema,
}

fn open(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path == Path::new("-") {
        return Ok(Box::new(io::stdin().lock()));
    }
    Ok(Box::new(
        File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    ))
}

fn timestamp(arg: Option<String>) -> anyhow::Result<(String, String)> {
    match arg {
        None => Ok(super::now_utc()),
        Some(t) if t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit()) => Ok((t[..8].to_string(), t[8..].to_string())),
        Some(t) => bail!("--timestamp must be CCYYMMDDHHMM, not {t:?}"),
    }
}

fn registry(mappings: &Path) -> anyhow::Result<Registry> {
    Registry::load(&mappings.join("x12")).context("loading X12 schemas")
}

fn partners(mappings: &Path) -> anyhow::Result<Partners> {
    Partners::load(&mappings.join("partners")).context("loading partner profiles")
}

pub fn run(cmd: X12Command, mappings: &Path) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match cmd {
        X12Command::Parse { file } => {
            let tree = parse_tree(open(&file)?);
            serde_json::to_writer_pretty(&mut out, &tree)?;
        }
        X12Command::Validate {
            file,
            control_number,
            timestamp: ts,
        } => {
            let (date, time) = timestamp(ts)?;
            let reg = registry(mappings)?;
            let partners = partners(mappings)?;
            let report = check(&reg, EnvelopeReader::new(Reader::new(open(&file)?)), |_, _, _| {});
            let mut ack = String::new();
            let mut next = control_number;
            for ic in &report.interchanges {
                let kind = partners
                    .by_isa(&ic.header.sender_qualifier, &ic.header.sender_id)
                    .map_or(AckKind::Fa997, |p| p.ack);
                let numbers = AckNumbers {
                    interchange: next,
                    first_group: next,
                };
                if let Some(x) = ack_interchange(ic, kind, numbers, &date, &time)? {
                    ack.push_str(&x);
                    next += 1;
                }
            }
            let accepted = report.accepted();
            let body = json!({
                "accepted": accepted,
                "errors": error_list(&report),
                "ack": ack,
            });
            serde_json::to_writer_pretty(&mut out, &body)?;
            writeln!(out)?;
            out.flush()?;
            return Ok(if accepted { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        X12Command::Translate { file } => {
            let reg = registry(mappings)?;
            let partners = partners(mappings)?;
            let mut first = true;
            let mut failed: Option<io::Error> = None;
            out.write_all(b"[")?;
            translate(&reg, &partners, Reader::new(open(&file)?), |doc| {
                if failed.is_some() {
                    return;
                }
                let sep: &[u8] = if first { b"\n" } else { b",\n" };
                first = false;
                let r = out
                    .write_all(sep)
                    .and_then(|_| serde_json::to_writer(&mut out, &doc).map_err(io::Error::from));
                if let Err(e) = r {
                    failed = Some(e);
                }
            });
            if let Some(e) = failed {
                return Err(e.into());
            }
            out.write_all(b"\n]")?;
        }
        X12Command::Render {
            set,
            partner,
            control_number,
            timestamp: ts,
            file,
        } => {
            let (date, time) = timestamp(ts)?;
            let partners = partners(mappings)?;
            let profile = partners.get(&partner)?;
            let mut text = String::new();
            open(&file)?.read_to_string(&mut text)?;
            let json: serde_json::Value = serde_json::from_str(&text).context("input is not JSON")?;
            let opts = RenderOptions {
                interchange_control: control_number,
                group_control: control_number,
                set_control: "0001".into(),
                date,
                time,
            };
            let x12 = render(&set, profile, &json, &opts)?;
            out.write_all(x12.as_bytes())?;
            out.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        X12Command::Schema => serde_json::to_writer_pretty(&mut out, &crate::model::schema())?,
    }
    writeln!(out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The whole file as nested JSON: interchanges, groups, sets, segments.
pub fn parse_tree(input: impl Read) -> serde_json::Value {
    let mut reader = EnvelopeReader::new(Reader::new(input));
    let mut interchanges: Vec<serde_json::Value> = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<serde_json::Value> = None;
    while let Some(event) = reader.next_event() {
        match event {
            Event::InterchangeStart { header, issues } => {
                let d = header.delimiters;
                current = Some(json!({
                    "header": header,
                    "delimiters": {
                        "element": (d.element as char).to_string(),
                        "component": (d.component as char).to_string(),
                        "segment": (d.segment as char).to_string(),
                        "repetition": d.repetition.map(|r| (r as char).to_string()),
                    },
                    "issues": issues.iter().map(|i| json!({"code": i.ta1_code(), "issue": i})).collect::<Vec<_>>(),
                    "ta1": [],
                    "groups": [],
                }));
            }
            Event::Ta1(t) => {
                if let Some(a) = current.as_mut().and_then(|c| c["ta1"].as_array_mut()) {
                    a.push(json!(t));
                }
            }
            Event::GroupStart(g) => {
                if let Some(a) = current.as_mut().and_then(|c| c["groups"].as_array_mut()) {
                    a.push(json!({"header": g, "sets": []}));
                }
            }
            Event::TransactionSet(set) => {
                let segments: Vec<OwnedSegment> = set.segments().map(|s| OwnedSegment::from_segment(&s)).collect();
                let value = json!({
                    "id": set.id,
                    "control_number": set.control_number,
                    "issues": set.issues.iter().map(|i| json!({"code": i.code(), "issue": i})).collect::<Vec<_>>(),
                    "segments": segments,
                });
                match current
                    .as_mut()
                    .and_then(|c| c["groups"].as_array_mut())
                    .and_then(|g| g.last_mut())
                    .and_then(|g| g["sets"].as_array_mut())
                {
                    Some(sets) => sets.push(value),
                    None => errors.push(json!(format!("transaction set {} outside a group", set.id))),
                }
            }
            Event::GroupEnd { issues, .. } => {
                if let Some(g) = current.as_mut().and_then(|c| c["groups"].as_array_mut()).and_then(|g| g.last_mut()) {
                    g["issues"] = json!(issues.iter().map(|i| json!({"code": i.code(), "issue": i})).collect::<Vec<_>>());
                }
            }
            Event::InterchangeEnd { issues, .. } => {
                if let Some(mut c) = current.take() {
                    if let Some(a) = c["issues"].as_array_mut() {
                        a.extend(issues.iter().map(|i| json!({"code": i.ta1_code(), "issue": i})));
                    }
                    interchanges.push(c);
                }
            }
            Event::Stray { segment, position } => errors.push(json!({"offset": position.offset, "segment_index": position.segment, "message": format!("segment outside its envelope: {segment}")})),
            Event::Error(e) => errors.push(json!({"offset": e.position.offset, "segment_index": e.position.segment, "message": e.kind.to_string()})),
        }
    }
    json!({"interchanges": interchanges, "errors": errors})
}

/// Every problem of a report as a flat list, each with its X12 code.
pub fn error_list(report: &CheckReport) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = report.errors.iter().map(|e| json!({"level": "file", "message": e})).collect();
    for ic in &report.interchanges {
        let isa13 = &ic.header.control_number;
        for i in &ic.issues {
            out.push(json!({"level": "interchange", "interchange": isa13, "ta1_code": i.ta1_code(), "issue": i}));
        }
        for g in &ic.groups {
            let gs06 = &g.header.control_number;
            for i in &g.issues {
                out.push(json!({"level": "group", "interchange": isa13, "group": gs06, "code": i.code(), "issue": i}));
            }
            for s in &g.sets {
                for i in &s.issues {
                    out.push(json!({"level": "set", "interchange": isa13, "group": gs06, "set": s.set_id, "control_number": s.control_number, "code": i.code(), "issue": i}));
                }
                for e in &s.errors {
                    out.push(json!({
                        "level": "segment", "interchange": isa13, "group": gs06, "set": s.set_id, "control_number": s.control_number,
                        "segment": e.id, "position": e.position, "loop": e.loop_id, "code": e.code.code(), "issue": e.code,
                    }));
                    for el in &e.elements {
                        out.push(json!({
                            "level": "element", "interchange": isa13, "group": gs06, "set": s.set_id, "control_number": s.control_number,
                            "segment": e.id, "position": e.position, "element": el.position, "component": el.component,
                            "reference": el.reference, "code": el.code.code(), "issue": el.code, "value": el.value,
                        }));
                    }
                }
            }
        }
    }
    out
}
