//! Segment tokenizer: the bytes of a file in, one [`Segment`] at a time out.
//!
//! [`Tokenizer`] borrows a whole buffer and hands out segments that borrow
//! from it (zero-copy). [`Reader`] does the same over any [`std::io::Read`]
//! with a bounded buffer, so a 1 GB file is read in constant memory. Both
//! drive the same state machine, [`Cursor`]:
//!
//! * at every `ISA` the delimiters are read anew, so several interchanges with
//!   different delimiters may follow each other;
//! * CR, LF, spaces and tabs between segments are skipped, except the byte
//!   that is itself the segment terminator (LF and CR terminators exist);
//! * bytes that are not an `ISA` where one is expected are reported once, with
//!   their offset, and skipped up to the next `ISA`.

use std::io::Read;

use super::delimiters::{scan_isa, Delimiters, IsaScan};
use super::error::{Position, SyntaxError, SyntaxErrorKind};
use super::segment::Segment;

/// Longest segment [`Reader`] buffers before reporting an error.
pub const DEFAULT_MAX_SEGMENT: usize = 4 << 20;

/// The tokenizer's state between two segments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cursor {
    delimiters: Option<Delimiters>,
    /// Segments returned so far.
    segments: u64,
    /// After unreadable bytes: skipping to the next `ISA`.
    resyncing: bool,
    /// A segment was too long to buffer: drop bytes up to its terminator.
    skip_segment: bool,
    /// The last segment was an IEA: the next interchange brings its own delimiters.
    after_iea: bool,
}

/// One step of the state machine over `buf`, which starts at absolute `base`.
enum Step {
    /// A segment spans `buf[start..end]`; the next one starts at `next`.
    Segment { start: usize, end: usize, next: usize },
    /// Nothing is complete; more input is needed.
    NeedMore,
    /// The input is exhausted.
    End,
    /// Bytes to pass over without output.
    Skip { next: usize },
    /// Unreadable bytes at `at`; the cursor skips to the next `ISA` from `at + 1`.
    Error { kind: SyntaxErrorKind, at: usize },
}

#[inline]
fn is_filler(b: u8, terminator: Option<u8>) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0) && Some(b) != terminator
}

impl Cursor {
    fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        if self.after_iea {
            self.after_iea = false;
            self.delimiters = None;
        }
        if self.skip_segment {
            let term = self.delimiters.map(|d| d.segment).unwrap_or(b'~');
            match memchr::memchr(term, buf) {
                Some(i) => {
                    self.skip_segment = false;
                    return Step::Skip { next: i + 1 };
                }
                None if eof && buf.is_empty() => return Step::End,
                None if buf.is_empty() => return Step::NeedMore,
                None => return Step::Skip { next: buf.len() },
            }
        }
        if self.resyncing {
            match memchr::memmem::find(buf, b"ISA") {
                Some(0) => self.resyncing = false,
                Some(i) => {
                    self.resyncing = false;
                    return Step::Skip { next: i };
                }
                None if eof && buf.is_empty() => return Step::End,
                None if eof => return Step::Skip { next: buf.len() },
                // Keep two bytes: they may begin an "ISA" split across reads.
                None if buf.len() > 2 => return Step::Skip { next: buf.len() - 2 },
                None => return Step::NeedMore,
            }
        }
        let term = self.delimiters.map(|d| d.segment);
        let mut pos = 0;
        while pos < buf.len() && is_filler(buf[pos], term) {
            pos += 1;
        }
        // A byte-order mark may precede the first ISA.
        if self.segments == 0 && buf[pos..].starts_with(b"\xEF\xBB\xBF") {
            pos += 3;
        }
        if pos == buf.len() {
            return if eof { Step::End } else { Step::NeedMore };
        }
        // An empty segment (a blank line under an LF terminator, `~~`) carries nothing.
        if Some(buf[pos]) == term {
            return Step::Skip { next: pos + 1 };
        }
        let rest = &buf[pos..];
        if rest.len() < 3 && !eof && b"ISA".starts_with(rest) {
            return Step::NeedMore;
        }
        if rest.starts_with(b"ISA") {
            return match scan_isa(rest, eof) {
                IsaScan::NeedMore => Step::NeedMore,
                IsaScan::Invalid(kind) => {
                    self.resyncing = true;
                    Step::Error { kind, at: pos }
                }
                IsaScan::Found(layout) => {
                    self.delimiters = Some(layout.delimiters);
                    Step::Segment {
                        start: pos,
                        end: pos + layout.len - 1,
                        next: pos + layout.len,
                    }
                }
            };
        }
        let Some(d) = self.delimiters else {
            self.resyncing = true;
            return Step::Error {
                kind: SyntaxErrorKind::ExpectedIsa,
                at: pos,
            };
        };
        match memchr::memchr(d.segment, rest) {
            Some(i) => {
                let mut end = pos + i;
                // An LF terminator after CRLF-writing tools leaves a CR behind.
                if d.segment == b'\n' && end > pos && buf[end - 1] == b'\r' {
                    end -= 1;
                }
                self.after_iea = rest.starts_with(b"IEA");
                Step::Segment {
                    start: pos,
                    end,
                    next: pos + i + 1,
                }
            }
            None if eof => {
                // The last segment may lack its terminator; trailing filler is not a segment.
                let mut end = buf.len();
                while end > pos && is_filler(buf[end - 1], None) {
                    end -= 1;
                }
                Step::Segment {
                    start: pos,
                    end,
                    next: buf.len(),
                }
            }
            None => Step::NeedMore,
        }
    }
}

/// Zero-copy tokenizer over a buffer holding whole interchanges.
#[derive(Debug, Clone)]
pub struct Tokenizer<'a> {
    data: &'a [u8],
    pos: usize,
    cursor: Cursor,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            cursor: Cursor::default(),
        }
    }

    /// Byte offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Result<Segment<'a>, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let buf = &self.data[self.pos..];
            let base = self.pos;
            return match self.cursor.step(buf, true) {
                Step::End | Step::NeedMore => None,
                Step::Skip { next } => {
                    self.pos = base + next;
                    continue;
                }
                Step::Segment { start, end, next } => {
                    self.pos = base + next;
                    self.cursor.segments += 1;
                    let position = Position {
                        offset: (base + start) as u64,
                        segment: self.cursor.segments,
                    };
                    let d = self.cursor.delimiters.unwrap_or_default();
                    Some(Ok(Segment::new(&buf[start..end], d, position)))
                }
                Step::Error { kind, at } => {
                    self.pos = base + at + 1;
                    Some(Err(SyntaxError {
                        kind,
                        position: Position {
                            offset: (base + at) as u64,
                            segment: self.cursor.segments + 1,
                        },
                    }))
                }
            };
        }
    }
}

/// Streaming tokenizer over any reader, in bounded memory.
pub struct Reader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    cursor: Cursor,
    max_segment: usize,
}

impl<R: Read> Reader<R> {
    /// A reader with a 64 KiB initial buffer and [`DEFAULT_MAX_SEGMENT`].
    pub fn new(src: R) -> Self {
        Self::with_limits(src, 64 << 10, DEFAULT_MAX_SEGMENT)
    }

    /// A reader with the given initial buffer size and segment-length limit.
    pub fn with_limits(src: R, buffer: usize, max_segment: usize) -> Self {
        Self {
            src,
            buf: vec![0; buffer.max(512)],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            cursor: Cursor::default(),
            max_segment: max_segment.max(512),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next segment, an error for unreadable bytes, or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next_segment(&mut self) -> Option<Result<Segment<'_>, SyntaxError>> {
        loop {
            let window = &self.buf[self.start..self.end];
            match self.cursor.step(window, self.eof) {
                Step::End => return None,
                Step::Segment { start, end, next } => {
                    let abs = self.start;
                    self.start += next;
                    self.cursor.segments += 1;
                    let position = Position {
                        offset: self.base + (abs + start) as u64,
                        segment: self.cursor.segments,
                    };
                    let d = self.cursor.delimiters.unwrap_or_default();
                    return Some(Ok(Segment::new(&self.buf[abs + start..abs + end], d, position)));
                }
                Step::Skip { next } => self.start += next,
                Step::Error { kind, at } => {
                    let offset = self.base + (self.start + at) as u64;
                    self.start += at + 1;
                    return Some(Err(SyntaxError {
                        kind,
                        position: Position {
                            offset,
                            segment: self.cursor.segments + 1,
                        },
                    }));
                }
                Step::NeedMore => {
                    if let Err(e) = self.fill() {
                        return Some(Err(e));
                    }
                }
            }
        }
    }

    /// Makes room and reads more; sets `eof` when the source is exhausted.
    fn fill(&mut self) -> Result<(), SyntaxError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.max_segment {
                let err = SyntaxError {
                    kind: SyntaxErrorKind::SegmentTooLong(self.max_segment),
                    position: Position {
                        offset: self.base,
                        segment: self.cursor.segments + 1,
                    },
                };
                // Drop the oversized segment and resume after it.
                self.base += self.end as u64;
                self.end = 0;
                self.cursor.skip_segment = true;
                return Err(err);
            }
            let grown = (self.buf.len() * 2).min(self.max_segment);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(SyntaxError {
                        kind: SyntaxErrorKind::Io(e.to_string()),
                        position: Position {
                            offset: self.base + self.end as u64,
                            segment: self.cursor.segments + 1,
                        },
                    });
                }
            }
        }
    }
}

/// Something that yields segments: a [`Tokenizer`] or a [`Reader`].
pub trait SegmentSource {
    /// The next segment, a syntax error, or `None` at the end.
    fn next_segment(&mut self) -> Option<Result<Segment<'_>, SyntaxError>>;
}

impl SegmentSource for Tokenizer<'_> {
    fn next_segment(&mut self) -> Option<Result<Segment<'_>, SyntaxError>> {
        self.next()
    }
}

impl<R: Read> SegmentSource for Reader<R> {
    fn next_segment(&mut self) -> Option<Result<Segment<'_>, SyntaxError>> {
        Reader::next_segment(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240315*1200*U*00401*000000001*0*P*>~";

    fn ids_slice(data: &[u8]) -> Vec<String> {
        Tokenizer::new(data)
            .map(|r| match r {
                Ok(s) => String::from_utf8_lossy(s.raw()).into_owned(),
                Err(e) => format!("ERR {e}"),
            })
            .collect()
    }

    fn ids_stream(data: &[u8], chunk: usize) -> Vec<String> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = Reader::with_limits(Trickle(data, chunk), 512, 4096);
        let mut out = vec![];
        while let Some(s) = r.next_segment() {
            out.push(match s {
                Ok(s) => String::from_utf8_lossy(s.raw()).into_owned(),
                Err(e) => format!("ERR {e}"),
            });
        }
        out
    }

    fn both(data: &[u8]) -> Vec<String> {
        let a = ids_slice(data);
        for chunk in [1, 3, 7, 64, 100_000] {
            assert_eq!(ids_stream(data, chunk), a, "chunk {chunk}");
        }
        a
    }

    #[test]
    fn crlf_after_terminator_and_leading_space() {
        let data = format!("{ISA}\r\n  GS*PO*A*B~\r\nIEA*1*000000001~\r\n");
        let got = both(data.as_bytes());
        assert_eq!(got[1], "GS*PO*A*B");
        assert_eq!(got[2], "IEA*1*000000001");
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn newline_terminator_is_not_skipped_as_whitespace() {
        let isa = ISA.replace("~", "\n");
        let data = format!("{isa}GS*PO*A*B\nST*850*0001\r\n\nIEA*1*000000001");
        let got = both(data.as_bytes());
        assert_eq!(got, vec![&isa[..isa.len() - 1], "GS*PO*A*B", "ST*850*0001", "IEA*1*000000001"]);
    }

    #[test]
    fn several_interchanges_with_their_own_delimiters() {
        let second = "ISA|00|          |00|          |ZZ|NORTHWIND      |ZZ|TRADELANE      |240315|1200|^|00501|000000002|0|P|:!";
        let data = format!("{ISA}\nIEA*0*000000001~\n{second}TA1|1|2|3|A|000!IEA|0|000000002!");
        let got = both(data.as_bytes());
        assert_eq!(got[3], "TA1|1|2|3|A|000");
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn garbage_is_reported_once_and_skipped() {
        let data = format!("hello world\n{ISA}IEA*0*000000001~");
        let got = both(data.as_bytes());
        assert!(got[0].starts_with("ERR expected an ISA"), "{got:?}");
        assert_eq!(got.len(), 3);
        let positions: Vec<_> = Tokenizer::new(data.as_bytes()).map(|r| r.map(|s| s.position().offset)).collect();
        assert_eq!(positions[1], Ok(12));
    }

    #[test]
    fn oversized_segment_is_an_error_not_a_panic() {
        let data = format!("{ISA}NTE*{}~IEA*0*000000001~", "x".repeat(10_000));
        let got = ids_stream(data.as_bytes(), 4096);
        assert!(got.iter().any(|s| s.contains("segment longer")), "{got:?}");
    }
}
