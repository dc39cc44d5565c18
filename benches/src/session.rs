//! Workloads of the connection machines: a client and a server machine connected in
//! memory, and one QoS 1 or QoS 2 round between them (publish, the flow's packets both ways,
//! the message delivered to the server's application, the completion reported to the
//! client's), with a 16-byte payload. No IO: the bytes one machine transmits are handed to
//! the other. Beside it, the codec alone doing the same packets (encode and decode each),
//! so that the machines' own cost shows as a ratio.

use mqtt_codec::generic::Packet;
use mqtt_codec::session::{Client, ClientOptions, Event, Outcome, Server, ServerOptions, Session};
use mqtt_codec::{shared, Decoded, Decoder, Encoder, Instant, PacketId, Protocol, QoS};

/// The topic of every round.
pub const TOPIC: &str = "sensors/kitchen/temperature";
/// The payload size of every round.
pub const PAYLOAD_LEN: usize = 16;

/// A client and a server machine, connected (CONNECT and CONNACK done).
#[derive(Debug)]
pub struct Connected {
    /// The client machine.
    pub client: Client,
    /// The server machine.
    pub server: Server,
    message: shared::Publish,
}

impl Connected {
    /// Connects a fresh pair at `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        let now = Instant::ZERO;
        let id = shared::Str::new("bench-client").unwrap_or_default();
        let connect = shared::Connect::new(protocol, id, 0);
        let mut client = match Client::new(connect, ClientOptions::default(), Session::new()) {
            Ok(c) => c,
            Err(e) => unreachable_config(&e),
        };
        let mut server = Server::new(now, ServerOptions::default());
        let _ = client.connect(now);
        while let Some(b) = client.poll_transmit() {
            server.handle_bytes(now, &b);
        }
        while let Some(e) = server.poll_event() {
            if let Event::Connect(_) = e {
                let _ = server.accept(now, None, Default::default());
            }
        }
        while let Some(b) = server.poll_transmit() {
            client.handle_bytes(now, &b);
        }
        while client.poll_event().is_some() {}
        let topic = shared::TopicName::new(TOPIC).unwrap_or_default();
        let message = shared::Publish::new(topic, vec![0x5a; PAYLOAD_LEN]);
        Connected {
            client,
            server,
            message,
        }
    }

    /// One round at `qos` (1 or 2) from the client to the server. Returns a checksum of
    /// what the applications saw (the payload's length and the completed identifier).
    pub fn round(&mut self, qos: QoS) -> u64 {
        let now = Instant::ZERO;
        let mut seen = 0u64;
        let _ = self.client.publish(self.message.clone(), qos);
        // Bytes go back and forth until both are quiet: PUBLISH, PUBACK or PUBREC,
        // PUBREL, PUBCOMP.
        loop {
            let mut moved = false;
            while let Some(b) = self.client.poll_transmit() {
                moved = true;
                self.server.handle_bytes(now, &b);
            }
            while let Some(e) = self.server.poll_event() {
                if let Event::Message(m) = e {
                    seen += m.payload.len() as u64;
                }
            }
            while let Some(b) = self.server.poll_transmit() {
                moved = true;
                self.client.handle_bytes(now, &b);
            }
            while let Some(e) = self.client.poll_event() {
                if let Event::PublishComplete {
                    packet_id,
                    outcome: Outcome::Acknowledged(_),
                } = e
                {
                    seen += u64::from(packet_id.get());
                }
            }
            if !moved {
                return seen;
            }
        }
    }
}

fn unreachable_config(e: &dyn core::fmt::Display) -> ! {
    // The configuration above is fixed and valid; a failure here is a bug in this file.
    #[allow(clippy::panic)]
    {
        panic!("bench setup: {e}")
    }
}

/// The same packets as a round, through the codec alone: each encoded into a reused
/// buffer and decoded (shared form) once, with no session logic.
#[derive(Debug)]
pub struct CodecOnly {
    protocol: Protocol,
    publish: shared::Publish,
    buf: mqtt_codec::BytesMut,
}

impl CodecOnly {
    /// The codec at `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        let topic = shared::TopicName::new(TOPIC).unwrap_or_default();
        CodecOnly {
            protocol,
            publish: shared::Publish::new(topic, vec![0x5a; PAYLOAD_LEN]),
            buf: mqtt_codec::BytesMut::with_capacity(256),
        }
    }

    fn pass(&mut self, p: &shared::Packet) -> u64 {
        let enc = Encoder::new(self.protocol);
        let _ = enc.encode(p, &mut self.buf);
        let d = Decoder::new(self.protocol);
        match d.decode_bytes_mut(&mut self.buf) {
            Ok(Some(q)) => q.packet_type() as u64,
            _ => 0,
        }
    }

    /// The packets of one round at `qos`: PUBLISH and PUBACK, or PUBLISH, PUBREC, PUBREL
    /// and PUBCOMP, each encoded and decoded.
    pub fn round(&mut self, qos: QoS) -> u64 {
        let id = PacketId::new(1).unwrap_or(PacketId::from(core::num::NonZeroU16::MIN));
        let mut p = self.publish.clone();
        p.delivery = mqtt_codec::Delivery::new(qos, Some(id), false).unwrap_or(p.delivery);
        let mut sum = self.pass(&Packet::Publish(p));
        if qos == QoS::AtLeastOnce {
            sum += self.pass(&Packet::PubAck(shared::PubAck::new(id)));
        } else {
            sum += self.pass(&Packet::PubRec(shared::PubRec::new(id)));
            sum += self.pass(&Packet::PubRel(shared::PubRel::new(id)));
            sum += self.pass(&Packet::PubComp(shared::PubComp::new(id)));
        }
        sum
    }
}

/// Decodes a whole buffer of packets, for checks: how many.
pub fn count_packets(protocol: Protocol, bytes: &[u8]) -> usize {
    let d = Decoder::new(protocol);
    let mut rest = bytes;
    let mut n = 0;
    while let Ok(Decoded::Complete(_, k)) = d.decode(rest) {
        n += 1;
        rest = rest.get(k..).unwrap_or_default();
    }
    n
}

/// Our client machine alone, against a server simulated with our codec the way the rumqttc
/// benchmark simulates one (`shared/session_peers.rs`): it keeps no state, decodes each
/// packet the client sends (borrowed) and encodes the acknowledgement (PUBACK; PUBREC,
/// then PUBCOMP for the PUBREL). Like for like with rumqttc's client `MqttState`.
#[derive(Debug)]
pub struct ClientOnly {
    client: Client,
    message: shared::Publish,
    protocol: Protocol,
    answer: Vec<u8>,
}

impl ClientOnly {
    /// A client at `protocol`, connected (the handshake done with a real server machine,
    /// which is then dropped).
    pub fn new(protocol: Protocol) -> Self {
        let Connected {
            client, message, ..
        } = Connected::new(protocol);
        ClientOnly {
            client,
            message,
            protocol,
            answer: Vec::with_capacity(64),
        }
    }

    /// One round at `qos`, as [`Connected::round`] but with the simulated server.
    pub fn round(&mut self, qos: QoS) -> u64 {
        let now = Instant::ZERO;
        let mut seen = 0u64;
        let _ = self.client.publish(self.message.clone(), qos);
        let d = Decoder::new(self.protocol);
        let enc = Encoder::new(self.protocol);
        while let Some(bytes) = self.client.poll_transmit() {
            self.answer.clear();
            let mut rest = &bytes[..];
            while let Ok(Decoded::Complete(p, n)) = d.decode(rest) {
                rest = rest.get(n..).unwrap_or_default();
                let reply: Option<shared::Packet> = match p {
                    Packet::Publish(m) => {
                        seen += m.payload.len() as u64;
                        match m.delivery {
                            mqtt_codec::Delivery::AtLeastOnce { packet_id, .. } => {
                                Some(Packet::PubAck(shared::PubAck::new(packet_id)))
                            }
                            mqtt_codec::Delivery::ExactlyOnce { packet_id, .. } => {
                                Some(Packet::PubRec(shared::PubRec::new(packet_id)))
                            }
                            mqtt_codec::Delivery::AtMostOnce => None,
                        }
                    }
                    Packet::PubRel(r) => Some(Packet::PubComp(shared::PubComp::new(r.packet_id))),
                    _ => None,
                };
                if let Some(r) = reply {
                    let _ = enc.encode(&r, &mut self.answer);
                }
            }
            if !self.answer.is_empty() {
                self.client.handle_bytes(now, &self.answer);
            }
        }
        while let Some(e) = self.client.poll_event() {
            if let Event::PublishComplete {
                packet_id,
                outcome: Outcome::Acknowledged(_),
            } = e
            {
                seen += u64::from(packet_id.get());
            }
        }
        seen
    }
}
