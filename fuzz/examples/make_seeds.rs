//! Writes the seed corpora: one file per packet type and protocol level, for each target.
//!
//! `cargo +nightly run --example make_seeds` from `fuzz/`. Decode and differential seeds
//! come from the mosquitto captures in `tests/vectors/` (plus AUTH, which mosquitto did not
//! send); round-trip seeds are fuzzer inputs found to build a packet of each type.

use mqtt_codec::{Decoded, Decoder, Protocol, MAX_PACKET_SIZE};
use std::collections::BTreeMap;
use std::fs;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn tag(p: Protocol) -> &'static str {
    match p {
        Protocol::V3_1 => "v31",
        Protocol::V3_1_1 => "v311",
        Protocol::V5 => "v5",
    }
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut seeds: BTreeMap<(Protocol, &'static str), Vec<u8>> = BTreeMap::new();
    for (file, level) in [
        ("v31", Protocol::V3_1),
        ("v311", Protocol::V3_1_1),
        ("v5", Protocol::V5),
    ] {
        for side in ["client", "server"] {
            let path = format!("{root}/tests/vectors/mosquitto/{file}-{side}.hex");
            for line in fs::read_to_string(path).unwrap().lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.len() > 600 {
                    continue;
                }
                let bytes = hex(line);
                let d = Decoder::new(level).max_packet_size(MAX_PACKET_SIZE);
                if let Ok(Decoded::Complete(p, _)) = d.decode(&bytes) {
                    seeds.entry((level, p.packet_type().name())).or_insert(bytes);
                }
            }
        }
    }
    seeds.insert(
        (Protocol::V5, "AUTH"),
        hex("f0141812150005534352414d16000201021f0002676f"),
    );
    let dir = format!("{root}/fuzz/corpus");
    for ((level, name), bytes) in &seeds {
        let lname = format!("{}-{}", tag(*level), name.to_lowercase());
        let ctl = match level {
            Protocol::V3_1 => 0u8,
            Protocol::V3_1_1 => 1,
            Protocol::V5 => 2,
        };
        let mut d = vec![ctl, 3];
        d.extend(bytes);
        write(&dir, "mqtt_decode", &lname, &d);
        if *level != Protocol::V3_1 {
            let mut d = vec![u8::from(*level == Protocol::V5)];
            d.extend(bytes);
            write(&dir, "mqtt_differential", &lname, &d);
        }
    }
    // Round trip: search inputs that build each packet type at each level.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut found: BTreeMap<(Protocol, &'static str), Vec<u8>> = BTreeMap::new();
    for _ in 0..2_000_000 {
        if found.len() == 44 {
            break;
        }
        let mut data = vec![0u8; 96];
        for b in data.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let mut u = arbitrary::Unstructured::new(&data);
        let Ok(level) = mqtt_fuzz::level(&mut u) else { continue };
        let Ok(p) = mqtt_fuzz::packet(&mut u, level) else { continue };
        let level = match &p {
            mqtt_codec::generic::Packet::Connect(c) => c.protocol,
            _ => level,
        };
        found.entry((level, p.packet_type().name())).or_insert(data);
    }
    for ((level, name), data) in &found {
        let lname = format!("{}-{}", tag(*level), name.to_lowercase());
        write(&dir, "mqtt_roundtrip", &lname, data);
    }
    println!("{} decode seeds, {} round-trip seeds", seeds.len(), found.len());
    sn_seeds(root, &dir);
}

/// MQTT-SN: decode seeds from the golden vectors (`NAME HEX` lines), one per message form,
/// behind a control octet of 0; round-trip seeds are inputs found to build each type.
fn sn_seeds(root: &str, dir: &str) {
    let path = format!("{root}/tests/vectors/mqtt-sn/messages.hex");
    let mut n = 0;
    for line in fs::read_to_string(path).unwrap().lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, h) = line.split_once(char::is_whitespace).unwrap();
        let digits: String = h.chars().filter(|c| !c.is_whitespace()).collect();
        let mut d = vec![0u8];
        d.extend(hex(&digits));
        write(dir, "sn_decode", &name.to_lowercase(), &d);
        n += 1;
    }
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for _ in 0..2_000_000 {
        if found.len() == 29 {
            break;
        }
        let mut data = vec![0u8; 64];
        for b in data.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let mut u = arbitrary::Unstructured::new(&data);
        let Ok(m) = mqtt_fuzz::sn::message(&mut u) else { continue };
        found
            .entry(m.msg_type().name().to_lowercase())
            .or_insert(data);
    }
    for (name, data) in &found {
        write(dir, "sn_roundtrip", name, data);
    }
    println!("{n} MQTT-SN decode seeds, {} round-trip seeds", found.len());
}

fn write(dir: &str, target: &str, name: &str, data: &[u8]) {
    let d = format!("{dir}/{target}");
    fs::create_dir_all(&d).unwrap();
    fs::write(format!("{d}/{name}"), data).unwrap();
}
