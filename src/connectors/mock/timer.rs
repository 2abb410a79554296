//! The mocks' injected latency, timed to the microsecond: tokio's timer rounds a
//! deadline up to its next millisecond tick and wakes on the tick after, which would
//! add about a millisecond to every answer of a carrier that "answers after 50 ms".
//! One thread keeps the pending deadlines and sleeps on a condition variable until
//! the earliest.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::oneshot;

/// A pending wake-up, ordered by deadline, then by arrival.
struct Entry {
    deadline: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    pending: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("mock-timer".into())
            .spawn(move || run(t))
            .expect("mock timer thread");
        t
    })
}

fn run(t: &Timer) {
    let Ok(mut q) = t.queue.lock() else { return };
    loop {
        let now = Instant::now();
        while q.pending.peek().is_some_and(|Reverse(e)| e.deadline <= now) {
            if let Some(Reverse(e)) = q.pending.pop() {
                let _ = e.wake.send(());
            }
        }
        let wait = q.pending.peek().map(|Reverse(e)| e.deadline - now);
        q = match wait {
            Some(wait) => match t.changed.wait_timeout(q, wait) {
                Ok((q, _)) => q,
                Err(_) => return,
            },
            None => match t.changed.wait(q) {
                Ok(q) => q,
                Err(_) => return,
            },
        };
    }
}

/// Resolves at `deadline` (at once when it has passed).
pub async fn until(deadline: Instant) {
    if deadline <= Instant::now() {
        return;
    }
    let (wake, woken) = oneshot::channel();
    let t = timer();
    let earliest = match t.queue.lock() {
        Ok(mut q) => {
            q.seq += 1;
            let seq = q.seq;
            q.pending.push(Reverse(Entry { deadline, seq, wake }));
            q.pending.peek().is_some_and(|Reverse(e)| e.seq == seq)
        }
        Err(_) => return,
    };
    // The thread sleeps until the earliest deadline: only a new earliest one needs to wake it
    // (every answer is due one latency after its request, so most deadlines come last).
    if earliest {
        t.changed.notify_one();
    }
    let _ = woken.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_at_the_deadline_not_before() {
        let start = Instant::now();
        let (late, early) = tokio::join!(
            async {
                until(start + Duration::from_millis(30)).await;
                start.elapsed()
            },
            async {
                until(start + Duration::from_millis(10)).await;
                start.elapsed()
            },
        );
        assert!(late >= Duration::from_millis(30), "{late:?}");
        assert!(early >= Duration::from_millis(10), "{early:?}");
        // A deadline already passed does not wait at all.
        assert!(futures_util::FutureExt::now_or_never(until(start)).is_some());
    }
}
