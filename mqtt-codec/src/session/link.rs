//! What a client and a server connection have in common: the byte buffers, the event
//! queue, the PUBLISH flows in both directions on top of the session state, flow control,
//! topic aliases, and closing. The role-specific machines (`client.rs`, `server.rs`) add
//! CONNECT/CONNACK, keep-alive and the packets only one side sends.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use super::error::{CloseReason, CommandError, ConnState, ProtocolError};
use super::flow::{ReceiverFlow, ReceiverStep, SenderFlow, SenderInput, SenderStep};
use super::state::{Incoming, Outgoing, Session};
use super::{Event, Outcome};
use crate::generic::Packet;
use crate::storage::{Storage, StrStorage};
use crate::time::Instant;
use crate::{
    shared, ByteString, Decoder, Delivery, DisconnectReason, Encoder, PacketId, PacketType,
    Protocol, PubAckReason, PubRecReason, PubRelReason, QoS,
};

/// How incoming QoS 1 and QoS 2 messages are acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckMode {
    /// PUBACK or PUBREC goes out as soon as the message is delivered as an event.
    #[default]
    Automatic,
    /// The application acknowledges each message with `ack` (or `ack_with`, which may
    /// carry a 5.0 reason code and properties: a negative acknowledgement). However the
    /// application orders its answers, they go out in the order the messages arrived
    /// ([MQTT-4.6.0-2], [MQTT-4.6.0-3]).
    Manual,
}

/// How outgoing PUBLISH packets get topic aliases (MQTT 5.0 §3.3.2.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AliasPolicy {
    /// Never: every PUBLISH carries its topic.
    #[default]
    None,
    /// Up to `max` aliases (and never more than the peer's Topic Alias Maximum,
    /// [MQTT-3.2.2-17], [MQTT-3.3.2-9], [MQTT-3.1.2-26]): a topic seen before goes out as
    /// its alias with an empty topic; a new one takes a free alias or the least recently
    /// used one's.
    LeastRecentlyUsed {
        /// The most aliases to use.
        max: u16,
    },
}

/// An answer waiting for its turn: incoming messages are acknowledged in arrival order.
#[derive(Debug, Clone)]
pub(crate) struct PendingAck {
    packet_id: PacketId,
    qos: QoS,
    answer: Option<(u8, shared::AckProperties)>,
}

/// The topic aliases of one connection.
#[derive(Debug, Clone, Default)]
struct Aliases {
    /// Set by the peer: index `alias - 1`.
    inbound: Vec<Option<ByteString>>,
    /// Ours.
    out: Vec<OutAlias>,
    clock: u64,
}

/// One outgoing alias.
#[derive(Debug, Clone)]
struct OutAlias {
    topic: ByteString,
    alias: u16,
    used: u64,
}

/// The common part of a connection machine.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) state: ConnState,
    pub(crate) protocol: Protocol,
    pub(crate) decoder: Decoder,
    pub(crate) encoder: Encoder,
    rx: BytesMut,
    tx: BytesMut,
    events: VecDeque<Event>,
    pub(crate) session: Session,
    /// How many records at the front of `session.outgoing` went out on this connection:
    /// they count against the peer's Receive Maximum; the rest are queued.
    wire: u32,
    /// How many of those hold send quota (their PUBLISH went out on this connection and
    /// the flow has not ended): never more than `send_max`.
    quota: u16,
    /// The peer's Receive Maximum: our send quota ([MQTT-4.9.0-1]).
    pub(crate) send_max: u16,
    /// Our Receive Maximum.
    pub(crate) receive_max: u16,
    /// Incoming QoS 1 messages not yet acknowledged.
    qos1_pending: u16,
    /// How many records of `session.incoming` (at its front: records are appended in
    /// arrival order) came from earlier connections: only the others count against our
    /// Receive Maximum, since the peer's quota starts afresh on each connection
    /// ([MQTT-4.9.0-1]).
    old_incoming: usize,
    acks: VecDeque<PendingAck>,
    pub(crate) ack_mode: AckMode,
    /// Our Topic Alias Maximum.
    pub(crate) alias_in_max: u16,
    pub(crate) alias_policy: AliasPolicy,
    /// The peer's Topic Alias Maximum.
    pub(crate) alias_out_max: u16,
    /// The aliases of this connection, both ways; allocated on first use.
    aliases: Option<Box<Aliases>>,
    /// What we announced we accept.
    pub(crate) accept_max_qos: QoS,
    pub(crate) accept_retain: bool,
    /// What the peer announced it accepts.
    pub(crate) peer_max_qos: QoS,
    pub(crate) peer_retain: bool,
    /// The latest time the caller passed in.
    pub(crate) now: Instant,
    pub(crate) last_sent: Instant,
    pub(crate) last_received: Instant,
    /// The Authentication Method agreed in CONNECT (MQTT 5.0 enhanced authentication).
    pub(crate) auth_method: Option<Box<ByteString>>,
    /// The client asked for no Reason Strings or User Properties ([MQTT-3.1.2-29]).
    pub(crate) strip_problem_info: bool,
    /// The handshake just completed: trim once everything it produced is taken.
    pub(crate) trim_pending: bool,
}

impl Link {
    pub(crate) fn new(protocol: Protocol, session: Session) -> Self {
        Link {
            state: ConnState::Idle,
            protocol,
            decoder: Decoder::new(protocol),
            encoder: Encoder::new(protocol),
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            events: VecDeque::new(),
            session,
            wire: 0,
            quota: 0,
            send_max: u16::MAX,
            receive_max: u16::MAX,
            qos1_pending: 0,
            old_incoming: 0,
            acks: VecDeque::new(),
            ack_mode: AckMode::Automatic,
            alias_in_max: 0,

            alias_policy: AliasPolicy::None,
            alias_out_max: 0,
            aliases: None,
            accept_max_qos: QoS::ExactlyOnce,
            accept_retain: true,
            peer_max_qos: QoS::ExactlyOnce,
            peer_retain: true,
            now: Instant::ZERO,
            last_sent: Instant::ZERO,
            last_received: Instant::ZERO,
            auth_method: None,
            strip_problem_info: false,
            trim_pending: false,
        }
    }

    pub(crate) fn set_protocol(&mut self, protocol: Protocol) {
        self.protocol = protocol;
        self.decoder.set_protocol(protocol);
        self.encoder = Encoder::new(protocol).max_packet_size(self.encoder.max_size());
    }

    pub(crate) fn is_v5(&self) -> bool {
        self.protocol.is_v5()
    }

    pub(crate) fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Everything that belongs to one network connection goes; the session stays. The
    /// outgoing messages will be resent from the first ([MQTT-4.4.0-1]), aliases start
    /// empty ([MQTT-3.3.2-7]).
    pub(crate) fn reset_connection(&mut self) {
        self.rx.clear();
        self.tx.clear();
        self.aliases = None;
        self.send_max = u16::MAX;
        self.peer_max_qos = QoS::ExactlyOnce;
        self.peer_retain = true;
        self.alias_out_max = 0;
        self.encoder = Encoder::new(self.protocol);
        self.attach_session();
    }

    /// Starts this connection's view of the session: nothing of it went out on this
    /// connection yet, nothing of it arrived on it.
    pub(crate) fn attach_session(&mut self) {
        self.wire = 0;
        self.quota = 0;
        for o in self.session.outgoing_iter_mut() {
            o.counted = false;
        }
        self.qos1_pending = 0;
        self.old_incoming = self.session.incoming.len();
        // Answers the application gave that could not go out yet stay with their message.
        let old = core::mem::take(&mut self.acks);
        // QoS 2 messages the application still has to acknowledge: their answers go out
        // on this connection, in order.
        for i in &self.session.incoming {
            if i.flow == ReceiverFlow::AwaitAppAck {
                let answer = old
                    .iter()
                    .find(|a| a.packet_id == i.packet_id && a.qos == QoS::ExactlyOnce)
                    .and_then(|a| a.answer.clone());
                self.acks.push_back(PendingAck {
                    packet_id: i.packet_id,
                    qos: QoS::ExactlyOnce,
                    answer,
                });
            }
        }
    }

    // ---- outputs ----

    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.tx.is_empty() {
            self.trim_after_handshake();
            None
        } else {
            let out = self.tx.split().freeze();
            self.trim_after_handshake();
            Some(out)
        }
    }

    /// Once the handshake's packets and events are all taken, gives back what it used:
    /// most connections then sit idle for long, and traffic allocates again when it comes.
    fn trim_after_handshake(&mut self) {
        if self.trim_pending && self.tx.is_empty() && self.events.is_empty() {
            self.trim_pending = false;
            self.shrink();
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front();
        if e.is_none() {
            self.trim_after_handshake();
        }
        e
    }

    pub(crate) fn push_event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    /// Gives back the memory kept for bursts when it holds nothing: the receive and
    /// transmit buffers, the event and acknowledgement queues.
    pub(crate) fn shrink(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
        if self.tx.is_empty() {
            self.tx = BytesMut::new();
        }
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if self.acks.is_empty() {
            self.acks = VecDeque::new();
        }
    }

    // ---- sending ----

    /// Encodes `packet` into the transmit buffer within the peer's Maximum Packet Size.
    pub(crate) fn send<B: Storage, T: StrStorage>(
        &mut self,
        packet: &Packet<B, T>,
    ) -> Result<(), CommandError> {
        // All or nothing, within the peer's Maximum Packet Size; the buffer grows as needed
        // (and, once the bytes handed out before are dropped, reuses its memory).
        self.encoder.encode(packet, &mut self.tx)?;
        self.last_sent = self.now;
        Ok(())
    }

    /// Sends a packet the machine builds itself and may trim (acknowledgements, DISCONNECT,
    /// AUTH): the Reason String and then the User Properties are dropped when it would
    /// exceed the peer's Maximum Packet Size ([MQTT-3.4.2-2], [MQTT-3.4.2-3] and the like).
    pub(crate) fn send_trimmed(&mut self, mut packet: shared::Packet) -> Result<(), CommandError> {
        if self.strip_problem_info {
            // [MQTT-3.1.2-29]: the client asked for no Reason String and no User
            // Properties except on PUBLISH, CONNACK and DISCONNECT.
            let exempt = matches!(packet, Packet::ConnAck(_) | Packet::Disconnect(_));
            if let Some(props) = packet.trimmable().filter(|_| !exempt) {
                props.drop_reason_string();
                props.drop_user_properties();
            }
        }
        match self.send(&packet) {
            Err(CommandError::PacketTooLarge { .. }) => {
                packet.trim_to_fit(self.protocol, self.encoder.max_size())?;
                self.send(&packet)
            }
            other => other,
        }
    }

    /// Encodes a bare packet that cannot fail (PINGREQ, PINGRESP, a plain acknowledgement).
    pub(crate) fn send_simple(&mut self, packet: Packet<&[u8], &str>) {
        // 2 to 4 bytes; only a peer that announced a Maximum Packet Size below that can
        // refuse them, and then no connection is possible.
        if let Err(e) = self.send(&packet) {
            self.state = ConnState::Closed;
            self.rx.clear();
            self.events
                .push_back(Event::Closed(CloseReason::Unusable(e)));
        }
    }

    // ---- closing ----

    /// Ends the connection with `reason`.
    pub(crate) fn close(&mut self, reason: CloseReason) {
        if self.state == ConnState::Closed {
            return;
        }
        self.state = ConnState::Closed;
        self.rx.clear();
        self.events.push_back(Event::Closed(reason));
    }

    /// The peer broke a rule: at 5.0, DISCONNECT with the reason code first when
    /// `may_disconnect` (a server only after a successful CONNACK, [MQTT-3.14.0-1]); then
    /// close ([MQTT-4.8.0-1], [MQTT-4.13.1-1]).
    pub(crate) fn fail(&mut self, err: ProtocolError, may_disconnect: bool) {
        if self.state == ConnState::Closed {
            return;
        }
        if self.is_v5() && may_disconnect {
            let d = shared::Disconnect::new(err.disconnect_reason());
            let _ = self.send_trimmed(Packet::Disconnect(d));
        }
        self.close(CloseReason::ProtocolError(err));
    }

    /// Sends DISCONNECT with `reason` and closes ([MQTT-3.14.4-1], [MQTT-3.14.4-2]).
    pub(crate) fn disconnect(&mut self, d: shared::Disconnect) -> Result<(), CommandError> {
        if self.state == ConnState::Closed {
            return Err(CommandError::WrongState { state: self.state });
        }
        let reason = d.reason;
        // [MQTT-4.13.2-1]: closed whether or not the DISCONNECT could go out.
        let sent = self.send_trimmed(Packet::Disconnect(d));
        self.close(CloseReason::Disconnected(reason));
        sent
    }

    // ---- receiving ----

    /// Appends received bytes.
    pub(crate) fn take_bytes(&mut self, data: &[u8]) {
        if self.state != ConnState::Closed {
            self.rx.extend_from_slice(data);
        }
    }

    /// Appends a received buffer without copying it when nothing is pending.
    pub(crate) fn take_buf(&mut self, data: &mut BytesMut) {
        if self.state == ConnState::Closed {
            data.clear();
        } else if self.rx.is_empty() {
            self.rx = core::mem::take(data);
        } else {
            self.rx.extend_from_slice(data);
            data.clear();
        }
    }

    /// The next whole packet in the receive buffer, shared (no copy).
    pub(crate) fn next_packet(&mut self) -> Option<Result<shared::Packet, ProtocolError>> {
        if self.state == ConnState::Closed {
            return None;
        }
        // Acknowledgements and pings hold nothing worth sharing: decoded in place and
        // dropped from the buffer, without splitting a frame off it.
        if let Some(&first) = self.rx.first() {
            if matches!(first >> 4, 4..=7 | 12 | 13) {
                let r = match self.decoder.decode(&self.rx) {
                    Ok(crate::Decoded::Complete(p, n)) => Ok(Some((p.to_shared(), n))),
                    Ok(crate::Decoded::Partial(_)) => Ok(None),
                    Err(e) => Err(e),
                };
                return match r {
                    Ok(Some((p, n))) => {
                        bytes::Buf::advance(&mut self.rx, n);
                        self.last_received = self.now;
                        Some(Ok(p))
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e.into())),
                };
            }
        }
        match self.decoder.decode_bytes_mut(&mut self.rx) {
            Ok(Some(p)) => {
                self.last_received = self.now;
                Some(Ok(p))
            }
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Bytes received and not yet handled.
    pub(crate) fn rx_len(&self) -> usize {
        self.rx.len()
    }

    /// The type of the next packet, from its first byte, without taking it.
    pub(crate) fn peek_type(&self) -> Option<u8> {
        self.rx.first().map(|b| b >> 4)
    }

    // ---- enhanced authentication (MQTT 5.0 §4.12) ----

    /// Sends AUTH with the connection's Authentication Method ([MQTT-4.12.0-5],
    /// [MQTT-4.12.1-1]), in `handshake` (the state before CONNACK) or once connected.
    pub(crate) fn send_auth(
        &mut self,
        handshake: ConnState,
        forbidden: crate::AuthReason,
        reason: crate::AuthReason,
        mut properties: shared::AuthProperties,
    ) -> Result<(), CommandError> {
        // The mirror of `on_auth`: before CONNACK only to continue, afterwards anything
        // but what this side never sends ([MQTT-4.12.0-2], [MQTT-4.12.0-3]).
        let allowed = if self.state == handshake {
            reason == crate::AuthReason::ContinueAuthentication
        } else {
            reason != forbidden
        };
        if !allowed {
            return Err(CommandError::WrongState { state: self.state });
        }
        let Some(method) = self.auth_method.clone() else {
            // [MQTT-4.12.0-6], [MQTT-4.12.0-7]
            return Err(CommandError::NoAuthentication);
        };
        if self.state != handshake && self.state != ConnState::Connected {
            return Err(CommandError::WrongState { state: self.state });
        }
        if let Ok(m) = crate::Str::new(&method) {
            properties.set_authentication_method(m);
        }
        self.send_trimmed(Packet::Auth(shared::Auth { reason, properties }))
    }

    /// An AUTH from the peer: only with the CONNECT's method ([MQTT-4.12.0-5],
    /// [MQTT-4.12.0-6]); before CONNACK (in `handshake`) only to continue
    /// ([MQTT-4.12.0-2], [MQTT-4.12.0-3]); afterwards anything but `forbidden` (a server
    /// never asks to re-authenticate, a client never says Success).
    pub(crate) fn on_auth(
        &mut self,
        a: shared::Auth,
        handshake: ConnState,
        forbidden: crate::AuthReason,
    ) -> Result<(), ProtocolError> {
        let matches = match (&self.auth_method, a.properties.authentication_method()) {
            (Some(m), Some(got)) => m.as_bytes() == got.get().as_bytes(),
            _ => false,
        };
        if !self.is_v5() || !matches {
            return Err(ProtocolError::AuthMethodMismatch);
        }
        let allowed = if self.state == handshake {
            a.reason == crate::AuthReason::ContinueAuthentication
        } else {
            a.reason != forbidden
        };
        if !allowed {
            return Err(ProtocolError::UnexpectedPacket {
                state: self.state,
                packet: PacketType::Auth,
            });
        }
        self.events.push_back(Event::Auth(a));
        Ok(())
    }

    // ---- outgoing messages ----

    /// Checks a PUBLISH against what the peer announced ([MQTT-3.2.2-11],
    /// [MQTT-3.2.2-14], [MQTT-3.2.2-15]).
    fn check_publish(&self, p: &shared::Publish) -> Result<(), CommandError> {
        if p.qos() > self.peer_max_qos {
            return Err(CommandError::QosNotSupported {
                qos: p.qos(),
                max: self.peer_max_qos,
            });
        }
        if p.retain && !self.peer_retain {
            return Err(CommandError::RetainNotSupported);
        }
        // The size with the full topic: an alias only ever makes it smaller or adds the
        // 3 bytes of the property, which `transmit` checks again.
        self.encoder
            .encoded_len(&Packet::<Bytes, ByteString>::Publish(p.clone()))?;
        Ok(())
    }

    /// The `publish` command: QoS 0 goes out at once (connected only); QoS 1 and 2 get an
    /// identifier, join the session's outgoing messages in order, and go out as the send
    /// quota allows ([MQTT-3.3.4-7], [MQTT-4.9.0-2]), in any state: what is published
    /// while no connection is up waits in the session for the next one.
    pub(crate) fn publish(
        &mut self,
        mut p: shared::Publish,
        qos: QoS,
        busy: impl Fn(PacketId) -> bool,
    ) -> Result<Option<PacketId>, CommandError> {
        // A topic alias in the application's message is the machine's business: the
        // policy sets it per transmission.
        if p.properties.topic_alias().is_some() {
            p.properties.remove_topic_alias();
        }
        if p.topic.is_empty() {
            return Err(CommandError::Encode(
                crate::EncodeError::EmptyTopicWithoutAlias,
            ));
        }
        if qos == QoS::AtMostOnce {
            if self.state != ConnState::Connected {
                return Err(CommandError::WrongState { state: self.state });
            }
            self.check_publish(&p)?;
            self.transmit_publish(p)?;
            return Ok(None);
        }
        // The size with an identifier in place: any identifier takes two bytes.
        p.delivery = Delivery::new(qos, PacketId::new(1), false).unwrap_or(p.delivery);
        if self.state == ConnState::Connected {
            self.check_publish(&p)?;
        } else {
            self.encoder
                .encoded_len(&Packet::<Bytes, ByteString>::Publish(p.clone()))?;
        }
        let id = self
            .session
            .allocate_id(busy)
            .ok_or(CommandError::PacketIdsExhausted)?;
        // [MQTT-4.3.2-1], [MQTT-4.3.3-1]: a new identifier; DUP 0 on the first sending
        // ([MQTT-4.3.2-2], [MQTT-4.3.3-2]).
        let flow = SenderFlow::start(qos).ok_or(CommandError::PacketIdsExhausted)?;
        p.delivery = Delivery::new(qos, Some(id), false).ok_or(CommandError::PacketIdsExhausted)?;
        self.session.push_outgoing(Outgoing {
            packet_id: id,
            flow,
            publish: Some(p),
            sent: false,
            queued_at: self.now,
            counted: false,
        });
        self.pump();
        Ok(Some(id))
    }

    /// Sends queued outgoing messages, in order, while the quota allows: a PUBLISH takes
    /// one unit of quota, a PUBREL none ([MQTT-4.9.0-2], [MQTT-3.3.4-8]). On a new
    /// connection this is the resend ([MQTT-4.4.0-1], [MQTT-4.6.0-1]). A message that no
    /// longer fits what the peer accepts (a smaller Maximum Packet Size, a lower Maximum
    /// QoS, no retain) is dropped and reported, never sent ([MQTT-3.2.2-11],
    /// [MQTT-3.2.2-14], [MQTT-3.2.2-15], [MQTT-3.1.2-25]).
    pub(crate) fn pump(&mut self) {
        if self.state != ConnState::Connected {
            return;
        }
        while let Some(rec) = self.session.outgoing_get(self.wire as usize) {
            let i = self.wire as usize;
            let packet_id = rec.packet_id;
            let result = match (&rec.publish, rec.flow.sends_publish()) {
                (Some(p), true) => {
                    if self.quota >= self.send_max {
                        // Waiting for quota; PUBREL packets behind it need none.
                        if self.session.hoist_releases(i) {
                            continue;
                        }
                        break;
                    }
                    let remaining = self.expiry_left(p, rec.queued_at, rec.sent);
                    if remaining == Some(0) {
                        // Never sent and expired while it waited: dropped
                        // (MQTT 5.0 §3.3.2.3.3).
                        Err(Outcome::Expired)
                    } else if p.qos() > self.peer_max_qos || (p.retain && !self.peer_retain) {
                        Err(Outcome::Dropped)
                    } else {
                        let mut p = p.clone();
                        // [MQTT-3.3.1-1]: DUP on a re-delivery.
                        p.delivery = p.delivery.with_dup(rec.sent);
                        // [MQTT-3.3.2-6]: the interval less the time it waited.
                        if let Some(left) = remaining {
                            p.properties.set_message_expiry_interval(left);
                        }
                        self.transmit_publish(p)
                            .map(|()| true)
                            .map_err(|_| Outcome::Dropped)
                    }
                }
                // [MQTT-4.4.0-1]: a released QoS 2 message is resent as its PUBREL.
                _ => {
                    let rel = shared::PubRel::new(packet_id);
                    self.send(&Packet::<Bytes, ByteString>::PubRel(rel))
                        .map(|()| false)
                        .map_err(|_| Outcome::Dropped)
                }
            };
            match result {
                Ok(counted) => {
                    if let Some(rec) = self.session.outgoing_get_mut(i) {
                        rec.sent = true;
                        rec.counted = counted;
                    }
                    if counted {
                        self.quota += 1;
                    }
                    self.wire += 1;
                }
                Err(outcome) => {
                    self.session.remove_outgoing(i);
                    self.events
                        .push_back(Event::PublishComplete { packet_id, outcome });
                }
            }
        }
    }

    /// What is left of a message's Message Expiry Interval, in whole seconds, after it
    /// waited since `queued_at`; `None` without one (or before 5.0). A message already sent
    /// once is on its way and is not expired, but keeps at least one second.
    fn expiry_left(&self, p: &shared::Publish, queued_at: Instant, sent: bool) -> Option<u32> {
        if !self.is_v5() {
            return None;
        }
        let e = p.properties.message_expiry_interval()?;
        let waited = self.now.saturating_duration_since(queued_at).as_secs();
        let left = u64::from(e).saturating_sub(waited);
        let left = u32::try_from(left).unwrap_or(u32::MAX);
        Some(if sent { left.max(1) } else { left })
    }

    /// Encodes one PUBLISH transmission, choosing its topic alias.
    fn transmit_publish(&mut self, mut p: shared::Publish) -> Result<(), CommandError> {
        if let Some(alias) = self.choose_alias(&p.topic) {
            let (known, alias) = alias;
            let mut q = p.clone();
            q.properties.set_topic_alias(alias);
            if known {
                q.topic = shared::TopicName::default();
            }
            let packet = Packet::<Bytes, ByteString>::Publish(q);
            if self.encoder.encoded_len(&packet).is_ok() {
                if !known {
                    self.remember_alias(&p.topic, alias.get());
                }
                return self.send(&packet);
            }
        }
        p.properties.remove_topic_alias();
        self.send(&Packet::<Bytes, ByteString>::Publish(p))
    }

    /// The alias for `topic` under the policy: `(true, a)` when the peer knows it already,
    /// `(false, a)` for a new mapping; `None` for no alias.
    fn choose_alias(&mut self, topic: &shared::TopicName) -> Option<(bool, core::num::NonZeroU16)> {
        let AliasPolicy::LeastRecentlyUsed { max } = self.alias_policy else {
            return None;
        };
        let max = max.min(self.alias_out_max);
        if max == 0 || !self.is_v5() {
            return None;
        }
        let al = self.aliases.get_or_insert_with(Box::default);
        al.clock += 1;
        let clock = al.clock;
        if let Some(a) = al
            .out
            .iter_mut()
            .find(|a| a.topic.as_bytes() == topic.as_bytes())
        {
            a.used = clock;
            return core::num::NonZeroU16::new(a.alias).map(|n| (true, n));
        }
        let alias = if al.out.len() < usize::from(max) {
            al.out.len() as u16 + 1
        } else {
            al.out.iter().min_by_key(|a| a.used).map_or(1, |a| a.alias)
        };
        core::num::NonZeroU16::new(alias).map(|n| (false, n))
    }

    fn remember_alias(&mut self, topic: &shared::TopicName, alias: u16) {
        let topic: ByteString = topic.clone().into_inner();
        let al = self.aliases.get_or_insert_with(Box::default);
        let used = al.clock;
        if let Some(a) = al.out.iter_mut().find(|a| a.alias == alias) {
            a.topic = topic;
            a.used = used;
        } else {
            al.out.push(OutAlias { topic, alias, used });
        }
    }

    /// PUBACK, PUBREC or PUBCOMP for an outgoing message.
    pub(crate) fn on_sender_ack(
        &mut self,
        packet_id: PacketId,
        input: SenderInput,
    ) -> Result<(), ProtocolError> {
        // Only what went out on this connection can be acknowledged on it.
        let Some(i) = self
            .session
            .outgoing_index(packet_id)
            .filter(|&i| i < self.wire as usize)
        else {
            // A PUBREC for an identifier not in use is answered with PUBREL 0x92 at 5.0
            // (plain at 3.x) so that the peer's flow can end; a stray PUBACK or PUBCOMP is
            // ignored (the message was completed already).
            if let SenderInput::PubRec(_) = input {
                let mut rel = shared::PubRel::new(packet_id);
                if self.is_v5() {
                    rel.reason = PubRelReason::PacketIdentifierNotFound;
                }
                let _ = self.send(&Packet::<Bytes, ByteString>::PubRel(rel));
            }
            return Ok(());
        };
        let Some(rec) = self.session.outgoing_get_mut(i) else {
            return Ok(());
        };
        if rec.flow == SenderFlow::AwaitPubComp
            && matches!(input, SenderInput::PubRec(r) if u8::from(r) < 0x80)
        {
            // A PUBREC again (the peer did not see our PUBREL): PUBREL again.
            let rel = shared::PubRel::new(packet_id);
            let _ = self.send(&Packet::<Bytes, ByteString>::PubRel(rel));
            return Ok(());
        }
        let step = rec
            .flow
            .on_ack(input)
            .map_err(|e| ProtocolError::UnexpectedAck {
                packet_id,
                packet: e.packet,
                flow: e.state,
            })?;
        match step {
            SenderStep::Release => {
                // [MQTT-4.3.3-6]: the PUBLISH is never sent again; keep no copy.
                rec.publish = None;
                // [MQTT-4.3.3-4], [MQTT-4.6.0-4]: PUBREL now, so in PUBREC order.
                let rel = shared::PubRel::new(packet_id);
                let _ = self.send(&Packet::<Bytes, ByteString>::PubRel(rel));
            }
            SenderStep::Complete(reason) => {
                if let Some(rec) = self.session.remove_outgoing(i) {
                    if rec.counted {
                        self.quota = self.quota.saturating_sub(1);
                    }
                }
                self.wire -= 1;
                self.events.push_back(Event::PublishComplete {
                    packet_id,
                    outcome: Outcome::Acknowledged(reason),
                });
                // [MQTT-4.9.0-2]: the quota is back; send what waited.
                self.pump();
            }
        }
        Ok(())
    }

    /// Reports the outgoing messages that were sent and forgets them (a session the peer
    /// no longer has, [MQTT-3.2.2-5]); messages never sent stay queued as new ones.
    pub(crate) fn drop_sent_messages(&mut self) {
        let events = &mut self.events;
        self.session.retain_outgoing(|rec| {
            if rec.sent {
                events.push_back(Event::PublishComplete {
                    packet_id: rec.packet_id,
                    outcome: Outcome::SessionLost,
                });
            }
            !rec.sent
        });
        self.session.incoming.clear();
        self.old_incoming = 0;
        self.acks.clear();
        self.wire = 0;
        self.quota = 0;
    }

    // ---- incoming messages ----

    /// A PUBLISH from the peer: alias resolved, limits checked, delivered once, answered
    /// in order.
    pub(crate) fn on_publish(&mut self, mut p: shared::Publish) -> Result<(), ProtocolError> {
        if self.is_v5() {
            if let Some(alias) = p.properties.topic_alias() {
                let a = alias.get();
                if a > self.alias_in_max {
                    return Err(ProtocolError::TopicAliasInvalid {
                        alias: a,
                        max: self.alias_in_max,
                    });
                }
                let slot = usize::from(a - 1);
                if p.topic.is_empty() {
                    let known = self.aliases.as_ref().and_then(|al| al.inbound.get(slot));
                    match known.and_then(Option::as_ref) {
                        Some(t) => p.topic = shared::TopicName::from_checked(t.clone()),
                        None => return Err(ProtocolError::UnknownTopicAlias { alias: a }),
                    }
                } else {
                    let al = self.aliases.get_or_insert_with(Box::default);
                    if al.inbound.len() <= slot {
                        al.inbound.resize(slot + 1, None);
                    }
                    if let Some(s) = al.inbound.get_mut(slot) {
                        // A copy: a slice would keep the whole receive buffer alive for
                        // as long as the alias lasts.
                        *s = Some(ByteString::from(p.topic.as_str()));
                    }
                }
            }
        }
        if p.qos() > self.accept_max_qos {
            return Err(ProtocolError::QosNotSupported { qos: p.qos() as u8 });
        }
        if p.retain && !self.accept_retain {
            return Err(ProtocolError::RetainNotSupported);
        }
        match p.delivery {
            Delivery::AtMostOnce => {
                self.events.push_back(Event::Message(p));
            }
            Delivery::AtLeastOnce { packet_id, .. } => {
                // [MQTT-4.3.2-5]: whatever DUP says, a QoS 1 PUBLISH is a new message.
                self.check_receive_max()?;
                self.qos1_pending = self.qos1_pending.saturating_add(1);
                self.events.push_back(Event::Message(p));
                self.acks.push_back(PendingAck {
                    packet_id,
                    qos: QoS::AtLeastOnce,
                    answer: None,
                });
                if self.ack_mode == AckMode::Automatic {
                    self.answer(packet_id, 0, shared::AckProperties::new());
                }
            }
            Delivery::ExactlyOnce { packet_id, .. } => {
                if let Some(i) = self.session.incoming_index(packet_id) {
                    // [MQTT-4.3.3-10]: a duplicate is not delivered again.
                    let flow = self.session.incoming.get(i).map(|r| r.flow);
                    if let Some(ReceiverStep::RepeatPubRec) = flow.map(ReceiverFlow::on_duplicate) {
                        let rec = shared::PubRec::new(packet_id);
                        let _ = self.send(&Packet::<Bytes, ByteString>::PubRec(rec));
                    }
                    return Ok(());
                }
                self.check_receive_max()?;
                self.session.incoming.push(Incoming {
                    packet_id,
                    flow: ReceiverFlow::AwaitAppAck,
                });

                self.events.push_back(Event::Message(p));
                self.acks.push_back(PendingAck {
                    packet_id,
                    qos: QoS::ExactlyOnce,
                    answer: None,
                });
                if self.ack_mode == AckMode::Automatic {
                    self.answer(packet_id, 0, shared::AckProperties::new());
                }
            }
        }
        Ok(())
    }

    /// [MQTT-3.3.4-9], [MQTT-3.3.4-7] seen from the receiver: at most our Receive Maximum
    /// QoS 1 and 2 messages unacknowledged on this connection (at 3.x, where there is
    /// none, the 65,535 identifiers are the limit).
    fn check_receive_max(&self) -> Result<(), ProtocolError> {
        let fresh = self
            .session
            .incoming
            .len()
            .saturating_sub(self.old_incoming);
        let in_flight = usize::from(self.qos1_pending) + fresh;
        if in_flight >= usize::from(self.receive_max) {
            return Err(ProtocolError::ReceiveMaximumExceeded {
                max: self.receive_max,
            });
        }
        Ok(())
    }

    /// The packets of the PUBLISH flows, which both roles handle alike: handled here, and
    /// `Ok(None)`; any other packet is handed back.
    pub(crate) fn on_flow_packet(
        &mut self,
        p: shared::Packet,
    ) -> Result<Option<shared::Packet>, ProtocolError> {
        match p {
            Packet::Publish(p) => self.on_publish(p)?,
            Packet::PubAck(a) => self.on_sender_ack(a.packet_id, SenderInput::PubAck(a.reason))?,
            Packet::PubRec(a) => self.on_sender_ack(a.packet_id, SenderInput::PubRec(a.reason))?,
            Packet::PubComp(a) => {
                self.on_sender_ack(a.packet_id, SenderInput::PubComp(a.reason))?
            }
            Packet::PubRel(a) => self.on_pubrel(a.packet_id)?,
            other => return Ok(Some(other)),
        }
        Ok(None)
    }

    /// PUBREL from the peer ([MQTT-4.3.3-11]): PUBCOMP with the same identifier; the
    /// identifier may be used for a new message afterwards ([MQTT-4.3.3-12]).
    pub(crate) fn on_pubrel(&mut self, packet_id: PacketId) -> Result<(), ProtocolError> {
        let mut comp = shared::PubComp::new(packet_id);
        match self.session.incoming_index(packet_id) {
            Some(i) => {
                if self.session.incoming.get(i).map(|r| r.flow) == Some(ReceiverFlow::AwaitAppAck) {
                    // PUBREL before our PUBREC: the peer skipped a step.
                    return Err(ProtocolError::UnexpectedPacket {
                        state: self.state,
                        packet: PacketType::PubRel,
                    });
                }
                self.remove_incoming(i);
            }
            None => {
                if self.is_v5() {
                    comp.reason = crate::PubCompReason::PacketIdentifierNotFound;
                }
            }
        }
        let _ = self.send(&Packet::<Bytes, ByteString>::PubComp(comp));
        Ok(())
    }

    /// The application's answer to an incoming message (`reason` as a byte: 0 accepts).
    pub(crate) fn ack(
        &mut self,
        packet_id: PacketId,
        reason: u8,
        properties: shared::AckProperties,
    ) -> Result<(), CommandError> {
        if self.state == ConnState::Closed {
            return Err(CommandError::WrongState { state: self.state });
        }
        if !self.is_v5() && (reason != 0 || !properties.is_empty()) {
            return Err(CommandError::NotSupported(
                "reason codes and properties before MQTT 5.0",
            ));
        }
        if !self
            .acks
            .iter()
            .any(|a| a.packet_id == packet_id && a.answer.is_none())
        {
            return Err(CommandError::UnknownPacketId(packet_id));
        }
        let ok = match self.acks.iter().find(|a| a.packet_id == packet_id) {
            Some(a) if a.qos == QoS::AtLeastOnce => PubAckReason::try_from(reason).is_ok(),
            _ => PubRecReason::try_from(reason).is_ok(),
        };
        if !ok {
            return Err(CommandError::InvalidReasonCode(reason));
        }
        self.answer(packet_id, reason, properties);
        Ok(())
    }

    /// Records an answer and sends every answer now at the front, in arrival order.
    fn answer(&mut self, packet_id: PacketId, reason: u8, properties: shared::AckProperties) {
        if let Some(a) = self
            .acks
            .iter_mut()
            .find(|a| a.packet_id == packet_id && a.answer.is_none())
        {
            a.answer = Some((reason, properties));
        }
        self.flush_acks();
    }

    /// Sends the answers at the front of the queue that are ready, in arrival order; held
    /// while not connected ([MQTT-3.1.2-30]: nothing but AUTH before CONNACK).
    pub(crate) fn flush_acks(&mut self) {
        if self.state != ConnState::Connected {
            return;
        }
        if self.ack_mode == AckMode::Automatic {
            // Messages of a resumed session that were never answered.
            for a in self.acks.iter_mut() {
                if a.answer.is_none() {
                    a.answer = Some((0, shared::AckProperties::new()));
                }
            }
        }
        while self.acks.front().is_some_and(|a| a.answer.is_some()) {
            let Some(PendingAck {
                packet_id,
                qos,
                answer: Some((reason, properties)),
            }) = self.acks.pop_front()
            else {
                break;
            };
            let packet: shared::Packet = if qos == QoS::AtLeastOnce {
                self.qos1_pending = self.qos1_pending.saturating_sub(1);
                // [MQTT-4.3.2-4]: PUBACK with the PUBLISH's identifier.
                Packet::PubAck(shared::PubAck {
                    packet_id,
                    dup: false,
                    reason: PubAckReason::try_from(reason).unwrap_or_default(),
                    properties,
                })
            } else {
                // [MQTT-4.3.3-8]: PUBREC; after an error code the identifier is free
                // for a new message ([MQTT-4.3.3-9]).
                if let Some(i) = self.session.incoming_index(packet_id) {
                    if reason >= 0x80 {
                        self.remove_incoming(i);
                    } else if let Some(r) = self.session.incoming.get_mut(i) {
                        r.flow = ReceiverFlow::AwaitPubRel;
                    }
                }
                Packet::PubRec(shared::PubRec {
                    packet_id,
                    dup: false,
                    reason: PubRecReason::try_from(reason).unwrap_or_default(),
                    properties,
                })
            };
            let _ = self.send_trimmed(packet);
        }
    }

    /// The number of outgoing messages whose PUBLISH went out on this connection and
    /// whose flow has not ended.
    pub(crate) fn in_flight(&self) -> usize {
        usize::from(self.quota)
    }

    /// Removes incoming record `i` and its connection mark.
    fn remove_incoming(&mut self, i: usize) {
        if i < self.session.incoming.len() {
            self.session.incoming.remove(i);
        }
        if i < self.old_incoming {
            self.old_incoming -= 1;
        }
    }

    /// Closes for a keep-alive timeout; a server first sends DISCONNECT 0x8D at 5.0 (the
    /// code is the server's to send), a client just closes.
    pub(crate) fn keep_alive_disconnect(&mut self, send: bool) {
        if send && self.is_v5() && self.state == ConnState::Connected {
            let d = shared::Disconnect::new(DisconnectReason::KeepAliveTimeout);
            let _ = self.send_trimmed(Packet::Disconnect(d));
        }
        self.close(CloseReason::KeepAliveTimeout);
    }
}
