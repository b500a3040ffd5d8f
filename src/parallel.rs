//! Work on every core, consumed in order.
//!
//! Evaluation sections and report batches are made by one worker per core (std threads, no
//! runtime) and consumed — written, collected — by the calling thread in their order, so that
//! the output never depends on which core finished first.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Make `items` things — item `i` by `make(state, i)` — on every core, each worker taking the
/// next item not yet taken, with a state of its own (`new_state`), and hand them to `sink` on
/// the calling thread in item order. Workers run at most four items per core ahead of `sink`,
/// so what waits for it stays small however slow it is. Returns the workers' states (one state
/// when the work ran on the calling thread); stops at `sink`'s first error.
pub(crate) fn in_order<S: Send, T: Send>(
    items: usize,
    new_state: impl Fn() -> S + Sync,
    make: impl Fn(&mut S, usize) -> T + Sync,
    sink: &mut impl FnMut(T) -> io::Result<()>,
) -> io::Result<Vec<S>> {
    let workers = crate::cores().min(items);
    if workers <= 1 {
        let mut state = new_state();
        for i in 0..items {
            sink(make(&mut state, i))?;
        }
        return Ok(vec![state]);
    }
    let next = AtomicUsize::new(0);
    let window = Window::new(workers * 4);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, T)>();
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let tx = tx.clone();
                let (next, window, make, new_state) = (&next, &window, &make, &new_state);
                scope.spawn(move || {
                    let mut state = new_state();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= items || !window.wait_for(i) {
                            break;
                        }
                        if tx.send((i, make(&mut state, i))).is_err() {
                            break; // `sink` has stopped
                        }
                    }
                    state
                })
            })
            .collect();
        drop(tx);
        let mut outcome = Ok(());
        let mut pending = BTreeMap::new();
        'items: for wanted in 0..items {
            let made = loop {
                if let Some(made) = pending.remove(&wanted) {
                    break made;
                }
                match rx.recv() {
                    Ok((i, made)) => {
                        pending.insert(i, made);
                    }
                    Err(_) => break 'items, // a worker panicked: joined below
                };
            };
            if let Err(e) = sink(made) {
                outcome = Err(e);
                break;
            }
            window.advance();
        }
        window.close();
        drop(rx);
        let done: Vec<S> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        outcome.map(|()| done)
    })
}

/// How far ahead of the consumer workers may run.
struct Window {
    /// Items consumed; `usize::MAX` once the consumer has stopped.
    consumed: Mutex<usize>,
    moved: Condvar,
    size: usize,
}

impl Window {
    fn new(size: usize) -> Window {
        Window {
            consumed: Mutex::new(0),
            moved: Condvar::new(),
            size,
        }
    }

    /// Wait until item `i` is within the window; false once the consumer has stopped.
    fn wait_for(&self, i: usize) -> bool {
        let mut consumed = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
        while *consumed != usize::MAX && i >= *consumed + self.size {
            consumed = self.moved.wait(consumed).unwrap_or_else(|p| p.into_inner());
        }
        *consumed != usize::MAX
    }

    fn advance(&self) {
        let mut consumed = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
        *consumed += 1;
        self.moved.notify_all();
    }

    fn close(&self) {
        *self.consumed.lock().unwrap_or_else(|p| p.into_inner()) = usize::MAX;
        self.moved.notify_all();
    }
}
