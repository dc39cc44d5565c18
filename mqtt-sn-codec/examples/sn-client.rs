//! An MQTT-SN client on UDP, built on the client machine (`mqtt_sn_codec::client`):
//! connects to a gateway, subscribes, publishes, prints what arrives, and can sleep. Plain
//! `std::net`, no async runtime.
//!
//! ```text
//! cargo run -q -p mqtt-sn-codec --example sn-client -- --gateway 127.0.0.1:10000 \
//!     --sub 'sensors/#' --count 1 &
//! cargo run -q -p mqtt-sn-codec --example sn-client -- --gateway 127.0.0.1:10000 \
//!     --pub sensors/temp=21.5 --qos 1
//! ```
//!
//! Each message received is printed as `TOPIC PAYLOAD` on one line; once the gateway
//! answered the subscriptions, `sn-client: subscribed` goes to stderr (and
//! `sn-client: asleep` each time it falls asleep with `--sleep`). Run with `--help`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant as Clock};

use mqtt_codec::{Bytes, Instant};
use mqtt_sn_codec::client::{
    Client, ClientConfig, ClientState, Destination, Event, PublishOutcome, Topic,
};
use mqtt_sn_codec::generic::TopicRef;
use mqtt_sn_codec::{shared, QoS, ShortTopic, TopicId};

const USAGE: &str = "\
usage: sn-client [options]

An MQTT-SN 1.2 client on UDP: connects to a gateway, subscribes and publishes, and prints
each message received as 'TOPIC PAYLOAD' on one line ('sn-client: subscribed' goes to
stderr once the gateway answered the subscriptions).

options:
  --gateway ADDR:PORT     the gateway (default 127.0.0.1:10000)
  --id ID                 ClientId, 1 to 23 characters (default sn-client-PID)
  --keep-alive S          keep-alive in seconds (default 60)
  --sub FILTER            subscribe (repeatable): a predefined topic's name goes as its id,
                          a two-character name as a short topic, anything else in full
  --pub TOPIC=PAYLOAD     publish once subscribed (repeatable); topics as for --sub, a
                          full name is registered first
  --qos 0|1|2|-1          QoS of subscriptions and publications (default 0; -1 publishes
                          without connecting, predefined or short topics only)
  --retain                publish with Retain
  --predefined ID=TOPIC   a predefined topic id (repeatable)
  --sleep S               after subscribing and publishing, sleep in periods of S seconds,
                          waking at the end of each to collect buffered messages
  --trace FILE            append every datagram sent, in hex, one per line, to FILE
  --count N               exit after N messages received
  --timeout S             exit after S seconds (default: none with --count or --sub, else 10)
  -h, --help              print this help

Exit status: 0 on success, 1 when the gateway is lost or refuses, 2 on bad usage, 3 on
--timeout before --count messages.
";

struct Args {
    gateway: String,
    id: String,
    keep_alive: u16,
    subs: Vec<String>,
    pubs: Vec<(String, String)>,
    qos: QoS,
    retain: bool,
    predefined: Vec<(TopicId, String)>,
    sleep: Option<u16>,
    trace: Option<String>,
    count: Option<u64>,
    timeout: Option<u64>,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        gateway: "127.0.0.1:10000".into(),
        id: format!("sn-client-{}", std::process::id()),
        keep_alive: 60,
        subs: Vec::new(),
        pubs: Vec::new(),
        qos: QoS::AtMostOnce,
        retain: false,
        predefined: Vec::new(),
        sleep: None,
        trace: None,
        count: None,
        timeout: None,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--gateway" => a.gateway = value("ADDR:PORT")?,
            "--id" => a.id = value("an id")?,
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
                a.qos = match value("0, 1, 2 or -1")?.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    "2" => QoS::ExactlyOnce,
                    "-1" => QoS::MinusOne,
                    v => return Err(format!("invalid --qos {v:?}")),
                }
            }
            "--retain" => a.retain = true,
            "--predefined" => {
                let v = value("ID=TOPIC")?;
                let (id, topic) = v.split_once('=').ok_or("--predefined takes ID=TOPIC")?;
                let id: u16 = id.parse().map_err(|_| format!("invalid topic id {id:?}"))?;
                a.predefined.push((TopicId(id), topic.to_string()));
            }
            "--trace" => a.trace = Some(value("a file")?),
            "--sleep" => a.sleep = Some(value("seconds")?.parse().map_err(|_| "invalid --sleep")?),
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

/// How a topic goes on the wire: predefined, short, or by name.
fn topic_of(a: &Args, t: &str) -> Result<Topic, String> {
    if let Some((id, _)) = a.predefined.iter().find(|(_, n)| n == t) {
        return Ok(Topic::Predefined(*id));
    }
    if t.len() == 2 && !t.contains(['+', '#']) {
        return ShortTopic::new(t)
            .map(Topic::Short)
            .map_err(|e| e.to_string());
    }
    shared::TopicName::new(t.to_string())
        .map(Topic::Name)
        .map_err(|e| format!("{t:?}: {e}"))
}

fn filter_of(a: &Args, f: &str) -> Result<shared::TopicRef, String> {
    Ok(match topic_of(a, f) {
        Ok(Topic::Predefined(id)) => TopicRef::Predefined(id),
        Ok(Topic::Short(s)) => TopicRef::Short(s),
        _ => TopicRef::Name(
            shared::TopicFilter::new(f.to_string()).map_err(|e| format!("--sub {f:?}: {e}"))?,
        ),
    })
}

fn run(a: &Args) -> Result<ExitCode, String> {
    let start = Clock::now();
    let now = || Instant::from_millis(start.elapsed().as_millis() as u64);
    let deadline = a.timeout.map(|s| start + Duration::from_secs(s));
    let gateway: SocketAddr = a
        .gateway
        .to_socket_addrs()
        .map_err(|e| format!("--gateway {}: {e}", a.gateway))?
        .next()
        .ok_or("--gateway resolves to nothing")?;
    let socket = UdpSocket::bind(if gateway.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .map_err(|e| e.to_string())?;
    let mut config = ClientConfig::new(&a.id, a.keep_alive);
    config.predefined = a.predefined.clone();
    config.t_retry = Duration::from_secs(2);
    let mut client: Client<SocketAddr> = Client::new(config, u64::from(std::process::id()));
    let stdout = std::io::stdout();
    let mut trace = match &a.trace {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("--trace {path}: {e}"))?,
        ),
        None => None,
    };
    let mut send = |client: &mut Client<SocketAddr>| -> Result<(), String> {
        while let Some(tx) = client.poll_transmit() {
            if let Some(f) = trace.as_mut() {
                let hex: String = tx.data.iter().map(|b| format!("{b:02x}")).collect();
                let _ = writeln!(f, "{hex}");
            }
            if let Destination::To(to) = tx.to {
                socket
                    .send_to(&tx.data, to)
                    .map_err(|e| format!("send: {e}"))?;
            }
        }
        Ok(())
    };

    if a.qos == QoS::MinusOne {
        // §6.8: no connection, no reply.
        for (t, p) in &a.pubs {
            let topic = topic_of(a, t)?;
            client
                .publish_minus_one(now(), gateway, topic, Bytes::from(p.clone()), a.retain)
                .map_err(|e| e.to_string())?;
        }
        send(&mut client)?;
        if a.subs.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    client.connect(now(), gateway).map_err(|e| e.to_string())?;

    let mut received = 0u64;
    let mut pending_subacks = 0usize;
    let mut unacknowledged = 0usize;
    let mut published = false;
    let mut slept = false;
    let mut buf = vec![0u8; 65_536];
    loop {
        send(&mut client)?;
        while let Some(event) = client.poll_event() {
            match event {
                Event::Connected => {
                    let qos = if a.qos == QoS::MinusOne {
                        QoS::AtMostOnce
                    } else {
                        a.qos
                    };
                    for f in &a.subs {
                        let topic = filter_of(a, f)?;
                        client
                            .subscribe(now(), topic, qos)
                            .map_err(|e| e.to_string())?;
                        pending_subacks += 1;
                    }
                }
                Event::SubAck { code, .. } => {
                    pending_subacks = pending_subacks.saturating_sub(1);
                    if !code.is_accepted() {
                        eprintln!("sn-client: subscription refused: {code:?}");
                    }
                    if pending_subacks == 0 {
                        eprintln!("sn-client: subscribed");
                    }
                }
                Event::Message { topic, payload, .. } => {
                    let mut out = stdout.lock();
                    let _ = writeln!(out, "{} {}", &*topic, String::from_utf8_lossy(&payload));
                    let _ = out.flush();
                    received += 1;
                }
                Event::PublishComplete { outcome, .. } => {
                    unacknowledged = unacknowledged.saturating_sub(1);
                    if outcome != PublishOutcome::Delivered {
                        eprintln!("sn-client: publish not delivered: {outcome:?}");
                    }
                }
                Event::ConnectRefused(code) => return Err(format!("connection refused: {code:?}")),
                Event::Lost => return Err("the gateway is lost".into()),
                Event::Disconnected { by_gateway: true } => {
                    return Err("the gateway disconnected".into())
                }
                Event::Asleep => eprintln!("sn-client: asleep"),
                _ => {}
            }
        }
        if !published && client.state() == ClientState::Active && pending_subacks == 0 {
            published = true;
            if a.qos != QoS::MinusOne {
                for (t, p) in &a.pubs {
                    let topic = topic_of(a, t)?;
                    let id = client
                        .publish(now(), topic, Bytes::from(p.clone()), a.qos, a.retain)
                        .map_err(|e| e.to_string())?;
                    if id.is_some() {
                        unacknowledged += 1;
                    }
                }
            }
            continue;
        }
        if let Some(s) = a.sleep {
            if published
                && !slept
                && unacknowledged == 0
                && client.queued() == 0
                && client.state() == ClientState::Active
            {
                slept = true;
                client.sleep(now(), s).map_err(|e| e.to_string())?;
                continue;
            }
        }
        let done_receiving =
            a.count.is_some_and(|n| received >= n) || (a.count.is_none() && a.subs.is_empty());
        let settled = published && unacknowledged == 0 && client.queued() == 0;
        if settled && done_receiving {
            if matches!(client.state(), ClientState::Active | ClientState::Asleep) {
                let _ = client.disconnect(now());
                send(&mut client)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        if deadline.is_some_and(|d| Clock::now() >= d) {
            let _ = client.disconnect(now());
            send(&mut client)?;
            return Ok(if a.count.is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            });
        }
        // What the events above made the machine send goes before waiting.
        send(&mut client)?;
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
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => client.handle_datagram(now(), from, &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                client.handle_timeout(now())
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                // ICMP port unreachable from an earlier send: the gateway is not there (yet).
                client.handle_timeout(now())
            }
            Err(e) => return Err(format!("recv: {e}")),
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
            eprintln!("sn-client: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sn-client: {e}");
            ExitCode::from(1)
        }
    }
}
