//! The client machine against a scripted gateway, one or more tests per procedure of
//! MQTT-SN 1.2 §6, named after its section.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;
use mqtt_codec::Instant;

use super::*;
use crate::generic::{Message, TopicRef};
use crate::{
    shared, Advertise, MsgId, PubAck, QoS, RegAck, ReturnCode, ShortTopic, SubAck, TopicId,
};

/// The gateway's address; another node's.
/// Messages as the client sends them.
type M = shared::Message;

const GW: u8 = 1;
const OTHER: u8 = 9;

fn t(secs: f64) -> Instant {
    Instant::from_millis((secs * 1000.0) as u64)
}

fn id(n: u16) -> MsgId {
    MsgId::new(n).unwrap()
}

fn name(s: &str) -> shared::TopicName {
    shared::TopicName::new(s.to_string()).unwrap()
}

fn enc(m: &shared::Message) -> Vec<u8> {
    let mut v = Vec::new();
    m.encode(&mut v).unwrap();
    v
}

/// Everything the client sent since the last call, decoded.
fn sent(c: &mut Client<u8>) -> Vec<(Destination<u8>, shared::Message)> {
    let mut out = Vec::new();
    while let Some(tx) = c.poll_transmit() {
        let m = crate::Decoder::default().decode_bytes(&tx.data).unwrap();
        out.push((tx.to, m));
    }
    out
}

/// Only the messages, all to the gateway.
fn to_gw(c: &mut Client<u8>) -> Vec<shared::Message> {
    sent(c)
        .into_iter()
        .map(|(to, m)| {
            assert_eq!(to, Destination::To(GW), "{m:?}");
            m
        })
        .collect()
}

fn events(c: &mut Client<u8>) -> Vec<Event<u8>> {
    let mut out = Vec::new();
    while let Some(e) = c.poll_event() {
        out.push(e);
    }
    out
}

fn from_gw(c: &mut Client<u8>, now: Instant, m: shared::Message) {
    c.handle_datagram(now, GW, &enc(&m));
}

fn config() -> ClientConfig {
    let mut cfg = ClientConfig::new("sensor-1", 60);
    cfg.predefined.push((TopicId(5), "pre/five".to_string()));
    cfg
}

/// A client connected to `GW` at time 0, its transmit and event queues empty.
fn connected() -> Client<u8> {
    let mut c = Client::new(config(), 7);
    c.connect(t(0.0), GW).unwrap();
    let _ = to_gw(&mut c);
    from_gw(&mut c, t(0.0), Message::ConnAck(ReturnCode::Accepted));
    assert_eq!(events(&mut c), [Event::Connected]);
    c
}

fn puback(topic_id: u16, msg_id: u16, code: ReturnCode) -> shared::Message {
    Message::PubAck(PubAck {
        topic_id: TopicId(topic_id),
        msg_id: MsgId::new(msg_id),
        code,
    })
}

fn regack(topic_id: u16, msg_id: MsgId) -> shared::Message {
    Message::RegAck(RegAck {
        topic_id: TopicId(topic_id),
        msg_id,
        code: ReturnCode::Accepted,
    })
}

fn register_of(m: &shared::Message) -> (MsgId, String) {
    match m {
        Message::Register(r) => {
            assert_eq!(
                r.topic_id,
                TopicId::NONE,
                "[SN-5.4.10] a client's REGISTER has TopicId 0"
            );
            (r.msg_id, r.topic.as_str().to_string())
        }
        other => panic!("expected REGISTER, got {other:?}"),
    }
}

fn publish_of(m: &shared::Message) -> shared::Publish {
    match m {
        Message::Publish(p) => p.clone(),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

// ---- §6.1 gateway discovery ----

#[test]
fn sn_6_1_searchgw_after_a_random_delay_and_gwinfo_ends_the_search() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.search_gateway(t(0.0));
    assert!(sent(&mut c).is_empty(), "not at once");
    let at = c.poll_timeout().unwrap();
    assert!(at < t(5.0), "within T_SEARCHGW: {at:?}");
    // Another seed, another delay: the randomness is the caller's.
    let mut d: Client<u8> = Client::new(config(), 12345);
    d.search_gateway(t(0.0));
    assert_ne!(d.poll_timeout(), Some(at));
    c.handle_timeout(at);
    let out = sent(&mut c);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, Destination::Broadcast { radius: 1 });
    assert!(matches!(out[0].1, Message::SearchGw(_)));
    // No answer: searched again later.
    assert!(c.poll_timeout().unwrap() > at);
    c.handle_datagram(
        t(6.0),
        GW,
        &enc(&Message::GwInfo(crate::generic::GwInfo {
            gw_id: 3,
            gw_add: Bytes::new().into(),
        })),
    );
    assert_eq!(
        events(&mut c),
        [Event::GatewayFound {
            gw_id: 3,
            from: GW,
            gw_add: Bytes::new()
        }]
    );
    assert_eq!(c.poll_timeout(), None, "the search is over");
    assert_eq!(c.gateways().collect::<Vec<_>>(), [(3, &GW)]);
}

#[test]
fn sn_6_1_searchgw_heard_from_another_client_postpones_ours() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.search_gateway(t(0.0));
    let at = c.poll_timeout().unwrap();
    c.handle_datagram(
        t(0.0),
        OTHER,
        &enc(&Message::SearchGw(crate::SearchGw { radius: 1 })),
    );
    assert!(c.poll_timeout().unwrap() > at);
    c.handle_timeout(at);
    assert!(
        sent(&mut c).is_empty(),
        "our SEARCHGW waits for the answer to theirs"
    );
    // The gateway's GWINFO answers both of us.
    c.handle_datagram(
        t(1.0),
        GW,
        &enc(&Message::GwInfo(crate::generic::GwInfo {
            gw_id: 3,
            gw_add: Bytes::new().into(),
        })),
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn sn_6_1_a_gateway_missing_n_adv_advertisements_is_lost() {
    let mut c: Client<u8> = Client::new(config(), 7);
    let adv = enc(&Message::Advertise(Advertise {
        gw_id: 4,
        duration: 10,
    }));
    c.handle_datagram(t(0.0), GW, &adv);
    assert_eq!(
        events(&mut c),
        [Event::GatewayFound {
            gw_id: 4,
            from: GW,
            gw_add: Bytes::new()
        }]
    );
    // Heard again at 10 s: lost only 3 periods after that.
    c.handle_datagram(t(10.0), GW, &adv);
    assert!(
        events(&mut c).is_empty(),
        "a known gateway is not found twice"
    );
    assert_eq!(c.poll_timeout(), Some(t(40.0)));
    c.handle_timeout(t(39.9));
    assert!(events(&mut c).is_empty());
    c.handle_timeout(t(40.0));
    assert_eq!(events(&mut c), [Event::GatewayLost { gw_id: 4 }]);
    assert_eq!(c.gateways().count(), 0);
}

// ---- §6.2 connect, §6.3 clean session, §6.4 will updates ----

#[test]
fn sn_6_2_connect_runs_the_will_dialogue_before_connack() {
    let mut cfg = config();
    cfg.clean_session = false;
    cfg.will = Some(Will {
        topic: name("wills/sensor-1"),
        message: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: true,
    });
    let mut c = Client::new(cfg, 7);
    c.connect(t(0.0), GW).unwrap();
    let m = to_gw(&mut c);
    match &m[..] {
        [Message::Connect(k)] => {
            assert!(k.will && !k.clean_session);
            assert_eq!((k.duration, k.client_id.as_str()), (60, "sensor-1"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.state(), ClientState::Connecting);
    from_gw(&mut c, t(0.1), Message::WillTopicReq);
    match &to_gw(&mut c)[..] {
        [Message::WillTopic(Some(w))] => {
            assert_eq!(
                (w.topic.as_str(), w.qos, w.retain),
                ("wills/sensor-1", QoS::AtLeastOnce, true)
            );
        }
        other => panic!("{other:?}"),
    }
    from_gw(&mut c, t(0.2), Message::WillMsgReq);
    match &to_gw(&mut c)[..] {
        [Message::WillMsg(p)] => assert_eq!(p.as_bytes(), b"gone"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.state(), ClientState::Connecting);
    from_gw(&mut c, t(0.3), Message::ConnAck(ReturnCode::Accepted));
    assert_eq!(events(&mut c), [Event::Connected]);
    assert_eq!(c.state(), ClientState::Active);
}

#[test]
fn sn_6_2_a_refused_connack_ends_the_attempt() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.connect(t(0.0), GW).unwrap();
    let _ = sent(&mut c);
    from_gw(&mut c, t(0.1), Message::ConnAck(ReturnCode::Congestion));
    assert_eq!(
        events(&mut c),
        [Event::ConnectRefused(ReturnCode::Congestion)]
    );
    assert_eq!(c.state(), ClientState::Disconnected);
    // Nothing is resent: trying again (after T_WAIT on congestion) is the caller's call.
    c.handle_timeout(t(100.0));
    assert!(sent(&mut c).is_empty());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn sn_5_3_1_client_id_of_1_to_23_characters() {
    let mut c: Client<u8> = Client::new(ClientConfig::new("", 60), 1);
    assert_eq!(c.connect(t(0.0), GW), Err(ClientError::InvalidClientId));
    let mut c: Client<u8> = Client::new(ClientConfig::new("abcdefghijklmnopqrstuvwx", 60), 1);
    assert_eq!(c.connect(t(0.0), GW), Err(ClientError::InvalidClientId));
    assert!(sent(&mut c).is_empty());
}

#[test]
fn sn_6_4_will_updates_are_answered() {
    let mut c = connected();
    c.update_will_topic(t(1.0), None).unwrap();
    assert!(matches!(&to_gw(&mut c)[..], [Message::WillTopicUpd(None)]));
    c.update_will_message(t(1.0), Bytes::from_static(b"bye"))
        .unwrap();
    assert!(to_gw(&mut c).is_empty(), "one request at a time");
    from_gw(&mut c, t(1.1), Message::WillTopicResp(ReturnCode::Accepted));
    assert!(matches!(&to_gw(&mut c)[..], [Message::WillMsgUpd(p)] if p.as_bytes() == b"bye"));
    from_gw(&mut c, t(1.2), Message::WillMsgResp(ReturnCode::Accepted));
    assert_eq!(
        events(&mut c),
        [
            Event::WillTopicUpdated(ReturnCode::Accepted),
            Event::WillMessageUpdated(ReturnCode::Accepted)
        ]
    );
}

// ---- §6.5 registration, §6.6 publish, §6.7 predefined and short topics ----

#[test]
fn sn_6_5_a_topic_name_is_registered_before_its_first_publish_one_register_at_a_time() {
    let mut c = connected();
    let first = c
        .publish(
            t(1.0),
            Topic::Name(name("a/b")),
            Bytes::from_static(b"1"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let second = c
        .publish(
            t(1.0),
            Topic::Name(name("c/d")),
            Bytes::from_static(b"2"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let m = to_gw(&mut c);
    assert_eq!(m.len(), 1, "only the first REGISTER: {m:?}");
    let (reg, topic) = register_of(&m[0]);
    assert_eq!(topic, "a/b");
    from_gw(&mut c, t(1.1), regack(10, reg));
    let p = publish_of(&to_gw(&mut c)[0]);
    assert_eq!(p.topic, TopicRef::Registered(TopicId(10)));
    assert_eq!(p.delivery, Delivery::AtLeastOnce(first));
    from_gw(
        &mut c,
        t(1.2),
        puback(10, first.get(), ReturnCode::Accepted),
    );
    let (reg2, topic2) = register_of(&to_gw(&mut c)[0]);
    assert_eq!(topic2, "c/d");
    from_gw(&mut c, t(1.3), regack(11, reg2));
    let p = publish_of(&to_gw(&mut c)[0]);
    assert_eq!(p.delivery, Delivery::AtLeastOnce(second));
    from_gw(
        &mut c,
        t(1.4),
        puback(11, second.get(), ReturnCode::Accepted),
    );
    assert_eq!(
        events(&mut c),
        [
            Event::Registered {
                topic_id: TopicId(10),
                topic: "a/b".into()
            },
            Event::PublishComplete {
                msg_id: first,
                outcome: PublishOutcome::Delivered
            },
            Event::Registered {
                topic_id: TopicId(11),
                topic: "c/d".into()
            },
            Event::PublishComplete {
                msg_id: second,
                outcome: PublishOutcome::Delivered
            },
        ]
    );
    // Known now: the next PUBLISH on a/b goes at once, QoS 0 without a reply.
    c.publish(
        t(2.0),
        Topic::Name(name("a/b")),
        Bytes::from_static(b"3"),
        QoS::AtMostOnce,
        false,
    )
    .unwrap();
    let p = publish_of(&to_gw(&mut c)[0]);
    assert_eq!(
        (p.topic, p.delivery),
        (TopicRef::Registered(TopicId(10)), Delivery::AtMostOnce)
    );
    assert_eq!(c.queued(), 0);
}

#[test]
fn sn_6_5_the_gateway_registers_a_topic_before_publishing_on_it() {
    let mut c = connected();
    from_gw(
        &mut c,
        t(1.0),
        Message::Register(shared::Register {
            topic_id: TopicId(7),
            msg_id: id(40),
            topic: name("x/y"),
        }),
    );
    assert_eq!(to_gw(&mut c), [regack(7, id(40))]);
    from_gw(
        &mut c,
        t(1.1),
        Message::Publish(shared::Publish {
            dup: false,
            retain: false,
            delivery: Delivery::AtMostOnce,
            topic: TopicRef::Registered(TopicId(7)),
            payload: Bytes::from_static(b"v").into(),
        }),
    );
    assert_eq!(
        events(&mut c),
        [
            Event::Registered {
                topic_id: TopicId(7),
                topic: "x/y".into()
            },
            Event::Message {
                topic: "x/y".into(),
                payload: Bytes::from_static(b"v"),
                qos: QoS::AtMostOnce,
                retain: false
            },
        ]
    );
}

#[test]
fn sn_6_6_invalid_topic_id_leads_to_registering_again() {
    let mut c = connected();
    let mid = c
        .publish(
            t(1.0),
            Topic::Name(name("a/b")),
            Bytes::from_static(b"1"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let (reg, _) = register_of(&to_gw(&mut c)[0]);
    from_gw(&mut c, t(1.1), regack(10, reg));
    let _ = to_gw(&mut c);
    from_gw(
        &mut c,
        t(1.2),
        puback(10, mid.get(), ReturnCode::InvalidTopicId),
    );
    // Registered again, then the same message goes again on the new id.
    let (reg2, topic) = register_of(&to_gw(&mut c)[0]);
    assert_eq!(topic, "a/b");
    from_gw(&mut c, t(1.3), regack(12, reg2));
    let p = publish_of(&to_gw(&mut c)[0]);
    assert_eq!(
        (p.topic, p.delivery),
        (
            TopicRef::Registered(TopicId(12)),
            Delivery::AtLeastOnce(mid)
        )
    );
    from_gw(&mut c, t(1.4), puback(12, mid.get(), ReturnCode::Accepted));
    let ev = events(&mut c);
    assert_eq!(
        ev.last(),
        Some(&Event::PublishComplete {
            msg_id: mid,
            outcome: PublishOutcome::Delivered
        })
    );
    assert_eq!(c.topic_id("a/b"), Some(TopicId(12)));
}

#[test]
fn sn_6_6_other_refusals_end_the_flow() {
    let mut c = connected();
    let mid = c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::from_static(b"1"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let _ = to_gw(&mut c);
    from_gw(&mut c, t(1.1), puback(5, mid.get(), ReturnCode::Congestion));
    assert_eq!(
        events(&mut c),
        [Event::PublishComplete {
            msg_id: mid,
            outcome: PublishOutcome::Rejected(ReturnCode::Congestion)
        }]
    );
    assert!(to_gw(&mut c).is_empty());
    assert_eq!(
        c.poll_timeout(),
        Some(t(61.0)),
        "only the keep-alive is left"
    );
}

#[test]
fn sn_6_6_qos_2_publish_runs_pubrec_pubrel_pubcomp() {
    let mut c = connected();
    let mid = c
        .publish(
            t(1.0),
            Topic::Short(ShortTopic::new("ab").unwrap()),
            Bytes::from_static(b"x"),
            QoS::ExactlyOnce,
            true,
        )
        .unwrap()
        .unwrap();
    let p = publish_of(&to_gw(&mut c)[0]);
    assert!(p.retain && !p.dup);
    from_gw(&mut c, t(1.1), Message::PubRec(mid));
    assert_eq!(to_gw(&mut c), [M::PubRel(mid)]);
    // PUBREL is resent until PUBCOMP ([SN-6.13]).
    c.handle_timeout(t(11.1));
    assert_eq!(to_gw(&mut c), [M::PubRel(mid)]);
    from_gw(&mut c, t(11.2), Message::PubComp(mid));
    assert_eq!(
        events(&mut c),
        [Event::PublishComplete {
            msg_id: mid,
            outcome: PublishOutcome::Delivered
        }]
    );
}

#[test]
fn sn_6_7_predefined_ids_and_short_names_need_no_register() {
    let mut c = connected();
    c.publish(
        t(1.0),
        Topic::Predefined(TopicId(5)),
        Bytes::from_static(b"p"),
        QoS::AtMostOnce,
        false,
    )
    .unwrap();
    c.publish(
        t(1.0),
        Topic::Short(ShortTopic::new("ab").unwrap()),
        Bytes::from_static(b"s"),
        QoS::AtMostOnce,
        false,
    )
    .unwrap();
    let m = to_gw(&mut c);
    assert_eq!(publish_of(&m[0]).topic, TopicRef::Predefined(TopicId(5)));
    assert_eq!(
        publish_of(&m[1]).topic,
        TopicRef::Short(ShortTopic::new("ab").unwrap())
    );
    // Incoming: the predefined id's name from the configuration, the short name as is.
    for (topic, want) in [
        (TopicRef::Predefined(TopicId(5)), "pre/five"),
        (TopicRef::Short(ShortTopic::new("zz").unwrap()), "zz"),
    ] {
        from_gw(
            &mut c,
            t(2.0),
            Message::Publish(shared::Publish {
                dup: false,
                retain: true,
                delivery: Delivery::AtMostOnce,
                topic,
                payload: Bytes::from_static(b"v").into(),
            }),
        );
        assert_eq!(
            events(&mut c),
            [Event::Message {
                topic: want.into(),
                payload: Bytes::from_static(b"v"),
                qos: QoS::AtMostOnce,
                retain: true
            }]
        );
    }
}

#[test]
fn sn_6_8_qos_minus_one_needs_no_connection_and_no_reply() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.publish_minus_one(
        t(0.0),
        GW,
        Topic::Predefined(TopicId(5)),
        Bytes::from_static(b"m1"),
        false,
    )
    .unwrap();
    let p = publish_of(&to_gw(&mut c)[0]);
    assert_eq!(
        (p.delivery, p.topic),
        (Delivery::MinusOne, TopicRef::Predefined(TopicId(5)))
    );
    assert_eq!(c.poll_timeout(), None, "nothing waits for a reply");
    assert_eq!(c.state(), ClientState::Disconnected);
    // Only on a predefined id or a short name.
    assert_eq!(
        c.publish_minus_one(t(0.0), GW, Topic::Name(name("a/b")), Bytes::new(), false),
        Err(ClientError::QosMinusOneNeedsNoConnection)
    );
    // And `publish` does not take QoS -1.
    let mut c = connected();
    assert!(c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::new(),
            QoS::MinusOne,
            false
        )
        .is_err());
}

// ---- §6.9 subscribe, §6.10 unsubscribe and incoming PUBLISH ----

#[test]
fn sn_6_9_subscribe_to_a_name_learns_its_topic_id_and_a_wildcard_does_not() {
    let mut c = connected();
    let f = |s: &str| TopicRef::Name(shared::TopicFilter::new(s.to_string()).unwrap());
    let a = c
        .subscribe(t(1.0), f("room/1/temp"), QoS::AtLeastOnce)
        .unwrap();
    let b = c
        .subscribe(t(1.0), f("room/+/hum"), QoS::ExactlyOnce)
        .unwrap();
    let m = to_gw(&mut c);
    assert!(
        matches!(&m[..], [Message::Subscribe(s)] if s.msg_id == a && s.qos == QoS::AtLeastOnce)
    );
    from_gw(
        &mut c,
        t(1.1),
        Message::SubAck(SubAck {
            qos: QoS::AtLeastOnce,
            topic_id: TopicId(20),
            msg_id: a,
            code: ReturnCode::Accepted,
        }),
    );
    assert!(matches!(&to_gw(&mut c)[..], [Message::Subscribe(s)] if s.msg_id == b));
    from_gw(
        &mut c,
        t(1.2),
        Message::SubAck(SubAck {
            qos: QoS::ExactlyOnce,
            topic_id: TopicId::NONE,
            msg_id: b,
            code: ReturnCode::Accepted,
        }),
    );
    assert_eq!(
        events(&mut c),
        [
            Event::Registered {
                topic_id: TopicId(20),
                topic: "room/1/temp".into()
            },
            Event::SubAck {
                msg_id: a,
                qos: QoS::AtLeastOnce,
                topic_id: TopicId(20),
                code: ReturnCode::Accepted
            },
            Event::SubAck {
                msg_id: b,
                qos: QoS::ExactlyOnce,
                topic_id: TopicId::NONE,
                code: ReturnCode::Accepted
            },
        ]
    );
    assert_eq!(c.topic_id("room/1/temp"), Some(TopicId(20)));
    let u = c.unsubscribe(t(2.0), f("room/1/temp")).unwrap();
    assert!(matches!(&to_gw(&mut c)[..], [Message::Unsubscribe(x)] if x.msg_id == u));
    from_gw(&mut c, t(2.1), Message::UnsubAck(u));
    assert_eq!(events(&mut c), [Event::UnsubAck { msg_id: u }]);
}

#[test]
fn sn_6_10_a_publish_on_an_unknown_topic_id_is_refused() {
    let mut c = connected();
    from_gw(
        &mut c,
        t(1.0),
        Message::Publish(shared::Publish {
            dup: false,
            retain: false,
            delivery: Delivery::AtLeastOnce(id(3)),
            topic: TopicRef::Registered(TopicId(99)),
            payload: Bytes::from_static(b"v").into(),
        }),
    );
    assert_eq!(to_gw(&mut c), [puback(99, 3, ReturnCode::InvalidTopicId)]);
    assert!(events(&mut c).is_empty());
}

#[test]
fn sn_6_10_incoming_qos_1_is_acknowledged_and_qos_2_delivered_exactly_once() {
    let mut c = connected();
    let publish = |delivery, dup| {
        Message::Publish(shared::Publish {
            dup,
            retain: false,
            delivery,
            topic: TopicRef::Predefined(TopicId(5)),
            payload: Bytes::from_static(b"v").into(),
        })
    };
    from_gw(&mut c, t(1.0), publish(Delivery::AtLeastOnce(id(1)), false));
    assert_eq!(to_gw(&mut c), [puback(5, 1, ReturnCode::Accepted)]);
    from_gw(&mut c, t(1.0), publish(Delivery::ExactlyOnce(id(2)), false));
    from_gw(&mut c, t(1.1), publish(Delivery::ExactlyOnce(id(2)), true));
    assert_eq!(to_gw(&mut c), [M::PubRec(id(2)), M::PubRec(id(2))]);
    from_gw(&mut c, t(1.2), Message::PubRel(id(2)));
    assert_eq!(to_gw(&mut c), [M::PubComp(id(2))]);
    let delivered = events(&mut c)
        .into_iter()
        .filter(|e| matches!(e, Event::Message { .. }))
        .count();
    assert_eq!(delivered, 2, "the QoS 1 message and the QoS 2 one once");
}

// ---- §6.11 keep-alive, §6.12 disconnect, §6.13 retransmission ----

#[test]
fn sn_6_11_pingreq_within_the_keep_alive_and_lost_when_unanswered() {
    let mut c = connected();
    assert_eq!(c.poll_timeout(), Some(t(60.0)));
    c.handle_timeout(t(60.0));
    assert_eq!(to_gw(&mut c), [M::PingReq(None)]);
    from_gw(&mut c, t(60.1), Message::PingResp);
    assert_eq!(c.poll_timeout(), Some(t(120.0)));
    // Unanswered: resent every T_retry, N_retry times, then the gateway is lost.
    c.handle_timeout(t(120.0));
    let mut now = 120.0;
    for _ in 0..5 {
        now += 10.0;
        c.handle_timeout(t(now));
    }
    assert_eq!(to_gw(&mut c).len(), 6);
    assert_eq!(c.state(), ClientState::Active);
    c.handle_timeout(t(now + 10.0));
    assert_eq!(events(&mut c), [Event::Lost]);
    assert_eq!(c.state(), ClientState::Lost);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn sn_6_11_a_gateway_pingreq_is_answered() {
    let mut c = connected();
    from_gw(&mut c, t(5.0), Message::PingReq(None));
    assert_eq!(to_gw(&mut c), [M::PingResp]);
}

#[test]
fn sn_6_12_disconnect_is_answered_by_disconnect() {
    let mut c = connected();
    c.disconnect(t(1.0)).unwrap();
    assert_eq!(to_gw(&mut c), [M::Disconnect(None)]);
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    assert_eq!(events(&mut c), [Event::Disconnected { by_gateway: false }]);
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn sn_6_12_an_unsolicited_disconnect_means_reconnecting() {
    let mut c = connected();
    from_gw(&mut c, t(1.0), Message::Disconnect(None));
    assert_eq!(events(&mut c), [Event::Disconnected { by_gateway: true }]);
    assert_eq!(c.state(), ClientState::Disconnected);
    assert!(c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::new(),
            QoS::AtMostOnce,
            false
        )
        .is_err());
    c.connect(t(2.0), GW).unwrap();
    assert!(matches!(&to_gw(&mut c)[..], [Message::Connect(_)]));
}

#[test]
fn sn_6_13_a_publish_is_resent_with_dup_then_the_gateway_is_lost() {
    let mut c = connected();
    let mid = c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::from_static(b"x"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    c.publish(
        t(1.0),
        Topic::Predefined(TopicId(5)),
        Bytes::from_static(b"y"),
        QoS::AtLeastOnce,
        false,
    )
    .unwrap();
    let first = publish_of(&to_gw(&mut c)[0]);
    assert!(!first.dup, "[SN-5.3.4] DUP 0 on the first send");
    for n in 1..=5 {
        c.handle_timeout(t(1.0 + 10.0 * f64::from(n)));
        let again = publish_of(&to_gw(&mut c)[0]);
        assert!(again.dup && again.delivery == Delivery::AtLeastOnce(mid));
    }
    c.handle_timeout(t(61.0));
    let ev = events(&mut c);
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert_eq!(
        ev[0],
        Event::PublishComplete {
            msg_id: mid,
            outcome: PublishOutcome::Lost
        }
    );
    assert!(matches!(
        ev[1],
        Event::PublishComplete {
            outcome: PublishOutcome::Lost,
            ..
        }
    ));
    assert_eq!(ev[2], Event::Lost);
}

#[test]
fn sn_6_13_connect_is_resent_then_lost() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.connect(t(0.0), GW).unwrap();
    for n in 1..=5 {
        c.handle_timeout(t(10.0 * f64::from(n)));
    }
    assert_eq!(to_gw(&mut c).len(), 6);
    c.handle_timeout(t(60.0));
    assert_eq!(events(&mut c), [Event::Lost]);
}

// ---- §6.14 sleeping ----

#[test]
fn sn_6_14_sleep_wake_to_collect_and_sleep_again() {
    let mut c = connected();
    c.sleep(t(1.0), 300).unwrap();
    assert_eq!(to_gw(&mut c), [M::Disconnect(Some(300))]);
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    assert_eq!(events(&mut c), [Event::Asleep]);
    assert_eq!(c.state(), ClientState::Asleep);
    // No keep-alive pings while asleep; awake before the duration ends, early enough for
    // every retry of the wake-up to fit (6 x T_retry = 60 s before the 300 s are over).
    assert_eq!(c.poll_timeout(), Some(t(241.1)));
    c.handle_timeout(t(241.1));
    assert_eq!(c.state(), ClientState::Awake);
    match &to_gw(&mut c)[..] {
        [Message::PingReq(Some(id))] => assert_eq!(id.as_str(), "sensor-1"),
        other => panic!("[SN-5.4.19] a waking PINGREQ carries the ClientId: {other:?}"),
    }
    // What the gateway buffered, then PINGRESP: asleep again.
    from_gw(
        &mut c,
        t(301.2),
        Message::Publish(shared::Publish {
            dup: false,
            retain: false,
            delivery: Delivery::AtLeastOnce(id(9)),
            topic: TopicRef::Predefined(TopicId(5)),
            payload: Bytes::from_static(b"buffered").into(),
        }),
    );
    assert_eq!(to_gw(&mut c), [puback(5, 9, ReturnCode::Accepted)]);
    from_gw(&mut c, t(301.3), Message::PingResp);
    let ev = events(&mut c);
    assert!(
        matches!(&ev[..], [Event::Message { payload, .. }, Event::Asleep] if payload.as_ref() == b"buffered"),
        "{ev:?}"
    );
    assert_eq!(c.state(), ClientState::Asleep);
    assert_eq!(c.poll_timeout(), Some(t(541.3)));
    // Woken by the application, then a plain DISCONNECT ends the sleeping session.
    c.wake(t(400.0)).unwrap();
    assert!(matches!(&to_gw(&mut c)[..], [Message::PingReq(Some(_))]));
    from_gw(&mut c, t(400.1), Message::PingResp);
    c.disconnect(t(401.0)).unwrap();
    assert_eq!(to_gw(&mut c), [M::Disconnect(None)]);
    from_gw(&mut c, t(401.1), Message::Disconnect(None));
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn sn_5_4_21_sleep_of_zero_is_refused() {
    let mut c = connected();
    assert_eq!(c.sleep(t(1.0), 0), Err(ClientError::ZeroSleep));
}

#[test]
fn datagrams_from_other_addresses_and_garbage_are_ignored() {
    let mut c = connected();
    c.handle_datagram(t(1.0), OTHER, &enc(&Message::Disconnect(None)));
    c.handle_datagram(t(1.0), GW, &[0x02]);
    c.handle_datagram(t(1.0), GW, &[]);
    assert!(events(&mut c).is_empty());
    assert_eq!(c.state(), ClientState::Active);
    let _ = vec![Duration::ZERO];
}

#[test]
fn sn_5_3_11_a_gateway_register_with_a_reserved_topic_id_is_refused() {
    let mut c = connected();
    for reserved in [0x0000, 0xFFFF] {
        from_gw(
            &mut c,
            t(1.0),
            Message::Register(shared::Register {
                topic_id: TopicId(reserved),
                msg_id: id(3),
                topic: name("x/y"),
            }),
        );
        assert_eq!(
            to_gw(&mut c),
            [M::RegAck(RegAck {
                topic_id: TopicId(reserved),
                msg_id: id(3),
                code: ReturnCode::InvalidTopicId
            })]
        );
    }
    assert_eq!(c.topic_id("x/y"), None);
    assert!(events(&mut c).is_empty());
}

#[test]
fn sn_6_1_a_gwinfo_from_another_client_does_not_make_it_the_gateway() {
    let mut c: Client<u8> = Client::new(config(), 7);
    c.search_gateway(t(0.0));
    let gw_add = Bytes::from_static(b"\x0a\x00\x00\x01");
    c.handle_datagram(
        t(1.0),
        OTHER,
        &enc(&Message::GwInfo(crate::generic::GwInfo {
            gw_id: 3,
            gw_add: gw_add.clone().into(),
        })),
    );
    assert_eq!(
        events(&mut c),
        [Event::GatewayFound {
            gw_id: 3,
            from: OTHER,
            gw_add
        }]
    );
    assert_eq!(
        c.gateways().count(),
        0,
        "the sender is a client, not the gateway"
    );
    assert_eq!(
        c.poll_timeout(),
        None,
        "the search is answered all the same"
    );
}

#[test]
fn sn_6_12_an_unsolicited_disconnect_ends_what_was_in_flight() {
    let mut c = connected();
    let a = c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::from_static(b"a"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let b = c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::from_static(b"b"),
            QoS::ExactlyOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let _ = to_gw(&mut c);
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    assert_eq!(
        events(&mut c),
        [
            Event::PublishComplete {
                msg_id: a,
                outcome: PublishOutcome::Lost
            },
            Event::PublishComplete {
                msg_id: b,
                outcome: PublishOutcome::Lost
            },
            Event::Disconnected { by_gateway: true },
        ]
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn sn_6_14_disconnect_while_awake_goes_at_once() {
    let mut c = connected();
    c.sleep(t(1.0), 100).unwrap();
    let _ = to_gw(&mut c);
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    c.wake(t(10.0)).unwrap();
    let _ = to_gw(&mut c);
    c.disconnect(t(10.5)).unwrap();
    assert_eq!(to_gw(&mut c), [M::Disconnect(None)]);
    from_gw(&mut c, t(10.6), Message::Disconnect(None));
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn sn_6_14_messages_being_delivered_hold_back_the_wake_up_retry() {
    let mut c = connected();
    c.sleep(t(1.0), 100).unwrap();
    let _ = to_gw(&mut c);
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    c.wake(t(20.0)).unwrap();
    assert!(matches!(&to_gw(&mut c)[..], [Message::PingReq(Some(_))]));
    // The gateway delivers slowly; each message shows the wake-up was heard.
    for (k, at) in [29.0, 38.0, 47.0].into_iter().enumerate() {
        c.handle_timeout(t(at));
        from_gw(&mut c, t(at), publish_at_qos0(k as u8));
        assert!(to_gw(&mut c).is_empty(), "no PINGREQ again at {at}");
    }
    from_gw(&mut c, t(50.0), Message::PingResp);
    assert_eq!(c.state(), ClientState::Asleep);
}

fn publish_at_qos0(n: u8) -> M {
    Message::Publish(shared::Publish {
        dup: false,
        retain: false,
        delivery: Delivery::AtMostOnce,
        topic: TopicRef::Predefined(TopicId(5)),
        payload: Bytes::from(vec![n]).into(),
    })
}

#[test]
fn sn_6_6_a_new_connection_does_not_take_an_old_qos_2_id_for_a_duplicate() {
    let mut c = connected();
    let q2 = |payload: &'static [u8]| {
        Message::Publish(shared::Publish {
            dup: false,
            retain: false,
            delivery: Delivery::ExactlyOnce(id(1)),
            topic: TopicRef::Predefined(TopicId(5)),
            payload: Bytes::from_static(payload).into(),
        })
    };
    from_gw(&mut c, t(1.0), q2(b"old"));
    // The connection ends before PUBREL; a new one reuses MsgId 1 for a new message.
    from_gw(&mut c, t(1.1), Message::Disconnect(None));
    let _ = events(&mut c);
    c.connect(t(2.0), GW).unwrap();
    from_gw(&mut c, t(2.1), Message::ConnAck(ReturnCode::Accepted));
    let _ = to_gw(&mut c);
    let _ = events(&mut c);
    from_gw(&mut c, t(2.2), q2(b"new"));
    assert!(
        matches!(&events(&mut c)[..], [Event::Message { payload, .. }] if payload.as_ref() == b"new")
    );
}

#[test]
fn a_publish_too_large_for_mqtt_sn_is_refused_at_once() {
    let mut c = connected();
    let big = Bytes::from(vec![0u8; 70_000]);
    assert_eq!(
        c.publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            big,
            QoS::AtLeastOnce,
            false
        ),
        Err(ClientError::TooLarge)
    );
    assert!(to_gw(&mut c).is_empty());
}

#[test]
fn sn_6_10_a_late_copy_of_a_released_qos_2_publish_is_not_delivered_again() {
    let mut c = connected();
    let q2 = Message::Publish(shared::Publish {
        dup: false,
        retain: false,
        delivery: Delivery::ExactlyOnce(id(4)),
        topic: TopicRef::Predefined(TopicId(5)),
        payload: Bytes::from_static(b"once").into(),
    });
    from_gw(&mut c, t(1.0), q2.clone());
    from_gw(&mut c, t(1.1), Message::PubRel(id(4)));
    // The datagram came twice; the copy arrives after the PUBREL.
    from_gw(&mut c, t(1.5), q2.clone());
    let delivered = |c: &mut Client<u8>| {
        events(c)
            .into_iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count()
    };
    assert_eq!(delivered(&mut c), 1);
    assert_eq!(
        to_gw(&mut c),
        [M::PubRec(id(4)), M::PubComp(id(4)), M::PubRec(id(4))]
    );
    // Past the window (T_retry), the MsgId is free for a new message.
    from_gw(&mut c, t(1.1 + 10.5), Message::PubRel(id(4)));
    from_gw(&mut c, t(30.0), q2);
    assert_eq!(delivered(&mut c), 1);
}

#[test]
fn sn_6_12_no_request_behind_a_sleep_or_a_disconnect_and_connect_starts_clean() {
    let mut c = connected();
    c.publish(
        t(1.0),
        Topic::Predefined(TopicId(5)),
        Bytes::from_static(b"a"),
        QoS::AtLeastOnce,
        false,
    )
    .unwrap();
    c.sleep(t(1.0), 100).unwrap();
    assert!(c.disconnect(t(1.0)).is_err(), "behind the sleep");
    assert!(c
        .publish(
            t(1.0),
            Topic::Predefined(TopicId(5)),
            Bytes::new(),
            QoS::AtMostOnce,
            false
        )
        .is_err());
    let _ = to_gw(&mut c);
    // The gateway goes away; a new connection does not replay what was queued.
    c.connect(t(2.0), GW).unwrap_err();
    from_gw(&mut c, t(2.0), Message::Disconnect(None));
    let ev = events(&mut c);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::PublishComplete {
                outcome: PublishOutcome::Lost,
                ..
            }
        )),
        "{ev:?}"
    );
    c.connect(t(3.0), GW).unwrap();
    from_gw(&mut c, t(3.1), Message::ConnAck(ReturnCode::Accepted));
    assert!(
        matches!(&to_gw(&mut c)[..], [Message::Connect(_)]),
        "nothing after CONNECT"
    );
}
