//! The gateway machine between scripted MQTT-SN clients and a broker made of
//! `mqtt-codec`'s server machine, one or more tests per procedure of MQTT-SN 1.2 §6, named
//! after its section.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use bytes::Bytes;
use mqtt_codec::session::{
    Client as MqttClient, ClientOptions, Event as MqttEvent, Server, ServerOptions, Session,
};
use mqtt_codec::Instant;

use super::*;
use crate::client::Destination;
use crate::generic::{Message, TopicRef};
use crate::{shared, MsgId, PubAck, QoS, RegAck, ReturnCode, ShortTopic, TopicId};

type M = shared::Message;

const A: u8 = 10;
const B: u8 = 11;

fn t(secs: f64) -> Instant {
    Instant::from_millis((secs * 1000.0) as u64)
}

fn id(n: u16) -> MsgId {
    MsgId::new(n).unwrap()
}

fn enc(m: &M) -> Vec<u8> {
    let mut v = Vec::new();
    m.encode(&mut v).unwrap();
    v
}

/// A gateway, the broker it talks to (a server machine whose application accepts,
/// grants what is asked and records what is published), in virtual time.
struct Net {
    gw: Gateway<u8>,
    broker: Server,
    now: Instant,
    /// What the broker received: `topic payload qos`.
    published: Vec<String>,
    /// The filters the broker was asked to subscribe to, in order.
    subscribed: Vec<String>,
}

impl Net {
    fn new(config: GatewayConfig) -> Net {
        let connect = mqtt_codec::shared::Connect::new(
            mqtt_codec::Protocol::V5,
            mqtt_codec::shared::Str::new("sn-gateway").unwrap(),
            0,
        );
        let mqtt = MqttClient::new(connect, ClientOptions::default(), Session::new()).unwrap();
        let mut n = Net {
            gw: Gateway::new(config, mqtt),
            broker: Server::new(Instant::ZERO, ServerOptions::default()),
            now: Instant::ZERO,
            published: Vec::new(),
            subscribed: Vec::new(),
        };
        n.gw.connect_broker(n.now).unwrap();
        n.pump();
        assert!(n.gw_events().contains(&GatewayEvent::BrokerConnected));
        n
    }

    fn pump(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(b) = self.gw.poll_mqtt_transmit() {
                moved = true;
                self.broker.handle_bytes(self.now, &b);
            }
            while let Some(e) = self.broker.poll_event() {
                moved = true;
                match e {
                    MqttEvent::Connect(_) => self
                        .broker
                        .accept(self.now, None, Default::default())
                        .unwrap(),
                    MqttEvent::Subscribe(s) => {
                        for x in s.subscriptions.iter() {
                            self.subscribed.push(x.filter.as_str().to_string());
                        }
                        let granted: Vec<_> = s
                            .subscriptions
                            .iter()
                            .map(|x| match x.options.qos {
                                mqtt_codec::QoS::AtMostOnce => {
                                    mqtt_codec::SubAckReason::GrantedQoS0
                                }
                                mqtt_codec::QoS::AtLeastOnce => {
                                    mqtt_codec::SubAckReason::GrantedQoS1
                                }
                                mqtt_codec::QoS::ExactlyOnce => {
                                    mqtt_codec::SubAckReason::GrantedQoS2
                                }
                            })
                            .collect();
                        self.broker
                            .suback(s.packet_id, &granted, Default::default())
                            .unwrap();
                    }
                    MqttEvent::Unsubscribe(u) => {
                        let r = vec![mqtt_codec::UnsubAckReason::Success; u.filters.len()];
                        self.broker
                            .unsuback(u.packet_id, &r, Default::default())
                            .unwrap();
                    }
                    MqttEvent::Message(m) => self.published.push(alloc::format!(
                        "{} {} {}",
                        m.topic.as_str(),
                        String::from_utf8_lossy(m.payload.as_bytes()),
                        m.qos() as u8
                    )),
                    _ => {}
                }
            }
            while let Some(b) = self.broker.poll_transmit() {
                moved = true;
                self.gw.handle_mqtt_bytes(self.now, &b);
            }
            if !moved {
                return;
            }
        }
    }

    fn at(&mut self, secs: f64) -> &mut Self {
        self.now = t(secs);
        self.gw.handle_timeout(self.now);
        self.pump();
        self
    }

    fn from(&mut self, addr: u8, m: M) {
        self.gw.handle_datagram(self.now, addr, &enc(&m));
        self.pump();
    }

    /// What the gateway sent, decoded.
    fn sent(&mut self) -> Vec<(Destination<u8>, M)> {
        let mut out = Vec::new();
        while let Some(tx) = self.gw.poll_transmit() {
            out.push((
                tx.to,
                crate::Decoder::default().decode_bytes(&tx.data).unwrap(),
            ));
        }
        out
    }

    /// What the gateway sent to `addr` (all it sent must go there).
    fn to(&mut self, addr: u8) -> Vec<M> {
        self.sent()
            .into_iter()
            .map(|(to, m)| {
                assert_eq!(to, Destination::To(addr), "{m:?}");
                m
            })
            .collect()
    }

    fn gw_events(&mut self) -> Vec<GatewayEvent<u8>> {
        let mut v = Vec::new();
        while let Some(e) = self.gw.poll_event() {
            v.push(e);
        }
        v
    }

    fn broker_publish(&mut self, topic: &str, payload: &str, qos: mqtt_codec::QoS) {
        let m = mqtt_codec::shared::Publish::new(
            mqtt_codec::shared::TopicName::new(topic.to_string()).unwrap(),
            payload.as_bytes().to_vec(),
        );
        self.broker.publish(m, qos).unwrap();
        self.pump();
    }

    /// Client `addr` connects as `client_id` (no will, keep-alive 60 s, clean).
    fn connect(&mut self, addr: u8, client_id: &str) {
        self.from(
            addr,
            Message::Connect(shared::Connect {
                will: false,
                clean_session: true,
                duration: 60,
                client_id: shared::Str::new(client_id.to_string()).unwrap(),
            }),
        );
        assert_eq!(self.to(addr), [M::ConnAck(ReturnCode::Accepted)]);
        let _ = self.gw_events();
    }
}

fn peer(addr: u8) -> Peer<u8> {
    Peer { addr, node: None }
}

fn config() -> GatewayConfig {
    let mut c = GatewayConfig::new(7);
    c.advertise_interval = 60;
    c.predefined.push((TopicId(5), "pre/five".to_string()));
    c
}

fn publish(
    topic: TopicRef<mqtt_codec::ByteString>,
    delivery: Delivery,
    payload: &'static [u8],
) -> M {
    Message::Publish(shared::Publish {
        dup: false,
        retain: false,
        delivery,
        topic,
        payload: Bytes::from_static(payload).into(),
    })
}

fn name(s: &str) -> shared::TopicName {
    shared::TopicName::new(s.to_string()).unwrap()
}

fn filter(s: &str) -> TopicRef<mqtt_codec::ByteString> {
    TopicRef::Name(shared::TopicFilter::new(s.to_string()).unwrap())
}

fn subscribe(topic: TopicRef<mqtt_codec::ByteString>, qos: QoS, msg_id: u16) -> M {
    Message::Subscribe(shared::Subscribe {
        dup: false,
        qos,
        msg_id: id(msg_id),
        topic,
    })
}

// ---- §6.1 ----

#[test]
fn sn_6_1_the_gateway_advertises_on_its_period_and_answers_searchgw() {
    let mut n = Net::new(config());
    n.at(0.0);
    let s = n.sent();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, Destination::Broadcast { radius: 1 });
    assert_eq!(
        s[0].1,
        M::Advertise(crate::Advertise {
            gw_id: 7,
            duration: 60
        })
    );
    n.at(59.0);
    assert!(n.sent().is_empty());
    n.at(60.0);
    assert_eq!(n.sent().len(), 1);
    n.from(A, Message::SearchGw(crate::SearchGw { radius: 1 }));
    match &n.sent()[..] {
        [(Destination::Broadcast { .. }, Message::GwInfo(g))] => {
            assert_eq!(g.gw_id, 7);
            assert!(
                g.gw_add.is_empty(),
                "[SN-5.4.3] a gateway's GWINFO has no GwAdd"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---- §6.2, §6.3 ----

#[test]
fn sn_6_2_the_will_dialogue_comes_before_connack() {
    let mut n = Net::new(config());
    n.from(
        A,
        Message::Connect(shared::Connect {
            will: true,
            clean_session: true,
            duration: 30,
            client_id: shared::Str::new("dev".to_string()).unwrap(),
        }),
    );
    assert_eq!(n.to(A), [M::WillTopicReq]);
    n.from(
        A,
        Message::WillTopic(Some(shared::WillTopic {
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: name("wills/dev"),
        })),
    );
    assert_eq!(n.to(A), [M::WillMsgReq]);
    n.from(A, Message::WillMsg(Bytes::from_static(b"dead").into()));
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    assert_eq!(
        n.gw_events(),
        [GatewayEvent::Connected {
            peer: peer(A),
            client_id: "dev".into()
        }]
    );
    // §6.11: silent for 1.5 keep-alives: lost, and the will goes to the broker.
    n.at(44.9);
    assert!(n.published.is_empty());
    n.at(45.0);
    assert_eq!(n.published, ["wills/dev dead 1"]);
    assert_eq!(n.gw_events(), [GatewayEvent::ClientLost { peer: peer(A) }]);
    assert_eq!(n.gw.clients(), 0, "a clean session ends with it");
}

#[test]
fn sn_6_2_will_requests_are_resent_then_the_client_is_lost() {
    let mut c = config();
    c.advertise_interval = 0;
    let mut n = Net::new(c);
    n.from(
        A,
        Message::Connect(shared::Connect {
            will: true,
            clean_session: true,
            duration: 600,
            client_id: shared::Str::new("dev".to_string()).unwrap(),
        }),
    );
    assert_eq!(n.to(A), [M::WillTopicReq]);
    for k in 1..=5 {
        n.at(10.0 * f64::from(k));
        assert_eq!(n.to(A), [M::WillTopicReq], "resend {k}");
    }
    n.at(60.0);
    assert_eq!(n.gw_events(), [GatewayEvent::ClientLost { peer: peer(A) }]);
}

#[test]
fn sn_6_3_without_clean_session_subscriptions_outlive_the_connection() {
    let mut n = Net::new(config());
    let connect = |clean| {
        Message::Connect(shared::Connect {
            will: false,
            clean_session: clean,
            duration: 60,
            client_id: shared::Str::new("keep".to_string()).unwrap(),
        })
    };
    n.from(A, connect(false));
    let _ = n.to(A);
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtLeastOnce, 1),
    );
    let _ = n.to(A);
    n.from(A, Message::Disconnect(None));
    assert_eq!(n.to(A), [M::Disconnect(None)]);
    // Published while away: kept, and delivered on the next CONNECT without CleanSession.
    n.broker_publish("pre/five", "while-away", mqtt_codec::QoS::AtLeastOnce);
    assert!(n.sent().is_empty());
    n.from(A, connect(false));
    let out = n.to(A);
    assert_eq!(out[0], M::ConnAck(ReturnCode::Accepted));
    let p = match &out[1] {
        Message::Publish(p) => p.clone(),
        other => panic!("{other:?}"),
    };
    assert!(p.payload.as_bytes() == b"while-away" && p.topic == TopicRef::Predefined(TopicId(5)));
    n.from(
        A,
        Message::PubAck(PubAck {
            topic_id: TopicId(5),
            msg_id: p.delivery.msg_id(),
            code: ReturnCode::Accepted,
        }),
    );
    // A clean session drops them: the broker subscription goes too.
    n.from(A, connect(true));
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    n.broker_publish("pre/five", "not-for-you", mqtt_codec::QoS::AtLeastOnce);
    assert!(n.sent().is_empty());
}

// ---- §6.5 to §6.8: client to broker ----

#[test]
fn sn_6_5_register_assigns_an_id_and_publish_becomes_an_mqtt_publish() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(
        A,
        Message::Register(shared::Register {
            topic_id: TopicId::NONE,
            msg_id: id(1),
            topic: name("a/b"),
        }),
    );
    let out = n.to(A);
    let assigned = match &out[..] {
        [Message::RegAck(r)] => {
            assert_eq!((r.msg_id, r.code), (id(1), ReturnCode::Accepted));
            assert!(
                !r.topic_id.is_reserved(),
                "[SN-5.3.11] never 0x0000 or 0xFFFF"
            );
            assert_ne!(r.topic_id, TopicId(5), "not a predefined id");
            r.topic_id
        }
        other => panic!("{other:?}"),
    };
    // The same name again: the same id.
    n.from(
        A,
        Message::Register(shared::Register {
            topic_id: TopicId::NONE,
            msg_id: id(2),
            topic: name("a/b"),
        }),
    );
    assert_eq!(
        n.to(A),
        [M::RegAck(RegAck {
            topic_id: assigned,
            msg_id: id(2),
            code: ReturnCode::Accepted
        })]
    );
    n.from(
        A,
        publish(
            TopicRef::Registered(assigned),
            Delivery::AtLeastOnce(id(3)),
            b"q1",
        ),
    );
    assert_eq!(
        n.to(A),
        [M::PubAck(PubAck {
            topic_id: assigned,
            msg_id: Some(id(3)),
            code: ReturnCode::Accepted
        })]
    );
    n.from(
        A,
        publish(TopicRef::Registered(assigned), Delivery::AtMostOnce, b"q0"),
    );
    assert_eq!(n.published, ["a/b q1 1", "a/b q0 0"]);
}

#[test]
fn sn_6_6_an_unknown_topic_id_is_refused_with_invalid_topic_id() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(
        A,
        publish(
            TopicRef::Registered(TopicId(77)),
            Delivery::AtLeastOnce(id(4)),
            b"x",
        ),
    );
    assert_eq!(
        n.to(A),
        [M::PubAck(PubAck {
            topic_id: TopicId(77),
            msg_id: Some(id(4)),
            code: ReturnCode::InvalidTopicId
        })]
    );
    assert!(n.published.is_empty());
}

#[test]
fn sn_6_6_incoming_qos_2_is_forwarded_once() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    let p = publish(
        TopicRef::Predefined(TopicId(5)),
        Delivery::ExactlyOnce(id(9)),
        b"once",
    );
    n.from(A, p.clone());
    n.from(A, p);
    assert_eq!(n.to(A), [M::PubRec(id(9)), M::PubRec(id(9))]);
    n.from(A, Message::PubRel(id(9)));
    assert_eq!(n.to(A), [M::PubComp(id(9))]);
    assert_eq!(n.published, ["pre/five once 2"]);
}

#[test]
fn sn_6_7_predefined_ids_and_short_names_translate_without_register() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(
        A,
        publish(TopicRef::Predefined(TopicId(5)), Delivery::AtMostOnce, b"p"),
    );
    n.from(
        A,
        publish(
            TopicRef::Short(ShortTopic::new("ab").unwrap()),
            Delivery::AtMostOnce,
            b"s",
        ),
    );
    assert_eq!(n.published, ["pre/five p 0", "ab s 0"]);
}

#[test]
fn sn_6_8_qos_minus_one_is_forwarded_without_a_connection() {
    let mut n = Net::new(config());
    n.from(
        B,
        publish(TopicRef::Predefined(TopicId(5)), Delivery::MinusOne, b"m1"),
    );
    assert_eq!(n.published, ["pre/five m1 0"]);
    assert!(n.sent().is_empty(), "no answer");
    // Anything else from a stranger: DISCONNECT (§6.12).
    n.from(
        B,
        publish(TopicRef::Predefined(TopicId(5)), Delivery::AtMostOnce, b"x"),
    );
    assert_eq!(n.to(B), [M::Disconnect(None)]);
}

// ---- §6.9, §6.10: broker to client ----

#[test]
fn sn_6_9_subscribe_becomes_an_mqtt_subscribe_answered_after_the_broker() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, subscribe(filter("s/1"), QoS::AtLeastOnce, 1));
    let tid = match &n.to(A)[..] {
        [Message::SubAck(a)] => {
            assert_eq!(
                (a.msg_id, a.qos, a.code),
                (id(1), QoS::AtLeastOnce, ReturnCode::Accepted)
            );
            assert!(
                !a.topic_id.is_reserved(),
                "[SN-5.4.16] a name without wildcards gets an id"
            );
            a.topic_id
        }
        other => panic!("{other:?}"),
    };
    // The broker's message on it goes out on that id, without a REGISTER.
    n.broker_publish("s/1", "hello", mqtt_codec::QoS::AtLeastOnce);
    let out = n.to(A);
    let p = match &out[..] {
        [Message::Publish(p)] => p.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(p.topic, TopicRef::Registered(tid));
    assert!(matches!(p.delivery, Delivery::AtLeastOnce(_)));
    n.from(
        A,
        Message::PubAck(PubAck {
            topic_id: tid,
            msg_id: p.delivery.msg_id(),
            code: ReturnCode::Accepted,
        }),
    );
    assert_eq!(n.gw.waiting(&peer(A)), 0);
    // A second client on the same filter shares the broker subscription.
    n.connect(B, "dev2");
    n.from(B, subscribe(filter("s/1"), QoS::AtMostOnce, 1));
    assert!(matches!(&n.to(B)[..], [Message::SubAck(a)] if a.code == ReturnCode::Accepted));
    n.broker_publish("s/1", "both", mqtt_codec::QoS::AtMostOnce);
    assert_eq!(n.sent().len(), 2);
    // Unsubscribe answers UNSUBACK.
    n.from(
        B,
        Message::Unsubscribe(shared::Unsubscribe {
            msg_id: id(2),
            topic: filter("s/1"),
        }),
    );
    assert_eq!(n.to(B), [M::UnsubAck(id(2))]);
}

#[test]
fn sn_6_10_a_wildcard_match_is_registered_with_the_client_before_the_publish() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, subscribe(filter("w/#"), QoS::ExactlyOnce, 1));
    assert!(matches!(&n.to(A)[..], [Message::SubAck(a)] if a.topic_id == TopicId::NONE));
    n.broker_publish("w/x", "one", mqtt_codec::QoS::ExactlyOnce);
    let (tid, reg_id) = match &n.to(A)[..] {
        [Message::Register(r)] => {
            assert_eq!(r.topic.as_str(), "w/x");
            assert!(
                !r.topic_id.is_reserved(),
                "[SN-5.4.10] a gateway's REGISTER carries the id"
            );
            (r.topic_id, r.msg_id)
        }
        other => panic!("{other:?}"),
    };
    n.from(
        A,
        Message::RegAck(RegAck {
            topic_id: tid,
            msg_id: reg_id,
            code: ReturnCode::Accepted,
        }),
    );
    let p = match &n.to(A)[..] {
        [Message::Publish(p)] => p.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(p.topic, TopicRef::Registered(tid));
    let mid = p.delivery.msg_id().unwrap();
    n.from(A, Message::PubRec(mid));
    assert_eq!(n.to(A), [M::PubRel(mid)]);
    n.from(A, Message::PubComp(mid));
    // Known now: the next message on w/x needs no REGISTER.
    n.broker_publish("w/x", "two", mqtt_codec::QoS::AtMostOnce);
    assert!(matches!(&n.to(A)[..], [Message::Publish(p)] if p.topic == TopicRef::Registered(tid)));
}

// ---- §6.13, §6.14 ----

#[test]
fn sn_6_13_a_publish_to_a_client_is_resent_with_dup_then_the_client_is_lost() {
    let mut c = config();
    c.advertise_interval = 0;
    let mut n = Net::new(c);
    n.connect(A, "dev");
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtLeastOnce, 1),
    );
    let _ = n.to(A);
    n.broker_publish("pre/five", "x", mqtt_codec::QoS::AtLeastOnce);
    assert!(matches!(&n.to(A)[..], [Message::Publish(p)] if !p.dup));
    for k in 1..=5 {
        n.at(10.0 * f64::from(k));
        assert!(
            matches!(&n.to(A)[..], [Message::Publish(p)] if p.dup),
            "resend {k}"
        );
        // Keep the client alive otherwise.
        n.from(A, Message::PingReq(None));
        let _ = n.to(A);
    }
    n.at(60.0);
    assert_eq!(n.gw_events(), [GatewayEvent::ClientLost { peer: peer(A) }]);
}

#[test]
fn sn_6_14_a_sleeping_client_gets_what_was_buffered_when_it_wakes() {
    let mut c = config();
    c.advertise_interval = 0;
    c.max_buffered = 2;
    let mut n = Net::new(c);
    n.connect(A, "sleepy");
    n.from(
        A,
        subscribe(
            TopicRef::Short(ShortTopic::new("zz").unwrap()),
            QoS::AtLeastOnce,
            1,
        ),
    );
    let _ = n.to(A);
    n.from(A, Message::Disconnect(Some(100)));
    assert_eq!(n.to(A), [M::Disconnect(None)]);
    assert_eq!(
        n.gw_events(),
        [GatewayEvent::Disconnected {
            peer: peer(A),
            asleep: true
        }]
    );
    for p in ["1", "2", "3"] {
        n.broker_publish("zz", p, mqtt_codec::QoS::AtLeastOnce);
    }
    assert!(
        n.sent().is_empty(),
        "[SN-6.14] nothing is sent to a sleeping client"
    );
    assert_eq!(
        n.gw_events(),
        [GatewayEvent::BufferFull {
            peer: peer(A),
            topic: "zz".into()
        }]
    );
    // Woken with the ClientId: the buffered messages in order, then PINGRESP.
    n.at(50.0);
    n.from(
        A,
        Message::PingReq(Some(shared::Str::new("sleepy".to_string()).unwrap())),
    );
    let mut got = Vec::new();
    loop {
        let out = n.to(A);
        match &out[..] {
            [Message::Publish(p)] => {
                got.push(String::from_utf8_lossy(p.payload.as_bytes()).to_string());
                n.from(
                    A,
                    Message::PubAck(PubAck {
                        topic_id: TopicId(0x7a7a),
                        msg_id: p.delivery.msg_id(),
                        code: ReturnCode::Accepted,
                    }),
                );
            }
            [Message::PingResp] => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, ["1", "2"]);
    // Asleep again: lost if it does not wake within the duration (and half).
    n.at(50.0 + 149.0);
    assert!(n.gw_events().is_empty());
    n.at(50.0 + 151.0);
    assert_eq!(n.gw_events(), [GatewayEvent::ClientLost { peer: peer(A) }]);
}

// ---- §5.5 ----

#[test]
fn sn_5_5_an_encapsulated_client_is_answered_through_its_forwarder() {
    let mut n = Net::new(config());
    let inner = Message::Connect(shared::Connect {
        will: false,
        clean_session: true,
        duration: 60,
        client_id: shared::Str::new("behind".to_string()).unwrap(),
    });
    let wrapped = Message::Encapsulated(shared::Encapsulated {
        ctrl: crate::Ctrl(0),
        node_id: Bytes::from_static(b"\x01\x02").into(),
        message: alloc::boxed::Box::new(inner),
    });
    n.from(B, wrapped);
    match &n.to(B)[..] {
        [Message::Encapsulated(e)] => {
            assert_eq!(e.node_id.as_bytes(), b"\x01\x02");
            assert_eq!(*e.message, M::ConnAck(ReturnCode::Accepted));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        n.gw_events(),
        [GatewayEvent::Connected {
            peer: Peer {
                addr: B,
                node: Some(Box::from(&b"\x01\x02"[..]))
            },
            client_id: "behind".into()
        }]
    );
}

#[test]
fn sn_6_14_nothing_is_resent_to_a_sleeping_client_and_the_flow_resumes_on_wake() {
    let mut c = config();
    c.advertise_interval = 0;
    let mut n = Net::new(c);
    n.connect(A, "sleepy");
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtLeastOnce, 1),
    );
    let _ = n.to(A);
    n.broker_publish("pre/five", "in-flight", mqtt_codec::QoS::AtLeastOnce);
    let first = match &n.to(A)[..] {
        [Message::Publish(p)] => p.clone(),
        other => panic!("{other:?}"),
    };
    // Asleep before acknowledging it: no resend while asleep, however long.
    n.from(A, Message::Disconnect(Some(600)));
    let _ = n.to(A);
    for s in [10.0, 20.0, 100.0, 500.0] {
        n.at(s);
        assert!(n.sent().is_empty(), "sent to a sleeping client at {s}");
    }
    assert!(n
        .gw_events()
        .iter()
        .all(|e| !matches!(e, GatewayEvent::ClientLost { .. })));
    // Awake: the same message again (DUP), then PINGRESP once it is acknowledged.
    n.from(
        A,
        Message::PingReq(Some(shared::Str::new("sleepy".to_string()).unwrap())),
    );
    let again = match &n.to(A)[..] {
        [Message::Publish(p)] => p.clone(),
        other => panic!("{other:?}"),
    };
    assert!(again.dup && again.delivery == first.delivery);
    // A second wake-up PINGREQ (ours was slow) is not answered early.
    n.from(
        A,
        Message::PingReq(Some(shared::Str::new("sleepy".to_string()).unwrap())),
    );
    assert!(n.sent().is_empty());
    n.from(
        A,
        Message::PubAck(PubAck {
            topic_id: TopicId(5),
            msg_id: again.delivery.msg_id(),
            code: ReturnCode::Accepted,
        }),
    );
    assert_eq!(n.to(A), [M::PingResp]);
}

#[test]
fn sn_6_12_a_disconnect_from_a_client_without_a_session_is_answered() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, Message::Disconnect(None));
    assert_eq!(n.to(A), [M::Disconnect(None)]);
    // Our answer was lost; the client sends DISCONNECT again.
    n.from(A, Message::Disconnect(None));
    assert_eq!(n.to(A), [M::Disconnect(None)]);
    // Discovery traffic of other nodes gets nothing.
    n.from(
        B,
        Message::Advertise(crate::Advertise {
            gw_id: 9,
            duration: 60,
        }),
    );
    assert!(n.sent().is_empty());
}

#[test]
fn sn_6_6_invalid_topic_id_from_the_client_registers_again_and_resends() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, subscribe(filter("t/1"), QoS::AtLeastOnce, 1));
    let tid = match &n.to(A)[..] {
        [Message::SubAck(a)] => a.topic_id,
        other => panic!("{other:?}"),
    };
    n.broker_publish("t/1", "x", mqtt_codec::QoS::AtLeastOnce);
    let p = match &n.to(A)[..] {
        [Message::Publish(p)] => p.clone(),
        other => panic!("{other:?}"),
    };
    n.from(
        A,
        Message::PubAck(PubAck {
            topic_id: tid,
            msg_id: p.delivery.msg_id(),
            code: ReturnCode::InvalidTopicId,
        }),
    );
    let (new_id, reg) = match &n.to(A)[..] {
        [Message::Register(r)] => (r.topic_id, r.msg_id),
        other => panic!("expected REGISTER again: {other:?}"),
    };
    n.from(
        A,
        Message::RegAck(RegAck {
            topic_id: new_id,
            msg_id: reg,
            code: ReturnCode::Accepted,
        }),
    );
    assert!(
        matches!(&n.to(A)[..], [Message::Publish(q)] if q.topic == TopicRef::Registered(new_id) && q.payload.as_bytes() == b"x")
    );
}

#[test]
fn sn_6_5_a_refused_regack_drops_the_message_with_an_event() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, subscribe(filter("w/#"), QoS::AtMostOnce, 1));
    let _ = n.to(A);
    n.broker_publish("w/x", "one", mqtt_codec::QoS::AtMostOnce);
    let (tid, reg) = match &n.to(A)[..] {
        [Message::Register(r)] => (r.topic_id, r.msg_id),
        other => panic!("{other:?}"),
    };
    n.from(
        A,
        Message::RegAck(RegAck {
            topic_id: tid,
            msg_id: reg,
            code: ReturnCode::Congestion,
        }),
    );
    assert!(n.sent().is_empty(), "no PUBLISH on a refused id");
    assert_eq!(
        n.gw_events(),
        [GatewayEvent::Undeliverable {
            peer: peer(A),
            topic: "w/x".into()
        }]
    );
}

#[test]
fn sessions_beyond_the_maximum_are_refused_and_kept_ones_expire() {
    let mut c = config();
    c.advertise_interval = 0;
    c.max_sessions = 1;
    c.session_expiry = core::time::Duration::from_secs(100);
    let mut n = Net::new(c);
    let connect = |id: &str, clean| {
        Message::Connect(shared::Connect {
            will: false,
            clean_session: clean,
            duration: 0,
            client_id: shared::Str::new(id.to_string()).unwrap(),
        })
    };
    n.from(A, connect("one", false));
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    n.from(B, connect("two", true));
    assert_eq!(n.to(B), [M::ConnAck(ReturnCode::Congestion)]);
    // "one" leaves without CleanSession: kept 100 s, then gone, and "two" fits.
    n.from(A, Message::Disconnect(None));
    let _ = n.to(A);
    n.at(99.0);
    assert_eq!(n.gw.clients(), 1);
    n.at(100.0);
    assert_eq!(n.gw.clients(), 0);
    n.from(B, connect("two", true));
    assert_eq!(n.to(B), [M::ConnAck(ReturnCode::Accepted)]);
}

#[test]
fn sn_6_13_a_connect_sent_again_before_anything_else_gets_the_same_answer() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtMostOnce, 1),
    );
    let _ = n.to(A);
    // A new CONNECT after other traffic: a new connection (clean: the subscription goes).
    let again = Message::Connect(shared::Connect {
        will: false,
        clean_session: true,
        duration: 60,
        client_id: shared::Str::new("dev".to_string()).unwrap(),
    });
    n.from(A, again.clone());
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    // The same CONNECT again before anything else (its CONNACK lost): answered again,
    // the new session kept as it is.
    assert_eq!(n.gw_events().len(), 1, "one new connection");
    n.from(A, again);
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    assert!(n.gw_events().is_empty(), "not a new connection");
    n.broker_publish("pre/five", "gone", mqtt_codec::QoS::AtMostOnce);
    assert!(
        n.sent().is_empty(),
        "the first CONNECT was a new clean connection"
    );
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtMostOnce, 3),
    );
    let _ = n.to(A);
    n.broker_publish("pre/five", "kept", mqtt_codec::QoS::AtMostOnce);
    assert_eq!(n.sent().len(), 1);
}

#[test]
fn a_broker_that_lost_the_session_gets_the_subscriptions_again() {
    let mut n = Net::new(config());
    n.connect(A, "dev");
    n.from(A, subscribe(filter("s/#"), QoS::AtMostOnce, 1));
    let _ = n.to(A);
    // The broker connection breaks; a new one finds no session (a restarted broker).
    n.gw.handle_mqtt_link_lost(n.now);
    n.broker = Server::new(n.now, ServerOptions::default());
    n.gw.reconnect_broker(n.now).unwrap();
    n.pump();
    assert!(n.gw_events().contains(&GatewayEvent::BrokerConnected));
    assert_eq!(
        n.subscribed,
        ["s/#", "s/#"],
        "subscribed again on the new session"
    );
}

#[test]
fn sn_6_14_a_wake_up_collects_messages_whose_topic_needs_a_register_first() {
    let mut c = config();
    c.advertise_interval = 0;
    let mut n = Net::new(c);
    n.connect(A, "sleepy");
    n.from(A, subscribe(filter("a/#"), QoS::AtMostOnce, 1));
    let _ = n.to(A);
    n.from(A, Message::Disconnect(Some(300)));
    let _ = n.to(A);
    n.broker_publish("a/b", "one", mqtt_codec::QoS::AtMostOnce);
    n.broker_publish("a/c", "two", mqtt_codec::QoS::AtMostOnce);
    n.from(
        A,
        Message::PingReq(Some(shared::Str::new("sleepy".to_string()).unwrap())),
    );
    let mut got = Vec::new();
    loop {
        match &n.to(A)[..] {
            [Message::Register(r)] => {
                let ack = RegAck {
                    topic_id: r.topic_id,
                    msg_id: r.msg_id,
                    code: ReturnCode::Accepted,
                };
                n.from(A, Message::RegAck(ack));
            }
            [Message::Publish(p), rest @ ..] => {
                got.push(String::from_utf8_lossy(p.payload.as_bytes()).to_string());
                if let [Message::Register(r)] = rest {
                    let ack = RegAck {
                        topic_id: r.topic_id,
                        msg_id: r.msg_id,
                        code: ReturnCode::Accepted,
                    };
                    n.from(A, Message::RegAck(ack));
                } else if matches!(rest, [Message::PingResp]) {
                    break;
                }
            }
            [Message::PingResp] => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, ["one", "two"], "everything buffered, before PINGRESP");
}

#[test]
fn a_connect_from_an_address_does_not_take_another_clients_session() {
    let mut n = Net::new(config());
    let connect = |id: &str| {
        Message::Connect(shared::Connect {
            will: false,
            clean_session: false,
            duration: 60,
            client_id: shared::Str::new(id.to_string()).unwrap(),
        })
    };
    n.from(A, connect("x"));
    let _ = n.to(A);
    n.from(
        A,
        subscribe(TopicRef::Predefined(TopicId(5)), QoS::AtMostOnce, 1),
    );
    let _ = n.to(A);
    // Another client at the same address (a reused address): a session of its own.
    n.from(A, Message::PingReq(None));
    let _ = n.to(A);
    n.from(A, connect("y"));
    let _ = n.to(A);
    n.broker_publish("pre/five", "for-x", mqtt_codec::QoS::AtMostOnce);
    assert!(n.sent().is_empty(), "y did not inherit x's subscription");
}

#[test]
fn sn_6_2_a_connect_with_another_will_flag_is_a_new_connection() {
    let mut n = Net::new(config());
    let connect = |will| {
        Message::Connect(shared::Connect {
            will,
            clean_session: true,
            duration: 60,
            client_id: shared::Str::new("dev".to_string()).unwrap(),
        })
    };
    n.from(A, connect(true));
    assert_eq!(n.to(A), [M::WillTopicReq]);
    n.from(
        A,
        Message::WillTopic(Some(shared::WillTopic {
            qos: QoS::AtMostOnce,
            retain: false,
            topic: name("w"),
        })),
    );
    n.from(A, Message::WillMsg(Bytes::from_static(b"bye").into()));
    let _ = n.to(A);
    let _ = n.gw_events();
    // Rebooted, no will this time: a new connection, the old will gone.
    n.from(A, connect(false));
    assert_eq!(n.to(A), [M::ConnAck(ReturnCode::Accepted)]);
    assert_eq!(n.gw_events().len(), 1, "a new connection");
    n.at(100.0);
    assert!(
        n.published.is_empty(),
        "no will published for the new connection"
    );
}
