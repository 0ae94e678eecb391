//! Live entries in slots, doubly linked from the least recently seen to the most recently seen:
//! the store behind the flow table and the assembler's keyed units. A packet moves its entry
//! to the tail and a full table ends the entry at the head, each in constant time whatever the
//! number of entries; the slots are found through an index of slot numbers that the owner
//! keeps (a `hashbrown::HashTable<u32>` holding each slot by the hash stored in it).

use hashbrown::HashTable;

pub(crate) const NIL: u32 = u32::MAX;

/// Takes slot `i`, whose key hashes to `hash`, out of an index of slot numbers.
#[inline]
pub(crate) fn unindex(index: &mut HashTable<u32>, hash: u64, i: u32) {
    if let Ok(e) = index.find_entry(hash, |&j| j == i) {
        e.remove();
    }
}

pub(crate) struct Lru<K, V> {
    pub(crate) slots: Vec<Slot<K, V>>,
    free: Vec<u32>,
    /// Least recently seen.
    pub(crate) head: u32,
    /// Most recently seen.
    tail: u32,
}

pub(crate) struct Slot<K, V> {
    pub(crate) key: K,
    /// The key's hash, for the index.
    pub(crate) hash: u64,
    pub(crate) value: V,
    prev: u32,
    pub(crate) next: u32,
}

impl<K, V> Lru<K, V> {
    pub(crate) fn new() -> Self {
        Lru {
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Adds an entry at the tail; returns its slot.
    pub(crate) fn push_back(&mut self, key: K, hash: u64, value: V) -> u32 {
        let slot = Slot {
            key,
            hash,
            value,
            prev: self.tail,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 live entries")
            }
        };
        self.link_tail(i);
        i
    }

    fn link_tail(&mut self, i: u32) {
        self.slots[i as usize].prev = self.tail;
        self.slots[i as usize].next = NIL;
        match self.tail {
            NIL => self.head = i,
            t => self.slots[t as usize].next = i,
        }
        self.tail = i;
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next) = (self.slots[i as usize].prev, self.slots[i as usize].next);
        match prev {
            NIL => self.head = next,
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.slots[n as usize].prev = prev,
        }
    }

    /// Moves slot `i` to the tail (its entry has just been seen).
    #[inline]
    pub(crate) fn touch(&mut self, i: u32) {
        if self.tail != i {
            self.unlink(i);
            self.link_tail(i);
        }
    }

    /// Unlinks slot `i` and frees it for reuse; its key and value stay until then.
    pub(crate) fn remove(&mut self, i: u32) {
        self.unlink(i);
        self.free.push(i);
    }

    /// The live entries' slots, least recently seen first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Slot<K, V>> + '_ {
        let mut i = self.head;
        std::iter::from_fn(move || {
            let slot = self.slots.get(i as usize)?;
            i = slot.next;
            Some(slot)
        })
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for Lru<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|slot| (&slot.key, &slot.value)))
            .finish()
    }
}
