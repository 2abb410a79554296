//! Delimiters of one interchange, read from its ISA header.
//!
//! The element separator is byte 3 of the ISA. The header is then walked
//! separator by separator (not by fixed offsets) so that an unpadded ISA still
//! yields the right component separator (ISA16) and segment terminator (the
//! byte after ISA16). The repetition separator (ISA11) is honoured only from
//! version 00402 on, and only when it is a real delimiter: partners send `U`
//! under 00501 too.

use super::error::SyntaxErrorKind;

/// The four X12 delimiters in force for one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// Element separator (ISA byte 3).
    pub element: u8,
    /// Component (sub-element) separator (ISA16).
    pub component: u8,
    /// Segment terminator (the byte after ISA16).
    pub segment: u8,
    /// Repetition separator (ISA11 from 00402 on), if any.
    pub repetition: Option<u8>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            element: b'*',
            component: b'>',
            segment: b'~',
            repetition: None,
        }
    }
}

/// What the ISA header says about delimiters, plus where it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IsaLayout {
    pub delimiters: Delimiters,
    /// Length of the ISA including its terminator (106 when well formed).
    pub len: usize,
}

/// Longest ISA we accept while searching for ISA16; a padded one is 106 bytes.
const ISA_SCAN_LIMIT: usize = 512;

pub(crate) enum IsaScan {
    Found(IsaLayout),
    /// The buffer ends before ISA16 and its terminator could be seen.
    NeedMore,
    Invalid(SyntaxErrorKind),
}

/// Reads the delimiters from a buffer starting at `ISA`.
pub(crate) fn scan_isa(buf: &[u8], eof: bool) -> IsaScan {
    if buf.len() < 4 {
        return if eof {
            IsaScan::Invalid(SyntaxErrorKind::TruncatedIsa)
        } else {
            IsaScan::NeedMore
        };
    }
    let element = buf[3];
    if element.is_ascii_alphanumeric() || element == b' ' {
        return IsaScan::Invalid(SyntaxErrorKind::InvalidElementSeparator(element));
    }
    let limit = buf.len().min(ISA_SCAN_LIMIT);
    let mut seen = 1usize;
    let mut i = 4;
    let mut isa11 = (0usize, 0usize);
    let mut isa12 = (0usize, 0usize);
    let mut field_start = 4;
    while i < limit {
        if buf[i] == element {
            seen += 1;
            match seen {
                12 => isa11 = (field_start, i),
                13 => isa12 = (field_start, i),
                _ => {}
            }
            field_start = i + 1;
            if seen == 16 {
                break;
            }
        }
        i += 1;
    }
    if seen < 16 {
        if buf.len() >= ISA_SCAN_LIMIT || eof {
            return IsaScan::Invalid(SyntaxErrorKind::TruncatedIsa);
        }
        return IsaScan::NeedMore;
    }
    // i is the 16th separator; ISA16 follows, then the terminator.
    if i + 2 >= buf.len() {
        return if eof {
            IsaScan::Invalid(SyntaxErrorKind::TruncatedIsa)
        } else {
            IsaScan::NeedMore
        };
    }
    let component = buf[i + 1];
    let segment = buf[i + 2];
    if component == element || component.is_ascii_alphanumeric() {
        return IsaScan::Invalid(SyntaxErrorKind::InvalidComponentSeparator(component));
    }
    if segment == element || segment == component || segment.is_ascii_alphanumeric() {
        return IsaScan::Invalid(SyntaxErrorKind::InvalidSegmentTerminator(segment));
    }
    let repetition = repetition_separator(&buf[isa11.0..isa11.1], &buf[isa12.0..isa12.1], [element, component, segment]);
    IsaScan::Found(IsaLayout {
        delimiters: Delimiters {
            element,
            component,
            segment,
            repetition,
        },
        len: i + 3,
    })
}

/// ISA11 is a repetition separator only from 00402 on, only when it is not
/// alphanumeric and only when it differs from the other delimiters.
fn repetition_separator(isa11: &[u8], isa12: &[u8], others: [u8; 3]) -> Option<u8> {
    let [c] = isa11 else { return None };
    let version_ok = isa12.len() == 5 && isa12.iter().all(u8::is_ascii_digit) && isa12 >= b"00402".as_slice();
    if version_ok && !c.is_ascii_alphanumeric() && *c != b' ' && !others.contains(c) {
        Some(*c)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA_4010: &[u8] = b"ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240315*1200*U*00401*000000001*0*P*>~";

    fn found(buf: &[u8]) -> IsaLayout {
        match scan_isa(buf, true) {
            IsaScan::Found(l) => l,
            IsaScan::NeedMore => panic!("need more"),
            IsaScan::Invalid(k) => panic!("invalid: {k:?}"),
        }
    }

    #[test]
    fn reads_standard_isa() {
        let l = found(ISA_4010);
        assert_eq!(l.len, 106);
        assert_eq!(
            l.delimiters,
            Delimiters {
                element: b'*',
                component: b'>',
                segment: b'~',
                repetition: None
            }
        );
    }

    #[test]
    fn repetition_only_from_00402_and_not_alphanumeric() {
        let v5 = b"ISA|00|          |00|          |ZZ|NORTHWIND      |ZZ|TRADELANE      |240315|1200|^|00501|000000001|0|P|:~";
        assert_eq!(found(v5).delimiters.repetition, Some(b'^'));
        let v5u = b"ISA|00|          |00|          |ZZ|NORTHWIND      |ZZ|TRADELANE      |240315|1200|U|00501|000000001|0|P|:~";
        assert_eq!(found(v5u).delimiters.repetition, None);
        let v4caret = b"ISA|00|          |00|          |ZZ|NORTHWIND      |ZZ|TRADELANE      |240315|1200|^|00401|000000001|0|P|:~";
        assert_eq!(found(v4caret).delimiters.repetition, None);
    }

    #[test]
    fn unpadded_isa_still_finds_isa16() {
        let l = found(b"ISA*00**00**ZZ*ACME*ZZ*TL*240315*1200*U*00401*000000001*0*P*>~GS");
        assert_eq!(l.delimiters.component, b'>');
        assert_eq!(l.delimiters.segment, b'~');
        assert!(l.len < 106);
    }

    #[test]
    fn rejects_alphanumeric_separator() {
        assert!(matches!(scan_isa(b"ISAA00", true), IsaScan::Invalid(_)));
        assert!(matches!(scan_isa(b"ISA*00*", false), IsaScan::NeedMore));
    }
}
