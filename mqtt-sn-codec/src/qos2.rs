//! The receiving side of QoS 2, for both machines: the MsgIds received and not yet
//! released, and those released recently.
//!
//! Over a datagram link a PUBLISH can arrive late and twice (a duplicate delayed past the
//! PUBREL that released its MsgId); remembering released ids for a window longer than the
//! link can delay a datagram keeps such a late copy from being delivered a second time.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use mqtt_codec::Instant;

use crate::MsgId;

/// How many released MsgIds are remembered at most.
const RECENT: usize = 64;

#[derive(Debug, Clone, Default)]
pub(crate) struct Qos2Ids {
    /// Received (PUBREC sent), not released yet. At most 65,535 (one per MsgId).
    open: Vec<MsgId>,
    /// Released, with when.
    released: VecDeque<(MsgId, Instant)>,
}

impl Qos2Ids {
    /// None received.
    pub(crate) const fn new() -> Self {
        Qos2Ids {
            open: Vec::new(),
            released: VecDeque::new(),
        }
    }

    /// Whether it remembers nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.released.is_empty()
    }

    /// A QoS 2 PUBLISH with `id` arrived at `now`: whether it is new (to deliver), rather
    /// than a copy of one received before or released less than `window` ago.
    pub(crate) fn receive(&mut self, id: MsgId, now: Instant, window: Duration) -> bool {
        let new = self.is_new(id, now, window);
        if new {
            self.open.push(id);
        }
        new
    }

    /// Forgets the ids released more than `window` ago.
    pub(crate) fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .released
            .front()
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) > window)
        {
            self.released.pop_front();
        }
        if self.released.is_empty() {
            self.released = VecDeque::new();
        }
        if self.open.is_empty() {
            self.open = Vec::new();
        }
    }

    /// Whether a QoS 2 PUBLISH with `id` would be new, without taking note of it.
    pub(crate) fn is_new(&mut self, id: MsgId, now: Instant, window: Duration) -> bool {
        self.prune(now, window);
        !(self.open.contains(&id) || self.released.iter().any(|(r, _)| *r == id))
    }

    /// How many are received and not released.
    pub(crate) fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Takes note of `id` as received (after [`Qos2Ids::is_new`] said it is new).
    pub(crate) fn open(&mut self, id: MsgId) {
        if !self.open.contains(&id) {
            self.open.push(id);
        }
    }

    /// PUBREL for `id` at `now`.
    pub(crate) fn release(&mut self, id: MsgId, now: Instant) {
        self.open.retain(|x| *x != id);
        if !self.released.iter().any(|(r, _)| *r == id) {
            if self.released.len() >= RECENT {
                self.released.pop_front();
            }
            self.released.push_back((id, now));
        }
    }

    /// A new connection: its MsgIds start afresh.
    pub(crate) fn clear(&mut self) {
        self.open.clear();
        self.released.clear();
    }
}
