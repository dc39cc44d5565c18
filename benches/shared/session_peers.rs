//! The peers of the session benchmarks (`benches/session.rs`, `examples/count.rs`,
//! `tests/session_allocations.rs`): each does the same QoS 1 or QoS 2 round as
//! [`mqtt_benches::session::Connected::round`], so that the three can be compared.
//!
//! What every round has in common (ours included):
//!
//! - one message of [`PAYLOAD_LEN`] bytes on topic [`TOPIC`], from a client to a server,
//!   built once outside the round; each round hands the client a copy of it: for ours a
//!   clone (reference counts), for rumqttc a clone (the topic copied into a new `String`,
//!   the payload a reference count), for mqtt-protocol-core a PUBLISH built with its
//!   builder (the topic copied into a new `MqttString`, a `Vec` without its optional
//!   `sso-*` features; the payload an `ArcPayload` clone, a reference count);
//! - the client assigns the packet identifier, encodes PUBLISH and keeps what it needs to
//!   match the acknowledgement;
//! - every packet of the flow crosses as bytes: the bytes one side writes are copied into
//!   the other side's receive buffer (standing for the socket), decoded there and acted on;
//!   nothing is sent by hand that the implementation would send by itself;
//! - the server side sees the message (the payload's length goes into the checksum) and
//!   the client side sees the completion (the packet identifier goes into the checksum);
//! - no timers, no IO, no logging subscriber; no clock, except that rumqttc's `MqttState`
//!   reads `Instant::now()` in every `handle_outgoing_packet` and `handle_incoming_packet`
//!   (its own cost: ours and mqtt-protocol-core take the time from the caller).
//!
//! The checksum is `PAYLOAD_LEN + packet identifier` (checked by the benchmark and the
//! allocation test), so a round that lost a packet shows.
//!
//! Differences that remain, and must be read with the numbers:
//!
//! - **rumqttc** has no server role. Its client state machine (`MqttState`, the part of its
//!   `EventLoop` that is not IO) is driven exactly as the event loop drives it, without
//!   tokio; the server is *simulated* with rumqttc's own codec (`mqttbytes::v4`): it
//!   decodes each packet and encodes the acknowledgement (PUBACK; PUBREC, then PUBCOMP for
//!   the PUBREL). The simulated server keeps no state: no QoS 2 identifier set, no
//!   duplicate check, no receive maximum, no session, no event queue — work that ours and
//!   mqtt-protocol-core do on their server side and rumqttc's round does not. The rumqttc
//!   round is therefore a *lower bound* for a rumqttc-based pair. 3.1.1 only (its 5.0
//!   state machine is a separate module, `rumqttc::v5`, not measured here).
//! - **mqtt-protocol-core** returns a `Vec` of events from every call and hands each
//!   outgoing packet as a packet value; this adapter writes it with the crate's own
//!   `to_buffers` (the vectored-write path it offers; it allocates the `Vec` of slices, as
//!   its `to_continuous_buffer` allocates the bytes) into the receive buffer of the other
//!   side. With a clean session (as here, and as ours) it does not store the outgoing
//!   PUBLISH for retransmission; ours and rumqttc keep the message until it is
//!   acknowledged.
#![allow(dead_code)]

use mqtt_benches::session::{PAYLOAD_LEN, TOPIC};

/// The byte every payload is filled with (as `Connected` does).
const PAYLOAD_BYTE: u8 = 0x5a;

/// The client identifier of every CONNECT (as `Connected` does).
const CLIENT_ID: &str = "bench-client";

/// rumqttc 0.24 at MQTT 3.1.1: its client `MqttState` against a server simulated with its
/// own codec.
pub mod rumqttc_peer {
    use super::{CLIENT_ID, PAYLOAD_BYTE, PAYLOAD_LEN, TOPIC};
    use bytes::BytesMut;
    use rumqttc::mqttbytes::v4::{self, ConnAck, ConnectReturnCode, Packet};
    use rumqttc::{Event, MqttState, QoS, Request};

    /// `MqttOptions`' defaults: 100 messages in flight, 10 KiB packets at most.
    const MAX_INFLIGHT: u16 = 100;
    const MAX_PACKET_SIZE: usize = 10 * 1024;

    /// A connected rumqttc client state and the simulated server's buffers.
    ///
    /// One round ([`Rumqttc::round`]):
    ///
    /// 1. client application: `handle_outgoing_packet(Request::Publish(..))` with a clone of
    ///    the message (the identifier is assigned and a copy of the `Publish` kept in its
    ///    in-flight table, PUBLISH encoded into `MqttState::write`, an `Outgoing` event
    ///    queued);
    /// 2. client "flush": the bytes of `MqttState::write` are copied into the server's read
    ///    buffer and `write` is cleared (as `Network::flush` writes them to the socket);
    /// 3. simulated server: `v4::read` decodes each packet; a PUBLISH is delivered (its
    ///    payload length counted) and answered with PUBACK (QoS 1) or PUBREC (QoS 2); a
    ///    PUBREL is answered with PUBCOMP; the answers are encoded with rumqttc's codec and
    ///    copied into the client's read buffer;
    /// 4. client: `v4::read` then `handle_incoming_packet` for each packet, as
    ///    `Network::readb` does; for PUBREC the state itself writes PUBREL (back to step 2);
    /// 5. client application: every queued `Event` is popped (as `EventLoop::poll` hands
    ///    them out); the incoming PUBACK or PUBCOMP is the completion.
    ///
    /// Not done by anybody in this round, because rumqttc has no server: the server's
    /// state (QoS 2 identifiers, duplicate detection, session, events to an application).
    #[derive(Debug)]
    pub struct Rumqttc {
        state: MqttState,
        message: v4::Publish,
        /// Bytes on their way to the server (its socket read buffer).
        server_in: BytesMut,
        /// What the server writes, before it reaches the client.
        server_out: BytesMut,
        /// Bytes on their way to the client (`Network::read`'s buffer).
        client_in: BytesMut,
    }

    impl Rumqttc {
        /// A client state after CONNECT and CONNACK (rumqttc's event loop does that
        /// exchange itself, with the codec, before handing packets to `MqttState`; so does
        /// this).
        pub fn new() -> Self {
            let state = MqttState::new(MAX_INFLIGHT, false, MAX_PACKET_SIZE);
            let mut server_in = BytesMut::with_capacity(10 * 1024);
            let mut server_out = BytesMut::with_capacity(1024);
            let mut client_in = BytesMut::with_capacity(10 * 1024);
            let mut connect = v4::Connect::new(CLIENT_ID);
            connect.keep_alive = 0;
            connect.clean_session = true;
            let _ = connect.write(&mut server_in);
            if let Ok(Packet::Connect(_)) = v4::read(&mut server_in, MAX_PACKET_SIZE) {
                let _ = ConnAck::new(ConnectReturnCode::Success, false).write(&mut server_out);
            }
            client_in.extend_from_slice(&server_out);
            server_out.clear();
            let connected = matches!(
                v4::read(&mut client_in, MAX_PACKET_SIZE),
                Ok(Packet::ConnAck(ConnAck {
                    code: ConnectReturnCode::Success,
                    ..
                }))
            );
            debug_assert!(connected, "rumqttc: no CONNACK");
            Rumqttc {
                state,
                message: v4::Publish::new(TOPIC, QoS::AtLeastOnce, vec![PAYLOAD_BYTE; PAYLOAD_LEN]),
                server_in,
                server_out,
                client_in,
            }
        }

        /// One round at `qos` (1 or 2; see the struct). Returns the payload length the
        /// server saw plus the identifier the client saw completed.
        pub fn round(&mut self, qos: mqtt_codec::QoS) -> u64 {
            let mut seen = 0u64;
            let mut publish = self.message.clone();
            publish.qos = match qos {
                mqtt_codec::QoS::ExactlyOnce => QoS::ExactlyOnce,
                mqtt_codec::QoS::AtLeastOnce => QoS::AtLeastOnce,
                mqtt_codec::QoS::AtMostOnce => QoS::AtMostOnce,
            };
            if self
                .state
                .handle_outgoing_packet(Request::Publish(publish))
                .is_err()
            {
                return 0;
            }
            loop {
                // The client's flush.
                if self.state.write.is_empty() {
                    break;
                }
                self.server_in.extend_from_slice(&self.state.write);
                self.state.write.clear();
                // The simulated server.
                while let Ok(p) = v4::read(&mut self.server_in, MAX_PACKET_SIZE) {
                    let _ = match p {
                        Packet::Publish(p) => {
                            seen += p.payload.len() as u64;
                            match p.qos {
                                QoS::AtLeastOnce => {
                                    v4::PubAck::new(p.pkid).write(&mut self.server_out)
                                }
                                QoS::ExactlyOnce => {
                                    v4::PubRec::new(p.pkid).write(&mut self.server_out)
                                }
                                QoS::AtMostOnce => Ok(0),
                            }
                        }
                        Packet::PubRel(r) => v4::PubComp::new(r.pkid).write(&mut self.server_out),
                        _ => Ok(0),
                    };
                }
                self.client_in.extend_from_slice(&self.server_out);
                self.server_out.clear();
                // The client's read, as `Network::readb`.
                while let Ok(p) = v4::read(&mut self.client_in, MAX_PACKET_SIZE) {
                    if self.state.handle_incoming_packet(p).is_err() {
                        return 0;
                    }
                }
            }
            // The client's application.
            while let Some(e) = self.state.events.pop_front() {
                match e {
                    Event::Incoming(Packet::PubAck(a)) => seen += u64::from(a.pkid),
                    Event::Incoming(Packet::PubComp(c)) => seen += u64::from(c.pkid),
                    _ => {}
                }
            }
            seen
        }
    }

    impl Default for Rumqttc {
        fn default() -> Self {
            Self::new()
        }
    }
}

/// mqtt-protocol-core 0.7: a client and a server `Connection`, at 3.1.1 or 5.0.
pub mod mqtt_protocol_core_peer {
    use super::{CLIENT_ID, PAYLOAD_BYTE, PAYLOAD_LEN, TOPIC};
    use mqtt_codec::{Protocol, QoS};
    use mqtt_protocol_core::mqtt::common::Cursor;
    use mqtt_protocol_core::mqtt::connection::Event;
    use mqtt_protocol_core::mqtt::packet::Packet;
    use mqtt_protocol_core::mqtt::packet::{v3_1_1, v5_0, GenericPacketTrait, Qos};
    use mqtt_protocol_core::mqtt::result_code::{ConnectReasonCode, ConnectReturnCode};
    use mqtt_protocol_core::mqtt::role;
    use mqtt_protocol_core::mqtt::{ArcPayload, Connection, IntoPayload, Version};

    /// A connected client and server `Connection` pair.
    ///
    /// Both have `set_auto_pub_response(true)`, so that, like ours, the receiver answers
    /// PUBLISH and PUBREL by itself and the sender answers PUBREC by itself. One round
    /// ([`MqttProtocolCore::round`]):
    ///
    /// 1. client application: `acquire_packet_id`, a PUBLISH built with the crate's
    ///    builder from the topic (a `&str`, copied into its `MqttString`) and the payload
    ///    (an `ArcPayload` made once, cloned: a reference count), `checked_send`;
    /// 2. every `RequestSendPacket` event of one side is written with `to_buffers` into the
    ///    other side's receive buffer; the other side's `recv` is called until that buffer
    ///    is consumed (it takes one packet per call), and so on until neither side has
    ///    anything to send (PUBLISH, PUBACK; or PUBLISH, PUBREC, PUBREL, PUBCOMP);
    /// 3. server application: the received PUBLISH (`NotifyPacketReceived`) is delivered,
    ///    its payload length counted;
    /// 4. client application: `NotifyPacketIdReleased` is the completion.
    ///
    /// Every other event of both sides is looked at and dropped.
    pub struct MqttProtocolCore {
        client: Connection<role::Client>,
        server: Connection<role::Server>,
        version: Version,
        payload: ArcPayload,
        /// Bytes on their way to the server.
        to_server: Vec<u8>,
        /// Bytes on their way to the client.
        to_client: Vec<u8>,
    }

    impl core::fmt::Debug for MqttProtocolCore {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("MqttProtocolCore")
                .field("version", &self.version)
                .finish_non_exhaustive()
        }
    }

    /// Whether mqtt-protocol-core has `protocol` (3.1.1 and 5.0; not 3.1).
    pub fn supports(protocol: Protocol) -> bool {
        matches!(protocol, Protocol::V3_1_1 | Protocol::V5)
    }

    /// What an application does with one event, on the side that got it: packets to send
    /// are written into `out`; the server counts a received PUBLISH's payload, the client a
    /// released packet identifier.
    fn handle(events: Vec<Event>, out: &mut Vec<u8>, server: bool, seen: &mut u64) {
        for e in events {
            match e {
                Event::RequestSendPacket { packet, .. } => {
                    for s in packet.to_buffers() {
                        out.extend_from_slice(&s);
                    }
                }
                Event::NotifyPacketReceived(Packet::V3_1_1Publish(p)) if server => {
                    *seen += p.payload().len() as u64;
                }
                Event::NotifyPacketReceived(Packet::V5_0Publish(p)) if server => {
                    *seen += p.payload().len() as u64;
                }
                Event::NotifyPacketIdReleased(id) if !server => *seen += u64::from(id),
                _ => {}
            }
        }
    }

    impl MqttProtocolCore {
        /// A pair connected at `protocol` (3.1.1 or 5.0; see [`supports`]) with the same
        /// CONNECT as ours (client identifier, clean start, keep alive 0), or `None`.
        pub fn new(protocol: Protocol) -> Option<Self> {
            let version = match protocol {
                Protocol::V3_1_1 => Version::V3_1_1,
                Protocol::V5 => Version::V5_0,
                _ => return None,
            };
            let mut client = Connection::<role::Client>::new(version);
            let mut server = Connection::<role::Server>::new(version);
            client.set_auto_pub_response(true);
            server.set_auto_pub_response(true);
            let mut to_server = Vec::with_capacity(1024);
            let mut to_client = Vec::with_capacity(1024);
            let mut seen = 0;
            let events = match version {
                Version::V3_1_1 => client.checked_send(
                    v3_1_1::Connect::builder()
                        .client_id(CLIENT_ID)
                        .ok()?
                        .clean_session(true)
                        .keep_alive(0)
                        .build()
                        .ok()?,
                ),
                _ => client.checked_send(
                    v5_0::Connect::builder()
                        .client_id(CLIENT_ID)
                        .ok()?
                        .clean_start(true)
                        .keep_alive(0)
                        .build()
                        .ok()?,
                ),
            };
            handle(events, &mut to_server, false, &mut seen);
            let mut connect = false;
            let mut cur = Cursor::new(&to_server[..]);
            while (cur.position() as usize) < to_server.len() {
                for e in server.recv(&mut cur) {
                    connect |= matches!(
                        e,
                        Event::NotifyPacketReceived(Packet::V3_1_1Connect(_))
                            | Event::NotifyPacketReceived(Packet::V5_0Connect(_))
                    );
                }
            }
            to_server.clear();
            if !connect {
                return None;
            }
            let events = match version {
                Version::V3_1_1 => server.checked_send(
                    v3_1_1::Connack::builder()
                        .session_present(false)
                        .return_code(ConnectReturnCode::Accepted)
                        .build()
                        .ok()?,
                ),
                _ => server.checked_send(
                    v5_0::Connack::builder()
                        .session_present(false)
                        .reason_code(ConnectReasonCode::Success)
                        .build()
                        .ok()?,
                ),
            };
            handle(events, &mut to_client, true, &mut seen);
            let mut connack = false;
            let mut cur = Cursor::new(&to_client[..]);
            while (cur.position() as usize) < to_client.len() {
                for e in client.recv(&mut cur) {
                    connack |= matches!(
                        e,
                        Event::NotifyPacketReceived(Packet::V3_1_1Connack(_))
                            | Event::NotifyPacketReceived(Packet::V5_0Connack(_))
                    );
                }
            }
            to_client.clear();
            if !connack {
                return None;
            }
            Some(MqttProtocolCore {
                client,
                server,
                version,
                payload: vec![PAYLOAD_BYTE; PAYLOAD_LEN].into_payload(),
                to_server,
                to_client,
            })
        }

        /// One round at `qos` (1 or 2; see the struct). Returns the payload length the
        /// server saw plus the identifier the client saw released.
        pub fn round(&mut self, qos: QoS) -> u64 {
            let mut seen = 0u64;
            let qos = match qos {
                QoS::ExactlyOnce => Qos::ExactlyOnce,
                QoS::AtLeastOnce => Qos::AtLeastOnce,
                QoS::AtMostOnce => Qos::AtMostOnce,
            };
            let Ok(id) = self.client.acquire_packet_id() else {
                return 0;
            };
            let events = match self.version {
                Version::V3_1_1 => {
                    let Ok(b) = v3_1_1::Publish::builder().topic_name(TOPIC) else {
                        return 0;
                    };
                    let Ok(p) = b
                        .qos(qos)
                        .packet_id(id)
                        .payload(self.payload.clone())
                        .build()
                    else {
                        return 0;
                    };
                    self.client.checked_send(p)
                }
                _ => {
                    let Ok(b) = v5_0::Publish::builder().topic_name(TOPIC) else {
                        return 0;
                    };
                    let Ok(p) = b
                        .qos(qos)
                        .packet_id(id)
                        .payload(self.payload.clone())
                        .build()
                    else {
                        return 0;
                    };
                    self.client.checked_send(p)
                }
            };
            handle(events, &mut self.to_server, false, &mut seen);
            while !self.to_server.is_empty() {
                let mut cur = Cursor::new(&self.to_server[..]);
                while (cur.position() as usize) < self.to_server.len() {
                    let events = self.server.recv(&mut cur);
                    handle(events, &mut self.to_client, true, &mut seen);
                }
                self.to_server.clear();
                let mut cur = Cursor::new(&self.to_client[..]);
                while (cur.position() as usize) < self.to_client.len() {
                    let events = self.client.recv(&mut cur);
                    handle(events, &mut self.to_server, false, &mut seen);
                }
                self.to_client.clear();
            }
            seen
        }
    }
}
