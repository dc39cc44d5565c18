//! A command-line MQTT client on the client connection machine and a plain
//! `std::net::TcpStream`: no async runtime. Subscribes, publishes, prints what arrives.
//!
//! ```text
//! cargo run -q -p mqtt-codec --example client -- --port 1883 --sub 'demo/#' --count 1 &
//! cargo run -q -p mqtt-codec --example client -- --port 1883 --pub demo/a=hello --qos 1
//! ```
//!
//! Each message received is printed as `TOPIC PAYLOAD` on one line; once the broker
//! answered the subscriptions, `client: subscribed: CODES` goes to stderr. The client exits after
//! `--count N` messages, after `--timeout S` seconds, or (with nothing to wait for) once what
//! it published is acknowledged. Run with `--help` for the options.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant as Clock};

use mqtt_codec::session::{Client, ClientOptions, Event, Outcome, Session};
use mqtt_codec::{shared, DisconnectReason, Instant, Protocol, QoS};

const USAGE: &str = "\
usage: client [options]

Connects to an MQTT broker, subscribes and publishes, and prints each message received as
'TOPIC PAYLOAD' on one line (and 'client: subscribed: CODES' on stderr once the broker
answered the subscriptions).

options:
  --host HOST          broker host (default 127.0.0.1)
  --port PORT          broker port (default 1883)
  --protocol 4|5       4 = MQTT 3.1.1, 5 = MQTT 5.0 (default 5)
  --id ID              client identifier (default: empty, the broker assigns one at 5.0;
                       at 3.1.1 an empty one needs a clean session)
  --clean 0|1          Clean Start / Clean Session (default 1)
  --keep-alive S       Keep Alive in seconds (default 30)
  --sub FILTER         subscribe to FILTER (repeatable)
  --pub TOPIC=PAYLOAD  publish PAYLOAD to TOPIC (repeatable), once subscribed
  --qos 0|1|2          QoS of the subscriptions and publications (default 0)
  --retain             publish with RETAIN
  --will TOPIC=PAYLOAD a Will, published by the broker if the connection ends without
                       DISCONNECT (at --qos)
  --count N            exit after N messages received
  --timeout S          exit after S seconds (default: none with --count or --sub, else 10)
  -h, --help           print this help

Exit status: 0 on success, 1 when the connection fails or closes early, 2 on bad usage,
3 on --timeout before --count messages.
";

#[derive(Debug, Clone)]
struct Args {
    host: String,
    port: u16,
    protocol: Protocol,
    id: String,
    clean: bool,
    keep_alive: u16,
    subs: Vec<String>,
    pubs: Vec<(String, String)>,
    qos: QoS,
    retain: bool,
    will: Option<(String, String)>,
    count: Option<u64>,
    timeout: Option<u64>,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 1883,
        protocol: Protocol::V5,
        id: String::new(),
        clean: true,
        keep_alive: 30,
        subs: Vec::new(),
        pubs: Vec::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        will: None,
        count: None,
        timeout: None,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--host" => a.host = value("a host")?,
            "--port" => a.port = value("a port")?.parse().map_err(|_| "invalid --port")?,
            "--protocol" => {
                a.protocol = match value("4 or 5")?.as_str() {
                    "4" => Protocol::V3_1_1,
                    "5" => Protocol::V5,
                    v => return Err(format!("invalid --protocol {v:?} (4 or 5)")),
                }
            }
            "--id" => a.id = value("an identifier")?,
            "--clean" => a.clean = value("0 or 1")? != "0",
            "--keep-alive" => {
                a.keep_alive = value("seconds")?
                    .parse()
                    .map_err(|_| "invalid --keep-alive")?
            }
            "--sub" => a.subs.push(value("a filter")?),
            "--pub" => {
                let v = value("TOPIC=PAYLOAD")?;
                let (t, p) = v.split_once('=').ok_or("--pub takes TOPIC=PAYLOAD")?;
                a.pubs.push((t.to_string(), p.to_string()));
            }
            "--qos" => {
                a.qos = value("0, 1 or 2")?
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| QoS::try_from(n).ok())
                    .ok_or("invalid --qos (0, 1 or 2)")?
            }
            "--retain" => a.retain = true,
            "--will" => {
                let v = value("TOPIC=PAYLOAD")?;
                let (t, p) = v.split_once('=').ok_or("--will takes TOPIC=PAYLOAD")?;
                a.will = Some((t.to_string(), p.to_string()));
            }
            "--count" => a.count = Some(value("a number")?.parse().map_err(|_| "invalid --count")?),
            "--timeout" => {
                a.timeout = Some(value("seconds")?.parse().map_err(|_| "invalid --timeout")?)
            }
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if a.timeout.is_none() && a.count.is_none() && a.subs.is_empty() {
        a.timeout = Some(10);
    }
    Ok(Some(a))
}

fn run(a: &Args) -> Result<ExitCode, String> {
    let start = Clock::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let deadline = a.timeout.map(|s| start + Duration::from_secs(s));
    let mut socket = TcpStream::connect((a.host.as_str(), a.port))
        .map_err(|e| format!("connect to {}:{}: {e}", a.host, a.port))?;
    socket.set_nodelay(true).ok();
    let id = shared::Str::new(a.id.clone()).map_err(|e| format!("--id: {e}"))?;
    let mut connect = shared::Connect::new(a.protocol, id, a.keep_alive);
    connect.clean_start = a.clean;
    if let Some((t, p)) = &a.will {
        let topic = shared::TopicName::new(t.clone()).map_err(|e| format!("--will {t:?}: {e}"))?;
        connect.will = Some(
            shared::Will::new(topic, p.clone().into_bytes(), a.qos).map_err(|e| e.to_string())?,
        );
    }
    if a.protocol.is_v5() && !a.clean {
        connect.properties.set_session_expiry_interval(u32::MAX);
    }
    let mut client = Client::new(connect, ClientOptions::default(), Session::new())
        .map_err(|e| e.to_string())?;
    client.connect(now()).map_err(|e| e.to_string())?;

    let mut received = 0u64;
    let mut pending_subacks = 0usize;
    let mut unacknowledged = 0usize;
    let mut published = false;
    let mut buf = vec![0u8; 64 * 1024];
    let stdout = std::io::stdout();
    loop {
        while let Some(bytes) = client.poll_transmit() {
            socket
                .write_all(&bytes)
                .map_err(|e| format!("write: {e}"))?;
        }
        while let Some(event) = client.poll_event() {
            match event {
                Event::Connected(_) if !a.subs.is_empty() => {
                    let subs: Vec<shared::Subscription> = a
                        .subs
                        .iter()
                        .map(|f| {
                            shared::TopicFilter::new(f.clone())
                                .map(|f| shared::Subscription::new(f, a.qos))
                                .map_err(|e| format!("--sub {f:?}: {e}"))
                        })
                        .collect::<Result<_, _>>()?;
                    client
                        .subscribe(subs, Default::default())
                        .map_err(|e| e.to_string())?;
                    pending_subacks += 1;
                }
                Event::SubAck(s) => {
                    pending_subacks = pending_subacks.saturating_sub(1);
                    let codes: Vec<String> = s.reasons.iter().map(|r| format!("{r:?}")).collect();
                    eprintln!("client: subscribed: {}", codes.join(", "));
                }
                Event::Message(m) => {
                    let mut out = stdout.lock();
                    let _ = writeln!(
                        out,
                        "{} {}",
                        m.topic.as_str(),
                        String::from_utf8_lossy(m.payload.as_bytes())
                    );
                    let _ = out.flush();
                    received += 1;
                }
                Event::PublishComplete { outcome, .. } => {
                    unacknowledged = unacknowledged.saturating_sub(1);
                    if let Outcome::Acknowledged(r) = outcome {
                        if u8::from(r) >= 0x80 {
                            eprintln!("client: publish refused: {r:?}");
                        }
                    }
                }
                Event::Closed(reason) => {
                    return Err(format!("connection closed: {reason}"));
                }
                _ => {}
            }
        }
        // Publish once subscribed (so that a client may receive its own messages).
        if !published
            && client.state() == mqtt_codec::session::ConnState::Connected
            && pending_subacks == 0
        {
            published = true;
            for (t, p) in &a.pubs {
                let topic =
                    shared::TopicName::new(t.clone()).map_err(|e| format!("--pub {t:?}: {e}"))?;
                let mut m = shared::Publish::new(topic, p.clone().into_bytes());
                m.retain = a.retain;
                if client
                    .publish(m, a.qos)
                    .map_err(|e| e.to_string())?
                    .is_some()
                {
                    unacknowledged += 1;
                }
            }
            continue;
        }
        let done_receiving =
            a.count.is_some_and(|n| received >= n) || (a.count.is_none() && a.subs.is_empty());
        if published && unacknowledged == 0 && done_receiving {
            client
                .disconnect(DisconnectReason::NormalDisconnection)
                .map_err(|e| e.to_string())?;
            while let Some(bytes) = client.poll_transmit() {
                let _ = socket.write_all(&bytes);
            }
            return Ok(ExitCode::SUCCESS);
        }
        if deadline.is_some_and(|d| Clock::now() >= d) {
            let _ = client.disconnect(DisconnectReason::NormalDisconnection);
            while let Some(bytes) = client.poll_transmit() {
                let _ = socket.write_all(&bytes);
            }
            return Ok(if a.count.is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            });
        }
        // What the events above made the machine send goes before waiting.
        while let Some(bytes) = client.poll_transmit() {
            socket
                .write_all(&bytes)
                .map_err(|e| format!("write: {e}"))?;
        }
        // Wait for bytes until the machine's next deadline or ours, whichever is first.
        let mut wait = client
            .poll_timeout()
            .map(|t| Duration::from_millis(t.as_millis().saturating_sub(now().as_millis())));
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Clock::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        socket
            .set_read_timeout(Some(
                wait.unwrap_or(Duration::from_secs(3600))
                    .max(Duration::from_millis(1)),
            ))
            .map_err(|e| e.to_string())?;
        match socket.read(&mut buf) {
            Ok(0) => {
                client.handle_link_lost(now());
            }
            Ok(n) => client.handle_bytes(now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                client.handle_timeout(now())
            }
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("client: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::from(1)
        }
    }
}
