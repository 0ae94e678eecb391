//! The state of a file's live units as the windowing visitor keeps it: per unit its window
//! buffer, description and counters, found by the slot its unit has in the flow table or the
//! assembler.

use tapir_features::Windower;

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

/// A unit as the visitor finds its state: by the slot its unit has in the flow table
/// ([`tapir_flow::FlowPlacement::slot`]) or the assembler ([`tapir_flow::Placed::slot`]), 0 for
/// the one unit of a whole capture or trace. The id says which unit the slot holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnitRef {
    pub(crate) id: u64,
    pub(crate) slot: u32,
}

impl UnitRef {
    /// The one unit of a trace, or of a whole capture.
    pub(crate) const ONLY: UnitRef = UnitRef { id: 0, slot: 0 };
}

/// The state of the live units, in a vector indexed by slot: no hashing, and with a full table
/// of 200,000 flows or pairs one array is touched per packet where a map keyed by id cost two
/// more cache misses for each unit that starts and ends. A slot whose unit ended keeps a window
/// buffer of at most [`SPARE_PACKETS`] for the next unit in it: a flood of short flows (scans,
/// DNS) then neither allocates nor frees per flow.
#[derive(Default)]
pub(crate) struct UnitStore {
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
        self.in_slots
    }

    pub(crate) fn get(&self, u: UnitRef) -> Option<&UnitState> {
        match self.by_slot.get(u.slot as usize) {
            Some(Some((true, st))) if st.id == u.id => Some(st),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, u: UnitRef) -> Option<&mut UnitState> {
        match self.by_slot.get_mut(u.slot as usize) {
            Some(Some((true, st))) if st.id == u.id => Some(st),
            _ => None,
        }
    }

    /// The unit's state, made by `make` if it has none (in a slot: the slot's old state,
    /// emptied, its spare buffer kept); `true` when it was made.
    #[inline(always)]
    pub(crate) fn get_or_insert(
        &mut self,
        u: UnitRef,
        make: impl FnOnce() -> UnitState,
    ) -> (&mut UnitState, bool) {
        let i = u.slot as usize;
        if i >= self.by_slot.len() {
            self.by_slot.resize_with(i + 1, || None);
        }
        let cell = &mut self.by_slot[i];
        // The table ends a slot's unit (and the caller its state) before it gives the slot to
        // the next unit.
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
        self.by_slot
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
            })
    }
}
