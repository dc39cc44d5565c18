//! The connection machines' memory and allocations, measured with a counting allocator:
//!
//! - heap allocations per QoS 1 and QoS 2 round through a connected client and server, in
//!   steady state (after warm-up rounds);
//! - the size of an idle connection (after CONNECT and CONNACK, nothing in flight): the
//!   machine's struct plus the heap it holds, for a client and for a server;
//! - 100,000 idle server connections in one process: the heap they hold in all.
//!
//! Heap is counted as the sizes requested from the allocator (its own per-block overhead
//! is not counted). The test fails if a round allocates, if an idle connection takes more
//! than 512 bytes, or if the 100,000 take more than 64 MB (the targets of the machines'
//! issue); these are counts, not times, so they are the same on every machine.
//!
//! `cargo test --release -p mqtt-benches --test session_memory -- --nocapture` prints the
//! numbers (also written to `session_memory.md` in Cargo's target tmp directory). The
//! global allocator applies to this whole test binary, so this file holds nothing else.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::hint::black_box;

use mqtt_benches::session::Connected;
use mqtt_codec::session::{Client, Event, Server, ServerOptions};
use mqtt_codec::{Instant, Protocol, QoS};
use mqtt_integration_tests::alloc_count::{allocations, live_bytes, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROUNDS: usize = 1000;
const CONNECTIONS: usize = 100_000;

fn allocations_per_round(protocol: Protocol, qos: QoS) -> f64 {
    let mut c = Connected::new(protocol);
    for _ in 0..100 {
        black_box(c.round(qos));
    }
    let before = allocations();
    for _ in 0..ROUNDS {
        black_box(c.round(qos));
    }
    (allocations() - before) as f64 / ROUNDS as f64
}

/// A connected pair's client and server, and the heap each holds (measured by building
/// each side's share: the heap the pair holds, split by dropping one side).
fn idle_sizes(protocol: Protocol, shrink: bool) -> (usize, usize) {
    let base = live_bytes();
    let mut c = Connected::new(protocol);
    if shrink {
        c.client.shrink();
        c.server.shrink();
    }
    let both = live_bytes() - base;
    let Connected { client, server, .. } = c;
    let before_drop = live_bytes();
    drop(server);
    let server_heap = before_drop - live_bytes();
    let client_heap = both - server_heap;
    drop(client);
    (
        std::mem::size_of::<Client>() + client_heap.max(0) as usize,
        std::mem::size_of::<Server>() + server_heap.max(0) as usize,
    )
}

fn many_idle_servers(protocol: Protocol, shrink: bool) -> (usize, usize) {
    // The CONNECT each client sends, encoded once.
    let id = mqtt_codec::shared::Str::new("idle-client-0001").unwrap();
    let connect = mqtt_codec::shared::Connect::new(protocol, id, 60);
    let mut bytes = Vec::new();
    mqtt_codec::Packet::from(connect.view())
        .encode(protocol, &mut bytes)
        .unwrap();
    let base = live_bytes();
    let mut servers: Vec<Server> = Vec::with_capacity(CONNECTIONS);
    let now = Instant::ZERO;
    for _ in 0..CONNECTIONS {
        let mut s = Server::new(now, ServerOptions::default());
        s.handle_bytes(now, &bytes);
        while let Some(e) = s.poll_event() {
            if let Event::Connect(_) = e {
                s.accept(now, None, Default::default()).unwrap();
            }
        }
        while s.poll_transmit().is_some() {}
        if shrink {
            s.shrink();
        }
        servers.push(s);
    }
    let total = (live_bytes() - base) as usize;
    black_box(&servers);
    (total, total / CONNECTIONS)
}

#[test]
fn session_memory_and_allocations() {
    let mut md = String::new();
    let _ = writeln!(md, "| measure | 3.1.1 | 5.0 |\n|---|---:|---:|");
    for protocol in [Protocol::V3_1_1, Protocol::V5] {
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let n = allocations_per_round(protocol, qos);
            assert_eq!(
                n, 0.0,
                "{protocol:?} {qos:?}: allocations per round in steady state"
            );
        }
        let (client, server) = idle_sizes(protocol, false);
        assert!(client <= 512, "{protocol:?}: idle client {client} bytes");
        assert!(server <= 512, "{protocol:?}: idle server {server} bytes");
        let (total, _) = many_idle_servers(protocol, false);
        assert!(
            total <= 64_000_000,
            "{protocol:?}: 100,000 idle servers take {total} bytes"
        );
    }
    let mut row = |name: &str, f: &dyn Fn(Protocol) -> String| {
        let _ = writeln!(
            md,
            "| {name} | {} | {} |",
            f(Protocol::V3_1_1),
            f(Protocol::V5)
        );
    };
    row(
        "heap allocations per QoS 1 round (client and server)",
        &|p| format!("{:.2}", allocations_per_round(p, QoS::AtLeastOnce)),
    );
    row(
        "heap allocations per QoS 2 round (client and server)",
        &|p| format!("{:.2}", allocations_per_round(p, QoS::ExactlyOnce)),
    );
    row("idle client: struct + heap, bytes", &|p| {
        idle_sizes(p, false).0.to_string()
    });
    row("idle server: struct + heap, bytes", &|p| {
        idle_sizes(p, false).1.to_string()
    });
    row("100,000 idle servers: heap in all (per connection)", &|p| {
        let (total, per) = many_idle_servers(p, false);
        format!("{:.1} MB ({} B)", total as f64 / 1e6, per)
    });
    println!("{md}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("session_memory.md");
    let _ = std::fs::write(path, &md);
}

#[test]
fn print_struct_sizes() {
    use std::mem::size_of;
    println!(
        "Client {} Server {} Session {} Event {} Publish {} Connect {} Decoder {} Encoder {} BytesMut {}",
        size_of::<Client>(),
        size_of::<Server>(),
        size_of::<mqtt_codec::session::Session>(),
        size_of::<Event>(),
        size_of::<mqtt_codec::shared::Publish>(),
        size_of::<mqtt_codec::shared::Connect>(),
        size_of::<mqtt_codec::Decoder>(),
        size_of::<mqtt_codec::Encoder>(),
        size_of::<mqtt_codec::BytesMut>(),
    );
}
