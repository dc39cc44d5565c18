//! Runs one implementation on one workload in a loop, for counting instructions with
//! `valgrind --tool=callgrind --toggle-collect='*count::measure*'`: only the measured loop
//! is counted (loading the input buffers and building the packet values are not), so the
//! count divided by the iterations is the cost of one decode (and walk) or one encode. A
//! count does not move with the machine's load, unlike wall-clock time.
//! `benches/count.sh` drives it for every workload and implementation.
//!
//! ```text
//! count list                                   # every "<op> <workload> <implementation>"
//! count <op> <workload> <implementation> <n>   # op: decode, encode or round
//! ```
//!
//! The implementations are `ours`, the peers of the criterion benchmarks (`mqttbytes`,
//! `mqttrs`, `mqtt-protocol`, `ntex` for decoding; `mqtt-sn` for MQTT-SN) and `memcpy`, the
//! floor: copying the packet's bytes. Every decode walks what it decoded the same way
//! (`shared/peers.rs`), and every encoder writes the same bytes (checked before counting).
//!
//! `round` counts one QoS 1 or QoS 2 round of the connection machines (workloads
//! `qos1_16B_v3.1.1`, `qos2_16B_v3.1.1`, `qos1_16B_v5`, `qos2_16B_v5`), as the session
//! benchmarks run it (`benches/session.rs`): `ours` (`mqtt_benches::session::Connected`),
//! `codec_only` (`CodecOnly`, the same packets through the codec alone), `rumqttc` (3.1.1;
//! its client state against a stateless simulated server) and `mqtt-protocol-core`
//! (`shared/session_peers.rs`). Connecting and [`WARM_UP_ROUNDS`] rounds run before the
//! counted loop, so the count is the steady state.
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use mqtt_benches::sn::SnWorkload;
use mqtt_benches::{payload, workloads, Workload};

#[path = "../shared/peers.rs"]
mod peers;
#[path = "../shared/session_peers.rs"]
mod session_peers;
#[path = "../shared/sn_peer.rs"]
mod sn_peer;

use peers::peer_mqtt_protocol::{self, MqttProtocol};
use peers::peer_mqttbytes::{self, MqttBytes};
use peers::peer_mqttrs::{self, MqttRs};
use peers::peer_ntex::{NtexV3, NtexV5};
use peers::{Ours, Peer};
use session_peers::mqtt_protocol_core_peer::{self, MqttProtocolCore};
use session_peers::rumqttc_peer::Rumqttc;

use mqtt_benches::session::{ClientOnly, CodecOnly, Connected};
use mqtt_codec::{Protocol, QoS};

/// At most this many bytes of input per run (valgrind holds them all).
const MAX_INPUT: usize = 16 << 20;

fn iterations(requested: usize, packet_len: usize) -> usize {
    requested.min(MAX_INPUT / packet_len.max(1)).max(16)
}

#[inline(never)]
fn measure_decode<P: Peer>(p: &P, buf: &mut P::Buf, n: usize) -> u64 {
    let mut sum = 0u64;
    for _ in 0..n {
        sum = sum.wrapping_add(p.next(black_box(&mut *buf)).expect("decodes"));
    }
    sum
}

fn decode<P: Peer>(p: &P, bytes: &[u8], n: usize) -> u64 {
    let mut buf = p.load(bytes, n);
    let sum = measure_decode(p, &mut buf, n);
    black_box(&buf);
    sum
}

#[inline(never)]
fn measure(n: usize, mut f: impl FnMut() -> usize) -> u64 {
    let mut sum = 0u64;
    for _ in 0..n {
        sum = sum.wrapping_add(black_box(f()) as u64);
    }
    sum
}

#[inline(never)]
fn measure_memcpy(n: usize, bytes: &[u8], dst: &mut Vec<u8>) -> u64 {
    let mut sum = 0u64;
    for _ in 0..n {
        dst.clear();
        dst.extend_from_slice(black_box(bytes));
        sum = sum.wrapping_add(black_box(dst.as_ptr()) as u64 & 1);
    }
    sum
}

fn memcpy(bytes: &[u8], n: usize) -> u64 {
    let mut dst = Vec::with_capacity(bytes.len());
    measure_memcpy(n, bytes, &mut dst)
}

/// The implementations that handle `op` on MQTT workload `w`.
fn mqtt_impls(op: &str, w: &Workload) -> Vec<&'static str> {
    let v5 = w.protocol.is_v5();
    match (op, v5) {
        ("decode", true) => vec!["ours", "mqttbytes", "ntex", "memcpy"],
        ("decode", false) => vec![
            "ours",
            "mqttbytes",
            "mqttrs",
            "mqtt-protocol",
            "ntex",
            "memcpy",
        ],
        (_, true) => vec!["ours", "ours_header_only", "mqttbytes", "memcpy"],
        (_, false) => vec![
            "ours",
            "ours_header_only",
            "mqttbytes",
            "mqttrs",
            "mqtt-protocol",
            "memcpy",
        ],
    }
}

fn run_mqtt(op: &str, w: &Workload, imp: &str, n: usize) -> Option<u64> {
    let bytes = &w.bytes[..];
    let n = iterations(n, bytes.len());
    let want = bytes;
    Some(match (op, imp) {
        ("decode", "ours") => decode(&Ours::new(w.protocol), bytes, n),
        ("decode", "mqttbytes") => decode(&MqttBytes { v5: w.is_v5() }, bytes, n),
        ("decode", "mqttrs") => decode(&MqttRs, bytes, n),
        ("decode", "mqtt-protocol") => decode(&MqttProtocol, bytes, n),
        ("decode", "ntex") if w.is_v5() => decode(&NtexV5::default(), bytes, n),
        ("decode", "ntex") => decode(&NtexV3::default(), bytes, n),
        ("encode", "ours") => {
            let packet = w.packet.view();
            let mut buf: Vec<u8> = Vec::with_capacity(bytes.len());
            measure(n, || {
                buf.clear();
                packet.encode(w.protocol, &mut buf).unwrap()
            })
        }
        ("encode", "ours_header_only") => {
            let packet = w.packet.view();
            let mqtt_codec::Packet::Publish(p) = &packet else {
                return None;
            };
            let enc = mqtt_codec::Encoder::new(w.protocol);
            let mut buf: Vec<u8> = Vec::with_capacity(bytes.len());
            measure(n, || {
                buf.clear();
                enc.encode_publish_header(p, &mut buf).unwrap()
            })
        }
        ("encode", "mqttbytes") => {
            let v = peer_mqttbytes::build(w)?;
            let mut buf = bytes::BytesMut::with_capacity(bytes.len() * 2);
            peer_mqttbytes::encode(&v, &mut buf).unwrap();
            assert_eq!(&buf[..], want, "mqttbytes encodes differently");
            measure(n, || {
                buf.clear();
                peer_mqttbytes::encode(&v, &mut buf).unwrap()
            })
        }
        ("encode", "mqttrs") => {
            let pl = w.shape.payload_len().map(payload).unwrap_or_default();
            let p = peer_mqttrs::build(w, &pl)?;
            let mut buf = vec![0u8; bytes.len() + 64];
            let k = peer_mqttrs::encode(&p, &mut buf).unwrap();
            assert_eq!(&buf[..k], want, "mqttrs encodes differently");
            measure(n, || peer_mqttrs::encode(&p, &mut buf).unwrap())
        }
        ("encode", "mqtt-protocol") => {
            let p = peer_mqtt_protocol::build(w)?;
            let mut buf: Vec<u8> = Vec::with_capacity(bytes.len() * 2);
            peer_mqtt_protocol::encode(&p, &mut buf).unwrap();
            assert_eq!(&buf[..], want, "mqtt-protocol encodes differently");
            measure(n, || {
                buf.clear();
                peer_mqtt_protocol::encode(&p, &mut buf).unwrap();
                buf.len()
            })
        }
        (_, "memcpy") => memcpy(bytes, n),
        _ => return None,
    })
}

fn sn_impls(w: &SnWorkload) -> Vec<&'static str> {
    if sn_peer::build(w).is_some() {
        vec!["ours", sn_peer::NAME, "memcpy"]
    } else {
        vec!["ours", "memcpy"]
    }
}

fn run_sn(op: &str, w: &SnWorkload, imp: &str, n: usize) -> Option<u64> {
    let bytes = &w.bytes[..];
    let n = iterations(n, bytes.len());
    Some(match (op, imp) {
        ("decode", "ours") => measure(n, || {
            mqtt_benches::sn::decode_walk(black_box(bytes)).unwrap() as usize
        }),
        ("decode", sn_peer::NAME) => {
            sn_peer::build(w)?;
            measure(n, || {
                sn_peer::decode_walk(black_box(bytes)).unwrap() as usize
            })
        }
        ("encode", "ours") => {
            let m = w.message.view();
            let mut buf = vec![0u8; bytes.len()];
            measure(n, || m.encode(&mut &mut buf[..]).unwrap())
        }
        ("encode", sn_peer::NAME) => {
            let m = sn_peer::build(w)?;
            let mut buf = vec![0u8; bytes.len() + 16];
            let k = sn_peer::encode(m.clone(), &mut buf).unwrap();
            assert_eq!(&buf[..k], bytes, "mqtt-sn encodes differently");
            // The peer takes the message by value: the copies are made before the count,
            // as criterion's `iter_batched` makes them outside the timing.
            let mut copies = (0..n).map(|_| m.clone()).collect::<Vec<_>>().into_iter();
            measure(n, || {
                copies
                    .next()
                    .map_or(0, |m| sn_peer::encode(m, &mut buf).unwrap())
            })
        }
        (_, "memcpy") => memcpy(bytes, n),
        _ => return None,
    })
}

/// Rounds run before the counted loop (buffers grown, identifiers in use cycling).
const WARM_UP_ROUNDS: usize = 100;

/// The session workloads: name, protocol, QoS.
const ROUNDS: [(&str, Protocol, QoS); 4] = [
    ("qos1_16B_v3.1.1", Protocol::V3_1_1, QoS::AtLeastOnce),
    ("qos2_16B_v3.1.1", Protocol::V3_1_1, QoS::ExactlyOnce),
    ("qos1_16B_v5", Protocol::V5, QoS::AtLeastOnce),
    ("qos2_16B_v5", Protocol::V5, QoS::ExactlyOnce),
];

/// The implementations that run the rounds at `protocol`.
fn round_impls(protocol: Protocol) -> Vec<&'static str> {
    let mut v = vec!["ours", "ours_client", "codec_only"];
    if protocol == Protocol::V3_1_1 {
        v.push("rumqttc");
        v.push("ours_sn_gateway");
        v.push("ours_sn_gateway_sim_broker");
    }
    if mqtt_protocol_core_peer::supports(protocol) {
        v.push("mqtt-protocol-core");
    }
    v
}

/// Warms `round` up, then counts `n` rounds of it.
fn rounds(n: usize, mut round: impl FnMut() -> u64) -> u64 {
    for _ in 0..WARM_UP_ROUNDS {
        black_box(round());
    }
    measure(n, || round() as usize)
}

fn run_round(protocol: Protocol, qos: QoS, imp: &str, n: usize) -> Option<u64> {
    if !round_impls(protocol).contains(&imp) {
        return None;
    }
    Some(match imp {
        "ours" => {
            let mut c = Connected::new(protocol);
            rounds(n, || c.round(black_box(qos)))
        }
        "ours_sn_gateway" if qos == QoS::AtLeastOnce => {
            let mut c = mqtt_benches::sn_session::SnConnected::new();
            rounds(n, || c.round())
        }
        "ours_sn_gateway_sim_broker" if qos == QoS::AtLeastOnce => {
            let mut c = mqtt_benches::sn_session::SnConnected::with_simulated_broker();
            rounds(n, || c.round())
        }
        "ours_sn_gateway" | "ours_sn_gateway_sim_broker" => return None,
        "ours_client" => {
            let mut c = ClientOnly::new(protocol);
            rounds(n, || c.round(black_box(qos)))
        }
        "codec_only" => {
            let mut c = CodecOnly::new(protocol);
            rounds(n, || c.round(black_box(qos)))
        }
        "rumqttc" => {
            let mut r = Rumqttc::new();
            rounds(n, || r.round(black_box(qos)))
        }
        "mqtt-protocol-core" => {
            let mut m = MqttProtocolCore::new(protocol)?;
            rounds(n, || m.round(black_box(qos)))
        }
        _ => return None,
    })
}

/// Topic matching in the 100,000-filter table of `benches/topics.rs`, cycling through its
/// topics: ours (deliveries merged per client, shared groups) and mqtt-topic-engine.
fn run_match(imp: &str, n: usize) -> Option<u64> {
    use mqtt_codec::broker::{Matches, RoundRobin, SubscriptionTable};
    let w = mqtt_benches::topics::workload();
    let qos = |i: usize| match i % 3 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    };
    let topics = &w.topics;
    match imp {
        "ours" => {
            let mut t = SubscriptionTable::new();
            for (i, s) in w.subs.iter().enumerate() {
                t.subscribe(
                    s.client,
                    &s.filter,
                    mqtt_codec::SubscriptionOptions::qos(qos(i)),
                    None,
                );
            }
            let mut out = Matches::new();
            let mut policy = RoundRobin::default();
            let mut i = 0;
            Some(measure(n, || {
                i = (i + 1) % topics.len();
                t.matches(black_box(&topics[i]), None, &mut policy, &mut out);
                out.deliveries.len()
            }))
        }
        "mqtt-topic-engine" => {
            use mqtt_topic_engine::{CacheStrategy, TopicPath, TopicPatternPath, TopicRouter};
            let mut r = TopicRouter::new();
            for (i, s) in w.subs.iter().enumerate() {
                let q = match i % 3 {
                    0 => mqtt_topic_engine::QoS::AtMostOnce,
                    1 => mqtt_topic_engine::QoS::AtLeastOnce,
                    _ => mqtt_topic_engine::QoS::ExactlyOnce,
                };
                let f =
                    TopicPatternPath::new_from_string(&s.filter, CacheStrategy::NoCache).ok()?;
                r.add_subscription(f, q, s.client);
            }
            let paths: Vec<TopicPath> = topics
                .iter()
                .map(|t| TopicPath::new(t.as_str()))
                .collect::<Result<_, _>>()
                .ok()?;
            let mut i = 0;
            Some(measure(n, || {
                i = (i + 1) % paths.len();
                r.get_subscribers(black_box(&paths[i])).len()
            }))
        }
        _ => None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mqtt = workloads();
    let sn = mqtt_benches::sn::workloads();
    if args.first().map(String::as_str) == Some("list") {
        for op in ["decode", "encode"] {
            for w in &mqtt {
                for imp in mqtt_impls(op, w) {
                    if imp == "ours_header_only" && w.shape.payload_len().is_none() {
                        continue;
                    }
                    println!("{op} {} {imp}", w.name);
                }
            }
            for w in &sn {
                for imp in sn_impls(w) {
                    println!("{op} {} {imp}", w.name);
                }
            }
        }
        for imp in ["ours", "mqtt-topic-engine"] {
            println!("match topics_100k {imp}");
        }
        for (name, protocol, _) in ROUNDS {
            for imp in round_impls(protocol) {
                println!("round {name} {imp}");
            }
        }
        return;
    }
    let [op, name, imp, n] = &args[..] else {
        eprintln!(
            "usage: count list | count <decode|encode|round|match> <workload> <implementation> <n>"
        );
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("a number of iterations");
    let out = if op == "match" && name == "topics_100k" {
        run_match(imp, n).map(|sum| (n, sum))
    } else if op == "round" {
        ROUNDS
            .iter()
            .find(|r| r.0 == name)
            .and_then(|&(_, protocol, qos)| run_round(protocol, qos, imp, n.max(1)))
            .map(|sum| (n.max(1), sum))
    } else if let Some(w) = mqtt.iter().find(|w| w.name == name) {
        run_mqtt(op, w, imp, n).map(|sum| (iterations(n, w.bytes.len()), sum))
    } else if let Some(w) = sn.iter().find(|w| w.name == name) {
        run_sn(op, w, imp, n).map(|sum| (iterations(n, w.bytes.len()), sum))
    } else {
        None
    };
    match out {
        // The iterations the loop ran, then the checksum.
        Some((iters, sum)) => println!("{iters} {sum}"),
        None => {
            eprintln!("no such measurement: {op} {name} {imp}");
            std::process::exit(2);
        }
    }
}
