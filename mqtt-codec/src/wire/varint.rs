//! The Variable Byte Integer (MQTT 5.0 §1.5.5, MQTT 3.1.1 §2.2.3 "Remaining Length").

/// The largest value four bytes can hold: 268,435,455.
pub const VARINT_MAX: u32 = 268_435_455;

/// Decodes a variable byte integer from the start of `buf`.
///
/// `Ok(Some((value, bytes)))` when complete, `Ok(None)` when `buf` ends before the last byte,
/// `Err(())` when a fifth byte would be needed.
#[inline]
pub(crate) fn decode(buf: &[u8]) -> Result<Option<(u32, usize)>, ()> {
    let mut value: u32 = 0;
    for (i, &b) in buf.iter().enumerate().take(4) {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        Err(())
    } else {
        Ok(None)
    }
}

/// How many bytes the minimal encoding of `v` takes (1 to 4; values above the maximum are
/// counted as 4 and refused by the callers that check [`VARINT_MAX`]).
#[inline]
pub(crate) const fn len(v: u32) -> usize {
    if v < 128 {
        1
    } else if v < 16_384 {
        2
    } else if v < 2_097_152 {
        3
    } else {
        4
    }
}

/// Writes the minimal encoding of `v` (which the caller has checked is at most
/// [`VARINT_MAX`]).
#[inline]
pub(crate) fn put(buf: &mut impl bytes::BufMut, mut v: u32) {
    loop {
        let mut b = (v & 0x7f) as u8;
        v >>= 7;
        if v > 0 {
            b |= 0x80;
        }
        buf.put_u8(b);
        if v == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn mqtt_1_5_5_boundaries_round_trip() {
        for &(v, n) in &[
            (0u32, 1usize),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (2_097_151, 3),
            (2_097_152, 4),
            (VARINT_MAX, 4),
        ] {
            let mut out = Vec::new();
            put(&mut out, v);
            assert_eq!(out.len(), n, "length of {v}");
            assert_eq!(len(v), n);
            assert_eq!(decode(&out), Ok(Some((v, n))));
        }
    }

    #[test]
    fn mqtt_1_5_5_five_bytes_is_an_error() {
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff, 0x01]), Err(()));
        assert_eq!(decode(&[0x80, 0x80, 0x80, 0x80]), Err(()));
        assert_eq!(decode(&[0x80, 0x80, 0x80]), Ok(None));
        assert_eq!(decode(&[]), Ok(None));
    }
}
