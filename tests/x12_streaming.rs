//! A large interchange streamed from a reader: every set seen, memory bounded
//! by the largest set rather than the input.

use std::io::Read;

use tradelane::x12::ack::check;
use tradelane::x12::schema::Registry;
use tradelane::x12::{EnvelopeReader, Reader};

/// Produces ISA, GS, `sets` copies of one 850, GE, IEA without holding them.
struct Generated {
    head: Vec<u8>,
    set: Vec<u8>,
    tail: Vec<u8>,
    left: u64,
    pos: usize,
    stage: u8,
}

impl Generated {
    /// One 850 with its own ST02.
    fn set(n: u64) -> Vec<u8> {
        format!(
            "ST*850*{n:09}~\nBEG*00*SA*45{n:08}**20240311~\nCUR*BY*USD~\nN1*ST*ACME PARTS DC 12*92*0012~\nN3*4800 DISTRIBUTION WAY~\n\
             N4*COLUMBUS*OH*43228*US~\nPO1*1*12*EA*24.95**VP*BP-4471*BP*ACM-44710~\nPID*F****CERAMIC BRAKE PAD SET~\n\
             PO1*2*24*EA*6.40**VP*OF-2210~\nCTT*2*36~\nSE*11*{n:09}~\n"
        )
        .into_bytes()
    }

    fn new(sets: u64) -> Self {
        let set = Self::set(sets.max(1));
        Self {
            head: b"ISA*00*          *00*          *ZZ*ACMEPARTS      *ZZ*TRADELANE      *240311*0932*U*00401*000000101*0*P*>~\nGS*PO*ACMEPARTS*TRADELANE*20240311*0932*1101*X*004010~\n".to_vec(),
            tail: format!("GE*{sets}*1101~\nIEA*1*000000101~\n").into_bytes(),
            set,
            left: sets,
            pos: 0,
            stage: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let src = match self.stage {
                0 => &self.head,
                1 if self.left > 0 => &self.set,
                1 => {
                    self.stage = 2;
                    continue;
                }
                2 => &self.tail,
                _ => return Ok(0),
            };
            if self.pos == src.len() {
                self.pos = 0;
                match self.stage {
                    1 => {
                        self.left -= 1;
                        self.set = Self::set(self.left);
                    }
                    _ => self.stage += 1,
                }
                continue;
            }
            let n = (src.len() - self.pos).min(out.len());
            out[..n].copy_from_slice(&src[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
    }
}

/// Peak resident set size of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_large_interchange_streams_in_bounded_memory() {
    let reg = Registry::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/x12")).unwrap();
    let sets = 200_000u64; // about 70 MB of X12
    let before = peak_rss_kib();
    let mut seen = 0u64;
    let mut accepted = 0u64;
    let report = check(&reg, EnvelopeReader::new(Reader::new(Generated::new(sets))), |_, set, r| {
        seen += 1;
        accepted += u64::from(r.accepted() && set.len() == 11);
    });
    assert_eq!(seen, sets);
    assert_eq!(accepted, sets);
    assert_eq!(report.interchanges.len(), 1);
    let group = &report.interchanges[0].groups[0];
    assert_eq!(group.status(), "A");
    assert_eq!(group.sets.len() as u64, sets);
    if let (Some(a), Some(b)) = (before, peak_rss_kib()) {
        // The per-set reports are kept (a few dozen bytes each); the input is not.
        let grown_mib = (b.saturating_sub(a)) / 1024;
        assert!(grown_mib < 100, "peak RSS grew by {grown_mib} MiB for a ~70 MB input");
    }
}
