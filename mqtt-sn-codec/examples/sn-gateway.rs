//! An MQTT-SN gateway on UDP that forwards to an MQTT broker over TCP, built on the gateway
//! machine (`mqtt_sn_codec::gateway`) and `mqtt-codec`'s client machine. Plain threads and
//! `std::net`, no async runtime.
//!
//! ```text
//! cargo run -q -p mqtt-sn-codec --example sn-gateway -- \
//!     --listen 127.0.0.1:10000 --broker 127.0.0.1:1883 --predefined 1=sensors/temp
//! ```
//!
//! Once the broker accepted its connection it prints `sn-gateway: listening on ADDR:PORT`
//! to stderr (with port 0 the port the system chose). Run with `--help` for the options.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant as Clock};

use mqtt_codec::session::{Client as MqttClient, ClientOptions, Session};
use mqtt_codec::{shared, Instant, Protocol};
use mqtt_sn_codec::client::Destination;
use mqtt_sn_codec::gateway::{Gateway, GatewayConfig, GatewayEvent};
use mqtt_sn_codec::TopicId;

const USAGE: &str = "\
usage: sn-gateway [options]

An MQTT-SN 1.2 gateway on UDP forwarding to an MQTT broker (aggregating: one MQTT
connection for every MQTT-SN client). Prints 'sn-gateway: listening on ADDR:PORT' on stderr
once the broker accepted its connection.

options:
  --listen ADDR:PORT      UDP address for MQTT-SN clients (default 127.0.0.1:10000)
  --broker HOST:PORT      the MQTT broker (default 127.0.0.1:1883)
  --protocol 4|5          MQTT level toward the broker (default 4)
  --predefined ID=TOPIC   a predefined topic id (repeatable)
  --gw-id N               the gateway id in ADVERTISE and GWINFO (default 1)
  --advertise S           seconds between ADVERTISE broadcasts (default 0: none; the
                          broadcast goes to 255.255.255.255 on the listening port)
  --trace FILE            append every datagram sent, in hex, one per line, to FILE
  --verbose               log clients on stderr
  -h, --help              print this help
";

struct Args {
    listen: String,
    broker: String,
    protocol: Protocol,
    predefined: Vec<(TopicId, String)>,
    gw_id: u8,
    advertise: u16,
    trace: Option<String>,
    verbose: bool,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        listen: "127.0.0.1:10000".into(),
        broker: "127.0.0.1:1883".into(),
        protocol: Protocol::V3_1_1,
        predefined: Vec::new(),
        gw_id: 1,
        advertise: 0,
        trace: None,
        verbose: false,
    };
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |what: &str| it.next().ok_or(format!("{flag} needs {what}"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--listen" => a.listen = value("ADDR:PORT")?,
            "--broker" => a.broker = value("HOST:PORT")?,
            "--protocol" => {
                a.protocol = match value("4 or 5")?.as_str() {
                    "4" => Protocol::V3_1_1,
                    "5" => Protocol::V5,
                    v => return Err(format!("invalid --protocol {v:?}")),
                }
            }
            "--predefined" => {
                let v = value("ID=TOPIC")?;
                let (id, topic) = v.split_once('=').ok_or("--predefined takes ID=TOPIC")?;
                let id: u16 = id.parse().map_err(|_| format!("invalid topic id {id:?}"))?;
                if id == 0 || id == 0xFFFF {
                    return Err("topic ids 0 and 65535 are reserved".into());
                }
                a.predefined.push((TopicId(id), topic.to_string()));
            }
            "--gw-id" => a.gw_id = value("a number")?.parse().map_err(|_| "invalid --gw-id")?,
            "--advertise" => {
                a.advertise = value("seconds")?
                    .parse()
                    .map_err(|_| "invalid --advertise")?
            }
            "--trace" => a.trace = Some(value("a file")?),
            "--verbose" => a.verbose = true,
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(Some(a))
}

struct Shared {
    gw: Gateway<SocketAddr>,
    start: Clock,
    udp: UdpSocket,
    tcp: TcpStream,
    verbose: bool,
    broadcast: SocketAddr,
    trace: Option<std::fs::File>,
    closed: bool,
}

impl Shared {
    fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    /// Writes what the gateway has to send, both ways, and logs its events.
    fn flush(&mut self) -> Result<(), String> {
        while let Some(b) = self.gw.poll_mqtt_transmit() {
            self.tcp
                .write_all(&b)
                .map_err(|e| format!("write to the broker: {e}"))?;
        }
        while let Some(tx) = self.gw.poll_transmit() {
            if let Some(f) = self.trace.as_mut() {
                let hex: String = tx.data.iter().map(|b| format!("{b:02x}")).collect();
                let _ = writeln!(f, "{hex}");
            }
            let to = match tx.to {
                Destination::To(a) => a,
                Destination::Broadcast { .. } => self.broadcast,
            };
            let _ = self.udp.send_to(&tx.data, to);
        }
        while let Some(e) = self.gw.poll_event() {
            if matches!(e, GatewayEvent::BrokerClosed) {
                self.closed = true;
            }
            if self.verbose {
                eprintln!("sn-gateway: {e:?}");
            }
        }
        if self.closed {
            return Err("the broker closed the connection".into());
        }
        Ok(())
    }
}

fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(a: &Args) -> Result<(), String> {
    let udp = UdpSocket::bind(&a.listen).map_err(|e| format!("bind {}: {e}", a.listen))?;
    let local = udp.local_addr().map_err(|e| e.to_string())?;
    let _ = udp.set_broadcast(true);
    let tcp = TcpStream::connect(&a.broker).map_err(|e| format!("connect to {}: {e}", a.broker))?;
    tcp.set_nodelay(true).ok();
    let id = shared::Str::new(format!("sn-gateway-{}", a.gw_id)).map_err(|e| e.to_string())?;
    let connect = shared::Connect::new(a.protocol, id, 60);
    let mqtt = MqttClient::new(connect, ClientOptions::default(), Session::new())
        .map_err(|e| e.to_string())?;
    let mut config = GatewayConfig::new(a.gw_id);
    config.advertise_interval = a.advertise;
    config.predefined = a.predefined.clone();
    let shared = Arc::new(Mutex::new(Shared {
        gw: Gateway::new(config, mqtt),
        start: Clock::now(),
        udp: udp.try_clone().map_err(|e| e.to_string())?,
        tcp: tcp.try_clone().map_err(|e| e.to_string())?,
        verbose: a.verbose,
        broadcast: SocketAddr::from(([255, 255, 255, 255], local.port())),
        trace: match &a.trace {
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("--trace {path}: {e}"))?,
            ),
            None => None,
        },
        closed: false,
    }));
    {
        let mut s = lock(&shared);
        let now = s.now();
        s.gw.connect_broker(now).map_err(|e| e.to_string())?;
        s.flush()?;
    }
    // The broker side: bytes in, until CONNACK, then forever.
    let broker = {
        let shared = shared.clone();
        let mut tcp = tcp;
        thread::spawn(move || -> String {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = match tcp.read(&mut buf) {
                    Ok(0) => return "the broker closed the connection".into(),
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return format!("read from the broker: {e}"),
                };
                let mut s = lock(&shared);
                let now = s.now();
                s.gw.handle_mqtt_bytes(now, &buf[..n]);
                if let Err(e) = s.flush() {
                    s.closed = true;
                    return e;
                }
            }
        })
    };
    // Wait for CONNACK before saying we listen.
    let until = Clock::now() + Duration::from_secs(10);
    loop {
        {
            let s = lock(&shared);
            if s.gw.mqtt().state() == mqtt_codec::session::ConnState::Connected {
                break;
            }
            if s.closed {
                return Err("the broker refused the connection".into());
            }
        }
        if Clock::now() > until {
            return Err("no CONNACK from the broker within 10 s".into());
        }
        thread::sleep(Duration::from_millis(5));
    }
    eprintln!("sn-gateway: listening on {local}");
    // The MQTT-SN side, and the deadlines.
    let mut buf = vec![0u8; 65_536];
    loop {
        let wait = {
            let s = lock(&shared);
            if s.closed {
                break;
            }
            s.gw.poll_timeout()
                .map(|t| Duration::from_millis(t.as_millis().saturating_sub(s.now().as_millis())))
                .unwrap_or(Duration::from_millis(200))
                .clamp(Duration::from_millis(1), Duration::from_millis(200))
        };
        udp.set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        let got = udp.recv_from(&mut buf);
        let mut s = lock(&shared);
        let now = s.now();
        match got {
            Ok((n, from)) => s.gw.handle_datagram(now, from, &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => return Err(format!("udp: {e}")),
        }
        s.gw.handle_timeout(now);
        s.flush()?;
    }
    Err(broker
        .join()
        .unwrap_or_else(|_| "the broker thread failed".into()))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sn-gateway: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sn-gateway: {e}");
            ExitCode::from(1)
        }
    }
}
