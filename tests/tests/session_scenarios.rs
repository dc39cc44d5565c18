//! Scenario tests of the client and server connection machines, through the two-party
//! harness (`mqtt_integration_tests::pair`): each asserts the exact ordered transcript of
//! packets and events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_codec::session::{AckMode, AliasPolicy, ClientOptions, ServerOptions};
use mqtt_codec::{shared, Protocol, QoS};
use mqtt_integration_tests::pair::Pair;

fn msg(topic: &str, payload: &str) -> shared::Publish {
    shared::Publish::new(
        shared::TopicName::new(topic.to_string()).unwrap(),
        payload.as_bytes().to_vec(),
    )
}

#[test]
fn connect_at_each_level() {
    for (protocol, name) in [
        (Protocol::V3_1, "3.1"),
        (Protocol::V3_1_1, "3.1.1"),
        (Protocol::V5, "5"),
    ] {
        let mut p = Pair::simple(protocol, "c1", 30);
        p.connect();
        assert_eq!(
            p.transcript(),
            [
                "c>s CONNECT clean=1 ka=30 id=c1",
                "s: connect id=c1",
                "s>c CONNACK sp=0 Success",
                "c: connected sp=0",
            ],
            "{name}"
        );
    }
}

#[test]
fn qos_flows_client_to_server() {
    let mut p = Pair::simple(Protocol::V5, "c1", 0);
    p.connect();
    p.clear_log();
    p.client.publish(msg("a", "zero"), QoS::AtMostOnce).unwrap();
    p.client.publish(msg("a", "one"), QoS::AtLeastOnce).unwrap();
    p.client.publish(msg("a", "two"), QoS::ExactlyOnce).unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s PUBLISH q0 'a' zero",
            "c>s PUBLISH q1 id=1 dup=0 'a' one",
            "c>s PUBLISH q2 id=2 dup=0 'a' two",
            "s: message 'a' q0 zero",
            "s: message 'a' q1 one",
            "s: message 'a' q2 two",
            "s>c PUBACK 1",
            "s>c PUBREC 2",
            "c: complete 1",
            "c>s PUBREL 2",
            "s>c PUBCOMP 2",
            "c: complete 2",
        ]
    );
}

#[test]
fn qos_flows_server_to_client() {
    let mut p = Pair::simple(Protocol::V3_1_1, "c1", 0);
    p.connect();
    p.clear_log();
    p.server.publish(msg("t", "one"), QoS::AtLeastOnce).unwrap();
    p.server.publish(msg("t", "two"), QoS::ExactlyOnce).unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "s>c PUBLISH q1 id=1 dup=0 't' one",
            "s>c PUBLISH q2 id=2 dup=0 't' two",
            "c: message 't' q1 one",
            "c: message 't' q2 two",
            "c>s PUBACK 1",
            "c>s PUBREC 2",
            "s: complete 1",
            "s>c PUBREL 2",
            "c>s PUBCOMP 2",
            "s: complete 2",
        ]
    );
}

fn v5_connect(id: &str, keep_alive: u16) -> shared::Connect {
    let mut c = shared::Connect::new(
        Protocol::V5,
        shared::Str::new(id.to_string()).unwrap(),
        keep_alive,
    );
    c.properties.set_session_expiry_interval(300);
    c
}

#[test]
fn subscribe_and_unsubscribe() {
    let mut p = Pair::simple(Protocol::V5, "c1", 0);
    p.connect();
    p.clear_log();
    let subs = vec![
        shared::Subscription::new(shared::TopicFilter::new("a/#").unwrap(), QoS::AtLeastOnce),
        shared::Subscription::new(shared::TopicFilter::new("b/+").unwrap(), QoS::ExactlyOnce),
    ];
    let id = p.client.subscribe(subs, Default::default()).unwrap();
    p.settle();
    let filters = vec![shared::TopicFilter::new("a/#").unwrap()];
    p.client.unsubscribe(filters, Default::default()).unwrap();
    p.settle();
    assert_eq!(id.get(), 1);
    assert_eq!(
        p.transcript(),
        [
            "c>s SUBSCRIBE 1 a/# q1 b/+ q2",
            "s: subscribe 1",
            "s>c SUBACK 1 GrantedQoS1 GrantedQoS2",
            "c: suback 1",
            "c>s UNSUBSCRIBE 2 a/#",
            "s: unsubscribe 2",
            "s>c UNSUBACK 2 Success",
            "c: unsuback 2",
        ]
    );
    // The server's session holds what is still subscribed, at the granted QoS.
    let subs: Vec<(String, QoS)> = p
        .server
        .session()
        .subscriptions()
        .iter()
        .map(|r| {
            (
                r.subscription.filter.as_str().to_string(),
                r.subscription.options.qos,
            )
        })
        .collect();
    assert_eq!(subs, [("b/+".to_string(), QoS::ExactlyOnce)]);
}

#[test]
fn keep_alive_ping_and_timeouts() {
    let mut p = Pair::simple(Protocol::V3_1_1, "c1", 10);
    p.connect();
    p.clear_log();
    // [MQTT-3.1.2-23]: nothing sent for 10 s, so PINGREQ at 10 s.
    assert_eq!(p.next_deadline(), Some(mqtt_codec::Instant::from_secs(10)));
    p.advance();
    assert_eq!(p.now, mqtt_codec::Instant::from_secs(10));
    assert_eq!(p.transcript(), ["c>s PINGREQ", "s>c PINGRESP"]);
    // The link goes silent (bytes are lost but neither side knows): the client's next
    // PINGREQ gets no answer within its response timeout (10 s) and the server hears
    // nothing for 15 s; the server's deadline (1.5 x 10 s after 10 s) comes first.
    p.clear_log();
    p.link_up = false;
    while p.advance() {}
    let t = p.transcript();
    assert_eq!(
        t,
        [
            "c>s PINGREQ (lost)",
            "s: closed keep-alive-timeout",
            // A 3.1.1 clean session ends with its connection.
            "s: session expired",
            "c: closed keep-alive-timeout",
        ]
    );
}

#[test]
fn session_resume_resends_in_order_with_dup() {
    let mut p = Pair::new(
        v5_connect("c1", 0),
        ClientOptions::default(),
        ServerOptions::default(),
    );
    p.connect();
    p.clear_log();
    // Three messages; the server's answers are lost with the link.
    p.link_up = false;
    p.client.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    p.client.publish(msg("a", "2"), QoS::ExactlyOnce).unwrap();
    p.client.publish(msg("a", "3"), QoS::AtLeastOnce).unwrap();
    p.settle();
    p.drop_link();
    // A message published while disconnected waits in the session.
    p.client.publish(msg("a", "4"), QoS::AtLeastOnce).unwrap();
    p.clear_log();
    p.reconnect();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=0 ka=0 id=c1",
            "s: connect id=c1",
            "s>c CONNACK sp=1 Success",
            "c: connected sp=1",
            // [MQTT-4.4.0-1], [MQTT-4.6.0-1], [MQTT-3.3.1-1]
            "c>s PUBLISH q1 id=1 dup=1 'a' 1",
            "c>s PUBLISH q2 id=2 dup=1 'a' 2",
            "c>s PUBLISH q1 id=3 dup=1 'a' 3",
            "c>s PUBLISH q1 id=4 dup=0 'a' 4",
            "s: message 'a' q1 1",
            "s: message 'a' q2 2",
            "s: message 'a' q1 3",
            "s: message 'a' q1 4",
            "s>c PUBACK 1",
            "s>c PUBREC 2",
            "s>c PUBACK 3",
            "s>c PUBACK 4",
            "c: complete 1",
            "c: complete 3",
            "c: complete 4",
            "c>s PUBREL 2",
            "s>c PUBCOMP 2",
            "c: complete 2",
        ]
    );
}

#[test]
fn released_qos2_is_resent_as_pubrel_and_delivered_once() {
    let mut p = Pair::new(
        v5_connect("c1", 0),
        ClientOptions::default(),
        ServerOptions::default(),
    );
    p.connect();
    p.client.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap();
    // PUBLISH and PUBREC get through; the PUBREL is lost.
    p.settle_until(|line| line.starts_with("c>s PUBREL"));
    p.drop_link();
    p.clear_log();
    p.reconnect();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=0 ka=0 id=c1",
            "s: connect id=c1",
            "s>c CONNACK sp=1 Success",
            "c: connected sp=1",
            // [MQTT-4.3.3-6]: not the PUBLISH again, its PUBREL.
            "c>s PUBREL 1",
            "s>c PUBCOMP 1",
            "c: complete 1",
        ]
    );
    assert_eq!(
        p.received(mqtt_integration_tests::pair::Side::Server),
        ["a x"]
    );
}

#[test]
fn topic_aliases_least_recently_used() {
    let client = ClientOptions {
        alias_policy: AliasPolicy::LeastRecentlyUsed { max: 8 },
        ..Default::default()
    };
    let server = ServerOptions {
        topic_alias_maximum: 2,
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), client, server);
    p.connect();
    p.clear_log();
    for t in ["a", "b", "a", "c", "b"] {
        p.client.publish(msg(t, t), QoS::AtMostOnce).unwrap();
    }
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            // The server allows two aliases ([MQTT-3.2.2-17]).
            "c>s PUBLISH q0 'a' alias=1 a",
            "c>s PUBLISH q0 'b' alias=2 b",
            "c>s PUBLISH q0 '' alias=1 a",
            // 'b' is the least recently used: its alias goes to 'c'.
            "c>s PUBLISH q0 'c' alias=2 c",
            "c>s PUBLISH q0 'b' alias=1 b",
            // The server resolves each alias to its topic.
            "s: message 'a' q0 a",
            "s: message 'b' q0 b",
            "s: message 'a' q0 a",
            "s: message 'c' q0 c",
            "s: message 'b' q0 b",
        ]
    );
}

#[test]
fn topic_aliases_never_cross_connections() {
    let client = ClientOptions {
        alias_policy: AliasPolicy::LeastRecentlyUsed { max: 8 },
        ..Default::default()
    };
    let server = ServerOptions {
        topic_alias_maximum: 4,
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), client, server);
    p.connect();
    p.client.publish(msg("a", "1"), QoS::AtMostOnce).unwrap();
    p.settle();
    p.link_up = false;
    // Sent with its alias already known, but lost.
    p.client.publish(msg("a", "2"), QoS::AtLeastOnce).unwrap();
    p.settle();
    p.drop_link();
    p.clear_log();
    p.reconnect();
    // [MQTT-3.3.2-7]: the resend carries the topic; the stored copy never held the alias.
    assert!(p
        .transcript()
        .contains(&"c>s PUBLISH q1 id=1 dup=1 'a' alias=1 2"));
    assert_eq!(
        p.received(mqtt_integration_tests::pair::Side::Server),
        ["a 1", "a 2"]
    );
}

#[test]
fn receive_maximum_queues_in_order() {
    let server = ServerOptions {
        receive_maximum: std::num::NonZeroU16::new(2).unwrap(),
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), ClientOptions::default(), server);
    p.connect();
    p.clear_log();
    // The server's answers are held back to see the queue.
    p.link_up = false;
    for n in 1..=4 {
        p.client
            .publish(msg("q", &n.to_string()), QoS::AtLeastOnce)
            .unwrap();
    }
    // [MQTT-3.3.4-7]: two in flight, two queued.
    assert_eq!(p.client.in_flight(), 2);
    assert_eq!(p.client.session().outgoing().len(), 4);
    p.link_up = true;
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s PUBLISH q1 id=1 dup=0 'q' 1",
            "c>s PUBLISH q1 id=2 dup=0 'q' 2",
            "s: message 'q' q1 1",
            "s: message 'q' q1 2",
            "s>c PUBACK 1",
            "s>c PUBACK 2",
            "c: complete 1",
            "c: complete 2",
            "c>s PUBLISH q1 id=3 dup=0 'q' 3",
            "c>s PUBLISH q1 id=4 dup=0 'q' 4",
            "s: message 'q' q1 3",
            "s: message 'q' q1 4",
            "s>c PUBACK 3",
            "s>c PUBACK 4",
            "c: complete 3",
            "c: complete 4",
        ]
    );
}

#[test]
fn manual_acks_go_out_in_arrival_order() {
    let client = ClientOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), client, ServerOptions::default());
    p.connect();
    p.server.publish(msg("m", "1"), QoS::AtLeastOnce).unwrap();
    p.server.publish(msg("m", "2"), QoS::ExactlyOnce).unwrap();
    p.server.publish(msg("m", "3"), QoS::AtLeastOnce).unwrap();
    p.settle();
    p.clear_log();
    let id = |n| mqtt_codec::PacketId::new(n).unwrap();
    // The application answers 3, then 2 (refusing it), then 1.
    p.client.ack(id(3)).unwrap();
    p.settle();
    assert!(p.transcript().is_empty(), "held until 1 and 2 are answered");
    p.client.ack_with(id(2), 0x97, Default::default()).unwrap();
    p.settle();
    assert!(p.transcript().is_empty());
    p.client.ack(id(1)).unwrap();
    p.settle();
    // [MQTT-4.6.0-2], [MQTT-4.6.0-3]: PUBACK and PUBREC in the order the PUBLISHes came.
    assert_eq!(
        p.transcript(),
        [
            "c>s PUBACK 1",
            "c>s PUBREC 2 QuotaExceeded",
            "c>s PUBACK 3",
            "s: complete 1",
            "s: complete 2 Acknowledged(QuotaExceeded)",
            "s: complete 3",
        ]
    );
    assert!(p.client.ack(id(1)).is_err(), "answered already");
}

#[test]
fn will_on_lost_link_after_its_delay_and_not_after_disconnect() {
    let mut c = v5_connect("c1", 0);
    let mut will = shared::Will::new(
        shared::TopicName::new("dead/c1").unwrap(),
        &b"gone"[..],
        QoS::AtLeastOnce,
    )
    .unwrap();
    will.properties.set_will_delay_interval(5);
    c.will = Some(will);
    let mut p = Pair::new(
        c.clone(),
        ClientOptions::default(),
        ServerOptions::default(),
    );
    p.connect();
    p.drop_link();
    assert!(!p.log.iter().any(|l| l.contains("will")));
    p.clear_log();
    p.advance();
    assert_eq!(p.now, mqtt_codec::Instant::from_secs(5));
    assert_eq!(p.transcript(), ["s: will 'dead/c1'"]);

    // A normal DISCONNECT drops it ([MQTT-3.14.4-3]).
    let mut p = Pair::new(c, ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.client
        .disconnect(mqtt_codec::DisconnectReason::NormalDisconnection)
        .unwrap();
    p.settle();
    while p.advance() {}
    assert!(!p.log.iter().any(|l| l.contains("will")), "{:?}", p.log);
}

#[test]
fn enhanced_authentication_exchange() {
    let mut c = v5_connect("c1", 0);
    c.properties
        .set_authentication_method(mqtt_codec::Str::new("SCRAM").unwrap());
    let mut p = Pair::new(c, ClientOptions::default(), ServerOptions::default());
    p.auto_accept = false;
    p.connect();
    p.server
        .auth(
            mqtt_codec::AuthReason::ContinueAuthentication,
            Default::default(),
        )
        .unwrap();
    p.settle();
    p.client
        .auth(
            mqtt_codec::AuthReason::ContinueAuthentication,
            Default::default(),
        )
        .unwrap();
    p.settle();
    p.server.accept(p.now, None, Default::default()).unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=1 ka=0 id=c1",
            "s: connect id=c1",
            "s>c AUTH ContinueAuthentication",
            "c: auth ContinueAuthentication",
            "c>s AUTH ContinueAuthentication",
            "s: auth ContinueAuthentication",
            "s>c CONNACK sp=0 Success",
            "c: connected sp=0",
        ]
    );
}

#[test]
fn refused_connect_closes_both_sides() {
    let mut p = Pair::simple(Protocol::V3_1_1, "c1", 0);
    p.auto_accept = false;
    p.connect();
    p.server
        .refuse(p.now, mqtt_codec::ConnectReason::NotAuthorized)
        .unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=1 ka=0 id=c1",
            "s: connect id=c1",
            "s: closed refused NotAuthorized",
            "s>c CONNACK sp=0 NotAuthorized",
            "c: closed refused NotAuthorized",
        ]
    );
}

#[test]
fn server_resumes_its_outgoing_messages() {
    let mut c = v5_connect("c1", 0);
    c.clean_start = false;
    let mut p = Pair::new(c, ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.link_up = false;
    p.server.publish(msg("s", "1"), QoS::ExactlyOnce).unwrap();
    p.settle();
    p.drop_link();
    p.clear_log();
    p.reconnect();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=0 ka=0 id=c1",
            "s: connect id=c1",
            "s>c CONNACK sp=1 Success",
            "s>c PUBLISH q2 id=1 dup=1 's' 1",
            "c: connected sp=1",
            "c: message 's' q2 1",
            "c>s PUBREC 1",
            "s>c PUBREL 1",
            "c>s PUBCOMP 1",
            "s: complete 1",
        ]
    );
}

#[test]
fn session_present_0_discards_the_clients_state() {
    let mut p = Pair::new(
        v5_connect("c1", 0),
        ClientOptions::default(),
        ServerOptions::default(),
    );
    p.connect();
    p.link_up = false;
    p.client.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    p.settle();
    p.drop_link();
    // The server lost the session.
    p.lose_session = true;
    p.client.publish(msg("a", "2"), QoS::AtLeastOnce).unwrap();
    p.clear_log();
    p.reconnect();
    // [MQTT-3.2.2-5]: the sent message's fate is unknown and reported; the unsent one goes
    // out as a new message.
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=0 ka=0 id=c1",
            "s: connect id=c1",
            "s>c CONNACK sp=0 Success",
            "c: complete 1 SessionLost",
            "c: connected sp=0",
            "c>s PUBLISH q1 id=2 dup=0 'a' 2",
            "s: message 'a' q1 2",
            "s>c PUBACK 2",
            "c: complete 2",
        ]
    );
}

#[test]
fn message_expiry_while_queued() {
    let server = ServerOptions {
        receive_maximum: std::num::NonZeroU16::new(1).unwrap(),
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), ClientOptions::default(), server);
    p.connect();
    p.clear_log();
    p.link_up = false;
    let mut a = msg("e", "first");
    a.properties.set_message_expiry_interval(100);
    let mut b = msg("e", "second");
    b.properties.set_message_expiry_interval(10);
    let mut c = msg("e", "third");
    c.properties.set_message_expiry_interval(100);
    p.client.publish(a, QoS::AtLeastOnce).unwrap();
    p.client.publish(b, QoS::AtLeastOnce).unwrap();
    p.client.publish(c, QoS::AtLeastOnce).unwrap();
    p.settle();
    // 30 s later the first is still unacknowledged (its PUBACK was lost); the link comes
    // back: the second, never sent, has expired; the others go with what is left of their
    // interval (the first was sent once, so it goes again whatever the time).
    p.now = mqtt_codec::Instant::from_secs(30);
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(t.contains(&"c: complete 2 Expired"), "{t:#?}");
    assert!(
        !p.log
            .iter()
            .any(|l| l.contains("second") && l.starts_with("c>s")),
        "{t:#?}"
    );
    assert_eq!(
        p.received(mqtt_integration_tests::pair::Side::Server),
        ["e first", "e third"]
    );
    let third = p.server_events.iter().find_map(|e| match e {
        mqtt_codec::session::Event::Message(m) if m.payload.as_bytes() == b"third" => {
            m.properties.message_expiry_interval()
        }
        _ => None,
    });
    // [MQTT-3.3.2-6]: 100 s less the 30 s it waited.
    assert_eq!(third, Some(70));
}

#[test]
fn disconnect_cannot_extend_a_session_that_ends_with_the_connection() {
    let mut p = Pair::simple(Protocol::V5, "c1", 0);
    p.connect();
    let mut d = shared::Disconnect::new(mqtt_codec::DisconnectReason::NormalDisconnection);
    d.properties.set_session_expiry_interval(60);
    assert_eq!(
        p.client.disconnect_with(d),
        Err(mqtt_codec::session::CommandError::SessionExpiryFromZero)
    );
    // A server that receives one anyway closes with a protocol error.
    let mut d = shared::Disconnect::new(mqtt_codec::DisconnectReason::NormalDisconnection);
    d.properties.set_session_expiry_interval(60);
    let mut bytes = Vec::new();
    mqtt_codec::generic::Packet::<mqtt_codec::Bytes, mqtt_codec::ByteString>::Disconnect(d)
        .encode(Protocol::V5, &mut bytes)
        .unwrap();
    p.server.handle_bytes(p.now, &bytes);
    p.settle();
    assert!(
        p.log
            .iter()
            .any(|l| l.starts_with("s: closed protocol-error")),
        "{:#?}",
        p.log
    );
}

#[test]
fn published_before_the_first_connect_goes_after_connack() {
    let mut p = Pair::simple(Protocol::V3_1_1, "c1", 0);
    p.client
        .publish(msg("early", "1"), QoS::AtLeastOnce)
        .unwrap();
    p.connect();
    assert_eq!(
        p.transcript(),
        [
            "c>s CONNECT clean=1 ka=0 id=c1",
            "s: connect id=c1",
            "s>c CONNACK sp=0 Success",
            "c: connected sp=0",
            "c>s PUBLISH q1 id=1 dup=0 'early' 1",
            "s: message 'early' q1 1",
            "s>c PUBACK 1",
            "c: complete 1",
        ]
    );
}

/// Encodes a packet as a peer would send it.
fn wire(
    p: mqtt_codec::generic::Packet<mqtt_codec::Bytes, mqtt_codec::ByteString>,
    v: Protocol,
) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode(v, &mut out).unwrap();
    out
}

#[test]
fn a_maximum_packet_size_too_small_for_pingreq_closes_without_panic() {
    use mqtt_codec::session::{Client, Event, Session};
    let c = shared::Connect::new(Protocol::V5, shared::Str::new("c1").unwrap(), 1);
    let mut client = Client::new(c, ClientOptions::default(), Session::new()).unwrap();
    let t = mqtt_codec::Instant::ZERO;
    client.connect(t).unwrap();
    while client.poll_transmit().is_some() {}
    let mut ack = shared::ConnAck::new(mqtt_codec::ConnectReason::Success, false);
    ack.properties
        .set_maximum_packet_size(std::num::NonZeroU32::new(1).unwrap());
    client.handle_bytes(
        t,
        &wire(mqtt_codec::generic::Packet::ConnAck(ack), Protocol::V5),
    );
    client.handle_timeout(mqtt_codec::Instant::from_secs(1));
    assert!(client.poll_transmit().is_none(), "nothing fits");
    let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(mqtt_codec::session::CloseReason::Unusable(_)))
        ),
        "{events:?}"
    );
}

#[test]
fn manual_answers_survive_a_reconnect() {
    let client = ClientOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    };
    let mut p = Pair::new(v5_connect("c1", 0), client, ServerOptions::default());
    p.connect();
    p.server.publish(msg("m", "1"), QoS::ExactlyOnce).unwrap();
    p.server.publish(msg("m", "2"), QoS::ExactlyOnce).unwrap();
    p.settle();
    // The second is answered, the first not yet: the answer waits, then the link drops.
    p.client.ack(mqtt_codec::PacketId::new(2).unwrap()).unwrap();
    p.settle();
    p.drop_link();
    p.reconnect();
    p.clear_log();
    // Answering the first now sends both, in order; nothing is delivered twice.
    p.client.ack(mqtt_codec::PacketId::new(1).unwrap()).unwrap();
    p.settle();
    let t = p.transcript();
    assert_eq!(&t[..2], ["c>s PUBREC 1", "c>s PUBREC 2"], "{t:#?}");
    assert_eq!(
        p.received(mqtt_integration_tests::pair::Side::Client),
        ["m 1", "m 2"]
    );
}

#[test]
fn mqtt_4_12_0_2_auth_reasons_each_side_may_send() {
    let mut c = v5_connect("c1", 0);
    c.properties
        .set_authentication_method(mqtt_codec::Str::new("SCRAM").unwrap());
    let mut p = Pair::new(c, ClientOptions::default(), ServerOptions::default());
    p.auto_accept = false;
    p.connect();
    use mqtt_codec::AuthReason::*;
    // Before CONNACK only "continue", either way.
    assert!(p.server.auth(Success, Default::default()).is_err());
    assert!(p.server.auth(ReAuthenticate, Default::default()).is_err());
    assert!(p.client.auth(ReAuthenticate, Default::default()).is_err());
    p.server.accept(p.now, None, Default::default()).unwrap();
    p.settle();
    // Afterwards the client starts a re-authentication, never says Success; the server
    // never asks to re-authenticate.
    assert!(p.client.auth(Success, Default::default()).is_err());
    assert!(p.server.auth(ReAuthenticate, Default::default()).is_err());
    p.client.auth(ReAuthenticate, Default::default()).unwrap();
    p.settle();
    p.server.auth(Success, Default::default()).unwrap();
    p.settle();
    assert!(p.log.iter().any(|l| l == "s: auth ReAuthenticate"));
    assert!(p.log.iter().any(|l| l == "c: auth Success"));
}

#[test]
fn connack_limits_set_by_the_application_are_enforced() {
    let mut c = v5_connect("c1", 0);
    c.properties.set_topic_alias_maximum(0);
    let mut p = Pair::new(
        c,
        ClientOptions {
            alias_policy: AliasPolicy::LeastRecentlyUsed { max: 4 },
            ..Default::default()
        },
        ServerOptions::default(),
    );
    p.auto_accept = false;
    p.connect();
    let mut props = shared::ConnAckProperties::new();
    props.set_topic_alias_maximum(3);
    props.set_server_keep_alive(7);
    p.server.accept(p.now, None, props).unwrap();
    p.settle();
    assert_eq!(p.server.keep_alive(), 7);
    // The client uses the aliases the CONNACK announced; the server takes them.
    p.client.publish(msg("t", "1"), QoS::AtMostOnce).unwrap();
    p.client.publish(msg("t", "2"), QoS::AtMostOnce).unwrap();
    p.settle();
    assert_eq!(
        p.received(mqtt_integration_tests::pair::Side::Server),
        ["t 1", "t 2"]
    );
    assert!(p.log.iter().any(|l| l.contains("alias=1")), "{:#?}", p.log);
}

#[test]
fn disconnect_session_expiry_is_checked_against_the_connect() {
    // CONNECT 300, CONNACK 0 (the server shortened it): the client may still DISCONNECT
    // with 300 (MQTT 5.0 §3.14.2.2.2 compares with the CONNECT).
    let mut p = Pair::new(
        v5_connect("c1", 0),
        ClientOptions::default(),
        ServerOptions::default(),
    );
    p.auto_accept = false;
    p.connect();
    let mut props = shared::ConnAckProperties::new();
    props.set_session_expiry_interval(0);
    p.server.accept(p.now, None, props).unwrap();
    p.settle();
    let mut d = shared::Disconnect::new(mqtt_codec::DisconnectReason::NormalDisconnection);
    d.properties.set_session_expiry_interval(300);
    p.client.disconnect_with(d).unwrap();
    p.settle();
    assert!(
        p.log
            .iter()
            .any(|l| l == "s: closed peer-disconnected NormalDisconnection"),
        "{:#?}",
        p.log
    );
}

#[test]
fn mqtt_3_1_2_6_a_3_1_clean_session_stays_clean_on_reconnect() {
    let mut p = Pair::simple(Protocol::V3_1, "c1", 0);
    p.connect();
    p.reconnect();
    assert!(
        p.log
            .iter()
            .filter(|l| l.starts_with("c>s CONNECT clean=1"))
            .count()
            == 2,
        "{:#?}",
        p.log
    );
}

#[test]
fn mqtt_3_3_4_8_resent_pubrel_not_held_behind_a_publish_waiting_for_quota() {
    use mqtt_codec::session::{Outgoing, SenderFlow, Session};
    let id = |n| mqtt_codec::PacketId::new(n).unwrap();
    let q1 = |t: &str| {
        let mut m = msg(t, t);
        m.delivery = mqtt_codec::Delivery::new(QoS::AtLeastOnce, Some(id(9)), false).unwrap();
        m
    };
    // A session from an earlier connection: A and B sent and unacknowledged, C released.
    let session = Session::restore(
        [
            Outgoing::new(id(1), SenderFlow::AwaitPubAck, Some(q1("a")), true).unwrap(),
            Outgoing::new(id(2), SenderFlow::AwaitPubAck, Some(q1("b")), true).unwrap(),
            Outgoing::new(id(3), SenderFlow::AwaitPubComp, None, true).unwrap(),
        ],
        [],
        [],
    )
    .unwrap();
    let mut c = v5_connect("c1", 0);
    c.clean_start = false;
    let server = ServerOptions {
        receive_maximum: std::num::NonZeroU16::new(1).unwrap(),
        ..Default::default()
    };
    let mut p = Pair::new(c.clone(), ClientOptions::default(), server);
    p.client = mqtt_codec::session::Client::new(c, ClientOptions::default(), session).unwrap();
    p.stored = Some(Session::new());
    p.link_up = false;
    p.connect();
    p.link_up = true;
    p.clear_log();
    p.reconnect();
    let sent: Vec<&str> = p
        .transcript()
        .into_iter()
        .filter(|l| l.starts_with("c>s PUB"))
        .collect();
    // A takes the only unit of quota; C's PUBREL, which needs none, does not wait behind
    // B; B goes once A's PUBACK freed the quota.
    assert_eq!(
        sent,
        [
            "c>s PUBLISH q1 id=1 dup=1 'a' a",
            "c>s PUBREL 3",
            "c>s PUBLISH q1 id=2 dup=1 'b' b",
        ],
        "{:#?}",
        p.log
    );
    let t = p.transcript();
    let rel = t.iter().position(|l| *l == "c>s PUBREL 3").unwrap();
    let b = t.iter().position(|l| l.contains("id=2")).unwrap();
    let ack1 = t.iter().position(|l| *l == "s>c PUBACK 1").unwrap();
    assert!(rel < ack1 && ack1 < b, "{t:#?}");
}
