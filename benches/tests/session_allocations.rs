//! Heap allocations per QoS 1 and QoS 2 round of the connection machines, in steady state,
//! for ours (`mqtt_benches::session::Connected`), rumqttc (3.1.1: its client state against
//! a stateless simulated server) and mqtt-protocol-core (client and server `Connection`s),
//! at the four session workloads: the rounds of the session benchmarks
//! (`benches/session.rs`; what each round includes is documented in `src/session.rs` and
//! `shared/session_peers.rs`).
//!
//! Each implementation connects, runs [`WARM_UP`] rounds (buffers grown, identifiers in use
//! cycling), then [`ROUNDS`] rounds counted by a counting global allocator (per thread):
//! allocations and reallocations, not frees. Every counted round's checksum (payload length
//! plus completed identifier) is checked, so a round that did not deliver or complete
//! fails the test instead of counting as cheap.
//!
//! Prints a Markdown table (run with `-- --nocapture`; it is also written to
//! `session_allocations.md` in Cargo's target tmp directory) and asserts only that ours
//! allocates nothing. The global allocator applies to this whole test binary, so this file
//! holds nothing else.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::hint::black_box;

use mqtt_benches::session::{ClientOnly, Connected, PAYLOAD_LEN};
use mqtt_codec::{Protocol, QoS};
use mqtt_integration_tests::alloc_count::{allocations, Counting};

#[path = "../shared/session_peers.rs"]
mod session_peers;

use session_peers::mqtt_protocol_core_peer::{self, MqttProtocolCore};
use session_peers::rumqttc_peer::Rumqttc;

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Rounds before counting.
const WARM_UP: usize = 100;
/// Rounds counted.
const ROUNDS: usize = 1000;

/// The workloads: name, protocol, QoS.
const WORKLOADS: [(&str, Protocol, QoS); 4] = [
    ("qos1_16B_v3.1.1", Protocol::V3_1_1, QoS::AtLeastOnce),
    ("qos2_16B_v3.1.1", Protocol::V3_1_1, QoS::ExactlyOnce),
    ("qos1_16B_v5", Protocol::V5, QoS::AtLeastOnce),
    ("qos2_16B_v5", Protocol::V5, QoS::ExactlyOnce),
];

/// Allocations per round of `round` in steady state. Panics if a round's checksum is not
/// the payload length plus an identifier.
fn per_round(name: &str, workload: &str, mut round: impl FnMut() -> u64) -> f64 {
    let ok = |sum: u64| {
        let id = sum.wrapping_sub(PAYLOAD_LEN as u64);
        (1..=u64::from(u16::MAX)).contains(&id)
    };
    for _ in 0..WARM_UP {
        let sum = black_box(round());
        assert!(ok(sum), "{name} {workload}: warm-up round checksum {sum}");
    }
    let before = allocations();
    let mut bad = 0usize;
    for _ in 0..ROUNDS {
        bad += usize::from(!ok(black_box(round())));
    }
    let n = allocations() - before;
    assert_eq!(
        bad, 0,
        "{name} {workload}: {bad} rounds with a wrong checksum"
    );
    n as f64 / ROUNDS as f64
}

#[test]
fn allocations_per_round() {
    // The counter works: an allocation on this thread is seen.
    let before = allocations();
    let v = black_box(vec![1u8; 16]);
    assert!(
        allocations() > before,
        "the counting allocator saw no allocation"
    );
    drop(v);

    let mut rows: Vec<(&str, &str, Option<f64>)> = Vec::new();
    for (workload, protocol, qos) in WORKLOADS {
        let mut ours = Connected::new(protocol);
        rows.push((
            workload,
            "ours",
            Some(per_round("ours", workload, || ours.round(qos))),
        ));
        let mut client = ClientOnly::new(protocol);
        rows.push((
            workload,
            "ours_client",
            Some(per_round("ours_client", workload, || client.round(qos))),
        ));
        let r = (protocol == Protocol::V3_1_1).then(|| {
            let mut r = Rumqttc::new();
            per_round("rumqttc", workload, || r.round(qos))
        });
        rows.push((workload, "rumqttc", r));
        let m = mqtt_protocol_core_peer::supports(protocol).then(|| {
            let mut m = MqttProtocolCore::new(protocol).expect("mqtt-protocol-core connects");
            per_round("mqtt-protocol-core", workload, || m.round(qos))
        });
        rows.push((workload, "mqtt-protocol-core", m));
    }

    let mut table = String::new();
    table.push_str("| workload | implementation | allocations per round |\n");
    table.push_str("|---|---|---:|\n");
    for (workload, implementation, per) in &rows {
        let cell = match per {
            Some(a) => format!("{a:.2}"),
            None => "– (not run at 5.0)".to_string(),
        };
        writeln!(table, "| {workload} | {implementation} | {cell} |").unwrap();
    }
    println!("\n{table}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("session_allocations.md");
    if std::fs::write(&path, &table).is_ok() {
        println!("(also written to {})", path.display());
    }

    for (workload, _, per) in rows
        .iter()
        .filter(|r| r.1 == "ours" || r.1 == "ours_client")
    {
        assert_eq!(*per, Some(0.0), "ours allocated in a {workload} round");
    }
}
