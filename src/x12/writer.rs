//! Writing X12: segments with any delimiters, and whole envelopes with their
//! counts and control numbers filled in.
//!
//! X12 has no escape character, so a value that contains one of the
//! interchange's delimiters cannot be written: that is an error, never a
//! silently corrupted file.

use std::io::Write;

use super::delimiters::Delimiters;
use super::tree::OwnedSegment;

/// Errors writing X12.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A value contains a delimiter of the interchange.
    #[error("{segment}{position:02}: value {value:?} contains the delimiter {delimiter:?}")]
    DelimiterInData {
        /// Segment id.
        segment: String,
        /// Element position.
        position: usize,
        /// The value.
        value: String,
        /// The delimiter found in it.
        delimiter: char,
    },
    /// An ISA field does not fit its fixed width.
    #[error("ISA{position:02} {value:?} is longer than {width}")]
    IsaField {
        /// Element position.
        position: usize,
        /// The value.
        value: String,
        /// Its width.
        width: usize,
    },
    /// The output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes segments with one set of delimiters.
pub struct Writer<W> {
    out: W,
    delimiters: Delimiters,
    newline: bool,
}

/// ISA element widths, ISA01…ISA16.
const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

impl<W: Write> Writer<W> {
    /// A writer; `newline` adds `\n` after every terminator (unless the terminator is one).
    pub fn new(out: W, delimiters: Delimiters, newline: bool) -> Self {
        Self { out, delimiters, newline }
    }

    /// The delimiters in use.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Writes one segment; trailing empty elements are dropped (except in the ISA).
    pub fn write(&mut self, seg: &OwnedSegment) -> Result<(), WriteError> {
        let d = self.delimiters;
        if seg.id == "ISA" {
            return self.write_isa(seg);
        }
        let last = seg.elements.iter().rposition(|e| e.iter().any(|r| r.iter().any(|c| !c.is_empty())));
        let count = last.map_or(0, |i| i + 1);
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(seg.id.as_bytes());
        for (i, e) in seg.elements[..count].iter().enumerate() {
            buf.push(d.element);
            for (ri, rep) in e.iter().enumerate() {
                if ri > 0 {
                    // Several repetitions need a repetition separator.
                    let r = d.repetition.ok_or_else(|| delimiter_error(seg, i, &rep.join(","), '^'))?;
                    buf.push(r);
                }
                let comps = rep.iter().rposition(|c| !c.is_empty()).map_or(1, |k| k + 1);
                for (ci, c) in rep[..comps.min(rep.len())].iter().enumerate() {
                    if ci > 0 {
                        buf.push(d.component);
                    }
                    self.check(seg, i, c)?;
                    buf.extend_from_slice(c.as_bytes());
                }
            }
        }
        self.end(&buf)
    }

    fn check(&self, seg: &OwnedSegment, i: usize, value: &str) -> Result<(), WriteError> {
        let d = self.delimiters;
        let mut all = vec![d.element, d.component, d.segment];
        all.extend(d.repetition);
        match value.bytes().find(|b| all.contains(b)) {
            Some(b) => Err(delimiter_error(seg, i, value, b as char)),
            None => Ok(()),
        }
    }

    fn write_isa(&mut self, seg: &OwnedSegment) -> Result<(), WriteError> {
        let d = self.delimiters;
        let mut buf = Vec::with_capacity(106);
        buf.extend_from_slice(b"ISA");
        for (i, width) in ISA_WIDTHS.iter().enumerate() {
            buf.push(d.element);
            let value = seg.text(i + 1);
            match i + 1 {
                11 => match d.repetition {
                    Some(r) => buf.push(r),
                    None => buf.extend_from_slice(if value.is_empty() { b"U" } else { value.as_bytes() }),
                },
                16 => buf.push(d.component),
                n => {
                    if value.len() > *width {
                        return Err(WriteError::IsaField {
                            position: n,
                            value: value.to_string(),
                            width: *width,
                        });
                    }
                    self.check(seg, i, value)?;
                    let numeric = matches!(n, 13);
                    if numeric {
                        buf.extend(std::iter::repeat_n(b'0', width - value.len()));
                        buf.extend_from_slice(value.as_bytes());
                    } else {
                        buf.extend_from_slice(value.as_bytes());
                        buf.extend(std::iter::repeat_n(b' ', width - value.len()));
                    }
                }
            }
        }
        self.end(&buf)
    }

    fn end(&mut self, buf: &[u8]) -> Result<(), WriteError> {
        self.out.write_all(buf)?;
        self.out.write_all(&[self.delimiters.segment])?;
        if self.newline && self.delimiters.segment != b'\n' && self.delimiters.segment != b'\r' {
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The underlying output.
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn delimiter_error(seg: &OwnedSegment, i: usize, value: &str, delimiter: char) -> WriteError {
    WriteError::DelimiterInData {
        segment: seg.id.clone(),
        position: i + 1,
        value: value.to_string(),
        delimiter,
    }
}

/// Sender and receiver of an outbound interchange, and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeParties {
    /// ISA05.
    pub sender_qualifier: String,
    /// ISA06 (unpadded).
    pub sender_id: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08 (unpadded).
    pub receiver_id: String,
    /// GS02.
    pub gs_sender: String,
    /// GS03.
    pub gs_receiver: String,
    /// ISA12, `00401` or `00501`.
    pub isa_version: String,
    /// ISA15, `P` or `T`.
    pub usage: String,
}

/// One functional group to write: GS01, GS08 and its sets (without ST/SE).
#[derive(Debug, Clone)]
pub struct OutboundGroup {
    /// GS01.
    pub functional_id: String,
    /// GS08.
    pub version: String,
    /// GS06.
    pub control_number: u64,
    /// Sets: (ST01, ST02, ST03, body segments between ST and SE).
    pub sets: Vec<OutboundSet>,
}

/// One transaction set to write.
#[derive(Debug, Clone)]
pub struct OutboundSet {
    /// ST01.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// ST03 (005010 on).
    pub implementation_reference: Option<String>,
    /// Segments between ST and SE.
    pub body: Vec<OwnedSegment>,
}

/// Writes a whole interchange: ISA, TA1s, groups with ST/SE/GE counts, IEA.
#[allow(clippy::too_many_arguments)]
pub fn write_interchange<W: Write>(
    w: &mut Writer<W>,
    parties: &EnvelopeParties,
    control_number: u64,
    date: &str,
    time: &str,
    ta1s: &[OwnedSegment],
    groups: &[OutboundGroup],
) -> Result<(), WriteError> {
    let date6 = date.get(2..8).unwrap_or(date);
    let isa = OwnedSegment::new("ISA")
        .el("00")
        .el("")
        .el("00")
        .el("")
        .el(parties.sender_qualifier.clone())
        .el(parties.sender_id.clone())
        .el(parties.receiver_qualifier.clone())
        .el(parties.receiver_id.clone())
        .el(date6)
        .el(time)
        .el("U")
        .el(parties.isa_version.clone())
        .el(format!("{control_number:09}"))
        .el("0")
        .el(parties.usage.clone())
        .el("");
    w.write(&isa)?;
    for t in ta1s {
        w.write(t)?;
    }
    for g in groups {
        w.write(
            &OwnedSegment::new("GS")
                .el(g.functional_id.clone())
                .el(parties.gs_sender.clone())
                .el(parties.gs_receiver.clone())
                .el(date)
                .el(time)
                .el(g.control_number.to_string())
                .el("X")
                .el(g.version.clone()),
        )?;
        for s in &g.sets {
            let mut st = OwnedSegment::new("ST").el(s.id.clone()).el(s.control_number.clone());
            if let Some(r) = &s.implementation_reference {
                st = st.el(r.clone());
            }
            w.write(&st)?;
            for seg in &s.body {
                w.write(seg)?;
            }
            w.write(
                &OwnedSegment::new("SE")
                    .el((s.body.len() + 2).to_string())
                    .el(s.control_number.clone()),
            )?;
        }
        w.write(
            &OwnedSegment::new("GE")
                .el(g.sets.len().to_string())
                .el(g.control_number.to_string()),
        )?;
    }
    w.write(
        &OwnedSegment::new("IEA")
            .el(groups.len().to_string())
            .el(format!("{control_number:09}")),
    )?;
    Ok(())
}
/// Current UTC date (CCYYMMDD) and time (HHMM).
pub fn now_utc() -> (String, String) {
    let secs = crate::calendar::unix_now_secs();
    let (y, m, d) = crate::calendar::civil_from_days(secs.div_euclid(crate::calendar::DAY_SECS));
    let rem = secs.rem_euclid(crate::calendar::DAY_SECS);
    (format!("{y:04}{m:02}{d:02}"), format!("{:02}{:02}", rem / 3600, (rem % 3600) / 60))
}
