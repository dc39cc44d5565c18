//! Session state: what outlives a network connection (MQTT 3.1.1 §4.1, MQTT 5.0 §4.1).
//!
//! - the outgoing QoS 1 and QoS 2 messages not yet completed, in the order they were first
//!   sent, which is the order they are resent in ([MQTT-4.4.0-1], [MQTT-4.6.0-1]);
//! - the incoming QoS 2 messages received but not yet released by PUBREL;
//! - the packet identifier allocator;
//! - on a server, the client's subscriptions.
//!
//! A [`Session`] is plain data. The connection machines own one while they run; the caller
//! takes it out (`take_session`) to persist it or to hand it to the next connection of the
//! same client, inspects it with the getters here, and builds one back with
//! [`Session::restore`]. Nothing in it refers to a network connection: topic aliases and
//! send quota are connection state and never carried over ([MQTT-3.3.2-7]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::flow::{ReceiverFlow, SenderFlow};
use crate::time::Instant;
use crate::{shared, PacketId, QoS, SubscriptionId};

/// An outgoing QoS 1 or QoS 2 message the session keeps until it completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub(crate) packet_id: PacketId,
    pub(crate) flow: SenderFlow,
    /// The message as the application gave it: its full topic, never an alias (a topic
    /// alias is applied to each transmission, so a resend on a new connection carries the
    /// topic). `None` once PUBREL took over ([MQTT-4.3.3-6]).
    pub(crate) publish: Option<shared::Publish>,
    /// Whether it was transmitted at least once: the next transmission carries DUP=1
    /// ([MQTT-3.3.1-1]).
    pub(crate) sent: bool,
    /// When it was published (the caller's time): a message not yet sent whose Message
    /// Expiry Interval has passed since is dropped, and a transmission carries the
    /// interval less the time waited (MQTT 5.0 §3.3.2.3.3).
    pub(crate) queued_at: Instant,
    /// Connection state, not session state: its PUBLISH went out on the current network
    /// connection and holds one unit of the send quota until the flow ends
    /// ([MQTT-4.9.0-2]). Always `false` outside a connection machine.
    pub(crate) counted: bool,
}

impl Outgoing {
    /// A record for `publish` (QoS 1 or 2; its identifier and DUP are set from `packet_id`
    /// and `flow`) in state `flow`. `sent` says whether it was already transmitted (then a
    /// resend carries DUP=1). Returns `None` when the publish is QoS 0, or its QoS is not
    /// the flow's, or a publish is given for a flow that no longer sends it.
    pub fn new(
        packet_id: PacketId,
        flow: SenderFlow,
        publish: Option<shared::Publish>,
        sent: bool,
    ) -> Option<Self> {
        let publish = match (publish, flow.sends_publish()) {
            (Some(mut p), true) => {
                if p.qos() != flow.qos() {
                    return None;
                }
                p.delivery = crate::Delivery::new(flow.qos(), Some(packet_id), false)?;
                Some(p)
            }
            (None, false) => None,
            _ => return None,
        };
        Some(Outgoing {
            packet_id,
            flow,
            publish,
            sent,
            queued_at: Instant::ZERO,
            counted: false,
        })
    }

    /// The packet identifier.
    pub fn packet_id(&self) -> PacketId {
        self.packet_id
    }

    /// Where the QoS flow stands.
    pub fn flow(&self) -> SenderFlow {
        self.flow
    }

    /// The QoS.
    pub fn qos(&self) -> QoS {
        self.flow.qos()
    }

    /// The message, with its full topic; `None` once PUBREL was sent.
    pub fn publish(&self) -> Option<&shared::Publish> {
        self.publish.as_ref()
    }

    /// Whether it was transmitted at least once.
    pub fn was_sent(&self) -> bool {
        self.sent
    }

    /// When it was published, in the caller's time (what its Message Expiry Interval
    /// counts from).
    pub fn queued_at(&self) -> Instant {
        self.queued_at
    }

    /// The same record, published at `at` (for a restored session whose clock origin is
    /// not the one the record was made with).
    pub fn with_queued_at(mut self, at: Instant) -> Self {
        self.queued_at = at;
        self
    }
}

/// An incoming QoS 2 message the session remembers by its identifier until PUBREL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Incoming {
    /// The packet identifier.
    pub packet_id: PacketId,
    /// Where its flow stands.
    pub flow: ReceiverFlow,
}

/// A subscription a server holds for a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// The filter and its options, as granted (the QoS is the granted one).
    pub subscription: shared::Subscription,
    /// The Subscription Identifier of the SUBSCRIBE that made it (MQTT 5.0).
    pub identifier: Option<SubscriptionId>,
}

/// The state of one session: what outlives a network connection (MQTT 3.1.1 §4.1, MQTT 5.0
/// §4.1): the outgoing QoS 1 and 2 messages not yet completed, in the order they were first
/// sent (the order of resends, [MQTT-4.4.0-1]); the incoming QoS 2 messages not yet
/// released; the identifier allocator; a server's record of the client's subscriptions.
/// Plain data: take it out of a machine, inspect it, keep it, and [`Session::restore`] it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    outgoing: VecDeque<Outgoing>,
    pub(crate) incoming: Vec<Incoming>,
    pub(crate) next_id: u16,
    pub(crate) subscriptions: Vec<SubscriptionRecord>,
    ids: IdSet,
}

/// The identifiers of the outgoing records, as a bit set once there are many of them (so
/// that allocating one stays cheap with thousands in flight), `None` while a scan of the
/// few records is cheaper. Derived from `outgoing`, so it takes no part in equality.
#[derive(Clone, Default)]
struct IdSet(Option<alloc::boxed::Box<[u64; 1024]>>);

/// Above this many outgoing records the bit set (8 KiB) replaces scanning.
const SCAN_LIMIT: usize = 32;

impl IdSet {
    fn set(&mut self, id: PacketId, on: bool) {
        if let Some(bits) = &mut self.0 {
            let i = usize::from(id.get());
            if let Some(w) = bits.get_mut(i / 64) {
                let m = 1u64 << (i % 64);
                if on {
                    *w |= m;
                } else {
                    *w &= !m;
                }
            }
        }
    }

    fn get(&self, id: PacketId) -> Option<bool> {
        let bits = self.0.as_ref()?;
        let i = usize::from(id.get());
        bits.get(i / 64).map(|w| w & (1u64 << (i % 64)) != 0)
    }
}

impl PartialEq for IdSet {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for IdSet {}

impl core::fmt::Debug for IdSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.0.is_some() {
            "IdSet(bits)"
        } else {
            "IdSet(scan)"
        })
    }
}

/// Why [`Session::restore`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// Two records with one packet identifier, in one direction.
    #[error("packet identifier {0} appears twice")]
    DuplicatePacketId(PacketId),
}

impl Session {
    /// An empty session, as a clean start makes.
    pub fn new() -> Self {
        Session::default()
    }

    /// A session from persisted parts: outgoing records in their original order, incoming
    /// QoS 2 records, and (for a server) subscriptions. Refused when an identifier repeats
    /// within one direction.
    pub fn restore(
        outgoing: impl IntoIterator<Item = Outgoing>,
        incoming: impl IntoIterator<Item = Incoming>,
        subscriptions: impl IntoIterator<Item = SubscriptionRecord>,
    ) -> Result<Self, RestoreError> {
        let outgoing: VecDeque<Outgoing> = outgoing.into_iter().collect();
        let incoming: Vec<Incoming> = incoming.into_iter().collect();
        for (i, o) in outgoing.iter().enumerate() {
            if outgoing
                .iter()
                .skip(i + 1)
                .any(|p| p.packet_id == o.packet_id)
            {
                return Err(RestoreError::DuplicatePacketId(o.packet_id));
            }
        }
        for (i, o) in incoming.iter().enumerate() {
            if incoming
                .iter()
                .skip(i + 1)
                .any(|p| p.packet_id == o.packet_id)
            {
                return Err(RestoreError::DuplicatePacketId(o.packet_id));
            }
        }
        let next_id = outgoing.back().map_or(0, |o| o.packet_id.get());
        let mut s = Session {
            outgoing: VecDeque::new(),
            incoming,
            next_id,
            subscriptions: subscriptions.into_iter().collect(),
            ids: IdSet::default(),
        };
        for mut o in outgoing {
            o.counted = false;
            s.push_outgoing(o);
        }
        Ok(s)
    }

    /// The outgoing messages not yet completed, in their resend order.
    pub fn outgoing(&self) -> impl ExactSizeIterator<Item = &Outgoing> + '_ {
        self.outgoing.iter()
    }

    /// The incoming QoS 2 messages not yet released, in arrival order.
    pub fn incoming(&self) -> &[Incoming] {
        &self.incoming
    }

    /// The subscriptions a server holds for the client.
    pub fn subscriptions(&self) -> &[SubscriptionRecord] {
        &self.subscriptions
    }

    /// Whether the session holds nothing (a server answers Session Present 0 for it only
    /// when it has no session at all; an empty one still exists).
    pub fn is_empty(&self) -> bool {
        self.outgoing.is_empty() && self.incoming.is_empty() && self.subscriptions.is_empty()
    }

    /// Forgets everything, as a clean start or Session Present 0 asks.
    pub fn clear(&mut self) {
        self.outgoing.clear();
        self.ids = IdSet::default();
        self.incoming.clear();
        self.subscriptions.clear();
    }

    /// The position of outgoing record `id`.
    pub(crate) fn outgoing_index(&self, id: PacketId) -> Option<usize> {
        if self.ids.get(id) == Some(false) {
            return None;
        }
        self.outgoing.iter().position(|o| o.packet_id == id)
    }

    pub(crate) fn outgoing_get(&self, i: usize) -> Option<&Outgoing> {
        self.outgoing.get(i)
    }

    pub(crate) fn outgoing_get_mut(&mut self, i: usize) -> Option<&mut Outgoing> {
        self.outgoing.get_mut(i)
    }

    pub(crate) fn outgoing_iter_mut(&mut self) -> impl Iterator<Item = &mut Outgoing> + '_ {
        self.outgoing.iter_mut()
    }

    /// Appends an outgoing record (its identifier must be free).
    pub(crate) fn push_outgoing(&mut self, o: Outgoing) {
        let id = o.packet_id;
        self.outgoing.push_back(o);
        if self.ids.0.is_some() {
            self.ids.set(id, true);
        } else if self.outgoing.len() > SCAN_LIMIT {
            self.ids.0 = Some(alloc::boxed::Box::new([0; 1024]));
            let ids: Vec<PacketId> = self.outgoing.iter().map(|o| o.packet_id).collect();
            for id in ids {
                self.ids.set(id, true);
            }
        }
    }

    /// Removes outgoing record `i`.
    pub(crate) fn remove_outgoing(&mut self, i: usize) -> Option<Outgoing> {
        let o = self.outgoing.remove(i)?;
        self.ids.set(o.packet_id, false);
        if self.outgoing.is_empty() {
            self.ids = IdSet::default();
        }
        Some(o)
    }

    /// Moves the released QoS 2 messages at or after position `from` (awaiting PUBCOMP:
    /// sent as PUBREL, which takes no send quota) before the messages there still to be
    /// sent as PUBLISH, keeping the order within each; returns whether any moved. For
    /// when a PUBLISH waits for quota: a PUBREL is never held behind it ([MQTT-3.3.4-8]),
    /// PUBLISH packets still go in their original order ([MQTT-4.6.0-1]) and PUBREL
    /// packets in theirs ([MQTT-4.6.0-4]).
    pub(crate) fn hoist_releases(&mut self, from: usize) -> bool {
        let mut tail = self.outgoing.split_off(from.min(self.outgoing.len()));
        let first_publish = tail.iter().position(|o| o.flow.sends_publish());
        let moved = match first_publish {
            Some(p) => tail.iter().skip(p).any(|o| !o.flow.sends_publish()),
            None => false,
        };
        if moved {
            let (rel, publ): (VecDeque<Outgoing>, VecDeque<Outgoing>) =
                tail.into_iter().partition(|o| !o.flow.sends_publish());
            self.outgoing.extend(rel);
            self.outgoing.extend(publ);
        } else {
            self.outgoing.append(&mut tail);
        }
        moved
    }

    /// Keeps the outgoing records `keep` says yes to, in order.
    pub(crate) fn retain_outgoing(&mut self, mut keep: impl FnMut(&Outgoing) -> bool) {
        let all = core::mem::take(&mut self.outgoing);
        self.ids = IdSet::default();
        for o in all {
            if keep(&o) {
                self.push_outgoing(o);
            }
        }
    }

    /// The position of incoming record `id`.
    pub(crate) fn incoming_index(&self, id: PacketId) -> Option<usize> {
        self.incoming.iter().position(|o| o.packet_id == id)
    }

    /// A new packet identifier, not used by any outgoing record nor by `busy`
    /// ([MQTT-2.3.1-2], [MQTT-2.2.1-3]); `None` when all 65,535 are in use. Identifiers go
    /// round in order, so a just-freed one is the last to come back.
    pub(crate) fn allocate_id(&mut self, busy: impl Fn(PacketId) -> bool) -> Option<PacketId> {
        let in_use = |s: &Self, id: PacketId| match s.ids.get(id) {
            Some(used) => used,
            None => s.outgoing.iter().any(|o| o.packet_id == id),
        };
        let mut candidate = self.next_id;
        for _ in 0..u16::MAX {
            candidate = if candidate == u16::MAX {
                1
            } else {
                candidate + 1
            };
            let id = PacketId::new(candidate)?;
            if !in_use(self, id) && !busy(id) {
                self.next_id = candidate;
                return Some(id);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::{Publish, TopicName};

    fn publish(qos: QoS) -> Publish {
        let mut p = Publish::new(TopicName::new("a/b").unwrap(), &b"x"[..]);
        p.delivery = crate::Delivery::new(qos, PacketId::new(9), false).unwrap();
        p
    }

    fn id(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    #[test]
    fn mqtt_2_3_1_2_allocation_skips_identifiers_in_use() {
        let mut s = Session::new();
        for n in [1, 2, 4] {
            s.push_outgoing(
                Outgoing::new(
                    id(n),
                    SenderFlow::AwaitPubAck,
                    Some(publish(QoS::AtLeastOnce)),
                    true,
                )
                .unwrap(),
            );
        }
        assert_eq!(s.allocate_id(|_| false), Some(id(3)));
        assert_eq!(s.allocate_id(|i| i == id(5)), Some(id(6)));
    }

    #[test]
    fn mqtt_2_3_1_2_allocation_with_many_in_flight_uses_the_bit_set() {
        let mut s = Session::new();
        // 100 records, every other identifier from 1: past the scan limit.
        for n in (1..200).step_by(2) {
            s.push_outgoing(
                Outgoing::new(
                    id(n),
                    SenderFlow::AwaitPubAck,
                    Some(publish(QoS::AtLeastOnce)),
                    true,
                )
                .unwrap(),
            );
        }
        assert!(s.ids.0.is_some());
        s.next_id = 0;
        assert_eq!(s.allocate_id(|_| false), Some(id(2)));
        // Freed identifiers come back; removing the last record drops the bit set.
        let i = s.outgoing_index(id(3)).unwrap();
        s.remove_outgoing(i);
        s.next_id = 2;
        assert_eq!(s.allocate_id(|_| false), Some(id(3)));
        assert_eq!(s.outgoing_index(id(199)), Some(98));
        assert_eq!(s.outgoing_index(id(200)), None);
        s.retain_outgoing(|_| false);
        assert!(s.ids.0.is_none());
        assert_eq!(s.outgoing().len(), 0);
    }

    #[test]
    fn mqtt_3_3_4_8_releases_hoisted_before_waiting_publishes_in_order() {
        let rec = |n: u16, released: bool| {
            if released {
                Outgoing::new(id(n), SenderFlow::AwaitPubComp, None, true).unwrap()
            } else {
                Outgoing::new(
                    id(n),
                    SenderFlow::AwaitPubAck,
                    Some(publish(QoS::AtLeastOnce)),
                    true,
                )
                .unwrap()
            }
        };
        let mut s = Session::restore(
            [
                rec(1, false),
                rec(2, false),
                rec(3, true),
                rec(4, false),
                rec(5, true),
            ],
            [],
            [],
        )
        .unwrap();
        assert!(s.hoist_releases(1));
        let ids: Vec<u16> = s.outgoing().map(|o| o.packet_id().get()).collect();
        assert_eq!(ids, [1, 3, 5, 2, 4]);
        // Nothing left to move: the same order, and `false`.
        assert!(!s.hoist_releases(3));
        assert!(s.hoist_releases(0));
        let ids: Vec<u16> = s.outgoing().map(|o| o.packet_id().get()).collect();
        assert_eq!(ids, [3, 5, 1, 2, 4]);
    }

    #[test]
    fn allocation_wraps_and_reports_exhaustion() {
        let mut s = Session::new();
        s.next_id = u16::MAX - 1;
        assert_eq!(s.allocate_id(|_| false), Some(id(u16::MAX)));
        assert_eq!(s.allocate_id(|_| false), Some(id(1)));
        assert_eq!(s.allocate_id(|_| true), None);
    }

    #[test]
    fn outgoing_record_takes_the_flow_identifier_and_checks_qos() {
        let o = Outgoing::new(
            id(7),
            SenderFlow::AwaitPubRec,
            Some(publish(QoS::ExactlyOnce)),
            false,
        )
        .unwrap();
        assert_eq!(o.publish().unwrap().packet_id(), Some(id(7)));
        assert!(Outgoing::new(
            id(7),
            SenderFlow::AwaitPubAck,
            Some(publish(QoS::ExactlyOnce)),
            false
        )
        .is_none());
        assert!(Outgoing::new(
            id(7),
            SenderFlow::AwaitPubComp,
            Some(publish(QoS::ExactlyOnce)),
            true
        )
        .is_none());
        assert!(Outgoing::new(id(7), SenderFlow::AwaitPubRec, None, true).is_none());
        assert!(Outgoing::new(id(7), SenderFlow::AwaitPubComp, None, true).is_some());
    }

    #[test]
    fn restore_refuses_repeated_identifiers_and_keeps_order() {
        let a = Outgoing::new(id(5), SenderFlow::AwaitPubComp, None, true).unwrap();
        let b = Outgoing::new(
            id(2),
            SenderFlow::AwaitPubAck,
            Some(publish(QoS::AtLeastOnce)),
            true,
        )
        .unwrap();
        let s = Session::restore([a.clone(), b.clone()], [], []).unwrap();
        let ids: Vec<u16> = s.outgoing().map(|o| o.packet_id().get()).collect();
        assert_eq!(ids, [5, 2]);
        assert_eq!(
            Session::restore([a.clone(), a], [], []),
            Err(RestoreError::DuplicatePacketId(id(5)))
        );
        let i = Incoming {
            packet_id: id(1),
            flow: ReceiverFlow::AwaitPubRel,
        };
        assert!(Session::restore([], [i, i], []).is_err());
    }
}
