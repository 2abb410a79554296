//! Declarative transaction-set schemas, loaded from `mappings/x12/<version>/`.
//!
//! A version folder holds `segments.toml` (the segment dictionary: elements
//! with type, length, requirement and key code lists, plus syntax rules) and
//! one `<set>.toml` per transaction set (its structure: positions, usage,
//! max use and nested loops, written as an indented table). See
//! `mappings/x12/README.md` for the format.
//!
//! Each segment definition is also compiled, at load, into a [`SegmentPlan`]:
//! a flat list of per-element checks (type tag, length bounds, code list packed
//! into sorted `u64`s) plus bit masks for mandatory elements and syntax notes.
//! The validator runs the plan first; only a segment the plan cannot pass is
//! checked again element by element to report its errors.
//!
//! Each set's structure is compiled too: its segment ids are numbered by a
//! [`SegmentIndex`], and each level (the top one and every loop's contents)
//! gets a [`LevelTable`] answering the matcher's two questions in one lookup:
//! where a segment fits next, and which mandatory position comes next.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

/// Errors loading schema files.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid TOML for its kind.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Requirement designator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Req {
    /// Mandatory.
    M,
    /// Optional.
    O,
    /// Conditional (relational rules decide).
    X,
}

/// Data element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// Alphanumeric string.
    An,
    /// Identifier from a code list.
    Id,
    /// Numeric with `n` implied decimals.
    N(u8),
    /// Decimal with an explicit point.
    R,
    /// Date, CCYYMMDD or YYMMDD.
    Dt,
    /// Time, HHMM[SS[d[d]]].
    Tm,
    /// Binary.
    B,
    /// Composite.
    Composite,
}

impl<'de> Deserialize<'de> for DataType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "AN" => Self::An,
            "ID" => Self::Id,
            "R" => Self::R,
            "DT" => Self::Dt,
            "TM" => Self::Tm,
            "B" => Self::B,
            "C" => Self::Composite,
            n if n.len() == 2 && n.starts_with('N') && n.as_bytes()[1].is_ascii_digit() => Self::N(n.as_bytes()[1] - b'0'),
            other => return Err(serde::de::Error::custom(format!("unknown element type {other}"))),
        })
    }
}

/// One data element of a segment (or one component of a composite).
#[derive(Debug, Clone, Deserialize)]
pub struct ElementDef {
    /// Element reference number (`353`, `C030`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Name.
    pub name: String,
    /// Requirement.
    pub req: Req,
    /// Type.
    #[serde(rename = "type")]
    pub data_type: DataType,
    /// Minimum length.
    #[serde(default)]
    pub min: usize,
    /// Maximum length.
    #[serde(default)]
    pub max: usize,
    /// Closed code list, when given.
    #[serde(default)]
    pub codes: Option<Vec<String>>,
    /// Components of a composite.
    #[serde(default)]
    pub components: Vec<ElementDef>,
    /// Maximum repetitions (005010 and later).
    #[serde(default = "one")]
    pub repeat: usize,
}

fn one() -> usize {
    1
}

impl ElementDef {
    /// Sorts code lists (here and in components) so lookups can binary-search.
    fn sort_codes(&mut self) {
        if let Some(codes) = &mut self.codes {
            codes.sort();
        }
        self.components.iter_mut().for_each(Self::sort_codes);
    }

    /// True when `value` is in the closed code list (or there is none).
    pub fn allows(&self, value: &[u8]) -> bool {
        match &self.codes {
            Some(codes) => codes.binary_search_by(|c| c.as_bytes().cmp(value)).is_ok(),
            None => true,
        }
    }
}

/// An X12 syntax note over element positions (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxRule {
    /// P: if any is present, all are.
    Paired(Vec<usize>),
    /// R: at least one is present.
    Required(Vec<usize>),
    /// E: not more than one is present.
    Exclusion(Vec<usize>),
    /// C: if the first is present, all others are.
    Conditional(usize, Vec<usize>),
    /// L: if the first is present, at least one other is.
    ListConditional(usize, Vec<usize>),
}

impl SyntaxRule {
    fn parse(s: &str) -> Option<Self> {
        let (kind, digits) = s.split_at_checked(1)?;
        if digits.len() < 4 || digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let pos: Vec<usize> = digits
            .as_bytes()
            .chunks(2)
            .map(|c| ((c[0] - b'0') * 10 + (c[1] - b'0')) as usize)
            .collect();
        Some(match kind {
            "P" => Self::Paired(pos),
            "R" => Self::Required(pos),
            "E" => Self::Exclusion(pos),
            "C" => Self::Conditional(pos[0], pos[1..].to_vec()),
            "L" => Self::ListConditional(pos[0], pos[1..].to_vec()),
            _ => return None,
        })
    }
}

/// One segment of the dictionary.
#[derive(Debug, Clone)]
pub struct SegmentDef {
    /// Segment id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Elements in order.
    pub elements: Vec<ElementDef>,
    /// Syntax notes.
    pub rules: Vec<SyntaxRule>,
    /// The same definition compiled for the validator's fast path.
    pub plan: SegmentPlan,
}

/// What the fast path checks for one element value (empty values only need `mandatory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueCheck {
    /// AN: printable, length only.
    Text,
    /// ID without a code list: printable, length, no lower case.
    Code,
    /// ID with a closed list: printable, length, one of the codes packed by [`pack_code`], sorted.
    Listed(Box<[u64]>),
    /// Nn: optional minus sign, digits.
    Numeric,
    /// R: optional minus sign, digits and at most one point.
    Decimal,
    /// DT.
    Date,
    /// TM.
    Time,
    /// B: anything.
    Binary,
    /// Composites (and anything else the plan does not cover): a present value
    /// sends the segment to the exact check.
    Exact,
}

/// One element of a [`SegmentPlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPlan {
    /// Value check.
    pub check: ValueCheck,
    /// Minimum length (digits for numeric and decimal types).
    pub min: u32,
    /// Maximum length, `u32::MAX` when unbounded.
    pub max: u32,
}

/// A syntax note as bit masks over the present elements (bit `p - 1` for position `p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMask {
    /// P: none or all of the mask.
    Paired(u64),
    /// E: at most one of the mask.
    Exclusion(u64),
    /// C: if the first is present, all of the rest.
    Conditional(u64, u64),
    /// L: if the first is present, at least one of the rest.
    ListConditional(u64, u64),
}

impl RuleMask {
    /// True when the note holds for the `present` elements.
    #[inline]
    pub fn holds(self, present: u64) -> bool {
        match self {
            Self::Paired(m) => present & m == 0 || present & m == m,
            Self::Exclusion(m) => (present & m).count_ones() <= 1,
            Self::Conditional(first, rest) => present & first == 0 || present & rest == rest,
            Self::ListConditional(first, rest) => present & first == 0 || present & rest != 0,
        }
    }
}

/// A segment definition compiled for the validator's fast path.
///
/// The plan answers one question, "does this segment have no element error at
/// all?", and answers "no" whenever it is unsure (non-ASCII text, composites,
/// component or repetition separators, more than 64 elements): the exact check
/// then runs and reports. So it never changes a result, it only skips work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentPlan {
    /// Whether the plan may be used at all (false: always the exact check).
    pub usable: bool,
    /// Per element, in order.
    pub elements: Vec<ElementPlan>,
    /// Bits of the mandatory elements.
    pub mandatory: u64,
    /// Paired notes on two neighbours (`P0607`), all at once: the bit of the first of each
    /// pair, whose presence must equal the next one's.
    pub adjacent_pairs: u64,
    /// R notes: at least one of each mask.
    pub required: Vec<u64>,
    /// The elements that can break one of `rules`: with none present, all of them hold.
    pub triggers: u64,
    /// The other syntax notes.
    pub rules: Vec<RuleMask>,
}

/// A code of one to eight bytes, none zero, packed into a `u64` (distinct codes, distinct keys).
pub fn pack_code(code: &[u8]) -> Option<u64> {
    if code.is_empty() || code.len() > 8 {
        return None;
    }
    // One pass: checking for a zero byte separately costs a `memchr` call.
    code.iter().try_fold(0u64, |k, &b| (b != 0).then(|| (k << 8) | u64::from(b)))
}

impl SegmentPlan {
    /// Compiles element definitions and syntax notes.
    pub fn compile(elements: &[ElementDef], rules: &[SyntaxRule]) -> Self {
        const BITS: usize = 64;
        let bit = |p: usize| if (1..=BITS).contains(&p) { 1u64 << (p - 1) } else { 0 };
        let mask = |ps: &[usize]| ps.iter().fold(0u64, |m, &p| m | bit(p));
        // Positions beyond the masks would need the exact check's bookkeeping.
        // (and an exclusion naming a position twice counts it twice there, not in a mask).
        let in_range = rules.iter().all(|r| match r {
            SyntaxRule::Exclusion(ps) => ps.iter().all(|&p| bit(p) != 0) && mask(ps).count_ones() as usize == ps.len(),
            SyntaxRule::Paired(ps) | SyntaxRule::Required(ps) => ps.iter().all(|&p| bit(p) != 0),
            SyntaxRule::Conditional(f, ps) | SyntaxRule::ListConditional(f, ps) => bit(*f) != 0 && ps.iter().all(|&p| bit(p) != 0),
        });
        if elements.len() > BITS || !in_range {
            return Self::default();
        }
        let plans = elements
            .iter()
            .map(|el| {
                let check = match el.data_type {
                    DataType::An => ValueCheck::Text,
                    DataType::Id => match &el.codes {
                        None => ValueCheck::Code,
                        Some(codes) => {
                            let packed: Option<Vec<u64>> = codes.iter().map(|c| pack_code(c.as_bytes())).collect();
                            match packed {
                                Some(mut p) => {
                                    p.sort_unstable();
                                    ValueCheck::Listed(p.into_boxed_slice())
                                }
                                None => ValueCheck::Exact,
                            }
                        }
                    },
                    DataType::N(_) => ValueCheck::Numeric,
                    DataType::R => ValueCheck::Decimal,
                    DataType::Dt => ValueCheck::Date,
                    DataType::Tm => ValueCheck::Time,
                    DataType::B => ValueCheck::Binary,
                    DataType::Composite => ValueCheck::Exact,
                };
                ElementPlan {
                    check,
                    min: u32::try_from(el.min).unwrap_or(u32::MAX),
                    max: match el.max {
                        0 => u32::MAX,
                        m => u32::try_from(m).unwrap_or(u32::MAX),
                    },
                }
            })
            .collect();
        let adjacent = |r: &SyntaxRule| match r {
            SyntaxRule::Paired(ps) => matches!(ps[..], [a, b] if b == a + 1 && bit(a) != 0 && bit(b) != 0),
            _ => false,
        };
        let adjacent_pairs = rules.iter().filter(|r| adjacent(r)).fold(0, |m, r| match r {
            SyntaxRule::Paired(ps) => m | bit(ps[0]),
            _ => m,
        });
        let required = rules
            .iter()
            .filter_map(|r| match r {
                SyntaxRule::Required(ps) => Some(mask(ps)),
                _ => None,
            })
            .collect();
        let rules: Vec<RuleMask> = rules
            .iter()
            .filter(|r| !adjacent(r))
            .filter_map(|r| match r {
                SyntaxRule::Paired(ps) => Some(RuleMask::Paired(mask(ps))),
                SyntaxRule::Required(_) => None,
                SyntaxRule::Exclusion(ps) => Some(RuleMask::Exclusion(mask(ps))),
                SyntaxRule::Conditional(f, ps) => Some(RuleMask::Conditional(bit(*f), mask(ps))),
                SyntaxRule::ListConditional(f, ps) => Some(RuleMask::ListConditional(bit(*f), mask(ps))),
            })
            .collect();
        // Each note holds while its own trigger is absent.
        let triggers = rules.iter().fold(0, |t, r| match *r {
            RuleMask::Paired(m) | RuleMask::Exclusion(m) => t | m,
            RuleMask::Conditional(first, _) | RuleMask::ListConditional(first, _) => t | first,
        });
        Self {
            usable: true,
            mandatory: elements
                .iter()
                .enumerate()
                .filter(|(_, el)| el.req == Req::M)
                .fold(0, |m, (i, _)| m | (1 << i)),
            elements: plans,
            adjacent_pairs,
            required,
            triggers,
            rules,
        }
    }
}

#[derive(Deserialize)]
struct RawSegment {
    name: String,
    #[serde(default)]
    rules: Vec<String>,
    elements: Vec<ElementDef>,
}

#[derive(Deserialize)]
struct RawDictionary {
    segments: BTreeMap<String, RawSegment>,
}

#[derive(Deserialize)]
struct RawSet {
    id: String,
    version: String,
    functional_group: String,
    name: String,
    structure: String,
}

/// A position in a set's structure.
#[derive(Debug, Clone)]
pub enum Node {
    /// A segment position.
    Segment {
        /// Segment id.
        id: String,
        /// Usage.
        req: Req,
        /// Maximum use.
        max: usize,
        /// The id packed for fast comparison ([`segment_key`]).
        key: u32,
        /// Its dictionary entry (filled when the set is loaded).
        def: Option<Arc<SegmentDef>>,
    },
    /// A loop; its first child is the trigger segment.
    Loop {
        /// Loop identifier (`N1`, `PO1`, `2000`).
        id: String,
        /// Usage.
        req: Req,
        /// Maximum repeats.
        max: usize,
        /// Contents.
        children: Vec<Node>,
        /// `children`'s keys, contiguous for a fast forward search.
        child_keys: Vec<u32>,
        /// Indexes of the mandatory children (ST and SE excluded: the envelope checks those).
        child_required: Vec<u32>,
        /// Key of the trigger segment.
        key: u32,
        /// The forward search over `children` (filled when the set is loaded).
        child_table: LevelTable,
    },
}

/// Marks "no such segment" or "no such position" in the tables below.
pub const NONE: u16 = u16::MAX;

/// A set's segment ids numbered `0..len`, looked up by packed key ([`segment_key`]).
///
/// Open addressing at most half full: a lookup is one multiply and, nearly
/// always, one probe.
#[derive(Debug, Clone, Default)]
pub struct SegmentIndex {
    /// `(key, number)`; an empty slot holds number [`NONE`].
    slots: Box<[(u32, u16)]>,
    bits: u32,
    len: usize,
}

impl SegmentIndex {
    /// Numbers the distinct keys in order of first appearance; `None` past [`NONE`] ids.
    fn of(keys: impl IntoIterator<Item = u32>) -> Option<Self> {
        let mut distinct: Vec<u32> = Vec::new();
        for k in keys {
            if !distinct.contains(&k) {
                distinct.push(k);
            }
        }
        if distinct.len() >= usize::from(NONE) {
            return None;
        }
        let bits = (distinct.len() * 2 + 1).next_power_of_two().trailing_zeros().max(1);
        let mut index = Self {
            slots: vec![(0, NONE); 1 << bits].into_boxed_slice(),
            bits,
            len: distinct.len(),
        };
        for (n, &k) in distinct.iter().enumerate() {
            let mut h = index.hash(k);
            while index.slots[h].1 != NONE {
                h = (h + 1) & (index.slots.len() - 1);
            }
            index.slots[h] = (k, n as u16);
        }
        Some(index)
    }

    #[inline]
    fn hash(&self, key: u32) -> usize {
        (key.wrapping_mul(0x9E37_79B1) >> (32 - self.bits)) as usize
    }

    /// The number of a key, [`NONE`] when the set does not use it.
    #[inline]
    pub fn get(&self, key: u32) -> u16 {
        let mask = self.slots.len().wrapping_sub(1);
        let mut h = self.hash(key) & mask;
        while let Some(&(k, n)) = self.slots.get(h) {
            if n == NONE || k == key {
                return n;
            }
            h = (h + 1) & mask;
        }
        NONE
    }

    /// How many ids are numbered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no id is numbered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One structure level's forward search and mandatory positions, precomputed.
#[derive(Debug, Clone, Default)]
pub struct LevelTable {
    /// Columns: the set's [`SegmentIndex`] length.
    width: usize,
    /// `first[p * width + s]`: the first position at or after `p` holding segment
    /// `s`, or [`NONE`]. In a loop, row 0 is row 1: the trigger again is a new
    /// iteration, found by the parent level.
    first: Box<[u16]>,
    /// `next_required[p]`: the first mandatory position at or after `p` (ST and SE
    /// excluded), or the level's length; one entry per position plus one.
    next_required: Box<[u16]>,
}

impl LevelTable {
    /// The table of a level with these keys and mandatory positions; `None` past [`NONE`] positions.
    fn new(keys: &[u32], required: &[u32], index: &SegmentIndex, is_loop: bool) -> Option<Self> {
        let (n, width) = (keys.len(), index.len());
        let len = u16::try_from(n).ok().filter(|&l| l != NONE)?;
        let mut first = vec![NONE; n * width];
        let mut next = vec![NONE; width];
        for p in (0..n).rev() {
            if let Some(slot) = next.get_mut(usize::from(index.get(keys[p]))) {
                *slot = p as u16;
            }
            first[p * width..(p + 1) * width].copy_from_slice(&next);
        }
        if is_loop {
            let row1 = if n > 1 {
                first[width..2 * width].to_vec()
            } else {
                vec![NONE; width]
            };
            first[..width].copy_from_slice(&row1);
        }
        let mut next_required = vec![len; n + 1];
        for p in (0..n).rev() {
            next_required[p] = if required.contains(&(p as u32)) {
                p as u16
            } else {
                next_required[p + 1]
            };
        }
        Some(Self {
            width,
            first: first.into_boxed_slice(),
            next_required: next_required.into_boxed_slice(),
        })
    }

    /// Where segment number `seg` fits, looking forward from position `cur`.
    #[inline]
    pub fn find(&self, cur: usize, seg: u16) -> Option<usize> {
        match self.first.get(cur * self.width + usize::from(seg)) {
            Some(&p) if p != NONE => Some(usize::from(p)),
            _ => None,
        }
    }

    /// The first mandatory position at or after `from`, or the level's length (or more).
    #[inline]
    pub fn next_required(&self, from: usize) -> usize {
        self.next_required.get(from).map_or(usize::MAX, |&p| usize::from(p))
    }
}

/// Fills every loop's [`LevelTable`]; `None` when a level is too large to index.
fn compile_levels(nodes: &mut [Node], index: &SegmentIndex) -> Option<()> {
    for n in nodes {
        if let Node::Loop {
            children,
            child_keys,
            child_required,
            child_table,
            ..
        } = n
        {
            *child_table = LevelTable::new(child_keys, child_required, index, true)?;
            compile_levels(children, index)?;
        }
    }
    Some(())
}

fn collect_keys(nodes: &[Node], out: &mut Vec<u32>) {
    for n in nodes {
        match n {
            Node::Segment { key, .. } => out.push(*key),
            Node::Loop { children, .. } => collect_keys(children, out),
        }
    }
}

/// Indexes of the mandatory positions of a level, except ST and SE.
fn required_positions(nodes: &[Node]) -> Vec<u32> {
    (0..nodes.len())
        .filter(|&i| nodes[i].req() == Req::M && !matches!(nodes[i].trigger(), "ST" | "SE"))
        .map(|i| i as u32)
        .collect()
}

/// A segment id packed into a `u32` (ids are two or three bytes); longer ids get a key no schema uses.
pub fn segment_key(id: &[u8]) -> u32 {
    match id.len() {
        1..=3 => id.iter().fold(0u32, |k, b| (k << 8) | u32::from(*b)),
        _ => u32::MAX,
    }
}

/// Fills each segment position's dictionary entry.
fn attach_definitions(nodes: &mut [Node], dictionary: &HashMap<String, Arc<SegmentDef>>) {
    for n in nodes {
        match n {
            Node::Segment { id, def, .. } => *def = dictionary.get(id.as_str()).cloned(),
            Node::Loop { children, .. } => attach_definitions(children, dictionary),
        }
    }
}

impl Node {
    /// Segment id of the position, or of the loop's trigger.
    pub fn trigger(&self) -> &str {
        match self {
            Node::Segment { id, .. } => id,
            Node::Loop { children, .. } => children.first().map(Node::trigger).unwrap_or(""),
        }
    }

    /// Packed id of the position, or of the loop's trigger.
    pub fn key(&self) -> u32 {
        match self {
            Node::Segment { key, .. } | Node::Loop { key, .. } => *key,
        }
    }

    /// Usage.
    pub fn req(&self) -> Req {
        match self {
            Node::Segment { req, .. } | Node::Loop { req, .. } => *req,
        }
    }

    /// Maximum use or repeats.
    pub fn max(&self) -> usize {
        match self {
            Node::Segment { max, .. } | Node::Loop { max, .. } => *max,
        }
    }
}

/// A transaction set's definition for one version.
#[derive(Debug, Clone)]
pub struct SetSchema {
    /// ST01 (`850`).
    pub id: String,
    /// Version (`004010`).
    pub version: String,
    /// GS01 of groups carrying it.
    pub functional_group: String,
    /// Name.
    pub name: String,
    /// Top-level positions, ST first, SE last.
    pub structure: Vec<Node>,
    /// `structure`'s keys.
    pub structure_keys: Vec<u32>,
    /// Indexes of the mandatory top-level positions other than ST and SE.
    pub structure_required: Vec<u32>,
    /// The set's segment ids, numbered for the [`LevelTable`]s.
    pub index: SegmentIndex,
    /// The forward search over `structure`.
    pub structure_table: LevelTable,
    /// Ids used anywhere in the structure.
    pub segment_ids: HashSet<String>,
    /// True when HL is one of them (the validator then checks HL numbering).
    pub has_hierarchy: bool,
    dictionary: Arc<HashMap<String, Arc<SegmentDef>>>,
}

impl SetSchema {
    /// The dictionary entry of a segment id.
    pub fn segment(&self, id: &str) -> Option<&SegmentDef> {
        self.dictionary.get(id).map(|d| d.as_ref())
    }
}

/// All schemas, by version and set id.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    sets: HashMap<String, HashMap<String, Arc<SetSchema>>>,
    /// The same schemas keyed by packed version and set id ([`pack_code`]): a short
    /// linear search beats hashing two strings once per set.
    packed: Vec<(u64, u64, Arc<SetSchema>)>,
    known_segments: HashSet<String>,
}

impl Registry {
    /// Loads every version folder under `dir` (e.g. `mappings/x12`).
    pub fn load(dir: &Path) -> Result<Self, SchemaError> {
        let mut reg = Registry::default();
        let mut versions: Vec<_> = read_dir(dir)?.into_iter().filter(|p| p.is_dir()).collect();
        versions.sort();
        for vdir in versions {
            let dict_path = vdir.join("segments.toml");
            let dict: RawDictionary = parse_toml(&dict_path)?;
            let mut dictionary = HashMap::new();
            for (id, raw) in dict.segments {
                let mut rules = Vec::new();
                for r in &raw.rules {
                    rules.push(SyntaxRule::parse(r).ok_or_else(|| invalid(&dict_path, format!("segment {id}: bad rule {r}")))?);
                }
                reg.known_segments.insert(id.clone());
                let mut elements = raw.elements;
                elements.iter_mut().for_each(ElementDef::sort_codes);
                let plan = SegmentPlan::compile(&elements, &rules);
                dictionary.insert(
                    id.clone(),
                    Arc::new(SegmentDef {
                        id,
                        name: raw.name,
                        elements,
                        rules,
                        plan,
                    }),
                );
            }
            let dictionary = Arc::new(dictionary);
            let mut files: Vec<_> = read_dir(&vdir)?;
            files.sort();
            for path in files {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                if path.extension().and_then(|e| e.to_str()) != Some("toml") || stem == "segments" {
                    continue;
                }
                let raw: RawSet = parse_toml(&path)?;
                let mut structure = parse_structure(&raw.structure).map_err(|m| invalid(&path, m))?;
                attach_definitions(&mut structure, &dictionary);
                let too_large = || invalid(&path, "structure too large to index".to_string());
                let mut keys = Vec::new();
                collect_keys(&structure, &mut keys);
                let index = SegmentIndex::of(keys).ok_or_else(too_large)?;
                compile_levels(&mut structure, &index).ok_or_else(too_large)?;
                let structure_keys: Vec<u32> = structure.iter().map(Node::key).collect();
                let structure_required = required_positions(&structure);
                let structure_table = LevelTable::new(&structure_keys, &structure_required, &index, false).ok_or_else(too_large)?;
                let mut segment_ids = HashSet::new();
                collect_ids(&structure, &mut segment_ids);
                for id in &segment_ids {
                    if !dictionary.contains_key(id) {
                        return Err(invalid(&path, format!("segment {id} is not in {}", dict_path.display())));
                    }
                }
                let schema = SetSchema {
                    id: raw.id.clone(),
                    version: raw.version.clone(),
                    functional_group: raw.functional_group,
                    name: raw.name,
                    structure_keys,
                    structure_required,
                    index,
                    structure_table,
                    structure,
                    has_hierarchy: segment_ids.contains("HL"),
                    segment_ids,
                    dictionary: dictionary.clone(),
                };
                let schema = Arc::new(schema);
                if let (Some(v), Some(id)) = (pack_code(raw.version.as_bytes()), pack_code(raw.id.as_bytes())) {
                    reg.packed.retain(|(pv, pid, _)| (*pv, *pid) != (v, id));
                    reg.packed.push((v, id, schema.clone()));
                }
                reg.sets.entry(raw.version).or_default().insert(raw.id, schema);
            }
        }
        Ok(reg)
    }

    /// The schema for a set id in a version (GS08; only its first six characters count).
    pub fn get(&self, version: &str, set: &str) -> Option<Arc<SetSchema>> {
        let base = version.get(..6).unwrap_or(version);
        if let (Some(v), Some(id)) = (pack_code(base.as_bytes()), pack_code(set.as_bytes())) {
            if let Some((_, _, schema)) = self.packed.iter().find(|(pv, pid, _)| *pv == v && *pid == id) {
                return Some(schema.clone());
            }
        }
        self.sets.get(base)?.get(set).cloned()
    }

    /// True when any schema exists for the version (GS08).
    pub fn has_version(&self, version: &str) -> bool {
        let base = version.get(..6).unwrap_or(version);
        self.sets.contains_key(base)
    }

    /// True when the id is a segment of any loaded dictionary, or an envelope segment.
    pub fn is_known_segment(&self, id: &str) -> bool {
        self.known_segments.contains(id) || matches!(id, "ISA" | "IEA" | "GS" | "GE" | "TA1")
    }

    /// Loaded (version, set) pairs, sorted.
    pub fn sets(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self
            .sets
            .iter()
            .flat_map(|(v, s)| s.keys().map(move |k| (v.clone(), k.clone())))
            .collect();
        v.sort();
        v
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::path::PathBuf>, SchemaError> {
    let io = |source| SchemaError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()).map_err(io))
        .collect()
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SchemaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| invalid(path, e.to_string()))
}

fn invalid(path: &Path, message: String) -> SchemaError {
    SchemaError::Invalid {
        path: path.display().to_string(),
        message,
    }
}

fn collect_ids(nodes: &[Node], out: &mut HashSet<String>) {
    for n in nodes {
        match n {
            Node::Segment { id, .. } => {
                out.insert(id.clone());
            }
            Node::Loop { children, .. } => collect_ids(children, out),
        }
    }
}

/// Parses the indented structure table: `ID REQ MAX` or `LOOP ID REQ MAX`.
pub fn parse_structure(text: &str) -> Result<Vec<Node>, String> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim_end();
        if content.trim().is_empty() {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        if indent % 2 != 0 {
            return Err(format!("structure line {}: indentation must be a multiple of two", n + 1));
        }
        lines.push((n + 1, indent / 2, content.trim()));
    }
    let mut pos = 0;
    let nodes = parse_level(&lines, &mut pos, 0)?;
    if pos != lines.len() {
        return Err(format!("structure line {}: unexpected indentation", lines[pos].0));
    }
    Ok(nodes)
}

fn parse_level(lines: &[(usize, usize, &str)], pos: &mut usize, depth: usize) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::new();
    while *pos < lines.len() {
        let (line_no, indent, text) = lines[*pos];
        if indent < depth {
            break;
        }
        if indent > depth {
            return Err(format!("structure line {line_no}: unexpected indentation"));
        }
        *pos += 1;
        let words: Vec<&str> = text.split_whitespace().collect();
        let (is_loop, rest) = match words.first() {
            Some(&"LOOP") => (true, &words[1..]),
            _ => (false, &words[..]),
        };
        let [id, req, max] = rest else {
            return Err(format!("structure line {line_no}: expected [LOOP] ID REQ MAX"));
        };
        let req = match *req {
            "M" => Req::M,
            "O" => Req::O,
            "X" => Req::X,
            other => return Err(format!("structure line {line_no}: usage {other}")),
        };
        let max = if *max == ">1" {
            usize::MAX
        } else {
            max.parse().map_err(|_| format!("structure line {line_no}: max {max}"))?
        };
        if is_loop {
            let children = parse_level(lines, pos, depth + 1)?;
            if children.is_empty() {
                return Err(format!("structure line {line_no}: empty loop {id}"));
            }
            let key = children[0].key();
            let child_keys: Vec<u32> = children.iter().map(Node::key).collect();
            nodes.push(Node::Loop {
                id: id.to_string(),
                req,
                max,
                child_keys,
                child_required: required_positions(&children),
                children,
                key,
                child_table: LevelTable::default(),
            });
        } else {
            nodes.push(Node::Segment {
                id: id.to_string(),
                req,
                max,
                key: segment_key(id.as_bytes()),
                def: None,
            });
        }
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_nests_by_indentation() {
        let s = parse_structure("ST M 1\nLOOP N1 O 200\n  N1 O 1\n  LOOP X M >1\n    X M 1\n  N3 O 2\nSE M 1\n").unwrap();
        assert_eq!(s.len(), 3);
        let Node::Loop { children, max, .. } = &s[1] else { panic!() };
        assert_eq!(*max, 200);
        assert_eq!(children.len(), 3);
        assert_eq!(children[1].trigger(), "X");
        assert_eq!(children[1].max(), usize::MAX);
        assert!(parse_structure("ST M 1\n   N1 O 1").is_err());
        assert!(parse_structure("ST Q 1").is_err());
    }

    #[test]
    fn syntax_rules() {
        assert_eq!(SyntaxRule::parse("P0304"), Some(SyntaxRule::Paired(vec![3, 4])));
        assert_eq!(SyntaxRule::parse("C040506"), Some(SyntaxRule::Conditional(4, vec![5, 6])));
        assert_eq!(SyntaxRule::parse("Z0102"), None);
        assert_eq!(SyntaxRule::parse("P03"), None);
    }
}
