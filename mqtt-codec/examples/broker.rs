//! A small MQTT broker on the server connection machine, the subscription table and the
//! retained store, over plain `std::net` sockets: one thread reading and one writing per
//! connection, one lock around the broker's state, one thread for the deadlines. No async
//! runtime.
//!
//! ```text
//! cargo run --release -p mqtt-codec --example broker -- --listen 127.0.0.1:1883
//! ```
//!
//! MQTT 3.1, 3.1.1 and 5.0; QoS 0, 1 and 2; retained messages; wills (with their delay);
//! sessions that outlive the connection (Clean Session 0, Session Expiry Interval) and are
//! resumed or taken over by the same client identifier; keep-alive enforcement; `$share`
//! groups (round robin); topic aliases both ways; subscription identifiers, No Local and
//! Retain As Published. Once it listens it prints `broker: listening on ADDR:PORT` to stderr
//! (with `--listen 127.0.0.1:0` the port is the one the system chose).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::num::{NonZeroU16, NonZeroU32};
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant as Clock};

use mqtt_codec::broker::{Matches, RetainedStore, RoundRobin, SubscriptionTable};
use mqtt_codec::session::{AliasPolicy, CloseReason, Event, Server, ServerOptions};
use mqtt_codec::{
    shared, Bytes, ConnectReason, DisconnectReason, Instant, QoS, SubAckReason, UnsubAckReason,
};

const USAGE: &str = "\
usage: broker [options]

A small MQTT 3.1.1 / 5.0 broker built on mqtt-codec's server connection machine, its
subscription table and its retained-message store. Prints 'broker: listening on ADDR:PORT'
on stderr once it accepts connections.

options:
  --listen ADDR:PORT         address to listen on (default 127.0.0.1:1883; port 0 = any)
  --receive-maximum N        QoS 1 and 2 messages a client may have unacknowledged (default 65535)
  --max-packet-size N        largest packet accepted, bytes (default 268435455)
  --topic-alias-maximum N    topic aliases a 5.0 client may use toward us, and the most we
                             use toward a client that allows them (default 16)
  --max-qos 0|1|2            highest QoS accepted (default 2)
  --verbose                  log connections, subscriptions and closes on stderr
  -h, --help                 print this help
";

#[derive(Debug, Clone)]
struct Args {
    listen: String,
    options: ServerOptions,
    verbose: bool,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        listen: "127.0.0.1:1883".into(),
        options: ServerOptions {
            topic_alias_maximum: 16,
            alias_policy: AliasPolicy::LeastRecentlyUsed { max: 16 },
            ..ServerOptions::default()
        },
        verbose: false,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => a.listen = value("ADDR:PORT")?,
            "--receive-maximum" => {
                a.options.receive_maximum = value("a number")?
                    .parse::<NonZeroU16>()
                    .map_err(|_| "invalid --receive-maximum (1 to 65535)")?
            }
            "--max-packet-size" => {
                a.options.maximum_packet_size = value("bytes")?
                    .parse::<NonZeroU32>()
                    .ok()
                    .filter(|n| n.get() <= mqtt_codec::MAX_PACKET_SIZE)
                    .ok_or("invalid --max-packet-size (1 to 268435455)")?
            }
            "--topic-alias-maximum" => {
                let n: u16 = value("a number")?
                    .parse()
                    .map_err(|_| "invalid --topic-alias-maximum")?;
                a.options.topic_alias_maximum = n;
                a.options.alias_policy = if n == 0 {
                    AliasPolicy::None
                } else {
                    AliasPolicy::LeastRecentlyUsed { max: n }
                };
            }
            "--max-qos" => {
                a.options.maximum_qos = value("0, 1 or 2")?
                    .parse::<u8>()
                    .ok()
                    .and_then(|n| QoS::try_from(n).ok())
                    .ok_or("invalid --max-qos (0, 1 or 2)")?
            }
            "--verbose" => a.verbose = true,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(Some(a))
}

/// What a connection's writer thread is told.
enum Out {
    Data(Bytes),
    /// Write what came before, then close the socket (which also ends its reader).
    Close,
}

/// A live network connection attached to a session.
struct Conn {
    /// Unique per accepted socket: a reader acts on a session only while it is still its.
    no: u64,
    tx: Sender<Out>,
}

/// One session: the machine of its current connection, or of its last one once closed
/// (which keeps the session's messages and the Will and expiry deadlines).
struct Slot {
    server: Server,
    conn: Option<Conn>,
}

/// Everything the connections share, behind one lock.
struct Core {
    options: ServerOptions,
    verbose: bool,
    start: Clock,
    table: SubscriptionTable<u64>,
    retained: RetainedStore,
    policy: RoundRobin,
    matches: Matches<u64>,
    /// Client identifier to session key.
    ids: HashMap<String, u64>,
    slots: HashMap<u64, Slot>,
    next_key: u64,
    /// Sessions that received messages in the current step, to flush once.
    touched: Vec<u64>,
}

impl Core {
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    fn log(&self, what: std::fmt::Arguments<'_>) {
        if self.verbose {
            eprintln!("broker: {what}");
        }
    }

    /// Hands what a session's machine has to send to its writer (dropped when the session
    /// has no connection: the machine keeps what must be resent).
    fn flush(&mut self, key: u64) {
        if let Some(slot) = self.slots.get_mut(&key) {
            while let Some(bytes) = slot.server.poll_transmit() {
                if let Some(c) = &slot.conn {
                    let _ = c.tx.send(Out::Data(bytes));
                }
            }
        }
    }

    fn flush_touched(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        for &k in &touched {
            self.flush(k);
        }
        self.touched = touched;
        self.touched.clear();
    }

    /// Runs a session's machine until it has nothing more to say: due deadlines, bytes to
    /// its writer, events acted on.
    fn pump(&mut self, key: u64, now: Instant) {
        loop {
            let Some(slot) = self.slots.get_mut(&key) else {
                // The session ended (and took its machine with it): what it published
                // still goes out.
                self.flush_touched();
                return;
            };
            if slot.server.poll_timeout().is_some_and(|t| t <= now) {
                slot.server.handle_timeout(now);
            }
            let mut events = Vec::new();
            while let Some(e) = slot.server.poll_event() {
                events.push(e);
            }
            self.flush(key);
            if events.is_empty() {
                self.flush_touched();
                return;
            }
            for e in events {
                self.on_event(key, now, e);
            }
        }
    }

    fn on_event(&mut self, key: u64, now: Instant, event: Event) {
        match event {
            Event::Message(m) => {
                if self.options.retain_available {
                    self.retained.publish(now, &m);
                }
                self.route(Some(key), &m);
            }
            Event::Subscribe(s) => self.subscribe(key, now, &s),
            Event::Unsubscribe(u) => {
                let mut reasons = Vec::with_capacity(u.filters.len());
                for f in u.filters.iter() {
                    reasons.push(if self.table.unsubscribe(&key, f.as_str()) {
                        UnsubAckReason::Success
                    } else {
                        UnsubAckReason::NoSubscriptionExisted
                    });
                }
                if let Some(slot) = self.slots.get_mut(&key) {
                    let _ = slot
                        .server
                        .unsuback(u.packet_id, &reasons, Default::default());
                }
            }
            Event::Will(w) => {
                self.log(format_args!(
                    "will of session {key} to {}",
                    w.topic.as_str()
                ));
                let m = will_message(*w);
                if self.options.retain_available {
                    self.retained.publish(now, &m);
                }
                self.route(Some(key), &m);
            }
            Event::SessionExpired => self.end_session(key),
            Event::Closed(reason) => {
                if let Some(slot) = self.slots.get_mut(&key) {
                    if let Some(c) = slot.conn.take() {
                        let _ = c.tx.send(Out::Close);
                    }
                    let id = slot.server.client_id().to_string();
                    self.log(format_args!("{id:?} closed: {reason}"));
                }
            }
            _ => {}
        }
    }

    fn subscribe(&mut self, key: u64, now: Instant, s: &shared::Subscribe) {
        let id = s.properties.subscription_identifier();
        let max = self.options.maximum_qos;
        let mut reasons = Vec::with_capacity(s.subscriptions.len());
        let mut retained = Vec::new();
        for sub in s.subscriptions.iter() {
            let mut options = sub.options;
            options.qos = options.qos.min(max);
            let filter = sub.filter.as_str();
            let existed = self.table.subscribe(key, filter, options, id);
            if self.options.retain_available {
                self.retained
                    .for_subscription(now, filter, &options, existed, &mut retained);
            }
            reasons.push(match options.qos {
                QoS::AtMostOnce => SubAckReason::GrantedQoS0,
                QoS::AtLeastOnce => SubAckReason::GrantedQoS1,
                QoS::ExactlyOnce => SubAckReason::GrantedQoS2,
            });
            self.log(format_args!(
                "session {key} subscribed to {filter} ({options:?})"
            ));
        }
        if let Some(slot) = self.slots.get_mut(&key) {
            let _ = slot
                .server
                .suback(s.packet_id, &reasons, Default::default());
            // [MQTT-3.3.1-8]: retained messages after the SUBACK, RETAIN=1.
            for mut m in retained {
                let qos = m.qos();
                if let Some(id) = id {
                    m.properties.add_subscription_identifier(id);
                }
                let _ = slot.server.publish(m, qos);
            }
        }
    }

    /// Delivers a message to every session the subscription table matches.
    fn route(&mut self, publisher: Option<u64>, m: &shared::Publish) {
        let mut matches = std::mem::take(&mut self.matches);
        self.table.matches(
            m.topic.as_str(),
            publisher.as_ref(),
            &mut self.policy,
            &mut matches,
        );
        for d in &matches.deliveries {
            let Some(slot) = self.slots.get_mut(&d.client) else {
                continue;
            };
            let mut out = m.clone();
            // [MQTT-3.3.1-9] (3.1.1) and Retain As Published (5.0, [MQTT-3.3.1-12],
            // [MQTT-3.3.1-13]).
            out.retain = m.retain && d.retain_as_published;
            for id in matches.ids_of(d) {
                out.properties.add_subscription_identifier(*id);
            }
            // [MQTT-3.8.4-8]: the lower of the message's QoS and the granted one.
            let qos = m.qos().min(d.qos);
            if let Err(e) = slot.server.publish(out, qos) {
                if self.verbose {
                    eprintln!("broker: not delivered to session {}: {e}", d.client);
                }
            }
            self.touched.push(d.client);
        }
        self.matches = matches;
    }

    /// The session is over: its subscriptions leave the table and its state goes.
    fn end_session(&mut self, key: u64) {
        let Some(slot) = self.slots.remove(&key) else {
            return;
        };
        for r in slot.server.session().subscriptions() {
            self.table.unsubscribe(&key, r.subscription.filter.as_str());
        }
        let id = slot.server.client_id();
        if self.ids.get(id) == Some(&key) {
            self.ids.remove(id);
        }
        self.log(format_args!("session {key} ({id:?}) ended"));
        if let Some(c) = slot.conn {
            let _ = c.tx.send(Out::Close);
        }
    }

    /// A CONNECT arrived on a new connection: attach it to the client's session (resumed,
    /// taken over from another connection, or new) and answer it.
    fn connect(
        &mut self,
        mut server: Server,
        connect: &shared::Connect,
        conn: Conn,
        now: Instant,
    ) -> Option<u64> {
        let id = connect.client_id.as_str().to_string();
        if id.is_empty() && !connect.clean_start && !connect.protocol.is_v5() {
            // [MQTT-3.1.3-8]: an empty identifier needs a clean session at 3.1.1.
            let _ = server.refuse(now, ConnectReason::ClientIdentifierNotValid);
            while let Some(b) = server.poll_transmit() {
                let _ = conn.tx.send(Out::Data(b));
            }
            let _ = conn.tx.send(Out::Close);
            return None;
        }
        let old_key = if id.is_empty() {
            None
        } else {
            self.ids.get(&id).copied()
        };
        let mut session = None;
        let mut wills = Vec::new();
        if let Some(k) = old_key {
            if let Some(mut old) = self.slots.remove(&k) {
                // [MQTT-3.1.4-2]: the connection holding the session is closed.
                if let Some(c) = old.conn.take() {
                    let _ = old.server.disconnect(DisconnectReason::SessionTakenOver);
                    while let Some(b) = old.server.poll_transmit() {
                        let _ = c.tx.send(Out::Data(b));
                    }
                    let _ = c.tx.send(Out::Close);
                    self.log(format_args!("{id:?} taken over"));
                }
                while let Some(e) = old.server.poll_event() {
                    if let Event::Will(w) = e {
                        wills.push(will_message(*w));
                    }
                }
                if connect.clean_start {
                    // The old session ends: its Will goes now, its subscriptions go.
                    if let Some(w) = old.server.discard_will() {
                        wills.push(will_message(w));
                    }
                    for r in old.server.session().subscriptions() {
                        self.table.unsubscribe(&k, r.subscription.filter.as_str());
                    }
                } else {
                    // Resumed before the Will Delay passed: no Will (MQTT 5.0 §3.1.3.2.2).
                    let _ = old.server.discard_will();
                    session = Some(old.server.take_session());
                }
            }
        }
        let key = old_key.unwrap_or_else(|| {
            self.next_key += 1;
            self.next_key
        });
        if let Err(e) = server.accept(now, session, Default::default()) {
            self.log(format_args!("{id:?} not accepted: {e}"));
            let _ = conn.tx.send(Out::Close);
            return None;
        }
        let id = server.client_id().to_string();
        self.log(format_args!(
            "{id:?} connected at {:?}, session {key}{}",
            server.protocol(),
            if old_key.is_some() && !connect.clean_start {
                " resumed"
            } else {
                ""
            }
        ));
        if !id.is_empty() {
            self.ids.insert(id, key);
        }
        self.slots.insert(
            key,
            Slot {
                server,
                conn: Some(conn),
            },
        );
        for w in wills {
            if self.options.retain_available {
                self.retained.publish(now, &w);
            }
            self.route(Some(key), &w);
        }
        self.pump(key, now);
        Some(key)
    }

    /// Deadlines: keep-alive, Wills with a delay, session expiry, retained expiry.
    fn tick(&mut self) {
        let now = self.now();
        let due: Vec<u64> = self
            .slots
            .iter()
            .filter(|(_, s)| s.server.poll_timeout().is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            self.pump(k, now);
        }
        if self.retained.next_expiry().is_some_and(|t| t <= now) {
            self.retained.expire(now);
        }
    }
}

/// The Will as the message it becomes ([MQTT-3.1.2-8]): its topic, payload, QoS, retain
/// flag and properties (all but the Will Delay Interval).
fn will_message(w: shared::Will) -> shared::Publish {
    let mut m = shared::Publish::new(w.topic, w.payload.into_inner());
    m.retain = w.retain;
    m.delivery = mqtt_codec::Delivery::new(w.qos, mqtt_codec::PacketId::new(1), false)
        .unwrap_or(mqtt_codec::Delivery::AtMostOnce);
    let p = &w.properties;
    let q = &mut m.properties;
    if let Some(v) = p.payload_format_indicator() {
        q.set_payload_format_indicator(v);
    }
    if let Some(v) = p.message_expiry_interval() {
        q.set_message_expiry_interval(v);
    }
    if let Some(v) = p.content_type() {
        q.set_content_type(v);
    }
    if let Some(v) = p.response_topic() {
        q.set_response_topic(v);
    }
    if let Some(v) = p.correlation_data() {
        q.set_correlation_data(v);
    }
    for u in p.user_properties() {
        q.push_user_property(u);
    }
    m
}

fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|e| e.into_inner())
}

/// Writes what the connection's machine sends, coalescing what is queued into one write.
fn writer(mut stream: TcpStream, rx: Receiver<Out>) {
    let mut buf = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut close = false;
        let mut next = Some(first);
        while let Some(out) = next.take() {
            match out {
                Out::Data(b) => buf.extend_from_slice(&b),
                Out::Close => {
                    close = true;
                    break;
                }
            }
            if buf.len() < 64 * 1024 {
                next = rx.try_recv().ok();
            }
        }
        if !buf.is_empty() && stream.write_all(&buf).is_err() {
            close = true;
        }
        buf.clear();
        if buf.capacity() > 256 * 1024 {
            buf = Vec::new();
        }
        if close {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads one connection and feeds its machine: before CONNECT the machine is this thread's;
/// from CONNECT on it sits in the session's slot, shared with the rest of the broker.
fn reader(core: Arc<Mutex<Core>>, mut stream: TcpStream, no: u64, tx: Sender<Out>) {
    let mut server = {
        let c = lock(&core);
        Server::new(c.now(), c.options)
    };
    let mut key: Option<u64> = None;
    let mut buf = vec![0u8; 4 * 1024];
    loop {
        if key.is_none() {
            // Until CONNECT the connect timeout is this thread's to enforce.
            let wait = {
                let c = lock(&core);
                server.poll_timeout().map(|t| {
                    Duration::from_millis(t.as_millis().saturating_sub(c.now().as_millis()))
                })
            };
            let _ = stream.set_read_timeout(Some(
                wait.unwrap_or(Duration::from_secs(1))
                    .max(Duration::from_millis(1)),
            ));
        }
        let read = stream.read(&mut buf);
        let n = match &read {
            Ok(n) => *n,
            Err(_) => 0,
        };
        let mut c = lock(&core);
        let now = c.now();
        match key {
            None => {
                match &read {
                    Ok(0) => server.handle_link_lost(now),
                    Ok(_) => server.handle_bytes(now, &buf[..n]),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        server.handle_timeout(now)
                    }
                    Err(_) => server.handle_link_lost(now),
                }
                while let Some(b) = server.poll_transmit() {
                    let _ = tx.send(Out::Data(b));
                }
                let mut connect = None;
                while let Some(e) = server.poll_event() {
                    match e {
                        Event::Connect(conn) => connect = Some(conn),
                        Event::Closed(reason) => {
                            if c.verbose && !matches!(reason, CloseReason::LinkLost) {
                                eprintln!(
                                    "broker: connection {no} closed before CONNECT: {reason}"
                                );
                            }
                            let _ = tx.send(Out::Close);
                            return;
                        }
                        _ => {}
                    }
                }
                if let Some(connect) = connect {
                    let conn = Conn { no, tx: tx.clone() };
                    let placeholder = Server::new(now, c.options);
                    let machine = std::mem::replace(&mut server, placeholder);
                    key = c.connect(machine, &connect, conn, now);
                    if key.is_none() {
                        return;
                    }
                    let _ = stream.set_read_timeout(None);
                }
            }
            Some(k) => {
                let mine = c
                    .slots
                    .get(&k)
                    .and_then(|s| s.conn.as_ref())
                    .is_some_and(|conn| conn.no == no);
                if !mine {
                    // Taken over or closed: the session is no longer this connection's.
                    return;
                }
                if let Some(slot) = c.slots.get_mut(&k) {
                    match &read {
                        Ok(_) if n > 0 => slot.server.handle_bytes(now, &buf[..n]),
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        _ => slot.server.handle_link_lost(now),
                    }
                }
                c.pump(k, now);
                let still = c
                    .slots
                    .get(&k)
                    .and_then(|s| s.conn.as_ref())
                    .is_some_and(|conn| conn.no == no);
                if !still {
                    return;
                }
            }
        }
        drop(c);
        if n == 0 && key.is_some() && !matches!(&read, Err(e) if e.kind() == ErrorKind::Interrupted)
        {
            // A read error or end of stream was handled above as a lost link.
            return;
        }
    }
}

fn run(a: &Args) -> Result<(), String> {
    let listener =
        TcpListener::bind(&a.listen).map_err(|e| format!("listen on {}: {e}", a.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let core = Arc::new(Mutex::new(Core {
        options: a.options,
        verbose: a.verbose,
        start: Clock::now(),
        table: SubscriptionTable::new(),
        retained: RetainedStore::new(),
        policy: RoundRobin::default(),
        matches: Matches::new(),
        ids: HashMap::new(),
        slots: HashMap::new(),
        next_key: 0,
        touched: Vec::new(),
    }));
    {
        let core = core.clone();
        thread::Builder::new()
            .name("deadlines".into())
            .spawn(move || loop {
                thread::sleep(Duration::from_millis(100));
                lock(&core).tick();
            })
            .map_err(|e| e.to_string())?;
    }
    eprintln!("broker: listening on {local}");
    let mut no = 0u64;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("broker: accept: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        no += 1;
        let _ = stream.set_nodelay(true);
        let Ok(write_half) = stream.try_clone() else {
            continue;
        };
        let (tx, rx) = mpsc::channel();
        let spawned = thread::Builder::new()
            .name(format!("write-{no}"))
            .stack_size(64 * 1024)
            .spawn(move || writer(write_half, rx));
        if spawned.is_err() {
            eprintln!("broker: cannot start a thread for connection {no}");
            continue;
        }
        let core = core.clone();
        let spawned = thread::Builder::new()
            .name(format!("read-{no}"))
            .stack_size(256 * 1024)
            .spawn(move || reader(core, stream, no, tx));
        if spawned.is_err() {
            eprintln!("broker: cannot start a thread for connection {no}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("broker: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker: {e}");
            ExitCode::from(1)
        }
    }
}
