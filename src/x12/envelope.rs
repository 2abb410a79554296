//! Envelopes: ISA/IEA, GS/GE and ST/SE nesting, counts and control numbers.
//!
//! [`EnvelopeReader`] turns a stream of segments into [`Event`]s. Each
//! transaction set is collected into an owned [`TransactionSet`] (one buffer,
//! no per-segment allocation), so memory is bounded by the largest set, not by
//! the file. Envelope defects are not errors: they are attached to the events
//! as typed issues that know their TA1 (I18), 997 AK9 (716) or AK5 (718) code.

use std::collections::{HashSet, VecDeque};

use super::delimiters::Delimiters;
use super::error::{Position, SyntaxError};
use super::segment::Segment;
use super::tokenizer::SegmentSource;

/// Interchange-level defect, reported in a TA1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InterchangeIssue {
    /// IEA02 differs from ISA13 (TA1 001).
    ControlNumberMismatch,
    /// ISA12 names a version this gateway does not handle (003).
    VersionNotSupported,
    /// The ISA is not 106 bytes: some field is not padded to its width (022).
    IsaLength,
    /// ISA05/ISA07 qualifier invalid (005 / 007).
    InvalidSenderQualifier,
    /// ISA06 invalid (006).
    InvalidSenderId,
    /// ISA07 invalid (007).
    InvalidReceiverQualifier,
    /// ISA08 invalid (008).
    InvalidReceiverId,
    /// ISA01/ISA02 (010/011).
    InvalidAuthorization,
    /// ISA03/ISA04 (012/013).
    InvalidSecurity,
    /// ISA09 (014).
    InvalidDate,
    /// ISA10 (015).
    InvalidTime,
    /// ISA11 under 00401 is not `U` (016).
    InvalidStandardsId,
    /// ISA12 not five digits (017).
    InvalidVersion,
    /// ISA13 not nine digits (018).
    InvalidControlNumber,
    /// ISA14 (019).
    InvalidAckRequested,
    /// ISA15 (020).
    InvalidUsage,
    /// IEA01 differs from the number of groups (021).
    GroupCountMismatch,
    /// The file ends, or another ISA starts, before IEA (023).
    PrematureEnd,
    /// Segments outside any group, or an unreadable stretch (024).
    InvalidContent,
    /// ISA13 already seen from this sender (025).
    DuplicateControlNumber,
}

impl InterchangeIssue {
    /// The TA105 note code (element I18).
    pub fn ta1_code(self) -> &'static str {
        use InterchangeIssue::*;
        match self {
            ControlNumberMismatch => "001",
            VersionNotSupported => "003",
            InvalidSenderQualifier => "005",
            InvalidSenderId => "006",
            InvalidReceiverQualifier => "007",
            InvalidReceiverId => "008",
            InvalidAuthorization => "010",
            InvalidSecurity => "012",
            InvalidDate => "014",
            InvalidTime => "015",
            InvalidStandardsId => "016",
            InvalidVersion => "017",
            InvalidControlNumber => "018",
            InvalidAckRequested => "019",
            InvalidUsage => "020",
            GroupCountMismatch => "021",
            IsaLength => "022",
            PrematureEnd => "023",
            InvalidContent => "024",
            DuplicateControlNumber => "025",
        }
    }
}

/// Group-level defect, reported in AK905–AK909 (element 716).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupIssue {
    /// No schema for the group's functional id (1).
    NotSupported,
    /// No schemas for GS08's version (2).
    VersionNotSupported,
    /// GE missing (3).
    TrailerMissing,
    /// GE02 differs from GS06 (4).
    ControlNumberMismatch,
    /// GE01 differs from the number of sets (5).
    SetCountMismatch,
    /// GS06 is not 1–9 digits (6).
    InvalidControlNumber,
    /// GS06 already used in this interchange (19).
    DuplicateControlNumber,
}

impl GroupIssue {
    /// The AK905 code (element 716).
    pub fn code(self) -> &'static str {
        use GroupIssue::*;
        match self {
            NotSupported => "1",
            VersionNotSupported => "2",
            TrailerMissing => "3",
            ControlNumberMismatch => "4",
            SetCountMismatch => "5",
            InvalidControlNumber => "6",
            DuplicateControlNumber => "19",
        }
    }
}

/// Set-level envelope defect, reported in AK502–AK506 / IK502 (element 718/618).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetIssue {
    /// No schema for ST01 in this version (1).
    NotSupported,
    /// SE missing (2).
    TrailerMissing,
    /// SE02 differs from ST02 (3).
    ControlNumberMismatch,
    /// SE01 differs from the number of segments (4).
    SegmentCountMismatch,
    /// One or more segments in error (5).
    SegmentsInError,
    /// ST01 missing or invalid (6).
    InvalidSetId,
    /// ST02 missing or invalid (7).
    InvalidControlNumber,
    /// ST02 already used in this group (23).
    DuplicateControlNumber,
    /// ST outside a functional group (18, 999 only).
    NotInGroup,
}

impl SetIssue {
    /// The AK502 / IK502 code.
    pub fn code(self) -> &'static str {
        use SetIssue::*;
        match self {
            NotSupported => "1",
            TrailerMissing => "2",
            ControlNumberMismatch => "3",
            SegmentCountMismatch => "4",
            SegmentsInError => "5",
            InvalidSetId => "6",
            InvalidControlNumber => "7",
            NotInGroup => "18",
            DuplicateControlNumber => "23",
        }
    }
}

/// The ISA header, fields trimmed of padding where noted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterchangeHeader {
    /// ISA01.
    pub authorization_qualifier: String,
    /// ISA02, as sent (padding kept).
    pub authorization: String,
    /// ISA03.
    pub security_qualifier: String,
    /// ISA04, as sent (padding kept).
    pub security: String,
    /// ISA05.
    pub sender_qualifier: String,
    /// ISA06 without trailing padding.
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08 without trailing padding.
    pub receiver_id: String,
    /// ISA09, YYMMDD.
    pub date: String,
    /// ISA10, HHMM.
    pub time: String,
    /// ISA11 as sent (standards id or repetition separator).
    pub standards_id: String,
    /// ISA12, e.g. `00401`.
    pub version: String,
    /// ISA13, nine digits.
    pub control_number: String,
    /// ISA14.
    pub ack_requested: String,
    /// ISA15, `P` or `T`.
    pub usage: String,
    /// Delimiters in force.
    #[serde(skip)]
    pub delimiters: Delimiters,
    /// Where the ISA starts.
    #[serde(skip)]
    pub position: Position,
}

impl InterchangeHeader {
    fn parse(seg: &Segment<'_>) -> (Self, Vec<InterchangeIssue>) {
        let f = |n: usize| String::from_utf8_lossy(seg.get(n)).into_owned();
        let h = Self {
            authorization_qualifier: f(1),
            authorization: f(2),
            security_qualifier: f(3),
            security: f(4),
            sender_qualifier: f(5),
            sender_id: f(6).trim_end().to_string(),
            receiver_qualifier: f(7),
            receiver_id: f(8).trim_end().to_string(),
            date: f(9),
            time: f(10),
            standards_id: f(11),
            version: f(12),
            control_number: f(13),
            ack_requested: f(14),
            usage: f(15),
            delimiters: seg.delimiters(),
            position: seg.position(),
        };
        let mut issues = Vec::new();
        let width = |n: usize, w: usize| seg.get(n).len() == w;
        use InterchangeIssue::*;
        let checks: [(bool, InterchangeIssue); 16] = [
            (width(1, 2), InvalidAuthorization),
            (width(2, 10), InvalidAuthorization),
            (width(3, 2), InvalidSecurity),
            (width(4, 10), InvalidSecurity),
            (width(5, 2) && is_alnum(seg.get(5)), InvalidSenderQualifier),
            (width(6, 15) && !h.sender_id.is_empty(), InvalidSenderId),
            (width(7, 2) && is_alnum(seg.get(7)), InvalidReceiverQualifier),
            (width(8, 15) && !h.receiver_id.is_empty(), InvalidReceiverId),
            (is_date6(seg.get(9)), InvalidDate),
            (is_time4(seg.get(10)), InvalidTime),
            (width(11, 1), InvalidStandardsId),
            (width(12, 5) && is_digits(seg.get(12)), InvalidVersion),
            (width(13, 9) && is_digits(seg.get(13)), InvalidControlNumber),
            (matches!(seg.get(14), b"0" | b"1" | b"2" | b"3"), InvalidAckRequested),
            (matches!(seg.get(15), b"P" | b"T" | b"I"), InvalidUsage),
            (seg.element_count() == 16, IsaLength),
        ];
        for (ok, issue) in checks {
            if !ok && !issues.contains(&issue) {
                issues.push(issue);
            }
        }
        if h.version.as_bytes() < b"00402".as_slice() && is_digits(seg.get(12)) && h.standards_id != "U" {
            issues.push(InvalidStandardsId);
        }
        if is_digits(seg.get(12)) && !(b"00200".as_slice()..b"00900".as_slice()).contains(&seg.get(12)) {
            issues.push(VersionNotSupported);
        }
        // Field checks name the culprit; a bare length deviation is reported only when nothing else explains it.
        if issues.len() > 1 {
            issues.retain(|i| *i != IsaLength);
        }
        (h, issues)
    }

    /// True when the sender asked for a TA1 whatever the outcome (ISA14 = 1).
    pub fn ta1_requested(&self) -> bool {
        self.ack_requested == "1"
    }
}

/// The GS header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupHeader {
    /// GS01 functional identifier (`PO`, `SH`, `IN`, `FA`, `PR`).
    pub functional_id: String,
    /// GS02.
    pub sender: String,
    /// GS03.
    pub receiver: String,
    /// GS04, CCYYMMDD.
    pub date: String,
    /// GS05.
    pub time: String,
    /// GS06 as sent.
    pub control_number: String,
    /// GS07.
    pub agency: String,
    /// GS08, e.g. `004010` or `005010X231A1`.
    pub version: String,
    /// Where the GS starts.
    #[serde(skip)]
    pub position: Position,
}

impl GroupHeader {
    fn parse(seg: &Segment<'_>) -> Self {
        let f = |n: usize| String::from_utf8_lossy(seg.get(n)).into_owned();
        Self {
            functional_id: f(1),
            sender: f(2),
            receiver: f(3),
            date: f(4),
            time: f(5),
            control_number: f(6),
            agency: f(7),
            version: f(8),
            position: seg.position(),
        }
    }

    /// The base version, the first six characters of GS08 (`004010`).
    pub fn base_version(&self) -> &str {
        self.version.get(..6).unwrap_or(&self.version)
    }
}

/// Where one segment of a [`TransactionSet`] lies in its buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
    offset: u64,
    index: u64,
}

/// One transaction set (ST … SE), owned, with its envelope issues.
#[derive(Debug, Clone)]
pub struct TransactionSet {
    /// ST01, e.g. `850`.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// ST03 (005010 on), if present.
    pub implementation_reference: Option<String>,
    /// Delimiters of the enclosing interchange.
    pub delimiters: Delimiters,
    /// Envelope defects found (SE missing, counts, control numbers).
    pub issues: Vec<SetIssue>,
    data: Vec<u8>,
    spans: Vec<Span>,
}

impl TransactionSet {
    fn start(seg: &Segment<'_>) -> Self {
        let mut set = Self {
            id: String::from_utf8_lossy(seg.get(1)).into_owned(),
            control_number: String::from_utf8_lossy(seg.get(2)).into_owned(),
            implementation_reference: seg
                .element(3)
                .filter(|e| !e.is_empty())
                .map(|e| String::from_utf8_lossy(e.raw()).into_owned()),
            delimiters: seg.delimiters(),
            issues: Vec::new(),
            data: Vec::with_capacity(1024),
            spans: Vec::with_capacity(32),
        };
        if set.id.len() != 3 || !is_digits(set.id.as_bytes()) {
            set.issues.push(SetIssue::InvalidSetId);
        }
        if !(4..=9).contains(&set.control_number.len()) {
            set.issues.push(SetIssue::InvalidControlNumber);
        }
        set.push(seg);
        set
    }

    /// Builds a set from segments of one interchange (for tests and rendering).
    pub fn from_segments<'a>(segments: impl IntoIterator<Item = Segment<'a>>) -> Option<Self> {
        let mut it = segments.into_iter();
        let first = it.next()?;
        let mut set = Self::start(&first);
        for s in it {
            set.push(&s);
        }
        Some(set)
    }

    fn push(&mut self, seg: &Segment<'_>) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(seg.raw());
        self.spans.push(Span {
            start,
            end: self.data.len() as u32,
            offset: seg.position().offset,
            index: seg.position().segment,
        });
    }

    /// Number of segments, ST and SE included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when the set holds no segment (never, for a set read from input).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Segment `i`, 0-based (ST is 0).
    pub fn segment(&self, i: usize) -> Option<Segment<'_>> {
        let s = self.spans.get(i)?;
        Some(Segment::new(
            &self.data[s.start as usize..s.end as usize],
            self.delimiters,
            Position {
                offset: s.offset,
                segment: s.index,
            },
        ))
    }

    /// All segments in order, ST and SE included.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_>> + '_ {
        (0..self.spans.len()).filter_map(move |i| self.segment(i))
    }

    /// True when the set ends with its SE.
    pub fn has_trailer(&self) -> bool {
        !self.issues.contains(&SetIssue::TrailerMissing)
    }

    fn finish(&mut self, trailer: Option<&Segment<'_>>) {
        match trailer {
            None => self.issues.push(SetIssue::TrailerMissing),
            Some(se) => {
                self.push(se);
                let count = se.text(1);
                if count.parse::<usize>().ok() != Some(self.len()) {
                    self.issues.push(SetIssue::SegmentCountMismatch);
                }
                if se.get(2) != self.control_number.as_bytes() {
                    self.issues.push(SetIssue::ControlNumberMismatch);
                }
            }
        }
    }
}

/// A TA1 received inside an interchange.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReceivedTa1 {
    /// TA101, the acknowledged ISA13.
    pub control_number: String,
    /// TA102.
    pub date: String,
    /// TA103.
    pub time: String,
    /// TA104: A, E or R.
    pub status: String,
    /// TA105 note code.
    pub note: String,
}

/// What the envelope reader reports, in input order.
#[derive(Debug)]
pub enum Event {
    /// An ISA was read.
    InterchangeStart {
        /// The header.
        header: InterchangeHeader,
        /// Defects of the header itself.
        issues: Vec<InterchangeIssue>,
    },
    /// A TA1 inside the interchange (an acknowledgment sent to us).
    Ta1(ReceivedTa1),
    /// A GS was read.
    GroupStart(GroupHeader),
    /// A whole transaction set, with its envelope issues.
    TransactionSet(TransactionSet),
    /// The group closed (by GE, or by what came instead of it).
    GroupEnd {
        /// The header it closes.
        header: GroupHeader,
        /// GE01 as sent, when the GE was there and numeric.
        declared_sets: Option<u32>,
        /// ST … SE sets seen.
        received_sets: u32,
        /// Defects.
        issues: Vec<GroupIssue>,
    },
    /// The interchange closed (by IEA, or by what came instead of it).
    InterchangeEnd {
        /// The header it closes.
        header: InterchangeHeader,
        /// Groups seen.
        groups: u32,
        /// Defects found at the trailer or in between.
        issues: Vec<InterchangeIssue>,
    },
    /// A segment outside the envelope it needs (for inspection).
    Stray {
        /// The segment's text.
        segment: String,
        /// Where it was.
        position: Position,
    },
    /// Bytes that could not be tokenized.
    Error(SyntaxError),
}

struct OpenInterchange {
    header: InterchangeHeader,
    groups: u32,
    group_controls: HashSet<u64>,
    issues: Vec<InterchangeIssue>,
}

struct OpenGroup {
    header: GroupHeader,
    sets: u32,
    set_controls: ControlNumbers,
    issues: Vec<GroupIssue>,
}

/// Turns segments into envelope [`Event`]s.
pub struct EnvelopeReader<S> {
    source: S,
    state: State,
}

/// The reader's state, apart from the source so a borrowed segment can feed it.
#[derive(Default)]
struct State {
    pending: VecDeque<Event>,
    interchange: Option<OpenInterchange>,
    group: Option<OpenGroup>,
    set: Option<TransactionSet>,
    /// Sender + ISA13 already seen in this input.
    seen_interchanges: HashSet<(String, String)>,
    done: bool,
}

impl<S: SegmentSource> EnvelopeReader<S> {
    /// An envelope reader over a segment source.
    pub fn new(source: S) -> Self {
        Self {
            source,
            state: State::default(),
        }
    }

    /// The next event, `None` when the input is exhausted.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.state.pending.pop_front() {
                return Some(e);
            }
            if self.state.done {
                return None;
            }
            let next = self.source.next_segment();
            self.state.advance(next);
        }
    }
}

impl State {
    fn advance(&mut self, next: Option<Result<Segment<'_>, SyntaxError>>) {
        let seg = match next {
            None => {
                self.done = true;
                self.close_set(None);
                self.close_group(None);
                self.close_interchange(None);
                return;
            }
            Some(Err(e)) => {
                if let Some(i) = self.interchange.as_mut() {
                    push_unique(&mut i.issues, InterchangeIssue::InvalidContent);
                }
                self.pending.push_back(Event::Error(e));
                return;
            }
            Some(Ok(seg)) => seg,
        };
        // The segment borrows the source; copy what outlives this call.
        let id = seg.id();
        match id {
            b"ISA" => {
                let (header, issues) = InterchangeHeader::parse(&seg);
                self.on_isa(header, issues);
            }
            b"IEA" => {
                let count = seg.text(1).parse::<u32>().ok();
                let control = seg.text(2).to_string();
                self.close_set(None);
                self.close_group(None);
                if self.interchange.is_some() {
                    self.close_interchange(Some((count, control)));
                } else {
                    self.stray(&seg);
                }
            }
            b"GS" => {
                self.close_set(None);
                self.close_group(None);
                let header = GroupHeader::parse(&seg);
                self.on_gs(header);
            }
            b"GE" => {
                let count = seg.text(1).parse::<u32>().ok();
                let control = seg.text(2).to_string();
                self.close_set(None);
                if self.group.is_some() {
                    self.close_group(Some((count, control)));
                } else {
                    self.stray(&seg);
                }
            }
            b"ST" => {
                self.close_set(None);
                let mut set = TransactionSet::start(&seg);
                match self.group.as_mut() {
                    Some(g) => {
                        if !g.set_controls.insert(set.control_number.as_bytes()) {
                            set.issues.push(SetIssue::DuplicateControlNumber);
                        }
                    }
                    None => set.issues.push(SetIssue::NotInGroup),
                }
                self.set = Some(set);
            }
            b"SE" => match self.set.as_mut() {
                Some(set) => {
                    set.finish(Some(&seg));
                    let set = self.set.take().expect("set is open");
                    self.emit_set(set);
                }
                None => self.stray(&seg),
            },
            b"TA1" if self.set.is_none() && self.group.is_none() && self.interchange.is_some() => {
                let f = |n: usize| seg.text(n).to_string();
                let ta1 = ReceivedTa1 {
                    control_number: f(1),
                    date: f(2),
                    time: f(3),
                    status: f(4),
                    note: f(5),
                };
                self.pending.push_back(Event::Ta1(ta1));
            }
            _ => match self.set.as_mut() {
                Some(set) => set.push(&seg),
                None => self.stray(&seg),
            },
        }
    }

    fn on_isa(&mut self, header: InterchangeHeader, mut issues: Vec<InterchangeIssue>) {
        self.close_set(None);
        self.close_group(None);
        self.close_interchange(None);
        let key = (header.sender_id.clone(), header.control_number.clone());
        if !self.seen_interchanges.insert(key) {
            issues.push(InterchangeIssue::DuplicateControlNumber);
        }
        self.interchange = Some(OpenInterchange {
            header: header.clone(),
            groups: 0,
            group_controls: HashSet::new(),
            issues: Vec::new(),
        });
        self.pending.push_back(Event::InterchangeStart { header, issues });
    }

    fn on_gs(&mut self, header: GroupHeader) {
        let mut issues = Vec::new();
        let control = parse_n0(&header.control_number);
        if control.is_none() {
            issues.push(GroupIssue::InvalidControlNumber);
        }
        match self.interchange.as_mut() {
            Some(i) => {
                i.groups += 1;
                if let Some(c) = control {
                    if !i.group_controls.insert(c) {
                        issues.push(GroupIssue::DuplicateControlNumber);
                    }
                }
            }
            None => self.pending.push_back(Event::Stray {
                segment: format!("GS (group {} outside an interchange)", header.control_number),
                position: header.position,
            }),
        }
        self.group = Some(OpenGroup {
            header: header.clone(),
            sets: 0,
            set_controls: ControlNumbers::default(),
            issues,
        });
        self.pending.push_back(Event::GroupStart(header));
    }

    fn stray(&mut self, seg: &Segment<'_>) {
        if let Some(i) = self.interchange.as_mut() {
            push_unique(&mut i.issues, InterchangeIssue::InvalidContent);
        }
        self.pending.push_back(Event::Stray {
            segment: String::from_utf8_lossy(seg.raw()).into_owned(),
            position: seg.position(),
        });
    }

    fn emit_set(&mut self, set: TransactionSet) {
        if let Some(g) = self.group.as_mut() {
            g.sets += 1;
        }
        self.pending.push_back(Event::TransactionSet(set));
    }

    fn close_set(&mut self, trailer: Option<&Segment<'_>>) {
        if let Some(mut set) = self.set.take() {
            set.finish(trailer);
            self.emit_set(set);
        }
    }

    fn close_group(&mut self, trailer: Option<(Option<u32>, String)>) {
        let Some(mut g) = self.group.take() else { return };
        let declared = match trailer {
            None => {
                g.issues.push(GroupIssue::TrailerMissing);
                None
            }
            Some((count, control)) => {
                if parse_n0(&control).is_none() || parse_n0(&control) != parse_n0(&g.header.control_number) {
                    g.issues.push(GroupIssue::ControlNumberMismatch);
                }
                if count != Some(g.sets) {
                    g.issues.push(GroupIssue::SetCountMismatch);
                }
                count
            }
        };
        self.pending.push_back(Event::GroupEnd {
            header: g.header,
            declared_sets: declared,
            received_sets: g.sets,
            issues: g.issues,
        });
    }

    fn close_interchange(&mut self, trailer: Option<(Option<u32>, String)>) {
        let Some(mut i) = self.interchange.take() else { return };
        match trailer {
            None => push_unique(&mut i.issues, InterchangeIssue::PrematureEnd),
            Some((count, control)) => {
                if control != i.header.control_number {
                    i.issues.push(InterchangeIssue::ControlNumberMismatch);
                }
                if count != Some(i.groups) {
                    i.issues.push(InterchangeIssue::GroupCountMismatch);
                }
            }
        }
        self.pending.push_back(Event::InterchangeEnd {
            header: i.header,
            groups: i.groups,
            issues: i.issues,
        });
    }
}

/// ST02s seen in one group. Senders number sets in ascending order, so a
/// number above every earlier one is new without hashing: those stay in a
/// sorted list, and only the rest go through a hash set.
#[derive(Default)]
struct ControlNumbers {
    /// Numbers of up to 15 bytes, packed with their length, ascending.
    ascending: Vec<u128>,
    /// Numbers that came out of order or are too long to pack.
    others: HashSet<Vec<u8>>,
}

impl ControlNumbers {
    /// Records `control`; false when it was seen before.
    fn insert(&mut self, control: &[u8]) -> bool {
        if control.len() < 16 {
            let mut packed = [0u8; 16];
            packed[..control.len()].copy_from_slice(control);
            packed[15] = control.len() as u8;
            let key = u128::from_be_bytes(packed);
            if self.ascending.last().is_none_or(|&last| key > last) {
                // Everything in `others` packs below `last`, so `key` is new.
                self.ascending.push(key);
                return true;
            }
            if self.ascending.binary_search(&key).is_ok() {
                return false;
            }
        }
        self.others.insert(control.to_vec())
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// GS06/GE02 are N0 1–9: compared as numbers (`0001` equals `1`).
fn parse_n0(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 9 || !is_digits(s.as_bytes()) {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn is_digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn is_alnum(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_alphanumeric)
}

fn is_date6(b: &[u8]) -> bool {
    if b.len() != 6 || !is_digits(b) {
        return false;
    }
    let m = (b[2] - b'0') * 10 + (b[3] - b'0');
    let d = (b[4] - b'0') * 10 + (b[5] - b'0');
    (1..=12).contains(&m) && (1..=31).contains(&d)
}

fn is_time4(b: &[u8]) -> bool {
    if b.len() != 4 || !is_digits(b) {
        return false;
    }
    let h = (b[0] - b'0') * 10 + (b[1] - b'0');
    let m = (b[2] - b'0') * 10 + (b[3] - b'0');
    h < 24 && m < 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_numbers_find_duplicates_in_any_order() {
        let mut seen = ControlNumbers::default();
        let long = b"1234567890123456".as_slice();
        for (control, new) in [
            (&b"0002"[..], true),
            (b"0003", true),
            (b"0001", true),
            (b"0002", false),
            (b"0001", false),
            (b"002", true),
            (b"0003", false),
            (long, true),
            (long, false),
            (b"", true),
            (b"", false),
            (b"0004", true),
        ] {
            assert_eq!(seen.insert(control), new, "{:?}", String::from_utf8_lossy(control));
        }
    }
}
