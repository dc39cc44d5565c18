//! The state machines: QoS flows, session state, and the client and server connections
//! built on them. Sans-IO, like the codec: bytes, time and commands in; bytes, events and
//! the next deadline out.
//!
//! Three layers, each usable alone:
//!
//! - [`flow`]: one QoS flow per message and direction, as a small enum and a transition
//!   function ([`SenderFlow`], [`ReceiverFlow`]).
//! - [`Session`]: what outlives a network connection (outgoing messages in order, incoming
//!   QoS 2 identifiers, the identifier allocator, a server's subscriptions); plain data the
//!   caller can inspect, take out and put back.
//! - [`Client`] and [`Server`]: one network connection each, at MQTT 3.1, 3.1.1 or 5.0.
//!
//! # Driving a connection
//!
//! Every machine has the same four groups of methods:
//!
//! - getters (`state`, `session`, `protocol`, …);
//! - inputs: `handle_bytes(now, &[u8])` (or `handle_read_buf(now, &mut BytesMut)`, which
//!   takes the caller's buffer without a copy), `handle_timeout(now)`, `handle_link_lost(now)`;
//! - commands: `connect`, `publish`, `subscribe`, `ack`, `disconnect`, …;
//! - outputs: `poll_transmit()` (bytes to write, in order), `poll_event()` (what the
//!   application must know), `poll_timeout()` (when to call `handle_timeout` next).
//!
//! Time is an [`Instant`] the caller passes; the machines never read a clock. After each
//! input or command, drain `poll_transmit` and `poll_event`, and sleep until
//! `poll_timeout`. A received message is an [`Event::Message`] holding a
//! [`shared::Publish`] whose topic and payload are slices of the receive buffer: it has no
//! lifetime, so the application can keep it while it feeds more bytes.
//!
//! ```
//! use mqtt_codec::session::{Client, ClientOptions, Event, Outcome, Server, ServerOptions, Session};
//! use mqtt_codec::{shared, Instant, Protocol, QoS, ReasonCode};
//!
//! let now = Instant::ZERO;
//! let id = shared::Str::new("sensor-1").unwrap();
//! let connect = shared::Connect::new(Protocol::V5, id, 30);
//! let mut client = Client::new(connect, ClientOptions::default(), Session::new()).unwrap();
//! let mut server = Server::new(now, ServerOptions::default());
//!
//! client.connect(now).unwrap();
//! while let Some(bytes) = client.poll_transmit() {
//!     server.handle_bytes(now, &bytes); // in real life: written to a socket
//! }
//! // The server's application sees the CONNECT and accepts it, without a stored session.
//! assert!(matches!(server.poll_event(), Some(Event::Connect(_))));
//! server.accept(now, None, Default::default()).unwrap();
//! while let Some(bytes) = server.poll_transmit() {
//!     client.handle_bytes(now, &bytes);
//! }
//! assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
//!
//! // QoS 1: the client allocates the identifier and keeps the message until PUBACK.
//! let message = shared::Publish::new(shared::TopicName::new("sensors/1").unwrap(), &b"21.5"[..]);
//! let packet_id = client.publish(message, QoS::AtLeastOnce).unwrap().unwrap();
//! while let Some(bytes) = client.poll_transmit() {
//!     server.handle_bytes(now, &bytes);
//! }
//! let Some(Event::Message(received)) = server.poll_event() else { panic!() };
//! assert_eq!(&received.payload.as_bytes()[..], b"21.5");
//! while let Some(bytes) = server.poll_transmit() {
//!     client.handle_bytes(now, &bytes); // the PUBACK
//! }
//! assert_eq!(
//!     client.poll_event(),
//!     Some(Event::PublishComplete { packet_id, outcome: Outcome::Acknowledged(ReasonCode::Success) })
//! );
//! // Keep-alive: the client wants to be woken 30 s after it last sent.
//! assert_eq!(client.poll_timeout(), Some(Instant::from_secs(30)));
//! ```

mod client;
mod error;
pub mod flow;
mod link;
mod server;
mod state;

pub use client::{Client, ClientOptions};
pub use error::{CloseReason, CommandError, ConnState, ProtocolError};
pub use flow::{ReceiverFlow, SenderFlow};
pub use link::{AckMode, AliasPolicy};
pub use server::{Server, ServerOptions};
pub use state::{Incoming, Outgoing, RestoreError, Session, SubscriptionRecord};

pub use crate::time::Instant;

use alloc::boxed::Box;

use crate::{shared, PacketId, ReasonCode};

/// How an outgoing QoS 1 or QoS 2 message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// PUBACK (QoS 1), PUBCOMP (QoS 2), or a PUBREC with an error code (QoS 2, which ends
    /// the flow, [MQTT-4.4.0-2]), with that packet's reason code (`Success` at 3.x).
    Acknowledged(ReasonCode),
    /// The peer resumed without the session (CONNACK Session Present 0): the message was
    /// sent but its fate is unknown, and the session that held it is gone
    /// ([MQTT-3.2.2-5]).
    SessionLost,
    /// Its Message Expiry Interval passed before it could be sent (it waited for send
    /// quota or for a connection): it is not sent (MQTT 5.0 §3.3.2.3.3).
    Expired,
    /// On a new connection it no longer fits what the peer accepts (its Maximum Packet
    /// Size or Maximum QoS), and it is never sent larger ([MQTT-3.2.2-15],
    /// [MQTT-3.1.2-25]).
    Dropped,
}

/// What a connection machine tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Client: CONNACK accepted the connection; negotiated limits are applied and what
    /// was in flight is being resent.
    Connected(shared::ConnAck),
    /// Server: a CONNECT arrived; answer with `accept` or `refuse`.
    Connect(Box<shared::Connect>),
    /// An application message from the peer, its topic alias resolved, delivered once per
    /// QoS 2 message. In [`AckMode::Manual`] answer it with `ack` (QoS 1 and 2).
    Message(shared::Publish),
    /// An outgoing QoS 1 or QoS 2 message is over: its identifier is free, and a caller
    /// that persists outgoing messages can drop it.
    PublishComplete {
        /// The identifier the `publish` command returned.
        packet_id: PacketId,
        /// How it ended.
        outcome: Outcome,
    },
    /// Client: the answer to a `subscribe`, reason codes in filter order.
    SubAck(shared::SubAck),
    /// Client: the answer to an `unsubscribe`.
    UnsubAck(shared::UnsubAck),
    /// Client: a SUBSCRIBE or UNSUBSCRIBE whose answer will never come, because its
    /// connection ended first (requests are not part of the session: send it again).
    RequestLost {
        /// The identifier `subscribe` or `unsubscribe` returned.
        packet_id: PacketId,
    },
    /// Server: a SUBSCRIBE; answer with `suback` ([MQTT-3.8.4-1]).
    Subscribe(shared::Subscribe),
    /// Server: an UNSUBSCRIBE; answer with `unsuback` ([MQTT-3.10.4-4]).
    Unsubscribe(shared::Unsubscribe),
    /// An AUTH from the peer (MQTT 5.0 enhanced authentication); answer with `auth`.
    Auth(shared::Auth),
    /// Server: the client's Will is due: the connection ended without DISCONNECT (or with
    /// reason 0x04) and the Will Delay Interval has passed. Publish it.
    Will(Box<shared::Will>),
    /// Server: the Session Expiry Interval has passed since the connection closed; the
    /// session can be discarded ([MQTT-4.1.0-2]).
    SessionExpired,
    /// The connection is over. Close the network connection once `poll_transmit` is
    /// drained (it may hold a DISCONNECT).
    Closed(CloseReason),
}

/// The inputs, outputs and getters both connection machines have, forwarded to their
/// common part.
macro_rules! common_api {
    () => {
        /// Where the connection stands.
        pub fn state(&self) -> $crate::session::ConnState {
            self.link.state
        }

        /// The protocol level in use.
        pub fn protocol(&self) -> $crate::Protocol {
            self.link.protocol
        }

        /// The session state.
        pub fn session(&self) -> &$crate::session::Session {
            &self.link.session
        }

        /// Takes the session state out (to persist it, or to hand it to the client's
        /// next connection), leaving an empty one, once the connection is over (or before
        /// it started). While it is open the machine keeps it and this returns a copy
        /// (its messages are shared, not copied).
        pub fn take_session(&mut self) -> $crate::session::Session {
            match self.link.state {
                $crate::session::ConnState::Idle | $crate::session::ConnState::Closed => {
                    core::mem::take(&mut self.link.session)
                }
                _ => self.link.session.clone(),
            }
        }

        /// How many outgoing QoS 1 and 2 messages went out on this connection and are not
        /// acknowledged yet (never more than the peer's Receive Maximum).
        pub fn in_flight(&self) -> usize {
            self.link.in_flight()
        }

        /// Bytes received from the network, in any split. Whole packets are handled at
        /// once; the rest waits for more.
        pub fn handle_bytes(&mut self, now: $crate::Instant, data: &[u8]) {
            self.link.tick(now);
            self.link.take_bytes(data);
            self.process();
        }

        /// Like [`Self::handle_bytes`], taking the caller's read buffer (emptied) without
        /// copying it when the machine holds no partial packet: payloads are then slices of
        /// the very buffer the transport read into.
        pub fn handle_read_buf(&mut self, now: $crate::Instant, data: &mut $crate::BytesMut) {
            self.link.tick(now);
            self.link.take_buf(data);
            self.process();
        }

        /// The network connection is gone. The session stays.
        pub fn handle_link_lost(&mut self, now: $crate::Instant) {
            self.link.tick(now);
            self.lost();
        }

        /// Gives back the memory a connection keeps between bursts of traffic (receive
        /// and transmit buffers, event queue) when it holds nothing. Traffic then
        /// allocates it again, so call it on connections that went quiet (a broker with
        /// many idle clients), not between every packet: with the buffers kept, steady
        /// traffic allocates nothing.
        pub fn shrink(&mut self) {
            self.link.shrink();
        }

        /// The bytes to write to the network, in order; `None` when there are none.
        #[must_use]
        pub fn poll_transmit(&mut self) -> Option<$crate::Bytes> {
            self.link.poll_transmit()
        }

        /// The next event for the application.
        #[must_use]
        pub fn poll_event(&mut self) -> Option<$crate::session::Event> {
            self.link.poll_event()
        }

        /// Sends DISCONNECT with `reason` and closes the connection ([MQTT-3.14.4-1],
        /// [MQTT-3.14.4-2]); at 3.x the reason is not sent.
        pub fn disconnect(
            &mut self,
            reason: $crate::DisconnectReason,
        ) -> Result<(), $crate::session::CommandError> {
            self.disconnect_with($crate::shared::Disconnect::new(reason))
        }

        /// Publishes `message` at `qos`: QoS 0 at once; QoS 1 and 2 with a new packet
        /// identifier (returned), in order, within the peer's Receive Maximum (the rest
        /// waits, queued; at QoS 1 and 2 this works before CONNACK too). The machine sets
        /// the message's QoS, Packet Identifier and DUP (whatever `message.delivery` says)
        /// and its Topic Alias (by the [`AliasPolicy`](crate::session::AliasPolicy)).
        pub fn publish(
            &mut self,
            mut message: $crate::shared::Publish,
            qos: $crate::QoS,
        ) -> Result<Option<$crate::PacketId>, $crate::session::CommandError> {
            message.delivery = $crate::Delivery::AtMostOnce;
            self.publish_inner(message, qos)
        }

        /// Accepts the incoming QoS 1 or QoS 2 message `packet_id` ([`AckMode::Manual`](crate::session::AckMode)):
        /// PUBACK or PUBREC, sent in arrival order.
        pub fn ack(
            &mut self,
            packet_id: $crate::PacketId,
        ) -> Result<(), $crate::session::CommandError> {
            self.link.ack(packet_id, 0, Default::default())
        }

        /// Answers the incoming message `packet_id` with a reason code (a byte, valid for
        /// PUBACK or PUBREC; 0x80 and above refuse it) and properties (MQTT 5.0). A QoS 2
        /// message refused can be sent again as a new one ([MQTT-4.3.3-9]).
        pub fn ack_with(
            &mut self,
            packet_id: $crate::PacketId,
            reason: u8,
            properties: $crate::shared::AckProperties,
        ) -> Result<(), $crate::session::CommandError> {
            self.link.ack(packet_id, reason, properties)
        }
    };
}
pub(crate) use common_api;
