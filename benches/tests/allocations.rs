//! Heap allocations per decoded packet, for ours and each peer, on every benchmark workload.
//!
//! A counting global allocator (per thread: the test harness runs tests on several threads)
//! counts the allocations and reallocations made while decoding and walking packets: each
//! implementation decodes 64 back-to-back copies of a per-packet workload (or the whole
//! 1 MiB mixed stream) from its own input buffer, loaded before counting starts, exactly as
//! in the decode benchmarks (`shared/peers.rs`), and the count is divided by the packets
//! decoded. Dropping the decoded packets is counted; freeing is not an allocation.
//!
//! Prints a Markdown table (run with `-- --nocapture`; it is also written to
//! `allocations.md` in Cargo's target tmp directory) and asserts that ours allocates
//! nothing for every workload.
//!
//! The MQTT-SN workloads (`mqtt_benches::sn`) have their own test and table
//! (`allocations_sn.md`): allocations per decode (and walk) of one datagram, repeated
//! [`SN_DECODES`] times, for ours and for the `mqtt-sn` crate where it takes the datagram;
//! ours must allocate nothing for any of them (PUBLISH, CONNECT and SUBSCRIBE).
//!
//! The global allocator applies to this whole test binary, so this file holds nothing else.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mqtt_integration_tests::alloc_count::{allocations, Counting};
use std::fmt::Write as _;
use std::hint::black_box;

use mqtt_benches::{checksum, sn, stream, workloads, STREAM_NAME};
use mqtt_codec::Protocol;

#[path = "../shared/peers.rs"]
mod peers;
#[path = "../shared/sn_peer.rs"]
mod sn_peer;

use peers::peer_mqtt_protocol::MqttProtocol;
use peers::peer_mqttbytes::MqttBytes;
use peers::peer_mqttrs::MqttRs;
use peers::peer_ntex::{NtexV3, NtexV5};
use peers::{Ours, Peer};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many copies of a per-packet workload each implementation decodes.
const COPIES: usize = 64;

/// One line of the table.
#[derive(Debug)]
struct Row {
    workload: &'static str,
    implementation: &'static str,
    /// Allocations per packet, or `None` if the implementation refused the bytes.
    per_packet: Option<f64>,
    /// Whether the walk gave the same checksum as ours.
    agrees: bool,
}

/// Decodes `copies` copies of `bytes` (which hold `packets_each` packets) with `p`,
/// counting allocations while decoding and walking.
fn measure<P: Peer>(
    p: &P,
    workload: &'static str,
    bytes: &[u8],
    copies: usize,
    packets: usize,
    expected: u64,
) -> Row {
    let mut buf = p.load(bytes, copies);
    let before = allocations();
    let mut n = 0usize;
    let mut sum = 0u64;
    while let Some(c) = p.next(black_box(&mut buf)) {
        n += 1;
        sum = sum.wrapping_add(c);
    }
    let after = allocations();
    drop(buf);
    let ok = n == packets;
    Row {
        workload,
        implementation: p.name(),
        per_packet: ok.then(|| (after - before) as f64 / n as f64),
        agrees: ok && sum == expected,
    }
}

#[test]
fn allocations_per_decoded_packet() {
    // The counter works: an allocation on this thread is seen.
    let before = allocations();
    let v = black_box(vec![1u8; 16]);
    assert!(
        allocations() > before,
        "the counting allocator saw no allocation"
    );
    drop(v);

    let mut rows = Vec::new();
    for w in workloads() {
        let expected = checksum(&w.packet.view()).wrapping_mul(COPIES as u64);
        let b = &w.bytes[..];
        let name = w.name;
        if w.is_v5() {
            rows.push(measure(
                &Ours::new(Protocol::V5),
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
            rows.push(measure(
                &MqttBytes { v5: true },
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
            rows.push(measure(
                &NtexV5::default(),
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
        } else {
            rows.push(measure(
                &Ours::new(w.protocol),
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
            rows.push(measure(
                &MqttBytes { v5: false },
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
            rows.push(measure(&MqttRs, name, b, COPIES, COPIES, expected));
            rows.push(measure(&MqttProtocol, name, b, COPIES, COPIES, expected));
            rows.push(measure(
                &NtexV3::default(),
                name,
                b,
                COPIES,
                COPIES,
                expected,
            ));
        }
    }
    let s = stream();
    let (b, n, expected) = (&s.bytes[..], s.packets(), s.expected_checksum());
    rows.push(measure(
        &Ours::new(Protocol::V3_1_1),
        STREAM_NAME,
        b,
        1,
        n,
        expected,
    ));
    rows.push(measure(
        &MqttBytes { v5: false },
        STREAM_NAME,
        b,
        1,
        n,
        expected,
    ));
    rows.push(measure(&MqttRs, STREAM_NAME, b, 1, n, expected));
    rows.push(measure(&MqttProtocol, STREAM_NAME, b, 1, n, expected));
    rows.push(measure(&NtexV3::default(), STREAM_NAME, b, 1, n, expected));

    let mut table = String::new();
    table.push_str("| workload | implementation | allocations per packet |\n");
    table.push_str("|---|---|---:|\n");
    for r in &rows {
        let cell = match r.per_packet {
            Some(a) if r.agrees => format!("{a:.2}"),
            Some(a) => format!("{a:.2} (decodes differently)"),
            None => "refuses the bytes".to_string(),
        };
        writeln!(table, "| {} | {} | {cell} |", r.workload, r.implementation).unwrap();
    }
    println!("\n{table}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("allocations.md");
    if std::fs::write(&path, &table).is_ok() {
        println!("(also written to {})", path.display());
    }

    for r in rows.iter().filter(|r| r.implementation == "ours") {
        assert!(r.agrees, "ours did not decode {} as built", r.workload);
        assert_eq!(
            r.per_packet,
            Some(0.0),
            "ours allocated while decoding {}",
            r.workload
        );
    }
}

/// How many times each MQTT-SN datagram is decoded.
const SN_DECODES: usize = 64;

/// Decodes `datagram` [`SN_DECODES`] times with `decode_walk`, counting allocations:
/// `(allocations per decode, whether every walk gave expected)`, or `None` if refused.
fn measure_sn(decode_walk: fn(&[u8]) -> Option<u64>, datagram: &[u8], expected: u64) -> SnCell {
    let before = allocations();
    let mut decoded = 0usize;
    let mut agrees = true;
    for _ in 0..SN_DECODES {
        match decode_walk(black_box(datagram)) {
            Some(c) => {
                decoded += 1;
                agrees &= c == expected;
            }
            None => break,
        }
    }
    let after = allocations();
    let ok = decoded == SN_DECODES;
    (
        ok.then(|| (after - before) as f64 / SN_DECODES as f64),
        ok && agrees,
    )
}

/// Allocations per decode (or `None` if refused), and whether the walk agreed with ours.
type SnCell = (Option<f64>, bool);

#[test]
fn sn_allocations_per_decode() {
    let mut rows: Vec<(&'static str, &'static str, SnCell)> = Vec::new();
    for w in sn::workloads() {
        let expected = sn::checksum(&w.message.view());
        rows.push((
            w.name,
            "ours",
            measure_sn(sn::decode_walk, &w.bytes, expected),
        ));
        rows.push((
            w.name,
            sn_peer::NAME,
            measure_sn(sn_peer::decode_walk, &w.bytes, expected),
        ));
    }

    let mut table = String::new();
    table.push_str("| MQTT-SN workload | implementation | allocations per decode |\n");
    table.push_str("|---|---|---:|\n");
    for (workload, implementation, (per_decode, agrees)) in &rows {
        let cell = match per_decode {
            Some(a) if *agrees => format!("{a:.2}"),
            Some(a) => format!("{a:.2} (decodes differently)"),
            None => "refuses the bytes".to_string(),
        };
        writeln!(table, "| {workload} | {implementation} | {cell} |").unwrap();
    }
    println!("\n{table}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("allocations_sn.md");
    if std::fs::write(&path, &table).is_ok() {
        println!("(also written to {})", path.display());
    }

    for (workload, _, (per_decode, agrees)) in rows.iter().filter(|r| r.1 == "ours") {
        assert!(agrees, "ours did not decode {workload} as built");
        assert_eq!(
            *per_decode,
            Some(0.0),
            "ours allocated while decoding {workload}"
        );
    }
}
