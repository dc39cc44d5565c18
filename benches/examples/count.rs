//! Decodes one workload in a loop, for counting instructions with
//! `valgrind --tool=callgrind` (a count that does not move with the machine's load, unlike
//! wall-clock time). `benches/count.sh` runs it twice per workload and prints the
//! instructions per decode.
//!
//! ```text
//! count <workload name> <iterations>     # an MQTT workload (decode/<name>) or an
//!                                        # MQTT-SN one (sn_decode/<name>)
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let mut sum = 0u64;
    if let Some(w) = mqtt_benches::sn::workloads()
        .into_iter()
        .find(|w| w.name == name)
    {
        for _ in 0..n {
            let c = mqtt_benches::sn::decode_walk(black_box(&w.bytes));
            sum = sum.wrapping_add(c.unwrap_or(0));
        }
    } else if let Some(w) = mqtt_benches::workloads()
        .into_iter()
        .find(|w| w.name == name)
    {
        let decoder = mqtt_benches::decoder(w.protocol);
        for _ in 0..n {
            let c = mqtt_benches::decode_walk(&decoder, black_box(&w.bytes));
            sum = sum.wrapping_add(c.map_or(0, |(_, c)| c));
        }
    } else {
        let sn = mqtt_benches::sn::workloads().into_iter().map(|w| w.name);
        let mqtt = mqtt_benches::workloads().into_iter().map(|w| w.name);
        eprintln!("workloads: {:?}", mqtt.chain(sn).collect::<Vec<_>>());
        std::process::exit(2);
    }
    println!("{sum}");
}
