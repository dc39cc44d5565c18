//! Decode benchmarks: `decode/<workload>` with `ours`, each peer that handles the workload
//! (`mqttbytes`, `mqttrs`, `mqtt-protocol`, `ntex`) and a `memcpy` floor (plus a
//! `header_scan` floor on the mixed stream).
//!
//! Every implementation decodes the same bytes (`mqtt_benches::workloads()` and
//! `mqtt_benches::stream()`, built once), from its own kind of input buffer filled outside
//! the measurement, and walks what it decoded (see `shared/peers.rs`). A per-packet
//! workload is measured per packet over back-to-back copies of it (up to 1 MiB at a time);
//! the mixed stream is measured per 1 MiB stream and reported per packet.
//!
//! Criterion's own options work as usual: `cargo bench -p mqtt-benches --bench decode --
//! --measurement-time 5 publish_qos0`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, Bencher, BenchmarkGroup, Criterion, Throughput};
use mqtt_benches::{header_scan, stream, workloads, STREAM_NAME};
use mqtt_codec::Protocol;

#[path = "../shared/peers.rs"]
mod peers;

use peers::peer_mqtt_protocol::MqttProtocol;
use peers::peer_mqttbytes::MqttBytes;
use peers::peer_mqttrs::MqttRs;
use peers::peer_ntex::{NtexV3, NtexV5};
use peers::{Ours, Peer};

/// How many bytes of copies a per-packet measurement loads at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Decodes `packets` packets from `p`'s buffer loaded with `copies` copies of `bytes`,
/// checking that every packet decoded and that the checksums add up to `expected`. Prints
/// what went wrong, and returns false if the implementation refused the bytes.
fn check<P: Peer>(
    p: &P,
    workload: &str,
    bytes: &[u8],
    copies: usize,
    packets: usize,
    expected: u64,
) -> bool {
    let mut buf = p.load(bytes, copies);
    let mut n = 0;
    let mut sum = 0u64;
    while let Some(c) = p.next(&mut buf) {
        n += 1;
        sum = sum.wrapping_add(c);
    }
    if n != packets {
        eprintln!(
            "note: {} refuses decode/{workload} (decoded {n} of {packets} packets); not benchmarked",
            p.name()
        );
        return false;
    }
    if sum != expected {
        eprintln!(
            "note: {} decodes decode/{workload} differently from ours (checksum {sum} vs {expected})",
            p.name()
        );
    }
    true
}

/// Times decoding one packet: `iters` packets over chunks of back-to-back copies of `bytes`
/// (the chunks are loaded outside the timing).
fn per_packet<P: Peer>(b: &mut Bencher<'_>, p: &P, bytes: &[u8]) {
    let per_chunk = (CHUNK_BYTES / bytes.len()).max(1) as u64;
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let n = left.min(per_chunk);
            let mut buf = p.load(bytes, n as usize);
            let start = Instant::now();
            for _ in 0..n {
                black_box(p.next(black_box(&mut buf)));
            }
            total += start.elapsed();
            drop(buf);
            left -= n;
        }
        total
    });
}

/// Times decoding the whole stream, loaded outside the timing before each pass.
fn whole_stream<P: Peer>(b: &mut Bencher<'_>, p: &P, bytes: &[u8]) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let mut buf = p.load(bytes, 1);
            let start = Instant::now();
            let mut sum = 0u64;
            while let Some(c) = p.next(black_box(&mut buf)) {
                sum = sum.wrapping_add(c);
            }
            black_box(sum);
            total += start.elapsed();
        }
        total
    });
}

fn add_packet<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    p: &P,
    name: &str,
    bytes: &[u8],
    expected: u64,
) {
    if check(p, name, bytes, 2, 2, expected.wrapping_mul(2)) {
        g.bench_function(p.name(), |b| per_packet(b, p, bytes));
    }
}

fn add_stream<P: Peer>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    p: &P,
    bytes: &[u8],
    packets: usize,
    expected: u64,
) {
    if check(p, STREAM_NAME, bytes, 1, packets, expected) {
        g.bench_function(p.name(), |b| whole_stream(b, p, bytes));
    }
}

fn memcpy(g: &mut BenchmarkGroup<'_, WallTime>, bytes: &[u8]) {
    let mut dst: Vec<u8> = Vec::with_capacity(bytes.len());
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.clear();
            dst.extend_from_slice(black_box(bytes));
            black_box(dst.as_ptr());
        })
    });
}

fn decode(c: &mut Criterion) {
    for w in workloads() {
        let bytes = &w.bytes[..];
        let expected = mqtt_benches::checksum(&w.packet.view());
        let mut g = c.benchmark_group(format!("decode/{}", w.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        if w.is_v5() {
            add_packet(&mut g, &Ours::new(Protocol::V5), w.name, bytes, expected);
            add_packet(&mut g, &MqttBytes { v5: true }, w.name, bytes, expected);
            add_packet(&mut g, &NtexV5::default(), w.name, bytes, expected);
        } else {
            add_packet(&mut g, &Ours::new(w.protocol), w.name, bytes, expected);
            add_packet(&mut g, &MqttBytes { v5: false }, w.name, bytes, expected);
            add_packet(&mut g, &MqttRs, w.name, bytes, expected);
            add_packet(&mut g, &MqttProtocol, w.name, bytes, expected);
            add_packet(&mut g, &NtexV3::default(), w.name, bytes, expected);
        }
        memcpy(&mut g, bytes);
        g.finish();
    }

    let s = stream();
    let (publishes, pubacks, pings) = s.mix();
    eprintln!(
        "decode/{STREAM_NAME}: {} bytes, {} packets ({publishes} PUBLISH, {pubacks} PUBACK, {pings} PINGREQ)",
        s.bytes.len(),
        s.packets()
    );
    let bytes = &s.bytes[..];
    let expected = s.expected_checksum();
    let packets = s.packets();
    let mut g = c.benchmark_group(format!("decode/{STREAM_NAME}"));
    g.throughput(Throughput::Elements(packets as u64));
    add_stream(
        &mut g,
        &Ours::new(Protocol::V3_1_1),
        bytes,
        packets,
        expected,
    );
    add_stream(&mut g, &MqttBytes { v5: false }, bytes, packets, expected);
    add_stream(&mut g, &MqttRs, bytes, packets, expected);
    add_stream(&mut g, &MqttProtocol, bytes, packets, expected);
    add_stream(&mut g, &NtexV3::default(), bytes, packets, expected);
    memcpy(&mut g, bytes);
    assert_eq!(header_scan(bytes).0, packets);
    g.bench_function("header_scan", |b| b.iter(|| header_scan(black_box(bytes))));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = decode
}
criterion_main!(benches);
