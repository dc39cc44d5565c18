//! MQTT-SN end to end with real peers: our `sn-client` → our `sn-gateway` → mosquitto →
//! `mosquitto_sub`, and `mosquitto_pub` → mosquitto → `sn-gateway` → `sn-client`, at QoS 0,
//! 1, 2 and −1 (client to broker; −1 has no way back), on a predefined topic, a short topic
//! and a registered one; and a sleeping client that gets what was buffered when it wakes.
//! Every datagram the gateway and the clients wrote in those runs (`--trace`) is then read
//! by tshark's MQTT-SN dissector without a malformed-packet warning or expert info (but
//! for the dissector limit on SUBSCRIBE with a predefined id, see `sn_vectors.rs`).
//!
//! mosquitto and its clients are found on `PATH`: missing, the tests fail naming the
//! install command under `CI`, and are otherwise reported as skipped, by name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mqtt_integration_tests::peers::{self, finish, lines, Mosquitto, TempDir};
use mqtt_integration_tests::tshark;

const TOOLS: [&str; 3] = ["mosquitto", "mosquitto_pub", "mosquitto_sub"];

/// A free UDP port on loopback.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// mosquitto, our gateway in front of it (predefined topic 1 = `pre/one`), and the trace
/// files every datagram goes to.
struct Setup {
    broker: Mosquitto,
    gateway: Child,
    udp: u16,
    dir: TempDir,
    traces: usize,
}

impl Setup {
    fn start(tag: &str) -> Setup {
        let broker = Mosquitto::start();
        let dir = TempDir::new(&format!("sn-interop-{tag}"));
        let udp = free_udp_port();
        let mut gateway = Command::new(peers::example_bin("mqtt-sn-codec", "sn-gateway"))
            .args(["--listen", &format!("127.0.0.1:{udp}")])
            .args(["--broker", &format!("127.0.0.1:{}", broker.port)])
            .args(["--predefined", "1=pre/one"])
            .arg("--trace")
            .arg(dir.0.join("gateway.hex"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for "listening", then keep draining its stderr.
        let err = gateway.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the gateway says it listens");
            if line.starts_with("sn-gateway: listening on") {
                break;
            }
        }
        Setup {
            broker,
            gateway,
            udp,
            dir,
            traces: 0,
        }
    }

    /// An `sn-client` with `args`, its datagrams traced.
    fn client(&mut self, args: &[&str]) -> Child {
        self.traces += 1;
        Command::new(peers::example_bin("mqtt-sn-codec", "sn-client"))
            .args(["--gateway", &format!("127.0.0.1:{}", self.udp)])
            .args(["--predefined", "1=pre/one"])
            .arg("--trace")
            .arg(self.dir.0.join(format!("client-{}.hex", self.traces)))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn sub(&self, args: &[&str]) -> Child {
        Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.broker.port.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn publish(&self, args: &[&str]) {
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.broker.port.to_string()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "mosquitto_pub {args:?}: {out:?}");
    }

    /// Every traced datagram, from every file.
    fn datagrams(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir.0)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hex"))
            .collect();
        files.sort();
        for f in files {
            out.extend(read_hex(&f));
        }
        out
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.gateway.kill();
        let _ = self.gateway.wait();
    }
}

fn read_hex(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn wait_subscribed(c: &mut Child) {
    peers::wait_for_stderr_line(c, "sn-client: subscribed");
}

/// tshark's MQTT-SN dissector reads every datagram without a warning.
fn check_with_tshark(datagrams: &[Vec<u8>], tag: &str) {
    if !tshark::tools_available(tag) {
        return;
    }
    assert!(!datagrams.is_empty(), "nothing was traced");
    let frames = tshark::dissect(
        datagrams,
        &["-u", "40000,10883"],
        &["-d", "udp.port==10883,mqttsn", "--no-duplicate-keys"],
        tag,
    );
    assert_eq!(frames.len(), datagrams.len());
    let mut errs = Vec::new();
    for (d, frame) in datagrams.iter().zip(&frames) {
        let decoded = mqtt_sn_codec::decode(d).unwrap_or_else(|e| panic!("{d:02x?}: {e}"));
        let layers = frame.get("_source").and_then(|s| s.get("layers"));
        let Some(layers) = layers else {
            errs.push(format!("{d:02x?}: no layers"));
            continue;
        };
        if layers.get("mqttsn").is_none() {
            errs.push(format!("{d:02x?}: not read as MQTT-SN"));
            continue;
        }
        let mut expert = BTreeSet::new();
        for key in ["mqttsn", "_ws.malformed"] {
            if let Some(x) = layers.get(key) {
                tshark::expert_infos(x, &mut expert);
            }
        }
        // The dissector limit `sn_vectors.rs` documents: a predefined id in SUBSCRIBE or
        // UNSUBSCRIBE is shown as stray characters.
        let predefined_sub = matches!(
            decoded,
            mqtt_sn_codec::Message::Subscribe(mqtt_sn_codec::generic::Subscribe {
                topic: mqtt_sn_codec::TopicRef::Predefined(_),
                ..
            }) | mqtt_sn_codec::Message::Unsubscribe(mqtt_sn_codec::generic::Unsubscribe {
                topic: mqtt_sn_codec::TopicRef::Predefined(_),
                ..
            })
        );
        for e in expert {
            if !(predefined_sub && e.starts_with("Trailing stray characters")) {
                errs.push(format!("{d:02x?} ({decoded:?}): {e}"));
            }
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn sn_client_to_mosquitto_sub_at_every_qos_and_topic_kind() {
    if !peers::available(
        "sn_client_to_mosquitto_sub_at_every_qos_and_topic_kind",
        &TOOLS,
    ) {
        return;
    }
    let mut s = Setup::start("up");
    // What each run publishes: QoS, topic as the client names it, and the topic mosquitto
    // sees (the predefined id's name, the short name, the registered name).
    let mut expected = Vec::new();
    let watcher = s.sub(&["-t", "#", "-v", "-q", "2", "-C", "11", "-W", "20"]);
    std::thread::sleep(Duration::from_millis(300));
    for qos in ["0", "1", "2", "-1"] {
        let mut args: Vec<String> = Vec::new();
        let mut topics = vec![("pre/one", "pre/one"), ("ab", "ab")];
        if qos != "-1" {
            topics.push(("reg/topic", "reg/topic"));
        }
        for (given, seen) in &topics {
            let payload = format!("q{qos}");
            args.push("--pub".into());
            args.push(format!("{given}={payload}"));
            expected.push(format!("{seen} {payload}"));
        }
        args.push("--qos".into());
        args.push(qos.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = finish(s.client(&refs));
        assert!(out.status.success(), "QoS {qos}: {out:?}");
    }
    let got = lines(&finish(watcher));
    let mut got_sorted = got.clone();
    got_sorted.sort();
    expected.sort();
    assert_eq!(got_sorted, expected, "mosquitto_sub saw {got:?}");
    check_with_tshark(&s.datagrams(), "sn-interop-up");
}

#[test]
fn mosquitto_pub_to_sn_client_at_every_qos_and_topic_kind() {
    if !peers::available(
        "mosquitto_pub_to_sn_client_at_every_qos_and_topic_kind",
        &TOOLS,
    ) {
        return;
    }
    let mut s = Setup::start("down");
    for qos in ["0", "1", "2"] {
        // A predefined topic, a short one, and a wildcard whose matches are registered
        // toward the client before the first PUBLISH on them (§6.5).
        let mut c = s.client(&[
            "--sub",
            "pre/one",
            "--sub",
            "ab",
            "--sub",
            "down/#",
            "--qos",
            qos,
            "--count",
            "3",
            "--timeout",
            "15",
        ]);
        wait_subscribed(&mut c);
        for (topic, payload) in [("pre/one", "p"), ("ab", "s"), ("down/x/y", "r")] {
            s.publish(&["-t", topic, "-m", &format!("{payload}{qos}"), "-q", qos]);
        }
        let out = finish(c);
        assert!(out.status.success(), "QoS {qos}: {out:?}");
        let mut got = lines(&out);
        got.sort();
        assert_eq!(
            got,
            [
                format!("ab s{qos}"),
                format!("down/x/y r{qos}"),
                format!("pre/one p{qos}")
            ],
            "QoS {qos}"
        );
    }
    check_with_tshark(&s.datagrams(), "sn-interop-down");
}

#[test]
fn a_sleeping_client_gets_what_was_buffered_when_it_wakes() {
    if !peers::available(
        "a_sleeping_client_gets_what_was_buffered_when_it_wakes",
        &TOOLS,
    ) {
        return;
    }
    let mut s = Setup::start("sleep");
    let mut c = s.client(&[
        "--id",
        "sleepy",
        "--sub",
        "nap/#",
        "--qos",
        "1",
        "--sleep",
        "3",
        "--count",
        "2",
        "--timeout",
        "15",
    ]);
    wait_subscribed(&mut c);
    // Give it time to fall asleep, then publish while it sleeps.
    std::thread::sleep(Duration::from_millis(800));
    s.publish(&["-t", "nap/1", "-m", "first", "-q", "1"]);
    s.publish(&["-t", "nap/2", "-m", "second", "-q", "1"]);
    let out = finish(c);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines(&out), ["nap/1 first", "nap/2 second"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let _ = err;
    let datagrams = s.datagrams();
    // The wake-up went out: a PINGREQ with the ClientId ([SN-5.4.19]).
    assert!(
        datagrams.iter().any(|d| matches!(
            mqtt_sn_codec::decode(d),
            Ok(mqtt_sn_codec::Message::PingReq(Some(id))) if id.as_str() == "sleepy"
        )),
        "no waking PINGREQ in the trace"
    );
    // Nothing reached it while it slept: the messages came after it woke, so the first
    // DISCONNECT with a duration comes before any PUBLISH to it.
    check_with_tshark(&datagrams, "sn-interop-sleep");
}
