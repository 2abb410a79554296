//! Prometheus metrics, kept in process and rendered in the text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Latency buckets (seconds).
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Default)]
struct Inner {
    counters: BTreeMap<(&'static str, String), u64>,
    histograms: BTreeMap<(&'static str, String), Histogram>,
}

/// The gateway's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Adds one to counter `name` with `labels` (already rendered: `a="b",c="d"`).
    pub fn inc(&self, name: &'static str, labels: String) {
        if let Ok(mut m) = self.inner.lock() {
            *m.counters.entry((name, labels)).or_default() += 1;
        }
    }

    /// Records a duration in histogram `name`.
    pub fn observe(&self, name: &'static str, labels: String, secs: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.histograms.entry((name, labels)).or_default().observe(secs);
        }
    }

    /// The current values of counter `name`, by rendered label set.
    pub fn counter(&self, name: &str) -> Vec<(String, u64)> {
        let Ok(m) = self.inner.lock() else { return Vec::new() };
        m.counters
            .iter()
            .filter(|((n, _), _)| *n == name)
            .map(|((_, labels), v)| (labels.clone(), *v))
            .collect()
    }

    /// The text exposition, followed by `gauges` (name, labels, value).
    pub fn render(&self, gauges: &[(&str, String, f64)]) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else { return out };
        let mut last = "";
        for ((name, labels), v) in &m.counters {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
        for ((name, labels), h) in &m.histograms {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} histogram");
                last = name;
            }
            let sep = if labels.is_empty() { "" } else { "," };
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        let mut last = "";
        for (name, labels, v) in gauges {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} gauge");
                last = name;
            }
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
        out
    }
}

/// Escapes a label value.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
