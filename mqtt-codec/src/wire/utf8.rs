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
#[inline]
pub(crate) fn check(bytes: &[u8], strict: bool) -> Result<&str, Utf8Problem> {
    let s = core::str::from_utf8(bytes).map_err(|e| Utf8Problem::IllFormed {
        at: e.valid_up_to(),
    })?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
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
