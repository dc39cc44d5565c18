//! Drives one connection machine (client or server) from a script, for debugging and for
//! tests: what the peer sends, how time passes and what the application asks for come in
//! on stdin; every packet the machine sends, every event and every refusal goes out on
//! stdout, one line each, in order.
//!
//! ```text
//! printf '> 20020000\n! subscribe a/# 1\n' \
//!     | cargo run -q -p mqtt-codec --example replay -- --role client --protocol 4 --id c1
//! ```
//!
//! Run with `--help` for the script and output formats.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, Write};
use std::process::ExitCode;

#[path = "common/hexlines.rs"]
#[allow(dead_code)]
mod hexlines;
use hexlines::{from_hex, to_hex, variant_name};

use mqtt_codec::session::{
    Client, ClientOptions, CloseReason, CommandError, Event, Outcome, Server, ServerOptions,
    Session,
};
use mqtt_codec::{
    shared, ConnectReason, Decoded, Decoder, DisconnectReason, Instant, Protocol, QoS,
    SubAckReason, UnsubAckReason, MAX_PACKET_SIZE,
};

const USAGE: &str = "\
usage: replay --role client|server [options] < script

Drives one MQTT connection machine from a script on stdin, one item a line (blank lines
and lines starting with '#' are skipped):
  > HEX          bytes arriving from the peer, in any split (half a packet, several)
  @ MILLIS       time advances to MILLIS milliseconds since the start (every deadline
                 on the way is handled in order)
  ! COMMAND      publish TOPIC QOS PAYLOAD | subscribe FILTER QOS | unsubscribe FILTER
                 | ping | disconnect | reconnect

It prints one line per output, in order:
  < HEX TYPE                              a packet the machine sent
  event message TOPIC QOS PAYLOAD_HEX     an application message delivered
  event NAME ...                          any other event (connected, connect, complete,
                                          suback, unsuback, request-lost, subscribe,
                                          unsubscribe, auth, will, session-expired)
  closed REASON                           the machine ended the connection
  error KIND: message                     a refused command or an unreadable line

options:
  --role client|server   which machine to drive (required)
  --protocol 3|4|5       3 = MQTT 3.1, 4 = MQTT 3.1.1 (default), 5 = MQTT 5.0; for a
                         server the client's CONNECT sets it
  --id ID                client: the client identifier (default replay)
  --keep-alive SECONDS   client: the Keep Alive (default 60)
  --clean 0|1            client: Clean Start / Clean Session (default 1)
  --refuse               server: refuse every CONNECT (Not authorized) instead of
                         accepting it; a server grants every subscription at the QoS
                         asked, and its publish command sends to the client
  -h, --help             print this help

'reconnect' drops the link and opens a new one on the same session: a client sends
CONNECT again (without Clean Start) and resends what is in flight once CONNACK says the
session is present; a server waits for the next CONNECT and resumes the session.
";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    server: bool,
    protocol: Protocol,
    id: String,
    keep_alive: u16,
    clean: bool,
    refuse: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut role = None;
    let mut a = Args {
        server: false,
        protocol: Protocol::V3_1_1,
        id: "replay".to_string(),
        keep_alive: 60,
        clean: true,
        refuse: false,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (flag.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value ({what})"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--role" => {
                role = Some(match value("client or server")?.as_str() {
                    "client" => false,
                    "server" => true,
                    v => return Err(format!("invalid role {v:?} (expected client or server)")),
                })
            }
            "--protocol" => {
                a.protocol = match value("3, 4 or 5")?.as_str() {
                    "3" => Protocol::V3_1,
                    "4" => Protocol::V3_1_1,
                    "5" => Protocol::V5,
                    v => return Err(format!("invalid protocol level {v:?} (expected 3, 4 or 5)")),
                }
            }
            "--id" => a.id = value("a client identifier")?,
            "--keep-alive" => {
                let v = value("seconds")?;
                a.keep_alive = v
                    .parse()
                    .map_err(|_| format!("invalid keep alive {v:?} (0 to 65535 seconds)"))?;
            }
            "--clean" => {
                a.clean = match value("0 or 1")?.as_str() {
                    "0" => false,
                    "1" => true,
                    v => return Err(format!("invalid --clean {v:?} (expected 0 or 1)")),
                }
            }
            "--refuse" => a.refuse = true,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    a.server = role.ok_or("--role client|server is required")?;
    Ok(Some(a))
}

/// The machine being driven.
enum Machine {
    Client(Box<Client>),
    Server(Box<Server>),
}

struct Replay {
    machine: Machine,
    args: Args,
    now: Instant,
    /// The session a server keeps for its client across `reconnect`.
    stored: Option<Session>,
    out: Vec<String>,
}

impl Replay {
    fn new(args: Args) -> Result<Self, String> {
        let now = Instant::ZERO;
        let machine = if args.server {
            Machine::Server(Box::new(Server::new(now, ServerOptions::default())))
        } else {
            let id = shared::Str::new(args.id.clone()).map_err(|e| format!("--id: {e}"))?;
            let mut c = shared::Connect::new(args.protocol, id, args.keep_alive);
            c.clean_start = args.clean;
            if args.protocol.is_v5() && !args.clean {
                // A session worth resuming outlives the connection.
                c.properties.set_session_expiry_interval(u32::MAX);
            }
            let mut client = Client::new(c, ClientOptions::default(), Session::new())
                .map_err(|e| e.to_string())?;
            client.connect(now).map_err(|e| e.to_string())?;
            Machine::Client(Box::new(client))
        };
        let mut r = Replay {
            machine,
            args,
            now,
            stored: None,
            out: Vec::new(),
        };
        r.drain();
        Ok(r)
    }

    fn protocol(&self) -> Protocol {
        match &self.machine {
            Machine::Client(c) => c.protocol(),
            Machine::Server(s) => s.protocol(),
        }
    }

    /// Prints what the machine has to say, acting as the server application on the way:
    /// the bytes sent so far, then one event, and again, so that an answer the application
    /// gives to an event comes right after it.
    fn drain(&mut self) {
        loop {
            while let Some(bytes) = match &mut self.machine {
                Machine::Client(c) => c.poll_transmit(),
                Machine::Server(s) => s.poll_transmit(),
            } {
                self.print_packets(&bytes);
            }
            let event = match &mut self.machine {
                Machine::Client(c) => c.poll_event(),
                Machine::Server(s) => s.poll_event(),
            };
            match event {
                Some(e) => self.on_event(e),
                None => return,
            }
        }
    }

    fn print_packets(&mut self, bytes: &[u8]) {
        let mut d = Decoder::new(self.protocol()).max_packet_size(MAX_PACKET_SIZE);
        let mut rest = bytes;
        while !rest.is_empty() {
            match d.decode(rest) {
                Ok(Decoded::Complete(p, n)) => {
                    if let mqtt_codec::Packet::Connect(c) = &p {
                        d.set_protocol(c.protocol);
                    }
                    self.out.push(format!(
                        "< {} {}",
                        to_hex(&rest[..n]),
                        p.packet_type().name()
                    ));
                    rest = &rest[n..];
                }
                _ => {
                    self.out.push(format!("< {} ?", to_hex(rest)));
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        let line = match &e {
            Event::Message(p) => format!(
                "event message {} {} {}",
                p.topic.as_str(),
                p.qos() as u8,
                to_hex(p.payload.as_bytes())
            ),
            Event::Connected(c) => {
                format!(
                    "event connected session-present={}",
                    u8::from(c.session_present)
                )
            }
            Event::Connect(c) => format!(
                "event connect {} protocol={} clean={} keep-alive={}",
                c.client_id.as_str(),
                c.protocol.level(),
                u8::from(c.clean_start),
                c.keep_alive
            ),
            Event::PublishComplete { packet_id, outcome } => match outcome {
                Outcome::Acknowledged(r) => format!("event complete {packet_id} {r:?}"),
                Outcome::SessionLost => format!("event complete {packet_id} session-lost"),
                Outcome::Dropped => format!("event complete {packet_id} dropped"),
                Outcome::Expired => format!("event complete {packet_id} expired"),
            },
            Event::SubAck(s) => {
                let codes: Vec<String> = s.reasons.iter().map(|r| format!("{r:?}")).collect();
                format!("event suback {} {}", s.packet_id, codes.join(" "))
            }
            Event::UnsubAck(u) => {
                let codes: Vec<String> = u.reasons.iter().map(|r| format!("{r:?}")).collect();
                format!("event unsuback {} {}", u.packet_id, codes.join(" "))
                    .trim_end()
                    .to_string()
            }
            Event::Subscribe(s) => {
                let subs: Vec<String> = s
                    .subscriptions
                    .iter()
                    .map(|x| format!("{}:{}", x.filter.as_str(), x.options.qos as u8))
                    .collect();
                format!("event subscribe {} {}", s.packet_id, subs.join(" "))
            }
            Event::Unsubscribe(u) => {
                let filters: Vec<&str> = u.filters.iter().map(|f| f.get()).collect();
                format!("event unsubscribe {} {}", u.packet_id, filters.join(" "))
            }
            Event::RequestLost { packet_id } => format!("event request-lost {packet_id}"),
            Event::Auth(a) => format!("event auth {:?}", a.reason),
            Event::Will(w) => format!(
                "event will {} {}",
                w.topic.as_str(),
                to_hex(w.payload.as_bytes())
            ),
            Event::SessionExpired => "event session-expired".to_string(),
            Event::Closed(r) => format!("closed {}", close_reason(r)),
        };
        self.out.push(line);
        // The server application.
        if let Machine::Server(s) = &mut self.machine {
            let now = self.now;
            let result = match e {
                Event::Connect(c) => {
                    if self.args.refuse {
                        s.refuse(now, ConnectReason::NotAuthorized)
                    } else {
                        let session = if c.clean_start {
                            None
                        } else {
                            self.stored.take()
                        };
                        let mut props = shared::ConnAckProperties::new();
                        if c.protocol.is_v5() && c.client_id.as_str().is_empty() {
                            props.set_assigned_client_identifier(
                                mqtt_codec::Str::new("replay-assigned").unwrap(),
                            );
                        }
                        s.accept(now, session, props)
                    }
                }
                Event::Subscribe(sub) => {
                    let reasons: Vec<SubAckReason> = sub
                        .subscriptions
                        .iter()
                        .map(|x| match x.options.qos {
                            QoS::AtMostOnce => SubAckReason::GrantedQoS0,
                            QoS::AtLeastOnce => SubAckReason::GrantedQoS1,
                            QoS::ExactlyOnce => SubAckReason::GrantedQoS2,
                        })
                        .collect();
                    s.suback(sub.packet_id, &reasons, Default::default())
                }
                Event::Unsubscribe(u) => {
                    let reasons = vec![UnsubAckReason::Success; u.filters.len()];
                    s.unsuback(u.packet_id, &reasons, Default::default())
                }
                _ => Ok(()),
            };
            if let Err(e) = result {
                self.out.push(command_error(&e));
            }
        }
    }

    fn advance(&mut self, target: Instant) {
        // Every deadline on the way, in order, as a real event loop would wake.
        for _ in 0..1_000_000 {
            let next = match &self.machine {
                Machine::Client(c) => c.poll_timeout(),
                Machine::Server(s) => s.poll_timeout(),
            };
            match next {
                Some(t) if t <= target && t >= self.now => {
                    self.now = t;
                    self.timeout();
                }
                _ => break,
            }
        }
        self.now = self.now.max(target);
        self.timeout();
    }

    fn timeout(&mut self) {
        let now = self.now;
        match &mut self.machine {
            Machine::Client(c) => c.handle_timeout(now),
            Machine::Server(s) => s.handle_timeout(now),
        }
        self.drain();
    }

    fn command(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let result: Result<(), String> = match words.as_slice() {
            ["publish", topic, qos, ..] => {
                let payload = line
                    .splitn(4, char::is_whitespace)
                    .nth(3)
                    .map(str::trim_start)
                    .unwrap_or("");
                match (shared::TopicName::new(topic.to_string()), parse_qos(qos)) {
                    (Ok(t), Some(q)) => {
                        let m = shared::Publish::new(t, payload.as_bytes().to_vec());
                        let r = match &mut self.machine {
                            Machine::Client(c) => c.publish(m, q),
                            Machine::Server(s) => s.publish(m, q),
                        };
                        r.map(|_| ()).map_err(|e| command_error(&e))
                    }
                    (Err(e), _) => Err(format!("error InvalidTopic: {e}")),
                    (_, None) => Err(format!("error InvalidQos: {qos:?} (expected 0, 1 or 2)")),
                }
            }
            ["subscribe", filter, qos] => {
                match (shared::TopicFilter::new(filter.to_string()), parse_qos(qos)) {
                    (Ok(f), Some(q)) => match &mut self.machine {
                        Machine::Client(c) => c
                            .subscribe(vec![shared::Subscription::new(f, q)], Default::default())
                            .map(|_| ())
                            .map_err(|e| command_error(&e)),
                        Machine::Server(_) => Err(not_for_server("subscribe")),
                    },
                    (Err(e), _) => Err(format!("error InvalidFilter: {e}")),
                    (_, None) => Err(format!("error InvalidQos: {qos:?} (expected 0, 1 or 2)")),
                }
            }
            ["unsubscribe", filter] => match shared::TopicFilter::new(filter.to_string()) {
                Ok(f) => match &mut self.machine {
                    Machine::Client(c) => c
                        .unsubscribe(vec![f], Default::default())
                        .map(|_| ())
                        .map_err(|e| command_error(&e)),
                    Machine::Server(_) => Err(not_for_server("unsubscribe")),
                },
                Err(e) => Err(format!("error InvalidFilter: {e}")),
            },
            ["ping"] => match &mut self.machine {
                Machine::Client(c) => c.ping().map_err(|e| command_error(&e)),
                Machine::Server(_) => Err(not_for_server("ping")),
            },
            ["disconnect"] => match &mut self.machine {
                Machine::Client(c) => c.disconnect(DisconnectReason::NormalDisconnection),
                Machine::Server(s) => s.disconnect(DisconnectReason::NormalDisconnection),
            }
            .map_err(|e| command_error(&e)),
            ["reconnect"] => {
                let now = self.now;
                match &mut self.machine {
                    Machine::Client(c) => c.reconnect(now).map_err(|e| command_error(&e)),
                    Machine::Server(s) => {
                        s.handle_link_lost(now);
                        self.drain();
                        if let Machine::Server(s) = &mut self.machine {
                            let session = s.take_session();
                            self.stored = Some(session);
                        }
                        self.machine =
                            Machine::Server(Box::new(Server::new(now, ServerOptions::default())));
                        Ok(())
                    }
                }
            }
            _ => Err(format!("error UnknownCommand: {line:?}")),
        };
        if let Err(e) = result {
            self.out.push(e);
        }
        self.drain();
    }

    fn line(&mut self, raw: &str) {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        let (kind, rest) = line.split_at(1);
        let rest = rest.trim();
        match kind {
            ">" => match from_hex(
                &rest
                    .bytes()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect::<Vec<u8>>(),
            ) {
                Ok(bytes) => {
                    let now = self.now;
                    match &mut self.machine {
                        Machine::Client(c) => c.handle_bytes(now, &bytes),
                        Machine::Server(s) => s.handle_bytes(now, &bytes),
                    }
                    self.drain();
                }
                Err(e) => self.out.push(format!("error InvalidHex: {e}")),
            },
            "@" => match rest.parse::<u64>() {
                Ok(ms) => self.advance(Instant::from_millis(ms)),
                Err(_) => self
                    .out
                    .push(format!("error InvalidTime: {rest:?} (milliseconds)")),
            },
            "!" => self.command(rest),
            _ => self.out.push(format!("error UnknownLine: {line:?}")),
        }
    }
}

fn parse_qos(s: &str) -> Option<QoS> {
    s.parse::<u8>().ok().and_then(|n| QoS::try_from(n).ok())
}

fn not_for_server(what: &str) -> String {
    format!("error WrongRole: {what} is a client command")
}

fn command_error(e: &CommandError) -> String {
    format!("error {}: {e}", variant_name(&format!("{e:?}")))
}

fn close_reason(r: &CloseReason) -> String {
    match r {
        CloseReason::Disconnected(r) => format!("disconnected {r:?}"),
        CloseReason::PeerDisconnected(d) => format!("peer-disconnected {:?}", d.reason),
        CloseReason::Refused(r) => format!("refused {r:?}"),
        CloseReason::ProtocolError(e) => format!("protocol-error {:?}: {e}", e.disconnect_reason()),
        CloseReason::KeepAliveTimeout => "keep-alive-timeout".to_string(),
        CloseReason::Unusable(e) => format!("unusable {e}"),
        CloseReason::LinkLost => "link-lost".to_string(),
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("replay: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut r = match Replay::new(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("replay: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut flush = |r: &mut Replay| -> bool {
        for l in r.out.drain(..) {
            if writeln!(out, "{l}").is_err() {
                return false;
            }
        }
        true
    };
    if !flush(&mut r) {
        return ExitCode::FAILURE;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else {
            eprintln!("replay: stdin is not UTF-8 text");
            return ExitCode::from(2);
        };
        r.line(&line);
        if !flush(&mut r) {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
