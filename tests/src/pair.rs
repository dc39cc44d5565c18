//! A deterministic two-party harness: a client and a server connection machine joined by a
//! simulated link, in virtual time.
//!
//! The harness moves every byte either side transmits to the other (in chunks of
//! [`Pair::chunk`] bytes, to exercise any split), plays a small server application (accept
//! every CONNECT with the session it stored for the client, grant every subscription at
//! the QoS asked), and writes a transcript: one line per packet on the link and per event,
//! in order. `now` only moves when a test says so, usually to the earliest deadline of
//! either machine ([`Pair::advance`]). A dropped link loses the bytes in transit.
//!
//! The server application's refusals (`accept`, `suback` returning an error) are written
//! to the transcript as `s! …` lines, never panics: the `mqtt_session` fuzz target drives
//! the harness with hostile bytes too. The file depends on `mqtt-codec` alone, so that the
//! fuzz target can include it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use mqtt_codec::generic::Packet;
use mqtt_codec::session::{
    Client, ClientOptions, CloseReason, Event, Outcome, Server, ServerOptions, Session,
};
use mqtt_codec::{
    shared, Decoded, Decoder, Instant, Protocol, ReasonCode, SubAckReason, UnsubAckReason,
};

/// Which side of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client machine.
    Client,
    /// The server machine.
    Server,
}

/// A client, a server, the link between them, and the transcript.
#[derive(Debug)]
pub struct Pair {
    /// The client machine.
    pub client: Client,
    /// The server machine of the current network connection.
    pub server: Server,
    /// The options each new server machine gets.
    pub server_options: ServerOptions,
    /// Virtual time.
    pub now: Instant,
    /// The session the server application keeps for the client between connections: the
    /// old server machine's, taken at [`Pair::reconnect`].
    pub stored: Option<Session>,
    /// One line per packet and per event, in order.
    pub log: Vec<String>,
    /// Every event of the client, in order.
    pub client_events: Vec<Event>,
    /// Every event of the server, in order.
    pub server_events: Vec<Event>,
    /// Whether bytes get through.
    pub link_up: bool,
    /// The size of the pieces bytes are delivered in.
    pub chunk: usize,
    /// Whether the server application accepts every CONNECT.
    pub auto_accept: bool,
    /// Whether the server application answers SUBSCRIBE and UNSUBSCRIBE.
    pub auto_suback: bool,
    /// Whether the server application loses the client's session at the next
    /// [`Pair::reconnect`] (as a broker that restarted without persistence).
    pub lose_session: bool,
    /// The largest packet each side sent, CONNECT aside: (client, server).
    pub largest: (usize, usize),
    /// Every packet that crossed the link, one element each, in order (both ways).
    pub wire: Vec<Vec<u8>>,
    protocol: Protocol,
    assigned: u32,
    cut: Option<Cut>,
}

/// A predicate on transcript lines that cuts the link.
struct Cut(Box<dyn Fn(&str) -> bool>);

impl std::fmt::Debug for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cut")
    }
}

impl Pair {
    /// A pair that has not connected yet.
    pub fn new(connect: shared::Connect, client: ClientOptions, server: ServerOptions) -> Self {
        let protocol = connect.protocol;
        let now = Instant::ZERO;
        Pair {
            client: Client::new(connect, client, Session::new()).expect("a valid CONNECT"),
            server: Server::new(now, server),
            server_options: server,
            now,
            stored: None,
            log: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            link_up: true,
            chunk: usize::MAX,
            auto_accept: true,
            auto_suback: true,
            lose_session: false,
            largest: (0, 0),
            wire: Vec::new(),
            protocol,
            assigned: 0,
            cut: None,
        }
    }

    /// A pair at `protocol` with client identifier `id`, Keep Alive `keep_alive`, default
    /// options.
    pub fn simple(protocol: Protocol, id: &str, keep_alive: u16) -> Self {
        let c = shared::Connect::new(
            protocol,
            shared::Str::new(id.to_string()).unwrap(),
            keep_alive,
        );
        Pair::new(c, ClientOptions::default(), ServerOptions::default())
    }

    /// Connects and lets the handshake run.
    pub fn connect(&mut self) {
        if let Err(e) = self.client.connect(self.now) {
            self.log.push(format!("c! connect: {e}"));
        }
        self.settle();
    }

    /// Moves bytes and plays the server application until nothing moves.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                self.carry(Side::Client, &bytes);
            }
            moved |= self.server_app();
            while let Some(bytes) = self.server.poll_transmit() {
                moved = true;
                self.carry(Side::Server, &bytes);
            }
            while let Some(e) = self.client.poll_event() {
                moved = true;
                self.log.push(format!("c: {}", describe_event(&e)));
                self.client_events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("the machines never went quiet");
    }

    fn carry(&mut self, from: Side, bytes: &[u8]) {
        let arrow = if from == Side::Client { "c>s" } else { "s>c" };
        for (desc, packet) in split_packets(bytes, self.protocol) {
            let largest = match from {
                Side::Client => &mut self.largest.0,
                Side::Server => &mut self.largest.1,
            };
            // CONNECT goes out before the server's limits are known.
            if !desc.starts_with("CONNECT ") {
                *largest = (*largest).max(packet.len());
            }
            let line = format!("{arrow} {desc}");
            if self.link_up && self.cut.as_ref().is_some_and(|cut| (cut.0)(&line)) {
                self.cut = None;
                self.link_up = false;
            }
            if !self.link_up {
                self.log.push(format!("{line} (lost)"));
                continue;
            }
            self.log.push(line);
            self.wire.push(packet.to_vec());
            let chunk = self.chunk.max(1);
            for piece in packet.chunks(chunk) {
                match from {
                    Side::Client => self.server.handle_bytes(self.now, piece),
                    Side::Server => self.client.handle_bytes(self.now, piece),
                }
            }
        }
    }

    /// Settles, but the link goes silent (every later byte lost, both ways) from the first
    /// packet whose transcript line `cut` matches, that packet included.
    pub fn settle_until(&mut self, cut: impl Fn(&str) -> bool + 'static) {
        self.cut = Some(Cut(Box::new(cut)));
        self.settle();
        self.cut = None;
    }

    /// The server application: records events, accepts, grants. Returns whether it did
    /// anything.
    fn server_app(&mut self) -> bool {
        let mut any = false;
        while let Some(e) = self.server.poll_event() {
            any = true;
            self.log.push(format!("s: {}", describe_event(&e)));
            match &e {
                Event::Connect(c) if self.auto_accept => {
                    let session = if c.clean_start {
                        None
                    } else {
                        self.stored.take()
                    };
                    let mut props = shared::ConnAckProperties::new();
                    if c.protocol.is_v5() && c.client_id.as_str().is_empty() {
                        self.assigned += 1;
                        let id = format!("auto-{}", self.assigned);
                        props.set_assigned_client_identifier(mqtt_codec::Str::new(&id).unwrap());
                    }
                    if let Err(e) = self.server.accept(self.now, session, props) {
                        self.log.push(format!("s! accept: {e}"));
                    }
                }
                Event::Subscribe(s) if self.auto_suback => {
                    let reasons: Vec<SubAckReason> = s
                        .subscriptions
                        .iter()
                        .map(|x| match x.options.qos {
                            mqtt_codec::QoS::AtMostOnce => SubAckReason::GrantedQoS0,
                            mqtt_codec::QoS::AtLeastOnce => SubAckReason::GrantedQoS1,
                            mqtt_codec::QoS::ExactlyOnce => SubAckReason::GrantedQoS2,
                        })
                        .collect();
                    if let Err(e) = self
                        .server
                        .suback(s.packet_id, &reasons, Default::default())
                    {
                        self.log.push(format!("s! suback: {e}"));
                    }
                }
                Event::Unsubscribe(u) if self.auto_suback => {
                    let reasons = vec![UnsubAckReason::Success; u.filters.len()];
                    if let Err(e) = self
                        .server
                        .unsuback(u.packet_id, &reasons, Default::default())
                    {
                        self.log.push(format!("s! unsuback: {e}"));
                    }
                }
                _ => {}
            }
            self.server_events.push(e);
        }
        any
    }

    /// The earliest deadline of either machine.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Jumps to the earliest deadline, wakes both machines, settles. Returns false when
    /// neither has a deadline.
    pub fn advance(&mut self) -> bool {
        let Some(t) = self.next_deadline() else {
            return false;
        };
        self.advance_to(t);
        true
    }

    /// Moves time to `t` (never backwards), wakes both machines, settles.
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
        self.log.push(format!("@ {}", self.now.as_millis()));
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.settle();
    }

    /// The network connection breaks: bytes in transit are lost, both machines are told.
    pub fn drop_link(&mut self) {
        self.link_up = false;
        self.log.push("-- link down".to_string());
        self.settle();
        self.client.handle_link_lost(self.now);
        self.server.handle_link_lost(self.now);
        self.settle();
    }

    /// A new network connection on the same session: a new server machine, and the
    /// client's `reconnect`.
    pub fn reconnect(&mut self) {
        self.link_up = true;
        self.log.push("-- new link".to_string());
        // The broker keeps the old connection's session (what was published to the client
        // after the link went down included) for the new one, unless told to lose it.
        let old = self.server.take_session();
        self.stored = if self.lose_session { None } else { Some(old) };
        self.lose_session = false;
        self.server = Server::new(self.now, self.server_options);
        if let Err(e) = self.client.reconnect(self.now) {
            self.log.push(format!("c! reconnect: {e}"));
        }
        self.settle();
    }

    /// The log lines that are packets or events (not time marks or link changes).
    pub fn transcript(&self) -> Vec<&str> {
        self.log
            .iter()
            .filter(|l| !l.starts_with('@') && !l.starts_with("--"))
            .map(String::as_str)
            .collect()
    }

    /// Forgets the transcript so far.
    pub fn clear_log(&mut self) {
        self.log.clear();
    }

    /// The application messages `side` received, as `topic payload` strings.
    pub fn received(&self, side: Side) -> Vec<String> {
        let events = match side {
            Side::Client => &self.client_events,
            Side::Server => &self.server_events,
        };
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message(p) => Some(format!(
                    "{} {}",
                    p.topic.as_str(),
                    String::from_utf8_lossy(p.payload.as_bytes())
                )),
                _ => None,
            })
            .collect()
    }
}

/// One line per packet in `bytes` (whole packets, as a machine transmits them).
pub fn describe_bytes(bytes: &[u8], protocol: Protocol) -> Vec<String> {
    split_packets(bytes, protocol)
        .into_iter()
        .map(|(d, _)| d)
        .collect()
}

/// Each packet in `bytes` with its description.
pub fn split_packets(bytes: &[u8], protocol: Protocol) -> Vec<(String, &[u8])> {
    let mut d = Decoder::new(protocol).max_packet_size(mqtt_codec::MAX_PACKET_SIZE);
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match d.decode(rest) {
            Ok(Decoded::Complete(p, n)) => {
                if let Packet::Connect(c) = &p {
                    d.set_protocol(c.protocol);
                }
                out.push((
                    describe_packet(&p.to_shared()),
                    rest.get(..n).unwrap_or_default(),
                ));
                rest = rest.get(n..).unwrap_or_default();
            }
            Ok(Decoded::Partial(_)) => {
                out.push((format!("<partial {} bytes>", rest.len()), rest));
                break;
            }
            Err(e) => {
                out.push((format!("<undecodable: {e}>"), rest));
                break;
            }
        }
    }
    out
}

/// A short description of a packet: type and the fields the scenarios look at.
pub fn describe_packet(p: &shared::Packet) -> String {
    let mut s = String::new();
    match p {
        Packet::Connect(c) => {
            let _ = write!(
                s,
                "CONNECT clean={} ka={} id={}",
                u8::from(c.clean_start),
                c.keep_alive,
                c.client_id.as_str()
            );
        }
        Packet::ConnAck(c) => {
            let _ = write!(
                s,
                "CONNACK sp={} {:?}",
                u8::from(c.session_present),
                c.reason
            );
        }
        Packet::Publish(p) => {
            let _ = write!(s, "PUBLISH q{}", p.qos() as u8);
            if let Some(id) = p.packet_id() {
                let _ = write!(s, " id={id} dup={}", u8::from(p.delivery.dup()));
            }
            if p.retain {
                s.push_str(" retain");
            }
            let _ = write!(s, " '{}'", p.topic.as_str());
            if let Some(a) = p.properties.topic_alias() {
                let _ = write!(s, " alias={a}");
            }
            let _ = write!(s, " {}", String::from_utf8_lossy(p.payload.as_bytes()));
        }
        Packet::PubAck(a) => ack(&mut s, "PUBACK", a.packet_id, a.reason.into()),
        Packet::PubRec(a) => ack(&mut s, "PUBREC", a.packet_id, a.reason.into()),
        Packet::PubRel(a) => ack(&mut s, "PUBREL", a.packet_id, a.reason.into()),
        Packet::PubComp(a) => ack(&mut s, "PUBCOMP", a.packet_id, a.reason.into()),
        Packet::Subscribe(x) => {
            let _ = write!(s, "SUBSCRIBE {}", x.packet_id);
            for sub in x.subscriptions.iter() {
                let _ = write!(s, " {} q{}", sub.filter.as_str(), sub.options.qos as u8);
            }
        }
        Packet::SubAck(x) => {
            let _ = write!(s, "SUBACK {}", x.packet_id);
            for r in x.reasons.iter() {
                let _ = write!(s, " {r:?}");
            }
        }
        Packet::Unsubscribe(x) => {
            let _ = write!(s, "UNSUBSCRIBE {}", x.packet_id);
            for f in x.filters.iter() {
                let _ = write!(s, " {}", f.as_str());
            }
        }
        Packet::UnsubAck(x) => {
            let _ = write!(s, "UNSUBACK {}", x.packet_id);
            for r in x.reasons.iter() {
                let _ = write!(s, " {r:?}");
            }
        }
        Packet::PingReq => s.push_str("PINGREQ"),
        Packet::PingResp => s.push_str("PINGRESP"),
        Packet::Disconnect(d) => {
            let _ = write!(s, "DISCONNECT {:?}", d.reason);
        }
        Packet::Auth(a) => {
            let _ = write!(s, "AUTH {:?}", a.reason);
        }
    }
    s
}

fn ack(s: &mut String, name: &str, id: mqtt_codec::PacketId, reason: ReasonCode) {
    let _ = write!(s, "{name} {id}");
    if reason != ReasonCode::Success {
        let _ = write!(s, " {reason:?}");
    }
}

/// A short description of an event.
pub fn describe_event(e: &Event) -> String {
    match e {
        Event::Connected(c) => format!("connected sp={}", u8::from(c.session_present)),
        Event::Connect(c) => format!("connect id={}", c.client_id.as_str()),
        Event::Message(p) => format!(
            "message '{}' q{} {}",
            p.topic.as_str(),
            p.qos() as u8,
            String::from_utf8_lossy(p.payload.as_bytes())
        ),
        Event::PublishComplete { packet_id, outcome } => match outcome {
            Outcome::Acknowledged(ReasonCode::Success) => format!("complete {packet_id}"),
            other => format!("complete {packet_id} {other:?}"),
        },
        Event::SubAck(s) => format!("suback {}", s.packet_id),
        Event::UnsubAck(u) => format!("unsuback {}", u.packet_id),
        Event::Subscribe(s) => format!("subscribe {}", s.packet_id),
        Event::Unsubscribe(u) => format!("unsubscribe {}", u.packet_id),
        Event::RequestLost { packet_id } => format!("request lost {packet_id}"),
        Event::Auth(a) => format!("auth {:?}", a.reason),
        Event::Will(w) => format!("will '{}'", w.topic.as_str()),
        Event::SessionExpired => "session expired".to_string(),
        Event::Closed(r) => format!("closed {}", close_name(r)),
    }
}

/// A short name for a close reason.
pub fn close_name(r: &CloseReason) -> String {
    match r {
        CloseReason::Disconnected(r) => format!("disconnected {r:?}"),
        CloseReason::PeerDisconnected(d) => format!("peer-disconnected {:?}", d.reason),
        CloseReason::Refused(r) => format!("refused {r:?}"),
        CloseReason::ProtocolError(e) => format!("protocol-error {e}"),
        CloseReason::KeepAliveTimeout => "keep-alive-timeout".to_string(),
        CloseReason::Unusable(e) => format!("unusable {e}"),
        CloseReason::LinkLost => "link-lost".to_string(),
    }
}

/// Checks a transcript for what a sender must never do on the wire: a new PUBLISH with an
/// identifier still in flight ([MQTT-2.3.1-2]), more PUBLISH packets unacknowledged on one
/// connection than the receiver's Receive Maximum ([MQTT-3.3.4-7], [MQTT-3.3.4-9]). Only
/// meaningful for traffic between the two machines (bytes injected from outside bypass it).
#[derive(Debug, Default)]
pub struct WireMonitor {
    /// Per direction ("c>s", "s>c"): identifiers of messages in flight (sent, not completed).
    open: BTreeMap<&'static str, BTreeSet<u16>>,
    /// Per direction: identifiers whose PUBLISH went out on the current connection and whose
    /// flow has not ended (a PUBREL resent on a new connection takes no quota).
    this_connection: BTreeMap<&'static str, BTreeSet<u16>>,
    /// What it found wrong.
    pub errors: Vec<String>,
}

impl WireMonitor {
    fn reverse(dir: &'static str) -> &'static str {
        if dir == "c>s" {
            "s>c"
        } else {
            "c>s"
        }
    }

    /// One transcript line; `limits` is (the client's, the server's) Receive Maximum.
    pub fn see(&mut self, line: &str, limits: (usize, usize)) {
        if line.starts_with("-- new link") {
            self.this_connection.clear();
            return;
        }
        // A CONNACK without a session present starts both sides afresh: nothing of the
        // old session is in flight any more.
        if line.starts_with("s>c CONNACK sp=0") && !line.ends_with("(lost)") {
            self.open.clear();
            return;
        }
        let (dir, rest) = match line.split_once(' ') {
            Some((d @ ("c>s" | "s>c"), rest)) if !line.ends_with("(lost)") => {
                (if d == "c>s" { "c>s" } else { "s>c" }, rest)
            }
            _ => return,
        };
        let words: Vec<&str> = rest.split(' ').collect();
        let id = |w: &str| w.strip_prefix("id=").and_then(|n| n.parse::<u16>().ok());
        match words.first().copied() {
            Some("PUBLISH") if words.get(1) != Some(&"q0") => {
                let n = words.get(2).and_then(|w| id(w)).unwrap();
                let dup = words.get(3) == Some(&"dup=1");
                let open = self.open.entry(dir).or_default();
                if !dup && open.contains(&n) {
                    self.errors
                        .push(format!("{dir}: identifier {n} reused while in flight"));
                }
                open.insert(n);
                let conn = self.this_connection.entry(dir).or_default();
                conn.insert(n);
                let max = if dir == "c>s" { limits.1 } else { limits.0 };
                if conn.len() > max {
                    self.errors.push(format!(
                        "{dir}: {} in flight over Receive Maximum {max}",
                        conn.len()
                    ));
                }
            }
            Some(kind @ ("PUBACK" | "PUBCOMP" | "PUBREC")) => {
                let n: u16 = words.get(1).and_then(|w| w.parse().ok()).unwrap();
                let refused = words.len() > 2;
                if kind != "PUBREC" || refused {
                    let back = WireMonitor::reverse(dir);
                    self.open.entry(back).or_default().remove(&n);
                    self.this_connection.entry(back).or_default().remove(&n);
                }
            }
            _ => {}
        }
    }
}
