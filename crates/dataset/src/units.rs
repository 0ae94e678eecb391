//! The state of a file's live units as the windowing visitor keeps it: per unit its window
//! buffer, description and counters, found by id or by the flow table's slot.

use tapir_features::Windower;
use tapir_flow::FastMap;

pub(crate) struct UnitState {
    /// The unit's id (a slot holds one unit at a time: this says which).
    pub(crate) id: u64,
    pub(crate) windower: Windower,
    /// Made when first needed (a window, or a packet event): most flows of a large capture
    /// never fill a window.
    pub(crate) desc: Option<Box<str>>,
    pub(crate) packets: u64,
    pub(crate) next_index: u32,
    pub(crate) last_ts: Option<i64>,
}

/// A unit as the visitor finds its state: by id, or — for a flow — by the flow table's slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnitRef {
    pub(crate) id: u64,
    /// [`NO_SLOT`]: the state is kept by id.
    pub(crate) slot: u32,
}

pub(crate) const NO_SLOT: u32 = u32::MAX;

impl UnitRef {
    /// The one unit of a trace, or of a whole capture: slot 0, found without hashing.
    pub(crate) const ONLY: UnitRef = UnitRef { id: 0, slot: 0 };

    pub(crate) fn by_id(id: u64) -> Self {
        UnitRef { id, slot: NO_SLOT }
    }
}

/// The state of the live units. Flows keep theirs in a vector indexed by the flow table's slot
/// ([`tapir_flow::FlowPlacement::slot`]): no hashing, and with a full table of 200,000 flows
/// one array is touched per packet where a map keyed by id cost two more cache misses for
/// each flow that starts and ends. A slot whose flow ended keeps a window buffer of at most
/// [`SPARE_PACKETS`] for the next flow in it: a flood of short flows (scans, DNS) then neither
/// allocates nor frees per flow. Whole captures, host pairs and traces are kept by id.
#[derive(Default)]
pub(crate) struct UnitStore {
    by_id: FastMap<u64, UnitState>,
    /// A slot's state, and whether its unit is live.
    by_slot: Vec<Option<(bool, UnitState)>>,
    in_slots: usize,
}

/// Packets of window buffer an empty slot keeps for its next flow: 64 bytes each, so at most
/// 12.8 MB over 200,000 slots.
const SPARE_PACKETS: usize = 4;

/// What is left of a unit once it ended.
pub(crate) struct EndedUnit {
    pub(crate) packets: u64,
    /// Packets its window buffer held room for (counted in the visitor's held packets).
    pub(crate) capacity: usize,
}

impl UnitStore {
    pub(crate) fn len(&self) -> usize {
        self.by_id.len() + self.in_slots
    }

    pub(crate) fn get(&self, u: UnitRef) -> Option<&UnitState> {
        if u.slot == NO_SLOT {
            return self.by_id.get(&u.id);
        }
        match self.by_slot.get(u.slot as usize) {
            Some(Some((true, st))) if st.id == u.id => Some(st),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, u: UnitRef) -> Option<&mut UnitState> {
        if u.slot == NO_SLOT {
            return self.by_id.get_mut(&u.id);
        }
        match self.by_slot.get_mut(u.slot as usize) {
            Some(Some((true, st))) if st.id == u.id => Some(st),
            _ => None,
        }
    }

    /// The unit's state, made by `make` if it has none (in a slot: the slot's old state,
    /// emptied, its spare buffer kept); `true` when it was made.
    pub(crate) fn get_or_insert(
        &mut self,
        u: UnitRef,
        make: impl FnOnce() -> UnitState,
    ) -> (&mut UnitState, bool) {
        if u.slot == NO_SLOT {
            return match self.by_id.entry(u.id) {
                std::collections::hash_map::Entry::Occupied(e) => (e.into_mut(), false),
                std::collections::hash_map::Entry::Vacant(e) => (e.insert(make()), true),
            };
        }
        let i = u.slot as usize;
        if i >= self.by_slot.len() {
            self.by_slot.resize_with(i + 1, || None);
        }
        let cell = &mut self.by_slot[i];
        // The table ends a slot's flow (and the caller its unit) before it gives the slot to
        // the next flow.
        debug_assert!(!matches!(cell, Some((true, st)) if st.id != u.id));
        let made = match cell {
            Some((true, st)) if st.id == u.id => false,
            Some((live, st)) => {
                *live = true;
                st.id = u.id;
                st.windower.reset();
                st.desc = None;
                st.packets = 0;
                st.next_index = 0;
                st.last_ts = None;
                self.in_slots += 1;
                true
            }
            None => {
                *cell = Some((true, make()));
                self.in_slots += 1;
                true
            }
        };
        let (_, st) = cell.as_mut().expect("filled above");
        (st, made)
    }

    pub(crate) fn remove(&mut self, u: UnitRef) -> Option<EndedUnit> {
        if u.slot == NO_SLOT {
            return self.by_id.remove(&u.id).map(|st| EndedUnit {
                packets: st.packets,
                capacity: st.windower.capacity(),
            });
        }
        match self.by_slot.get_mut(u.slot as usize) {
            Some(Some((live, st))) if *live && st.id == u.id => {
                *live = false;
                self.in_slots -= 1;
                let ended = EndedUnit {
                    packets: st.packets,
                    capacity: st.windower.capacity(),
                };
                st.desc = None;
                if st.windower.capacity() > SPARE_PACKETS {
                    st.windower.release();
                }
                Some(ended)
            }
            _ => None,
        }
    }

    /// Every live unit, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (UnitRef, &UnitState)> {
        let by_id = self.by_id.values().map(|st| (UnitRef::by_id(st.id), st));
        let by_slot = self
            .by_slot
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Some((true, st)) => Some((
                    UnitRef {
                        id: st.id,
                        slot: i as u32,
                    },
                    st,
                )),
                _ => None,
            });
        by_id.chain(by_slot)
    }
}
