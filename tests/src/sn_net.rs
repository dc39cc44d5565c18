//! An MQTT-SN client and gateway over a simulated datagram link that can drop, duplicate
//! and reorder, the gateway's broker made of `mqtt-codec`'s server machine over a reliable
//! link, all in virtual time. For the MQTT-SN property test and fuzz target.

use std::collections::VecDeque;

use mqtt_codec::session::{
    Client as MqttClient, ClientOptions, Event as MqttEvent, Server, ServerOptions, Session,
};
use mqtt_codec::{Bytes, Instant};
use mqtt_sn_codec::client::{Client, ClientConfig, Destination, Event};
use mqtt_sn_codec::gateway::{Gateway, GatewayConfig, GatewayEvent};
use mqtt_sn_codec::TopicId;

/// The client's address.
pub const CLIENT: u8 = 10;
/// The gateway's address.
pub const GATEWAY: u8 = 1;

/// What the link does to datagrams: percentages, and the largest extra delay (which
/// reorders).
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Chance in percent that a datagram is lost.
    pub drop: u8,
    /// Chance in percent that a datagram arrives twice.
    pub duplicate: u8,
    /// The largest delay, in milliseconds, a datagram may take (1 ms at least).
    pub max_delay_ms: u64,
}

/// A datagram on its way.
#[derive(Debug, Clone)]
struct InFlight {
    at: Instant,
    to_gateway: bool,
    data: Bytes,
}

/// The client, the gateway, the broker and the link between client and gateway.
#[derive(Debug)]
pub struct SnNet {
    /// The MQTT-SN client.
    pub client: Client<u8>,
    /// The gateway.
    pub gw: Gateway<u8>,
    /// The broker's end of the gateway's MQTT connection.
    pub broker: Server,
    /// Virtual time.
    pub now: Instant,
    /// The link's faults.
    pub faults: Faults,
    rng: u64,
    link: Vec<InFlight>,
    /// What the broker's application received: (topic, payload, qos).
    pub at_broker: Vec<(String, Vec<u8>, u8)>,
    /// What the client's application received: (topic, payload, qos).
    pub at_client: Vec<(String, Vec<u8>, u8)>,
    /// Every client event.
    pub client_events: Vec<Event<u8>>,
    /// Every gateway event.
    pub gateway_events: Vec<GatewayEvent<u8>>,
    /// Datagrams carried, both ways (for the transcript and fuzz checks).
    pub datagrams: VecDeque<(bool, Bytes)>,
    /// One line per datagram delivered (`c>g TYPE …`, `g>c TYPE …`), per datagram lost
    /// (`… (lost)`), per MQTT packet to or from the broker (`g>b`, `b>g`), when recording.
    pub transcript: Vec<String>,
    /// Whether to record the transcript.
    pub record: bool,
}

impl SnNet {
    /// A network whose gateway has predefined topic 1 = `pre/one`, and whose client is
    /// configured alike; `seed` drives the link and the client's random delays.
    pub fn new(client: ClientConfig, gateway: GatewayConfig, faults: Faults, seed: u64) -> Self {
        let connect = mqtt_codec::shared::Connect::new(
            mqtt_codec::Protocol::V3_1_1,
            mqtt_codec::shared::Str::new("sn-gateway").unwrap_or_default(),
            0,
        );
        let mqtt = MqttClient::new(connect, ClientOptions::default(), Session::new());
        let Ok(mqtt) = mqtt else {
            panic!("a valid CONNECT");
        };
        let mut n = SnNet {
            client: Client::new(client, seed),
            gw: Gateway::new(gateway, mqtt),
            broker: Server::new(Instant::ZERO, ServerOptions::default()),
            now: Instant::ZERO,
            faults,
            rng: seed | 1,
            link: Vec::new(),
            at_broker: Vec::new(),
            at_client: Vec::new(),
            client_events: Vec::new(),
            gateway_events: Vec::new(),
            datagrams: VecDeque::new(),
            transcript: Vec::new(),
            record: false,
        };
        let _ = n.gw.connect_broker(n.now);
        n.step();
        n
    }

    /// The configurations the property test uses: predefined topic 1 = `pre/one` on both
    /// sides, T_retry 2 s, N_retry `n_retry`.
    pub fn configs(n_retry: u8) -> (ClientConfig, GatewayConfig) {
        let mut c = ClientConfig::new("sn-prop", 60);
        c.predefined.push((TopicId(1), "pre/one".to_string()));
        c.t_retry = std::time::Duration::from_secs(2);
        c.n_retry = n_retry;
        let mut g = GatewayConfig::new(1);
        g.advertise_interval = 0;
        g.predefined.push((TopicId(1), "pre/one".to_string()));
        g.t_retry = std::time::Duration::from_secs(2);
        g.n_retry = n_retry;
        (c, g)
    }

    fn random(&mut self, n: u64) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        if n == 0 {
            0
        } else {
            x % n
        }
    }

    fn put_on_link(&mut self, to_gateway: bool, data: Bytes) {
        if self.datagrams.len() >= 4096 {
            self.datagrams.pop_front();
        }
        self.datagrams.push_back((to_gateway, data.clone()));
        if self.random(100) < u64::from(self.faults.drop) {
            if self.record {
                let line = describe_sn(to_gateway, &data);
                self.transcript.push(format!("{line} (lost)"));
            }
            return;
        }
        let copies = if self.random(100) < u64::from(self.faults.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = 1 + self.random(self.faults.max_delay_ms.max(1));
            self.link.push(InFlight {
                at: self.now.plus(delay),
                to_gateway,
                data: data.clone(),
            });
        }
    }

    /// Moves everything that is due: outputs of the three machines onto the link or the
    /// broker connection, datagrams whose time has come to their receiver, broker events
    /// to the broker's application (which accepts, grants and records).
    pub fn step(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(tx) = self.client.poll_transmit() {
                moved = true;
                if matches!(
                    tx.to,
                    Destination::To(GATEWAY) | Destination::Broadcast { .. }
                ) {
                    self.put_on_link(true, tx.data);
                }
            }
            while let Some(tx) = self.gw.poll_transmit() {
                moved = true;
                if matches!(
                    tx.to,
                    Destination::To(CLIENT) | Destination::Broadcast { .. }
                ) {
                    self.put_on_link(false, tx.data);
                }
            }
            while let Some(b) = self.gw.poll_mqtt_transmit() {
                moved = true;
                if self.record {
                    for line in crate::pair::describe_bytes(&b, mqtt_codec::Protocol::V3_1_1) {
                        self.transcript.push(format!("g>b {line}"));
                    }
                }
                self.broker.handle_bytes(self.now, &b);
            }
            while let Some(e) = self.broker.poll_event() {
                moved = true;
                self.broker_app(e);
            }
            while let Some(b) = self.broker.poll_transmit() {
                moved = true;
                if self.record {
                    for line in crate::pair::describe_bytes(&b, mqtt_codec::Protocol::V3_1_1) {
                        self.transcript.push(format!("b>g {line}"));
                    }
                }
                self.gw.handle_mqtt_bytes(self.now, &b);
            }
            while let Some(e) = self.client.poll_event() {
                moved = true;
                if let Event::Message {
                    topic,
                    payload,
                    qos,
                    ..
                } = &e
                {
                    self.at_client
                        .push((topic.to_string(), payload.to_vec(), qos.bits()));
                }
                self.client_events.push(e);
            }
            while let Some(e) = self.gw.poll_event() {
                moved = true;
                self.gateway_events.push(e);
            }
            // Datagrams due now.
            let now = self.now;
            let mut due: Vec<InFlight> = Vec::new();
            self.link.retain(|d| {
                if d.at <= now {
                    due.push(d.clone());
                    false
                } else {
                    true
                }
            });
            due.sort_by_key(|d| d.at);
            for d in due {
                moved = true;
                if self.record {
                    self.transcript.push(describe_sn(d.to_gateway, &d.data));
                }
                if d.to_gateway {
                    self.gw.handle_datagram(now, CLIENT, &d.data);
                } else {
                    self.client.handle_datagram(now, GATEWAY, &d.data);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn broker_app(&mut self, e: MqttEvent) {
        match e {
            MqttEvent::Connect(_) => {
                let _ = self.broker.accept(self.now, None, Default::default());
            }
            MqttEvent::Subscribe(s) => {
                let granted: Vec<_> = s
                    .subscriptions
                    .iter()
                    .map(|x| match x.options.qos {
                        mqtt_codec::QoS::AtMostOnce => mqtt_codec::SubAckReason::GrantedQoS0,
                        mqtt_codec::QoS::AtLeastOnce => mqtt_codec::SubAckReason::GrantedQoS1,
                        mqtt_codec::QoS::ExactlyOnce => mqtt_codec::SubAckReason::GrantedQoS2,
                    })
                    .collect();
                let _ = self
                    .broker
                    .suback(s.packet_id, &granted, Default::default());
            }
            MqttEvent::Unsubscribe(u) => {
                let r = vec![mqtt_codec::UnsubAckReason::Success; u.filters.len()];
                let _ = self.broker.unsuback(u.packet_id, &r, Default::default());
            }
            MqttEvent::Message(m) => self.at_broker.push((
                m.topic.as_str().to_string(),
                m.payload.as_bytes().to_vec(),
                m.qos() as u8,
            )),
            _ => {}
        }
    }

    /// The earliest moment anything is due: a datagram, or a machine's deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        let link = self.link.iter().map(|d| d.at).min();
        [
            link,
            self.client.poll_timeout(),
            self.gw.poll_timeout(),
            self.broker.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves time to `t` (never back), wakes the machines, moves everything.
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
        self.client.handle_timeout(self.now);
        self.gw.handle_timeout(self.now);
        self.broker.handle_timeout(self.now);
        self.step();
    }

    /// Runs until nothing is due before `until` (at most `max_steps` wake-ups).
    pub fn run_until(&mut self, until: Instant, max_steps: usize) {
        // What the commands since the last step produced goes on the link first.
        self.step();
        for _ in 0..max_steps {
            match self.next_deadline() {
                Some(t) if t <= until => self.advance_to(t),
                _ => break,
            }
        }
        if self.now < until {
            self.advance_to(until);
        }
    }

    /// The broker publishes to the gateway (reliable MQTT link).
    pub fn broker_publish(&mut self, topic: &str, payload: Vec<u8>, qos: mqtt_codec::QoS) {
        if let Ok(t) = mqtt_codec::shared::TopicName::new(topic.to_string()) {
            let m = mqtt_codec::shared::Publish::new(t, payload);
            let _ = self.broker.publish(m, qos);
        }
        self.step();
    }
}

/// Milliseconds after an instant.
trait Plus {
    fn plus(self, ms: u64) -> Instant;
}

impl Plus for Instant {
    fn plus(self, ms: u64) -> Instant {
        Instant::from_millis(self.as_millis().saturating_add(ms))
    }
}

/// A datagram as a transcript line: direction, message type and the fields the scenarios
/// look at.
pub fn describe_sn(to_gateway: bool, data: &[u8]) -> String {
    use mqtt_sn_codec::generic::{Message, TopicRef};
    let dir = if to_gateway { "c>g" } else { "g>c" };
    let Ok(m) = mqtt_sn_codec::decode(data) else {
        return format!("{dir} <undecodable>");
    };
    let topic = |t: &TopicRef<&str>| match t {
        TopicRef::Registered(id) => format!("id={}", id.0),
        TopicRef::Predefined(id) => format!("pre={}", id.0),
        TopicRef::Short(s) => format!("short={}", s.as_str()),
        TopicRef::Name(n) => n.as_str().to_string(),
    };
    let mid = |m: Option<mqtt_sn_codec::MsgId>| m.map_or(0, |m| m.get());
    let body = match &m {
        Message::Connect(c) => format!(
            "CONNECT {} will={} clean={} duration={}",
            c.client_id.as_str(),
            u8::from(c.will),
            u8::from(c.clean_session),
            c.duration
        ),
        Message::ConnAck(r) => format!("CONNACK {r:?}"),
        Message::WillTopic(Some(w)) => format!("WILLTOPIC {}", w.topic.as_str()),
        Message::WillMsg(p) => format!("WILLMSG {}", String::from_utf8_lossy(p.as_bytes())),
        Message::Register(r) => format!(
            "REGISTER id={} mid={} {}",
            r.topic_id.0,
            r.msg_id.get(),
            r.topic.as_str()
        ),
        Message::RegAck(a) => format!(
            "REGACK id={} mid={} {:?}",
            a.topic_id.0,
            a.msg_id.get(),
            a.code
        ),
        Message::Publish(p) => format!(
            "PUBLISH q{} {} mid={} dup={} {}",
            match p.delivery.qos() {
                mqtt_sn_codec::QoS::MinusOne => "-1".to_string(),
                q => q.bits().to_string(),
            },
            topic(&p.topic),
            mid(p.delivery.msg_id()),
            u8::from(p.dup),
            String::from_utf8_lossy(p.payload.as_bytes())
        ),
        Message::PubAck(a) => format!(
            "PUBACK id={} mid={} {:?}",
            a.topic_id.0,
            mid(a.msg_id),
            a.code
        ),
        Message::PubRec(id) => format!("PUBREC mid={}", id.get()),
        Message::PubRel(id) => format!("PUBREL mid={}", id.get()),
        Message::PubComp(id) => format!("PUBCOMP mid={}", id.get()),
        Message::Subscribe(s) => format!(
            "SUBSCRIBE q{} mid={} {}",
            s.qos.bits(),
            s.msg_id.get(),
            topic(&s.topic)
        ),
        Message::SubAck(a) => format!(
            "SUBACK q{} id={} mid={} {:?}",
            a.qos.bits(),
            a.topic_id.0,
            a.msg_id.get(),
            a.code
        ),
        Message::Unsubscribe(u) => {
            format!("UNSUBSCRIBE mid={} {}", u.msg_id.get(), topic(&u.topic))
        }
        Message::UnsubAck(id) => format!("UNSUBACK mid={}", id.get()),
        Message::PingReq(Some(id)) => format!("PINGREQ {}", id.as_str()),
        Message::Disconnect(Some(d)) => format!("DISCONNECT duration={d}"),
        Message::Advertise(a) => format!("ADVERTISE gw={} duration={}", a.gw_id, a.duration),
        Message::GwInfo(g) => format!("GWINFO gw={}", g.gw_id),
        other => other.msg_type().name().to_string(),
    };
    format!("{dir} {body}")
}
