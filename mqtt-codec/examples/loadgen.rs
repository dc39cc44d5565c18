//! A load generator on the client connection machine, for any MQTT broker: N connected
//! clients, of which M publish and S subscribe, at one QoS and payload size for a given
//! time; reports messages per second, latency percentiles and losses. Plain threads and
//! `std::net`, no async runtime.
//!
//! ```text
//! cargo run --release -p mqtt-codec --example loadgen -- --port 1883 \
//!     --clients 1000 --publishers 100 --subscribers 100 --qos 1 --size 16 --duration 30
//! ```
//!
//! Publisher `i` publishes to `PREFIX/i`; subscriber `j` subscribes to `PREFIX/(j mod M)`,
//! so each message has S/M receivers (rounded per topic); the other clients only keep their
//! connection alive. Each payload carries its send time, publisher and sequence number.
//! Every publisher keeps at most `--window` messages in flight end to end (published and
//! not yet received by all its subscribers): the measured rate is what the broker
//! delivers, not how much it can queue. After `--duration` seconds publishing stops, and the
//! run waits up to 10 s for what is in flight before it counts losses.
//!
//! Output, one `name value` pair per line on stdout: `published`, `expected`, `received`,
//! `lost`, `duplicates`, `out_of_order`, `msgs_per_sec` (deliveries per second while
//! publishing), `latency_p50_us`, `latency_p99_us`, `latency_max_us`.
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant as Clock};

use mqtt_codec::session::{Client, ClientOptions, ConnState, Event, Session};
use mqtt_codec::{shared, DisconnectReason, Instant, Protocol, QoS};

const USAGE: &str = "\
usage: loadgen [options]

Drives an MQTT broker with N connected clients, M publishers and S subscribers at one QoS
and payload size, and reports messages per second, latency and losses.

options:
  --host HOST        broker host (default 127.0.0.1)
  --port PORT        broker port (default 1883)
  --protocol 4|5     4 = MQTT 3.1.1, 5 = MQTT 5.0 (default 4)
  --clients N        connected clients in all (default: publishers + subscribers)
  --publishers M     publishing clients (default 10)
  --subscribers S    subscribing clients (default: M)
  --qos 0|1|2        QoS of publications and subscriptions (default 1)
  --size BYTES       payload size, at least 16 (default 16)
  --duration S       seconds of publishing (default 10)
  --window W         messages per publisher in flight end to end (default 16)
  --prefix P         topic prefix (default load)
  -h, --help         print this help

Prints one 'name value' line per result: published, expected, received, lost, duplicates,
out_of_order, msgs_per_sec, latency_p50_us, latency_p99_us, latency_max_us.
";

#[derive(Debug, Clone)]
struct Args {
    host: String,
    port: u16,
    protocol: Protocol,
    clients: Option<usize>,
    publishers: usize,
    subscribers: Option<usize>,
    qos: QoS,
    size: usize,
    duration: u64,
    window: u64,
    prefix: String,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 1883,
        protocol: Protocol::V3_1_1,
        clients: None,
        publishers: 10,
        subscribers: None,
        qos: QoS::AtLeastOnce,
        size: 16,
        duration: 10,
        window: 16,
        prefix: "load".into(),
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        fn num<T: std::str::FromStr>(v: String, flag: &str) -> Result<T, String> {
            v.parse().map_err(|_| format!("invalid {flag} {v:?}"))
        }
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--host" => a.host = value("a host")?,
            "--port" => a.port = num(value("a port")?, &flag)?,
            "--protocol" => {
                a.protocol = match value("4 or 5")?.as_str() {
                    "4" => Protocol::V3_1_1,
                    "5" => Protocol::V5,
                    v => return Err(format!("invalid --protocol {v:?} (4 or 5)")),
                }
            }
            "--clients" => a.clients = Some(num(value("a number")?, &flag)?),
            "--publishers" => a.publishers = num(value("a number")?, &flag)?,
            "--subscribers" => a.subscribers = Some(num(value("a number")?, &flag)?),
            "--qos" => {
                a.qos = num::<u8>(value("0, 1 or 2")?, &flag)
                    .ok()
                    .and_then(|n| QoS::try_from(n).ok())
                    .ok_or("invalid --qos (0, 1 or 2)")?
            }
            "--size" => a.size = num(value("bytes")?, &flag)?,
            "--duration" => a.duration = num(value("seconds")?, &flag)?,
            "--window" => a.window = num(value("a number")?, &flag)?,
            "--prefix" => a.prefix = value("a prefix")?,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if a.publishers == 0 {
        return Err("--publishers must be at least 1".into());
    }
    if a.size < 16 {
        return Err("--size must be at least 16 (send time, publisher, sequence)".into());
    }
    if a.window == 0 {
        return Err("--window must be at least 1".into());
    }
    let subs = a.subscribers.unwrap_or(a.publishers);
    if a.clients.is_some_and(|c| c < a.publishers + subs) {
        return Err("--clients must be at least --publishers + --subscribers".into());
    }
    Ok(Some(a))
}

/// What the threads share.
struct Shared {
    start: Clock,
    /// Set when publishing stops.
    stop: AtomicBool,
    /// Per publisher: messages received by its subscribers (all of them together).
    delivered: Vec<AtomicU64>,
    /// Per publisher: messages it published.
    published: Vec<AtomicU64>,
    /// Per publisher: its subscribers.
    fanout: Vec<u64>,
    /// Per publisher: woken when its subscribers receive something.
    wake: Vec<(Mutex<()>, Condvar)>,
}

impl Shared {
    fn nanos(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }
}

/// One client connection: the machine and the socket it writes to.
struct Conn {
    client: Client,
    stream: TcpStream,
}

impl Conn {
    fn open(a: &Args, sh: &Shared, id: String) -> Result<Conn, String> {
        let stream = TcpStream::connect((a.host.as_str(), a.port))
            .map_err(|e| format!("connect to {}:{}: {e}", a.host, a.port))?;
        stream.set_nodelay(true).ok();
        let id = shared::Str::new(id).map_err(|e| e.to_string())?;
        let connect = shared::Connect::new(a.protocol, id, 60);
        let mut client = Client::new(connect, ClientOptions::default(), Session::new())
            .map_err(|e| e.to_string())?;
        client.connect(sh.now()).map_err(|e| e.to_string())?;
        let mut c = Conn { client, stream };
        c.flush()?;
        Ok(c)
    }

    fn flush(&mut self) -> Result<(), String> {
        while let Some(b) = self.client.poll_transmit() {
            self.stream
                .write_all(&b)
                .map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }

    /// Reads once (until the machine's next deadline at most) and feeds the machine.
    fn read(&mut self, sh: &Shared, buf: &mut [u8], cap: Duration) -> Result<(), String> {
        let wait = self
            .client
            .poll_timeout()
            .map(|t| Duration::from_millis(t.as_millis().saturating_sub(sh.now().as_millis())))
            .unwrap_or(cap)
            .min(cap)
            .max(Duration::from_millis(1));
        let _ = self.stream.set_read_timeout(Some(wait));
        match self.stream.read(buf) {
            Ok(0) => {
                self.client.handle_link_lost(sh.now());
            }
            Ok(n) => self.client.handle_bytes(sh.now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.client.handle_timeout(sh.now())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read: {e}")),
        }
        self.flush()
    }

    /// Reads until CONNACK.
    fn wait_connected(&mut self, sh: &Shared, buf: &mut [u8]) -> Result<(), String> {
        let until = Clock::now() + Duration::from_secs(30);
        while self.client.state() != ConnState::Connected {
            if Clock::now() > until {
                return Err("no CONNACK within 30 s".into());
            }
            self.read(sh, buf, Duration::from_millis(100))?;
            while let Some(e) = self.client.poll_event() {
                if let Event::Closed(r) = e {
                    return Err(format!("closed while connecting: {r}"));
                }
            }
        }
        Ok(())
    }

    fn close(mut self) {
        let _ = self
            .client
            .disconnect(DisconnectReason::NormalDisconnection);
        let _ = self.flush();
    }
}

/// The start line: every client thread waits at it once, also when it fails before (so
/// that the others are not left waiting).
struct Ready<'a> {
    barrier: &'a Barrier,
    passed: bool,
}

impl<'a> Ready<'a> {
    fn new(barrier: &'a Barrier) -> Self {
        Ready {
            barrier,
            passed: false,
        }
    }
    fn wait(&mut self) {
        if !self.passed {
            self.passed = true;
            self.barrier.wait();
        }
    }
}

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        self.wait();
    }
}

/// What a subscriber saw.
#[derive(Default)]
struct Seen {
    received: u64,
    duplicates: u64,
    out_of_order: u64,
    latencies_us: Vec<u32>,
}

fn subscriber(
    a: &Args,
    sh: &Shared,
    index: usize,
    ready: &Barrier,
    done: &AtomicBool,
) -> Result<Seen, String> {
    let mut ready = Ready::new(ready);
    let mut buf = vec![0u8; 64 * 1024];
    let mut c = Conn::open(a, sh, format!("loadgen-sub-{index}"))?;
    c.wait_connected(sh, &mut buf)?;
    let publisher = index % a.publishers;
    let filter =
        shared::TopicFilter::new(format!("{}/{publisher}", a.prefix)).map_err(|e| e.to_string())?;
    c.client
        .subscribe(
            vec![shared::Subscription::new(filter, a.qos)],
            Default::default(),
        )
        .map_err(|e| e.to_string())?;
    c.flush()?;
    let mut subscribed = false;
    while !subscribed {
        c.read(sh, &mut buf, Duration::from_millis(100))?;
        while let Some(e) = c.client.poll_event() {
            match e {
                Event::SubAck(_) => subscribed = true,
                Event::Closed(r) => return Err(format!("closed while subscribing: {r}")),
                _ => {}
            }
        }
    }
    ready.wait();
    let mut seen = Seen::default();
    let mut next_seq = 0u32;
    while !done.load(Ordering::Relaxed) {
        c.read(sh, &mut buf, Duration::from_millis(50))?;
        while let Some(e) = c.client.poll_event() {
            match e {
                Event::Message(m) => {
                    let p = m.payload.as_bytes();
                    if p.len() < 16 {
                        continue;
                    }
                    let sent = u64::from_be_bytes(p[0..8].try_into().unwrap());
                    let seq = u32::from_be_bytes(p[12..16].try_into().unwrap());
                    let lat = sh.nanos().saturating_sub(sent) / 1000;
                    if seq < next_seq {
                        seen.duplicates += 1;
                        continue;
                    }
                    if seq > next_seq {
                        seen.out_of_order += 1;
                    }
                    next_seq = seq + 1;
                    seen.received += 1;
                    seen.latencies_us.push(lat.min(u64::from(u32::MAX)) as u32);
                    sh.delivered[publisher].fetch_add(1, Ordering::Relaxed);
                    let (lock, cv) = &sh.wake[publisher];
                    let _g = lock.lock().unwrap_or_else(|e| e.into_inner());
                    cv.notify_all();
                }
                Event::Closed(r) => return Err(format!("subscriber {index} closed: {r}")),
                _ => {}
            }
        }
    }
    c.close();
    Ok(seen)
}

fn publisher(a: &Args, sh: &Shared, index: usize, ready: &Barrier) -> Result<(), String> {
    let mut ready = Ready::new(ready);
    let mut buf = vec![0u8; 64 * 1024];
    let mut c = Conn::open(a, sh, format!("loadgen-pub-{index}"))?;
    c.wait_connected(sh, &mut buf)?;
    let topic =
        shared::TopicName::new(format!("{}/{index}", a.prefix)).map_err(|e| e.to_string())?;
    let reader = c.stream.try_clone().map_err(|e| e.to_string())?;
    let conn = Arc::new(Mutex::new(c));
    ready.wait();
    let fanout = sh.fanout[index];
    thread::scope(|s| -> Result<(), String> {
        // Reads acknowledgements (and keeps the connection alive) while the loop below
        // publishes.
        let reading = {
            let conn = conn.clone();
            s.spawn(move || -> Result<(), String> {
                let mut r = reader;
                let _ = r.set_read_timeout(Some(Duration::from_millis(200)));
                loop {
                    let n = match r.read(&mut buf) {
                        Ok(0) => return Ok(()),
                        Ok(n) => n,
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::WouldBlock
                                    | ErrorKind::TimedOut
                                    | ErrorKind::Interrupted
                            ) =>
                        {
                            0
                        }
                        Err(_) => return Ok(()),
                    };
                    let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
                    if n > 0 {
                        c.client.handle_bytes(sh.now(), &buf[..n]);
                    } else {
                        c.client.handle_timeout(sh.now());
                    }
                    c.flush()?;
                    while let Some(e) = c.client.poll_event() {
                        if let Event::Closed(r) = e {
                            if sh.stop.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            return Err(format!("publisher {index} closed: {r}"));
                        }
                    }
                }
            })
        };
        let mut payload = vec![0u8; a.size];
        payload[8..12].copy_from_slice(&(index as u32).to_be_bytes());
        let mut seq = 0u32;
        let (lock, cv) = &sh.wake[index];
        while !sh.stop.load(Ordering::Relaxed) {
            // The window: messages not yet received by every subscriber.
            if fanout > 0 {
                let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
                while u64::from(seq) * fanout
                    >= sh.delivered[index].load(Ordering::Relaxed) + a.window * fanout
                    && !sh.stop.load(Ordering::Relaxed)
                {
                    g = cv
                        .wait_timeout(g, Duration::from_millis(20))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                drop(g);
                if sh.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            payload[0..8].copy_from_slice(&sh.nanos().to_be_bytes());
            payload[12..16].copy_from_slice(&seq.to_be_bytes());
            let m = shared::Publish::new(topic.clone(), payload.clone());
            let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
            c.client.publish(m, a.qos).map_err(|e| e.to_string())?;
            c.flush()?;
            drop(c);
            seq += 1;
            sh.published[index].fetch_add(1, Ordering::Relaxed);
        }
        // Let what is in flight be acknowledged, then close.
        thread::sleep(Duration::from_millis(500));
        let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
        let _ = c.client.disconnect(DisconnectReason::NormalDisconnection);
        let _ = c.flush();
        drop(c);
        reading.join().unwrap_or(Ok(()))
    })
}

fn idle(
    a: &Args,
    sh: &Shared,
    index: usize,
    ready: &Barrier,
    done: &AtomicBool,
) -> Result<(), String> {
    let mut ready = Ready::new(ready);
    let mut buf = vec![0u8; 4096];
    let mut c = Conn::open(a, sh, format!("loadgen-idle-{index}"))?;
    c.wait_connected(sh, &mut buf)?;
    ready.wait();
    while !done.load(Ordering::Relaxed) {
        c.read(sh, &mut buf, Duration::from_millis(500))?;
        while let Some(e) = c.client.poll_event() {
            if let Event::Closed(r) = e {
                return Err(format!("idle client {index} closed: {r}"));
            }
        }
    }
    c.close();
    Ok(())
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn run(a: &Args) -> Result<bool, String> {
    let subs = a.subscribers.unwrap_or(a.publishers);
    let clients = a.clients.unwrap_or(a.publishers + subs);
    let idle_n = clients - a.publishers - subs;
    let mut fanout = vec![0u64; a.publishers];
    for j in 0..subs {
        fanout[j % a.publishers] += 1;
    }
    let sh = Shared {
        start: Clock::now(),
        stop: AtomicBool::new(false),
        delivered: (0..a.publishers).map(|_| AtomicU64::new(0)).collect(),
        published: (0..a.publishers).map(|_| AtomicU64::new(0)).collect(),
        fanout,
        wake: (0..a.publishers)
            .map(|_| (Mutex::new(()), Condvar::new()))
            .collect(),
    };
    let done = AtomicBool::new(false);
    // Everyone, plus this thread.
    let ready = Barrier::new(clients + 1);
    let failed = AtomicBool::new(false);
    let result = thread::scope(|s| {
        let spawn = |name: String| thread::Builder::new().name(name).stack_size(256 * 1024);
        let mut idles = Vec::new();
        for i in 0..idle_n {
            let (sh, ready, done, failed) = (&sh, &ready, &done, &failed);
            idles.push(
                spawn(format!("idle-{i}"))
                    .spawn_scoped(s, move || {
                        let r = idle(a, sh, i, ready, done);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut subscribers = Vec::new();
        for j in 0..subs {
            let (sh, ready, done, failed) = (&sh, &ready, &done, &failed);
            subscribers.push(
                spawn(format!("sub-{j}"))
                    .spawn_scoped(s, move || {
                        let r = subscriber(a, sh, j, ready, done);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                    .map_err(|e| e.to_string())?,
            );
        }
        let mut publishers = Vec::new();
        for i in 0..a.publishers {
            let (sh, ready, failed) = (&sh, &ready, &failed);
            publishers.push(
                spawn(format!("pub-{i}"))
                    .spawn_scoped(s, move || {
                        let r = publisher(a, sh, i, ready);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                    .map_err(|e| e.to_string())?,
            );
        }
        ready.wait();
        eprintln!(
            "loadgen: {clients} clients connected; publishing for {} s",
            a.duration
        );
        let go = Clock::now();
        thread::sleep(Duration::from_secs(a.duration));
        sh.stop.store(true, Ordering::Relaxed);
        let elapsed = go.elapsed().as_secs_f64();
        let mut errors = Vec::new();
        for p in publishers {
            if let Err(e) = p.join().unwrap_or(Err("publisher panicked".into())) {
                errors.push(e);
            }
        }
        let expected: u64 = (0..a.publishers)
            .map(|i| sh.published[i].load(Ordering::Relaxed) * sh.fanout[i])
            .sum();
        // Wait for what is in flight.
        let until = Clock::now() + Duration::from_secs(10);
        while Clock::now() < until
            && sh
                .delivered
                .iter()
                .map(|d| d.load(Ordering::Relaxed))
                .sum::<u64>()
                < expected
        {
            thread::sleep(Duration::from_millis(20));
        }
        done.store(true, Ordering::Relaxed);
        let mut seen = Seen::default();
        let mut latencies = Vec::new();
        for h in subscribers {
            match h.join().unwrap_or(Err("subscriber panicked".into())) {
                Ok(x) => {
                    seen.received += x.received;
                    seen.duplicates += x.duplicates;
                    seen.out_of_order += x.out_of_order;
                    latencies.extend_from_slice(&x.latencies_us);
                }
                Err(e) => errors.push(e),
            }
        }
        for h in idles {
            if let Err(e) = h.join().unwrap_or(Err("idle client panicked".into())) {
                errors.push(e);
            }
        }
        Ok::<_, String>((expected, seen, latencies, elapsed, errors))
    });
    let (expected, seen, mut latencies, elapsed, errors) = result?;
    for e in &errors {
        eprintln!("loadgen: {e}");
    }
    latencies.sort_unstable();
    let published: u64 = sh.published.iter().map(|p| p.load(Ordering::Relaxed)).sum();
    let lost = expected.saturating_sub(seen.received);
    println!("published {published}");
    println!("expected {expected}");
    println!("received {}", seen.received);
    println!("lost {lost}");
    println!("duplicates {}", seen.duplicates);
    println!("out_of_order {}", seen.out_of_order);
    println!("msgs_per_sec {:.0}", seen.received as f64 / elapsed);
    println!("latency_p50_us {}", percentile(&latencies, 0.50));
    println!("latency_p99_us {}", percentile(&latencies, 0.99));
    println!("latency_max_us {}", latencies.last().copied().unwrap_or(0));
    Ok(errors.is_empty() && !failed.load(Ordering::Relaxed))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("loadgen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(1)
        }
    }
}
