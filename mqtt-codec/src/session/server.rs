//! The server connection machine (MQTT 3.1, 3.1.1 and 5.0): one client's network
//! connection, seen from the broker.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::num::{NonZeroU16, NonZeroU32};
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;

use super::error::{CloseReason, CommandError, ConnState, ProtocolError};
use super::link::{AckMode, AliasPolicy, Link};
use super::state::{Session, SubscriptionRecord};
use super::{common_api, Event};
use crate::generic::Packet;
use crate::time::Instant;
use crate::{
    shared, AuthReason, ByteString, ConnectReason, DisconnectReason, MaximumQos, PacketId,
    PacketType, Protocol, QoS, SubAckReason, UnsubAckReason, DEFAULT_MAX_PACKET_SIZE,
};

/// Numbers identifiers assigned to clients that sent none: with the time they are made at,
/// unique within the process.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// The limits a [`Server`] announces in CONNACK and enforces, and how it behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOptions {
    /// Our Receive Maximum: more unacknowledged QoS 1 and 2 messages from the client is
    /// an error (0x93).
    pub receive_maximum: NonZeroU16,
    /// The largest packet we accept (0x95 above it).
    pub maximum_packet_size: NonZeroU32,
    /// Our Topic Alias Maximum (0x94 above it).
    pub topic_alias_maximum: u16,
    /// The highest QoS we accept in PUBLISH ([MQTT-3.2.2-9]).
    pub maximum_qos: QoS,
    /// Whether retained messages are accepted.
    pub retain_available: bool,
    /// Wildcard subscriptions, shared subscriptions and subscription identifiers, as
    /// announced (the application enforces them in its SUBACK).
    pub wildcard_subscription_available: bool,
    /// See `wildcard_subscription_available`.
    pub shared_subscription_available: bool,
    /// See `wildcard_subscription_available`.
    pub subscription_identifiers_available: bool,
    /// A Keep Alive that replaces the client's (MQTT 5.0 Server Keep Alive).
    pub server_keep_alive: Option<u16>,
    /// How incoming QoS 1 and 2 messages are acknowledged.
    pub ack_mode: AckMode,
    /// How outgoing PUBLISH packets get topic aliases.
    pub alias_policy: AliasPolicy,
    /// How long a new connection may take to send CONNECT.
    pub connect_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            receive_maximum: NonZeroU16::MAX,
            maximum_packet_size: NonZeroU32::new(DEFAULT_MAX_PACKET_SIZE)
                .unwrap_or(NonZeroU32::MAX),
            topic_alias_maximum: 0,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            wildcard_subscription_available: true,
            shared_subscription_available: true,
            subscription_identifiers_available: true,
            server_keep_alive: None,
            ack_mode: AckMode::Automatic,
            alias_policy: AliasPolicy::None,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// What [`ServerOptions`] says about what we accept and announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    receive_maximum: NonZeroU16,
    maximum_packet_size: NonZeroU32,
    topic_alias_maximum: u16,
    maximum_qos: QoS,
    retain_available: bool,
    wildcard_subscription_available: bool,
    shared_subscription_available: bool,
    subscription_identifiers_available: bool,
    server_keep_alive: Option<u16>,
}

impl From<&ServerOptions> for Limits {
    fn from(o: &ServerOptions) -> Self {
        Limits {
            receive_maximum: o.receive_maximum,
            maximum_packet_size: o.maximum_packet_size,
            topic_alias_maximum: o.topic_alias_maximum,
            maximum_qos: o.maximum_qos,
            retain_available: o.retain_available,
            wildcard_subscription_available: o.wildcard_subscription_available,
            shared_subscription_available: o.shared_subscription_available,
            subscription_identifiers_available: o.subscription_identifiers_available,
            server_keep_alive: o.server_keep_alive,
        }
    }
}

/// One client's network connection, on the server side.
///
/// Methods, in the order of the [module docs](super): getters (`state`, `protocol`,
/// `session`, `in_flight`, `client_id`, `keep_alive`); inputs (`handle_bytes`,
/// `handle_read_buf`, `handle_timeout`, `handle_link_lost`); commands (`accept`, `refuse`,
/// `publish`, `suback`, `unsuback`, `ack`, `ack_with`, `auth`, `disconnect`); outputs
/// (`poll_transmit`, `poll_event`, `poll_timeout`).
#[derive(Debug)]
pub struct Server {
    link: Link,
    /// The options that matter after construction (the timeout and the modes are
    /// applied in `new`): an idle connection's size is a number we publish.
    options: Limits,
    client_id: ByteString,
    keep_alive: u16,
    clean_start: bool,
    /// The client's Request Response Information and Request Problem Information.
    response_info: bool,
    problem_info: bool,
    will: Option<Box<shared::Will>>,
    will_delay: u32,
    session_expiry: u32,
    /// The CONNECT's Session Expiry Interval: a DISCONNECT may not raise it from 0.
    connect_expiry: u32,
    connect_deadline: Option<Instant>,
    will_due: Option<Instant>,
    expiry_due: Option<Instant>,
    /// SUBSCRIBE and UNSUBSCRIBE packets the application has not answered yet.
    pending: Vec<Pending>,
}

#[derive(Debug, Clone)]
enum Pending {
    Subscribe(shared::Subscribe),
    Unsubscribe(shared::Unsubscribe),
}

impl Pending {
    fn packet_id(&self) -> PacketId {
        match self {
            Pending::Subscribe(s) => s.packet_id,
            Pending::Unsubscribe(u) => u.packet_id,
        }
    }
}

impl Server {
    /// A server connection, opened at `now`, waiting for the client's CONNECT (for at
    /// most `options.connect_timeout`).
    pub fn new(now: Instant, options: ServerOptions) -> Self {
        let mut link = Link::new(Protocol::V3_1_1, Session::new());
        link.tick(now);
        link.last_received = now;
        link.state = ConnState::AwaitConnect;
        link.ack_mode = options.ack_mode;
        link.alias_policy = options.alias_policy;
        link.decoder = crate::Decoder::new(Protocol::V3_1_1)
            .max_packet_size(options.maximum_packet_size.get());
        Server {
            link,
            options: Limits::from(&options),
            client_id: ByteString::new(),
            keep_alive: 0,
            clean_start: true,
            response_info: false,
            problem_info: true,
            will: None,
            will_delay: 0,
            session_expiry: 0,
            connect_expiry: 0,
            connect_deadline: Some(now + options.connect_timeout),
            will_due: None,
            expiry_due: None,
            pending: Vec::new(),
        }
    }

    common_api!();

    /// The client identifier: the CONNECT's, or the one assigned in `accept`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The Keep Alive in force, in seconds.
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }

    /// Accepts the CONNECT ([MQTT-3.1.4-4], [MQTT-3.1.4-5]): CONNACK 0 with the limits of
    /// [`ServerOptions`] and the application's `properties` (authentication data, user
    /// properties; an Assigned Client Identifier for a client that sent an empty one at 5.0,
    /// else the machine makes one, unique in the process, [MQTT-3.1.3-7]). `session` is the state the application kept for this client
    /// identifier, if any: unless the CONNECT asked for a clean start, it is resumed,
    /// Session Present is 1 and what was in flight is resent ([MQTT-3.2.2-2],
    /// [MQTT-3.2.2-3], [MQTT-4.4.0-1]); otherwise the session starts empty
    /// ([MQTT-3.1.2-4], [MQTT-3.2.2-1]).
    pub fn accept(
        &mut self,
        now: Instant,
        session: Option<Session>,
        mut properties: shared::ConnAckProperties,
    ) -> Result<(), CommandError> {
        self.link.tick(now);
        if self.link.state != ConnState::AwaitAccept {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        let v5 = self.link.is_v5();
        if v5 && self.client_id.is_empty() {
            // [MQTT-3.1.3-7]: the application's identifier, or one made here, unique in
            // this process: the time and a counter.
            let id = match properties.assigned_client_identifier() {
                Some(id) if !id.get().is_empty() => ByteString::from(id.get()),
                _ => {
                    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                    ByteString::from(alloc::format!("auto-{:x}-{n:x}", self.link.now.as_millis()))
                }
            };
            if let Ok(s) = crate::Str::new(&id) {
                properties.set_assigned_client_identifier(s);
            }
            self.client_id = id;
        }
        let clean = self.clean_start;
        // MQTT 3.1's CONNACK has no Session Present flag.
        let present = !clean && session.is_some() && self.link.protocol != Protocol::V3_1;
        let mut connack = shared::ConnAck::new(ConnectReason::Success, present);
        if v5 {
            // The limits: the application's where it set them in `properties`, else the
            // options'; whichever is announced is what is enforced.
            let o = &self.options;
            if properties.receive_maximum().is_none() && o.receive_maximum.get() != u16::MAX {
                properties.set_receive_maximum(o.receive_maximum);
            }
            if properties.maximum_packet_size().is_none()
                && o.maximum_packet_size.get() < crate::MAX_PACKET_SIZE
            {
                properties.set_maximum_packet_size(o.maximum_packet_size);
            }
            if properties.topic_alias_maximum().is_none() && o.topic_alias_maximum > 0 {
                properties.set_topic_alias_maximum(o.topic_alias_maximum);
            }
            if properties.maximum_qos().is_none() {
                match o.maximum_qos {
                    QoS::AtMostOnce => {
                        properties.set_maximum_qos(MaximumQos::AtMostOnce);
                    }
                    QoS::AtLeastOnce => {
                        properties.set_maximum_qos(MaximumQos::AtLeastOnce);
                    }
                    QoS::ExactlyOnce => {}
                }
            }
            if properties.retain_available().is_none() && !o.retain_available {
                properties.set_retain_available(false);
            }
            if properties.wildcard_subscription_available().is_none()
                && !o.wildcard_subscription_available
            {
                properties.set_wildcard_subscription_available(false);
            }
            if properties.shared_subscription_available().is_none()
                && !o.shared_subscription_available
            {
                properties.set_shared_subscription_available(false);
            }
            if properties.subscription_identifiers_available().is_none()
                && !o.subscription_identifiers_available
            {
                properties.set_subscription_identifiers_available(false);
            }
            if properties.server_keep_alive().is_none() {
                if let Some(k) = o.server_keep_alive {
                    properties.set_server_keep_alive(k);
                }
            }
            if let Some(m) = self.link.auth_method.clone() {
                // [MQTT-4.12.0-5]: CONNACK repeats the method.
                if let Ok(m) = crate::Str::new(&m) {
                    properties.set_authentication_method(m);
                }
            }
            if !self.response_info {
                // [MQTT-3.1.2-28]
                properties.remove_response_information();
            }
            if self.link.auth_method.is_none() {
                // [MQTT-4.12.0-6]: no method in CONNECT, none in CONNACK.
                properties.remove_authentication_method();
                properties.remove_authentication_data();
            }
            // What CONNACK says is what holds from now on.
            let p = &properties;
            if let Some(e) = p.session_expiry_interval() {
                self.session_expiry = e;
            }
            if let Some(k) = p.server_keep_alive() {
                // [MQTT-3.2.2-21], [MQTT-3.2.2-22]
                self.keep_alive = k;
            }
            self.link.receive_max = p.receive_maximum().map_or(u16::MAX, |n| n.get());
            self.link.alias_in_max = p.topic_alias_maximum().unwrap_or(0);
            self.link.accept_max_qos = match p.maximum_qos() {
                Some(MaximumQos::AtMostOnce) => QoS::AtMostOnce,
                Some(MaximumQos::AtLeastOnce) => QoS::AtLeastOnce,
                None => QoS::ExactlyOnce,
            };
            self.link.accept_retain = p.retain_available().unwrap_or(true);
            if let Some(n) = p.maximum_packet_size() {
                self.link.decoder = self.link.decoder.max_packet_size(n.get());
            }
            connack.properties = properties;
        }
        // [MQTT-3.2.0-1]: CONNACK first.
        self.link.send_trimmed(Packet::ConnAck(connack))?;
        self.link.session = match session {
            Some(s) if !clean => s,
            _ => Session::new(),
        };
        self.link.attach_session();
        self.link.strip_problem_info = !self.problem_info;
        self.link.state = ConnState::Connected;
        self.link.trim_pending = true;
        self.connect_deadline = None;
        self.link.last_received = self.link.now;
        // [MQTT-4.4.0-1]: what was in flight goes again, in order; answers held for a
        // resumed session's messages go too.
        self.link.pump();
        self.link.flush_acks();
        // Packets the client sent after CONNECT waited for this answer.
        self.process();
        Ok(())
    }

    /// Refuses the CONNECT with `reason`: CONNACK with it, then the connection closes
    /// ([MQTT-3.2.2-5], [MQTT-3.2.2-7]). At 3.x a reason without a 3.x return code closes
    /// without CONNACK ([MQTT-3.2.2-6]).
    pub fn refuse(&mut self, now: Instant, reason: ConnectReason) -> Result<(), CommandError> {
        self.link.tick(now);
        if self.link.state != ConnState::AwaitAccept || reason == ConnectReason::Success {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        if self.link.is_v5() || reason.v3_code().is_some() {
            let _ = self
                .link
                .send_trimmed(Packet::ConnAck(shared::ConnAck::new(reason, false)));
        }
        // [MQTT-3.1.4-5], [MQTT-3.1.4-6]: nothing the client sent afterwards is read.
        self.will = None;
        self.link.close(CloseReason::Refused(reason));
        Ok(())
    }

    /// Answers the SUBSCRIBE `packet_id` with one reason code per filter, in order
    /// ([MQTT-3.8.4-1], [MQTT-3.8.4-2], [MQTT-3.8.4-5], [MQTT-3.9.3-1]); the granted ones
    /// replace any subscription of the session with the same filter.
    pub fn suback(
        &mut self,
        packet_id: PacketId,
        reasons: &[SubAckReason],
        properties: shared::AckProperties,
    ) -> Result<(), CommandError> {
        self.require_connected()?;
        let Some(i) = self.pending_index(packet_id, true) else {
            return Err(CommandError::UnknownPacketId(packet_id));
        };
        let Some(Pending::Subscribe(s)) = self.pending.get(i) else {
            return Err(CommandError::UnknownPacketId(packet_id));
        };
        let expected = s.subscriptions.len();
        if reasons.len() != expected {
            return Err(CommandError::ReasonCountMismatch {
                got: reasons.len(),
                expected,
            });
        }
        let identifier = s.properties.subscription_identifier();
        let mut ack = shared::SubAck::new(
            packet_id,
            reasons.iter().copied().collect::<shared::Seq<_>>(),
        );
        ack.properties = properties;
        self.link.send_trimmed(Packet::SubAck(ack))?;
        let s = s.clone();
        for (sub, reason) in s.subscriptions.iter().zip(reasons) {
            let Some(qos) = reason.granted_qos() else {
                continue;
            };
            // A copy: a slice would keep the SUBSCRIBE's whole receive buffer alive for the
            // life of the session.
            let mut granted = crate::generic::Subscription {
                filter: crate::generic::TopicFilter::from_checked(ByteString::from(
                    sub.filter.as_str(),
                )),
                options: sub.options,
            };
            granted.options.qos = qos;
            let subs = &mut self.link.session.subscriptions;
            let record = SubscriptionRecord {
                subscription: granted,
                identifier,
            };
            match subs
                .iter_mut()
                .find(|r| r.subscription.filter == record.subscription.filter)
            {
                Some(r) => *r = record,
                None => subs.push(record),
            }
        }
        self.pending.remove(i);
        Ok(())
    }

    /// Answers the UNSUBSCRIBE `packet_id` ([MQTT-3.10.4-4], [MQTT-3.10.4-5]), even when
    /// nothing was subscribed; at 5.0 `reasons` has one code per filter, in order
    /// ([MQTT-3.11.3-1]), at 3.x it is ignored. The filters leave the session.
    pub fn unsuback(
        &mut self,
        packet_id: PacketId,
        reasons: &[UnsubAckReason],
        properties: shared::AckProperties,
    ) -> Result<(), CommandError> {
        self.require_connected()?;
        let Some(i) = self.pending_index(packet_id, false) else {
            return Err(CommandError::UnknownPacketId(packet_id));
        };
        let Some(Pending::Unsubscribe(u)) = self.pending.get(i) else {
            return Err(CommandError::UnknownPacketId(packet_id));
        };
        let u = u.clone();
        let v5 = self.link.is_v5();
        let expected = u.filters.len();
        if v5 && reasons.len() != expected {
            return Err(CommandError::ReasonCountMismatch {
                got: reasons.len(),
                expected,
            });
        }
        let mut ack = if v5 {
            shared::UnsubAck::new(
                packet_id,
                reasons.iter().copied().collect::<shared::Seq<_>>(),
            )
        } else {
            shared::UnsubAck::new(packet_id, shared::Seq::new())
        };
        ack.properties = properties;
        self.link.send_trimmed(Packet::UnsubAck(ack))?;
        for f in u.filters.iter() {
            self.link
                .session
                .subscriptions
                .retain(|r| r.subscription.filter.as_str() != f.as_str());
        }
        self.pending.remove(i);
        Ok(())
    }

    /// Sends AUTH with the connection's Authentication Method: `ContinueAuthentication`
    /// during an exchange ([MQTT-4.12.0-2]), `Success` to end a re-authentication.
    pub fn auth(
        &mut self,
        reason: AuthReason,
        properties: shared::AuthProperties,
    ) -> Result<(), CommandError> {
        self.link.send_auth(
            ConnState::AwaitAccept,
            AuthReason::ReAuthenticate,
            reason,
            properties,
        )
    }

    /// Sends DISCONNECT (MQTT 5.0; at 3.x the server just closes) and closes. Only after a
    /// successful CONNACK ([MQTT-3.14.0-1]).
    pub fn disconnect_with(&mut self, d: shared::Disconnect) -> Result<(), CommandError> {
        if self.link.state != ConnState::Connected {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        let sent = if self.link.is_v5() {
            self.link.disconnect(d)
        } else {
            self.link.close(CloseReason::Disconnected(d.reason));
            Ok(())
        };
        // Only the client's own normal DISCONNECT cancels its Will.
        self.connection_ended(false);
        sent
    }

    /// Forgets the Will without publishing it: another connection took the session over
    /// ([MQTT-3.1.3-9] at 5.0 publishes it then; the application decides), or the
    /// application published it already.
    pub fn discard_will(&mut self) -> Option<shared::Will> {
        self.will_due = None;
        self.will.take().map(|w| *w)
    }

    /// Acts on the deadlines that have passed: the client silent for one and a half
    /// times its Keep Alive ([MQTT-3.1.2-24], [MQTT-3.1.2-22]), or no CONNECT in time; the
    /// Will due; the session expired. A call before any deadline does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.tick(now);
        let now = self.link.now;
        match self.link.state {
            ConnState::AwaitConnect | ConnState::AwaitAccept
                if self.connect_deadline.is_some_and(|d| now >= d) =>
            {
                // Never accepted: no session, no Will.
                self.will = None;
                self.link.close(CloseReason::KeepAliveTimeout);
            }
            ConnState::Connected if self.idle_deadline().is_some_and(|d| now >= d) => {
                self.link.keep_alive_disconnect(true);
                self.connection_ended(false);
            }
            _ => {}
        }
        if self.will_due.is_some_and(|d| now >= d) {
            self.will_due = None;
            if let Some(w) = self.will.take() {
                self.link.push_event(Event::Will(w));
            }
        }
        if self.expiry_due.is_some_and(|d| now >= d) {
            self.expiry_due = None;
            // The Will goes at the latest when the session ends (MQTT 5.0 §3.1.3.2.2).
            if let Some(w) = self.will.take() {
                self.will_due = None;
                self.link.push_event(Event::Will(w));
            }
            self.link.push_event(Event::SessionExpired);
        }
    }

    /// When `handle_timeout` must be called next; `None` when no deadline is set.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conn = match self.link.state {
            ConnState::AwaitConnect | ConnState::AwaitAccept => self.connect_deadline,
            ConnState::Connected => self.idle_deadline(),
            _ => None,
        };
        [conn, self.will_due, self.expiry_due]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- internals ----

    fn idle_deadline(&self) -> Option<Instant> {
        if self.keep_alive == 0 {
            return None;
        }
        // One and a half times, in milliseconds.
        Some(
            self.link
                .last_received
                .plus_millis(u64::from(self.keep_alive) * 1500),
        )
    }

    fn pending_index(&self, id: PacketId, subscribe: bool) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| p.packet_id() == id && matches!(p, Pending::Subscribe(_)) == subscribe)
    }

    fn publish_inner(
        &mut self,
        message: shared::Publish,
        qos: QoS,
    ) -> Result<Option<PacketId>, CommandError> {
        // Before `accept` the session is not chosen yet (a stored one may replace it): a
        // message has nowhere to wait. After the connection closed it waits in the
        // session, for the broker to take with it.
        if matches!(
            self.link.state,
            ConnState::AwaitConnect | ConnState::AwaitAccept
        ) {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        self.link.publish(message, qos, |_| false)
    }

    fn lost(&mut self) {
        match self.link.state {
            ConnState::Closed => {}
            ConnState::Connected => {
                self.link.close(CloseReason::LinkLost);
                self.connection_ended(false);
            }
            _ => {
                // Never accepted: no session, no Will.
                self.will = None;
                self.link.close(CloseReason::LinkLost);
            }
        }
    }

    fn require_connected(&self) -> Result<(), CommandError> {
        if self.link.state == ConnState::Connected {
            Ok(())
        } else {
            Err(CommandError::WrongState {
                state: self.link.state,
            })
        }
    }

    /// After the network connection ended: the Will is due after its delay unless the
    /// client disconnected normally ([MQTT-3.1.2-10], [MQTT-3.14.4-3]); the session
    /// expires after its interval.
    fn connection_ended(&mut self, normal: bool) {
        let now = self.link.now;
        if normal {
            self.will = None;
        } else if self.will.is_some() {
            self.will_due = Some(now.plus_secs(u64::from(self.will_delay)));
        }
        if self.session_expiry != u32::MAX {
            self.expiry_due = Some(now.plus_secs(u64::from(self.session_expiry)));
        }
        if self.will_due.is_some() && self.will_delay == 0 {
            // Due now: hand it over at once.
            self.handle_timeout(now);
        }
    }

    fn process(&mut self) {
        loop {
            if self.link.state == ConnState::AwaitAccept {
                // Only AUTH is read while the application decides (MQTT 5.0 §4.12); the
                // rest waits in the buffer until CONNACK, up to one maximum packet.
                if self.link.peek_type() != Some(PacketType::Auth as u8) {
                    let limit = self.options.maximum_packet_size.get() as usize;
                    if self.link.rx_len() > limit {
                        self.violation(ProtocolError::BufferLimit { limit });
                    }
                    return;
                }
            }
            let Some(next) = self.link.next_packet() else {
                return;
            };
            let result = match next {
                Ok(p) => self.on_packet(p),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                self.violation(e);
            }
        }
    }

    /// Closes for a violation: before CONNACK with a refusing CONNACK where a code fits,
    /// after it with DISCONNECT at 5.0.
    fn violation(&mut self, e: ProtocolError) {
        match self.link.state {
            ConnState::AwaitConnect | ConnState::AwaitAccept => {
                let reason = e.connack_reason();
                // A CONNECT of another level than we guessed: 3.1.1 CONNACK for the codes
                // 3.x knows (0x01 for an unsupported level, [MQTT-3.1.2-2]).
                let v5 = self.link.is_v5() && self.link.state == ConnState::AwaitAccept;
                if v5 || (matches!(e, ProtocolError::Decode(_)) && reason.v3_code().is_some()) {
                    let _ = self
                        .link
                        .send_trimmed(Packet::ConnAck(shared::ConnAck::new(reason, false)));
                }
                self.link.close(CloseReason::ProtocolError(e));
                self.will = None;
            }
            _ => {
                self.link.fail(e, true);
                self.connection_ended(false);
            }
        }
    }

    fn unexpected(&self, packet: PacketType) -> ProtocolError {
        ProtocolError::UnexpectedPacket {
            state: self.link.state,
            packet,
        }
    }

    fn on_packet(&mut self, p: shared::Packet) -> Result<(), ProtocolError> {
        match self.link.state {
            ConnState::AwaitConnect => {
                return match p {
                    Packet::Connect(c) => self.on_connect(c),
                    // [MQTT-3.1.0-1]: CONNECT first.
                    other => Err(self.unexpected(other.packet_type())),
                };
            }
            ConnState::AwaitAccept => {
                return match p {
                    Packet::Auth(a) => {
                        self.link
                            .on_auth(a, ConnState::AwaitAccept, AuthReason::Success)
                    }
                    other => Err(self.unexpected(other.packet_type())),
                }
            }
            _ => {}
        }
        let Some(p) = self.link.on_flow_packet(p)? else {
            return Ok(());
        };
        match p {
            Packet::Subscribe(s) => {
                self.check_pending(PacketType::Subscribe, s.packet_id)?;
                self.check_subscribe(&s)?;
                self.pending.push(Pending::Subscribe(s.clone()));
                self.link.push_event(Event::Subscribe(s));
                Ok(())
            }
            Packet::Unsubscribe(u) => {
                self.check_pending(PacketType::Unsubscribe, u.packet_id)?;
                self.pending.push(Pending::Unsubscribe(u.clone()));
                self.link.push_event(Event::Unsubscribe(u));
                Ok(())
            }
            Packet::PingReq => {
                // [MQTT-3.12.4-1]
                self.link.send_simple(Packet::PingResp);
                Ok(())
            }
            Packet::Disconnect(d) => {
                // Only a normal disconnection deletes the Will ([MQTT-3.1.2-10],
                // [MQTT-3.14.4-3]); 0x04 and the error codes keep it.
                let normal = d.reason == DisconnectReason::NormalDisconnection;
                if let Some(e) = d.properties.session_expiry_interval() {
                    // MQTT 5.0 §3.14.2.2.2: not from 0 to non-zero.
                    if self.connect_expiry == 0 && e != 0 {
                        return Err(ProtocolError::UnexpectedPacket {
                            state: self.link.state,
                            packet: PacketType::Disconnect,
                        });
                    }
                    self.session_expiry = e;
                }
                self.link.close(CloseReason::PeerDisconnected(d));
                // [MQTT-3.14.4-3]: a normal DISCONNECT drops the Will.
                self.connection_ended(normal);
                Ok(())
            }
            Packet::Auth(a) => self
                .link
                .on_auth(a, ConnState::AwaitAccept, AuthReason::Success),
            // [MQTT-3.1.0-2]: a second CONNECT; and what only a server sends.
            other => Err(self.unexpected(other.packet_type())),
        }
    }

    /// [MQTT-2.3.1-2] from the client: an identifier of a request still unanswered is in
    /// use. (This also bounds the unanswered requests to the 65,535 identifiers.)
    fn check_pending(&self, packet: PacketType, packet_id: PacketId) -> Result<(), ProtocolError> {
        if self.pending.iter().any(|p| p.packet_id() == packet_id) {
            return Err(ProtocolError::PacketIdInUse { packet, packet_id });
        }
        Ok(())
    }

    /// A SUBSCRIBE using what CONNACK announced unavailable is a protocol error with its
    /// own reason code (MQTT 5.0 §3.2.2.3.11 to §3.2.2.3.13).
    fn check_subscribe(&self, s: &shared::Subscribe) -> Result<(), ProtocolError> {
        if !self.link.is_v5() {
            return Ok(());
        }
        let o = &self.options;
        if !o.subscription_identifiers_available && s.properties.subscription_identifier().is_some()
        {
            return Err(ProtocolError::NotSupported(
                DisconnectReason::SubscriptionIdentifiersNotSupported,
            ));
        }
        for sub in s.subscriptions.iter() {
            if !o.shared_subscription_available && sub.filter.shared().is_some() {
                return Err(ProtocolError::NotSupported(
                    DisconnectReason::SharedSubscriptionsNotSupported,
                ));
            }
            if !o.wildcard_subscription_available && sub.filter.has_wildcards() {
                return Err(ProtocolError::NotSupported(
                    DisconnectReason::WildcardSubscriptionsNotSupported,
                ));
            }
        }
        Ok(())
    }

    fn on_connect(&mut self, c: shared::Connect) -> Result<(), ProtocolError> {
        self.link.set_protocol(c.protocol);
        // Copies: slices would keep the CONNECT's receive buffer alive.
        self.client_id = ByteString::from(c.client_id.as_str());
        self.keep_alive = c.keep_alive;
        self.clean_start = c.clean_start;
        let p = &c.properties;
        if c.protocol.is_v5() {
            // The client's limits on what we send ([MQTT-3.3.4-9], [MQTT-3.1.2-24],
            // [MQTT-3.1.2-26], [MQTT-3.1.2-27]).
            self.link.send_max = p.receive_maximum().map_or(u16::MAX, |n| n.get());
            if let Some(n) = p.maximum_packet_size() {
                self.link.encoder = crate::Encoder::new(c.protocol).max_packet_size(n.get());
            }
            self.link.alias_out_max = p.topic_alias_maximum().unwrap_or(0);
            self.link.auth_method = p
                .authentication_method()
                .map(|m| Box::new(ByteString::from(m.get())));
            self.session_expiry = p.session_expiry_interval().unwrap_or(0);
            self.connect_expiry = self.session_expiry;
            self.response_info = p.request_response_information().unwrap_or(false);
            self.problem_info = p.request_problem_information().unwrap_or(true);
            // [MQTT-3.1.2-29] holds for AUTH during the handshake too.
            self.link.strip_problem_info = !self.problem_info;
        } else {
            // 3.x: a clean session ends with the connection; otherwise it lasts.
            self.session_expiry = if c.clean_start { 0 } else { u32::MAX };
        }
        if let Some(w) = &c.will {
            self.will_delay = w.properties.will_delay_interval().unwrap_or(0);
            self.will = Some(Box::new(w.view().share(None)));
        }
        self.link.state = ConnState::AwaitAccept;
        self.link.push_event(Event::Connect(Box::new(c)));
        Ok(())
    }
}
