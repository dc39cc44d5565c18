//! Each MQTT-SN procedure (§6.1 to §6.14) through the two-party harness of
//! `tests/src/sn_net.rs`: the client machine, the gateway machine and, behind it, a broker
//! made of `mqtt-codec`'s server machine, in virtual time. Every test asserts the ordered
//! transcript: datagrams between client and gateway (`c>g`, `g>c`, lost ones marked) and
//! MQTT packets between gateway and broker (`g>b`, `b>g`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use mqtt_codec::{Bytes, Instant};
use mqtt_integration_tests::sn_net::{Faults, SnNet, GATEWAY};
use mqtt_sn_codec::client::{ClientState, Topic, Will};
use mqtt_sn_codec::generic::TopicRef;
use mqtt_sn_codec::{shared, QoS, ShortTopic, TopicId};

fn net(faults: Faults) -> SnNet {
    let (c, mut g) = SnNet::configs(3);
    g.advertise_interval = 0;
    let mut n = SnNet::new(c, g, faults, 7);
    n.record = true;
    n
}

fn clean() -> Faults {
    Faults {
        drop: 0,
        duplicate: 0,
        max_delay_ms: 1,
    }
}

fn later(n: &SnNet, ms: u64) -> Instant {
    Instant::from_millis(n.now.as_millis() + ms)
}

/// Connects (the MQTT side is up already) and forgets the transcript so far.
fn connected() -> SnNet {
    let mut n = net(clean());
    n.client.connect(n.now, GATEWAY).unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(n.client.state(), ClientState::Active);
    n.transcript.clear();
    n
}

fn transcript(n: &SnNet) -> Vec<&str> {
    n.transcript.iter().map(String::as_str).collect()
}

#[test]
fn sn_6_1_searchgw_is_answered_by_gwinfo() {
    let mut n = net(clean());
    n.client.search_gateway(n.now);
    let t = later(&n, 6_000);
    n.run_until(t, 100);
    assert_eq!(transcript(&n), ["c>g SEARCHGW", "g>c GWINFO gw=1"]);
    assert_eq!(n.client.gateways().collect::<Vec<_>>(), [(1, &GATEWAY)]);
}

#[test]
fn sn_6_2_connect_with_the_will_dialogue() {
    let (mut c, mut g) = SnNet::configs(3);
    g.advertise_interval = 0;
    c.will = Some(Will {
        topic: shared::TopicName::new("wills/dev".to_string()).unwrap(),
        message: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
    });
    let mut n = SnNet::new(c, g, clean(), 7);
    n.record = true;
    n.client.connect(n.now, GATEWAY).unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            "c>g CONNECT sn-prop will=1 clean=1 duration=60",
            "g>c WILLTOPICREQ",
            "c>g WILLTOPIC wills/dev",
            "g>c WILLMSGREQ",
            "c>g WILLMSG gone",
            "g>c CONNACK Accepted",
        ]
    );
    // §6.11 and the will: the client goes silent; after 1.5 keep-alives the gateway
    // publishes the will to the broker.
    n.client = mqtt_sn_codec::client::Client::new(SnNet::configs(3).0, 1);
    n.transcript.clear();
    let t = later(&n, 91_000);
    n.run_until(t, 1000);
    assert_eq!(
        transcript(&n),
        ["g>b PUBLISH q1 id=1 dup=0 'wills/dev' gone", "b>g PUBACK 1"]
    );
}

#[test]
fn sn_6_5_and_6_6_a_name_is_registered_then_published_at_qos_1() {
    let mut n = connected();
    let name = shared::TopicName::new("up/x".to_string()).unwrap();
    n.client
        .publish(
            n.now,
            Topic::Name(name),
            Bytes::from_static(b"v1"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            // The PUBLISH took MsgId 1 when it was given, the REGISTER 2 when it went;
            // topic id 1 is predefined, so the name gets 2.
            "c>g REGISTER id=0 mid=2 up/x",
            "g>c REGACK id=2 mid=2 Accepted",
            "c>g PUBLISH q1 id=2 mid=1 dup=0 v1",
            "g>b PUBLISH q1 id=1 dup=0 'up/x' v1",
            "b>g PUBACK 1",
            "g>c PUBACK id=2 mid=1 Accepted",
        ]
    );
}

#[test]
fn sn_6_6_qos_2_to_the_broker_on_a_short_topic() {
    let mut n = connected();
    n.client
        .publish(
            n.now,
            Topic::Short(ShortTopic::new("ab").unwrap()),
            Bytes::from_static(b"x"),
            QoS::ExactlyOnce,
            false,
        )
        .unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            // Forwarded once, at the first PUBLISH; the two exchanges run side by side.
            "c>g PUBLISH q2 short=ab mid=1 dup=0 x",
            "g>b PUBLISH q2 id=1 dup=0 'ab' x",
            "b>g PUBREC 1",
            "g>b PUBREL 1",
            "b>g PUBCOMP 1",
            "g>c PUBREC mid=1",
            "c>g PUBREL mid=1",
            "g>c PUBCOMP mid=1",
        ]
    );
}

#[test]
fn sn_6_8_qos_minus_one_without_a_connection() {
    let mut n = net(clean());
    n.client
        .publish_minus_one(
            n.now,
            GATEWAY,
            Topic::Predefined(TopicId(1)),
            Bytes::from_static(b"m"),
            false,
        )
        .unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            "c>g PUBLISH q-1 pre=1 mid=0 dup=0 m",
            "g>b PUBLISH q0 'pre/one' m"
        ]
    );
}

#[test]
fn sn_6_9_and_6_10_a_wildcard_subscription_and_a_match_registered_first() {
    let mut n = connected();
    let f = shared::TopicFilter::new("down/#".to_string()).unwrap();
    n.client
        .subscribe(n.now, TopicRef::Name(f), QoS::AtLeastOnce)
        .unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    n.broker_publish("down/1", b"hello".to_vec(), mqtt_codec::QoS::AtLeastOnce);
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            "c>g SUBSCRIBE q1 mid=1 down/#",
            "g>b SUBSCRIBE 1 down/# q2",
            "b>g SUBACK 1 GrantedQoS2",
            "g>c SUBACK q1 id=0 mid=1 Accepted",
            "b>g PUBLISH q1 id=1 dup=0 'down/1' hello",
            "g>b PUBACK 1",
            "g>c REGISTER id=2 mid=1 down/1",
            "c>g REGACK id=2 mid=1 Accepted",
            "g>c PUBLISH q1 id=2 mid=2 dup=0 hello",
            "c>g PUBACK id=2 mid=2 Accepted",
        ]
    );
    assert_eq!(n.at_client, [("down/1".to_string(), b"hello".to_vec(), 1)]);
}

#[test]
fn sn_6_11_keep_alive_ping() {
    let mut n = connected();
    let t = later(&n, 60_000);
    n.run_until(t, 100);
    assert_eq!(transcript(&n), ["c>g PINGREQ", "g>c PINGRESP"]);
}

#[test]
fn sn_6_12_disconnect() {
    let mut n = connected();
    n.client.disconnect(n.now).unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    assert_eq!(transcript(&n), ["c>g DISCONNECT", "g>c DISCONNECT"]);
    assert_eq!(n.client.state(), ClientState::Disconnected);
}

#[test]
fn sn_6_13_a_lost_publish_is_sent_again_with_dup() {
    let mut n = connected();
    // Lose the next datagram only.
    n.faults.drop = 100;
    n.client
        .publish(
            n.now,
            Topic::Predefined(TopicId(1)),
            Bytes::from_static(b"r"),
            QoS::AtLeastOnce,
            false,
        )
        .unwrap();
    n.step();
    n.faults.drop = 0;
    let t = later(&n, 3_000);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            "c>g PUBLISH q1 pre=1 mid=1 dup=0 r (lost)",
            "c>g PUBLISH q1 pre=1 mid=1 dup=1 r",
            "g>b PUBLISH q1 id=1 dup=0 'pre/one' r",
            "b>g PUBACK 1",
            "g>c PUBACK id=1 mid=1 Accepted",
        ]
    );
}

#[test]
fn sn_6_14_sleep_buffer_wake_collect_sleep_again() {
    let mut n = connected();
    n.client
        .subscribe(n.now, TopicRef::Predefined(TopicId(1)), QoS::AtLeastOnce)
        .unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    n.client.sleep(n.now, 30).unwrap();
    let t = later(&n, 100);
    n.run_until(t, 100);
    n.transcript.clear();
    n.broker_publish("pre/one", b"zzz".to_vec(), mqtt_codec::QoS::AtLeastOnce);
    // The client wakes before its 30 s are over (early enough for its retries), collects,
    // and sleeps again.
    let t = later(&n, 30_000);
    n.run_until(t, 100);
    assert_eq!(
        transcript(&n),
        [
            "b>g PUBLISH q1 id=1 dup=0 'pre/one' zzz",
            "g>b PUBACK 1",
            "c>g PINGREQ sn-prop",
            "g>c PUBLISH q1 pre=1 mid=1 dup=0 zzz",
            "c>g PUBACK id=1 mid=1 Accepted",
            "g>c PINGRESP",
        ]
    );
    assert_eq!(n.client.state(), ClientState::Asleep);
    let _ = Duration::ZERO;
}
