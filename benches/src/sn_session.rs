//! A QoS 1 round through the MQTT-SN machines: the client publishes 16 bytes on a
//! predefined topic, the gateway answers PUBACK and publishes them to the broker as an
//! MQTT PUBLISH over its MQTT client machine, and the broker (a server machine) answers
//! PUBACK. Every message crosses as bytes; nothing is allocated per round once warm.

use mqtt_codec::session::{
    Client as MqttClient, ClientOptions, Event as MqttEvent, Server, ServerOptions, Session,
};
use mqtt_codec::{Bytes, Instant};
use mqtt_sn_codec::client::{Client, ClientConfig, Event, Topic};
use mqtt_sn_codec::gateway::{Gateway, GatewayConfig};
use mqtt_sn_codec::{QoS, TopicId};

/// The client's and the gateway's addresses.
const CLIENT: u8 = 10;
const GATEWAY: u8 = 1;

/// A client connected to a gateway connected to a broker.
#[derive(Debug)]
pub struct SnConnected {
    /// The MQTT-SN client.
    pub client: Client<u8>,
    /// The gateway.
    pub gateway: Gateway<u8>,
    /// The broker.
    pub broker: Server,
    payload: Bytes,
    /// After the handshake, the broker is simulated as in `ClientOnly`: each PUBLISH the
    /// gateway sends is decoded (borrowed) and answered with an encoded PUBACK.
    simulated: bool,
    answer: Vec<u8>,
}

impl SnConnected {
    /// Connects the three.
    pub fn new() -> Self {
        let now = Instant::ZERO;
        let mut cc = ClientConfig::new("bench-sn", 0);
        cc.predefined.push((TopicId(1), "bench/topic".to_string()));
        let mut gc = GatewayConfig::new(1);
        gc.advertise_interval = 0;
        gc.predefined.push((TopicId(1), "bench/topic".to_string()));
        let id = mqtt_codec::shared::Str::new("bench-gateway").unwrap_or_default();
        let connect = mqtt_codec::shared::Connect::new(mqtt_codec::Protocol::V3_1_1, id, 0);
        let mqtt = MqttClient::new(connect, ClientOptions::default(), Session::new());
        let Ok(mqtt) = mqtt else {
            unreachable_config();
        };
        let mut n = SnConnected {
            client: Client::new(cc, 1),
            gateway: Gateway::new(gc, mqtt),
            broker: Server::new(now, ServerOptions::default()),
            payload: Bytes::from(vec![0x5a; 16]),
            simulated: false,
            answer: Vec::with_capacity(64),
        };
        let _ = n.gateway.connect_broker(now);
        n.settle();
        let _ = n.client.connect(now, GATEWAY);
        n.settle();
        n
    }

    /// The same, but with the broker simulated after the handshake (like for like with the
    /// MQTT client benchmarked alone).
    pub fn with_simulated_broker() -> Self {
        let mut n = Self::new();
        n.simulated = true;
        n
    }

    /// Moves everything until all three are quiet; a checksum of what the applications
    /// saw.
    fn settle(&mut self) -> u64 {
        let now = Instant::ZERO;
        let mut seen = 0u64;
        loop {
            let mut moved = false;
            while let Some(tx) = self.client.poll_transmit() {
                moved = true;
                self.gateway.handle_bytes(now, CLIENT, tx.data);
            }
            while let Some(tx) = self.gateway.poll_transmit() {
                moved = true;
                self.client.handle_bytes(now, GATEWAY, tx.data);
            }
            while let Some(b) = self.gateway.poll_mqtt_transmit() {
                moved = true;
                if self.simulated {
                    seen += self.simulate_broker(&b);
                } else {
                    self.broker.handle_bytes(now, &b);
                }
            }
            while let Some(e) = self.broker.poll_event() {
                match e {
                    MqttEvent::Connect(_) => {
                        let _ = self.broker.accept(now, None, Default::default());
                    }
                    MqttEvent::Message(m) => seen += m.payload.len() as u64,
                    _ => {}
                }
            }
            while let Some(b) = self.broker.poll_transmit() {
                moved = true;
                self.gateway.handle_mqtt_bytes(now, &b);
            }
            while let Some(e) = self.client.poll_event() {
                if let Event::PublishComplete { msg_id, .. } = e {
                    seen += u64::from(msg_id.get());
                }
            }
            while self.gateway.poll_event().is_some() {}
            if !moved {
                return seen;
            }
        }
    }

    fn simulate_broker(&mut self, bytes: &[u8]) -> u64 {
        use mqtt_codec::generic::Packet;
        let d = mqtt_codec::Decoder::new(mqtt_codec::Protocol::V3_1_1);
        let enc = mqtt_codec::Encoder::new(mqtt_codec::Protocol::V3_1_1);
        let mut seen = 0;
        self.answer.clear();
        let mut rest = bytes;
        while let Ok(mqtt_codec::Decoded::Complete(p, n)) = d.decode(rest) {
            rest = rest.get(n..).unwrap_or_default();
            if let Packet::Publish(m) = p {
                seen += m.payload.len() as u64;
                if let mqtt_codec::Delivery::AtLeastOnce { packet_id, .. } = m.delivery {
                    let ack: mqtt_codec::shared::Packet =
                        Packet::PubAck(mqtt_codec::shared::PubAck::new(packet_id));
                    let _ = enc.encode(&ack, &mut self.answer);
                }
            }
        }
        if !self.answer.is_empty() {
            self.gateway.handle_mqtt_bytes(Instant::ZERO, &self.answer);
        }
        seen
    }

    /// One QoS 1 round.
    pub fn round(&mut self) -> u64 {
        let _ = self.client.publish(
            Instant::ZERO,
            Topic::Predefined(TopicId(1)),
            self.payload.clone(),
            QoS::AtLeastOnce,
            false,
        );
        self.settle()
    }
}

impl Default for SnConnected {
    fn default() -> Self {
        Self::new()
    }
}

fn unreachable_config() -> ! {
    // The configuration above is fixed and valid; a failure here is a bug in this file.
    #[allow(clippy::panic)]
    {
        panic!("bench setup: invalid MQTT CONNECT")
    }
}
