//! Encode benchmarks: `encode/<workload>` with `ours`, the peers that can write the
//! workload (`mqttbytes`, and at 3.1.1 `mqttrs` and `mqtt-protocol`) and a `memcpy` floor
//! (copying the encoded bytes).
//!
//! Each implementation encodes its own packet value, constructed once before measuring,
//! into a reused, pre-allocated buffer cleared on every iteration, so this compares
//! encoding, not construction or allocation. Before measuring, each peer's output is
//! compared with ours; a difference is printed as a note.
//!
//! ntex-mqtt is left out: its encoder takes the packet by value into ntex's `BytePages`, so
//! a benchmark would measure cloning the packet as much as encoding it.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mqtt_benches::{payload, stream, workloads, STREAM_NAME};
use mqtt_codec::{Packet, Protocol};

#[path = "../shared/peers.rs"]
mod peers;

use peers::{peer_mqtt_protocol, peer_mqttbytes, peer_mqttrs};

/// Prints a note if `got` is not `want` (our bytes).
fn compare(peer: &str, workload: &str, got: &[u8], want: &[u8]) {
    if got != want {
        eprintln!(
            "note: {peer} encodes encode/{workload} differently from ours ({} bytes vs {}{})",
            got.len(),
            want.len(),
            if got.len() == want.len() {
                ", same length: field order differs"
            } else {
                ""
            }
        );
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

fn ours(
    g: &mut BenchmarkGroup<'_, WallTime>,
    packets: &[Packet<'_>],
    protocol: Protocol,
    len: usize,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    g.bench_function("ours", |b| {
        b.iter(|| {
            buf.clear();
            for p in black_box(packets) {
                p.encode(protocol, &mut buf).unwrap();
            }
            black_box(buf.as_ptr());
        })
    });
}

fn encode(c: &mut Criterion) {
    for w in workloads() {
        let name = w.name;
        let want = &w.bytes[..];
        let len = want.len();
        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Bytes(len as u64));

        // The borrowed form, as a caller encoding its own values writes it; the shared
        // form runs the same code.
        let packet = w.packet.view();
        ours(&mut g, std::slice::from_ref(&packet), w.protocol, len);

        // A PUBLISH can also be written as header only, its payload left for a vectored
        // write: no payload copy at all.
        if let Packet::Publish(p) = &packet {
            let enc = mqtt_codec::Encoder::new(w.protocol);
            let mut buf: Vec<u8> = Vec::with_capacity(len);
            let n = enc.encode_publish_header(p, &mut buf).unwrap();
            assert_eq!(n + p.payload.len(), len);
            g.bench_function("ours_header_only", |b| {
                b.iter(|| {
                    buf.clear();
                    enc.encode_publish_header(black_box(p), &mut buf).unwrap();
                    black_box(buf.as_ptr());
                })
            });
        }

        if let Some(v) = peer_mqttbytes::build(&w) {
            let mut buf = bytes::BytesMut::with_capacity(len * 2);
            peer_mqttbytes::encode(&v, &mut buf).unwrap();
            compare("mqttbytes", name, &buf, want);
            g.bench_function("mqttbytes", |b| {
                b.iter(|| {
                    buf.clear();
                    peer_mqttbytes::encode(black_box(&v), &mut buf).unwrap();
                    black_box(buf.as_ptr());
                })
            });
        }

        let pl = w.shape.payload_len().map(payload).unwrap_or_default();
        if let Some(p) = peer_mqttrs::build(&w, &pl) {
            let mut buf = vec![0u8; len + 64];
            let n = peer_mqttrs::encode(&p, &mut buf).unwrap();
            compare("mqttrs", name, &buf[..n], want);
            g.bench_function("mqttrs", |b| {
                b.iter(|| black_box(peer_mqttrs::encode(black_box(&p), &mut buf).unwrap()))
            });
        }

        if let Some(p) = peer_mqtt_protocol::build(&w) {
            let mut buf: Vec<u8> = Vec::with_capacity(len * 2);
            peer_mqtt_protocol::encode(&p, &mut buf).unwrap();
            compare("mqtt-protocol", name, &buf, want);
            g.bench_function("mqtt-protocol", |b| {
                b.iter(|| {
                    buf.clear();
                    peer_mqtt_protocol::encode(black_box(&p), &mut buf).unwrap();
                    black_box(buf.as_ptr());
                })
            });
        }

        memcpy(&mut g, want);
        g.finish();
    }

    // The mixed stream: every packet of it, one after the other, into one buffer.
    let s = stream();
    let want = &s.bytes[..];
    let len = want.len();
    let mut g = c.benchmark_group(format!("encode/{STREAM_NAME}"));
    g.throughput(Throughput::Elements(s.packets() as u64));

    let packets = s.our_packets();
    ours(&mut g, &packets, Protocol::V3_1_1, len);

    let values = peer_mqttbytes::build_stream(&s);
    let mut buf = bytes::BytesMut::with_capacity(len * 2);
    let write_all = |buf: &mut bytes::BytesMut| {
        buf.clear();
        for p in black_box(&values) {
            peer_mqttbytes::encode_v4(p, buf).unwrap();
        }
    };
    write_all(&mut buf);
    compare("mqttbytes", STREAM_NAME, &buf, want);
    g.bench_function("mqttbytes", |b| {
        b.iter(|| {
            write_all(&mut buf);
            black_box(buf.as_ptr());
        })
    });

    let values = peer_mqttrs::build_stream(&s);
    let mut buf = vec![0u8; len + 64];
    let write_all = |buf: &mut [u8]| {
        let mut at = 0;
        for p in black_box(&values) {
            at += peer_mqttrs::encode(p, &mut buf[at..]).unwrap();
        }
        at
    };
    let n = write_all(&mut buf);
    compare("mqttrs", STREAM_NAME, &buf[..n], want);
    g.bench_function("mqttrs", |b| b.iter(|| black_box(write_all(&mut buf))));

    if let Some(values) = peer_mqtt_protocol::build_stream(&s) {
        let mut buf: Vec<u8> = Vec::with_capacity(len * 2);
        let write_all = |buf: &mut Vec<u8>| {
            buf.clear();
            for p in black_box(&values) {
                peer_mqtt_protocol::encode(p, buf).unwrap();
            }
        };
        write_all(&mut buf);
        compare("mqtt-protocol", STREAM_NAME, &buf, want);
        g.bench_function("mqtt-protocol", |b| {
            b.iter(|| {
                write_all(&mut buf);
                black_box(buf.as_ptr());
            })
        });
    }

    memcpy(&mut g, want);
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
    targets = encode
}
criterion_main!(benches);
