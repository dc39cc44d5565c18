//! Conformance against real traffic: every packet mosquitto 2.0.11 (broker and clients) sent
//! in `tests/vectors/mosquitto/*.hex` must decode as exactly one whole packet, re-encode to
//! a packet that decodes equal, and re-encode to the very same bytes unless the difference is
//! one of the few encoder choices listed in [`ALLOWED`].
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use mqtt_codec::{Decoded, Decoder, Packet, PacketType, Protocol, MAX_PACKET_SIZE};

/// A kind of byte difference between mosquitto's packet and our re-encoding of it that the
/// specification allows and our encoder chooses deliberately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    /// The shortest form of the reason-code tail: a 5.0 acknowledgement, DISCONNECT or AUTH
    /// whose Property Length is 0 is written without it, and a reason code 0x00 with no
    /// properties is left out as well (MQTT 5.0 §3.4.2.1, §3.14.2.1, §3.15.2.1), e.g. a
    /// PUBACK `40 03 00 01 00` re-encodes as `40 02 00 01`.
    ShortestTail,
}

/// The allowlist: at which level, on which packet, which difference, and why.
const ALLOWED: &[(Protocol, PacketType, Difference)] = &[
    // Shortest tails (none in the 2.0.11 capture; mosquitto already writes the short forms,
    // but other regenerations or peers may not).
    (Protocol::V5, PacketType::PubAck, Difference::ShortestTail),
    (Protocol::V5, PacketType::PubRec, Difference::ShortestTail),
    (Protocol::V5, PacketType::PubRel, Difference::ShortestTail),
    (Protocol::V5, PacketType::PubComp, Difference::ShortestTail),
    (
        Protocol::V5,
        PacketType::Disconnect,
        Difference::ShortestTail,
    ),
];

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/mosquitto")
}

fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() & 1 != 0 {
        return Err(format!("odd number of hex digits ({})", b.len()));
    }
    b.chunks_exact(2)
        .map(|p| match (nibble(p[0]), nibble(p[1])) {
            (Some(h), Some(l)) => Ok((h << 4) | l),
            _ => Err(format!("not hex: {:?}", String::from_utf8_lossy(p))),
        })
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// An independent reader of just enough of the wire format to find property blocks.
// ---------------------------------------------------------------------------------------

/// Reads a variable byte integer at `pos`: (value, bytes used).
fn varint(b: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut v = 0usize;
    for i in 0..4 {
        let byte = *b.get(pos + i)?;
        v |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    loop {
        let mut byte = (v % 128) as u8;
        v /= 128;
        if v > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if v == 0 {
            break;
        }
    }
}

/// Splits a packet into (first byte, body).
fn split_packet(b: &[u8]) -> Option<(u8, &[u8])> {
    let first = *b.first()?;
    let (len, n) = varint(b, 1)?;
    let body = b.get(1 + n..)?;
    (body.len() == len).then_some((first, body))
}

fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    put_varint(&mut out, body.len());
    out.extend_from_slice(body);
    out
}

/// The packet with its reason-code tail in the shortest form: an empty property block
/// dropped, then a reason code 0x00 that ends the packet dropped.
fn with_shortest_tail(packet: &[u8]) -> Option<Vec<u8>> {
    let (first, body) = split_packet(packet)?;
    let reason_at = match first >> 4 {
        4..=7 => 2,
        14 | 15 => 0,
        _ => return None,
    };
    let mut body = body.to_vec();
    if body.len() == reason_at + 2 && body[reason_at + 1] == 0 {
        body.pop();
    }
    if body.len() == reason_at + 1 && body[reason_at] == 0 {
        body.pop();
    }
    Some(frame(first, &body))
}

/// Whether `theirs` re-encoded as `ours` is explained by `kind`.
fn explains(kind: Difference, theirs: &[u8], ours: &[u8]) -> bool {
    let normal = match kind {
        Difference::ShortestTail => with_shortest_tail,
    };
    match (normal(theirs), normal(ours)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------

/// What one file gave: packet types with counts, allowed differences with counts.
#[derive(Debug, Default)]
struct Summary {
    types: BTreeMap<PacketType, usize>,
    allowed: BTreeMap<(PacketType, Difference), usize>,
    identical: usize,
}

fn check_file(name: &str, level: Protocol) -> Summary {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let decoder = Decoder::new(level).max_packet_size(MAX_PACKET_SIZE);
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", i + 1);
        if line.starts_with('#') {
            continue;
        }
        let short = if line.len() > 80 {
            format!("{}… ({} hex digits)", &line[..80], line.len())
        } else {
            line.to_string()
        };
        let bytes = match from_hex(line.trim()) {
            Ok(b) if !b.is_empty() => b,
            Ok(_) => {
                failures.push(format!("{at}: blank line"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{at}: {e}"));
                continue;
            }
        };
        let packet = match decoder.decode(&bytes) {
            Ok(Decoded::Complete(p, n)) if n == bytes.len() => p,
            other => {
                failures.push(format!(
                    "{at}: {short}: expected one whole packet of {} bytes, got {other:?}",
                    bytes.len()
                ));
                continue;
            }
        };
        let ty = packet.packet_type();
        *summary.types.entry(ty).or_default() += 1;
        if let Packet::Connect(c) = &packet {
            if c.protocol != level {
                failures.push(format!("{at}: CONNECT at {} in a {level} file", c.protocol));
            }
        }
        let mut ours = Vec::new();
        let written = match packet.encode(level, &mut ours) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{at}: {short}: re-encoding {ty} failed: {e:?}"));
                continue;
            }
        };
        if written != ours.len() || packet.encoded_len(level) != Ok(ours.len()) {
            failures.push(format!(
                "{at}: {ty}: encode returned {written}, encoded_len {:?}, wrote {}",
                packet.encoded_len(level),
                ours.len()
            ));
        }
        match decoder.decode(&ours) {
            Ok(Decoded::Complete(again, n)) if n == ours.len() => {
                if again != packet {
                    failures.push(format!(
                        "{at}: {ty}: re-encoded packet decodes differently\n  was {packet:?}\n  now {again:?}"
                    ));
                }
            }
            other => failures.push(format!(
                "{at}: {ty}: re-encoding {} does not decode as one packet: {other:?}",
                to_hex(&ours)
            )),
        }
        if ours == bytes {
            summary.identical += 1;
            continue;
        }
        let explained = ALLOWED
            .iter()
            .filter(|(l, t, _)| *l == level && *t == ty)
            .map(|&(_, _, kind)| kind)
            .find(|&kind| explains(kind, &bytes, &ours));
        match explained {
            Some(kind) => *summary.allowed.entry((ty, kind)).or_default() += 1,
            None => failures.push(format!(
                "{at}: {ty} re-encodes to other bytes, not explained by the allowlist\n  theirs {}\n  ours   {}",
                to_hex(&bytes),
                to_hex(&ours)
            )),
        }
    }
    eprintln!(
        "{name}: {} packets, {} re-encoded identically, allowed differences {:?}, types {:?}",
        summary.types.values().sum::<usize>(),
        summary.identical,
        summary.allowed,
        summary.types
    );
    assert!(
        failures.is_empty(),
        "{} failures in {name}:\n{}",
        failures.len(),
        failures.join("\n")
    );
    summary
}

use PacketType as T;

const CLIENT: &[PacketType] = &[
    T::Connect,
    T::Publish,
    T::PubAck,
    T::PubRec,
    T::PubRel,
    T::PubComp,
    T::Subscribe,
    T::Unsubscribe,
    T::PingReq,
    T::Disconnect,
];

const SERVER_V3: &[PacketType] = &[
    T::ConnAck,
    T::Publish,
    T::PubAck,
    T::PubRec,
    T::PubRel,
    T::PubComp,
    T::SubAck,
    T::UnsubAck,
    T::PingResp,
];

/// MQTT 5.0 brokers also send DISCONNECT (here 0x94, Topic Alias invalid).
const SERVER_V5: &[PacketType] = &[
    T::ConnAck,
    T::Publish,
    T::PubAck,
    T::PubRec,
    T::PubRel,
    T::PubComp,
    T::SubAck,
    T::UnsubAck,
    T::PingResp,
    T::Disconnect,
];

fn check(name: &str, level: Protocol, expected_types: &[PacketType]) -> Summary {
    let summary = check_file(name, level);
    let seen: BTreeSet<PacketType> = summary.types.keys().copied().collect();
    let expected: BTreeSet<PacketType> = expected_types.iter().copied().collect();
    assert_eq!(
        seen, expected,
        "{name}: packet types seen (left) differ from the expected coverage (right)"
    );
    summary
}

#[test]
fn v31_client() {
    let s = check("v31-client.hex", Protocol::V3_1, CLIENT);
    assert!(s.allowed.is_empty(), "3.1 re-encodes byte for byte");
}

#[test]
fn v31_server() {
    let s = check("v31-server.hex", Protocol::V3_1, SERVER_V3);
    assert!(s.allowed.is_empty(), "3.1 re-encodes byte for byte");
}

#[test]
fn v311_client() {
    let s = check("v311-client.hex", Protocol::V3_1_1, CLIENT);
    assert!(s.allowed.is_empty(), "3.1.1 re-encodes byte for byte");
}

#[test]
fn v311_server() {
    let s = check("v311-server.hex", Protocol::V3_1_1, SERVER_V3);
    assert!(s.allowed.is_empty(), "3.1.1 re-encodes byte for byte");
}

#[test]
fn v5_client() {
    let s = check("v5-client.hex", Protocol::V5, CLIENT);
    // Properties are written back verbatim, in mosquitto's order.
    assert!(s.allowed.is_empty(), "5.0 re-encodes byte for byte");
}

#[test]
fn v5_server() {
    let s = check("v5-server.hex", Protocol::V5, SERVER_V5);
    assert!(s.allowed.is_empty(), "5.0 re-encodes byte for byte");
}

/// Every `*.hex` file in the directory is one of the six checked above.
#[test]
fn no_vector_file_is_left_out() {
    let mut names: Vec<String> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hex"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "v31-client.hex",
            "v31-server.hex",
            "v311-client.hex",
            "v311-server.hex",
            "v5-client.hex",
            "v5-server.hex"
        ]
    );
}

/// The allowlist's checks accept what they should and nothing else.
#[test]
fn allowlist_checks_are_precise() {
    use Difference::*;
    let h = |s: &str| from_hex(s).unwrap();
    // The example from the encoder's documentation: PUBACK with reason 0 and no properties.
    assert!(explains(ShortestTail, &h("4003000100"), &h("40020001")));
    assert!(explains(ShortestTail, &h("400400010000"), &h("40020001")));
    assert!(explains(ShortestTail, &h("e00100"), &h("e000")));
    assert!(explains(ShortestTail, &h("e0020000"), &h("e000")));
    // A non-zero reason is not droppable.
    assert!(!explains(ShortestTail, &h("4003000110"), &h("40020001")));
    // A different packet identifier is not a tail difference.
    assert!(!explains(ShortestTail, &h("4003000100"), &h("40020002")));
}
