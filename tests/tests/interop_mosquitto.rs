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

use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether mosquitto is there; otherwise fails under `CI`, or says the test is skipped.
fn mosquitto_available(test: &str) -> bool {
    let present = Command::new("mosquitto")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if present {
        return true;
    }
    let msg =
        "mosquitto not found on PATH (install: apt-get install -y mosquitto mosquitto-clients, \
               or ../shared/tools/install-peers.sh)";
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {msg}");
    }
    eprintln!("SKIPPED {test}: {msg}");
    false
}

/// A mosquitto on a free loopback port, stopped on drop.
struct Broker {
    child: Child,
    port: u16,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Broker {
    fn start() -> Broker {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("mqtt-interop-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).unwrap();
        writeln!(
            f,
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false"
        )
        .unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Broker {
            child,
            port,
            _dir: TempDir(dir),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `client` example, built by `cargo test` next to this test binary.
fn client_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("client{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        // Built on demand when this test runs alone.
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "mqtt-codec", "--example", "client"])
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert!(bin.exists(), "{} not built", bin.display());
    bin
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

fn finish(c: Child) -> Output {
    c.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the subscriber says its subscriptions are answered (so that a publisher
/// started next cannot be earlier than the subscription).
fn wait_subscribed(c: &mut Child) {
    use std::io::BufRead as _;
    let err = c.stderr.take().unwrap();
    let mut r = std::io::BufReader::new(err);
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).unwrap();
        assert!(n > 0, "the subscriber ended before subscribing");
        if line.starts_with("client: subscribed") {
            break;
        }
    }
    // Keep draining its stderr so that it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while r.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
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
