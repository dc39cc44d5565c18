//! MQTT 5.0 normative statements of level `session` (see
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
use std::num::{NonZeroU16, NonZeroU32};

use mqtt_codec::generic::Packet;
use mqtt_codec::session::{
    AckMode, AliasPolicy, Client, ClientOptions, CloseReason, CommandError, ConnState, Event,
    Incoming, Outcome, Outgoing, ProtocolError, ReceiverFlow, SenderFlow, Server, ServerOptions,
    Session, SubscriptionRecord,
};
use mqtt_codec::{
    shared, AuthReason, ConnectReason, Decoded, Decoder, Delivery, DisconnectReason, Encoder,
    Instant, MaximumQos, PacketId, PacketType, Protocol, PubAckReason, PubRecReason, QoS,
    ReasonCode, SubAckReason, UnsubAckReason,
};
use mqtt_integration_tests::pair::{describe_bytes, describe_event, Pair, Side};

const V: Protocol = Protocol::V5;
const T0: Instant = Instant::ZERO;

// ---- building packets ----

fn id(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

fn s(v: &str) -> mqtt_codec::Str<'_> {
    mqtt_codec::Str::new(v).unwrap()
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

/// A QoS 0 PUBLISH with a Topic Alias; `topic` may be empty.
fn aliased(topic: &str, alias: u16, payload: &str) -> shared::Packet {
    let topic = if topic.is_empty() {
        shared::TopicName::default()
    } else {
        shared::TopicName::new(topic.to_string()).unwrap()
    };
    let mut p = shared::Publish::new(topic, payload.as_bytes().to_vec());
    p.properties
        .set_topic_alias(NonZeroU16::new(alias).unwrap());
    Packet::Publish(p)
}

fn puback(n: u16) -> shared::Packet {
    Packet::PubAck(shared::PubAck::new(id(n)))
}

fn pubrec(n: u16) -> shared::Packet {
    Packet::PubRec(shared::PubRec::new(id(n)))
}

fn pubrec_with(n: u16, reason: PubRecReason) -> shared::Packet {
    let mut a = shared::PubRec::new(id(n));
    a.reason = reason;
    Packet::PubRec(a)
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

fn disconnect(reason: DisconnectReason) -> shared::Packet {
    Packet::Disconnect(shared::Disconnect::new(reason))
}

fn auth(reason: AuthReason, method: &str) -> shared::Packet {
    let mut properties = shared::AuthProperties::new();
    properties.set_authentication_method(s(method));
    Packet::Auth(shared::Auth { reason, properties })
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

/// A CONNECT with a Session Expiry Interval, so that the session outlives the connection.
fn lasting(client_id: &str, keep_alive: u16, clean: bool) -> shared::Connect {
    let mut c = connect(client_id, keep_alive, clean);
    c.properties.set_session_expiry_interval(3600);
    c
}

/// A CONNECT with the Authentication Method "SCRAM".
fn scram() -> shared::Connect {
    let mut c = connect("c1", 0, true);
    c.properties.set_authentication_method(s("SCRAM"));
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

fn connack_with(f: impl FnOnce(&mut shared::ConnAckProperties)) -> shared::Packet {
    let mut c = shared::ConnAck::new(ConnectReason::Success, false);
    f(&mut c.properties);
    Packet::ConnAck(c)
}

fn long(n: usize) -> String {
    "r".repeat(n)
}

fn ack_props(reason_string: &str) -> shared::AckProperties {
    let mut p = shared::AckProperties::new();
    p.set_reason_string(s(reason_string));
    p
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

/// The Topic Alias of each PUBLISH in `packets`, with its topic as sent.
fn aliases(packets: &[shared::Packet]) -> Vec<(String, Option<u16>)> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((
                p.topic.as_str().to_string(),
                p.properties.topic_alias().map(NonZeroU16::get),
            )),
            _ => None,
        })
        .collect()
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

    /// What the machine sent since the last call, decoded.
    fn packets(&mut self) -> Vec<shared::Packet> {
        decode_all(&self.tx())
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

/// A client on `session` that sent CONNECT and got `answer`.
fn client_on(
    c: shared::Connect,
    options: ClientOptions,
    session: Session,
    answer: shared::Packet,
) -> Client {
    let mut client = Client::new(c, options, session).unwrap();
    client.connect(T0).unwrap();
    let sent = client.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("CONNECT"), "{sent:?}");
    client.feed(T0, &[answer]);
    client
}

/// A client that sent CONNECT and got `answer`.
fn client_with(c: shared::Connect, options: ClientOptions, answer: shared::Packet) -> Client {
    client_on(c, options, Session::new(), answer)
}

/// A client connected with `connack`, its events drained.
fn connected(c: shared::Connect, options: ClientOptions, answer: shared::Packet) -> Client {
    let mut client = client_with(c, options, answer);
    let ev = client.events();
    assert_eq!(
        ev.first().map(String::as_str),
        Some("connected sp=0"),
        "{ev:?}"
    );
    assert_eq!(client.state(), ConnState::Connected);
    client
}

/// A connected client (Clean Start, Keep Alive 0, no properties).
fn connected_client(options: ClientOptions) -> Client {
    connected(connect("c1", 0, true), options, connack(false))
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

/// A server that accepted `c` without a stored session; CONNACK and events drained.
fn accepted(c: shared::Connect, options: ServerOptions) -> Server {
    let mut s = server_after(c, options);
    s.accept(T0, None, Default::default()).unwrap();
    let sent = s.sent();
    assert_eq!(sent, ["CONNACK sp=0 Success"]);
    assert!(s.events().is_empty());
    s
}

fn accepted_server() -> Server {
    accepted(connect("c1", 0, true), ServerOptions::default())
}

/// The reason of the last `Closed` event.
fn closed_with(events: &[Event]) -> Option<&CloseReason> {
    events.iter().rev().find_map(|e| match e {
        Event::Closed(r) => Some(r),
        _ => None,
    })
}

fn protocol_error(events: &[Event]) -> Option<&ProtocolError> {
    match closed_with(events) {
        Some(CloseReason::ProtocolError(e)) => Some(e),
        _ => None,
    }
}

fn outgoing_q1(n: u16, topic: &str, payload: &str) -> Outgoing {
    let mut p = msg(topic, payload);
    p.delivery = Delivery::new(QoS::AtLeastOnce, PacketId::new(n), false).unwrap();
    Outgoing::new(id(n), SenderFlow::AwaitPubAck, Some(p), true).unwrap()
}

/// A session holding outgoing QoS 1 messages `ids` (already sent once), in that order.
fn session_with_outgoing(ids: &[u16]) -> Session {
    Session::restore(
        ids.iter().map(|&n| outgoing_q1(n, "s", &n.to_string())),
        [],
        [],
    )
    .unwrap()
}

fn v5_pair(client: ClientOptions, server: ServerOptions) -> Pair {
    Pair::new(lasting("c1", 0, false), client, server)
}

fn manual() -> ClientOptions {
    ClientOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    }
}

fn manual_server() -> ServerOptions {
    ServerOptions {
        ack_mode: AckMode::Manual,
        ..Default::default()
    }
}

fn lru(max: u16) -> AliasPolicy {
    AliasPolicy::LeastRecentlyUsed { max }
}

// ---- 2.2.1 Packet Identifier ----

#[test]
fn mqtt_2_2_1_3_client_identifiers_not_in_use() {
    // The session holds identifiers 5 and 1, in that order.
    let mut c = client_on(
        lasting("c1", 0, false),
        ClientOptions::default(),
        session_with_outgoing(&[5, 1]),
        connack(true),
    );
    let _ = c.events();
    assert_eq!(
        c.sent(),
        ["PUBLISH q1 id=5 dup=1 's' 5", "PUBLISH q1 id=1 dup=1 's' 1"]
    );
    let mut ids = vec![
        c.publish(msg("a", "x"), QoS::AtLeastOnce).unwrap().unwrap(),
        c.subscribe(vec![sub("a", QoS::AtMostOnce)], Default::default())
            .unwrap(),
        c.publish(msg("a", "y"), QoS::ExactlyOnce).unwrap().unwrap(),
        c.unsubscribe(vec![filter("a")], Default::default())
            .unwrap(),
        c.publish(msg("a", "z"), QoS::AtLeastOnce).unwrap().unwrap(),
    ];
    let unique: HashSet<PacketId> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    ids.retain(|i| [1, 5].contains(&i.get()));
    assert!(ids.is_empty(), "{ids:?} still in use");
}

#[test]
fn mqtt_2_2_1_4_server_identifiers_not_in_use() {
    let mut sv = server_after(lasting("c1", 0, false), ServerOptions::default());
    sv.accept(T0, Some(session_with_outgoing(&[3, 1])), Default::default())
        .unwrap();
    let _ = sv.tx();
    let ids: Vec<u16> = (0..4)
        .map(|_| {
            sv.publish(msg("t", "x"), QoS::ExactlyOnce)
                .unwrap()
                .unwrap()
                .get()
        })
        .collect();
    assert!(!ids.contains(&1) && !ids.contains(&3), "{ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 4, "{ids:?}");
}

#[test]
fn mqtt_2_2_1_5_acknowledgements_carry_the_publish_identifier() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[
            publish("t", "1", QoS::AtLeastOnce, 11, false),
            publish("t", "2", QoS::ExactlyOnce, 12, false),
        ],
    );
    assert_eq!(sv.sent(), ["PUBACK 11", "PUBREC 12"]);
    sv.feed(T0, &[pubrel(12)]);
    assert_eq!(sv.sent(), ["PUBCOMP 12"]);
    let a = sv
        .publish(msg("t", "x"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    let _ = sv.tx();
    sv.feed(T0, &[pubrec(a.get())]);
    assert_eq!(sv.sent(), [format!("PUBREL {a}")]);
}

#[test]
fn mqtt_2_2_1_6_suback_and_unsuback_carry_the_request_identifier() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[
            subscribe(9, vec![sub("a", QoS::AtMostOnce)]),
            unsubscribe(8, vec![filter("a")]),
        ],
    );
    let _ = sv.events();
    sv.unsuback(
        id(8),
        &[UnsubAckReason::NoSubscriptionExisted],
        Default::default(),
    )
    .unwrap();
    sv.suback(id(9), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    assert_eq!(
        sv.sent(),
        ["UNSUBACK 8 NoSubscriptionExisted", "SUBACK 9 GrantedQoS0"]
    );
}

// ---- 3.1 CONNECT ----

#[test]
fn mqtt_3_1_0_2_second_connect_is_a_protocol_error() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[Packet::Connect(connect("c1", 0, true)), Packet::PingReq],
    );
    let ev = sv.evs();
    assert!(
        matches!(
            protocol_error(&ev),
            Some(ProtocolError::UnexpectedPacket {
                packet: PacketType::Connect,
                ..
            })
        ),
        "{ev:?}"
    );
    assert_eq!(sv.sent(), ["DISCONNECT ProtocolError"]);
    assert_eq!(sv.state(), ConnState::Closed);
}

#[test]
fn mqtt_3_1_2_4_clean_start_discards_the_session_on_both_sides() {
    // Client.
    let mut c = connected(
        lasting("c1", 0, true),
        ClientOptions::default(),
        connack(false),
    );
    c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    c.feed(T0, &[publish("t", "x", QoS::ExactlyOnce, 4, false)]);
    let _ = c.tx();
    let _ = c.events();
    c.handle_link_lost(T0);
    assert_eq!(c.session().outgoing().len(), 1);
    assert_eq!(c.session().incoming().len(), 1);
    c.connect(T0).unwrap();
    assert_eq!(c.sent(), ["CONNECT clean=1 ka=0 id=c1"]);
    assert!(c.session().is_empty());
    c.feed(T0, &[connack(false)]);
    assert!(c.sent().is_empty());
    // The old identifier 4 is a new message now.
    c.feed(T0, &[publish("t", "y", QoS::ExactlyOnce, 4, false)]);
    assert!(c.events().contains(&"message 't' q2 y".to_string()));

    // Server: the stored session (a message, a subscription) is not used.
    let mut stored = session_with_outgoing(&[2]);
    stored = Session::restore(
        stored.outgoing().cloned(),
        [],
        [SubscriptionRecord {
            subscription: sub("old/#", QoS::AtLeastOnce),
            identifier: None,
        }],
    )
    .unwrap();
    let mut sv = server_after(lasting("c1", 0, true), ServerOptions::default());
    sv.accept(T0, Some(stored), Default::default()).unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=0 Success"]);
    assert!(sv.session().is_empty());
}

#[test]
fn mqtt_3_1_2_5_clean_start_0_resumes_the_stored_session() {
    let stored = Session::restore(
        [outgoing_q1(3, "s", "kept")],
        [Incoming {
            packet_id: id(7),
            flow: ReceiverFlow::AwaitPubRel,
        }],
        [SubscriptionRecord {
            subscription: sub("old/#", QoS::AtLeastOnce),
            identifier: None,
        }],
    )
    .unwrap();
    let mut sv = server_after(lasting("c1", 0, false), ServerOptions::default());
    sv.accept(T0, Some(stored), Default::default()).unwrap();
    assert_eq!(
        sv.sent(),
        ["CONNACK sp=1 Success", "PUBLISH q1 id=3 dup=1 's' kept"]
    );
    assert_eq!(sv.session().subscriptions().len(), 1);
    // The QoS 2 message 7 was received on the earlier connection: a resend is a
    // duplicate.
    sv.feed(T0, &[publish("t", "dup", QoS::ExactlyOnce, 7, true)]);
    assert_eq!(sv.sent(), ["PUBREC 7"]);
    assert!(sv.events().is_empty());
    sv.feed(T0, &[pubrel(7), puback(3)]);
    assert_eq!(sv.sent(), ["PUBCOMP 7"]);
    assert_eq!(sv.events(), ["complete 3"]);
}

#[test]
fn mqtt_3_1_2_6_clean_start_0_without_session_creates_one() {
    let mut sv = server_after(lasting("c1", 0, false), ServerOptions::default());
    sv.accept(T0, None, Default::default()).unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=0 Success"]);
    assert!(sv.session().is_empty());
    // The new session collects state and outlives the connection.
    sv.feed(T0, &[subscribe(1, vec![sub("n/#", QoS::AtLeastOnce)])]);
    sv.suback(id(1), &[SubAckReason::GrantedQoS1], Default::default())
        .unwrap();
    sv.publish(msg("n/1", "x"), QoS::AtLeastOnce).unwrap();
    sv.handle_link_lost(T0);
    let ev = sv.events();
    assert!(!ev.contains(&"session expired".to_string()), "{ev:?}");
    let kept = sv.take_session();
    assert_eq!(kept.subscriptions().len(), 1);
    assert_eq!(kept.outgoing().len(), 1);
}

#[test]
fn mqtt_3_1_2_20_client_sends_pingreq_when_idle_for_keep_alive() {
    let mut c = connected(
        connect("c1", 20, true),
        ClientOptions::default(),
        connack(false),
    );
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(20)));
    c.handle_timeout(Instant::from_millis(19_999));
    assert!(c.tx().is_empty());
    c.handle_timeout(Instant::from_secs(20));
    assert_eq!(c.sent(), ["PINGREQ"]);
    c.feed(Instant::from_secs(21), &[Packet::PingResp]);
    // Sending something else restarts the count.
    c.handle_timeout(Instant::from_secs(30));
    c.publish(msg("a", "x"), QoS::AtMostOnce).unwrap();
    let _ = c.tx();
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(50)));
    c.handle_timeout(Instant::from_secs(40));
    assert!(c.tx().is_empty());
    c.handle_timeout(Instant::from_secs(50));
    assert_eq!(c.sent(), ["PINGREQ"]);
}

#[test]
fn mqtt_3_1_2_21_client_uses_the_server_keep_alive() {
    let mut c = connected(
        connect("c1", 60, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_server_keep_alive(5);
        }),
    );
    assert_eq!(c.keep_alive(), 5);
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(5)));
    c.handle_timeout(Instant::from_secs(5));
    assert_eq!(c.sent(), ["PINGREQ"]);
}

#[test]
fn mqtt_3_1_2_22_server_closes_after_one_and_a_half_keep_alive() {
    let mut sv = accepted(with_will(connect("c1", 4, true)), ServerOptions::default());
    assert_eq!(sv.poll_timeout(), Some(Instant::from_secs(6)));
    sv.feed(Instant::from_secs(2), &[Packet::PingReq]);
    assert_eq!(sv.sent(), ["PINGRESP"]);
    sv.handle_timeout(Instant::from_millis(7_999));
    assert_eq!(sv.state(), ConnState::Connected);
    sv.handle_timeout(Instant::from_secs(8));
    assert_eq!(sv.state(), ConnState::Closed);
    let ev = sv.evs();
    assert_eq!(closed_with(&ev), Some(&CloseReason::KeepAliveTimeout));
    // As if the network failed: the Will is published.
    assert!(ev.iter().any(|e| matches!(e, Event::Will(_))), "{ev:?}");
    let sent = sv.sent();
    assert!(
        sent.is_empty() || sent == ["DISCONNECT KeepAliveTimeout"],
        "{sent:?}"
    );
}

#[test]
fn mqtt_3_1_2_23_session_outlives_the_connection_for_its_expiry_interval() {
    let mut c = connect("c1", 0, false);
    c.properties.set_session_expiry_interval(60);
    let mut sv = accepted(c, ServerOptions::default());
    sv.publish(msg("t", "x"), QoS::AtLeastOnce).unwrap();
    sv.handle_link_lost(Instant::from_secs(10));
    let _ = sv.events();
    assert_eq!(sv.poll_timeout(), Some(Instant::from_secs(70)));
    sv.handle_timeout(Instant::from_millis(69_999));
    assert!(sv.events().is_empty());
    assert_eq!(sv.session().outgoing().len(), 1);
    sv.handle_timeout(Instant::from_secs(70));
    assert_eq!(sv.events(), ["session expired"]);

    // With an interval of 0 the session ends with the connection.
    let mut sv = accepted(connect("c1", 0, false), ServerOptions::default());
    sv.handle_link_lost(T0);
    assert_eq!(sv.poll_timeout(), Some(T0));
    sv.handle_timeout(T0);
    assert_eq!(sv.events(), ["closed link-lost", "session expired"]);

    // The client keeps its state after the connection closed.
    let mut cl = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    cl.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap();
    cl.handle_link_lost(T0);
    assert_eq!(cl.session().outgoing().len(), 1);
}

#[test]
fn mqtt_3_1_2_24_server_never_exceeds_the_client_maximum_packet_size() {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_maximum_packet_size(NonZeroU32::new(40).unwrap());
    let mut sv = accepted(c, ServerOptions::default());
    let big = long(60);
    assert!(matches!(
        sv.publish(msg("t", &big), QoS::AtMostOnce),
        Err(CommandError::PacketTooLarge { max: 40, .. })
    ));
    assert!(matches!(
        sv.publish(msg("t", &big), QoS::AtLeastOnce),
        Err(CommandError::PacketTooLarge { max: 40, .. })
    ));
    assert!(sv.tx().is_empty());
    assert_eq!(sv.session().outgoing().len(), 0);
    sv.publish(msg("t", "small"), QoS::AtLeastOnce).unwrap();
    // Answers the machine builds are trimmed to fit.
    sv.feed(T0, &[subscribe(1, vec![sub("a", QoS::AtMostOnce)])]);
    sv.suback(id(1), &[SubAckReason::GrantedQoS0], ack_props(&long(100)))
        .unwrap();
    let bytes = sv.tx();
    assert_eq!(
        describe_bytes(&bytes, V),
        ["PUBLISH q1 id=1 dup=0 't' small", "SUBACK 1 GrantedQoS0"]
    );
    for p in decode_all(&bytes) {
        assert!(p.encoded_len(V).unwrap() <= 40, "{p:?}");
    }
}

#[test]
fn mqtt_3_1_2_25_too_large_message_is_dropped_not_sent() {
    // A message of the stored session no longer fits the client's new Maximum Packet
    // Size: it is never sent, and its flow ends.
    let mut p = msg("t", &long(100));
    p.delivery = Delivery::new(QoS::AtLeastOnce, PacketId::new(1), false).unwrap();
    let big = Outgoing::new(id(1), SenderFlow::AwaitPubAck, Some(p), true).unwrap();
    let stored = Session::restore([big, outgoing_q1(2, "t", "small")], [], []).unwrap();
    let mut c = lasting("c1", 0, false);
    c.properties
        .set_maximum_packet_size(NonZeroU32::new(50).unwrap());
    let mut sv = server_after(c, ServerOptions::default());
    sv.accept(T0, Some(stored), Default::default()).unwrap();
    assert_eq!(
        sv.sent(),
        ["CONNACK sp=1 Success", "PUBLISH q1 id=2 dup=1 't' small"]
    );
    let ev = sv.evs();
    assert!(
        ev.contains(&Event::PublishComplete {
            packet_id: id(1),
            outcome: Outcome::Dropped
        }),
        "{ev:?}"
    );
    assert_eq!(sv.session().outgoing().len(), 1);
}

#[test]
fn mqtt_3_1_2_26_server_alias_within_the_client_topic_alias_maximum() {
    let mut c = connect("c1", 0, true);
    c.properties.set_topic_alias_maximum(2);
    let options = ServerOptions {
        alias_policy: lru(10),
        ..Default::default()
    };
    let mut sv = accepted(c, options);
    for t in ["a", "b", "c", "a", "d", "b"] {
        sv.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    let sent = aliases(&sv.packets());
    assert_eq!(sent.len(), 6);
    assert!(
        sent.iter().all(|(_, a)| matches!(a, Some(1..=2))),
        "{sent:?}"
    );
}

#[test]
fn mqtt_3_1_2_27_no_client_topic_alias_maximum_means_no_server_alias() {
    let options = ServerOptions {
        alias_policy: lru(10),
        ..Default::default()
    };
    let mut sv = accepted(connect("c1", 0, true), options);
    for t in ["a", "a", "b", "a"] {
        sv.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    sv.publish(msg("a", "y"), QoS::AtLeastOnce).unwrap();
    let sent = aliases(&sv.packets());
    assert_eq!(
        sent,
        [
            ("a".to_string(), None),
            ("a".to_string(), None),
            ("b".to_string(), None),
            ("a".to_string(), None),
            ("a".to_string(), None),
        ]
    );
}

#[test]
fn mqtt_3_1_2_28_no_response_information_unless_requested() {
    let mut props = shared::ConnAckProperties::new();
    props.set_response_information(s("reply/here"));
    // Not requested: not sent.
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    sv.accept(T0, None, props.clone()).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.properties.response_information(), None);
    // Requested: sent.
    let mut c = connect("c1", 0, true);
    c.properties.set_request_response_information(true);
    let mut sv = server_after(c, ServerOptions::default());
    sv.accept(T0, None, props).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(
        ack.properties
            .response_information()
            .map(|r| r.get().to_string()),
        Some("reply/here".to_string())
    );
}

#[test]
fn mqtt_3_1_2_29_no_problem_information_unless_requested() {
    let mut c = connect("c1", 0, true);
    c.properties.set_request_problem_information(false);
    let mut sv = accepted(c, manual_server());
    sv.feed(
        T0,
        &[
            subscribe(1, vec![sub("a", QoS::AtMostOnce)]),
            publish("t", "x", QoS::AtLeastOnce, 2, false),
        ],
    );
    let _ = sv.events();
    let mut props = ack_props("why");
    props.add_user_property("k", "v").unwrap();
    sv.suback(id(1), &[SubAckReason::GrantedQoS0], props.clone())
        .unwrap();
    sv.ack_with(id(2), 0x10, props).unwrap();
    let packets = sv.packets();
    assert_eq!(packets.len(), 2);
    for p in &packets {
        let (reason, users) = match p {
            Packet::SubAck(a) => (
                a.properties.reason_string(),
                a.properties.user_properties().count(),
            ),
            Packet::PubAck(a) => (
                a.properties.reason_string(),
                a.properties.user_properties().count(),
            ),
            other => panic!("{other:?}"),
        };
        assert_eq!((reason, users), (None, 0), "{p:?}");
    }
    // DISCONNECT may still carry them.
    let mut d = shared::Disconnect::new(DisconnectReason::AdministrativeAction);
    d.properties.set_reason_string(s("maintenance"));
    sv.disconnect_with(d).unwrap();
    let packets = sv.packets();
    let [Packet::Disconnect(d)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(
        d.properties.reason_string().map(|r| r.get().to_string()),
        Some("maintenance".to_string())
    );
}

#[test]
fn mqtt_3_1_2_30_client_sends_only_auth_or_disconnect_before_connack() {
    let mut c = Client::new(scram(), manual(), Session::new()).unwrap();
    c.connect(T0).unwrap();
    assert_eq!(c.sent(), ["CONNECT clean=1 ka=0 id=c1"]);
    assert!(c.publish(msg("a", "0"), QoS::AtMostOnce).is_err());
    // A QoS 1 message may be published, but it waits.
    let q1 = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    assert!(c
        .subscribe(vec![sub("a", QoS::AtMostOnce)], Default::default())
        .is_err());
    assert!(c
        .unsubscribe(vec![filter("a")], Default::default())
        .is_err());
    assert!(c.ping().is_err());
    assert!(c.tx().is_empty(), "nothing but AUTH before CONNACK");
    c.feed(T0, &[auth(AuthReason::ContinueAuthentication, "SCRAM")]);
    assert_eq!(c.events(), ["auth ContinueAuthentication"]);
    c.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    assert_eq!(c.sent(), ["AUTH ContinueAuthentication"]);
    // Once CONNACK came, the rest may go.
    c.feed(
        T0,
        &[connack_with(|p| {
            p.set_authentication_method(s("SCRAM"));
        })],
    );
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={q1} dup=0 'a' 1")]);
    // DISCONNECT is allowed before CONNACK.
    let mut c = Client::new(scram(), ClientOptions::default(), Session::new()).unwrap();
    c.connect(T0).unwrap();
    let _ = c.tx();
    c.disconnect(DisconnectReason::NormalDisconnection).unwrap();
    assert_eq!(c.sent(), ["DISCONNECT NormalDisconnection"]);
}

#[test]
fn mqtt_3_1_3_7_assigned_client_identifier() {
    let mut sv = server_after(connect("", 0, true), ServerOptions::default());
    // The application's, when it gives one.
    let mut props = shared::ConnAckProperties::new();
    props.set_assigned_client_identifier(s("auto-7"));
    sv.accept(T0, None, props).unwrap();
    assert_eq!(sv.client_id(), "auto-7");
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(
        ack.properties
            .assigned_client_identifier()
            .map(|i| i.get().to_string()),
        Some("auto-7".to_string())
    );
    // The client resumes under the assigned identifier.
    let mut c = client_with(
        connect("", 0, false),
        ClientOptions::default(),
        Packet::ConnAck(ack.clone()),
    );
    assert_eq!(c.client_id(), "auto-7");
    c.reconnect(T0).unwrap();
    assert_eq!(c.sent(), ["CONNECT clean=0 ka=0 id=auto-7"]);
    // Without one from the application, the machine makes one, different each time.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut sv = server_after(connect("", 0, true), ServerOptions::default());
        sv.accept(T0, None, Default::default()).unwrap();
        let packets = sv.packets();
        let [Packet::ConnAck(ack)] = packets.as_slice() else {
            panic!("{packets:?}")
        };
        let assigned = ack.properties.assigned_client_identifier().unwrap();
        assert!(!assigned.get().is_empty());
        assert_eq!(sv.client_id(), assigned.get());
        ids.push(assigned.get().to_string());
    }
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn mqtt_3_1_4_5_accepted_connect_gets_connack_success() {
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    sv.accept(T0, None, Default::default()).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.reason, ConnectReason::Success);
    assert_eq!(sv.state(), ConnState::Connected);
}

#[test]
fn mqtt_3_1_4_6_nothing_but_auth_processed_after_a_refused_connect() {
    let mut sv = Server::new(T0, ServerOptions::default());
    sv.feed(
        T0,
        &[
            Packet::Connect(scram()),
            auth(AuthReason::ContinueAuthentication, "SCRAM"),
            publish("a", "x", QoS::AtLeastOnce, 1, false),
            subscribe(2, vec![sub("a", QoS::AtMostOnce)]),
            Packet::PingReq,
        ],
    );
    // AUTH is read while the application decides; the rest is not.
    assert_eq!(
        sv.events(),
        ["connect id=c1", "auth ContinueAuthentication"]
    );
    assert!(sv.tx().is_empty());
    sv.refuse(T0, ConnectReason::NotAuthorized).unwrap();
    sv.feed(T0, &[Packet::PingReq]);
    assert_eq!(sv.sent(), ["CONNACK sp=0 NotAuthorized"]);
    assert_eq!(sv.events(), ["closed refused NotAuthorized"]);
}

// ---- 3.2 CONNACK ----

#[test]
fn mqtt_3_2_0_1_connack_before_anything_but_auth() {
    let mut sv = server_after(scram(), ServerOptions::default());
    assert!(sv.publish(msg("a", "x"), QoS::AtMostOnce).is_err());
    assert!(sv
        .disconnect(DisconnectReason::NormalDisconnection)
        .is_err());
    sv.feed(
        T0,
        &[
            Packet::PingReq,
            publish("b", "y", QoS::AtLeastOnce, 1, false),
        ],
    );
    assert!(sv.tx().is_empty());
    // AUTH may come first.
    sv.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    assert_eq!(sv.sent(), ["AUTH ContinueAuthentication"]);
    sv.accept(T0, None, Default::default()).unwrap();
    let sent = sv.sent();
    assert_eq!(sent[0], "CONNACK sp=0 Success");
    assert!(sent.contains(&"PINGRESP".to_string()), "{sent:?}");
    assert!(sent.contains(&"PUBACK 1".to_string()), "{sent:?}");
}

#[test]
fn mqtt_3_2_0_1_message_published_before_connack_follows_it() {
    // `publish` at QoS 1 is allowed in any state: the message must wait for CONNACK, not
    // go before it, and not vanish.
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    let early = sv.publish(msg("a", "early"), QoS::AtLeastOnce);
    assert!(sv.tx().is_empty());
    sv.accept(T0, None, Default::default()).unwrap();
    let sent = sv.sent();
    assert_eq!(sent[0], "CONNACK sp=0 Success");
    if let Ok(Some(early)) = early {
        assert_eq!(
            sent[1..],
            [format!("PUBLISH q1 id={early} dup=0 'a' early")],
            "the message accepted before CONNACK was lost"
        );
    }
}

#[test]
fn mqtt_3_2_0_2_at_most_one_connack() {
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    sv.accept(T0, None, Default::default()).unwrap();
    assert!(sv.accept(T0, None, Default::default()).is_err());
    assert!(sv.refuse(T0, ConnectReason::NotAuthorized).is_err());
    // A violation after CONNACK is answered with DISCONNECT, not a second CONNACK.
    sv.feed(T0, &[Packet::Connect(connect("c1", 0, true))]);
    assert_eq!(
        sv.sent(),
        ["CONNACK sp=0 Success", "DISCONNECT ProtocolError"]
    );
    // Refused: one CONNACK too.
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    sv.refuse(T0, ConnectReason::Banned).unwrap();
    assert!(sv.refuse(T0, ConnectReason::Banned).is_err());
    assert!(sv.accept(T0, None, Default::default()).is_err());
    assert_eq!(sv.sent(), ["CONNACK sp=0 Banned"]);
}

#[test]
fn mqtt_3_2_2_2_clean_start_connack_has_session_present_0() {
    let mut sv = server_after(lasting("c1", 0, true), ServerOptions::default());
    sv.accept(T0, Some(session_with_outgoing(&[1])), Default::default())
        .unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=0 Success"]);
}

#[test]
fn mqtt_3_2_2_3_session_present_says_whether_a_session_was_resumed() {
    let mut sv = server_after(lasting("c1", 0, false), ServerOptions::default());
    sv.accept(T0, Some(Session::new()), Default::default())
        .unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=1 Success"]);
    let mut sv = server_after(lasting("c1", 0, false), ServerOptions::default());
    sv.accept(T0, None, Default::default()).unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=0 Success"]);
}

#[test]
fn mqtt_3_2_2_4_session_present_without_session_closes() {
    let mut c = client_with(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack(true),
    );
    let ev = c.evs();
    assert_eq!(
        protocol_error(&ev),
        Some(&ProtocolError::SessionPresentOnCleanStart)
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Connected(_))));
    assert_eq!(c.state(), ConnState::Closed);
    assert_eq!(c.sent(), ["DISCONNECT ProtocolError"]);
}

#[test]
fn mqtt_3_2_2_5_session_present_0_discards_the_client_session() {
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let a = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    c.feed(T0, &[publish("t", "first", QoS::ExactlyOnce, 9, false)]);
    let _ = c.tx();
    let _ = c.events();
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(false)]);
    let ev = c.evs();
    assert!(
        ev.contains(&Event::PublishComplete {
            packet_id: a,
            outcome: Outcome::SessionLost
        }),
        "{ev:?}"
    );
    assert!(c.session().is_empty());
    assert!(c.tx().is_empty(), "nothing of the old session resent");
    // Identifier 9 names a new message now.
    c.feed(T0, &[publish("t", "second", QoS::ExactlyOnce, 9, false)]);
    assert_eq!(c.sent(), ["PUBREC 9"]);
    assert_eq!(c.events(), ["message 't' q2 second"]);
}

#[test]
fn mqtt_3_2_2_7_error_connack_closes_the_connection() {
    for reason in [
        ConnectReason::UnspecifiedError,
        ConnectReason::BadUserNameOrPassword,
        ConnectReason::ServerBusy,
        ConnectReason::QuotaExceeded,
    ] {
        let mut sv = server_after(connect("c1", 10, true), ServerOptions::default());
        sv.refuse(T0, reason).unwrap();
        assert_eq!(sv.sent(), [format!("CONNACK sp=0 {reason:?}")]);
        assert_eq!(sv.state(), ConnState::Closed);
        assert_eq!(sv.poll_timeout(), None);
        sv.feed(T0, &[Packet::PingReq]);
        assert!(sv.tx().is_empty());
    }
}

#[test]
fn mqtt_3_2_2_9_server_announces_its_maximum_qos() {
    for (max, announced) in [
        (QoS::AtMostOnce, Some(MaximumQos::AtMostOnce)),
        (QoS::AtLeastOnce, Some(MaximumQos::AtLeastOnce)),
        (QoS::ExactlyOnce, None),
    ] {
        let options = ServerOptions {
            maximum_qos: max,
            ..Default::default()
        };
        let mut sv = server_after(connect("c1", 0, true), options);
        sv.accept(T0, None, Default::default()).unwrap();
        let packets = sv.packets();
        let [Packet::ConnAck(ack)] = packets.as_slice() else {
            panic!("{packets:?}")
        };
        assert_eq!(ack.properties.maximum_qos(), announced);
    }
    // And holds the client to it.
    let options = ServerOptions {
        maximum_qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    let mut sv = accepted(connect("c1", 0, true), options);
    sv.feed(T0, &[publish("t", "x", QoS::ExactlyOnce, 1, false)]);
    assert_eq!(sv.sent(), ["DISCONNECT QoSNotSupported"]);
    assert!(!sv.evs().iter().any(|e| matches!(e, Event::Message(_))));
}

#[test]
fn mqtt_3_2_2_11_client_never_publishes_above_the_maximum_qos() {
    let mut c = Client::new(
        lasting("c1", 0, false),
        ClientOptions::default(),
        Session::new(),
    )
    .unwrap();
    // Queued before the limit was known.
    let early = c
        .publish(msg("a", "early"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    c.connect(T0).unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[connack_with(|p| {
            p.set_maximum_qos(MaximumQos::AtLeastOnce);
        })],
    );
    assert!(c.tx().is_empty());
    let ev = c.evs();
    assert!(
        ev.contains(&Event::PublishComplete {
            packet_id: early,
            outcome: Outcome::Dropped
        }),
        "{ev:?}"
    );
    assert_eq!(
        c.publish(msg("a", "x"), QoS::ExactlyOnce),
        Err(CommandError::QosNotSupported {
            qos: QoS::ExactlyOnce,
            max: QoS::AtLeastOnce
        })
    );
    assert!(c.tx().is_empty());
    let q1 = c.publish(msg("a", "y"), QoS::AtLeastOnce).unwrap().unwrap();
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={q1} dup=0 'a' y")]);
}

#[test]
fn mqtt_3_2_2_14_no_retained_publish_when_retain_is_unavailable() {
    let mut c = connected(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_retain_available(false);
        }),
    );
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut m = msg("a", "x");
        m.retain = true;
        assert_eq!(c.publish(m, qos), Err(CommandError::RetainNotSupported));
    }
    assert!(c.tx().is_empty());
    c.publish(msg("a", "y"), QoS::AtMostOnce).unwrap();
    assert_eq!(c.sent(), ["PUBLISH q0 'a' y"]);
}

#[test]
fn mqtt_3_2_2_15_client_never_exceeds_the_server_maximum_packet_size() {
    let mut c = Client::new(
        lasting("c1", 0, false),
        ClientOptions::default(),
        Session::new(),
    )
    .unwrap();
    let early = c
        .publish(msg("a", &long(100)), QoS::AtLeastOnce)
        .unwrap()
        .unwrap();
    c.connect(T0).unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[connack_with(|p| {
            p.set_maximum_packet_size(NonZeroU32::new(32).unwrap());
        })],
    );
    assert!(c.tx().is_empty());
    assert!(c.evs().contains(&Event::PublishComplete {
        packet_id: early,
        outcome: Outcome::Dropped
    }));
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        assert!(matches!(
            c.publish(msg("a", &long(100)), qos),
            Err(CommandError::PacketTooLarge { max: 32, .. })
        ));
    }
    assert!(matches!(
        c.subscribe(vec![sub(&long(100), QoS::AtMostOnce)], Default::default()),
        Err(CommandError::PacketTooLarge { .. })
    ));
    let mut d = shared::Disconnect::new(DisconnectReason::NormalDisconnection);
    d.properties.set_reason_string(s(&long(100)));
    c.publish(msg("a", "ok"), QoS::AtMostOnce).unwrap();
    c.disconnect_with(d).unwrap();
    let bytes = c.tx();
    assert_eq!(
        describe_bytes(&bytes, V),
        ["PUBLISH q0 'a' ok", "DISCONNECT NormalDisconnection"]
    );
    for p in decode_all(&bytes) {
        assert!(p.encoded_len(V).unwrap() <= 32);
    }
}

#[test]
fn mqtt_3_2_2_17_client_alias_within_the_server_topic_alias_maximum() {
    let options = ClientOptions {
        alias_policy: lru(10),
        ..Default::default()
    };
    let mut c = connected(
        connect("c1", 0, true),
        options,
        connack_with(|p| {
            p.set_topic_alias_maximum(3);
        }),
    );
    for t in ["a", "b", "c", "d", "a", "e", "b"] {
        c.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    let sent = aliases(&c.packets());
    assert_eq!(sent.len(), 7);
    assert!(
        sent.iter().all(|(_, a)| matches!(a, Some(1..=3))),
        "{sent:?}"
    );
}

#[test]
fn mqtt_3_2_2_18_no_server_topic_alias_maximum_means_no_client_alias() {
    let options = ClientOptions {
        alias_policy: lru(10),
        ..Default::default()
    };
    let mut c = connected(connect("c1", 0, true), options, connack(false));
    for t in ["a", "a", "b"] {
        c.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    c.publish(msg("a", "y"), QoS::AtLeastOnce).unwrap();
    let sent = aliases(&c.packets());
    assert!(
        sent.iter().all(|(t, a)| a.is_none() && !t.is_empty()),
        "{sent:?}"
    );
    assert_eq!(sent.len(), 4);
}

#[test]
fn mqtt_3_2_2_19_connack_reason_string_dropped_when_too_large() {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_maximum_packet_size(NonZeroU32::new(30).unwrap());
    let mut sv = server_after(c, ServerOptions::default());
    let mut props = shared::ConnAckProperties::new();
    props.set_reason_string(s(&long(60)));
    sv.accept(T0, None, props).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.reason, ConnectReason::Success);
    assert_eq!(ack.properties.reason_string(), None);
    assert!(packets[0].encoded_len(V).unwrap() <= 30);
}

#[test]
fn mqtt_3_2_2_21_server_keep_alive_overrides_the_client_keep_alive() {
    // A Server Keep Alive of 0 turns the client's keep-alive off.
    let mut c = connected(
        connect("c1", 30, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_server_keep_alive(0);
        }),
    );
    assert_eq!(c.keep_alive(), 0);
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(Instant::from_secs(100));
    assert!(c.tx().is_empty());
    // The server announces it and holds the client to it.
    let options = ServerOptions {
        server_keep_alive: Some(20),
        ..Default::default()
    };
    let mut sv = server_after(connect("c1", 0, true), options);
    sv.accept(T0, None, Default::default()).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.properties.server_keep_alive(), Some(20));
    assert_eq!(sv.keep_alive(), 20);
    sv.handle_timeout(Instant::from_millis(29_999));
    assert_eq!(sv.state(), ConnState::Connected);
    sv.handle_timeout(Instant::from_secs(30));
    assert_eq!(sv.state(), ConnState::Closed);
}

#[test]
fn mqtt_3_2_2_22_server_uses_the_client_keep_alive_without_server_keep_alive() {
    let mut sv = server_after(connect("c1", 8, true), ServerOptions::default());
    sv.accept(T0, None, Default::default()).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.properties.server_keep_alive(), None);
    assert_eq!(sv.keep_alive(), 8);
    sv.handle_timeout(Instant::from_millis(11_999));
    assert_eq!(sv.state(), ConnState::Connected);
    sv.handle_timeout(Instant::from_secs(12));
    assert_eq!(sv.state(), ConnState::Closed);
}

// ---- 3.3 PUBLISH ----

#[test]
fn mqtt_3_3_1_1_dup_is_set_on_redelivery_only() {
    let mut p = v5_pair(ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.clear_log();
    p.link_up = false;
    let mut m = msg("a", "1");
    m.delivery = Delivery::ExactlyOnce {
        packet_id: id(99),
        dup: true,
    };
    p.client.publish(m, QoS::ExactlyOnce).unwrap();
    p.server.publish(msg("b", "2"), QoS::AtLeastOnce).unwrap();
    p.settle();
    assert_eq!(
        p.transcript(),
        [
            "c>s PUBLISH q2 id=1 dup=0 'a' 1 (lost)",
            "s>c PUBLISH q1 id=1 dup=0 'b' 2 (lost)",
        ]
    );
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(t.contains(&"c>s PUBLISH q2 id=1 dup=1 'a' 1"), "{t:?}");
    assert!(t.contains(&"s>c PUBLISH q1 id=1 dup=1 'b' 2"), "{t:?}");
}

#[test]
fn mqtt_3_3_2_7_topic_aliases_do_not_carry_over_connections() {
    // Receiver: an alias set on the last connection is unknown on the next.
    let mut c = connect("c1", 0, false);
    c.properties.set_topic_alias_maximum(4);
    c.properties.set_session_expiry_interval(60);
    let mut cl = connected(c, ClientOptions::default(), connack(false));
    cl.feed(T0, &[aliased("t/1", 1, "a"), aliased("", 1, "b")]);
    assert_eq!(cl.events(), ["message 't/1' q0 a", "message 't/1' q0 b"]);
    cl.reconnect(T0).unwrap();
    let _ = cl.tx();
    cl.feed(T0, &[connack(true), aliased("", 1, "c")]);
    let ev = cl.evs();
    assert!(
        matches!(
            protocol_error(&ev),
            Some(ProtocolError::UnknownTopicAlias { alias: 1 })
        ),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Message(_))));
    assert_eq!(cl.sent(), ["DISCONNECT ProtocolError"]);

    // Sender: the first PUBLISH of a topic on a new connection carries the topic again.
    let options = ClientOptions {
        alias_policy: lru(4),
        ..Default::default()
    };
    let tam = |p: &mut shared::ConnAckProperties| {
        p.set_topic_alias_maximum(4);
    };
    let mut cl = client_with(lasting("c1", 0, false), options, connack_with(tam));
    cl.publish(msg("t/2", "a"), QoS::AtMostOnce).unwrap();
    cl.publish(msg("t/2", "b"), QoS::AtMostOnce).unwrap();
    assert_eq!(
        aliases(&cl.packets()),
        [("t/2".to_string(), Some(1)), (String::new(), Some(1))]
    );
    cl.reconnect(T0).unwrap();
    let _ = cl.tx();
    let mut ack = shared::ConnAck::new(ConnectReason::Success, true);
    tam(&mut ack.properties);
    cl.feed(T0, &[Packet::ConnAck(ack)]);
    cl.publish(msg("t/2", "c"), QoS::AtMostOnce).unwrap();
    let sent = aliases(&cl.packets());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "t/2");
}

#[test]
fn mqtt_3_3_2_9_client_alias_within_the_connack_topic_alias_maximum() {
    let options = ClientOptions {
        alias_policy: lru(5),
        ..Default::default()
    };
    let mut c = connected(
        connect("c1", 0, true),
        options,
        connack_with(|p| {
            p.set_topic_alias_maximum(1);
        }),
    );
    for t in ["a", "b", "a", "c"] {
        c.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    c.publish(msg("d", "y"), QoS::AtLeastOnce).unwrap();
    let sent = aliases(&c.packets());
    assert_eq!(sent.len(), 5);
    assert!(
        sent.iter().all(|(_, a)| matches!(a, None | Some(1))),
        "{sent:?}"
    );
    // Each topic is still readable: a new mapping carries its topic.
    assert!(sent.iter().all(|(t, _)| !t.is_empty()), "{sent:?}");
}

#[test]
fn mqtt_3_3_2_10_client_accepts_aliases_up_to_its_maximum() {
    let mut c = connect("c1", 0, true);
    c.properties.set_topic_alias_maximum(3);
    let mut cl = connected(c, ClientOptions::default(), connack(false));
    cl.feed(
        T0,
        &[
            aliased("x", 1, "1"),
            aliased("y", 3, "2"),
            aliased("z", 2, "3"),
            aliased("", 3, "4"),
            aliased("", 1, "5"),
            aliased("w", 1, "6"),
            aliased("", 1, "7"),
        ],
    );
    assert_eq!(
        cl.events(),
        [
            "message 'x' q0 1",
            "message 'y' q0 2",
            "message 'z' q0 3",
            "message 'y' q0 4",
            "message 'x' q0 5",
            "message 'w' q0 6",
            "message 'w' q0 7",
        ]
    );
    assert!(cl.tx().is_empty());
    // Above the maximum: DISCONNECT 0x94.
    cl.feed(T0, &[aliased("v", 4, "8")]);
    let ev = cl.evs();
    assert_eq!(
        protocol_error(&ev),
        Some(&ProtocolError::TopicAliasInvalid { alias: 4, max: 3 })
    );
    assert_eq!(cl.sent(), ["DISCONNECT TopicAliasInvalid"]);
}

#[test]
fn mqtt_3_3_2_11_server_alias_within_the_connect_topic_alias_maximum() {
    let mut c = connect("c1", 0, true);
    c.properties.set_topic_alias_maximum(1);
    let options = ServerOptions {
        alias_policy: lru(8),
        ..Default::default()
    };
    let mut sv = accepted(c, options);
    for t in ["a", "b", "a", "a"] {
        sv.publish(msg(t, "x"), QoS::AtMostOnce).unwrap();
    }
    let sent = aliases(&sv.packets());
    assert_eq!(sent.len(), 4);
    assert!(
        sent.iter().all(|(_, a)| matches!(a, None | Some(1))),
        "{sent:?}"
    );
    // The alias is used once set.
    assert_eq!(sent[3], (String::new(), Some(1)));
}

#[test]
fn mqtt_3_3_2_12_server_accepts_aliases_up_to_its_maximum() {
    let options = ServerOptions {
        topic_alias_maximum: 2,
        ..Default::default()
    };
    let mut sv = accepted(connect("c1", 0, true), options);
    sv.feed(
        T0,
        &[
            aliased("p", 2, "1"),
            aliased("q", 1, "2"),
            aliased("", 2, "3"),
            aliased("", 1, "4"),
        ],
    );
    assert_eq!(
        sv.events(),
        [
            "message 'p' q0 1",
            "message 'q' q0 2",
            "message 'p' q0 3",
            "message 'q' q0 4",
        ]
    );
    // Above the maximum: Topic Alias invalid.
    sv.feed(T0, &[aliased("r", 3, "5")]);
    let ev = sv.evs();
    assert_eq!(
        protocol_error(&ev),
        Some(&ProtocolError::TopicAliasInvalid { alias: 3, max: 2 })
    );
    assert_eq!(sv.sent(), ["DISCONNECT TopicAliasInvalid"]);
    // An alias never set: Protocol Error.
    let options = ServerOptions {
        topic_alias_maximum: 2,
        ..Default::default()
    };
    let mut sv = accepted(connect("c1", 0, true), options);
    sv.feed(T0, &[aliased("", 2, "6")]);
    let ev = sv.evs();
    assert_eq!(
        protocol_error(&ev),
        Some(&ProtocolError::UnknownTopicAlias { alias: 2 })
    );
    assert_eq!(sv.sent(), ["DISCONNECT ProtocolError"]);
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
    let mut sv = accepted_server();
    sv.feed(T0, &incoming);
    assert_eq!(sv.sent(), ["PUBACK 2", "PUBREC 3"]);
}

#[test]
fn mqtt_3_3_4_7_client_in_flight_within_the_server_receive_maximum() {
    let mut c = connected(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_receive_maximum(NonZeroU16::new(2).unwrap());
        }),
    );
    for n in 1..=5 {
        let qos = if n % 2 == 0 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        c.publish(msg("q", &n.to_string()), qos).unwrap();
    }
    assert_eq!(
        c.sent(),
        ["PUBLISH q1 id=1 dup=0 'q' 1", "PUBLISH q2 id=2 dup=0 'q' 2"]
    );
    assert_eq!(c.in_flight(), 2);
    c.feed(T0, &[puback(1)]);
    assert_eq!(c.sent(), ["PUBLISH q1 id=3 dup=0 'q' 3"]);
    assert_eq!(c.in_flight(), 2);
    c.feed(T0, &[pubrec(2)]);
    assert_eq!(c.sent(), ["PUBREL 2"], "PUBREC does not end a QoS 2 flow");
    c.feed(T0, &[pubcomp(2), puback(3)]);
    assert_eq!(
        c.sent(),
        ["PUBLISH q2 id=4 dup=0 'q' 4", "PUBLISH q1 id=5 dup=0 'q' 5"]
    );
    assert!(c.in_flight() <= 2);
}

#[test]
fn mqtt_3_3_4_8_receive_maximum_does_not_hold_back_other_packets() {
    let mut c = connected(
        connect("c1", 5, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_receive_maximum(NonZeroU16::new(1).unwrap());
        }),
    );
    c.publish(msg("q", "1"), QoS::ExactlyOnce).unwrap();
    c.publish(msg("q", "2"), QoS::AtLeastOnce).unwrap();
    assert_eq!(c.sent(), ["PUBLISH q2 id=1 dup=0 'q' 1"]);
    // No quota left; everything but PUBLISH still goes.
    let sid = c
        .subscribe(vec![sub("s", QoS::AtMostOnce)], Default::default())
        .unwrap();
    c.ping().unwrap();
    c.feed(
        T0,
        &[publish("in", "x", QoS::AtLeastOnce, 40, false), pubrec(1)],
    );
    let uid = c
        .unsubscribe(vec![filter("s")], Default::default())
        .unwrap();
    assert_eq!(
        c.sent(),
        [
            format!("SUBSCRIBE {sid} s q0"),
            "PINGREQ".to_string(),
            "PUBACK 40".to_string(),
            "PUBREL 1".to_string(),
            format!("UNSUBSCRIBE {uid} s"),
        ]
    );
    c.feed(T0, &[pubcomp(1)]);
    assert_eq!(c.sent(), ["PUBLISH q1 id=2 dup=0 'q' 2"]);
}

#[test]
fn mqtt_3_3_4_9_server_in_flight_within_the_client_receive_maximum() {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_receive_maximum(NonZeroU16::new(2).unwrap());
    let mut sv = accepted(c, ServerOptions::default());
    for n in 1..=4 {
        sv.publish(msg("q", &n.to_string()), QoS::AtLeastOnce)
            .unwrap();
    }
    assert_eq!(
        sv.sent(),
        ["PUBLISH q1 id=1 dup=0 'q' 1", "PUBLISH q1 id=2 dup=0 'q' 2"]
    );
    assert_eq!(sv.in_flight(), 2);
    sv.feed(T0, &[puback(2)]);
    assert_eq!(sv.sent(), ["PUBLISH q1 id=3 dup=0 'q' 3"]);
    sv.feed(T0, &[puback(1)]);
    assert_eq!(sv.sent(), ["PUBLISH q1 id=4 dup=0 'q' 4"]);
}

#[test]
fn mqtt_3_3_4_10_receive_maximum_does_not_hold_back_other_server_packets() {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_receive_maximum(NonZeroU16::new(1).unwrap());
    let mut sv = accepted(c, ServerOptions::default());
    sv.publish(msg("q", "1"), QoS::ExactlyOnce).unwrap();
    sv.publish(msg("q", "2"), QoS::AtLeastOnce).unwrap();
    assert_eq!(sv.sent(), ["PUBLISH q2 id=1 dup=0 'q' 1"]);
    sv.feed(
        T0,
        &[
            Packet::PingReq,
            subscribe(7, vec![sub("s", QoS::AtMostOnce)]),
            publish("in", "x", QoS::ExactlyOnce, 8, false),
            pubrec(1),
        ],
    );
    sv.suback(id(7), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    assert_eq!(
        sv.sent(),
        ["PINGRESP", "PUBREC 8", "PUBREL 1", "SUBACK 7 GrantedQoS0"]
    );
    sv.feed(T0, &[pubrel(8), pubcomp(1)]);
    assert_eq!(sv.sent(), ["PUBCOMP 8", "PUBLISH q1 id=2 dup=0 'q' 2"]);
}

// ---- 3.4 to 3.15: trimming acknowledgements to the receiver's Maximum Packet Size ----

/// A server in manual acknowledgement mode for a client whose Maximum Packet Size is
/// `max`, with the client's QoS 1 message 1 and QoS 2 message 2 delivered.
fn small_client_server(max: u32) -> Server {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_maximum_packet_size(NonZeroU32::new(max).unwrap());
    c.properties.set_authentication_method(s("SCRAM"));
    let mut sv = server_after(c, manual_server());
    sv.accept(T0, None, Default::default()).unwrap();
    let _ = sv.tx();
    sv.feed(
        T0,
        &[
            publish("t", "1", QoS::AtLeastOnce, 1, false),
            publish("t", "2", QoS::ExactlyOnce, 2, false),
        ],
    );
    assert_eq!(sv.events().len(), 2);
    sv
}

#[test]
fn mqtt_3_4_2_2_puback_reason_string_dropped_when_too_large() {
    // It fits: kept.
    let mut sv = small_client_server(40);
    sv.ack_with(id(1), 0x10, ack_props("ok")).unwrap();
    let packets = sv.packets();
    let [Packet::PubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.reason_string().map(|r| r.get()), Some("ok"));
    // It does not: dropped, the PUBACK still goes, with its reason code.
    let mut sv = small_client_server(40);
    sv.ack_with(id(1), 0x10, ack_props(&long(100))).unwrap();
    let packets = sv.packets();
    let [Packet::PubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.packet_id, id(1));
    assert_eq!(a.reason, PubAckReason::NoMatchingSubscribers);
    assert_eq!(a.properties.reason_string(), None);
    assert!(packets[0].encoded_len(V).unwrap() <= 40);
}

#[test]
fn mqtt_3_4_2_3_puback_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(40);
    let mut props = shared::AckProperties::new();
    props.add_user_property("key", &long(60)).unwrap();
    sv.ack_with(id(1), 0, props).unwrap();
    let packets = sv.packets();
    let [Packet::PubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_5_2_2_pubrec_reason_string_dropped_when_too_large() {
    let mut sv = small_client_server(40);
    sv.ack(id(1)).unwrap();
    sv.ack_with(id(2), 0x97, ack_props(&long(100))).unwrap();
    let packets = sv.packets();
    let [Packet::PubAck(_), Packet::PubRec(r)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(r.reason, PubRecReason::QuotaExceeded);
    assert_eq!(r.properties.reason_string(), None);
}

#[test]
fn mqtt_3_9_2_1_suback_reason_string_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    sv.feed(T0, &[subscribe(5, vec![sub("a", QoS::AtMostOnce)])]);
    let _ = sv.events();
    sv.suback(id(5), &[SubAckReason::GrantedQoS0], ack_props(&long(100)))
        .unwrap();
    let packets = sv.packets();
    let [Packet::SubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.reason_string(), None);
    assert_eq!(a.packet_id, id(5));
}

#[test]
fn mqtt_3_11_2_1_unsuback_reason_string_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    sv.feed(T0, &[unsubscribe(5, vec![filter("a")])]);
    let _ = sv.events();
    sv.unsuback(id(5), &[UnsubAckReason::Success], ack_props(&long(100)))
        .unwrap();
    let packets = sv.packets();
    let [Packet::UnsubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.reason_string(), None);
}

#[test]
fn mqtt_3_14_2_3_disconnect_reason_string_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    let mut d = shared::Disconnect::new(DisconnectReason::ServerShuttingDown);
    d.properties.set_reason_string(s(&long(100)));
    sv.disconnect_with(d).unwrap();
    let packets = sv.packets();
    let [Packet::Disconnect(d)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(d.reason, DisconnectReason::ServerShuttingDown);
    assert_eq!(d.properties.reason_string(), None);
}

#[test]
fn mqtt_3_15_2_2_auth_reason_string_dropped_when_too_large() {
    let mut sv = small_client_server(40);
    let mut props = shared::AuthProperties::new();
    props.set_reason_string(s(&long(100)));
    sv.auth(AuthReason::ContinueAuthentication, props).unwrap();
    let packets = sv.packets();
    let [Packet::Auth(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.reason_string(), None);
    assert_eq!(
        a.properties.authentication_method().map(|m| m.get()),
        Some("SCRAM")
    );
}

fn big_user_property() -> shared::AckProperties {
    let mut p = shared::AckProperties::new();
    p.add_user_property("key", &long(100)).unwrap();
    p
}

#[test]
fn mqtt_3_5_2_3_pubrec_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(40);
    sv.ack(id(1)).unwrap();
    sv.ack_with(id(2), 0, big_user_property()).unwrap();
    let packets = sv.packets();
    let [Packet::PubAck(_), Packet::PubRec(r)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(r.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_9_2_2_suback_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    sv.feed(T0, &[subscribe(5, vec![sub("a", QoS::AtMostOnce)])]);
    let _ = sv.events();
    sv.suback(id(5), &[SubAckReason::GrantedQoS0], big_user_property())
        .unwrap();
    let packets = sv.packets();
    let [Packet::SubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_11_2_2_unsuback_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    sv.feed(T0, &[unsubscribe(5, vec![filter("a")])]);
    let _ = sv.events();
    sv.unsuback(id(5), &[UnsubAckReason::Success], big_user_property())
        .unwrap();
    let packets = sv.packets();
    let [Packet::UnsubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_14_2_4_disconnect_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(30);
    let mut d = shared::Disconnect::new(DisconnectReason::ServerShuttingDown);
    d.properties.add_user_property("key", &long(100)).unwrap();
    sv.disconnect_with(d).unwrap();
    let packets = sv.packets();
    let [Packet::Disconnect(d)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(d.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_15_2_3_auth_user_properties_dropped_when_too_large() {
    let mut sv = small_client_server(40);
    let mut props = shared::AuthProperties::new();
    props.add_user_property("key", &long(100)).unwrap();
    sv.auth(AuthReason::ContinueAuthentication, props).unwrap();
    let packets = sv.packets();
    let [Packet::Auth(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.properties.user_properties().count(), 0);
}

#[test]
fn mqtt_3_2_2_20_connack_user_properties_dropped_when_too_large() {
    let mut c = connect("c1", 0, true);
    c.properties
        .set_maximum_packet_size(NonZeroU32::new(30).unwrap());
    let mut sv = server_after(c, ServerOptions::default());
    let mut props = shared::ConnAckProperties::new();
    props.add_user_property("k", &long(40)).unwrap();
    sv.accept(T0, None, props).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.reason, ConnectReason::Success);
    assert_eq!(ack.properties.user_properties().count(), 0);
}

// ---- 3.8 to 3.12 SUBSCRIBE, UNSUBSCRIBE, PINGREQ ----

#[test]
fn mqtt_3_8_4_1_every_subscribe_is_answered_with_a_suback() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[
            subscribe(1, vec![sub("a", QoS::AtMostOnce)]),
            subscribe(2, vec![sub("b", QoS::AtLeastOnce)]),
        ],
    );
    assert_eq!(sv.events(), ["subscribe 1", "subscribe 2"]);
    sv.suback(id(2), &[SubAckReason::NotAuthorized], Default::default())
        .unwrap();
    sv.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    assert_eq!(
        sv.sent(),
        ["SUBACK 2 NotAuthorized", "SUBACK 1 GrantedQoS0"]
    );
    assert!(sv
        .suback(id(1), &[SubAckReason::GrantedQoS0], Default::default())
        .is_err());
    assert!(sv.tx().is_empty());
}

#[test]
fn mqtt_3_8_4_2_suback_carries_the_subscribe_identifier() {
    let mut sv = accepted_server();
    sv.feed(T0, &[subscribe(0xBEEF, vec![sub("a", QoS::AtMostOnce)])]);
    let _ = sv.events();
    sv.suback(id(0xBEEF), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    let packets = sv.packets();
    let [Packet::SubAck(a)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(a.packet_id.get(), 0xBEEF);
}

#[test]
fn mqtt_3_8_4_6_suback_has_one_reason_code_per_filter() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[subscribe(
            1,
            vec![
                sub("a", QoS::AtMostOnce),
                sub("b", QoS::AtLeastOnce),
                sub("c", QoS::ExactlyOnce),
            ],
        )],
    );
    let _ = sv.events();
    assert_eq!(
        sv.suback(
            id(1),
            &[SubAckReason::GrantedQoS0, SubAckReason::GrantedQoS1],
            Default::default()
        ),
        Err(CommandError::ReasonCountMismatch {
            got: 2,
            expected: 3
        })
    );
    assert!(sv.tx().is_empty());
    // The client refuses a SUBACK with another count.
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
            vec![
                SubAckReason::GrantedQoS0,
                SubAckReason::GrantedQoS0,
                SubAckReason::GrantedQoS0,
            ],
        ))],
    );
    let ev = c.evs();
    assert!(
        matches!(
            protocol_error(&ev),
            Some(ProtocolError::ReasonCountMismatch { .. })
        ),
        "{ev:?}"
    );
    assert_eq!(c.sent(), ["DISCONNECT ProtocolError"]);
}

#[test]
fn mqtt_3_9_3_1_reason_codes_follow_the_filter_order() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[subscribe(
            1,
            vec![
                sub("x", QoS::ExactlyOnce),
                sub("y", QoS::AtLeastOnce),
                sub("z", QoS::AtLeastOnce),
            ],
        )],
    );
    let _ = sv.events();
    sv.suback(
        id(1),
        &[
            SubAckReason::GrantedQoS1,
            SubAckReason::TopicFilterInvalid,
            SubAckReason::GrantedQoS0,
        ],
        Default::default(),
    )
    .unwrap();
    assert_eq!(
        sv.sent(),
        ["SUBACK 1 GrantedQoS1 TopicFilterInvalid GrantedQoS0"]
    );
    let held: Vec<(String, QoS)> = sv
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
fn mqtt_3_10_4_4_every_unsubscribe_is_answered_with_an_unsuback() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[
            unsubscribe(3, vec![filter("a")]),
            unsubscribe(4, vec![filter("b")]),
        ],
    );
    assert_eq!(sv.events(), ["unsubscribe 3", "unsubscribe 4"]);
    sv.unsuback(id(4), &[UnsubAckReason::Success], Default::default())
        .unwrap();
    sv.unsuback(id(3), &[UnsubAckReason::Success], Default::default())
        .unwrap();
    assert_eq!(sv.sent(), ["UNSUBACK 4 Success", "UNSUBACK 3 Success"]);
    assert!(sv
        .unsuback(id(3), &[UnsubAckReason::Success], Default::default())
        .is_err());
}

#[test]
fn mqtt_3_10_4_5_unsuback_even_when_nothing_was_deleted() {
    let mut sv = accepted_server();
    sv.feed(T0, &[unsubscribe(6, vec![filter("never")])]);
    let _ = sv.events();
    sv.unsuback(
        id(6),
        &[UnsubAckReason::NoSubscriptionExisted],
        Default::default(),
    )
    .unwrap();
    assert_eq!(sv.sent(), ["UNSUBACK 6 NoSubscriptionExisted"]);
}

#[test]
fn mqtt_3_11_3_1_unsuback_reason_codes_follow_the_filter_order() {
    let mut sv = accepted_server();
    sv.feed(T0, &[subscribe(1, vec![sub("b", QoS::AtMostOnce)])]);
    sv.suback(id(1), &[SubAckReason::GrantedQoS0], Default::default())
        .unwrap();
    let _ = sv.tx();
    sv.feed(T0, &[unsubscribe(2, vec![filter("a"), filter("b")])]);
    let _ = sv.events();
    assert!(matches!(
        sv.unsuback(id(2), &[UnsubAckReason::Success], Default::default()),
        Err(CommandError::ReasonCountMismatch {
            got: 1,
            expected: 2
        })
    ));
    sv.unsuback(
        id(2),
        &[
            UnsubAckReason::NoSubscriptionExisted,
            UnsubAckReason::Success,
        ],
        Default::default(),
    )
    .unwrap();
    assert_eq!(sv.sent(), ["UNSUBACK 2 NoSubscriptionExisted Success"]);
    assert!(sv.session().subscriptions().is_empty());
}

#[test]
fn mqtt_3_12_4_1_every_pingreq_gets_a_pingresp() {
    let mut sv = accepted_server();
    sv.feed(T0, &[Packet::PingReq, Packet::PingReq]);
    assert_eq!(sv.sent(), ["PINGRESP", "PINGRESP"]);
}

// ---- 3.14 DISCONNECT ----

#[test]
fn mqtt_3_14_0_1_server_sends_no_disconnect_before_a_successful_connack() {
    let mut sv = server_after(scram(), ServerOptions::default());
    assert!(matches!(
        sv.disconnect(DisconnectReason::ServerBusy),
        Err(CommandError::WrongState { .. })
    ));
    assert!(sv.tx().is_empty());
    // A violation before CONNACK is answered with a CONNACK error code instead.
    sv.feed(T0, &[auth(AuthReason::ContinueAuthentication, "OTHER")]);
    assert_eq!(sv.sent(), ["CONNACK sp=0 ProtocolError"]);
    assert_eq!(sv.state(), ConnState::Closed);
    // Nor after a refusing CONNACK.
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    sv.refuse(T0, ConnectReason::NotAuthorized).unwrap();
    assert!(sv.disconnect(DisconnectReason::ServerBusy).is_err());
    assert_eq!(sv.sent(), ["CONNACK sp=0 NotAuthorized"]);
    // Before CONNECT: nothing at all.
    let mut sv = Server::new(T0, ServerOptions::default());
    sv.feed(T0, &[Packet::PingReq]);
    assert!(sv.tx().is_empty());
    assert_eq!(sv.state(), ConnState::Closed);
}

#[test]
fn mqtt_3_14_4_1_nothing_sent_after_disconnect() {
    // Client.
    let mut c = connected(
        connect("c1", 5, true),
        ClientOptions::default(),
        connack(false),
    );
    c.disconnect(DisconnectReason::NormalDisconnection).unwrap();
    assert_eq!(c.sent(), ["DISCONNECT NormalDisconnection"]);
    let _ = c.events();
    assert!(c.publish(msg("a", "0"), QoS::AtMostOnce).is_err());
    assert!(c.ping().is_err());
    assert!(c
        .auth(AuthReason::ReAuthenticate, Default::default())
        .is_err());
    c.handle_timeout(Instant::from_secs(60));
    c.feed(
        Instant::from_secs(60),
        &[
            publish("t", "x", QoS::AtLeastOnce, 1, false),
            Packet::PingResp,
        ],
    );
    assert!(c.tx().is_empty());
    assert!(c.events().is_empty());
    // Server.
    let mut sv = accepted(connect("c1", 5, true), ServerOptions::default());
    sv.disconnect(DisconnectReason::ServerShuttingDown).unwrap();
    assert_eq!(sv.sent(), ["DISCONNECT ServerShuttingDown"]);
    assert!(sv.publish(msg("a", "0"), QoS::AtMostOnce).is_err());
    sv.feed(
        T0,
        &[
            Packet::PingReq,
            publish("t", "x", QoS::AtLeastOnce, 1, false),
        ],
    );
    sv.handle_timeout(Instant::from_secs(60));
    assert!(sv.tx().is_empty());
}

#[test]
fn mqtt_3_14_4_2_connection_closed_after_disconnect() {
    let mut c = connected_client(ClientOptions::default());
    c.disconnect(DisconnectReason::NormalDisconnection).unwrap();
    assert_eq!(c.state(), ConnState::Closed);
    assert_eq!(c.events(), ["closed disconnected NormalDisconnection"]);
    assert_eq!(c.poll_timeout(), None);
    let mut sv = accepted_server();
    sv.disconnect(DisconnectReason::AdministrativeAction)
        .unwrap();
    assert_eq!(sv.state(), ConnState::Closed);
    assert_eq!(sv.events()[0], "closed disconnected AdministrativeAction");
}

// ---- 4.3 QoS flows ----

#[test]
fn mqtt_4_3_2_1_qos1_message_gets_an_unused_identifier() {
    let mut c = connected_client(ClientOptions::default());
    let a = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    let b = c.publish(msg("a", "2"), QoS::AtLeastOnce).unwrap().unwrap();
    assert_ne!(a, b);
    c.feed(T0, &[puback(a.get())]);
    // `a` is free again, `b` is not.
    let c3 = c.publish(msg("a", "3"), QoS::AtLeastOnce).unwrap().unwrap();
    assert_ne!(c3, b);
}

#[test]
fn mqtt_4_3_2_2_qos1_publish_has_qos_1_and_dup_0() {
    let mut c = connected_client(ClientOptions::default());
    let a = c.publish(msg("a", "x"), QoS::AtLeastOnce).unwrap().unwrap();
    let packets = c.packets();
    let [Packet::Publish(p)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(
        p.delivery,
        Delivery::AtLeastOnce {
            packet_id: a,
            dup: false
        }
    );
}

#[test]
fn mqtt_4_3_2_3_qos1_unacknowledged_until_puback() {
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let a = c.publish(msg("a", "x"), QoS::AtLeastOnce).unwrap().unwrap();
    let _ = c.tx();
    // Not a PUBACK for another message.
    c.feed(T0, &[puback(a.get() + 1)]);
    assert_eq!(c.session().outgoing().len(), 1);
    assert!(!c
        .evs()
        .iter()
        .any(|e| matches!(e, Event::PublishComplete { .. })));
    // Still unacknowledged on the next connection.
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={a} dup=1 'a' x")]);
    c.feed(T0, &[puback(a.get())]);
    assert!(c.evs().contains(&Event::PublishComplete {
        packet_id: a,
        outcome: Outcome::Acknowledged(ReasonCode::Success)
    }));
    assert!(c.session().is_empty());
}

#[test]
fn mqtt_4_3_2_4_qos1_receiver_pubacks_with_the_publish_identifier() {
    let mut sv = accepted(connect("c1", 0, true), manual_server());
    sv.feed(T0, &[publish("t", "x", QoS::AtLeastOnce, 321, false)]);
    let ev = sv.evs();
    let [Event::Message(m)] = ev.as_slice() else {
        panic!("{ev:?}")
    };
    // PUBACK once the application took ownership.
    assert!(sv.tx().is_empty());
    sv.ack(m.packet_id().unwrap()).unwrap();
    assert_eq!(sv.sent(), ["PUBACK 321"]);
}

#[test]
fn mqtt_4_3_2_5_qos1_identifier_reused_after_puback_is_a_new_message() {
    let mut sv = accepted_server();
    sv.feed(T0, &[publish("t", "1", QoS::AtLeastOnce, 5, false)]);
    assert_eq!(sv.sent(), ["PUBACK 5"]);
    sv.feed(T0, &[publish("t", "2", QoS::AtLeastOnce, 5, true)]);
    assert_eq!(sv.sent(), ["PUBACK 5"]);
    assert_eq!(sv.events(), ["message 't' q1 1", "message 't' q1 2"]);
}

#[test]
fn mqtt_4_3_3_1_qos2_message_gets_an_unused_identifier() {
    let mut sv = accepted_server();
    let a = sv
        .publish(msg("a", "1"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    let b = sv
        .publish(msg("a", "2"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    assert_ne!(a, b);
    let _ = sv.tx();
    // Released but not complete: still in use.
    sv.feed(T0, &[pubrec(a.get())]);
    let c3 = sv
        .publish(msg("a", "3"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    assert!(c3 != a && c3 != b);
}

#[test]
fn mqtt_4_3_3_2_qos2_publish_has_qos_2_and_dup_0() {
    let mut sv = accepted_server();
    let a = sv
        .publish(msg("a", "x"), QoS::ExactlyOnce)
        .unwrap()
        .unwrap();
    let packets = sv.packets();
    let [Packet::Publish(p)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(
        p.delivery,
        Delivery::ExactlyOnce {
            packet_id: a,
            dup: false
        }
    );
}

#[test]
fn mqtt_4_3_3_3_qos2_unacknowledged_until_pubrec() {
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let a = c.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    c.feed(T0, &[pubrec(a.get() + 1)]);
    let _ = c.tx();
    assert_eq!(
        c.session().outgoing().next().map(Outgoing::flow),
        Some(SenderFlow::AwaitPubRec)
    );
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(c.sent(), [format!("PUBLISH q2 id={a} dup=1 'a' x")]);
}

#[test]
fn mqtt_4_3_3_4_pubrec_answered_with_pubrel_of_the_same_identifier() {
    let mut c = connected_client(ClientOptions::default());
    let a = c.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap().unwrap();
    let b = c.publish(msg("a", "y"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[pubrec_with(b.get(), PubRecReason::NoMatchingSubscribers)],
    );
    assert_eq!(c.sent(), [format!("PUBREL {b}")]);
    c.feed(T0, &[pubrec(a.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {a}")]);
}

#[test]
fn mqtt_4_3_3_5_pubrel_unacknowledged_until_pubcomp() {
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let a = c.publish(msg("a", "x"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    c.feed(T0, &[pubrec(a.get())]);
    let _ = c.tx();
    c.feed(T0, &[pubcomp(a.get() + 1)]);
    assert_eq!(
        c.session().outgoing().next().map(Outgoing::flow),
        Some(SenderFlow::AwaitPubComp)
    );
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert_eq!(c.sent(), [format!("PUBREL {a}")]);
    c.feed(T0, &[pubcomp(a.get())]);
    assert!(c.session().is_empty());
}

#[test]
fn mqtt_4_3_3_6_publish_never_resent_after_pubrel() {
    let mut p = v5_pair(ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.client
        .publish(msg("a", "once"), QoS::ExactlyOnce)
        .unwrap();
    p.settle_until(|l| l.starts_with("c>s PUBREL"));
    assert!(p
        .client
        .session()
        .outgoing()
        .next()
        .unwrap()
        .publish()
        .is_none());
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(!t.iter().any(|l| l.starts_with("c>s PUBLISH")), "{t:?}");
    assert!(t.contains(&"c>s PUBREL 1"), "{t:?}");
    assert_eq!(p.received(Side::Server), ["a once"]);
}

#[test]
fn mqtt_4_3_3_7_no_message_expiry_once_sent() {
    let mut p = v5_pair(ClientOptions::default(), ServerOptions::default());
    p.connect();
    let expiring = |payload: &str| {
        let mut m = msg("a", payload);
        m.properties.set_message_expiry_interval(1);
        m
    };
    // Message 1: its PUBLISH is lost.
    p.link_up = false;
    p.client
        .publish(expiring("unreleased"), QoS::ExactlyOnce)
        .unwrap();
    p.settle();
    p.link_up = true;
    // Message 2: PUBLISH and PUBREC get through, the PUBREL is lost.
    p.client
        .publish(expiring("released"), QoS::ExactlyOnce)
        .unwrap();
    p.settle_until(|l| l.starts_with("c>s PUBREL 2"));
    p.drop_link();
    // Long after both expired.
    p.advance_to(Instant::from_secs(600));
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(
        t.contains(&"c>s PUBLISH q2 id=1 dup=1 'a' unreleased"),
        "{t:?}"
    );
    assert!(t.contains(&"c>s PUBREL 2"), "{t:?}");
    assert!(t.contains(&"c: complete 1"), "{t:?}");
    assert!(t.contains(&"c: complete 2"), "{t:?}");
}

#[test]
fn mqtt_4_3_3_8_qos2_receiver_pubrecs_with_the_publish_identifier() {
    let mut c = connected_client(manual());
    c.feed(T0, &[publish("t", "x", QoS::ExactlyOnce, 4321, false)]);
    assert!(c.tx().is_empty());
    let _ = c.events();
    c.ack(id(4321)).unwrap();
    assert_eq!(c.sent(), ["PUBREC 4321"]);
}

#[test]
fn mqtt_4_3_3_9_identifier_after_error_pubrec_is_a_new_message() {
    let mut c = connected_client(manual());
    c.feed(T0, &[publish("t", "refused", QoS::ExactlyOnce, 3, false)]);
    let _ = c.events();
    c.ack_with(id(3), 0x97, Default::default()).unwrap();
    assert_eq!(c.sent(), ["PUBREC 3 QuotaExceeded"]);
    c.feed(T0, &[publish("t", "again", QoS::ExactlyOnce, 3, false)]);
    assert_eq!(c.events(), ["message 't' q2 again"]);
    c.ack(id(3)).unwrap();
    assert_eq!(c.sent(), ["PUBREC 3"]);
}

#[test]
fn mqtt_4_3_3_10_duplicates_before_pubrel_are_not_delivered() {
    let mut sv = accepted_server();
    sv.feed(T0, &[publish("t", "x", QoS::ExactlyOnce, 2, false)]);
    assert_eq!(sv.sent(), ["PUBREC 2"]);
    sv.feed(
        T0,
        &[
            publish("t", "x", QoS::ExactlyOnce, 2, true),
            publish("t", "x", QoS::ExactlyOnce, 2, true),
        ],
    );
    assert_eq!(sv.sent(), ["PUBREC 2", "PUBREC 2"]);
    assert_eq!(sv.events(), ["message 't' q2 x"]);
}

#[test]
fn mqtt_4_3_3_11_pubrel_answered_with_pubcomp_of_the_same_identifier() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[
            publish("t", "x", QoS::ExactlyOnce, 70, false),
            publish("t", "y", QoS::ExactlyOnce, 71, false),
        ],
    );
    let _ = sv.tx();
    sv.feed(T0, &[pubrel(71), pubrel(70)]);
    assert_eq!(sv.sent(), ["PUBCOMP 71", "PUBCOMP 70"]);
}

#[test]
fn mqtt_4_3_3_12_identifier_after_pubcomp_is_a_new_message() {
    let mut sv = accepted_server();
    sv.feed(
        T0,
        &[publish("t", "1", QoS::ExactlyOnce, 6, false), pubrel(6)],
    );
    assert_eq!(sv.sent(), ["PUBREC 6", "PUBCOMP 6"]);
    sv.feed(T0, &[publish("t", "2", QoS::ExactlyOnce, 6, false)]);
    assert_eq!(sv.sent(), ["PUBREC 6"]);
    assert_eq!(sv.events(), ["message 't' q2 1", "message 't' q2 2"]);
}

#[test]
fn mqtt_4_3_3_13_acknowledgement_sequence_completes_after_expiry() {
    let mut sv = accepted_server();
    let mut m = msg("t", "x");
    m.properties.set_message_expiry_interval(1);
    m.delivery = Delivery::new(QoS::ExactlyOnce, PacketId::new(9), false).unwrap();
    sv.feed(T0, &[Packet::Publish(m)]);
    assert_eq!(sv.sent(), ["PUBREC 9"]);
    sv.handle_timeout(Instant::from_secs(100));
    sv.feed(Instant::from_secs(100), &[pubrel(9)]);
    assert_eq!(sv.sent(), ["PUBCOMP 9"]);
}

// ---- 4.4 to 4.6 ----

#[test]
fn mqtt_4_4_0_1_resume_resends_publish_and_pubrel_with_original_identifiers() {
    let mut p = v5_pair(ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.server
        .publish(msg("down", "rel"), QoS::ExactlyOnce)
        .unwrap();
    // The server's PUBREL is lost.
    p.settle_until(|l| l.starts_with("s>c PUBREL"));
    p.server
        .publish(msg("down", "pub"), QoS::AtLeastOnce)
        .unwrap();
    p.client
        .publish(msg("up", "pub"), QoS::ExactlyOnce)
        .unwrap();
    p.settle();
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let t = p.transcript();
    assert!(t.contains(&"s>c PUBREL 1"), "{t:?}");
    assert!(t.contains(&"s>c PUBLISH q1 id=2 dup=1 'down' pub"), "{t:?}");
    assert!(t.contains(&"c>s PUBLISH q2 id=1 dup=1 'up' pub"), "{t:?}");
    assert_eq!(p.received(Side::Client), ["down rel", "down pub"]);
    assert_eq!(p.received(Side::Server), ["up pub"]);
}

#[test]
fn mqtt_4_4_0_2_error_acknowledgement_ends_the_flow() {
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack(false),
    );
    let a = c.publish(msg("a", "1"), QoS::AtLeastOnce).unwrap().unwrap();
    let b = c.publish(msg("a", "2"), QoS::ExactlyOnce).unwrap().unwrap();
    let _ = c.tx();
    let mut ack = shared::PubAck::new(a);
    ack.reason = PubAckReason::NotAuthorized;
    c.feed(
        T0,
        &[
            Packet::PubAck(ack),
            pubrec_with(b.get(), PubRecReason::QuotaExceeded),
        ],
    );
    assert!(c.tx().is_empty(), "no PUBREL after an error PUBREC");
    let ev = c.evs();
    assert!(ev.contains(&Event::PublishComplete {
        packet_id: a,
        outcome: Outcome::Acknowledged(ReasonCode::NotAuthorized)
    }));
    assert!(ev.contains(&Event::PublishComplete {
        packet_id: b,
        outcome: Outcome::Acknowledged(ReasonCode::QuotaExceeded)
    }));
    // Never retransmitted.
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    c.feed(T0, &[connack(true)]);
    assert!(c.tx().is_empty());
}

#[test]
fn mqtt_4_5_0_2_client_acknowledges_every_publish() {
    let mut c = connected_client(ClientOptions::default());
    c.feed(
        T0,
        &[
            publish("t", "1", QoS::ExactlyOnce, 1, false),
            publish("t", "2", QoS::AtLeastOnce, 2, false),
            publish("t", "3", QoS::AtMostOnce, 3, false),
            publish("t", "4", QoS::AtLeastOnce, 4, false),
        ],
    );
    assert_eq!(c.sent(), ["PUBREC 1", "PUBACK 2", "PUBACK 4"]);
}

#[test]
fn mqtt_4_6_0_1_resent_in_the_original_order() {
    let mut p = v5_pair(ClientOptions::default(), ServerOptions::default());
    p.connect();
    p.link_up = false;
    for n in 1..=4 {
        let qos = if n == 2 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        p.client.publish(msg("o", &n.to_string()), qos).unwrap();
    }
    p.settle();
    p.drop_link();
    p.clear_log();
    p.reconnect();
    let sent: Vec<&str> = p
        .transcript()
        .into_iter()
        .filter(|l| l.starts_with("c>s PUBLISH"))
        .collect();
    assert_eq!(
        sent,
        [
            "c>s PUBLISH q1 id=1 dup=1 'o' 1",
            "c>s PUBLISH q2 id=2 dup=1 'o' 2",
            "c>s PUBLISH q1 id=3 dup=1 'o' 3",
            "c>s PUBLISH q1 id=4 dup=1 'o' 4",
        ]
    );
    assert_eq!(p.received(Side::Server), ["o 1", "o 2", "o 3", "o 4"]);
}

#[test]
fn mqtt_4_6_0_2_pubacks_in_arrival_order() {
    let mut c = connected_client(manual());
    c.feed(
        T0,
        &[
            publish("t", "a", QoS::AtLeastOnce, 3, false),
            publish("t", "b", QoS::AtLeastOnce, 2, false),
            publish("t", "c", QoS::AtLeastOnce, 1, false),
        ],
    );
    c.ack(id(1)).unwrap();
    c.ack_with(id(2), 0x80, Default::default()).unwrap();
    assert!(c.tx().is_empty());
    c.ack(id(3)).unwrap();
    assert_eq!(
        c.sent(),
        ["PUBACK 3", "PUBACK 2 UnspecifiedError", "PUBACK 1"]
    );
}

#[test]
fn mqtt_4_6_0_3_pubrecs_in_arrival_order() {
    let mut sv = accepted(connect("c1", 0, true), manual_server());
    sv.feed(
        T0,
        &[
            publish("t", "a", QoS::ExactlyOnce, 5, false),
            publish("t", "b", QoS::ExactlyOnce, 6, false),
            publish("t", "c", QoS::AtLeastOnce, 7, false),
        ],
    );
    sv.ack(id(7)).unwrap();
    sv.ack(id(6)).unwrap();
    assert!(sv.tx().is_empty());
    sv.ack(id(5)).unwrap();
    assert_eq!(sv.sent(), ["PUBREC 5", "PUBREC 6", "PUBACK 7"]);
}

#[test]
fn mqtt_4_6_0_4_pubrels_in_pubrec_order() {
    let mut c = connected_client(ClientOptions::default());
    for n in 1..=4 {
        c.publish(msg("a", &n.to_string()), QoS::ExactlyOnce)
            .unwrap();
    }
    let _ = c.tx();
    c.feed(T0, &[pubrec(2), pubrec(4)]);
    c.feed(T0, &[pubrec(1), pubrec(3)]);
    assert_eq!(c.sent(), ["PUBREL 2", "PUBREL 4", "PUBREL 1", "PUBREL 3"]);
}

// ---- 4.9 Flow control ----

#[test]
fn mqtt_4_9_0_1_send_quota_starts_at_the_receive_maximum_on_each_connection() {
    let rm = |n: u16| {
        move |p: &mut shared::ConnAckProperties| {
            p.set_receive_maximum(NonZeroU16::new(n).unwrap());
        }
    };
    let mut c = connected(
        lasting("c1", 0, false),
        ClientOptions::default(),
        connack_with(rm(3)),
    );
    for n in 1..=4 {
        c.publish(msg("q", &n.to_string()), QoS::AtLeastOnce)
            .unwrap();
    }
    assert_eq!(c.sent().len(), 3);
    assert_eq!(c.in_flight(), 3);
    // A new connection with a smaller Receive Maximum: the resend is limited by it.
    c.reconnect(T0).unwrap();
    let _ = c.tx();
    let mut ack = shared::ConnAck::new(ConnectReason::Success, true);
    rm(2)(&mut ack.properties);
    c.feed(T0, &[Packet::ConnAck(ack)]);
    assert_eq!(
        c.sent(),
        ["PUBLISH q1 id=1 dup=1 'q' 1", "PUBLISH q1 id=2 dup=1 'q' 2"]
    );
    c.feed(T0, &[puback(1)]);
    assert_eq!(c.sent(), ["PUBLISH q1 id=3 dup=1 'q' 3"]);
    c.feed(T0, &[puback(2)]);
    assert_eq!(c.sent(), ["PUBLISH q1 id=4 dup=0 'q' 4"]);
}

#[test]
fn mqtt_4_9_0_2_each_publish_takes_quota_until_its_flow_ends() {
    let mut c = connected(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_receive_maximum(NonZeroU16::new(1).unwrap());
        }),
    );
    let a = c.publish(msg("q", "1"), QoS::ExactlyOnce).unwrap().unwrap();
    let b = c.publish(msg("q", "2"), QoS::ExactlyOnce).unwrap().unwrap();
    let d = c.publish(msg("q", "3"), QoS::AtLeastOnce).unwrap().unwrap();
    assert_eq!(c.sent(), [format!("PUBLISH q2 id={a} dup=0 'q' 1")]);
    // An error PUBREC ends the flow and returns the quota.
    c.feed(T0, &[pubrec_with(a.get(), PubRecReason::UnspecifiedError)]);
    assert_eq!(c.sent(), [format!("PUBLISH q2 id={b} dup=0 'q' 2")]);
    // A successful PUBREC does not; PUBCOMP does.
    c.feed(T0, &[pubrec(b.get())]);
    assert_eq!(c.sent(), [format!("PUBREL {b}")]);
    c.feed(T0, &[pubcomp(b.get())]);
    assert_eq!(c.sent(), [format!("PUBLISH q1 id={d} dup=0 'q' 3")]);
    // QoS 0 needs no quota.
    c.publish(msg("q", "0"), QoS::AtMostOnce).unwrap();
    assert_eq!(c.sent(), ["PUBLISH q0 'q' 0"]);
}

#[test]
fn mqtt_4_9_0_3_zero_quota_still_processes_other_packets() {
    let mut c = connected(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_receive_maximum(NonZeroU16::new(1).unwrap());
        }),
    );
    c.publish(msg("q", "1"), QoS::AtLeastOnce).unwrap();
    c.publish(msg("q", "2"), QoS::AtLeastOnce).unwrap();
    let sid = c
        .subscribe(vec![sub("s", QoS::ExactlyOnce)], Default::default())
        .unwrap();
    let _ = c.tx();
    c.feed(
        T0,
        &[
            Packet::SubAck(shared::SubAck::new(sid, vec![SubAckReason::GrantedQoS2])),
            publish("s", "in", QoS::ExactlyOnce, 9, false),
            pubrel(9),
            Packet::PingResp,
        ],
    );
    assert_eq!(c.sent(), ["PUBREC 9", "PUBCOMP 9"]);
    assert_eq!(
        c.events(),
        [format!("suback {sid}"), "message 's' q2 in".to_string()]
    );
    assert_eq!(c.state(), ConnState::Connected);
}

// ---- 4.12 Enhanced authentication ----

#[test]
fn mqtt_4_12_0_1_unsupported_authentication_method_refused_and_closed() {
    let mut sv = server_after(scram(), ServerOptions::default());
    sv.refuse(T0, ConnectReason::BadAuthenticationMethod)
        .unwrap();
    sv.feed(T0, &[auth(AuthReason::ContinueAuthentication, "SCRAM")]);
    assert_eq!(sv.sent(), ["CONNACK sp=0 BadAuthenticationMethod"]);
    assert_eq!(sv.state(), ConnState::Closed);
    assert_eq!(sv.events(), ["closed refused BadAuthenticationMethod"]);
}

#[test]
fn mqtt_4_12_0_2_server_auth_continues_with_0x18() {
    let mut sv = server_after(scram(), ServerOptions::default());
    sv.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    assert_eq!(
        sv.tx(),
        [0xf0, 0x0a, 0x18, 0x08, 0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M']
    );
    // A client receiving any other AUTH before CONNACK closes.
    for reason in [AuthReason::Success, AuthReason::ReAuthenticate] {
        let mut c = client_with(scram(), ClientOptions::default(), auth(reason, "SCRAM"));
        let ev = c.evs();
        assert!(protocol_error(&ev).is_some(), "{reason:?}: {ev:?}");
        assert!(!ev.iter().any(|e| matches!(e, Event::Auth(_))));
        assert_eq!(c.sent(), ["DISCONNECT ProtocolError"]);
    }
}

#[test]
fn mqtt_4_12_0_3_client_auth_answers_with_0x18() {
    let mut c = client_with(
        scram(),
        ClientOptions::default(),
        auth(AuthReason::ContinueAuthentication, "SCRAM"),
    );
    assert_eq!(c.events(), ["auth ContinueAuthentication"]);
    c.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    assert_eq!(c.sent(), ["AUTH ContinueAuthentication"]);
    // A server receiving any other AUTH before CONNACK refuses.
    let mut sv = server_after(scram(), ServerOptions::default());
    sv.feed(T0, &[auth(AuthReason::Success, "SCRAM")]);
    let ev = sv.evs();
    assert!(protocol_error(&ev).is_some(), "{ev:?}");
    assert!(!ev.iter().any(|e| matches!(e, Event::Auth(_))));
    assert_eq!(sv.sent(), ["CONNACK sp=0 ProtocolError"]);
}

#[test]
fn mqtt_4_12_0_4_server_may_reject_at_any_step_and_closes() {
    let mut sv = server_after(scram(), ServerOptions::default());
    sv.feed(T0, &[auth(AuthReason::ContinueAuthentication, "SCRAM")]);
    sv.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    let _ = sv.tx();
    let _ = sv.events();
    sv.refuse(T0, ConnectReason::NotAuthorized).unwrap();
    assert_eq!(sv.sent(), ["CONNACK sp=0 NotAuthorized"]);
    assert_eq!(sv.state(), ConnState::Closed);
    sv.feed(T0, &[auth(AuthReason::ContinueAuthentication, "SCRAM")]);
    assert!(sv
        .auth(AuthReason::ContinueAuthentication, Default::default())
        .is_err());
    assert!(sv.tx().is_empty());
    assert_eq!(sv.events(), ["closed refused NotAuthorized"]);
}

#[test]
fn mqtt_4_12_0_5_auth_and_connack_repeat_the_connect_method() {
    let other = || {
        let mut p = shared::AuthProperties::new();
        p.set_authentication_method(s("OTHER"));
        p
    };
    let method = |p: &shared::Packet| match p {
        Packet::Auth(a) => a
            .properties
            .authentication_method()
            .map(|m| m.get().to_string()),
        Packet::ConnAck(a) => a
            .properties
            .authentication_method()
            .map(|m| m.get().to_string()),
        _ => None,
    };
    // Server.
    let mut sv = server_after(scram(), ServerOptions::default());
    sv.auth(AuthReason::ContinueAuthentication, other())
        .unwrap();
    let mut props = shared::ConnAckProperties::new();
    props.set_authentication_method(s("OTHER"));
    sv.accept(T0, None, props).unwrap();
    let methods: Vec<_> = sv.packets().iter().map(method).collect();
    assert_eq!(
        methods,
        [Some("SCRAM".to_string()), Some("SCRAM".to_string())]
    );
    // Client.
    let mut c = connected(
        scram(),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_authentication_method(s("SCRAM"));
        }),
    );
    c.auth(AuthReason::ReAuthenticate, other()).unwrap();
    let methods: Vec<_> = c.packets().iter().map(method).collect();
    assert_eq!(methods, [Some("SCRAM".to_string())]);
    // What does not repeat it is refused: a CONNACK without it, an AUTH with another.
    let mut c = client_with(scram(), ClientOptions::default(), connack(false));
    let ev = c.evs();
    assert_eq!(
        protocol_error(&ev),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    assert_eq!(c.sent(), ["DISCONNECT ProtocolError"]);
    let mut c = client_with(
        scram(),
        ClientOptions::default(),
        auth(AuthReason::ContinueAuthentication, "OTHER"),
    );
    assert_eq!(
        protocol_error(&c.evs()),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    let mut sv = accepted(scram(), ServerOptions::default());
    sv.feed(T0, &[auth(AuthReason::ReAuthenticate, "OTHER")]);
    assert_eq!(
        protocol_error(&sv.evs()),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    assert_eq!(sv.sent(), ["DISCONNECT ProtocolError"]);
}

#[test]
fn mqtt_4_12_0_6_no_connect_method_means_no_server_auth() {
    let mut sv = server_after(connect("c1", 0, true), ServerOptions::default());
    assert_eq!(
        sv.auth(AuthReason::ContinueAuthentication, Default::default()),
        Err(CommandError::NoAuthentication)
    );
    assert!(sv.tx().is_empty());
    // Not in CONNACK either, whatever the application passes.
    let mut props = shared::ConnAckProperties::new();
    props.set_authentication_method(s("SCRAM"));
    sv.accept(T0, None, props).unwrap();
    let packets = sv.packets();
    let [Packet::ConnAck(ack)] = packets.as_slice() else {
        panic!("{packets:?}")
    };
    assert_eq!(ack.properties.authentication_method(), None);
    // A client that sent no method refuses a CONNACK with one.
    let mut c = client_with(
        connect("c1", 0, true),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_authentication_method(s("SCRAM"));
        }),
    );
    assert_eq!(
        protocol_error(&c.evs()),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    // ... and any AUTH.
    let mut c = connected_client(ClientOptions::default());
    c.feed(T0, &[auth(AuthReason::ContinueAuthentication, "SCRAM")]);
    assert_eq!(
        protocol_error(&c.evs()),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    assert_eq!(c.sent(), ["DISCONNECT ProtocolError"]);
}

#[test]
fn mqtt_4_12_0_7_no_connect_method_means_no_client_auth() {
    let mut c = connected_client(ClientOptions::default());
    for reason in [
        AuthReason::ContinueAuthentication,
        AuthReason::ReAuthenticate,
    ] {
        assert_eq!(
            c.auth(reason, Default::default()),
            Err(CommandError::NoAuthentication)
        );
    }
    assert!(c.tx().is_empty());
    // A server receiving AUTH from such a client closes.
    let mut sv = accepted_server();
    sv.feed(T0, &[auth(AuthReason::ReAuthenticate, "SCRAM")]);
    assert_eq!(
        protocol_error(&sv.evs()),
        Some(&ProtocolError::AuthMethodMismatch)
    );
    assert_eq!(sv.sent(), ["DISCONNECT ProtocolError"]);
}

#[test]
fn mqtt_4_12_1_1_reauthentication_uses_the_original_method() {
    let mut c = connected(
        scram(),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_authentication_method(s("SCRAM"));
        }),
    );
    c.auth(AuthReason::ReAuthenticate, Default::default())
        .unwrap();
    assert_eq!(
        c.tx(),
        [0xf0, 0x0a, 0x19, 0x08, 0x15, 0x00, 0x05, b'S', b'C', b'R', b'A', b'M']
    );
    // The server takes it, and the exchange goes on.
    let mut sv = accepted(scram(), ServerOptions::default());
    let _ = sv.tx();
    sv.feed(T0, &[auth(AuthReason::ReAuthenticate, "SCRAM")]);
    assert_eq!(sv.events(), ["auth ReAuthenticate"]);
    sv.auth(AuthReason::ContinueAuthentication, Default::default())
        .unwrap();
    sv.auth(AuthReason::Success, Default::default()).unwrap();
    assert_eq!(sv.sent(), ["AUTH ContinueAuthentication", "AUTH Success"]);
}

#[test]
fn mqtt_4_12_1_2_failed_reauthentication_closes() {
    let mut sv = accepted(scram(), ServerOptions::default());
    sv.feed(T0, &[auth(AuthReason::ReAuthenticate, "SCRAM")]);
    let _ = sv.events();
    sv.disconnect(DisconnectReason::NotAuthorized).unwrap();
    assert_eq!(sv.sent(), ["DISCONNECT NotAuthorized"]);
    assert_eq!(sv.state(), ConnState::Closed);
    // The client, receiving it, closes too.
    let mut c = connected(
        scram(),
        ClientOptions::default(),
        connack_with(|p| {
            p.set_authentication_method(s("SCRAM"));
        }),
    );
    c.auth(AuthReason::ReAuthenticate, Default::default())
        .unwrap();
    let _ = c.tx();
    c.feed(T0, &[disconnect(DisconnectReason::NotAuthorized)]);
    assert_eq!(c.state(), ConnState::Closed);
    assert_eq!(c.events(), ["closed peer-disconnected NotAuthorized"]);
    assert!(c.tx().is_empty());
}

// ---- 4.13 Errors ----

#[test]
fn mqtt_4_13_1_1_malformed_or_protocol_error_closes_the_connection() {
    // Malformed: a PUBLISH with QoS 3.
    let mut sv = accepted_server();
    sv.feed_bytes(T0, &[0x36, 0x06, 0x00, 0x01, b'a', 0x00, 0x01, 0x00]);
    let ev = sv.evs();
    assert!(
        matches!(protocol_error(&ev), Some(ProtocolError::Decode(_))),
        "{ev:?}"
    );
    assert_eq!(sv.sent(), ["DISCONNECT MalformedPacket"]);
    assert_eq!(sv.state(), ConnState::Closed);
    sv.feed(T0, &[Packet::PingReq]);
    assert!(sv.tx().is_empty());
    // Protocol Error: a PUBREL before the PUBREC was sent (manual acknowledgement).
    let mut sv = accepted(connect("c1", 0, true), manual_server());
    sv.feed(
        T0,
        &[
            publish("t", "x", QoS::ExactlyOnce, 1, false),
            pubrel(1),
            Packet::PingReq,
        ],
    );
    let ev = sv.evs();
    assert!(
        matches!(
            protocol_error(&ev),
            Some(ProtocolError::UnexpectedPacket { .. })
        ),
        "{ev:?}"
    );
    assert_eq!(sv.sent(), ["DISCONNECT ProtocolError"]);
    assert_eq!(sv.state(), ConnState::Closed);
}

#[test]
fn mqtt_4_13_2_1_error_connack_or_disconnect_closes_the_connection() {
    // Client receiving a refusing CONNACK.
    let mut c = client_with(
        connect("c1", 10, true),
        ClientOptions::default(),
        Packet::ConnAck(shared::ConnAck::new(ConnectReason::ServerMoved, false)),
    );
    assert_eq!(c.events(), ["closed refused ServerMoved"]);
    assert_eq!(c.state(), ConnState::Closed);
    assert_eq!(c.poll_timeout(), None);
    // Client receiving DISCONNECT with an error code.
    let mut c = connected(
        connect("c1", 10, true),
        ClientOptions::default(),
        connack(false),
    );
    c.feed(
        T0,
        &[
            disconnect(DisconnectReason::SessionTakenOver),
            publish("t", "x", QoS::AtLeastOnce, 1, false),
        ],
    );
    assert_eq!(c.events(), ["closed peer-disconnected SessionTakenOver"]);
    assert!(c.tx().is_empty());
    assert!(c.ping().is_err());
    // Server receiving DISCONNECT with an error code: closed, and the Will goes.
    let mut sv = accepted(with_will(connect("c1", 10, true)), ServerOptions::default());
    sv.feed(
        T0,
        &[
            disconnect(DisconnectReason::UnspecifiedError),
            Packet::PingReq,
        ],
    );
    assert_eq!(sv.state(), ConnState::Closed);
    assert!(sv.tx().is_empty());
    assert!(sv.evs().iter().any(|e| matches!(e, Event::Will(_))));
    // Sending one closes too.
    let mut c = connected_client(ClientOptions::default());
    c.disconnect(DisconnectReason::ImplementationSpecificError)
        .unwrap();
    assert_eq!(c.state(), ConnState::Closed);
}
