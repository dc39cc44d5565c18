//! UTF-8 Encoded Strings (MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4).

/// What is wrong with a string's bytes; `at` is the byte offset inside the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Utf8Problem {
    /// Not well-formed UTF-8 (this includes encoded surrogates U+D800..U+DFFF).
    IllFormed { at: usize },
    /// U+0000.
    Null { at: usize },
    /// A control character or non-character, refused in strict mode only.
    Disallowed { at: usize, ch: char },
}

/// Validates `bytes` as an MQTT UTF-8 string: well-formed ([MQTT-1.5.3-1] / [MQTT-1.5.4-1]),
/// no U+0000 ([MQTT-1.5.3-2] / [MQTT-1.5.4-2]); a BOM is kept as it is ([MQTT-1.5.3-3]).
///
/// `strict` also refuses the code points a receiver may refuse: the control characters
/// U+0001..U+001F and U+007F..U+009F, and the Unicode non-characters.
#[inline(always)]
pub(crate) fn check(bytes: &[u8], strict: bool) -> Result<&str, Utf8Problem> {
    let s = core::str::from_utf8(bytes).map_err(|e| Utf8Problem::IllFormed {
        at: e.valid_up_to(),
    })?;
    if let Some(at) = find_null(bytes) {
        return Err(Utf8Problem::Null { at });
    }
    if strict {
        check_strict(s)?;
    }
    Ok(s)
}

/// The strict checks alone, on a string already known to be well-formed.
pub(crate) fn check_strict(s: &str) -> Result<(), Utf8Problem> {
    for (at, ch) in s.char_indices() {
        if is_disallowed(ch) {
            return Err(Utf8Problem::Disallowed { at, ch });
        }
    }
    Ok(())
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero exactly when some byte of `v` is zero.
#[inline(always)]
const fn has_zero(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// The first index of `b` where `hit` holds, eight bytes at a time: `word` says whether a
/// little-endian word of eight bytes holds a hit. The last word overlaps the one before it
/// instead of leaving a tail to go through byte by byte (the bytes they share are known to
/// be clean); only a string shorter than eight bytes is looked at byte by byte.
#[inline(always)]
fn find_by_words(b: &[u8], word: impl Fn(u64) -> bool, hit: impl Fn(u8) -> bool) -> Option<usize> {
    let scan_from = |at: usize| {
        b.get(at..)
            .and_then(|rest| rest.iter().position(|&x| hit(x)))
            .map(|k| at + k)
    };
    let n = b.len();
    if n < 8 {
        return scan_from(0);
    }
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in words.by_ref() {
        let v = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
        if word(v) {
            return scan_from(at);
        }
        at += 8;
    }
    if !words.remainder().is_empty() {
        let last = b
            .get(n - 8..)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes);
        if word(last) {
            return scan_from(at);
        }
    }
    None
}

/// The index of the first U+0000 in `b`.
#[inline]
pub(crate) fn find_null(b: &[u8]) -> Option<usize> {
    find_by_words(b, |w| has_zero(w) != 0, |x| x == 0)
}

/// The index of the first byte of `b` that is U+0000, `+` or `#`: what a topic name may not
/// hold.
#[inline]
pub(crate) fn find_null_or_wildcard(b: &[u8]) -> Option<usize> {
    // `#` (0x23) and `+` (0x2B) differ only in bit 3, and no other byte becomes 0x2B when
    // that bit is set: one comparison finds both.
    const BIT3: u64 = LO * 0x08;
    const PLUS: u64 = LO * b'+' as u64;
    find_by_words(
        b,
        |x| has_zero(x) | has_zero((x | BIT3) ^ PLUS) != 0,
        |y| matches!(y, 0 | b'+' | b'#'),
    )
}

/// Control characters and Unicode non-characters (MQTT 5.0 §1.5.4: "SHOULD NOT" include;
/// a receiver may treat them as malformed).
#[inline]
pub(crate) fn is_disallowed(ch: char) -> bool {
    let c = ch as u32;
    (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xfdd0..=0xfdef).contains(&c)
        || (c & 0xfffe) == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_1_5_4_1_surrogate_is_ill_formed() {
        // U+D800 encoded as ED A0 80
        assert_eq!(
            check(&[b'a', 0xed, 0xa0, 0x80], false),
            Err(Utf8Problem::IllFormed { at: 1 })
        );
    }

    #[test]
    fn mqtt_1_5_4_1_overlong_is_ill_formed() {
        assert_eq!(
            check(&[0xc0, 0xaf], false),
            Err(Utf8Problem::IllFormed { at: 0 })
        );
    }

    #[test]
    fn mqtt_1_5_4_2_null_is_refused() {
        assert_eq!(check(b"ab\0", false), Err(Utf8Problem::Null { at: 2 }));
    }

    #[test]
    fn mqtt_1_5_4_3_bom_is_kept() {
        assert_eq!(check(b"\xef\xbb\xbfx", false), Ok("\u{feff}x"));
    }

    #[test]
    fn finds_null_at_every_position_and_only_null() {
        for len in 0..40 {
            let clean = alloc::vec![b'a'; len];
            assert_eq!(find_null(&clean), None, "{len}");
            // Bytes one bit away from zero, and every other non-zero byte, are not U+0000.
            let others: alloc::vec::Vec<u8> = (1..=255u8).cycle().take(len).collect();
            assert_eq!(find_null(&others), None, "{len}");
            for at in 0..len {
                let mut v = others.clone();
                v[at] = 0;
                if at + 1 < len {
                    v[len - 1] = 0;
                }
                assert_eq!(find_null(&v), Some(at), "{len} {at}");
            }
        }
    }

    #[test]
    fn finds_null_and_wildcards_at_every_position() {
        for len in 0..40 {
            let clean = alloc::vec![b'a'; len];
            assert_eq!(find_null_or_wildcard(&clean), None, "{len}");
            for at in 0..len {
                for bad in [0u8, b'+', b'#'] {
                    let mut v = clean.clone();
                    v[at] = bad;
                    if at + 1 < len {
                        v[len - 1] = b'#';
                    }
                    assert_eq!(find_null_or_wildcard(&v), Some(at), "{len} {at} {bad}");
                }
            }
        }
        // No other byte value is a match, wherever it sits in a word or in the tail.
        for len in [1, 7, 8, 9, 16, 17] {
            for other in (1..=255u8).filter(|c| !matches!(c, b'+' | b'#')) {
                assert_eq!(
                    find_null_or_wildcard(&alloc::vec![other; len]),
                    None,
                    "{other:#x}"
                );
            }
        }
        // Bytes that differ from the targets by one bit are not matches.
        assert_eq!(
            find_null_or_wildcard(b"*,\"\x01\x80\xff\xaa\xabxyz*,"),
            None
        );
    }

    #[test]
    fn strict_mode_refuses_controls_and_noncharacters() {
        assert_eq!(check(b"a\x01", false), Ok("a\x01"));
        assert_eq!(
            check(b"a\x01", true),
            Err(Utf8Problem::Disallowed { at: 1, ch: '\u{1}' })
        );
        assert!(check("\u{7f}".as_bytes(), true).is_err());
        assert!(check("\u{9f}".as_bytes(), true).is_err());
        assert!(check("\u{fdd0}".as_bytes(), true).is_err());
        assert!(check("\u{fffe}".as_bytes(), true).is_err());
        assert!(check("\u{1ffff}".as_bytes(), true).is_err());
        assert_eq!(check("\u{a0}é".as_bytes(), true), Ok("\u{a0}é"));
    }
}
