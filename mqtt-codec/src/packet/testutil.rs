//! Test helpers: hex vectors, the prefix check and re-encoding.

use alloc::vec::Vec;

use crate::{DecodeError, Decoded, Decoder, EncodeError, Packet, Protocol, MAX_PACKET_SIZE};

/// Bytes from hex; spaces are ignored.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(s.len() % 2 == 0, "odd hex");
    s.chunks(2)
        .map(|c| u8::from_str_radix(core::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

pub(crate) fn decoder(p: Protocol) -> Decoder {
    Decoder::new(p).max_packet_size(MAX_PACKET_SIZE)
}

/// Decodes a whole packet that must fill `bytes` exactly.
pub(crate) fn decode(p: Protocol, bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match decoder(p).decode(bytes)? {
        Decoded::Complete(packet, n) => {
            assert_eq!(n, bytes.len(), "consumed");
            Ok(packet)
        }
        Decoded::Partial(n) => panic!("partial, needs {n:?}"),
    }
}

/// Every strict prefix of a valid packet is partial; once the fixed header is complete,
/// the count of missing bytes is exact.
pub(crate) fn assert_prefixes_partial(p: Protocol, bytes: &[u8]) {
    let d = decoder(p);
    for cut in 0..bytes.len() {
        match d.decode(&bytes[..cut]) {
            Ok(Decoded::Partial(Some(n))) => assert_eq!(n.get(), bytes.len() - cut, "cut {cut}"),
            Ok(Decoded::Partial(None)) => {
                let hdr_len = 1 + bytes[1..].iter().take_while(|&&b| b & 0x80 != 0).count() + 1;
                assert!(cut < hdr_len, "cut {cut}: header should be complete");
            }
            other => panic!("prefix of {cut} bytes: {other:?}"),
        }
    }
}

/// Encodes at `p` into a fresh vector, checking `encoded_len`.
pub(crate) fn encode(p: Protocol, packet: &Packet<'_>) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let n = packet.encode(p, &mut out)?;
    assert_eq!(n, out.len());
    assert_eq!(packet.encoded_len(p)?, n);
    Ok(out)
}

/// A golden vector: decodes, every prefix is partial, and re-encoding gives the same bytes.
/// The shared decoder (over `Bytes`) gives the same packet. The bytes are leaked so that
/// the borrowed packet lives as long as the test.
pub(crate) fn golden(p: Protocol, hexstr: &str) -> Packet<'static> {
    let bytes: &'static [u8] = Vec::leak(hex(hexstr));
    assert_prefixes_partial(p, bytes);
    let packet = decode(p, bytes).unwrap_or_else(|e| panic!("{hexstr}: {e}"));
    let again = encode(p, &packet).unwrap();
    assert_eq!(again, bytes, "re-encoding {hexstr}");
    let frozen = bytes::Bytes::copy_from_slice(bytes);
    match decoder(p).decode_bytes(&frozen) {
        Ok(crate::shared::Decoded::Complete(shared, n)) => {
            assert_eq!(n, bytes.len());
            assert_eq!(shared.view(), packet, "shared decode of {hexstr}");
            assert_eq!(encode(p, &shared.view()).unwrap(), bytes);
        }
        other => panic!("shared decode of {hexstr}: {other:?}"),
    }
    packet
}

/// The error decoding `hexstr` at `p` gives.
pub(crate) fn error(p: Protocol, hexstr: &str) -> DecodeError {
    let bytes = hex(hexstr);
    match decoder(p).decode(&bytes) {
        Err(e) => e,
        other => panic!("{hexstr} should fail, got {other:?}"),
    }
}

/// A borrowed list built from items (the borrowed form cannot own what it holds, so the
/// built bytes are leaked for the length of the test).
pub(crate) fn seq<I: crate::seq::SeqItem + 'static>(items: Vec<I>) -> crate::Seq<'static, I> {
    let shared: crate::shared::Seq<I> = items.into();
    alloc::boxed::Box::leak(alloc::boxed::Box::new(shared)).view_as()
}

/// Sets properties on a borrowed packet the way a test needs to: the setters belong to the
/// shared form, so the block is built there and leaked for the length of the test.
macro_rules! set_props {
    ($target:expr, |$p:ident| $body:expr) => {{
        let mut $p = $target.to_shared();
        let _ = $body;
        $target = alloc::boxed::Box::leak(alloc::boxed::Box::new($p)).view();
    }};
}
pub(crate) use set_props;
