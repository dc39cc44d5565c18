//! MQTT 3.1.1 normative statements of level `session` (see
//! `/work/shared/reference/mqtt-normative-statements.md`), one test per statement, checked
//! on the client and server connection machines of `mqtt_codec::session`.
//!
//! Each test is named after the statement it checks. Where the statement binds one side,
//! the test drives that machine alone and plays the peer with raw packets (so that the
//! peer can also misbehave); where it binds both, it uses the two-party harness
//! `mqtt_integration_tests::pair::Pair`. Every assertion fails if the machine breaks the
//! rule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use mqtt_codec::generic::Packet;
use mqtt_codec::session::{
    AckMode, Client, ClientOptions, CloseReason, CommandError, ConnState, Event, ProtocolError,
    SenderFlow, Server, ServerOptions, Session,
};
use mqtt_codec::{
    shared, ConnectReason, Decoded, Decoder, Delivery, DisconnectReason, Encoder, Instant,
    PacketId, PacketType, Protocol, QoS, SubAckReason,
};
use mqtt_integration_tests::pair::{describe_bytes, describe_event, Pair, Side};

const V: Protocol = Protocol::V3_1_1;
const T0: Instant = Instant::ZERO;

// ---- building packets ----

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn msg(topic: &str, payload: &str) -> shared::Publish {
    shared::Publish::new(
        shared::TopicName::new(topic.to_string()).unwrap(),
        payload.as_bytes().to_vec(),
    )
}

/// A PUBLISH as a peer sends it: with its QoS, identifier and DUP.
fn publish(topic: &str, payload: &str, qos: QoS, packet_id: u16, dup: bool) -> shared::Packet {
    let mut p = msg(topic, payload);
    p.delivery = Delivery::new(qos, PacketId::new(packet_id), dup).unwrap();
    Packet::Publish(p)
}

fn puback(n: u16) -> shared::Packet {
    Packet::PubAck(shared::PubAck::new(id(n)))
}

fn pubrec(n: u16) -> shared::Packet {
    Packet::PubRec(shared::PubRec::new(id(n)))
}

fn pubrel(n: u16) -> shared::Packet {
    Packet::PubRel(shared::PubRel::new(id(n)))
}

fn pubcomp(n: u16) -> shared::Packet {
    Packet::PubComp(shared::PubComp::new(id(n)))
}

fn sub(filter: &str, qos: QoS) -> shared::Subscription {
    shared::Subscription::new(shared::TopicFilter::new(filter.to_string()).unwrap(), qos)
}

fn filter(f: &str) -> shared::TopicFilter {
    shared::TopicFilter::new(f.to_string()).unwrap()
}

fn subscribe(n: u16, subs: Vec<shared::Subscription>) -> shared::Packet {
    Packet::Subscribe(shared::Subscribe::new(id(n), subs))
}

fn unsubscribe(n: u16, filters: Vec<shared::TopicFilter>) -> shared::Packet {
    Packet::Unsubscribe(shared::Unsubscribe::new(id(n), filters))
}

fn connect(client_id: &str, keep_alive: u16, clean: bool) -> shared::Connect {
    let mut c = shared::Connect::new(
        V,
        shared::Str::new(client_id.to_string()).unwrap(),
        keep_alive,
    );
    c.clean_start = clean;
    c
}

fn with_will(mut c: shared::Connect) -> shared::Connect {
    c.will = Some(
        shared::Will::new(
            shared::TopicName::new("dead/c1").unwrap(),
            &b"gone"[..],
            QoS::AtMostOnce,
        )
        .unwrap(),
    );
    c
}

fn connack(session_present: bool) -> shared::Packet {
    Packet::ConnAck(shared::ConnAck::new(
        ConnectReason::Success,
        session_present,
    ))
}

fn encode(packets: &[shared::Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        Encoder::new(V).encode(p, &mut out).unwrap();
    }
    out
}

fn decode_all(bytes: &[u8]) -> Vec<shared::Packet> {
    let d = Decoder::new(V).max_packet_size(mqtt_codec::MAX_PACKET_SIZE);
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match d.decode(rest).unwrap() {
            Decoded::Complete(p, n) => {
                out.push(p.to_shared());
                rest = &rest[n..];
            }
            Decoded::Partial(_) => panic!("a partial packet in {bytes:?}"),
        }
    }
    out
}

// ---- driving one machine, the test playing its peer ----

trait Machine {
    fn feed_bytes(&mut self, now: Instant, bytes: &[u8]);
    fn tx(&mut self) -> Vec<u8>;
    fn evs(&mut self) -> Vec<Event>;

    /// The peer sends `packets`, in one write.
    fn feed(&mut self, now: Instant, packets: &[shared::Packet]) {
        self.feed_bytes(now, &encode(packets));
    }

    /// What the machine sent since the last call, one line per packet.
    fn sent(&mut self) -> Vec<String> {
        describe_bytes(&self.tx(), V)
    }

    /// The events since the last call, one line each.
    fn events(&mut self) -> Vec<String> {
        self.evs().iter().map(describe_event).collect()
    }
}

macro_rules! machine {
    ($t:ty) => {
        impl Machine for $t {
            fn feed_bytes(&mut self, now: Instant, bytes: &[u8]) {
                self.handle_bytes(now, bytes);
            }
            fn tx(&mut self) -> Vec<u8> {
                let mut out = Vec::new();
                while let Some(b) = self.poll_transmit() {
                    out.extend_from_slice(&b);
                }
                out
            }
            fn evs(&mut self) -> Vec<Event> {
                std::iter::from_fn(|| self.poll_event()).collect()
            }
        }
    };
}
machine!(Client);
machine!(Server);

/// A client that sent CONNECT and got `answer`.
fn client_with(c: shared::Connect, options: ClientOptions, answer: shared::Packet) -> Client {
    let mut client = Client::new(c, options, Session::new()).unwrap();
    client.connect(T0).unwrap();
    let sent = client.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("CONNECT"), "{sent:?}");
    client.feed(T0, &[answer]);
    client
}

/// A connected client (Clean Session 1, Keep Alive 0).
fn connected_client(options: ClientOptions) -> Client {
    let mut c = client_with(connect("c1", 0, true), options, connack(false));
    assert_eq!(c.events(), ["connected sp=0"]);
    assert_eq!(c.state(), ConnState::Connected);
    c
}

/// A server that received `c` and waits for the application.
fn server_after(c: shared::Connect, options: ServerOptions) -> Server {
    let mut s = Server::new(T0, options);
    s.feed(T0, &[Packet::Connect(c)]);
    let ev = s.evs();
    assert!(matches!(ev.as_slice(), [Event::Connect(_)]), "{ev:?}");
    assert_eq!(s.state(), ConnState::AwaitAccept);
    s
}

/// A server that accepted `c` without a stored session.
fn accepted_server(c: shared::Connect, options: ServerOptions) -> Server {
    let mut s = server_after(c, options);
    s.accept(T0, None, Default::default()).unwrap();
    assert_eq!(s.sent(), ["CONNACK sp=0 Success"]);
    assert!(s.events().is_empty());
    s
}

/// The reason of the last `Closed` event.
fn closed_with(events: &[Event]) -> Option<&CloseReason> {
    events.iter().rev().find_map(|e| match e {
        Event::Closed(r) => Some(r),
        _ => None,
    })
}

/// A session holding outgoing QoS 1 messages `ids` (already sent once), in that order.
fn session_with_outgoing(ids: &[u16]) -> Session {
    let out = ids.iter().map(|&n| {
        let mut p = msg("s", &n.to_string());
        p.delivery = Delivery::new(QoS::AtLeastOnce, PacketId::new(n), false).unwrap();
        mqtt_codec::session::Outgoing::new(id(n), SenderFlow::AwaitPubAck, Some(p), true).unwrap()
    });
    Session::restore(out, [], []).unwrap()
}

fn v3_pair(clean: bool) -> Pair {
    Pair::new(
        connect("c1", 0, clean),
        ClientOptions::default(),
        ServerOptions::default(),
    )
}

// ---- 2.3.1 Packet Identifier ----

#[test]
fn mqtt_2_3_1_2_new_packets_get_identifiers_not_in_use() {
    let mut c = connected_client(ClientOptions::default());
    // A SUBSCRIBE left unanswered holds its identifier too.
    let s = c
        .subscribe(vec![sub("s/#", QoS::AtMostOnce)], Default::default())
        .unwrap();
    let mut seen = HashSet::from([s]);
    for n in 1..u16::MAX {
        let id = c
            .publish(msg("a", "x"), QoS::AtLeastOnce)
            .unwrap()
            .expect("QoS 1 has an identifier");
        assert!(
            seen.insert(id),
            "identifier {id} handed out twice (message {n})"
        );
        let _ = c.tx();
    }
    // All 65,535 identifiers are in use: no new packet can get one.
    assert_eq!(
        c.publish(msg("a", "x"), QoS::ExactlyOnce),
        Err(CommandError::PacketIdsExhausted)
    );
    assert_eq!(
        c.unsubscribe(vec![filter("s/#")], Default::default()),
        Err(CommandError::PacketIdsExhausted)
    );
    assert!(c.tx().is_empty());
    // The SUBACK frees the SUBSCRIBE's identifier, and only that one.
    c.feed(
        T0,
        &[Packet::SubAck(shared::SubAck::new(
            s,
            vec![SubAckReason::GrantedQoS0],
        ))],
    );
    assert_eq!(c.publish(msg("a", "y"), QoS::AtLeastOnce), Ok(Some(s)));
    assert_eq!(
        c.publish(msg("a", "z"), QoS::AtLeastOnce),
        Err(CommandError::PacketIdsExhausted)
    );
}

#[test]
fn mqtt_2_3_1_3_resent_packet_keeps_its_identifier_until_the_final_ack() {
    let mut c = client_with(
        connect("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    let a = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    let b = c.publish(msg("a", "2"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    // PUBREC is not the final acknowledgement of a QoS 2 message.
    c.feed(T0, &[pubrec(b.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {b}")]);
    // A new network connection resumes the session: same identifiers.
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(
        c.sent(),
        [
            format!("PUBLISH q1 id={a} dup=1 'a' 1"),
            format!("PUBREL {b}")
        ]
    );
    let held: Vec<PacketId> = c.session().outgoing().map(|o| o.packet_id()).collect();
    assert_eq!(held, [a, b]);
    // Freed by PUBACK and PUBCOMP, not before.
    c.feed(T0, &[puback(a.get())]);
    let held: Vec<PacketId> = c.session().outgoing().map(|o| o.packet_id()).collect();
    assert_eq!(held, [b]);
    c.feed(T0, &[pubcomp(b.get())]);
    assert_eq!(c.session().outgoing().len(), 0);
    let ev = c.events();
    assert!(ev.contains(&format!("complete {a}")), "{ev:?}");
    assert!(ev.contains(&format!("complete {b}")), "{ev:?}");
}

#[test]
fn mqtt_2_3_1_4_server_publish_identifiers_not_in_use() {
    // The stored session still holds identifiers 5 and 1 (in that order).
    let mut s = server_after(connect("c1", 0, false), ServerOptions::default());
    s.accept(T0, Some(session_with_outgoing(&[5, 1])), Default::default())
        .unwrap();
    assert_eq!(
        s.sent(),
        [
            "CONNACK sp=1 Success",
            "PUBLISH q1 id=5 dup=1 's' 5",
            "PUBLISH q1 id=1 dup=1 's' 1",
        ]
    );
    let mut ids = Vec::new();
    for n in 0..5 {
        let qos = if n % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        ids.push(s.publish(msg("t", "x"), qos).unwrap().unwrap().get());
    }
    assert!(!ids.contains(&5) && !ids.contains(&1), "{ids:?}");
    let unique: HashSet<u16> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // And what went out carries them.
    let sent = decode_all(&s.tx());
    let on_wire: Vec<u16> = sent
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => p.packet_id().map(PacketId::get),
            _ => None,
        })
        .collect();
    assert_eq!(on_wire, ids);
}

#[test]
fn mqtt_2_3_1_6_acknowledgements_carry_the_publish_identifier() {
    let mut c = connected_client(ClientOptions::default());
    // Receiving: PUBACK and PUBREC echo the PUBLISH.
    c.feed(
        T0,
        &[
            publish("t", "1", QoS::AtLeastOnce, 7, false),
            publish("t", "2", QoS::ExactlyOnce, 9, false),
        ],
    );
    assert_eq!(c.sent(), ["PUBACK 7", "PUBREC 9"]);
    c.feed(T0, &[pubrel(9)]);
    assert_eq!(c.sent(), ["PUBCOMP 9"]);
    // Sending: PUBREL echoes the PUBLISH the PUBREC answered.
    let a = c.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap().unwrap();
    let b = c.publish(msg("a", "y"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    c.feed(T0, &[pubrec(b.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {b}")]);
    c.feed(T0, &[pubrec(a.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {a}")]);
}

#[test]
fn mqtt_2_3_1_7_suback_and_unsuback_carry_the_request_identifier() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[
            subscribe(300, vec![sub("a", QoS::AtLeastOnce)]),
            unsubscribe(301, vec![filter("b")]),
        ],
    );
    assert_eq!(s.events(), ["subscribe 300", "unsubscribe 301"]);
    // Answered in the other order: each answer names its own request.
    s.unsuback(id(301), &[], Default::default()).unwrap();
    s.suback(id(300), &[SubAckReason::GrantedQoS1], Default::default())
        .unwrap();
    assert_eq!(s.sent(), ["UNSUBACK 301", "SUBACK 300 GrantedQoS1"]);

    // The client matches answers by identifier: an answer naming no request of its kind
    // is a protocol violation.
    let mut c = connected_client(ClientOptions::default());
    let sid = c
        .subscribe(vec![sub("a", QoS::AtMostOnce)], Default::default())
        .unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[Packet::UnsubAck(shared::UnsubAck::new(
            sid,
            shared::Seq::new(),
        ))],
    );
    let ev = c.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::UnknownPacketId { .. }
            ))
        ),
        "{ev:?}"
    );
}

// ---- 3.1 CONNECT ----

#[test]
fn mqtt_3_1_0_1_client_sends_connect_first() {
    let mut c = Client::new(
        connect("c1", 0, false),
        ClientOptions::default(),
        Session::new(),
    )
    .unwrap();
    // Before `connect` nothing can be sent.
    assert!(matches!(
        c.publish(msg("a", "0"), QoS::AtMostOnce),
        Err(CommandError::WrongState { .. })
    ));
    assert!(c
        .subscribe(vec![sub("a", QoS::AtMostOnce)], Default::default())
        .is_err());
    assert!(c
        .unsubscribe(vec![filter("a")], Default::default())
        .is_err());
    assert!(c.ping().is_err());
    assert!(c.disconnect(DisconnectReason::NormalDisconnection).is_err());
    // A QoS 1 message waits in the session.
    let q1 = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    c.handle_timeout(Instant::from_secs(100));
    // Bytes from nowhere are not answered.
    c.feed(T0, &[publish("t", "x", QoS::AtLeastOnce, 3, false)]);
    assert!(c.tx().is_empty());
    // CONNECT is the first packet, and alone until CONNACK.
    c.connect(Instant::from_secs(100)).unwrap();
    assert_eq!(c.sent(), ["CONNECT clean=0 ka=0 id=c1"]);
    c.feed(Instant::from_secs(100), &[connack(false)]);
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={q1} dup=0 'a' 1")]);
}

#[test]
fn mqtt_3_1_0_1_server_closes_when_the_first_packet_is_not_connect() {
    let mut s = Server::new(T0, ServerOptions::default());
    s.feed(
        T0,
        &[
            Packet::PingReq,
            publish("a", "x", QoS::AtLeastOnce, 1, false),
        ],
    );
    let ev = s.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::UnexpectedPacket {
                    packet: PacketType::PingReq,
                    ..
                }
            ))
        ),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Message(_))));
    assert_eq!(s.state(), ConnState::Closed);
    assert!(s.sent().is_empty(), "no PINGRESP, no PUBACK");
}

#[test]
fn mqtt_3_1_0_2_second_connect_is_a_protocol_violation() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[Packet::Connect(connect("c1", 0, true)), Packet::PingReq],
    );
    let ev = s.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::UnexpectedPacket {
                    packet: PacketType::Connect,
                    ..
                }
            ))
        ),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Connect(_))));
    assert_eq!(s.state(), ConnState::Closed);
    // Nothing after the violation is processed (no PINGRESP); 3.1.1 has no DISCONNECT
    // from the server.
    assert!(s.sent().is_empty());
}

#[test]
fn mqtt_3_1_2_4_clean_session_0_session_is_resumed_and_kept() {
    let mut p = v3_pair(false);
    p.connect();
    // Both sides publish; the link loses everything.
    p.link_up = false;
    p.client.publish(msg("up", "1"), QoS::AtLeastOnce).unwrap();
    p.server
        .publish(msg("down", "2"), QoS::ExactlyOnce)
        .unwrap();
    p.settle();
    p.drop_link();
    // Both keep their state after the connection ended; the server's session does not
    // expire.
    assert_eq!(p.client.session().outgoing().len(), 1);
    assert_eq!(p.server.session().outgoing().len(), 1);
    assert!(
        !p.log.iter().any(|l| l.contains("session expired")),
        "{:?}",
        p.log
    );
    assert_eq!(p.server.poll_timeout(), None);
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert_eq!(t[0], "c>s CONNECT clean=0 ka=0 id=c1");
    assert_eq!(t[2], "s>c CONNACK sp=1 Success");
    assert!(t.contains(&"c>s PUBLISH q1 id=1 dup=1 'up' 1"), "{t:?}");
    assert!(t.contains(&"s>c PUBLISH q2 id=1 dup=1 'down' 2"), "{t:?}");
    assert_eq!(p.received(Side::Server), ["up 1"]);
    assert_eq!(p.received(Side::Client), ["down 2"]);
}

#[test]
fn mqtt_3_1_2_6_clean_session_1_discards_the_session() {
    // Client: a new clean connection forgets what the last one left.
    let mut c = connected_client(ClientOptions::default());
    c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    let _ = c.tx();
    c.handle_link_lost(T0);
    assert_eq!(c.session().outgoing().len(), 1);
    c.connect(T0).unwrap();
    assert_eq!(c.sent(), ["CONNECT clean=1 ka=0 id=c1"]);
    assert_eq!(c.session().outgoing().len(), 0);
    c.feed(T0, &[connack(false)]);
    assert!(c.sent().is_empty(), "nothing resent");

    // Server: a stored session is not resumed for a clean connection...
    let mut s = server_after(with_will(connect("c1", 0, true)), ServerOptions::default());
    s.accept(T0, Some(session_with_outgoing(&[4])), Default::default())
        .unwrap();
    assert_eq!(s.sent(), ["CONNACK sp=0 Success"]);
    assert_eq!(s.session().outgoing().len(), 0);
    // ...and the new one lasts only as long as the connection.
    s.handle_link_lost(T0);
    let ev = s.events();
    assert!(ev.contains(&"session expired".to_string()), "{ev:?}");
}

#[test]
fn mqtt_3_1_2_10_will_is_deleted_once_published() {
    let mut s = accepted_server(with_will(connect("c1", 0, true)), ServerOptions::default());
    s.handle_link_lost(T0);
    let wills = |ev: &[String]| ev.iter().filter(|e| e.starts_with("will")).count();
    assert_eq!(wills(&s.events()), 1);
    // Published once; gone afterwards.
    s.handle_link_lost(Instant::from_secs(1));
    s.handle_timeout(Instant::from_secs(1000));
    assert_eq!(wills(&s.events()), 0);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn mqtt_3_1_2_10_will_is_deleted_on_disconnect() {
    let mut s = accepted_server(with_will(connect("c1", 10, true)), ServerOptions::default());
    s.feed(
        T0,
        &[Packet::Disconnect(shared::Disconnect::new(
            DisconnectReason::NormalDisconnection,
        ))],
    );
    s.handle_link_lost(T0);
    s.handle_timeout(Instant::from_secs(1000));
    let ev = s.events();
    assert!(
        ev.iter().any(|e| e.starts_with("closed peer-disconnected")),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| e.starts_with("will")), "{ev:?}");
}

#[test]
fn mqtt_3_1_2_23_client_sends_within_the_keep_alive() {
    let mut c = client_with(
        connect("c1", 10, true),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(10)));
    c.handle_timeout(Instant::from_millis(9_999));
    assert!(c.tx().is_empty(), "not early");
    // Another packet counts: the next PINGREQ moves 10 s after it.
    c.publish(msg("a", "x"), QoS::AtMostOnce).unwrap();
    let _ = c.tx();
    assert_eq!(c.poll_timeout(), Some(Instant::from_millis(19_999)));
    c.handle_timeout(Instant::from_secs(15));
    assert!(c.tx().is_empty());
    c.handle_timeout(Instant::from_millis(19_999));
    assert_eq!(c.sent(), ["PINGREQ"]);
    c.feed(Instant::from_secs(20), &[Packet::PingResp]);
    // Over a long quiet time with PINGRESPs, never more than 10 s without sending.
    let mut now = Instant::from_millis(19_999);
    let mut last = now;
    while now < Instant::from_secs(200) {
        now = c.poll_timeout().unwrap();
        c.handle_timeout(now);
        let sent = c.sent();
        if !sent.is_empty() {
            assert_eq!(sent, ["PINGREQ"]);
            assert!(
                now.saturating_duration_since(last).as_secs() <= 10,
                "{now} after {last}"
            );
            last = now;
            c.feed(now, &[Packet::PingResp]);
        }
    }
    assert_eq!(c.state(), ConnState::Connected);
    assert!(last >= Instant::from_secs(190));
}

#[test]
fn mqtt_3_1_2_24_server_closes_after_one_and_a_half_keep_alive() {
    let mut s = accepted_server(with_will(connect("c1", 10, true)), ServerOptions::default());
    assert_eq!(s.poll_timeout(), Some(Instant::from_secs(15)));
    // A packet at 10 s restarts the count.
    s.feed(Instant::from_secs(10), &[Packet::PingReq]);
    assert_eq!(s.sent(), ["PINGRESP"]);
    s.handle_timeout(Instant::from_millis(24_999));
    assert_eq!(s.state(), ConnState::Connected);
    s.handle_timeout(Instant::from_secs(25));
    assert_eq!(s.state(), ConnState::Closed);
    let ev = s.evs();
    assert_eq!(closed_with(&ev), Some(&CloseReason::KeepAliveTimeout));
    // As if the network failed: the Will goes; 3.1.1 has no server DISCONNECT.
    assert!(ev.iter().any(|e| matches!(e, Event::Will(_))), "{ev:?}");
    assert!(s.sent().is_empty());
}

#[test]
fn mqtt_3_1_4_4_accepted_connect_gets_connack_return_code_0() {
    let mut s = server_after(connect("c1", 0, true), ServerOptions::default());
    s.accept(T0, None, Default::default()).unwrap();
    // Fixed header 0x20 0x02, Session Present 0, return code 0.
    assert_eq!(s.tx(), [0x20, 0x02, 0x00, 0x00]);
    assert_eq!(s.state(), ConnState::Connected);
}

#[test]
fn mqtt_3_1_4_5_data_after_a_refused_connect_is_ignored() {
    let mut s = Server::new(T0, ServerOptions::default());
    // CONNECT and, in the same write, what the client sent without waiting.
    s.feed(
        T0,
        &[
            Packet::Connect(connect("c1", 0, true)),
            publish("a", "x", QoS::AtLeastOnce, 1, false),
            subscribe(2, vec![sub("a", QoS::AtMostOnce)]),
            Packet::PingReq,
        ],
    );
    assert_eq!(s.events(), ["connect id=c1"]);
    s.refuse(T0, ConnectReason::NotAuthorized).unwrap();
    s.feed(T0, &[Packet::PingReq]);
    assert_eq!(s.sent(), ["CONNACK sp=0 NotAuthorized"]);
    assert_eq!(s.events(), ["closed refused NotAuthorized"]);
}

// ---- 3.2 CONNACK ----

#[test]
fn mqtt_3_2_0_1_connack_is_the_first_packet_the_server_sends() {
    let mut s = server_after(connect("c1", 0, true), ServerOptions::default());
    // While the application decides, nothing goes out: not a QoS 0 message, not an answer
    // to what the client sent early.
    assert!(matches!(
        s.publish(msg("a", "x"), QoS::AtMostOnce),
        Err(CommandError::WrongState { .. })
    ));
    s.feed(
        T0,
        &[
            Packet::PingReq,
            publish("b", "y", QoS::AtLeastOnce, 1, false),
        ],
    );
    assert!(s.tx().is_empty());
    assert!(s.disconnect(DisconnectReason::NormalDisconnection).is_err());
    assert!(s.tx().is_empty());
    s.accept(T0, None, Default::default()).unwrap();
    let sent = s.sent();
    assert_eq!(sent[0], "CONNACK sp=0 Success");
    assert!(sent.contains(&"PINGRESP".to_string()), "{sent:?}");
    assert!(sent.contains(&"PUBACK 1".to_string()), "{sent:?}");
}

#[test]
fn mqtt_3_2_2_1_clean_session_connack_has_session_present_0() {
    let mut s = server_after(connect("c1", 0, true), ServerOptions::default());
    // Even with a session stored for the client.
    s.accept(T0, Some(session_with_outgoing(&[1])), Default::default())
        .unwrap();
    assert_eq!(s.sent(), ["CONNACK sp=0 Success"]);
}

#[test]
fn mqtt_3_2_2_2_stored_session_connack_has_session_present_1() {
    let mut s = server_after(connect("c1", 0, false), ServerOptions::default());
    // A session exists even when it holds nothing.
    s.accept(T0, Some(Session::new()), Default::default())
        .unwrap();
    assert_eq!(s.sent(), ["CONNACK sp=1 Success"]);
}

#[test]
fn mqtt_3_2_2_3_no_stored_session_connack_has_session_present_0() {
    let mut s = server_after(connect("c1", 0, false), ServerOptions::default());
    s.accept(T0, None, Default::default()).unwrap();
    assert_eq!(s.sent(), ["CONNACK sp=0 Success"]);
}

#[test]
fn mqtt_3_2_2_5_non_zero_return_code_closes_the_connection() {
    for reason in [
        ConnectReason::UnsupportedProtocolVersion,
        ConnectReason::ClientIdentifierNotValid,
        ConnectReason::ServerUnavailable,
        ConnectReason::BadUserNameOrPassword,
        ConnectReason::NotAuthorized,
    ] {
        let mut s = server_after(connect("c1", 10, true), ServerOptions::default());
        s.refuse(T0, reason).unwrap();
        assert_eq!(s.sent(), [format!("CONNACK sp=0 {reason:?}")]);
        assert_eq!(s.state(), ConnState::Closed);
        assert_eq!(s.events(), [format!("closed refused {reason:?}")]);
        s.feed(T0, &[Packet::PingReq]);
        assert!(s.tx().is_empty());
        assert!(s.accept(T0, None, Default::default()).is_err());

        // The client, receiving it, closes too.
        let mut c = client_with(
            connect("c1", 10, true),
            ClientOptions::default(),
            Packet::ConnAck(shared::ConnAck::new(reason, false)),
        );
        assert_eq!(c.events(), [format!("closed refused {reason:?}")]);
        assert_eq!(c.state(), ConnState::Closed);
        assert!(c.ping().is_err());
        assert!(c.tx().is_empty());
    }
}

#[test]
fn mqtt_3_2_2_6_no_fitting_return_code_closes_without_connack() {
    let mut s = server_after(connect("c1", 0, true), ServerOptions::default());
    s.refuse(T0, ConnectReason::Banned).unwrap();
    assert!(s.tx().is_empty(), "3.1.1 has no return code for Banned");
    assert_eq!(s.state(), ConnState::Closed);
    assert_eq!(s.events(), ["closed refused Banned"]);
}

// ---- 3.3 PUBLISH ----

#[test]
fn mqtt_3_3_1_1_dup_is_set_on_redelivery_only() {
    let mut p = v3_pair(false);
    p.connect();
    p.clear_log();
    p.link_up = false;
    // The application's DUP flag does not matter: a first delivery has DUP 0.
    let mut m = msg("a", "1");
    m.delivery = Delivery::AtLeastOnce {
        packet_id: id(500),
        dup: true,
    };
    p.client.publish(m, QoS::AtLeastOnce).unwrap();
    p.client.publish(msg("a", "2"), QoS::ExactlyOnce).unwrap();
    p.server.publish(msg("b", "3"), QoS::AtLeastOnce).unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s PUBLISH q1 id=1 dup=0 'a' 1 (lost)",
            "c>s PUBLISH q2 id=2 dup=0 'a' 2 (lost)",
            "s>c PUBLISH q1 id=1 dup=0 'b' 3 (lost)",
        ]
    );
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(t.contains(&"c>s PUBLISH q1 id=1 dup=1 'a' 1"), "{t:?}");
    assert!(t.contains(&"c>s PUBLISH q2 id=2 dup=1 'a' 2"), "{t:?}");
    assert!(t.contains(&"s>c PUBLISH q1 id=1 dup=1 'b' 3"), "{t:?}");
}

#[test]
fn mqtt_3_3_4_1_receiver_answers_as_the_qos_demands() {
    let incoming = [
        publish("t", "0", QoS::AtMostOnce, 1, false),
        publish("t", "1", QoS::AtLeastOnce, 2, false),
        publish("t", "2", QoS::ExactlyOnce, 3, false),
    ];
    let mut c = connected_client(ClientOptions::default());
    c.feed(T0, &incoming);
    assert_eq!(c.sent(), ["PUBACK 2", "PUBREC 3"]);
    assert_eq!(c.events().len(), 3);
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(T0, &incoming);
    assert_eq!(s.sent(), ["PUBACK 2", "PUBREC 3"]);
    assert_eq!(s.events().len(), 3);
}

// ---- 3.8 to 3.12 SUBSCRIBE, UNSUBSCRIBE, PINGREQ ----

#[test]
fn mqtt_3_8_4_1_every_subscribe_is_answered_with_a_suback() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[
            subscribe(1, vec![sub("a", QoS::AtMostOnce)]),
            subscribe(2, vec![sub("b", QoS::AtLeastOnce)]),
        ],
    );
    assert_eq!(s.events(), ["subscribe 1", "subscribe 2"]);
    s.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    s.suback(id(2), &[SubAckReason::UnspecifiedError], Default::default())
        .unwrap();
    assert_eq!(
        s.sent(),
        ["SUBACK 1 GrantedQoS0", "SUBACK 2 UnspecifiedError"]
    );
    // One answer per SUBSCRIBE: not twice, not for one that never came.
    assert_eq!(
        s.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default()),
        Err(CommandError::UnknownPacketId(id(1)))
    );
    assert!(s
        .suback(id(9), &[SubAckReason::GrantedQoS0], Default::default())
        .is_err());
    assert!(s.tx().is_empty());
}

#[test]
fn mqtt_3_8_4_2_suback_carries_the_subscribe_identifier() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[
            subscribe(0x1234, vec![sub("a", QoS::AtMostOnce)]),
            subscribe(7, vec![sub("b", QoS::AtMostOnce)]),
        ],
    );
    let _ = s.events();
    s.suback(id(7), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    s.suback(id(0x1234), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    let ids: Vec<u16> = decode_all(&s.tx())
        .iter()
        .map(|p| match p {
            Packet::SubAck(a) => a.packet_id.get(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [7, 0x1234]);
}

#[test]
fn mqtt_3_8_4_5_suback_has_one_return_code_per_filter() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[subscribe(
            1,
            vec![sub("a", QoS::AtMostOnce), sub("b", QoS::ExactlyOnce)],
        )],
    );
    let _ = s.events();
    assert_eq!(
        s.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default()),
        Err(CommandError::ReasonCountMismatch {
            got: 1,
            expected: 2
        })
    );
    assert!(s.tx().is_empty());
    s.suback(
        id(1),
        &[SubAckReason::GrantedQoS0, SubAckReason::GrantedQoS2],
        Default::default(),
    )
    .unwrap();
    assert_eq!(s.sent(), ["SUBACK 1 GrantedQoS0 GrantedQoS2"]);

    // A client receiving a SUBACK with another count closes.
    let mut c = connected_client(ClientOptions::default());
    let sid = c
        .subscribe(
            vec![sub("a", QoS::AtMostOnce), sub("b", QoS::AtMostOnce)],
            Default::default(),
        )
        .unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[Packet::SubAck(shared::SubAck::new(
            sid,
            vec![SubAckReason::GrantedQoS0],
        ))],
    );
    let ev = c.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::ReasonCountMismatch { .. }
            ))
        ),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::SubAck(_))));
}

#[test]
fn mqtt_3_9_3_1_return_codes_follow_the_filter_order() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[subscribe(
            1,
            vec![
                sub("x", QoS::AtLeastOnce),
                sub("y", QoS::ExactlyOnce),
                sub("z", QoS::AtMostOnce),
            ],
        )],
    );
    let _ = s.events();
    s.suback(
        id(1),
        &[
            SubAckReason::GrantedQoS1,
            SubAckReason::UnspecifiedError,
            SubAckReason::GrantedQoS0,
        ],
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        s.sent(),
        ["SUBACK 1 GrantedQoS1 UnspecifiedError GrantedQoS0"]
    );
    // Each code applies to the filter at its position.
    let held: Vec<(String, QoS)> = s
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
    assert_eq!(
        held,
        [
            ("x".to_string(), QoS::AtLeastOnce),
            ("z".to_string(), QoS::AtMostOnce)
        ]
    );
}

#[test]
fn mqtt_3_10_4_4_unsuback_carries_the_unsubscribe_identifier() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(
        T0,
        &[
            unsubscribe(41, vec![filter("a")]),
            unsubscribe(40, vec![filter("b"), filter("c")]),
        ],
    );
    assert_eq!(s.events(), ["unsubscribe 41", "unsubscribe 40"]);
    s.unsuback(id(40), &[], Default::default()).unwrap();
    s.unsuback(id(41), &[], Default::default()).unwrap();
    assert_eq!(s.sent(), ["UNSUBACK 40", "UNSUBACK 41"]);
    assert!(s.unsuback(id(41), &[], Default::default()).is_err());
}

#[test]
fn mqtt_3_10_4_5_unsuback_even_when_nothing_was_subscribed() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(T0, &[subscribe(1, vec![sub("kept", QoS::AtMostOnce)])]);
    let _ = s.events();
    s.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    let _ = s.tx();
    s.feed(T0, &[unsubscribe(2, vec![filter("never/subscribed")])]);
    assert_eq!(s.events(), ["unsubscribe 2"]);
    s.unsuback(id(2), &[], Default::default()).unwrap();
    assert_eq!(s.sent(), ["UNSUBACK 2"]);
    assert_eq!(s.session().subscriptions().len(), 1);
}

#[test]
fn mqtt_3_12_4_1_every_pingreq_gets_a_pingresp() {
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(T0, &[Packet::PingReq, Packet::PingReq, Packet::PingReq]);
    assert_eq!(s.sent(), ["PINGRESP", "PINGRESP", "PINGRESP"]);
    // And the client takes the PINGRESP as the answer: no timeout.
    let mut c = client_with(
        connect("c1", 5, true),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    c.handle_timeout(Instant::from_secs(5));
    assert_eq!(c.sent(), ["PINGREQ"]);
    c.feed(Instant::from_secs(6), &[Packet::PingResp]);
    c.handle_timeout(Instant::from_secs(10));
    assert_eq!(c.sent(), ["PINGREQ"]);
    c.feed(Instant::from_secs(10), &[Packet::PingResp]);
    c.handle_timeout(Instant::from_secs(30));
    assert_eq!(c.state(), ConnState::Connected);
}

// ---- 3.14 DISCONNECT ----

#[test]
fn mqtt_3_14_4_1_client_closes_after_disconnect() {
    let mut c = connected_client(ClientOptions::default());
    c.disconnect(DisconnectReason::NormalDisconnection).unwrap();
    assert_eq!(c.tx(), [0xe0, 0x00]);
    assert_eq!(c.state(), ConnState::Closed);
    assert_eq!(c.events(), ["closed disconnected NormalDisconnection"]);
}

#[test]
fn mqtt_3_14_4_2_client_sends_nothing_after_disconnect() {
    let mut c = client_with(
        connect("c1", 5, true),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    let _ = c.tx();
    c.disconnect(DisconnectReason::NormalDisconnection).unwrap();
    assert_eq!(c.sent(), ["DISCONNECT NormalDisconnection"]);
    assert_eq!(c.events(), ["closed disconnected NormalDisconnection"]);
    assert!(c.publish(msg("a", "0"), QoS::AtMostOnce).is_err());
    let _ = c.publish(msg("a", "2"), QoS::AtLeastOnce);
    assert!(c.ping().is_err());
    assert!(c
        .subscribe(vec![sub("a", QoS::AtMostOnce)], Default::default())
        .is_err());
    assert!(c.disconnect(DisconnectReason::NormalDisconnection).is_err());
    // No keep-alive, no acknowledgement of what still arrives.
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(Instant::from_secs(100));
    c.feed(
        Instant::from_secs(100),
        &[
            publish("t", "x", QoS::AtLeastOnce, 1, false),
            publish("t", "y", QoS::ExactlyOnce, 2, false),
            puback(1),
        ],
    );
    assert!(c.tx().is_empty());
    assert!(c.events().is_empty());
}

#[test]
fn mqtt_3_14_4_3_server_discards_the_will_on_disconnect() {
    let mut s = accepted_server(with_will(connect("c1", 0, false)), ServerOptions::default());
    s.feed(
        T0,
        &[Packet::Disconnect(shared::Disconnect::new(
            DisconnectReason::NormalDisconnection,
        ))],
    );
    s.handle_link_lost(T0);
    s.handle_timeout(Instant::from_secs(10_000));
    let ev = s.evs();
    assert!(
        matches!(closed_with(&ev), Some(CloseReason::PeerDisconnected(_))),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Will(_))), "{ev:?}");
    // Without the DISCONNECT the Will goes.
    let mut s = accepted_server(with_will(connect("c1", 0, false)), ServerOptions::default());
    s.handle_link_lost(T0);
    assert!(s.evs().iter().any(|e| matches!(e, Event::Will(_))));
}

// ---- 4.3 QoS flows ----

#[test]
fn mqtt_4_3_2_1_qos1_sender_keeps_the_message_until_puback() {
    let mut c = connected_client(ClientOptions::default());
    let a = c.publish(msg("a", "x"), QoS::AtLeastOnce).unwrap().unwrap();
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={a} dup=0 'a' x")]);
    assert_eq!(c.in_flight(), 1);
    // A PUBACK for another identifier does not complete it.
    c.feed(T0, &[puback(a.get() + 1)]);
    assert_eq!(c.session().outgoing().len(), 1);
    assert!(c.events().is_empty());
    c.feed(T0, &[puback(a.get())]);
    assert_eq!(c.session().outgoing().len(), 0);
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.events(), [format!("complete {a}")]);
}

#[test]
fn mqtt_4_3_2_2_qos1_receiver_acknowledges_and_treats_reuse_as_new() {
    let mut c = connected_client(ClientOptions::default());
    c.feed(T0, &[publish("t", "first", QoS::AtLeastOnce, 4, false)]);
    assert_eq!(c.sent(), ["PUBACK 4"]);
    // Same identifier after the PUBACK (even with DUP): a new message.
    c.feed(T0, &[publish("t", "second", QoS::AtLeastOnce, 4, true)]);
    assert_eq!(c.sent(), ["PUBACK 4"]);
    assert_eq!(
        c.events(),
        ["message 't' q1 first", "message 't' q1 second"]
    );
}

#[test]
fn mqtt_4_3_3_1_qos2_sender_flow() {
    let mut c = client_with(
        connect("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    let a = c.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap().unwrap();
    assert_eq!(c.sent(), [format!("PUBLISH q2 id={a} dup=0 'a' x")]);
    c.feed(T0, &[pubrec(a.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {a}")]);
    assert!(c.events().is_empty(), "not complete before PUBCOMP");
    // After PUBREL the PUBLISH is never sent again, even on a new connection.
    let rec = c.session().outgoing().next().unwrap().clone();
    assert_eq!(rec.flow(), SenderFlow::AwaitPubComp);
    assert!(rec.publish().is_none());
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(c.sent(), [format!("PUBREL {a}")]);
    c.feed(T0, &[pubcomp(a.get())]);
    let ev = c.events();
    assert_eq!(ev.last().unwrap(), &format!("complete {a}"));
    assert_eq!(c.session().outgoing().len(), 0);
}

#[test]
fn mqtt_4_3_3_2_qos2_receiver_flow() {
    let mut c = connected_client(ClientOptions::default());
    c.feed(T0, &[publish("t", "once", QoS::ExactlyOnce, 8, false)]);
    assert_eq!(c.sent(), ["PUBREC 8"]);
    assert_eq!(c.events(), ["message 't' q2 once"]);
    // Until PUBREL, a duplicate gets PUBREC again and is not delivered again.
    c.feed(T0, &[publish("t", "once", QoS::ExactlyOnce, 8, true)]);
    assert_eq!(c.sent(), ["PUBREC 8"]);
    assert!(c.events().is_empty());
    c.feed(T0, &[pubrel(8)]);
    assert_eq!(c.sent(), ["PUBCOMP 8"]);
    // Afterwards the identifier names a new message.
    c.feed(T0, &[publish("t", "again", QoS::ExactlyOnce, 8, false)]);
    assert_eq!(c.sent(), ["PUBREC 8"]);
    assert_eq!(c.events(), ["message 't' q2 again"]);
}

// ---- 4.4 to 4.8 ----

#[test]
fn mqtt_4_4_0_1_unacknowledged_publish_and_pubrel_resent_with_original_ids() {
    let mut p = v3_pair(false);
    p.connect();
    p.client.publish(msg("a", "rel"), QoS::ExactlyOnce).unwrap();
    // The PUBLISH and its PUBREC get through; the PUBREL is lost.
    p.settle_until(|l| l.starts_with("c>s PUBREL"));
    p.client.publish(msg("a", "pub"), QoS::AtLeastOnce).unwrap();
    p.server.publish(msg("b", "srv"), QoS::AtLeastOnce).unwrap();
    p.settle();
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(t.contains(&"c>s PUBREL 1"), "{t:?}");
    assert!(t.contains(&"c>s PUBLISH q1 id=2 dup=1 'a' pub"), "{t:?}");
    assert!(t.contains(&"s>c PUBLISH q1 id=1 dup=1 'b' srv"), "{t:?}");
    assert!(!t.iter().any(|l| l.contains("'a' rel")), "{t:?}");
    assert_eq!(p.received(Side::Server), ["a rel", "a pub"]);
    assert_eq!(p.received(Side::Client), ["b srv"]);
    assert!(p.client.session().outgoing().len() == 0);
}

#[test]
fn mqtt_4_5_0_2_client_acknowledges_every_publish() {
    // Automatic acknowledgement: the answers go out whatever the application does with
    // the messages (here: never looks at them).
    let mut c = connected_client(ClientOptions::default());
    c.feed(
        T0,
        &[
            publish("t", "1", QoS::AtLeastOnce, 1, false),
            publish("t", "2", QoS::ExactlyOnce, 2, false),
            publish("t", "3", QoS::AtLeastOnce, 3, false),
        ],
    );
    assert_eq!(c.sent(), ["PUBACK 1", "PUBREC 2", "PUBACK 3"]);
    c.feed(T0, &[pubrel(2)]);
    assert_eq!(c.sent(), ["PUBCOMP 2"]);
}

#[test]
fn mqtt_4_6_0_1_resent_in_the_original_order() {
    let mut c = client_with(
        connect("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let _ = c.events();
    for n in 1..=5 {
        let qos = if n % 2 == 0 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        c.publish(msg("o", &n.to_string()), qos).unwrap();
    }
    let _ = c.tx();
    // 3 is acknowledged, 4 released; the rest are resent in order.
    c.feed(T0, &[puback(3), pubrec(4)]);
    let _ = c.tx();
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(
        c.sent(),
        [
            "PUBLISH q1 id=1 dup=1 'o' 1",
            "PUBLISH q2 id=2 dup=1 'o' 2",
            "PUBREL 4",
            "PUBLISH q1 id=5 dup=1 'o' 5",
        ]
    );
}

#[test]
fn mqtt_4_6_0_2_pubacks_in_arrival_order() {
    let options = ClientOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    };
    let mut c = connected_client(options);
    c.feed(
        T0,
        &[
            publish("t", "a", QoS::AtLeastOnce, 30, false),
            publish("t", "b", QoS::AtLeastOnce, 10, false),
            publish("t", "c", QoS::AtLeastOnce, 20, false),
        ],
    );
    assert!(c.tx().is_empty());
    c.ack(id(20)).unwrap();
    c.ack(id(10)).unwrap();
    assert!(c.tx().is_empty(), "30 came first");
    c.ack(id(30)).unwrap();
    assert_eq!(c.sent(), ["PUBACK 30", "PUBACK 10", "PUBACK 20"]);
}

#[test]
fn mqtt_4_6_0_3_pubrecs_in_arrival_order() {
    let options = ClientOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    };
    let mut c = connected_client(options);
    c.feed(
        T0,
        &[
            publish("t", "a", QoS::ExactlyOnce, 3, false),
            publish("t", "b", QoS::AtLeastOnce, 1, false),
            publish("t", "c", QoS::ExactlyOnce, 2, false),
        ],
    );
    c.ack(id(2)).unwrap();
    c.ack(id(1)).unwrap();
    assert!(c.tx().is_empty());
    c.ack(id(3)).unwrap();
    assert_eq!(c.sent(), ["PUBREC 3", "PUBACK 1", "PUBREC 2"]);
}

#[test]
fn mqtt_4_6_0_4_pubrels_in_pubrec_order() {
    let mut c = connected_client(ClientOptions::default());
    for n in 1..=3 {
        c.publish(msg("a", &n.to_string()), QoS::ExactlyOnce)
            .unwrap();
    }
    let _ = c.tx();
    c.feed(T0, &[pubrec(3), pubrec(1), pubrec(2)]);
    assert_eq!(c.sent(), ["PUBREL 3", "PUBREL 1", "PUBREL 2"]);
}

#[test]
fn mqtt_4_8_0_1_protocol_violation_closes_the_connection() {
    // Client: a CONNACK once connected.
    let mut c = connected_client(ClientOptions::default());
    c.feed(
        T0,
        &[
            connack(false),
            publish("t", "late", QoS::AtLeastOnce, 1, false),
        ],
    );
    let ev = c.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::UnexpectedPacket { .. }
            ))
        ),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Message(_))));
    assert_eq!(c.state(), ConnState::Closed);
    assert!(c.tx().is_empty());

    // Server: a packet only a server sends.
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed(T0, &[Packet::PingResp, Packet::PingReq]);
    let ev = s.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(
                ProtocolError::UnexpectedPacket { .. }
            ))
        ),
        "{ev:?}"
    );
    assert!(s.tx().is_empty());

    // Server: malformed bytes (PUBLISH with QoS 3).
    let mut s = accepted_server(connect("c1", 0, true), ServerOptions::default());
    s.feed_bytes(T0, &[0x36, 0x05, 0x00, 0x01, b'a', 0x00, 0x01]);
    let ev = s.evs();
    assert!(
        matches!(
            closed_with(&ev),
            Some(CloseReason::ProtocolError(ProtocolError::Decode(_)))
        ),
        "{ev:?}"
    );
    assert_eq!(s.state(), ConnState::Closed);

    // Client: a SUBACK for a SUBSCRIBE it never sent.
    let mut c = connected_client(ClientOptions::default());
    c.feed(
        T0,
        &[Packet::SubAck(shared::SubAck::new(
            id(77),
            vec![SubAckReason::GrantedQoS0],
        ))],
    );
    assert_eq!(c.state(), ConnState::Closed);
}
