//! The client connection machine (MQTT 3.1, 3.1.1 and 5.0).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use super::error::{CloseReason, CommandError, ConnState, ProtocolError};
use super::link::{AckMode, AliasPolicy, Link};
use super::state::Session;
use super::{common_api, Event};
use crate::generic::Packet;
use crate::time::Instant;
use crate::{
    shared, AuthReason, ByteString, ConnectReason, MaximumQos, PacketId, PacketType, QoS,
    DEFAULT_MAX_PACKET_SIZE,
};

/// How a [`Client`] behaves, beyond what its CONNECT says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// How incoming QoS 1 and 2 messages are acknowledged.
    pub ack_mode: AckMode,
    /// How outgoing PUBLISH packets get topic aliases (MQTT 5.0).
    pub alias_policy: AliasPolicy,
    /// How long to wait for PINGRESP after PINGREQ (never longer than the Keep Alive), and
    /// for CONNACK after CONNECT, before the connection counts as lost.
    pub response_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ack_mode: AckMode::Automatic,
            alias_policy: AliasPolicy::None,
            response_timeout: Duration::from_secs(10),
        }
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE waiting for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Request {
    packet_id: PacketId,
    kind: PacketType,
    filters: usize,
}

/// What the server announced in CONNACK that limits subscriptions (MQTT 5.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ServerSupport {
    wildcards: bool,
    shared: bool,
    subscription_ids: bool,
}

/// One client network connection, on a session that may outlive it.
///
/// Methods, in the order of the [module docs](super): getters (`state`, `protocol`,
/// `session`, `in_flight`, `keep_alive`, `client_id`); inputs (`handle_bytes`,
/// `handle_read_buf`, `handle_timeout`, `handle_link_lost`); commands (`connect`,
/// `reconnect`, `publish`, `subscribe`, `unsubscribe`, `ack`, `ack_with`, `ping`, `auth`,
/// `disconnect`); outputs (`poll_transmit`, `poll_event`, `poll_timeout`).
#[derive(Debug)]
pub struct Client {
    link: Link,
    /// The CONNECT to send, encoded: a few dozen bytes where the packet value would take
    /// 240 (an idle connection's size is a number we publish).
    connect: Bytes,
    /// [`ClientOptions::response_timeout`], in milliseconds.
    response_ms: u64,
    /// The Keep Alive in force: ours, or the server's ([MQTT-3.1.2-21], [MQTT-3.2.2-21]).
    keep_alive: u16,
    /// The CONNECT of this connection asked for a clean start.
    clean_sent: bool,
    /// Before CONNACK, when it must have come; once connected, when the PINGRESP to the
    /// PINGREQ sent must have come (`None`: no PINGREQ outstanding).
    deadline: Option<Instant>,
    requests: Vec<Request>,
    support: ServerSupport,
}

impl Client {
    /// A client that will send `connect` (its protocol level, client identifier, Keep
    /// Alive, Clean Start, Will, credentials and properties: our Receive Maximum, Maximum
    /// Packet Size and Topic Alias Maximum are read from it) on `session`, which is empty
    /// or the state kept from an earlier connection. Refused when the CONNECT does not
    /// encode.
    pub fn new(
        connect: shared::Connect,
        options: ClientOptions,
        session: Session,
    ) -> Result<Self, CommandError> {
        let encoded = encode_connect(&connect)?;
        let mut link = Link::new(connect.protocol, session);
        link.ack_mode = options.ack_mode;
        link.alias_policy = options.alias_policy;
        Ok(Client {
            link,
            keep_alive: connect.keep_alive,
            clean_sent: connect.clean_start,
            connect: encoded,
            response_ms: u64::try_from(options.response_timeout.as_millis()).unwrap_or(u64::MAX),
            deadline: None,
            requests: Vec::new(),
            support: ServerSupport {
                wildcards: true,
                shared: true,
                subscription_ids: true,
            },
        })
    }

    common_api!();

    /// The Keep Alive in force, in seconds: the CONNECT's, or the server's once CONNACK
    /// carried one.
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }

    /// The client identifier: the CONNECT's, or the one the server assigned.
    pub fn client_id(&self) -> &str {
        match self.template() {
            Some(c) => c.client_id.get(),
            None => "",
        }
    }

    /// The CONNECT, decoded from its bytes (which this machine encoded: it decodes).
    fn template(&self) -> Option<crate::Connect<'_>> {
        match template_decoder().decode(&self.connect) {
            Ok(crate::Decoded::Complete(Packet::Connect(c), _)) => Some(c),
            _ => None,
        }
    }

    /// Opens the connection: CONNECT is the first packet ([MQTT-3.1.0-1]). With Clean
    /// Start the session is emptied first ([MQTT-3.1.2-4], [MQTT-3.1.2-6]).
    pub fn connect(&mut self, now: Instant) -> Result<(), CommandError> {
        let clean = self.template().is_some_and(|c| c.clean_start);
        self.open(now, clean)
    }

    /// The network connection was replaced by a new one: the old one ends (if it had not)
    /// and CONNECT goes out again without Clean Start, so that the session resumes; once
    /// CONNACK says the session is present, what was in flight is resent in order, with
    /// DUP ([MQTT-4.4.0-1]).
    pub fn reconnect(&mut self, now: Instant) -> Result<(), CommandError> {
        self.link.tick(now);
        self.lost();
        // MQTT 3.1 has no Session Present flag: a clean session asked for stays clean, or
        // the client could not tell a resumed session from a new one.
        let clean = self.link.protocol == crate::Protocol::V3_1
            && self.template().is_some_and(|c| c.clean_start);
        self.open(now, clean)
    }

    fn open(&mut self, now: Instant, clean: bool) -> Result<(), CommandError> {
        if !matches!(self.link.state, ConnState::Idle | ConnState::Closed) {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        self.link.tick(now);
        self.link.reset_connection();
        for r in self.requests.drain(..) {
            self.link.push_event(Event::RequestLost {
                packet_id: r.packet_id,
            });
        }
        self.deadline = None;
        if clean {
            // [MQTT-3.1.2-4], [MQTT-3.1.2-6]: the old session goes; messages published
            // since and never sent are the new session's first.
            self.link.drop_sent_messages();
            self.link.session.subscriptions.clear();
        }
        let mut connect = match template_decoder().decode_bytes(&self.connect) {
            Ok(crate::shared::Decoded::Complete(Packet::Connect(c), _)) => c,
            _ => {
                return Err(CommandError::WrongState {
                    state: self.link.state,
                })
            }
        };
        // An empty identifier needs a clean session at 3.x ([MQTT-3.1.3-7] of 3.1.1).
        let clean = clean || (!connect.protocol.is_v5() && connect.client_id.as_str().is_empty());
        connect.clean_start = clean;
        self.clean_sent = clean;
        self.keep_alive = connect.keep_alive;
        let props = &connect.properties;
        self.link.receive_max = props.receive_maximum().map_or(u16::MAX, |n| n.get());
        self.link.alias_in_max = props.topic_alias_maximum().unwrap_or(0);
        let max = props
            .maximum_packet_size()
            .map_or(DEFAULT_MAX_PACKET_SIZE, |n| n.get());
        self.link.decoder = crate::Decoder::new(connect.protocol).max_packet_size(max);
        self.link.auth_method = props
            .authentication_method()
            .map(|m| Box::new(ByteString::from(m.get())));
        self.link.send(&Packet::Connect(connect))?;
        self.link.state = ConnState::AwaitConnAck;
        self.deadline = Some(self.link.now.plus_millis(self.response_ms));
        Ok(())
    }

    /// Subscribes; returns the SUBSCRIBE's packet identifier, which the
    /// [`Event::SubAck`] carries. Refused when the server announced it does not support
    /// wildcards, shared subscriptions or subscription identifiers and the request uses
    /// them.
    pub fn subscribe(
        &mut self,
        subscriptions: impl Into<shared::Seq<crate::shared::Subscription>>,
        properties: shared::SubscribeProperties,
    ) -> Result<PacketId, CommandError> {
        self.require_connected()?;
        let subscriptions = subscriptions.into();
        for s in subscriptions.iter() {
            if !self.support.wildcards && s.filter.has_wildcards() {
                return Err(CommandError::NotSupported("wildcard subscriptions"));
            }
            if !self.support.shared && s.filter.shared().is_some() {
                return Err(CommandError::NotSupported("shared subscriptions"));
            }
        }
        if !self.support.subscription_ids && properties.subscription_identifier().is_some() {
            return Err(CommandError::NotSupported("subscription identifiers"));
        }
        let filters = subscriptions.len();
        let id = self.request_id()?;
        let mut s = shared::Subscribe::new(id, subscriptions);
        s.properties = properties;
        self.link.send(&Packet::<Bytes, ByteString>::Subscribe(s))?;
        self.requests.push(Request {
            packet_id: id,
            kind: PacketType::Subscribe,
            filters,
        });
        Ok(id)
    }

    /// Unsubscribes; returns the UNSUBSCRIBE's packet identifier, which the
    /// [`Event::UnsubAck`] carries.
    pub fn unsubscribe(
        &mut self,
        filters: impl Into<shared::Seq<crate::shared::TopicFilter>>,
        properties: shared::UnsubscribeProperties,
    ) -> Result<PacketId, CommandError> {
        self.require_connected()?;
        let filters = filters.into();
        let count = filters.len();
        let id = self.request_id()?;
        let mut u = shared::Unsubscribe::new(id, filters);
        u.properties = properties;
        self.link
            .send(&Packet::<Bytes, ByteString>::Unsubscribe(u))?;
        self.requests.push(Request {
            packet_id: id,
            kind: PacketType::Unsubscribe,
            filters: count,
        });
        Ok(id)
    }

    /// Sends PINGREQ now (keep-alive sends it by itself when nothing else went out).
    pub fn ping(&mut self) -> Result<(), CommandError> {
        self.require_connected()?;
        self.send_ping();
        Ok(())
    }

    /// Sends AUTH (MQTT 5.0 enhanced authentication) with the connection's Authentication
    /// Method: `ContinueAuthentication` to answer the server's AUTH ([MQTT-4.12.0-3]),
    /// `ReAuthenticate` to start again once connected ([MQTT-4.12.1-1]).
    pub fn auth(
        &mut self,
        reason: AuthReason,
        properties: shared::AuthProperties,
    ) -> Result<(), CommandError> {
        self.link.send_auth(
            ConnState::AwaitConnAck,
            AuthReason::Success,
            reason,
            properties,
        )
    }

    /// Sends DISCONNECT (with its properties: a Session Expiry Interval, a Reason String)
    /// and closes.
    pub fn disconnect_with(&mut self, d: shared::Disconnect) -> Result<(), CommandError> {
        // [MQTT-3.1.0-1]: nothing before CONNECT.
        if self.link.state == ConnState::Idle {
            return Err(CommandError::WrongState {
                state: self.link.state,
            });
        }
        // MQTT 5.0 §3.14.2.2.2: a session that was to end with the connection cannot be
        // made to outlive it at DISCONNECT.
        let was = self
            .template()
            .and_then(|c| c.properties.session_expiry_interval())
            .unwrap_or(0);
        if was == 0
            && d.properties
                .session_expiry_interval()
                .is_some_and(|e| e != 0)
        {
            return Err(CommandError::SessionExpiryFromZero);
        }
        self.link.disconnect(d)
    }

    /// Acts on the deadlines that have passed: PINGREQ when nothing was sent for Keep
    /// Alive ([MQTT-3.1.2-23], [MQTT-3.1.2-20]); the connection lost when PINGRESP or
    /// CONNACK did not come in time. A call before any deadline does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.link.tick(now);
        let now = self.link.now;
        match self.link.state {
            ConnState::AwaitConnAck if self.deadline.is_some_and(|d| now >= d) => {
                self.link.close(CloseReason::KeepAliveTimeout);
            }
            ConnState::Connected => {
                if self.deadline.is_some_and(|d| now >= d) {
                    self.link.keep_alive_disconnect(false);
                } else if self.ping_due().is_some_and(|d| now >= d) {
                    self.send_ping();
                }
            }
            _ => {}
        }
    }

    /// When `handle_timeout` must be called next; `None` when no deadline is set.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.link.state {
            ConnState::AwaitConnAck => self.deadline,
            ConnState::Connected => match (self.deadline, self.ping_due()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            _ => None,
        }
    }

    // ---- internals ----

    fn ping_due(&self) -> Option<Instant> {
        if self.keep_alive == 0 || self.deadline.is_some() {
            return None;
        }
        Some(self.link.last_sent.plus_secs(u64::from(self.keep_alive)))
    }

    fn send_ping(&mut self) {
        self.link.send_simple(Packet::PingReq);
        if self.deadline.is_none() {
            // Waiting longer than the Keep Alive would let it pass with nothing sent
            // ([MQTT-3.1.2-23]): the wait is the shorter of the two.
            let mut wait = self.response_ms;
            if self.keep_alive > 0 {
                wait = wait.min(u64::from(self.keep_alive) * 1000);
            }
            self.deadline = Some(self.link.now.plus_millis(wait));
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

    /// An identifier for SUBSCRIBE or UNSUBSCRIBE, unused by messages and requests alike
    /// ([MQTT-2.3.1-2]).
    fn request_id(&mut self) -> Result<PacketId, CommandError> {
        let requests = &self.requests;
        self.link
            .session
            .allocate_id(|id| requests.iter().any(|r| r.packet_id == id))
            .ok_or(CommandError::PacketIdsExhausted)
    }

    fn publish_inner(
        &mut self,
        message: shared::Publish,
        qos: QoS,
    ) -> Result<Option<PacketId>, CommandError> {
        let requests = &self.requests;
        self.link.publish(message, qos, |id| {
            requests.iter().any(|r| r.packet_id == id)
        })
    }

    fn lost(&mut self) {
        if self.link.state != ConnState::Idle {
            self.link.close(CloseReason::LinkLost);
        }
    }

    fn process(&mut self) {
        // Before CONNECT there is no connection to read from.
        if self.link.state == ConnState::Idle {
            return;
        }
        while let Some(next) = self.link.next_packet() {
            let result = match next {
                Ok(p) => self.on_packet(p),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                // Before CONNACK a client may still send DISCONNECT (it sent CONNECT).
                self.link.fail(e, true);
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
        let state = self.link.state;
        if state == ConnState::AwaitConnAck {
            return match p {
                Packet::ConnAck(c) => self.on_connack(c),
                Packet::Auth(a) => {
                    self.link
                        .on_auth(a, ConnState::AwaitConnAck, AuthReason::ReAuthenticate)
                }
                other => Err(self.unexpected(other.packet_type())),
            };
        }
        let Some(p) = self.link.on_flow_packet(p)? else {
            return Ok(());
        };
        match p {
            Packet::SubAck(s) => {
                let got = s.reasons.len();
                self.on_answer(PacketType::SubAck, s.packet_id, got, true)?;
                self.link.push_event(Event::SubAck(s));
                Ok(())
            }
            Packet::UnsubAck(u) => {
                // At 3.x an UNSUBACK carries no reason codes.
                let got = u.reasons.len();
                let counted = self.link.is_v5();
                self.on_answer(PacketType::UnsubAck, u.packet_id, got, counted)?;
                self.link.push_event(Event::UnsubAck(u));
                Ok(())
            }
            Packet::PingResp => {
                self.deadline = None;
                Ok(())
            }
            Packet::Disconnect(d) if self.link.is_v5() => {
                self.link.close(CloseReason::PeerDisconnected(d));
                Ok(())
            }
            Packet::Auth(a) => {
                self.link
                    .on_auth(a, ConnState::AwaitConnAck, AuthReason::ReAuthenticate)
            }
            other => Err(self.unexpected(other.packet_type())),
        }
    }

    /// Matches SUBACK or UNSUBACK to its request ([MQTT-2.3.1-7]) and checks that there is
    /// one reason code per filter ([MQTT-3.8.4-5], [MQTT-3.9.3-1], [MQTT-3.11.3-1]).
    fn on_answer(
        &mut self,
        packet: PacketType,
        packet_id: PacketId,
        got: usize,
        counted: bool,
    ) -> Result<(), ProtocolError> {
        let kind = if packet == PacketType::SubAck {
            PacketType::Subscribe
        } else {
            PacketType::Unsubscribe
        };
        let Some(i) = self
            .requests
            .iter()
            .position(|r| r.packet_id == packet_id && r.kind == kind)
        else {
            return Err(ProtocolError::UnknownPacketId { packet, packet_id });
        };
        let expected = self.requests.get(i).map_or(0, |r| r.filters);
        if counted && got != expected {
            return Err(ProtocolError::ReasonCountMismatch {
                packet,
                got,
                expected,
            });
        }
        self.requests.swap_remove(i);
        Ok(())
    }

    fn on_connack(&mut self, c: shared::ConnAck) -> Result<(), ProtocolError> {
        self.deadline = None;
        if c.reason != ConnectReason::Success {
            // [MQTT-4.13.2-1]: a refusal closes the connection.
            self.link.close(CloseReason::Refused(c.reason));
            return Ok(());
        }
        if c.session_present && self.clean_sent {
            // [MQTT-3.2.2-4]: the client has no session to resume.
            return Err(ProtocolError::SessionPresentOnCleanStart);
        }
        // [MQTT-4.12.0-5]: a successful CONNACK repeats the CONNECT's method; without one
        // in CONNECT it carries none ([MQTT-4.12.0-6]).
        if self.link.is_v5() {
            let got = c.properties.authentication_method();
            let same = match (&self.link.auth_method, got) {
                (Some(m), Some(g)) => m.as_bytes() == g.get().as_bytes(),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Err(ProtocolError::AuthMethodMismatch);
            }
        }
        // [MQTT-3.2.2-5]: the server has no session; neither do we, then. (MQTT 3.1 has no
        // Session Present flag: the client cannot tell, and keeps its state.)
        if !c.session_present && self.link.protocol != crate::Protocol::V3_1 {
            self.link.drop_sent_messages();
        }
        if self.link.is_v5() {
            let p = &c.properties;
            if let Some(n) = p.receive_maximum() {
                self.link.send_max = n.get();
            }
            if let Some(n) = p.maximum_packet_size() {
                self.link.encoder =
                    crate::Encoder::new(self.link.protocol).max_packet_size(n.get());
            }
            self.link.alias_out_max = p.topic_alias_maximum().unwrap_or(0);
            self.link.peer_max_qos = match p.maximum_qos() {
                Some(MaximumQos::AtMostOnce) => QoS::AtMostOnce,
                Some(MaximumQos::AtLeastOnce) => QoS::AtLeastOnce,
                None => QoS::ExactlyOnce,
            };
            self.link.peer_retain = p.retain_available().unwrap_or(true);
            self.support = ServerSupport {
                wildcards: p.wildcard_subscription_available().unwrap_or(true),
                shared: p.shared_subscription_available().unwrap_or(true),
                subscription_ids: p.subscription_identifiers_available().unwrap_or(true),
            };
            // [MQTT-3.1.2-21], [MQTT-3.2.2-21]: the server's Keep Alive wins.
            if let Some(k) = p.server_keep_alive() {
                self.keep_alive = k;
            }
            // The assigned identifier is the one to resume with.
            if let Some(id) = p.assigned_client_identifier() {
                let d = template_decoder();
                if let (Ok(s), Ok(crate::shared::Decoded::Complete(Packet::Connect(mut c), _))) = (
                    crate::shared::Str::new(ByteString::from(id.get())),
                    d.decode_bytes(&self.connect),
                ) {
                    c.client_id = s;
                    if let Ok(b) = encode_connect(&c) {
                        self.connect = b;
                    }
                }
            }
        }
        self.link.state = ConnState::Connected;
        self.link.trim_pending = true;
        self.link.push_event(Event::Connected(c));
        // [MQTT-4.4.0-1], [MQTT-4.6.0-1]: what was in flight goes again, in order; so do
        // the answers the application gave before CONNACK.
        self.link.pump();
        self.link.flush_acks();
        Ok(())
    }
}

/// A CONNECT's bytes, for a client to keep and resend.
fn encode_connect(c: &shared::Connect) -> Result<Bytes, CommandError> {
    let packet = Packet::<Bytes, ByteString>::Connect(c.clone());
    let enc = crate::Encoder::new(c.protocol);
    let mut out = alloc::vec::Vec::with_capacity(enc.encoded_len(&packet)?);
    enc.encode(&packet, &mut out)?;
    Ok(Bytes::from(out))
}

/// Decodes the CONNECT this machine encoded (any level, any identifier length).
fn template_decoder() -> crate::Decoder {
    crate::Decoder::new(crate::Protocol::V5)
        .max_packet_size(crate::MAX_PACKET_SIZE)
        .client_id_limit(Some(u16::MAX))
}
