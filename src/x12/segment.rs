//! Borrowed views of one segment, its elements and their components.
//!
//! Nothing here allocates: a [`Segment`] is a slice of the input plus the
//! interchange's delimiters, and elements are found on demand with `memchr`.

use super::delimiters::Delimiters;
use super::error::Position;

/// One segment as it appears in the input, without its terminator.
#[derive(Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
    position: Position,
}

impl<'a> Segment<'a> {
    /// A segment over `raw` (without terminator).
    pub fn new(raw: &'a [u8], delimiters: Delimiters, position: Position) -> Self {
        Self { raw, delimiters, position }
    }

    /// The segment's bytes, without terminator.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Delimiters of the interchange the segment belongs to.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Where the segment starts in the input.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The segment id (`ISA`, `BEG`, …), the bytes before the first element separator.
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        match find_byte(self.delimiters.element, self.raw) {
            Some(i) => &self.raw[..i],
            None => self.raw,
        }
    }

    /// The segment id as text (empty when it is not UTF-8).
    pub fn id_str(&self) -> &'a str {
        std::str::from_utf8(self.id()).unwrap_or("")
    }

    /// True when the id equals `id`.
    pub fn is(&self, id: &str) -> bool {
        self.id() == id.as_bytes()
    }

    /// The data elements after the id, in order (empty ones included).
    pub fn elements(&self) -> Elements<'a> {
        let id_len = self.id().len();
        let rest = if id_len < self.raw.len() {
            Some(&self.raw[id_len + 1..])
        } else {
            None
        };
        Elements {
            rest,
            delimiters: self.delimiters,
        }
    }

    /// Number of data elements after the id (trailing empty ones included).
    pub fn element_count(&self) -> usize {
        memchr::memchr_iter(self.delimiters.element, self.raw).count()
    }

    /// Element `n`, 1-based as in `BEG03`; `None` when absent.
    pub fn element(&self, n: usize) -> Option<Element<'a>> {
        if n == 0 {
            return None;
        }
        self.elements().nth(n - 1)
    }

    /// Element `n` as bytes, empty when absent.
    #[inline]
    pub fn get(&self, n: usize) -> &'a [u8] {
        self.element(n).map(|e| e.raw()).unwrap_or(b"")
    }

    /// Element `n` as text, empty when absent or not UTF-8.
    #[inline]
    pub fn text(&self, n: usize) -> &'a str {
        std::str::from_utf8(self.get(n)).unwrap_or("")
    }

    /// The segment with its element boundaries found once, for random access.
    ///
    /// The same pass checks that the segment is ASCII (nearly always), so its
    /// text needs no separate UTF-8 validation; other segments are validated once.
    pub fn fields(&self) -> Fields<'a> {
        let sep = self.delimiters.element;
        let mut seps = [0u32; INDEXED];
        let mut count = 0;
        let mut more = false;
        // Eight bytes at a time (SWAR): mark the bytes equal to the separator, then
        // one step per separator found. High bits of all bytes seen collect in `high`.
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let pattern = u64::from_ne_bytes([sep; 8]);
        let mut high = 0u64;
        let mut push = |at: usize, count: &mut usize, more: &mut bool| {
            if *count == INDEXED {
                *more = true;
            } else {
                seps[*count] = at as u32;
                *count += 1;
            }
        };
        let mut chunks = self.raw.chunks_exact(8);
        let mut base = 0;
        for chunk in chunks.by_ref() {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            high |= word;
            let x = word ^ pattern;
            // High bit set exactly in the bytes of x that are zero.
            let mut zero = !(((x & LOW7) + LOW7) | x | LOW7);
            while zero != 0 {
                push(base + (zero.trailing_zeros() / 8) as usize, &mut count, &mut more);
                zero &= zero - 1;
            }
            if more {
                break;
            }
            base += 8;
        }
        if !more {
            for (i, &b) in chunks.remainder().iter().enumerate() {
                high |= u64::from(b);
                if b == sep {
                    push(base + i, &mut count, &mut more);
                }
            }
        }
        // Slicing valid UTF-8 at an ASCII separator always lands on a char boundary.
        let utf8 = if !sep.is_ascii() {
            None
        } else if !more && high & !LOW7 == 0 {
            // SAFETY: the loops above saw every byte of `raw` (`more` is false, so
            // neither stopped early) and none has its high bit set: `raw` is
            // ASCII, which is valid UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(self.raw) })
        } else {
            std::str::from_utf8(self.raw).ok()
        };
        Fields {
            seg: *self,
            utf8,
            seps,
            // At most INDEXED.
            count: count as u8,
            more,
        }
    }
}

/// Elements a [`Fields`] indexes; later ones are found by scanning. Sixteen
/// cover nearly every segment a mapping reads, and keep a [`Fields`] small
/// enough to be copied without a `memcpy` call.
const INDEXED: usize = 16;

/// `memchr` pays a set-up cost that short elements never win back.
#[inline]
fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    if haystack.len() < 64 {
        haystack.iter().position(|&b| b == needle)
    } else {
        memchr::memchr(needle, haystack)
    }
}

/// A segment whose element separators were located once: element `n` is
/// found in constant time and its text needs no further UTF-8 check.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    seg: Segment<'a>,
    utf8: Option<&'a str>,
    seps: [u32; INDEXED],
    /// Separators indexed, at most [`INDEXED`].
    count: u8,
    more: bool,
}

impl<'a> Fields<'a> {
    /// The underlying segment.
    pub fn segment(&self) -> &Segment<'a> {
        &self.seg
    }

    /// The segment id.
    #[inline]
    pub fn id(&self) -> &'a [u8] {
        match self.count {
            0 if !self.more => self.seg.raw,
            _ => &self.seg.raw[..self.seps[0] as usize],
        }
    }

    /// True when the id equals `id`.
    pub fn is(&self, id: &str) -> bool {
        self.id() == id.as_bytes()
    }

    #[inline]
    fn range(&self, n: usize) -> Option<std::ops::Range<usize>> {
        let count = usize::from(self.count);
        if n == 0 || n > count {
            return None;
        }
        let start = self.seps[n - 1] as usize + 1;
        let end = if n < count {
            self.seps[n] as usize
        } else if !self.more {
            self.seg.raw.len()
        } else {
            return None;
        };
        Some(start..end)
    }

    /// Element `n` (1-based) as bytes, empty when absent.
    #[inline]
    pub fn get(&self, n: usize) -> &'a [u8] {
        match self.range(n) {
            Some(r) => &self.seg.raw[r],
            None if self.more && n >= usize::from(self.count) => self.seg.get(n),
            None => b"",
        }
    }

    /// Element `n` as text, empty when absent or not UTF-8.
    #[inline]
    pub fn text(&self, n: usize) -> &'a str {
        match (self.utf8, self.range(n)) {
            (Some(s), Some(r)) => s.get(r).unwrap_or(""),
            _ => std::str::from_utf8(self.get(n)).unwrap_or(""),
        }
    }

    /// Number of data elements after the id (trailing empty ones included).
    #[inline]
    pub fn len(&self) -> usize {
        if self.more {
            self.seg.element_count()
        } else {
            usize::from(self.count)
        }
    }

    /// True when the segment has no data elements.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl std::fmt::Debug for Segment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("raw", &String::from_utf8_lossy(self.raw))
            .field("position", &self.position)
            .finish()
    }
}

/// Iterator over a segment's data elements.
#[derive(Clone)]
pub struct Elements<'a> {
    rest: Option<&'a [u8]>,
    delimiters: Delimiters,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let rest = self.rest?;
        let (raw, next) = match find_byte(self.delimiters.element, rest) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        self.rest = next;
        Some(Element {
            raw,
            delimiters: self.delimiters,
        })
    }
}

/// One data element: simple, composite or repeated.
#[derive(Clone, Copy)]
pub struct Element<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
}

impl<'a> Element<'a> {
    /// The element's bytes as they appear in the segment.
    #[inline]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The element as text, `None` when it is not UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.raw).ok()
    }

    /// True when the element is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Repetitions of the element (one when the interchange has no repetition separator).
    pub fn repetitions(&self) -> impl Iterator<Item = Element<'a>> + 'a {
        let d = self.delimiters;
        let parts: Box<dyn Iterator<Item = &'a [u8]> + 'a> = match d.repetition {
            Some(r) => Box::new(self.raw.split(move |b| *b == r)),
            None => Box::new(std::iter::once(self.raw)),
        };
        parts.map(move |raw| Element { raw, delimiters: d })
    }

    /// Components of the element, split on the component separator.
    pub fn components(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let c = self.delimiters.component;
        self.raw.split(move |b| *b == c)
    }
}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element({:?})", String::from_utf8_lossy(self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(raw: &[u8]) -> Segment<'_> {
        let d = Delimiters {
            repetition: Some(b'^'),
            ..Delimiters::default()
        };
        Segment::new(raw, d, Position::default())
    }

    #[test]
    fn elements_are_one_based_and_keep_empties() {
        let s = seg(b"PO1*1*24*EA*16.00**VP*BP-4471");
        assert_eq!(s.id(), b"PO1");
        assert_eq!(s.text(1), "1");
        assert_eq!(s.text(5), "");
        assert_eq!(s.text(7), "BP-4471");
        assert!(s.element(8).is_none());
        assert_eq!(s.element_count(), 7);
    }

    #[test]
    fn components_and_repetitions() {
        let s = seg(b"AK4*2>1*355*7*ea^X");
        let e = s.element(1).unwrap();
        assert_eq!(e.components().collect::<Vec<_>>(), vec![&b"2"[..], b"1"]);
        let reps: Vec<_> = s.element(4).unwrap().repetitions().map(|e| e.raw()).collect();
        assert_eq!(reps, vec![&b"ea"[..], b"X"]);
    }

    #[test]
    fn fields_match_elements_past_the_index() {
        let raw: Vec<u8> = (0..60).fold(b"REF".to_vec(), |mut v, i| {
            v.push(b'*');
            v.extend(i.to_string().bytes());
            v
        });
        let s = seg(&raw);
        let f = s.fields();
        assert_eq!(f.id(), b"REF");
        assert_eq!(f.len(), 60);
        for n in 0..=62 {
            assert_eq!(f.get(n), s.get(n), "element {n}");
            assert_eq!(f.text(n), s.text(n), "element {n}");
        }
        let short = seg(b"N4*Dayton*OH*45402");
        let f = short.fields();
        assert_eq!((f.text(1), f.text(3), f.text(4), f.len()), ("Dayton", "45402", "", 3));
        let bare = seg(b"LS");
        assert_eq!((bare.fields().id(), bare.fields().len()), (&b"LS"[..], 0));
    }

    #[test]
    fn fields_text_of_non_ascii_segments() {
        // Multi-byte characters before, inside and after the first eight bytes.
        let s = seg("N1*ÉCOLE*Zürich Straße 12*92*Ω".as_bytes());
        let f = s.fields();
        assert_eq!((f.text(1), f.text(2), f.text(4)), ("ÉCOLE", "Zürich Straße 12", "Ω"));
        // Not UTF-8: the element holding the bad byte reads as empty, as `Segment::text` does.
        let bad = seg(b"N1*ST*AB\xffCD*92*0012");
        let f = bad.fields();
        for n in 0..=5 {
            assert_eq!(f.text(n), bad.text(n), "element {n}");
        }
        let tail = seg(b"N3*AB\xc3");
        assert_eq!(tail.fields().text(1), tail.text(1));
    }

    #[test]
    fn segment_without_elements() {
        let s = seg(b"LS");
        assert_eq!(s.id(), b"LS");
        assert_eq!(s.elements().count(), 0);
        assert_eq!(s.element_count(), 0);
    }
}
