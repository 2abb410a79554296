//! A transaction set checked against its schema: every error with its X12 code.
//!
//! Segments are matched to the structure with a stack of loop frames: a
//! segment is looked for forward from the current position in the innermost
//! loop, then in each enclosing one (closing the inner loops); the trigger of
//! a loop opens a new iteration. Positions passed over are checked for missing
//! mandatory segments. A segment that fits nowhere ahead is reported (out of
//! sequence, unexpected, or unrecognized) and leaves the state unchanged.
//! Each level's search is one lookup in its precomputed [`LevelTable`] (by
//! position and segment number), as is its next mandatory position. Since the
//! search never looks back, a frame keeps only the use count of its current
//! position (no per-position array, no allocation per loop iteration).
//!
//! Elements are checked in two tiers. A segment first runs its compiled
//! [`SegmentPlan`]: one pass over its bytes, each element scanned against a
//! table of byte classes for what its type refuses, then its length and code
//! list; bit-mask syntax notes; no allocation. Only a segment the plan does not
//! pass (an error, or something the plan leaves to the exact check: composites,
//! repetitions, non-ASCII text) is checked again element by element, and that
//! exact check alone decides what is reported.

use std::collections::HashMap;

use super::delimiters::Delimiters;
use super::envelope::{SetIssue, TransactionSet};
use super::schema::{
    pack_code, segment_key, DataType, ElementDef, ElementPlan, LevelTable, Node, Registry, Req, SegmentDef, SegmentPlan, SetSchema,
    SyntaxRule, ValueCheck, NONE,
};
use super::segment::Segment;

/// Segment-level error code (element 720 in a 997, 620 in a 999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentCode {
    /// 1: unrecognized segment id.
    Unrecognized,
    /// 2: unexpected segment.
    Unexpected,
    /// 3: mandatory segment missing.
    MandatoryMissing,
    /// 4: loop occurs over maximum times.
    LoopOverMax,
    /// 5: segment exceeds maximum use.
    ExceedsMaxUse,
    /// 6: segment not in defined transaction set.
    NotInSet,
    /// 7: segment not in proper sequence.
    OutOfSequence,
    /// 8: segment has data element errors.
    ElementErrors,
}

impl SegmentCode {
    /// The AK304 / IK304 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unrecognized => "1",
            Self::Unexpected => "2",
            Self::MandatoryMissing => "3",
            Self::LoopOverMax => "4",
            Self::ExceedsMaxUse => "5",
            Self::NotInSet => "6",
            Self::OutOfSequence => "7",
            Self::ElementErrors => "8",
        }
    }
}

/// Element-level error code (element 723 in a 997, 621 in a 999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementCode {
    /// 1: mandatory data element missing.
    MandatoryMissing,
    /// 2: conditional required data element missing.
    ConditionalMissing,
    /// 3: too many data elements.
    TooMany,
    /// 4: data element too short.
    TooShort,
    /// 5: data element too long.
    TooLong,
    /// 6: invalid character in data element.
    InvalidCharacter,
    /// 7: invalid code value.
    InvalidCode,
    /// 8: invalid date.
    InvalidDate,
    /// 9: invalid time.
    InvalidTime,
    /// 10: exclusion condition violated.
    ExclusionViolated,
    /// 12: too many repetitions.
    TooManyRepetitions,
    /// 13: too many components.
    TooManyComponents,
}

impl ElementCode {
    /// The AK403 / IK403 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::MandatoryMissing => "1",
            Self::ConditionalMissing => "2",
            Self::TooMany => "3",
            Self::TooShort => "4",
            Self::TooLong => "5",
            Self::InvalidCharacter => "6",
            Self::InvalidCode => "7",
            Self::InvalidDate => "8",
            Self::InvalidTime => "9",
            Self::ExclusionViolated => "10",
            Self::TooManyRepetitions => "12",
            Self::TooManyComponents => "13",
        }
    }
}

/// One bad data element.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ElementError {
    /// 1-based position in the segment.
    pub position: usize,
    /// 1-based component position, for composites.
    pub component: Option<usize>,
    /// 1-based repetition, for repeated elements.
    pub repetition: Option<usize>,
    /// Element reference number (`353`), when known.
    pub reference: Option<String>,
    /// What is wrong.
    pub code: ElementCode,
    /// A copy of the bad value (AK404), when there is one.
    pub value: Option<String>,
}

/// One bad (or missing) segment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SegmentError {
    /// Segment id (for a missing segment, the id that was expected).
    pub id: String,
    /// 1-based position in the set, ST = 1 (AK302).
    pub position: usize,
    /// Loop the segment belongs to (AK303), if any.
    pub loop_id: Option<String>,
    /// What is wrong.
    pub code: SegmentCode,
    /// Element errors (with code 8).
    pub elements: Vec<ElementError>,
}

/// The outcome for one transaction set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetReport {
    /// ST01.
    pub set_id: String,
    /// ST02.
    pub control_number: String,
    /// ST03, if sent.
    pub implementation_reference: Option<String>,
    /// Envelope and set-level issues (AK502…).
    pub issues: Vec<SetIssue>,
    /// Segment and element errors.
    pub errors: Vec<SegmentError>,
}

impl SetReport {
    /// True when nothing is wrong.
    pub fn accepted(&self) -> bool {
        self.issues.is_empty() && self.errors.is_empty()
    }
}

struct Frame<'s> {
    nodes: &'s [Node],
    table: &'s LevelTable,
    loop_id: Option<&'s str>,
    cur: usize,
    /// Uses of position `cur`. The search only moves forward, so every position
    /// after `cur` is unused and every one before it is done with: one count is
    /// all the state a per-position array would hold (and it costs no allocation).
    cur_count: usize,
}

impl<'s> Frame<'s> {
    /// A frame over `nodes`; a loop frame starts on its trigger, used once.
    fn new(nodes: &'s [Node], table: &'s LevelTable, loop_id: Option<&'s str>) -> Self {
        Self {
            nodes,
            table,
            loop_id,
            cur: 0,
            cur_count: usize::from(loop_id.is_some()),
        }
    }

    /// Uses of position `k` so far.
    #[inline]
    fn count(&self, k: usize) -> usize {
        match k.cmp(&self.cur) {
            std::cmp::Ordering::Equal => self.cur_count,
            std::cmp::Ordering::Greater => 0,
            // Not reached by the matcher (it never looks back); kept total for clarity.
            std::cmp::Ordering::Less => 1,
        }
    }
}

/// Validates one set. `version` is GS08; `registry` supplies the schema.
pub fn validate_set(registry: &Registry, version: &str, set: &TransactionSet) -> SetReport {
    let mut report = SetReport {
        set_id: set.id.clone(),
        control_number: set.control_number.clone(),
        implementation_reference: set.implementation_reference.clone(),
        issues: set.issues.clone(),
        errors: Vec::new(),
    };
    match registry.get(version, &set.id) {
        None => {
            if !report.issues.contains(&SetIssue::InvalidSetId) {
                report.issues.insert(0, SetIssue::NotSupported);
            }
        }
        Some(schema) => {
            let v5 = version.get(..6).is_some_and(|v| v >= "005010");
            report.errors = check_structure(registry, &schema, set, v5);
            if schema.has_hierarchy {
                check_hierarchy(set, &mut report.errors);
            }
            if !report.errors.is_empty() {
                report.errors.sort_by_key(|e| e.position);
                report.issues.push(SetIssue::SegmentsInError);
            }
        }
    }
    report
}

fn check_structure(registry: &Registry, schema: &SetSchema, set: &TransactionSet, v5: bool) -> Vec<SegmentError> {
    let classes = Classes::new(set.delimiters);
    let mut errors = Vec::new();
    let mut stack = Vec::with_capacity(8);
    stack.push(Frame::new(&schema.structure, &schema.structure_table, None));
    let mut last_position = 1;
    for (i, seg) in set.segments().enumerate() {
        let position = i + 1;
        last_position = position;
        let id_end = classes.id_end(seg.raw());
        let number = schema.index.get(segment_key(&seg.raw()[..id_end]));
        let found = if number == NONE {
            None
        } else {
            stack
                .iter()
                .enumerate()
                .rev()
                .find_map(|(level, f)| f.table.find(f.cur, number).map(|j| (level, j)))
        };
        let Some((level, j)) = found else {
            let loop_id = stack.last().and_then(|f| f.loop_id);
            errors.push(unplaced(registry, schema, &seg, position, loop_id));
            continue;
        };
        while stack.len() > level + 1 {
            let f = stack.pop().expect("frame above level");
            missing(&f, f.nodes.len(), position, &mut errors);
        }
        let frame = stack.last_mut().expect("level frame");
        missing(frame, j, position, &mut errors);
        let count = frame.count(j) + 1;
        frame.cur = j;
        frame.cur_count = count;
        let loop_id = frame.loop_id;
        let mut node = &frame.nodes[j];
        let mut seg_error = None;
        if count > node.max() {
            let code = if matches!(node, Node::Loop { .. }) {
                SegmentCode::LoopOverMax
            } else {
                SegmentCode::ExceedsMaxUse
            };
            seg_error = Some(code);
        }
        let mut inner_loop = loop_id;
        while let Node::Loop {
            id: lid,
            children,
            child_table,
            ..
        } = node
        {
            inner_loop = Some(lid.as_str());
            node = &children[0];
            stack.push(Frame::new(children, child_table, Some(lid.as_str())));
        }
        let elements = match node {
            Node::Segment { def: Some(def), .. } => check_elements(&seg, id_end, def, v5, &classes),
            _ => None,
        };
        if let Some(code) = seg_error {
            errors.push(segment_error(&seg, position, inner_loop, code, Vec::new()));
        }
        if let Some(elements) = elements {
            errors.push(segment_error(&seg, position, inner_loop, SegmentCode::ElementErrors, elements));
        }
    }
    while let Some(f) = stack.pop() {
        missing(&f, f.nodes.len(), last_position, &mut errors);
    }
    if errors.iter().any(|e| e.code == SegmentCode::OutOfSequence) {
        // A mandatory segment that is present but misplaced is reported once, as out of sequence.
        let misplaced: Vec<String> = errors
            .iter()
            .filter(|e| e.code == SegmentCode::OutOfSequence)
            .map(|e| e.id.clone())
            .collect();
        errors.retain(|e| !(e.code == SegmentCode::MandatoryMissing && misplaced.contains(&e.id)));
    }
    errors
}

/// The error for a segment that fits nowhere ahead: unrecognized, out of sequence or unexpected.
#[cold]
#[inline(never)]
fn unplaced(registry: &Registry, schema: &SetSchema, seg: &Segment<'_>, position: usize, loop_id: Option<&str>) -> SegmentError {
    let id = seg.id_str();
    let code = if id.len() < 2
        || id.len() > 3
        || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        || !registry.is_known_segment(id)
    {
        SegmentCode::Unrecognized
    } else if schema.segment_ids.contains(id) {
        SegmentCode::OutOfSequence
    } else {
        SegmentCode::Unexpected
    };
    segment_error(seg, position, loop_id, code, Vec::new())
}

#[cold]
fn segment_error(
    seg: &Segment<'_>,
    position: usize,
    loop_id: Option<&str>,
    code: SegmentCode,
    elements: Vec<ElementError>,
) -> SegmentError {
    SegmentError {
        id: seg.id_str().to_string(),
        position,
        loop_id: loop_id.map(str::to_string),
        code,
        elements,
    }
}

/// Reports mandatory positions of a frame from its current one up to `to` that were never used.
#[inline]
fn missing(frame: &Frame<'_>, to: usize, position: usize, errors: &mut Vec<SegmentError>) {
    // Positions after `cur` are unused; `cur` itself only before its first use.
    let from = frame.cur + usize::from(frame.cur_count > 0);
    // Most calls pass over no mandatory position at all.
    if frame.table.next_required(from) < to {
        report_missing(frame, from, to, position, errors);
    }
}

/// [`missing`]'s report: every mandatory position in `from..to`, all unused.
#[cold]
fn report_missing(frame: &Frame<'_>, from: usize, to: usize, position: usize, errors: &mut Vec<SegmentError>) {
    let mut k = frame.table.next_required(from);
    while k < to {
        let node = &frame.nodes[k];
        // The table leaves out ST and SE: a missing SE is an envelope issue (AK502 2).
        errors.push(SegmentError {
            id: node.trigger().to_string(),
            position,
            loop_id: match node {
                Node::Loop { id, .. } => Some(id.clone()),
                Node::Segment { .. } => frame.loop_id.map(str::to_string),
            },
            code: SegmentCode::MandatoryMissing,
            elements: Vec::new(),
        });
        k = frame.table.next_required(k + 1);
    }
}

/// Checks every element of a segment against its definition (`id_end` is where its
/// id ends): the element errors, `None` when there are none.
fn check_elements(seg: &Segment<'_>, id_end: usize, def: &SegmentDef, v5: bool, classes: &Classes) -> Option<Vec<ElementError>> {
    if def.plan.usable && plan_passes(seg.raw(), id_end, &def.plan, classes) {
        return None;
    }
    Some(exact_check_elements(seg, def, v5)).filter(|e| !e.is_empty())
}

/// Byte class: outside printable ASCII (0x20..=0x7e).
const NONPRINT: u8 = 1;
/// Byte class: lower-case ASCII letter.
const LOWER: u8 = 2;
/// Byte class: anything but an ASCII digit.
const NONDIGIT: u8 = 4;
/// Byte class: the element separator.
const SEP: u8 = 8;
/// Byte class: the component or repetition separator.
const ODD: u8 = 16;

/// Classes of every byte value, before the delimiters are known.
const BASE_CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if !(byte >= 0x20 && byte < 0x7f) {
            t[b] |= NONPRINT;
        }
        if byte.is_ascii_lowercase() {
            t[b] |= LOWER;
        }
        if !byte.is_ascii_digit() {
            t[b] |= NONDIGIT;
        }
        b += 1;
    }
    t
};

/// The fast path's byte classes for one interchange's delimiters.
struct Classes {
    table: [u8; 256],
    sep: u8,
}

impl Classes {
    fn new(d: Delimiters) -> Self {
        let mut table = BASE_CLASSES;
        table[usize::from(d.component)] |= ODD;
        if let Some(r) = d.repetition {
            table[usize::from(r)] |= ODD;
        }
        table[usize::from(d.element)] |= SEP;
        Self { table, sep: d.element }
    }

    /// Where a segment's id ends: its first element separator (or its end).
    #[inline(always)]
    fn id_end(&self, raw: &[u8]) -> usize {
        // Ids are two or three bytes: test those places before scanning.
        match raw.get(..4) {
            Some(&[a, b, c, d]) if a != self.sep && b != self.sep && (c == self.sep || d == self.sep) => {
                if c == self.sep {
                    2
                } else {
                    3
                }
            }
            _ => self.scan(raw, 0, SEP),
        }
    }

    /// Where the first byte from `i` in one of the `stop` classes is (the length if none).
    #[inline(always)]
    fn scan(&self, raw: &[u8], mut i: usize, stop: u8) -> usize {
        // Four bytes a step (one bounds check) while four remain.
        while let Some(chunk) = raw.get(i..i + 4) {
            for (k, &b) in chunk.iter().enumerate() {
                if self.table[usize::from(b)] & stop != 0 {
                    return i + k;
                }
            }
            i += 4;
        }
        while let Some(&b) = raw.get(i) {
            if self.table[usize::from(b)] & stop != 0 {
                break;
            }
            i += 1;
        }
        i
    }

    /// True when an element ends at `end`: a separator or the end of the segment.
    #[inline(always)]
    fn ends(&self, raw: &[u8], end: usize) -> bool {
        raw.get(end).is_none_or(|&b| b == self.sep)
    }
}

/// The fast path: true only when the segment certainly has no element error.
///
/// One pass over the bytes after the id (`raw[id_end]` is the first separator):
/// each element is scanned for the byte classes its check forbids, then its
/// length (and code list, date or time) is checked. Anything the plan does not
/// cover answers false, so the exact check runs: bytes outside printable ASCII,
/// component or repetition separators, present composites, elements past the
/// definition.
// Out of line: the caller's registers are all taken by the structure matching.
#[inline(never)]
fn plan_passes(raw: &[u8], id_end: usize, plan: &SegmentPlan, classes: &Classes) -> bool {
    let mut present = 0u64;
    let mut at = id_end;
    for (i, el) in plan.elements.iter().enumerate() {
        if at >= raw.len() {
            break;
        }
        let start = at + 1;
        let Some(end) = value_end(raw, start, el, classes) else {
            return false;
        };
        if end > start {
            present |= 1 << i;
        }
        at = end;
    }
    // Past the definition, only empty elements.
    while at < raw.len() {
        if !classes.ends(raw, at + 1) {
            return false;
        }
        at += 1;
    }
    plan.mandatory & !present == 0
        && (present ^ (present >> 1)) & plan.adjacent_pairs == 0
        && plan.required.iter().all(|&m| present & m != 0)
        && (present & plan.triggers == 0 || plan.rules.iter().all(|r| r.holds(present)))
}

/// Where the element starting at `start` ends, when [`check_simple`] finds nothing in it
/// (or it is empty); `None` when it may hold an error.
#[inline(always)]
fn value_end(raw: &[u8], start: usize, el: &ElementPlan, c: &Classes) -> Option<usize> {
    let len_ok = |n: usize| n >= el.min as usize && n <= el.max as usize;
    let after_minus = |s: usize| s + usize::from(raw.get(s) == Some(&b'-'));
    let (end, ok) = match &el.check {
        ValueCheck::Text | ValueCheck::Binary => {
            let end = c.scan(raw, start, SEP | ODD | NONPRINT);
            (end, len_ok(end - start))
        }
        ValueCheck::Code => {
            let end = c.scan(raw, start, SEP | ODD | NONPRINT | LOWER);
            (end, len_ok(end - start))
        }
        ValueCheck::Listed(codes) => {
            let end = c.scan(raw, start, SEP | ODD | NONPRINT);
            let v = &raw[start..end];
            (
                end,
                len_ok(v.len()) && pack_code(v).is_some_and(|k| codes.binary_search(&k).is_ok()),
            )
        }
        ValueCheck::Numeric => {
            let digits = after_minus(start);
            let end = c.scan(raw, digits, SEP | ODD | NONDIGIT);
            (end, end > digits && len_ok(end - digits))
        }
        ValueCheck::Decimal => {
            let digits = after_minus(start);
            let mut end = c.scan(raw, digits, SEP | ODD | NONDIGIT);
            let mut dots = 0;
            if raw.get(end) == Some(&b'.') && !c.ends(raw, end) {
                dots = 1;
                end = c.scan(raw, end + 1, SEP | ODD | NONDIGIT);
            }
            let n = end - digits - dots;
            (end, n > 0 && len_ok(n))
        }
        ValueCheck::Date => {
            let end = c.scan(raw, start, SEP | ODD | NONDIGIT);
            (end, valid_date(&raw[start..end]) && len_ok(end - start))
        }
        ValueCheck::Time => {
            let end = c.scan(raw, start, SEP | ODD | NONDIGIT);
            (end, valid_time(&raw[start..end]) && len_ok(end - start))
        }
        ValueCheck::Exact => (start, false),
    };
    // An empty element passes here (`mandatory` covers it); any other stop is a byte the check refuses.
    if end == start && c.ends(raw, start) {
        return Some(start);
    }
    (ok && c.ends(raw, end)).then_some(end)
}

/// Checks every element of a segment against its definition, one by one, reporting each error.
fn exact_check_elements(seg: &Segment<'_>, def: &SegmentDef, v5: bool) -> Vec<ElementError> {
    let mut errors = Vec::new();
    // Bit p-1 set when element p is present; syntax rules only look at these.
    let mut present: u128 = 0;
    let mut count = 0;
    let mut too_many = false;
    // Most segments hold no component or repetition separator at all: their simple
    // elements go straight to the value check.
    let d = seg.delimiters();
    let raw = seg.raw();
    let plain = !raw.contains(&d.component) && d.repetition.is_none_or(|r| !raw.contains(&r));
    for (i, e) in seg.elements().enumerate() {
        let value = e.raw();
        count = i + 1;
        if !value.is_empty() && i < 128 {
            present |= 1 << i;
        }
        match def.elements.get(i) {
            Some(el) if plain && el.data_type != DataType::Composite && !value.is_empty() => {
                if let Some(code) = check_simple(value, el) {
                    errors.push(element_error(i + 1, None, None, Some(el), code, value));
                }
            }
            Some(el) => check_element(value, el, i + 1, seg, v5, &mut errors),
            None if !value.is_empty() && !too_many => {
                too_many = true;
                errors.push(element_error(i + 1, None, None, None, ElementCode::TooMany, value));
            }
            None => {}
        }
    }
    for (i, el) in def.elements.iter().enumerate().skip(count) {
        if el.req == Req::M {
            errors.push(element_error(i + 1, None, None, Some(el), ElementCode::MandatoryMissing, b""));
        }
    }
    if !def.rules.is_empty() {
        check_rules(seg, def, present, &mut errors);
    }
    if errors.len() > 1 {
        errors.sort_by_key(|e| (e.position, e.component));
    }
    errors
}

fn element_error(
    position: usize,
    component: Option<usize>,
    repetition: Option<usize>,
    el: Option<&ElementDef>,
    code: ElementCode,
    value: &[u8],
) -> ElementError {
    ElementError {
        position,
        component,
        repetition,
        reference: el.map(|e| e.reference.clone()),
        code,
        value: (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned()),
    }
}

/// One element: presence, repetitions, components, then the simple value.
fn check_element(value: &[u8], el: &ElementDef, pos: usize, seg: &Segment<'_>, v5: bool, errors: &mut Vec<ElementError>) {
    let d = seg.delimiters();
    if value.is_empty() {
        if el.req == Req::M {
            errors.push(element_error(pos, None, None, Some(el), ElementCode::MandatoryMissing, value));
        }
        return;
    }
    let repeated = d.repetition.is_some_and(|r| value.contains(&r));
    if !repeated {
        check_repetition(value, None, el, pos, seg, v5, errors);
        return;
    }
    let r = d.repetition.unwrap_or_default();
    let reps = value.split(|b| *b == r);
    if reps.clone().count() > el.repeat {
        errors.push(element_error(pos, None, None, Some(el), ElementCode::TooManyRepetitions, value));
        return;
    }
    for (ri, rep) in reps.enumerate() {
        check_repetition(rep, Some(ri + 1), el, pos, seg, v5, errors);
    }
}

fn check_repetition(
    rep: &[u8],
    repetition: Option<usize>,
    el: &ElementDef,
    pos: usize,
    seg: &Segment<'_>,
    v5: bool,
    errors: &mut Vec<ElementError>,
) {
    let component = seg.delimiters().component;
    if el.data_type == DataType::Composite {
        let mut n = 0;
        for (ci, c) in rep.split(|b| *b == component).enumerate() {
            n = ci + 1;
            match el.components.get(ci) {
                Some(cdef) => {
                    let code = if c.is_empty() {
                        (cdef.req == Req::M).then_some(ElementCode::MandatoryMissing)
                    } else {
                        check_simple(c, cdef)
                    };
                    if let Some(code) = code {
                        errors.push(element_error(pos, Some(ci + 1), repetition, Some(cdef), code, c));
                    }
                }
                None if !c.is_empty() => {
                    errors.push(element_error(pos, None, repetition, Some(el), ElementCode::TooManyComponents, rep));
                    break;
                }
                None => {}
            }
        }
        for (ci, cdef) in el.components.iter().enumerate().skip(n) {
            if cdef.req == Req::M {
                errors.push(element_error(
                    pos,
                    Some(ci + 1),
                    repetition,
                    Some(cdef),
                    ElementCode::MandatoryMissing,
                    b"",
                ));
            }
        }
    } else if rep.contains(&component) {
        let code = if v5 {
            ElementCode::TooManyComponents
        } else {
            ElementCode::InvalidCharacter
        };
        errors.push(element_error(pos, None, repetition, Some(el), code, rep));
    } else if let Some(code) = check_simple(rep, el) {
        errors.push(element_error(pos, None, repetition, Some(el), code, rep));
    }
}

/// X12 syntax notes (P, R, E, C, L) over the present elements.
fn check_rules(seg: &Segment<'_>, def: &SegmentDef, present: u128, errors: &mut Vec<ElementError>) {
    let is = |p: usize| (1..=128).contains(&p) && present & (1 << (p - 1)) != 0;
    let elem = |p: usize| def.elements.get(p.wrapping_sub(1));
    let missing = |p: usize| element_error(p, None, None, elem(p), ElementCode::ConditionalMissing, b"");
    for rule in &def.rules {
        match rule {
            SyntaxRule::Paired(ps) if ps.iter().any(|&p| is(p)) => {
                errors.extend(ps.iter().filter(|&&p| !is(p)).map(|&p| missing(p)));
            }
            SyntaxRule::Required(ps) if !ps.iter().any(|&p| is(p)) => errors.push(missing(ps[0])),
            SyntaxRule::Exclusion(ps) => {
                for &p in ps.iter().filter(|&&p| is(p)).skip(1) {
                    errors.push(element_error(p, None, None, elem(p), ElementCode::ExclusionViolated, seg.get(p)));
                }
            }
            SyntaxRule::Conditional(first, rest) if is(*first) => {
                errors.extend(rest.iter().filter(|&&p| !is(p)).map(|&p| missing(p)));
            }
            SyntaxRule::ListConditional(first, rest) if is(*first) && !rest.iter().any(|&p| is(p)) => errors.push(missing(rest[0])),
            _ => {}
        }
    }
}

/// Checks one non-empty simple value against type, length and code list.
fn check_simple(v: &[u8], el: &ElementDef) -> Option<ElementCode> {
    let len_of = |n: usize| {
        if n < el.min {
            Some(ElementCode::TooShort)
        } else if el.max > 0 && n > el.max {
            Some(ElementCode::TooLong)
        } else {
            None
        }
    };
    match el.data_type {
        DataType::N(_) => {
            let digits = v.strip_prefix(b"-").unwrap_or(v);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Some(ElementCode::InvalidCharacter);
            }
            len_of(digits.len())
        }
        DataType::R => {
            let body = v.strip_prefix(b"-").unwrap_or(v);
            let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
            let dots = body.iter().filter(|b| **b == b'.').count();
            if digits == 0 || dots > 1 || digits + dots != body.len() {
                return Some(ElementCode::InvalidCharacter);
            }
            len_of(digits)
        }
        DataType::Dt => {
            if !valid_date(v) {
                return Some(ElementCode::InvalidDate);
            }
            len_of(v.len())
        }
        DataType::Tm => {
            if !valid_time(v) {
                return Some(ElementCode::InvalidTime);
            }
            len_of(v.len())
        }
        DataType::B | DataType::Composite => None,
        DataType::An | DataType::Id => {
            let len = if v.iter().all(|&b| (0x20..0x7f).contains(&b)) {
                v.len()
            } else {
                let Ok(text) = std::str::from_utf8(v) else {
                    return Some(ElementCode::InvalidCharacter);
                };
                if text.chars().any(char::is_control) {
                    return Some(ElementCode::InvalidCharacter);
                }
                text.chars().count()
            };
            if let Some(code) = len_of(len) {
                return Some(code);
            }
            if el.data_type != DataType::Id {
                None
            } else if el.codes.is_some() {
                (!el.allows(v)).then_some(ElementCode::InvalidCode)
            } else if v.iter().any(u8::is_ascii_lowercase) {
                // X12 code values are upper case: `ea` is not the unit `EA`.
                Some(ElementCode::InvalidCode)
            } else {
                None
            }
        }
    }
}

/// CCYYMMDD or YYMMDD, with real month lengths.
pub fn valid_date(v: &[u8]) -> bool {
    if !(v.len() == 8 || v.len() == 6) || !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |s: &[u8]| s.iter().fold(0u32, |a, b| a * 10 + (b - b'0') as u32);
    let (y, rest) = if v.len() == 8 {
        (n(&v[..4]), &v[4..])
    } else {
        (2000 + n(&v[..2]), &v[2..])
    };
    let (m, d) = (n(&rest[..2]), n(&rest[2..]));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// HHMM, HHMMSS, HHMMSSd or HHMMSSdd.
pub fn valid_time(v: &[u8]) -> bool {
    if !matches!(v.len(), 4 | 6 | 7 | 8) || !v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |s: &[u8]| (s[0] - b'0') as u32 * 10 + (s[1] - b'0') as u32;
    n(&v[..2]) < 24 && n(&v[2..4]) < 60 && (v.len() < 6 || n(&v[4..6]) < 60)
}

/// HL numbering in hierarchical sets (856): HL01 unique, HL02 an earlier HL01.
fn check_hierarchy(set: &TransactionSet, errors: &mut Vec<SegmentError>) {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for (i, seg) in set.segments().enumerate() {
        if !seg.is("HL") {
            continue;
        }
        let id = seg.get(1).to_vec();
        let parent = seg.get(2);
        let mut elements = Vec::new();
        if !id.is_empty() && seen.insert(id.clone(), i).is_some() {
            elements.push(ElementError {
                position: 1,
                component: None,
                repetition: None,
                reference: Some("628".into()),
                code: ElementCode::InvalidCode,
                value: Some(String::from_utf8_lossy(&id).into_owned()),
            });
        }
        if !parent.is_empty() && (!seen.contains_key(parent) || parent == id.as_slice()) {
            elements.push(ElementError {
                position: 2,
                component: None,
                repetition: None,
                reference: Some("734".into()),
                code: ElementCode::InvalidCode,
                value: Some(String::from_utf8_lossy(parent).into_owned()),
            });
        }
        if elements.is_empty() {
            continue;
        }
        let position = i + 1;
        match errors
            .iter_mut()
            .find(|e| e.position == position && e.code == SegmentCode::ElementErrors)
        {
            Some(e) => e.elements.extend(elements),
            None => errors.push(SegmentError {
                id: "HL".into(),
                position,
                loop_id: Some("HL".into()),
                code: SegmentCode::ElementErrors,
                elements,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::{Delimiters, Position};

    /// [`plan_passes`] on a segment alone.
    fn plan_ok(seg: &Segment<'_>, plan: &SegmentPlan) -> bool {
        plan_passes(seg.raw(), seg.id().len(), plan, &Classes::new(seg.delimiters()))
    }

    /// [`check_elements`] on a segment alone.
    fn checked(seg: &Segment<'_>, def: &SegmentDef, v5: bool) -> Vec<ElementError> {
        check_elements(seg, seg.id().len(), def, v5, &Classes::new(seg.delimiters())).unwrap_or_default()
    }

    /// The fast path never passes a segment the exact check finds fault with, and
    /// passes the well-formed ones it covers.
    #[test]
    fn plan_agrees_with_the_exact_check() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/x12");
        let registry = Registry::load(&root).expect("schemas");
        let good = [
            "ST*850*0001",
            "BEG*00*SA*4500010001**20240315",
            "CUR*BY*USD",
            "REF*DP*041",
            "DTM*002*20240325",
            "TD5*O*2*UPSN*U*UPS GROUND",
            "N1*ST*ACME PARTS DC 12*92*0012",
            "N3*4800 DISTRIBUTION WAY",
            "N4*COLUMBUS*OH*43228*US",
            "PO1*1*6*EA*11.95**VP*BP-4411*BP*ACM-10471",
            "PID*F****CERAMIC BRAKE PAD SET 1",
            "CTT*5*90",
            "SE*23*0001",
            "DTM*002*20240325*1230",
            "CTT*-5*-9.5",
        ];
        let replacements: [&[u8]; 14] = [
            b"",
            b"a",
            b"Z",
            b"9",
            b"0",
            b"-",
            b".",
            b"*",
            b">",
            b"^",
            b" ",
            "\u{e9}".as_bytes(),
            b"\x01",
            b"**",
        ];
        let delimiters = Delimiters {
            repetition: Some(b'^'),
            ..Delimiters::default()
        };
        let (mut checked, mut passed) = (0, 0);
        for version in ["004010", "005010"] {
            let schema = registry.get(version, "850").expect("850");
            let v5 = version == "005010";
            for text in good {
                let id = text.split('*').next().unwrap_or("");
                let def = schema.segment(id).expect("segment");
                let seg = Segment::new(text.as_bytes(), delimiters, Position::default());
                assert!(plan_ok(&seg, &def.plan), "{version} {text}");
                assert!(exact_check_elements(&seg, def, v5).is_empty(), "{version} {text}");
                for at in 0..=text.len() {
                    for cut in 0..=2usize {
                        for r in replacements {
                            let end = (at + cut).min(text.len());
                            let mut raw = text.as_bytes()[..at].to_vec();
                            raw.extend_from_slice(r);
                            raw.extend_from_slice(&text.as_bytes()[end..]);
                            let seg = Segment::new(&raw, delimiters, Position::default());
                            let Some(def) = schema.segment(seg.id_str()) else { continue };
                            let fast = plan_ok(&seg, &def.plan);
                            let exact = exact_check_elements(&seg, def, v5);
                            assert!(
                                !fast || exact.is_empty(),
                                "{version} {:?}: {exact:?}",
                                String::from_utf8_lossy(&raw)
                            );
                            checked += 1;
                            passed += usize::from(fast);
                        }
                    }
                }
            }
        }
        assert!(passed > 0 && passed < checked, "{passed} of {checked}");
    }

    /// On every fixture, the element errors with the fast path are the exact check's.
    #[test]
    fn fixtures_give_the_exact_element_errors() {
        use crate::x12::{EnvelopeReader, Event, Tokenizer};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let registry = Registry::load(&root.join("mappings/x12")).expect("schemas");
        let mut compared = 0;
        for dir in ["fixtures/x12/valid", "fixtures/x12/invalid"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
                let bytes = std::fs::read(entry.expect("entry").path()).expect("fixture");
                let mut reader = EnvelopeReader::new(Tokenizer::new(&bytes));
                let mut version = String::new();
                while let Some(event) = reader.next_event() {
                    match event {
                        Event::GroupStart(h) => version = h.version,
                        Event::TransactionSet(set) => {
                            let Some(schema) = registry.get(&version, &set.id) else { continue };
                            let v5 = version.get(..6).is_some_and(|v| v >= "005010");
                            for seg in set.segments() {
                                if let Some(def) = schema.segment(seg.id_str()) {
                                    assert_eq!(checked(&seg, def, v5), exact_check_elements(&seg, def, v5), "{seg:?}");
                                    compared += 1;
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        assert!(compared > 100, "{compared} segments");
    }

    /// Structure matching as it was before [`Frame`] tracked one count and levels had
    /// tables: a plain forward search over each level's keys and a count per position
    /// (the reference for `structure_matching_agrees_with_the_reference`).
    mod reference {
        use super::super::*;

        struct Frame<'s> {
            nodes: &'s [Node],
            keys: &'s [u32],
            required: &'s [u32],
            loop_id: Option<&'s str>,
            cur: usize,
            counts: Vec<usize>,
            is_loop: bool,
        }

        impl<'s> Frame<'s> {
            /// A frame over `nodes`, reusing a spare counts buffer when there is one.
            fn new(nodes: &'s [Node], keys: &'s [u32], required: &'s [u32], loop_id: Option<&'s str>, spare: &mut Vec<Vec<usize>>) -> Self {
                let mut counts = spare.pop().unwrap_or_default();
                counts.clear();
                counts.resize(nodes.len(), 0);
                Self {
                    nodes,
                    keys,
                    required,
                    loop_id,
                    cur: 0,
                    counts,
                    is_loop: loop_id.is_some(),
                }
            }

            /// Where a segment with this id fits, looking forward from the current position.
            fn find(&self, key: u32) -> Option<usize> {
                // Inside a loop, its trigger again means a new iteration, found by the parent frame.
                let from = if self.is_loop { self.cur.max(1) } else { self.cur };
                self.keys.get(from..)?.iter().position(|&k| k == key).map(|j| from + j)
            }
        }

        pub(super) fn check_structure(registry: &Registry, schema: &SetSchema, set: &TransactionSet, v5: bool) -> Vec<SegmentError> {
            let mut errors = Vec::new();
            let mut spare = Vec::new();
            let mut stack = vec![Frame::new(
                &schema.structure,
                &schema.structure_keys,
                &schema.structure_required,
                None,
                &mut spare,
            )];
            let mut last_position = 1;
            for (i, seg) in set.segments().enumerate() {
                let position = i + 1;
                last_position = position;
                let key = segment_key(seg.id());
                let found = (0..stack.len()).rev().find_map(|level| stack[level].find(key).map(|j| (level, j)));
                let Some((level, j)) = found else {
                    let id = seg.id_str();
                    let code = if id.len() < 2
                        || id.len() > 3
                        || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                        || !registry.is_known_segment(id)
                    {
                        SegmentCode::Unrecognized
                    } else if schema.segment_ids.contains(id) {
                        SegmentCode::OutOfSequence
                    } else {
                        SegmentCode::Unexpected
                    };
                    errors.push(SegmentError {
                        id: id.to_string(),
                        position,
                        loop_id: stack.last().and_then(|f| f.loop_id).map(str::to_string),
                        code,
                        elements: Vec::new(),
                    });
                    continue;
                };
                while stack.len() > level + 1 {
                    let f = stack.pop().expect("frame above level");
                    missing(&f, f.cur, f.nodes.len(), position, &mut errors);
                    spare.push(f.counts);
                }
                let frame = stack.last_mut().expect("level frame");
                missing(frame, frame.cur, j, position, &mut errors);
                frame.cur = j;
                frame.counts[j] += 1;
                let count = frame.counts[j];
                let loop_id = frame.loop_id;
                let mut node = &frame.nodes[j];
                let mut seg_error = None;
                if count > node.max() {
                    let code = if matches!(node, Node::Loop { .. }) {
                        SegmentCode::LoopOverMax
                    } else {
                        SegmentCode::ExceedsMaxUse
                    };
                    seg_error = Some(code);
                }
                let mut inner_loop = loop_id;
                while let Node::Loop {
                    id: lid,
                    children,
                    child_keys,
                    child_required,
                    ..
                } = node
                {
                    let mut f = Frame::new(children, child_keys, child_required, Some(lid.as_str()), &mut spare);
                    f.counts[0] = 1;
                    inner_loop = Some(lid.as_str());
                    node = &children[0];
                    stack.push(f);
                }
                let elements = match node {
                    Node::Segment { def: Some(def), .. } => super::checked(&seg, def, v5),
                    _ => Vec::new(),
                };
                if let Some(code) = seg_error {
                    errors.push(SegmentError {
                        id: seg.id_str().to_string(),
                        position,
                        loop_id: inner_loop.map(str::to_string),
                        code,
                        elements: Vec::new(),
                    });
                }
                if !elements.is_empty() {
                    errors.push(SegmentError {
                        id: seg.id_str().to_string(),
                        position,
                        loop_id: inner_loop.map(str::to_string),
                        code: SegmentCode::ElementErrors,
                        elements,
                    });
                }
            }
            while let Some(f) = stack.pop() {
                missing(&f, f.cur, f.nodes.len(), last_position, &mut errors);
            }
            // A mandatory segment that is present but misplaced is reported once, as out of sequence.
            let misplaced: Vec<String> = errors
                .iter()
                .filter(|e| e.code == SegmentCode::OutOfSequence)
                .map(|e| e.id.clone())
                .collect();
            errors.retain(|e| !(e.code == SegmentCode::MandatoryMissing && misplaced.contains(&e.id)));
            errors
        }

        /// Reports mandatory positions in `from..to` of a frame that were never used.
        #[inline]
        fn missing(frame: &Frame<'_>, from: usize, to: usize, position: usize, errors: &mut Vec<SegmentError>) {
            // Most calls pass over no mandatory position at all.
            let start = frame.required.partition_point(|&k| (k as usize) < from);
            if frame.required.get(start).is_some_and(|&k| (k as usize) < to) {
                report_missing(frame, start, to, position, errors);
            }
        }

        /// [`missing`]'s report, from the `start`th mandatory position of the frame.
        #[cold]
        fn report_missing(frame: &Frame<'_>, start: usize, to: usize, position: usize, errors: &mut Vec<SegmentError>) {
            for &k in &frame.required[start..] {
                let k = k as usize;
                if k >= to {
                    break;
                }
                let node = &frame.nodes[k];
                // `required` leaves out ST and SE: a missing SE is an envelope issue (AK502 2).
                if frame.counts[k] == 0 {
                    errors.push(SegmentError {
                        id: node.trigger().to_string(),
                        position,
                        loop_id: match node {
                            Node::Loop { id, .. } => Some(id.clone()),
                            Node::Segment { .. } => frame.loop_id.map(str::to_string),
                        },
                        code: SegmentCode::MandatoryMissing,
                        elements: Vec::new(),
                    });
                }
            }
        }
    }

    /// Structure matching (level tables, one count per level) finds exactly what the
    /// plain search with a count per position finds, on every fixture set mutated many
    /// ways: segments dropped, duplicated,
    /// swapped, moved, unknown or foreign segments inserted, loops repeated past their
    /// maximum, the mandatory ones removed.
    #[test]
    fn structure_matching_agrees_with_the_reference() {
        use crate::x12::{EnvelopeReader, Event, Tokenizer};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let registry = Registry::load(&root.join("mappings/x12")).expect("schemas");
        let (mut compared, mut with_errors) = (0, 0);
        let mut compare = |bytes: &[u8]| {
            let mut reader = EnvelopeReader::new(Tokenizer::new(bytes));
            let mut version = String::new();
            while let Some(event) = reader.next_event() {
                match event {
                    Event::GroupStart(h) => version = h.version,
                    Event::TransactionSet(set) => {
                        let Some(schema) = registry.get(&version, &set.id) else { continue };
                        let v5 = version.get(..6).is_some_and(|v| v >= "005010");
                        let fast = check_structure(&registry, &schema, &set, v5);
                        let exact = reference::check_structure(&registry, &schema, &set, v5);
                        assert_eq!(fast, exact, "{version} {}", set.id);
                        compared += 1;
                        with_errors += usize::from(!fast.is_empty());
                    }
                    _ => {}
                }
            }
        };
        for dir in ["fixtures/x12/valid", "fixtures/x12/invalid"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
                let bytes = std::fs::read(entry.expect("entry").path()).expect("fixture");
                let segs: Vec<Segment<'_>> = Tokenizer::new(&bytes).flatten().collect();
                let Some(first) = segs.first() else { continue };
                let term = first.delimiters().segment;
                let el = first.delimiters().element as char;
                let Some(st) = segs.iter().position(|s| s.is("ST")) else { continue };
                let Some(se) = segs.iter().position(|s| s.is("SE")).filter(|&e| e > st) else {
                    continue;
                };
                let raw: Vec<Vec<u8>> = segs.iter().map(|s| s.raw().to_vec()).collect();
                let (head, body, tail) = (&raw[..=st], &raw[st + 1..se], &raw[se..]);
                let assemble = |body: &[Vec<u8>]| {
                    let mut out = Vec::new();
                    for s in head.iter().chain(body).chain(tail) {
                        out.extend_from_slice(s);
                        out.push(term);
                    }
                    out
                };
                compare(&assemble(body));
                let extras: Vec<Vec<u8>> = [
                    format!("ZZZ{el}1"),
                    format!("BIG{el}20240101{el}1"),
                    format!("N1{el}ST{el}X"),
                    format!("PO1{el}1{el}1{el}EA"),
                    format!("HL{el}9{el}1{el}I"),
                    format!("SAC{el}A{el}B"),
                    format!("CTT{el}1"),
                    format!("REF{el}DP{el}1"),
                    format!("SE{el}1{el}1"),
                    format!("x1{el}1"),
                ]
                .into_iter()
                .map(String::into_bytes)
                .collect();
                for i in 0..body.len() {
                    let mut b = body.to_vec();
                    b.remove(i);
                    compare(&assemble(&b));
                    let mut b = body.to_vec();
                    b.insert(i, body[i].clone());
                    compare(&assemble(&b));
                    let mut b = body.to_vec();
                    // In place, past any maximum use (and appended, out of sequence).
                    b.splice(i..i, std::iter::repeat_n(body[i].clone(), 30));
                    compare(&assemble(&b));
                    let mut b = body.to_vec();
                    b.extend(std::iter::repeat_n(body[i].clone(), 30));
                    compare(&assemble(&b));
                    if i + 1 < body.len() {
                        let mut b = body.to_vec();
                        b.swap(i, i + 1);
                        compare(&assemble(&b));
                    }
                    let mut b = body.to_vec();
                    let s = b.remove(i);
                    b.push(s);
                    compare(&assemble(&b));
                    let mut b = body.to_vec();
                    let s = b.remove(i);
                    b.insert(0, s);
                    compare(&assemble(&b));
                    for x in &extras {
                        let mut b = body.to_vec();
                        b.insert(i, x.clone());
                        compare(&assemble(&b));
                    }
                    // Everything from a segment on, twice (loops and their contents repeated).
                    let mut b = body.to_vec();
                    b.extend_from_slice(&body[i..]);
                    compare(&assemble(&b));
                }
                // Loops far past their maximum.
                let mut b = body.to_vec();
                for _ in 0..30 {
                    b.extend_from_slice(body);
                }
                compare(&assemble(&b));
            }
        }
        assert!(
            compared > 5_000 && with_errors > 1_000,
            "{compared} sets, {with_errors} with errors"
        );
    }

    /// The id ends at the first separator.
    #[test]
    fn id_end_is_the_first_separator() {
        let c = Classes::new(Delimiters::default());
        for len in 0..8 {
            for pattern in 0..1u32 << len {
                let raw: Vec<u8> = (0..len).map(|i| if pattern >> i & 1 == 1 { b'*' } else { b'A' }).collect();
                assert_eq!(c.id_end(&raw), raw.iter().position(|&x| x == b'*').unwrap_or(len), "{raw:?}");
            }
        }
    }

    #[test]
    fn dates_and_times() {
        assert!(valid_date(b"20240229"));
        assert!(!valid_date(b"20230229"));
        assert!(!valid_date(b"20240231"));
        assert!(valid_date(b"240315"));
        assert!(!valid_date(b"2024031"));
        assert!(valid_time(b"2359"));
        assert!(!valid_time(b"2400"));
        assert!(valid_time(b"12000099"));
        assert!(!valid_time(b"12a0"));
    }
}
