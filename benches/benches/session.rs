//! Session benchmarks: the connection state machines, one QoS 1 or QoS 2 round per
//! iteration (a 16-byte PUBLISH from a connected client to a server, every packet of the
//! flow both ways as bytes, the message delivered to the server's application, the
//! completion to the client's), in groups `session_qos1_v3.1.1`, `session_qos2_v3.1.1`,
//! `session_qos1_v5` and `session_qos2_v5`, with:
//!
//! - `ours`: `mqtt_benches::session::Connected` (our `Client` and `Server`);
//! - `ours_client`: `mqtt_benches::session::ClientOnly`, our client machine alone against
//!   a stateless server simulated with our codec, as the rumqttc round simulates one;
//! - `codec_only`: `mqtt_benches::session::CodecOnly`, our codec alone encoding and
//!   decoding the same packets, no session logic (what the machines add shows as the
//!   difference);
//! - `rumqttc` (3.1.1 only): rumqttc's client `MqttState` against a server simulated with
//!   its codec, which keeps no state (rumqttc has no server role): a lower bound for
//!   rumqttc, see `shared/session_peers.rs`;
//! - `mqtt-protocol-core`: its client and server `Connection`s.
//!
//! Each pair is connected once before measuring and then runs round after round (the
//! identifiers cycle as each implementation allocates them); before measuring, a round of
//! each is checked to deliver the payload and complete (its checksum). The time is per
//! round. What each round includes, exactly, is documented in `src/session.rs` and
//! `shared/session_peers.rs`.
//!
//! Criterion's own options work as usual: `cargo bench -p mqtt-benches --bench session --
//! --warm-up-time 1 --measurement-time 3 qos2`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mqtt_benches::session::{ClientOnly, CodecOnly, Connected, PAYLOAD_LEN};
use mqtt_codec::{Protocol, QoS};

#[path = "../shared/session_peers.rs"]
mod session_peers;

use session_peers::mqtt_protocol_core_peer::{self, MqttProtocolCore};
use session_peers::rumqttc_peer::Rumqttc;

/// Checks that a round delivered the payload and completed an identifier.
fn check(name: &str, group: &str, sum: u64) {
    assert!(
        sum > PAYLOAD_LEN as u64,
        "{name} in {group}: the round did not deliver and complete (checksum {sum})"
    );
}

fn session(c: &mut Criterion) {
    for (protocol, pname) in [(Protocol::V3_1_1, "v3.1.1"), (Protocol::V5, "v5")] {
        for (qos, qname) in [(QoS::AtLeastOnce, "qos1"), (QoS::ExactlyOnce, "qos2")] {
            let group = format!("session_{qname}_{pname}");
            let mut g = c.benchmark_group(&group);
            g.throughput(Throughput::Elements(1));

            let mut ours = Connected::new(protocol);
            check("ours", &group, ours.round(qos));
            g.bench_function("ours", |b| b.iter(|| black_box(ours.round(black_box(qos)))));

            let mut client = ClientOnly::new(protocol);
            check("ours_client", &group, client.round(qos));
            g.bench_function("ours_client", |b| {
                b.iter(|| black_box(client.round(black_box(qos))))
            });

            let mut codec = CodecOnly::new(protocol);
            g.bench_function("codec_only", |b| {
                b.iter(|| black_box(codec.round(black_box(qos))))
            });

            if protocol == Protocol::V3_1_1 {
                let mut r = Rumqttc::new();
                check("rumqttc", &group, r.round(qos));
                g.bench_function("rumqttc", |b| b.iter(|| black_box(r.round(black_box(qos)))));
            }

            if protocol == Protocol::V3_1_1 && qos == QoS::AtLeastOnce {
                // The MQTT-SN machines: client, gateway (with its translation to an MQTT
                // PUBLISH over its MQTT client machine) and broker.
                let mut sn = mqtt_benches::sn_session::SnConnected::new();
                check("ours_sn_gateway", &group, sn.round());
                g.bench_function("ours_sn_gateway", |b| b.iter(|| black_box(sn.round())));
                let mut sim = mqtt_benches::sn_session::SnConnected::with_simulated_broker();
                check("ours_sn_gateway_sim_broker", &group, sim.round());
                g.bench_function("ours_sn_gateway_sim_broker", |b| {
                    b.iter(|| black_box(sim.round()))
                });
            }

            if mqtt_protocol_core_peer::supports(protocol) {
                let mut m = MqttProtocolCore::new(protocol).expect("mqtt-protocol-core connects");
                check("mqtt-protocol-core", &group, m.round(qos));
                g.bench_function("mqtt-protocol-core", |b| {
                    b.iter(|| black_box(m.round(black_box(qos))))
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, session);
criterion_main!(benches);
