//! Lists read into exactly the memory they need.
//!
//! Read straight into a growing vector, a list is reallocated as it grows (ten times for an
//! account's 1,000 users; room for four made for a user's two keys), and every new block is
//! fresh memory, which the kernel must zero first: on the virtual machines CI gates run on, a
//! tenth of a 100,000-user scan (perf). Here a list is read into a buffer that the thread keeps
//! from one list to the next, then moved into one allocation of exactly its items.

use std::cell::RefCell;
use std::thread::LocalKey;

use serde::de::{Deserialize, SeqAccess, Visitor};

/// A thread's buffer for lists of `T`.
pub(super) type Buffer<T> = LocalKey<RefCell<Vec<T>>>;

/// Items kept in a thread's buffer at most; a larger one is given back after use.
const BUFFER_MAX: usize = 1 << 16;

/// What `fill` puts into `buffer`, moved into a vector of exactly that many items. The buffer is
/// taken out of its cell while it fills (no borrow is held meanwhile), and whatever `fill`
/// left there is cleared, error or not.
pub(super) fn through_buffer<T: 'static, E>(
    buffer: &'static Buffer<T>,
    fill: impl FnOnce(&mut Vec<T>) -> Result<(), E>,
) -> Result<Vec<T>, E> {
    let mut kept = buffer.with(|b| b.take());
    kept.clear();
    let items = fill(&mut kept).map(|()| {
        // Moved out, so the buffer keeps its capacity for the next list.
        let mut items = Vec::with_capacity(kept.len());
        items.append(&mut kept);
        items
    });
    kept.clear();
    if kept.capacity() <= BUFFER_MAX {
        buffer.with(|b| b.replace(kept));
    }
    items
}

/// A list read through a thread's buffer into a vector of exactly its items; the same errors as
/// a plain `Vec<T>`.
pub(super) struct Exact<T: 'static>(pub(super) &'static Buffer<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Exact<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        through_buffer(self.0, |items| {
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(())
        })
    }
}
