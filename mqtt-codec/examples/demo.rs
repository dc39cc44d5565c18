//! The library's main job in one run, with nothing but Rust installed: a client and a
//! server connection machine wired together in memory (no network, no runtime, virtual
//! time), printed as a transcript.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! The client connects at MQTT 5.0, subscribes, publishes at QoS 0, 1 and 2 (the server's
//! application echoes each message back to the subscriber), then the link drops in the
//! middle of a QoS 2 exchange and the session resumes on a new one: the message in flight is
//! resent with DUP and delivered exactly once. `--protocol 4` runs the same at MQTT 3.1.1.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::ExitCode;

use mqtt_codec::generic::Packet;
use mqtt_codec::session::{Client, ClientOptions, Event, Outcome, Server, ServerOptions, Session};
use mqtt_codec::{shared, Decoded, Decoder, Instant, Protocol, QoS, SubAckReason, MAX_PACKET_SIZE};

const USAGE: &str = "\
usage: demo [--protocol 4|5]

A client and a server connection machine of mqtt-codec wired together in memory: connect,
subscribe, publish at QoS 0, 1 and 2, a dropped link and a resumed session. Prints one line
per packet (time, direction, type, key fields, bytes in hex) and per application event.

options:
  --protocol 4|5   4 = MQTT 3.1.1, 5 = MQTT 5.0 (default)
  -h, --help       print this help
";

/// Which way bytes go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    ToServer,
    ToClient,
}

struct Demo {
    client: Client,
    server: Server,
    now: Instant,
    protocol: Protocol,
    link_up: bool,
    /// The session the server application keeps for the client between connections.
    stored: Option<Session>,
}

impl Demo {
    fn print_packets(&self, dir: Dir, bytes: &[u8]) {
        let arrow = match dir {
            Dir::ToServer => "client -> server",
            Dir::ToClient => "client <- server",
        };
        let lost = if self.link_up {
            ""
        } else {
            "   (lost: the link is down)"
        };
        let mut d = Decoder::new(self.protocol).max_packet_size(MAX_PACKET_SIZE);
        let mut rest = bytes;
        while let Ok(Decoded::Complete(p, n)) = d.decode(rest) {
            if let Packet::Connect(c) = &p {
                d.set_protocol(c.protocol);
            }
            println!(
                "{:>7}  {arrow}  {:<11} {:<34} {}{lost}",
                time(self.now),
                p.packet_type().name(),
                fields(&p.to_shared()),
                hex(&rest[..n]),
            );
            rest = &rest[n..];
        }
    }

    /// Moves bytes both ways and plays the server's application until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(b) = self.client.poll_transmit() {
                moved = true;
                self.print_packets(Dir::ToServer, &b);
                if self.link_up {
                    self.server.handle_bytes(self.now, &b);
                }
            }
            while let Some(e) = self.server.poll_event() {
                moved = true;
                self.server_app(e);
            }
            while let Some(b) = self.server.poll_transmit() {
                moved = true;
                self.print_packets(Dir::ToClient, &b);
                if self.link_up {
                    self.client.handle_bytes(self.now, &b);
                }
            }
            while let Some(e) = self.client.poll_event() {
                moved = true;
                println!("{:>7}  client app:       {}", time(self.now), event(&e));
            }
            if !moved {
                return;
            }
        }
    }

    /// The server's application: accept, grant, echo every message to the subscriber.
    fn server_app(&mut self, e: Event) {
        println!("{:>7}  server app:       {}", time(self.now), event(&e));
        match e {
            Event::Connect(c) => {
                let session = if c.clean_start {
                    None
                } else {
                    self.stored.take()
                };
                self.server
                    .accept(self.now, session, Default::default())
                    .unwrap();
            }
            Event::Subscribe(s) => {
                let reasons: Vec<SubAckReason> = s
                    .subscriptions
                    .iter()
                    .map(|x| match x.options.qos {
                        QoS::AtMostOnce => SubAckReason::GrantedQoS0,
                        QoS::AtLeastOnce => SubAckReason::GrantedQoS1,
                        QoS::ExactlyOnce => SubAckReason::GrantedQoS2,
                    })
                    .collect();
                self.server
                    .suback(s.packet_id, &reasons, Default::default())
                    .unwrap();
            }
            Event::Message(m) => {
                // A broker would match the topic against its subscription table; the demo's
                // client subscribed to everything.
                let qos = m.qos();
                let echo = shared::Publish::new(m.topic.clone(), m.payload.clone().into_inner());
                self.server.publish(echo, qos).unwrap();
            }
            _ => {}
        }
    }

    fn say(&self, what: &str) {
        println!("\n{:>7}  -- {what}", time(self.now));
    }

    fn publish(&mut self, topic: &str, payload: &str, qos: QoS) {
        let t = shared::TopicName::new(topic.to_string()).unwrap();
        self.client
            .publish(shared::Publish::new(t, payload.as_bytes().to_vec()), qos)
            .unwrap();
    }
}

fn time(t: Instant) -> String {
    format!("{}.{:03}s", t.as_millis() / 1000, t.as_millis() % 1000)
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// The fields a reader looks at, per packet type.
fn fields(p: &shared::Packet) -> String {
    match p {
        Packet::Connect(c) => format!(
            "id={} clean={} keep-alive={}",
            c.client_id.as_str(),
            u8::from(c.clean_start),
            c.keep_alive
        ),
        Packet::ConnAck(c) => format!(
            "{:?} session-present={}",
            c.reason,
            u8::from(c.session_present)
        ),
        Packet::Publish(m) => {
            let mut s = format!("q{} ", m.qos() as u8);
            if let Some(id) = m.packet_id() {
                s.push_str(&format!("id={id} dup={} ", u8::from(m.delivery.dup())));
            }
            s.push_str(&format!(
                "{} {:?}",
                m.topic.as_str(),
                String::from_utf8_lossy(m.payload.as_bytes())
            ));
            s
        }
        Packet::PubAck(a) => format!("id={}", a.packet_id),
        Packet::PubRec(a) => format!("id={}", a.packet_id),
        Packet::PubRel(a) => format!("id={}", a.packet_id),
        Packet::PubComp(a) => format!("id={}", a.packet_id),
        Packet::Subscribe(s) => {
            let subs: Vec<String> = s
                .subscriptions
                .iter()
                .map(|x| format!("{} q{}", x.filter.as_str(), x.options.qos as u8))
                .collect();
            format!("id={} {}", s.packet_id, subs.join(", "))
        }
        Packet::SubAck(s) => {
            let r: Vec<String> = s.reasons.iter().map(|r| format!("{r:?}")).collect();
            format!("id={} {}", s.packet_id, r.join(", "))
        }
        Packet::Disconnect(d) => format!("{:?}", d.reason),
        _ => String::new(),
    }
}

fn event(e: &Event) -> String {
    match e {
        Event::Connect(c) => format!("CONNECT from {:?}: accepted", c.client_id.as_str()),
        Event::Connected(c) => format!("connected (session present: {})", c.session_present),
        Event::Subscribe(s) => format!("SUBSCRIBE {}: granted as asked", s.packet_id),
        Event::SubAck(s) => format!("subscribed (request {})", s.packet_id),
        Event::Message(m) => format!(
            "message {} {:?} at QoS {}",
            m.topic.as_str(),
            String::from_utf8_lossy(m.payload.as_bytes()),
            m.qos() as u8
        ),
        Event::PublishComplete { packet_id, outcome } => match outcome {
            Outcome::Acknowledged(r) => format!("message {packet_id} delivered ({r:?})"),
            other => format!("message {packet_id}: {other:?}"),
        },
        Event::Closed(r) => format!("connection closed: {r}"),
        other => format!("{other:?}"),
    }
}

fn run(protocol: Protocol) {
    let now = Instant::ZERO;
    let id = shared::Str::new("demo-client").unwrap();
    let mut connect = shared::Connect::new(protocol, id, 30);
    connect.clean_start = false;
    if protocol.is_v5() {
        // The session outlives the connection: it can be resumed.
        connect.properties.set_session_expiry_interval(300);
    }
    let client = Client::new(connect, ClientOptions::default(), Session::new()).unwrap();
    let mut d = Demo {
        client,
        server: Server::new(now, ServerOptions::default()),
        now,
        protocol,
        link_up: true,
        stored: None,
    };
    let level = if protocol.is_v5() { "5.0" } else { "3.1.1" };
    println!("mqtt-codec demo: a client and a server machine at MQTT {level}, in memory\n");
    println!("   time  direction         packet      fields                             bytes");

    d.say("connect");
    d.client.connect(d.now).unwrap();
    d.settle();

    d.say("subscribe to everything under demo/");
    let f = shared::TopicFilter::new("demo/#").unwrap();
    d.client
        .subscribe(
            vec![shared::Subscription::new(f, QoS::ExactlyOnce)],
            Default::default(),
        )
        .unwrap();
    d.settle();

    for (qos, payload) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        d.now = Instant::from_millis(d.now.as_millis() + 1000);
        d.say(&format!(
            "publish at QoS {} (echoed back by the server's application)",
            qos as u8
        ));
        d.publish("demo/greeting", payload, qos);
        d.settle();
    }

    d.now = Instant::from_millis(d.now.as_millis() + 1000);
    d.say("publish at QoS 2 while the link breaks: the PUBLISH arrives, the PUBREC is lost");
    d.publish("demo/important", "exactly once", QoS::ExactlyOnce);
    while let Some(b) = d.client.poll_transmit() {
        d.print_packets(Dir::ToServer, &b);
        d.server.handle_bytes(d.now, &b);
    }
    while let Some(e) = d.server.poll_event() {
        d.server_app(e);
    }
    d.link_up = false;
    d.settle();
    d.client.handle_link_lost(d.now);
    d.server.handle_link_lost(d.now);
    d.settle();
    d.stored = Some(d.server.take_session());

    d.now = Instant::from_millis(d.now.as_millis() + 5000);
    d.say("a new link; the session resumes: the QoS 2 message goes again with DUP=1 and is not delivered twice");
    d.link_up = true;
    d.server = Server::new(d.now, ServerOptions::default());
    d.client.reconnect(d.now).unwrap();
    d.settle();

    d.now = Instant::from_millis(d.now.as_millis() + 30_000);
    d.say("30 s of silence: keep-alive");
    d.client.handle_timeout(d.now);
    d.server.handle_timeout(d.now);
    d.settle();

    d.say("disconnect");
    d.client
        .disconnect(mqtt_codec::DisconnectReason::NormalDisconnection)
        .unwrap();
    d.settle();
}

fn main() -> ExitCode {
    let mut protocol = Protocol::V5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--protocol" => match args.next().as_deref() {
                Some("4") => protocol = Protocol::V3_1_1,
                Some("5") => protocol = Protocol::V5,
                other => {
                    eprintln!("demo: --protocol takes 4 or 5, not {other:?}\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("demo: unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    run(protocol);
    ExitCode::SUCCESS
}
