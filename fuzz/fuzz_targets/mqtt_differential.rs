//! Differential fuzzing against rumqtt's `mqttbytes` (its `v4` and `v5` modules): the same
//! bytes decoded by both. Where one accepts what the other rejects, or they read a field
//! differently, the case must be one of the deliberate differences listed in
//! `mqtt_fuzz::differential` (each with its specification reference, and in the README);
//! anything else stops the fuzzer.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqtt_codec::{Decoded, Decoder, Protocol};
use mqtt_fuzz::differential::{compare, ours_summary, theirs_v4, theirs_v5, Outcome};

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, data)) = data.split_first() else {
        return;
    };
    let protocol = if ctl & 1 == 0 { Protocol::V3_1_1 } else { Protocol::V5 };
    let ours = match Decoder::new(protocol).max_packet_size(MAX as u32 + 5).decode(data) {
        Ok(Decoded::Complete(p, n)) => Outcome::Packet(ours_summary(&p), n),
        Ok(Decoded::Partial(_)) => Outcome::Partial,
        Err(e) => Outcome::Error(format!("{e:?}")),
    };
    let mut buf = BytesMut::from(data);
    let theirs = if protocol.is_v5() {
        match mqttbytes::v5::read(&mut buf, MAX) {
            Ok(p) => Outcome::Packet(theirs_v5(&p), data.len() - buf.len()),
            Err(mqttbytes::Error::InsufficientBytes(_)) => Outcome::Partial,
            Err(e) => Outcome::Error(format!("{e:?}")),
        }
    } else {
        match mqttbytes::v4::read(&mut buf, MAX) {
            Ok(p) => Outcome::Packet(theirs_v4(&p), data.len() - buf.len()),
            Err(mqttbytes::Error::InsufficientBytes(_)) => Outcome::Partial,
            Err(e) => Outcome::Error(format!("{e:?}")),
        }
    };
    if let Err(why) = compare(protocol, data, &ours, &theirs) {
        panic!("undocumented difference at {protocol}: {why}\n  ours:   {ours:?}\n  theirs: {theirs:?}\n  bytes: {data:02x?}");
    }
});
