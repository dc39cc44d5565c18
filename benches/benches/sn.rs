//! MQTT-SN benchmarks: `sn_decode/<workload>` and `sn_encode/<workload>` with `ours`
//! (`mqtt-sn-codec`), the `mqtt-sn` crate where it handles the workload, and a `memcpy`
//! floor (a copy of the same datagram into a preallocated buffer). For the messages that
//! carry a string (CONNECT, SUBSCRIBE with a topic name), decode also has a `from_utf8`
//! floor: `core::str::from_utf8` over that string alone, which any safe decoder handing out
//! a `&str` pays.
//!
//! Decode: each implementation decodes the same datagram (`mqtt_benches::sn::workloads()`,
//! built once) once per iteration and walks what it decoded (the same checksum formula for
//! both, checked to agree before measuring; see `shared/sn_peer.rs`); the checksum, a
//! plain `u64` (0 if refused), is consumed with `black_box` (an `Option<u64>` went through
//! the stack as two 8-byte stores and one 16-byte load, a store-forwarding stall timed
//! on every iteration). The peer has the one-octet Length only, so it has no
//! `publish_qos1_registered_1000B_3octet` (it refuses the datagram; a note is printed).
//!
//! Encode: each implementation writes its own message value, constructed once, into a
//! reused buffer. Ours encodes by reference into a `Vec<u8>` cleared on every iteration.
//! The peer's encoder takes the message by value and writes into a `&mut [u8]` from its
//! start (nothing to clear), so it is given a fresh clone per iteration, made outside the
//! timing (`iter_batched`); moving that value in is timed, as it is part of the peer's API.
//! Before measuring, the peer's output is compared with ours; a difference is printed.
//!
//! Criterion's own options work as usual: `cargo bench -p mqtt-benches --bench sn --
//! --quick publish`.
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
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use mqtt_benches::sn::{self, SnWorkload};

#[path = "../shared/sn_peer.rs"]
mod sn_peer;

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

/// Whether the peer decodes `w` to the same content as ours; prints a note if not.
fn peer_decodes(w: &SnWorkload, expected: u64) -> bool {
    match sn_peer::decode_walk(&w.bytes) {
        None => {
            eprintln!(
                "note: {} refuses sn_decode/{} ({} octets{}); not benchmarked",
                sn_peer::NAME,
                w.name,
                w.bytes.len(),
                if w.long_length() {
                    ", 3-octet Length"
                } else {
                    ""
                }
            );
            false
        }
        Some(c) => {
            if c != expected {
                eprintln!(
                    "note: {} decodes sn_decode/{} differently from ours (checksum {c} vs {expected})",
                    sn_peer::NAME,
                    w.name
                );
            }
            true
        }
    }
}

fn decode(c: &mut Criterion) {
    for w in sn::workloads() {
        let bytes = &w.bytes[..];
        let expected = sn::checksum(&w.message.view());
        assert_eq!(sn::decode_walk(bytes), Some(expected), "ours: {}", w.name);
        let mut g = c.benchmark_group(format!("sn_decode/{}", w.name));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("ours", |b| {
            b.iter(|| black_box(sn::decode_walk(black_box(bytes)).unwrap_or(0)))
        });
        if peer_decodes(&w, expected) {
            g.bench_function(sn_peer::NAME, |b| {
                b.iter(|| black_box(sn_peer::decode_walk(black_box(bytes)).unwrap_or(0)))
            });
        }
        memcpy(&mut g, bytes);
        if let Some(text) = w.text() {
            // The other floor of a message that carries a string: the standard library's
            // UTF-8 check of that string alone, the only way to a `&str` without `unsafe`.
            g.bench_function("from_utf8", |b| {
                b.iter(|| black_box(core::str::from_utf8(black_box(text)).map_or(0, str::len)))
            });
        }
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    for w in sn::workloads() {
        let want = &w.bytes[..];
        let len = want.len();
        let mut g = c.benchmark_group(format!("sn_encode/{}", w.name));
        g.throughput(Throughput::Bytes(len as u64));

        // Into a byte slice, as the peer writes (its API takes a `&mut [u8]`).
        let message = &w.message;
        let mut buf = vec![0u8; len.max(512)];
        assert_eq!(message.encode(&mut &mut buf[..]).unwrap(), len);
        assert_eq!(&buf[..len], want);
        g.bench_function("ours", |b| {
            b.iter(|| black_box(black_box(message).encode(&mut &mut buf[..]).unwrap()))
        });

        match sn_peer::build(&w) {
            None => eprintln!(
                "note: {} cannot write sn_encode/{} ({} octets{}); not benchmarked",
                sn_peer::NAME,
                w.name,
                len,
                if w.long_length() {
                    ", 3-octet Length"
                } else {
                    ""
                }
            ),
            Some(m) => {
                let mut buf = vec![0u8; len.max(512)];
                let n = sn_peer::encode(m.clone(), &mut buf).unwrap();
                if &buf[..n] != want {
                    eprintln!(
                        "note: {} encodes sn_encode/{} differently from ours ({n} octets vs {len})",
                        sn_peer::NAME,
                        w.name
                    );
                }
                g.bench_function(sn_peer::NAME, |b| {
                    b.iter_batched(
                        || m.clone(),
                        |m| black_box(sn_peer::encode(m, black_box(&mut buf[..])).unwrap()),
                        BatchSize::SmallInput,
                    )
                });
            }
        }

        memcpy(&mut g, want);
        g.finish();
    }
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
    targets = decode, encode
}
criterion_main!(benches);
