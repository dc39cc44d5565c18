//! Our `client` example (the client connection machine over a `TcpStream`) against a real
//! mosquitto, started by the test on a free loopback port: MQTT 3.1.1 and 5.0, QoS 0, 1 and
//! 2 both ways, a retained message, a session resumed with a message queued while the
//! client was away, and a Will delivered after an abrupt close.
//!
//! mosquitto is found on `PATH`. When it is missing the tests fail with the install command
//! if `CI` is set (`.ci/run` installs it), and are otherwise skipped, visibly, by name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use mqtt_integration_tests::peers::{self, finish, lines, Mosquitto};

/// Whether mosquitto is there; otherwise fails under `CI`, or says the test is skipped.
fn mosquitto_available(test: &str) -> bool {
    peers::available(test, &["mosquitto"])
}

/// A mosquitto on a free loopback port, stopped on drop.
type Broker = Mosquitto;

/// The `client` example, built by `cargo test` next to this test binary.
fn client_bin() -> PathBuf {
    peers::example_bin("mqtt-codec", "client")
}

fn client(port: u16, args: &[&str]) -> Child {
    Command::new(client_bin())
        .arg("--port")
        .arg(port.to_string())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the subscriber says its subscriptions are answered (so that a publisher
/// started next cannot be earlier than the subscription).
fn wait_subscribed(c: &mut Child) {
    peers::wait_for_stderr_line(c, "client: subscribed");
}

#[test]
fn our_client_publishes_and_subscribes_through_mosquitto_at_each_level_and_qos() {
    if !mosquitto_available(
        "our_client_publishes_and_subscribes_through_mosquitto_at_each_level_and_qos",
    ) {
        return;
    }
    let broker = Broker::start();
    for protocol in ["4", "5"] {
        for qos in ["0", "1", "2"] {
            let id = format!("sub-{protocol}-{qos}");
            let mut sub = client(
                broker.port,
                &[
                    "--protocol",
                    protocol,
                    "--id",
                    &id,
                    "--sub",
                    "interop/#",
                    "--qos",
                    qos,
                    "--count",
                    "2",
                    "--timeout",
                    "10",
                ],
            );
            wait_subscribed(&mut sub);
            let publ = finish(client(
                broker.port,
                &[
                    "--protocol",
                    protocol,
                    "--pub",
                    "interop/a=hello",
                    "--pub",
                    "interop/b=world",
                    "--qos",
                    qos,
                    "--id",
                    &format!("pub-{protocol}-{qos}"),
                ],
            ));
            assert!(
                publ.status.success(),
                "publisher {protocol}/{qos}: {publ:?}"
            );
            let got = finish(sub);
            assert!(got.status.success(), "subscriber {protocol}/{qos}: {got:?}");
            assert_eq!(
                lines(&got),
                ["interop/a hello", "interop/b world"],
                "level {protocol} QoS {qos}"
            );
        }
    }
}

#[test]
fn a_retained_message_reaches_a_later_subscriber() {
    if !mosquitto_available("a_retained_message_reaches_a_later_subscriber") {
        return;
    }
    let broker = Broker::start();
    for protocol in ["4", "5"] {
        let topic = format!("retained/{protocol}");
        let publ = finish(client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--pub",
                &format!("{topic}=kept"),
                "--retain",
                "--qos",
                "1",
            ],
        ));
        assert!(publ.status.success(), "{publ:?}");
        let got = finish(client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--sub",
                &topic,
                "--count",
                "1",
                "--timeout",
                "10",
            ],
        ));
        assert!(got.status.success(), "{got:?}");
        assert_eq!(lines(&got), [format!("{topic} kept")]);
    }
}

#[test]
fn a_session_resumes_with_what_was_queued_while_away() {
    if !mosquitto_available("a_session_resumes_with_what_was_queued_while_away") {
        return;
    }
    let broker = Broker::start();
    for protocol in ["4", "5"] {
        let id = format!("durable-{protocol}");
        let filter = format!("away/{protocol}/#");
        // Subscribe with a session that outlives the connection, then leave.
        let first = finish(client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--id",
                &id,
                "--clean",
                "0",
                "--sub",
                &filter,
                "--qos",
                "1",
                "--timeout",
                "1",
            ],
        ));
        assert!(first.status.success(), "{first:?}");
        // A message while away.
        let publ = finish(client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--pub",
                &format!("away/{protocol}/x=queued"),
                "--qos",
                "1",
            ],
        ));
        assert!(publ.status.success(), "{publ:?}");
        // Back on the same session: the broker delivers it.
        let back = finish(client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--id",
                &id,
                "--clean",
                "0",
                "--sub",
                &filter,
                "--qos",
                "1",
                "--count",
                "1",
                "--timeout",
                "10",
            ],
        ));
        assert!(back.status.success(), "{back:?}");
        assert_eq!(lines(&back), [format!("away/{protocol}/x queued")]);
    }
}

#[test]
fn the_will_is_delivered_after_an_abrupt_close() {
    if !mosquitto_available("the_will_is_delivered_after_an_abrupt_close") {
        return;
    }
    let broker = Broker::start();
    for protocol in ["4", "5"] {
        let topic = format!("wills/{protocol}");
        let mut watcher = client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--sub",
                &topic,
                "--qos",
                "1",
                "--count",
                "1",
                "--timeout",
                "10",
            ],
        );
        wait_subscribed(&mut watcher);
        // A client with a Will that subscribes (so that it stays) and is then killed: the
        // network connection ends without DISCONNECT.
        let mut doomed = client(
            broker.port,
            &[
                "--protocol",
                protocol,
                "--will",
                &format!("{topic}=gone"),
                "--qos",
                "1",
                "--sub",
                "nothing/here",
                "--timeout",
                "30",
            ],
        );
        wait_subscribed(&mut doomed);
        doomed.kill().unwrap();
        let _ = doomed.wait();
        let got = finish(watcher);
        assert!(got.status.success(), "{got:?}");
        assert_eq!(lines(&got), [format!("{topic} gone")]);
    }
}
