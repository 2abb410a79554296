//! Acknowledgments: 997 and 999 per functional group, TA1 per interchange,
//! built from the envelope and validation results; and received 997/999s
//! read back so outbound documents can be reconciled.

use super::envelope::{EnvelopeReader, Event, GroupHeader, GroupIssue, InterchangeHeader, InterchangeIssue, ReceivedTa1, TransactionSet};
use super::error::SyntaxError;
use super::schema::Registry;
use super::tokenizer::SegmentSource;
use super::tree::OwnedSegment;
use super::validate::{validate_set, SetReport};
use super::writer::OutboundSet;

/// Which functional acknowledgment a partner wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum AckKind {
    /// 997 Functional Acknowledgment.
    #[default]
    #[serde(rename = "997")]
    Fa997,
    /// 999 Implementation Acknowledgment (005010 on).
    #[serde(rename = "999")]
    Fa999,
}

impl AckKind {
    /// ST01 of the acknowledgment.
    pub fn set_id(self) -> &'static str {
        match self {
            Self::Fa997 => "997",
            Self::Fa999 => "999",
        }
    }
}

/// The outcome of one functional group.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupOutcome {
    /// The GS.
    pub header: GroupHeader,
    /// One report per set, in order.
    pub sets: Vec<SetReport>,
    /// Group-level defects.
    pub issues: Vec<GroupIssue>,
    /// GE01 as sent.
    pub declared_sets: Option<u32>,
}

impl GroupOutcome {
    /// Sets accepted (AK904).
    pub fn accepted_sets(&self) -> usize {
        self.sets.iter().filter(|s| s.accepted()).count()
    }

    /// AK901: A, P (some sets rejected) or R.
    pub fn status(&self) -> &'static str {
        let accepted = self.accepted_sets();
        if !self.issues.is_empty() || (accepted == 0 && !self.sets.is_empty()) {
            "R"
        } else if accepted < self.sets.len() {
            "P"
        } else {
            "A"
        }
    }

    /// True for acknowledgment groups, which are never acknowledged.
    pub fn is_ack_group(&self) -> bool {
        self.header.functional_id == "FA"
    }
}

/// The outcome of one interchange.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InterchangeOutcome {
    /// The ISA.
    pub header: InterchangeHeader,
    /// Envelope defects (TA1 codes).
    pub issues: Vec<InterchangeIssue>,
    /// Groups in order.
    pub groups: Vec<GroupOutcome>,
    /// TA1s received inside this interchange.
    pub ta1s: Vec<ReceivedTa1>,
}

impl InterchangeOutcome {
    /// TA104: A when the envelope is sound, R otherwise.
    pub fn ta1_status(&self) -> &'static str {
        if self.issues.is_empty() {
            "A"
        } else {
            "R"
        }
    }

    /// True when a TA1 should be sent: the sender asked for one, or the envelope is bad.
    pub fn needs_ta1(&self) -> bool {
        self.header.ta1_requested() || !self.issues.is_empty()
    }

    /// True when the envelope and every group and set are accepted.
    pub fn accepted(&self) -> bool {
        self.issues.is_empty() && self.groups.iter().all(|g| g.status() == "A")
    }
}

/// Everything checked in one input: interchanges plus what could not be read.
#[derive(Debug, Default, serde::Serialize)]
pub struct CheckReport {
    /// Interchanges in order.
    pub interchanges: Vec<InterchangeOutcome>,
    /// Unreadable stretches and segments outside any envelope.
    pub errors: Vec<String>,
}

impl CheckReport {
    /// True when there is at least one interchange and everything is accepted.
    pub fn accepted(&self) -> bool {
        self.errors.is_empty() && !self.interchanges.is_empty() && self.interchanges.iter().all(InterchangeOutcome::accepted)
    }
}

/// Reads every event of a source, validates each set, and calls `on_set`
/// for each one (with its group header and report) as it goes.
pub fn check<S: SegmentSource>(
    registry: &Registry,
    mut reader: EnvelopeReader<S>,
    mut on_set: impl FnMut(&GroupHeader, &TransactionSet, &SetReport),
) -> CheckReport {
    let mut report = CheckReport::default();
    let mut open: Option<InterchangeOutcome> = None;
    let mut group: Option<GroupOutcome> = None;
    let no_group = GroupHeader {
        functional_id: String::new(),
        sender: String::new(),
        receiver: String::new(),
        date: String::new(),
        time: String::new(),
        control_number: String::new(),
        agency: String::new(),
        version: String::new(),
        position: Default::default(),
    };
    while let Some(event) = reader.next_event() {
        match event {
            Event::InterchangeStart { header, issues } => {
                open = Some(InterchangeOutcome {
                    header,
                    issues,
                    groups: Vec::new(),
                    ta1s: Vec::new(),
                });
            }
            Event::Ta1(t) => {
                if let Some(i) = open.as_mut() {
                    i.ta1s.push(t);
                }
            }
            Event::GroupStart(header) => {
                let mut issues = Vec::new();
                if !registry.has_version(&header.version) {
                    issues.push(GroupIssue::VersionNotSupported);
                }
                group = Some(GroupOutcome {
                    header,
                    sets: Vec::new(),
                    issues,
                    declared_sets: None,
                });
            }
            Event::TransactionSet(set) => {
                let header = group.as_ref().map_or(&no_group, |g| &g.header);
                let r = validate_set(registry, &header.version, &set);
                on_set(header, &set, &r);
                match group.as_mut() {
                    Some(g) => g.sets.push(r),
                    None => report.errors.push(format!(
                        "transaction set {} {} outside a functional group",
                        set.id, set.control_number
                    )),
                }
            }
            Event::GroupEnd { declared_sets, issues, .. } => {
                if let Some(mut g) = group.take() {
                    g.declared_sets = declared_sets;
                    for i in issues {
                        if !g.issues.contains(&i) {
                            g.issues.push(i);
                        }
                    }
                    match open.as_mut() {
                        Some(o) => o.groups.push(g),
                        None => report
                            .errors
                            .push(format!("functional group {} outside an interchange", g.header.control_number)),
                    }
                }
            }
            Event::InterchangeEnd { issues, .. } => {
                if let Some(mut o) = open.take() {
                    for i in issues {
                        if !o.issues.contains(&i) {
                            o.issues.push(i);
                        }
                    }
                    report.interchanges.push(o);
                }
            }
            Event::Stray { segment, position } => report.errors.push(format!("segment outside its envelope at {position}: {segment}")),
            Event::Error(SyntaxError { kind, position }) => report.errors.push(format!("{kind} at {position}")),
        }
    }
    report
}

/// The TA1 segment for an interchange: the first defect's note code, or 000.
pub fn ta1(outcome: &InterchangeOutcome) -> OwnedSegment {
    let h = &outcome.header;
    let note = outcome.issues.first().map_or("000", |i| i.ta1_code());
    OwnedSegment::new("TA1")
        .el(h.control_number.clone())
        .el(h.date.clone())
        .el(h.time.clone())
        .el(outcome.ta1_status())
        .el(note)
}

/// The body (AK1 … AK9) of the 997 or 999 acknowledging one group.
pub fn functional_ack(group: &GroupOutcome, kind: AckKind, control_number: &str) -> OutboundSet {
    let v5 = group.header.base_version() >= "005010";
    let mut body = Vec::new();
    let mut ak1 = OwnedSegment::new("AK1")
        .el(group.header.functional_id.clone())
        .el(group.header.control_number.clone());
    if v5 || kind == AckKind::Fa999 {
        ak1 = ak1.el(group.header.version.clone());
    }
    body.push(ak1);
    for set in &group.sets {
        let mut ak2 = OwnedSegment::new("AK2").el(set.set_id.clone()).el(set.control_number.clone());
        if v5 {
            ak2 = ak2.opt(set.implementation_reference.clone());
        }
        body.push(ak2);
        for e in &set.errors {
            let seg_tag = if kind == AckKind::Fa999 { "IK3" } else { "AK3" };
            body.push(
                OwnedSegment::new(seg_tag)
                    .el(e.id.clone())
                    .el(e.position.to_string())
                    .opt(e.loop_id.clone())
                    .el(e.code.code()),
            );
            for el in &e.elements {
                let mut pos = vec![el.position.to_string(), el.component.map(|c| c.to_string()).unwrap_or_default()];
                if v5 {
                    pos.push(el.repetition.map(|r| r.to_string()).unwrap_or_default());
                }
                let value = el.value.as_deref().map(|v| sanitize(v, 99));
                let tag = if kind == AckKind::Fa999 { "IK4" } else { "AK4" };
                body.push(
                    OwnedSegment::new(tag)
                        .composite(pos)
                        .opt(el.reference.clone())
                        .el(el.code.code())
                        .opt(value),
                );
            }
        }
        let mut codes: Vec<&str> = set.issues.iter().map(|i| i.code()).collect();
        codes.dedup();
        codes.truncate(5);
        let tag = if kind == AckKind::Fa999 { "IK5" } else { "AK5" };
        let mut ak5 = OwnedSegment::new(tag).el(if set.accepted() { "A" } else { "R" });
        for c in codes {
            ak5 = ak5.el(c);
        }
        body.push(ak5);
    }
    let declared = group.declared_sets.map_or(group.sets.len(), |d| d as usize);
    let mut ak9 = OwnedSegment::new("AK9")
        .el(group.status())
        .el(declared.to_string())
        .el(group.sets.len().to_string())
        .el(group.accepted_sets().to_string());
    for i in group.issues.iter().take(5) {
        ak9 = ak9.el(i.code());
    }
    body.push(ak9);
    OutboundSet {
        id: kind.set_id().to_string(),
        control_number: control_number.to_string(),
        implementation_reference: (kind == AckKind::Fa999).then(|| "005010X231A1".to_string()),
        body,
    }
}

/// Values copied into AK404/IK404 keep to printable text and a maximum length.
fn sanitize(v: &str, max: usize) -> String {
    v.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A received 997 or 999, as far as reconciliation needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReceivedFunctionalAck {
    /// `997` or `999`.
    pub kind: String,
    /// AK101: GS01 of the acknowledged group.
    pub functional_id: String,
    /// AK102: GS06 of the acknowledged group.
    pub group_control_number: String,
    /// AK901.
    pub status: String,
    /// AK902–AK904.
    pub declared: Option<u32>,
    /// AK903.
    pub received: Option<u32>,
    /// AK904.
    pub accepted: Option<u32>,
    /// AK2/AK5 (or IK5) per acknowledged set.
    pub sets: Vec<ReceivedSetAck>,
    /// AK905–AK909.
    pub group_codes: Vec<String>,
}

/// One acknowledged set in a received 997/999.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReceivedSetAck {
    /// AK201.
    pub set_id: String,
    /// AK202.
    pub control_number: String,
    /// AK501 / IK501.
    pub status: String,
    /// AK502… / IK502….
    pub codes: Vec<String>,
    /// AK3/IK3 segment errors: (segment id, position, code).
    pub segment_errors: Vec<(String, String, String)>,
}

/// Reads a 997 or 999 set; `None` for other sets.
pub fn read_functional_ack(set: &TransactionSet) -> Option<ReceivedFunctionalAck> {
    if set.id != "997" && set.id != "999" {
        return None;
    }
    let mut ack = ReceivedFunctionalAck {
        kind: set.id.clone(),
        functional_id: String::new(),
        group_control_number: String::new(),
        status: String::new(),
        declared: None,
        received: None,
        accepted: None,
        sets: Vec::new(),
        group_codes: Vec::new(),
    };
    for seg in set.segments() {
        match seg.id() {
            b"AK1" => {
                ack.functional_id = seg.text(1).into();
                ack.group_control_number = seg.text(2).into();
            }
            b"AK2" => ack.sets.push(ReceivedSetAck {
                set_id: seg.text(1).into(),
                control_number: seg.text(2).into(),
                status: String::new(),
                codes: Vec::new(),
                segment_errors: Vec::new(),
            }),
            b"AK3" | b"IK3" => {
                if let Some(s) = ack.sets.last_mut() {
                    s.segment_errors.push((seg.text(1).into(), seg.text(2).into(), seg.text(4).into()));
                }
            }
            b"AK5" | b"IK5" => {
                if let Some(s) = ack.sets.last_mut() {
                    s.status = seg.text(1).into();
                    s.codes = (2..=6).map(|n| seg.text(n)).filter(|c| !c.is_empty()).map(String::from).collect();
                }
            }
            b"AK9" => {
                ack.status = seg.text(1).into();
                ack.declared = seg.text(2).parse().ok();
                ack.received = seg.text(3).parse().ok();
                ack.accepted = seg.text(4).parse().ok();
                ack.group_codes = (5..=9).map(|n| seg.text(n)).filter(|c| !c.is_empty()).map(String::from).collect();
            }
            _ => {}
        }
    }
    Some(ack)
}

/// Control numbers for the acknowledgment interchange of one inbound interchange.
#[derive(Debug, Clone, Copy)]
pub struct AckNumbers {
    /// ISA13 of the acknowledgment interchange.
    pub interchange: u64,
    /// GS06 of its first group; later groups count up.
    pub first_group: u64,
}

/// The acknowledgment interchange for one inbound interchange: a TA1 when
/// needed and one 997/999 per non-FA group, sent back with the sender and
/// receiver swapped and the inbound delimiters. `None` when nothing is owed.
pub fn ack_interchange(
    outcome: &InterchangeOutcome,
    kind: AckKind,
    numbers: AckNumbers,
    date: &str,
    time: &str,
) -> Result<Option<String>, super::writer::WriteError> {
    use super::writer::{write_interchange, EnvelopeParties, OutboundGroup, Writer};
    let h = &outcome.header;
    let ta1s: Vec<OwnedSegment> = if outcome.needs_ta1() { vec![ta1(outcome)] } else { Vec::new() };
    // A rejected envelope gets its TA1 only: its groups are not processed.
    let groups: Vec<OutboundGroup> = if outcome.issues.is_empty() {
        outcome
            .groups
            .iter()
            .filter(|g| !g.is_ack_group())
            .enumerate()
            .map(|(i, g)| {
                let gkind = if kind == AckKind::Fa999 && g.header.base_version() >= "005010" {
                    AckKind::Fa999
                } else {
                    AckKind::Fa997
                };
                OutboundGroup {
                    functional_id: "FA".into(),
                    version: g.header.version.clone(),
                    control_number: numbers.first_group + i as u64,
                    sets: vec![functional_ack(g, gkind, "0001")],
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    if ta1s.is_empty() && groups.is_empty() {
        return Ok(None);
    }
    let first = outcome.groups.first();
    let parties = EnvelopeParties {
        sender_qualifier: h.receiver_qualifier.clone(),
        sender_id: h.receiver_id.clone(),
        receiver_qualifier: h.sender_qualifier.clone(),
        receiver_id: h.sender_id.clone(),
        gs_sender: first.map_or(h.receiver_id.clone(), |g| g.header.receiver.clone()),
        gs_receiver: first.map_or(h.sender_id.clone(), |g| g.header.sender.clone()),
        isa_version: h.version.clone(),
        usage: h.usage.clone(),
    };
    let mut w = Writer::new(Vec::new(), h.delimiters, true);
    write_interchange(&mut w, &parties, numbers.interchange, date, time, &ta1s, &groups)?;
    Ok(Some(String::from_utf8_lossy(&w.into_inner()).into_owned()))
}
