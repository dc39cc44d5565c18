//! mosquitto's command-line clients (`mosquitto_pub`, `mosquitto_sub`) against our `broker`
//! example (the server connection machine, the subscription table and the retained store),
//! started by each test on a port the system chose: MQTT 3.1.1 and 5.0, QoS 0, 1 and 2,
//! retained messages, `$share` groups, a session resumed with `-c` and a fixed identifier,
//! 5.0 user properties carried through, topic aliases toward a subscriber that allows them, a
//! Will after an abrupt close, and keep-alive enforcement.
//!
//! The clients are found on `PATH`. When they are missing the tests fail with the install
//! command if `CI` is set (`.ci/run` installs them), and are otherwise skipped, visibly, by
//! name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use mqtt_integration_tests::peers::{self, finish, lines};

/// Whether mosquitto's clients are there; otherwise fails under `CI`, or says the test is
/// skipped.
fn clients_available(test: &str) -> bool {
    peers::available(test, &["mosquitto_pub", "mosquitto_sub"])
}

fn example_bin(name: &str) -> PathBuf {
    peers::example_bin("mqtt-codec", name)
}

/// Our broker on a port the system chose, its log read line by line; stopped on drop.
struct Broker {
    child: Child,
    port: u16,
    log: Receiver<String>,
}

impl Broker {
    fn start() -> Broker {
        let mut child = Command::new(example_bin("broker"))
            .args(["--listen", "127.0.0.1:0", "--verbose"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the broker starts");
        let (tx, log) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut broker = Broker {
            child,
            port: 0,
            log,
        };
        let line = broker.wait_for(|l| l.starts_with("broker: listening on "));
        broker.port = line.rsplit(':').next().unwrap().trim().parse().unwrap();
        broker
    }

    /// The next log line that satisfies `want` (within 10 s).
    fn wait_for(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if want(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!("the broker did not log what was expected: {e}"),
            }
        }
    }

    /// Waits until a subscription to `filter` is in the table.
    fn wait_subscribed(&mut self, filter: &str) {
        let needle = format!(" subscribed to {filter} ");
        self.wait_for(|l| l.contains(&needle));
    }

    fn sub(&self, args: &[&str]) -> Child {
        Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn publish(&self, args: &[&str]) {
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "mosquitto_pub {args:?}: {out:?}");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LEVELS: [(&str, &str); 2] = [("mqttv311", "4"), ("mqttv5", "5")];

#[test]
fn mosquitto_clients_through_our_broker_at_each_level_and_qos() {
    if !clients_available("mosquitto_clients_through_our_broker_at_each_level_and_qos") {
        return;
    }
    let mut broker = Broker::start();
    for (version, v) in LEVELS {
        for qos in ["0", "1", "2"] {
            let topic = format!("matrix/{v}/{qos}");
            let sub = broker.sub(&[
                "-V", version, "-t", &topic, "-q", qos, "-C", "2", "-W", "10", "-F", "%t %p %q",
            ]);
            broker.wait_subscribed(&topic);
            // One from each level, so that 3.1.1 and 5.0 publishers meet either subscriber.
            for (pv, _) in LEVELS {
                broker.publish(&["-V", pv, "-t", &topic, "-m", pv, "-q", qos]);
            }
            let out = finish(sub);
            assert!(out.status.success(), "{out:?}");
            assert_eq!(
                lines(&out),
                [
                    format!("{topic} mqttv311 {qos}"),
                    format!("{topic} mqttv5 {qos}")
                ],
                "{version} QoS {qos}"
            );
        }
    }
}

#[test]
fn a_retained_message_reaches_a_later_subscriber_and_an_empty_one_clears_it() {
    if !clients_available(
        "a_retained_message_reaches_a_later_subscriber_and_an_empty_one_clears_it",
    ) {
        return;
    }
    let broker = Broker::start();
    for (version, v) in LEVELS {
        let topic = format!("kept/{v}");
        broker.publish(&["-V", version, "-t", &topic, "-m", "kept", "-q", "1", "-r"]);
        // [MQTT-3.3.1-6]/[MQTT-3.3.1-8]: a new subscription gets it, RETAIN=1.
        let out = finish(broker.sub(&[
            "-V", version, "-t", "kept/#", "-q", "1", "-C", "1", "-W", "10", "-F", "%t %p %r",
        ]));
        assert!(out.status.success(), "{out:?}");
        assert_eq!(lines(&out), [format!("{topic} kept 1")]);
        // [MQTT-3.3.1-10]: an empty retained message removes it.
        broker.publish(&["-V", version, "-t", &topic, "-n", "-r"]);
        let out = finish(broker.sub(&["-V", version, "-t", &topic, "-W", "1", "-F", "%t %p %r"]));
        assert!(lines(&out).is_empty(), "{out:?}");
    }
}

#[test]
fn a_shared_subscription_gives_each_message_to_one_member() {
    if !clients_available("a_shared_subscription_gives_each_message_to_one_member") {
        return;
    }
    let mut broker = Broker::start();
    let filter = "$share/workers/jobs/#";
    let members: Vec<Child> = LEVELS
        .iter()
        .map(|(version, _)| {
            let m = broker.sub(&[
                "-V", version, "-t", filter, "-q", "1", "-W", "3", "-F", "%p",
            ]);
            broker.wait_subscribed(filter);
            m
        })
        .collect();
    for i in 0..10 {
        broker.publish(&[
            "-V",
            "mqttv5",
            "-t",
            "jobs/a",
            "-m",
            &i.to_string(),
            "-q",
            "1",
        ]);
    }
    let got: Vec<Vec<String>> = members.into_iter().map(|m| lines(&finish(m))).collect();
    let mut all: Vec<u32> = got.iter().flatten().map(|l| l.parse().unwrap()).collect();
    all.sort_unstable();
    // Every message once, to one member of the group (MQTT 5.0 §4.8.2), and (round robin)
    // to each member in turn.
    assert_eq!(all, (0..10).collect::<Vec<u32>>(), "{got:?}");
    assert!(got.iter().all(|g| g.len() == 5), "{got:?}");
}

#[test]
fn a_session_resumes_with_dash_c_and_a_fixed_id() {
    if !clients_available("a_session_resumes_with_dash_c_and_a_fixed_id") {
        return;
    }
    let mut broker = Broker::start();
    for (version, v) in LEVELS {
        let id = format!("durable-{v}");
        let filter = format!("away/{v}/#");
        // Subscribe with a session that outlives the connection, then leave.
        let first = broker.sub(&[
            "-V", version, "-c", "-i", &id, "-t", &filter, "-q", "1", "-W", "1",
        ]);
        broker.wait_subscribed(&filter);
        let _ = finish(first);
        broker.wait_for(|l| l.contains(&format!("{id:?} closed")));
        // Messages while away ([MQTT-3.1.2-5]: stored for the session).
        broker.publish(&[
            "-V",
            version,
            "-t",
            &format!("away/{v}/1"),
            "-m",
            "first",
            "-q",
            "1",
        ]);
        broker.publish(&[
            "-V",
            version,
            "-t",
            &format!("away/{v}/2"),
            "-m",
            "second",
            "-q",
            "2",
        ]);
        // Back on the same session, without subscribing again: both arrive, in order.
        let back = finish(broker.sub(&[
            "-V", version, "-c", "-i", &id, "-t", &filter, "-q", "1", "-C", "2", "-W", "10",
        ]));
        assert!(back.status.success(), "{back:?}");
        assert_eq!(lines(&back), ["first", "second"], "{version}");
    }
}

#[test]
fn user_properties_are_carried_through_at_5_0() {
    if !clients_available("user_properties_are_carried_through_at_5_0") {
        return;
    }
    let mut broker = Broker::start();
    let sub = broker.sub(&[
        "-V", "mqttv5", "-t", "props/x", "-q", "1", "-C", "1", "-W", "10", "-F", "%t %p %P",
    ]);
    broker.wait_subscribed("props/x");
    broker.publish(&[
        "-V",
        "mqttv5",
        "-t",
        "props/x",
        "-m",
        "m",
        "-q",
        "1",
        "-D",
        "publish",
        "user-property",
        "colour",
        "blue",
        "-D",
        "publish",
        "user-property",
        "size",
        "2",
    ]);
    let out = finish(sub);
    assert!(out.status.success(), "{out:?}");
    // [MQTT-3.3.2-18]: the server forwards the User Properties unaltered, in order.
    assert_eq!(lines(&out), ["props/x m colour:blue size:2"]);
}

/// Topic aliases both ways: mosquitto_pub registers an alias toward the broker
/// (`-D publish topic-alias 1`), and toward a 5.0 subscriber that allows them the broker sends
/// a repeated topic as its alias alone ([MQTT-3.3.2-12]: an empty Topic Name with a known
/// alias). mosquitto_sub cannot be that subscriber (it refuses incoming aliases,
/// eclipse-mosquitto/mosquitto#1468), so the subscriber here is our client machine over a
/// socket, and the test reads the broker's bytes itself.
#[test]
fn topic_aliases_both_ways_with_a_repeated_topic_sent_as_its_alias() {
    use mqtt_codec::session::{Client, ClientOptions, ConnState, Event, Session};
    use mqtt_codec::{generic::Packet, shared, Decoded, Decoder, Protocol, QoS};
    if !clients_available("topic_aliases_both_ways_with_a_repeated_topic_sent_as_its_alias") {
        return;
    }
    let mut broker = Broker::start();
    let mut s = TcpStream::connect(("127.0.0.1", broker.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let id = shared::Str::new("alias-sub").unwrap();
    let mut connect = shared::Connect::new(Protocol::V5, id, 30);
    connect.properties.set_topic_alias_maximum(4);
    let mut client = Client::new(connect, ClientOptions::default(), Session::new()).unwrap();
    let now = mqtt_codec::Instant::ZERO;
    client.connect(now).unwrap();
    let mut wire = Vec::new();
    let mut buf = [0u8; 4096];
    let mut messages = Vec::new();
    let mut subscribed = false;
    let mut published = false;
    loop {
        while let Some(b) = client.poll_transmit() {
            s.write_all(&b).unwrap();
        }
        while let Some(e) = client.poll_event() {
            match e {
                Event::Connected(_) => {
                    let f = shared::TopicFilter::new("alias/#").unwrap();
                    client
                        .subscribe(
                            vec![shared::Subscription::new(f, QoS::AtMostOnce)],
                            Default::default(),
                        )
                        .unwrap();
                }
                Event::SubAck(_) => subscribed = true,
                Event::Message(m) => messages.push(format!(
                    "{} {}",
                    m.topic.as_str(),
                    String::from_utf8_lossy(m.payload.as_bytes())
                )),
                Event::Closed(r) => panic!("closed: {r}"),
                _ => {}
            }
        }
        while let Some(b) = client.poll_transmit() {
            s.write_all(&b).unwrap();
        }
        if messages.len() == 3 {
            break;
        }
        if subscribed && !published && client.state() == ConnState::Connected {
            published = true;
            broker.wait_subscribed("alias/#");
            for p in ["1", "2", "3"] {
                broker.publish(&[
                    "-V",
                    "mqttv5",
                    "-t",
                    "alias/long/topic/name",
                    "-m",
                    p,
                    "-D",
                    "publish",
                    "topic-alias",
                    "1",
                ]);
            }
        }
        let n = s
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("{e}: so far {messages:?}, subscribed {subscribed}"));
        assert!(n > 0, "the broker closed the connection");
        wire.extend_from_slice(&buf[..n]);
        client.handle_bytes(now, &buf[..n]);
    }
    assert_eq!(
        messages,
        [
            "alias/long/topic/name 1",
            "alias/long/topic/name 2",
            "alias/long/topic/name 3"
        ]
    );
    // On the wire: the first PUBLISH carries the topic and sets alias 1; the others carry
    // the alias alone.
    let d = Decoder::new(Protocol::V5);
    let mut rest = &wire[..];
    let mut publishes = Vec::new();
    while let Ok(Decoded::Complete(p, n)) = d.decode(rest) {
        if let Packet::Publish(p) = p {
            publishes.push((
                p.topic.as_str().to_string(),
                p.properties.topic_alias().map(|a| a.get()),
            ));
        }
        rest = &rest[n..];
    }
    assert_eq!(
        publishes,
        [
            ("alias/long/topic/name".to_string(), Some(1)),
            (String::new(), Some(1)),
            (String::new(), Some(1))
        ]
    );
}

#[test]
fn the_will_is_delivered_after_an_abrupt_close() {
    if !clients_available("the_will_is_delivered_after_an_abrupt_close") {
        return;
    }
    let mut broker = Broker::start();
    for (version, v) in LEVELS {
        let topic = format!("wills/{v}");
        let watcher = broker.sub(&[
            "-V", version, "-t", &topic, "-q", "1", "-C", "1", "-W", "10",
        ]);
        broker.wait_subscribed(&topic);
        let mut dying = broker.sub(&[
            "-V",
            version,
            "-t",
            "nothing",
            "--will-topic",
            &topic,
            "--will-payload",
            "gone",
            "--will-qos",
            "1",
        ]);
        broker.wait_subscribed("nothing");
        // SIGKILL: the connection ends without DISCONNECT ([MQTT-3.1.2-8]).
        dying.kill().unwrap();
        let _ = dying.wait();
        let out = finish(watcher);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(lines(&out), ["gone"], "{version}");
    }
}

/// [MQTT-3.1.2-24]: a client silent for one and a half times its Keep Alive is
/// disconnected (and its Will published: a raw CONNECT with Keep Alive 1 s and a Will).
#[test]
fn mqtt_3_1_2_24_a_silent_client_is_closed_after_one_and_a_half_keep_alives() {
    if !clients_available(
        "mqtt_3_1_2_24_a_silent_client_is_closed_after_one_and_a_half_keep_alives",
    ) {
        return;
    }
    let mut broker = Broker::start();
    let watcher = broker.sub(&["-t", "silent/will", "-C", "1", "-W", "10"]);
    broker.wait_subscribed("silent/will");
    let mut s = TcpStream::connect(("127.0.0.1", broker.port)).unwrap();
    // CONNECT 3.1.1, Will flag + Clean Session, Keep Alive 1, id "quiet", will silent/will
    // "late".
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b0000_0110, 0, 1];
    for field in [&b"quiet"[..], b"silent/will", b"late"] {
        body.extend_from_slice(&(field.len() as u16).to_be_bytes());
        body.extend_from_slice(field);
    }
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend_from_slice(&body);
    s.write_all(&packet).unwrap();
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut connack = [0u8; 4];
    s.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 2, 0, 0]);
    // Then nothing: the broker closes the connection.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    let out = finish(watcher);
    assert_eq!(lines(&out), ["late"]);
}
