//! Topic names, topic filters, matching (MQTT 5.0 §4.7, MQTT 3.1.1 §4.7) and shared
//! subscriptions (MQTT 5.0 §4.8.2).

use alloc::string::String;
use bytestring::ByteString;

use crate::storage::StrStorage;

use crate::error::ValueError;

/// Checks raw bytes (as read off the wire) against the topic filter rules and borrows them
/// as a `&str`: at most 65,535 bytes, well-formed UTF-8, then [`check_filter`]. Most filters
/// have no wildcard and no U+0000: one pass, eight bytes at a time, finds that out, and
/// only a filter with one of them (or a shared subscription, when `shared`) has its levels
/// looked at.
#[inline(always)]
pub(crate) fn filter_from_bytes(b: &[u8], strict: bool, shared: bool) -> Result<&str, ValueError> {
    if b.len() > u16::MAX as usize {
        return Err(ValueError::TooLong { len: b.len() });
    }
    let s = core::str::from_utf8(b).map_err(|e| ValueError::IllFormedUtf8 {
        at: e.valid_up_to(),
    })?;
    if b.is_empty() || (shared && b.starts_with(b"$share/")) {
        check_filter(s, shared)?;
    } else if let Some(first) = crate::wire::utf8::find_null_or_wildcard(b) {
        check_filter_levels(b, 0, first)?;
    }
    if strict {
        crate::wire::utf8::check_strict(s).map_err(ValueError::from)?;
    }
    Ok(s)
}

/// The checks of [`filter_from_bytes`] for a filter kept as bytes (the lists of SUBSCRIBE
/// and UNSUBSCRIBE, which hand out a `&str` only when read): the same answer, but an ASCII
/// filter, which is well-formed UTF-8 as it is, skips the conversion.
#[inline]
pub(crate) fn check_filter_bytes(b: &[u8], strict: bool, shared: bool) -> Result<(), ValueError> {
    if strict || b.is_empty() || b.len() > u16::MAX as usize || !b.is_ascii() {
        return filter_from_bytes(b, strict, shared).map(|_| ());
    }
    if shared && b.starts_with(b"$share/") {
        return filter_from_bytes(b, strict, shared).map(|_| ());
    }
    match crate::wire::utf8::find_null_or_wildcard(b) {
        Some(first) => check_filter_levels(b, 0, first),
        None => Ok(()),
    }
}

/// Checks a topic name: non-empty ([MQTT-4.7.3-1]), no wildcards ([MQTT-3.3.2-2],
/// [MQTT-4.7.0-1]), no U+0000 ([MQTT-4.7.3-2]), at most 65,535 bytes ([MQTT-4.7.3-3]).
/// The string is already well-formed UTF-8.
#[inline]
pub(crate) fn check_name(s: &str) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::EmptyTopic);
    }
    if s.len() > u16::MAX as usize {
        return Err(ValueError::TooLong { len: s.len() });
    }
    for (at, b) in s.bytes().enumerate() {
        match b {
            0 => return Err(ValueError::NullCharacter { at }),
            b'+' | b'#' => return Err(ValueError::WildcardInTopicName { at, ch: b as char }),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a topic filter: non-empty, `#` alone in the last level ([MQTT-4.7.1-1]), `+`
/// alone in its level ([MQTT-4.7.1-2]), no U+0000, at most 65,535 bytes. With `shared`
/// (MQTT 5.0), a filter starting `$share/` must have a valid share name and a filter after
/// it ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
pub(crate) fn check_filter(s: &str, shared: bool) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::EmptyTopic);
    }
    if s.len() > u16::MAX as usize {
        return Err(ValueError::TooLong { len: s.len() });
    }
    if shared {
        if let Some(rest) = s.strip_prefix("$share/") {
            let (name, filter) = match rest.split_once('/') {
                Some(p) => p,
                None => return Err(ValueError::MissingSharedFilter),
            };
            if name.is_empty() || name.bytes().any(|b| b == b'+' || b == b'#') {
                return Err(ValueError::InvalidShareName);
            }
            if filter.is_empty() {
                return Err(ValueError::MissingSharedFilter);
            }
            return check_filter_levels(filter.as_bytes(), 7 + name.len() + 1, 0);
        }
    }
    check_filter_levels(s.as_bytes(), 0, 0)
}

/// The level rules from byte `from` of `s` on (the bytes before it hold no wildcard and no
/// U+0000); `base` is where `s` starts in the whole filter, for error offsets.
fn check_filter_levels(bytes: &[u8], base: usize, from: usize) -> Result<(), ValueError> {
    let n = bytes.len();
    let mut from = from;
    // Only the wildcards and U+0000 need a look at their neighbours: jump from one to the
    // next, eight bytes at a time.
    while let Some(i) = bytes
        .get(from..)
        .and_then(crate::wire::utf8::find_null_or_wildcard)
        .map(|k| from + k)
    {
        let at = base + i;
        let before = if i == 0 { None } else { bytes.get(i - 1) };
        let after = bytes.get(i + 1);
        match bytes.get(i) {
            Some(b'#') => {
                if i + 1 != n {
                    return Err(ValueError::MultiLevelNotLast { at });
                }
                if !matches!(before, None | Some(b'/')) {
                    return Err(ValueError::WildcardNotAlone { at });
                }
            }
            Some(b'+') => {
                if !matches!(before, None | Some(b'/')) || !matches!(after, None | Some(b'/')) {
                    return Err(ValueError::WildcardNotAlone { at });
                }
            }
            _ => return Err(ValueError::NullCharacter { at }),
        }
        from = i + 1;
    }
    Ok(())
}

/// A Topic Name: where a PUBLISH goes. Non-empty (except [`TopicName::empty`], for an MQTT
/// 5.0 PUBLISH that uses a Topic Alias), no wildcards, no U+0000, at most 65,535 bytes.
///
/// `T` is `&str` in the borrowed form ([`TopicName<'a>`](crate::TopicName)) and
/// [`ByteString`] in the shared one ([`shared::TopicName`](crate::shared::TopicName)).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TopicName<T>(T);

crate::types::str_newtype!(TopicName);

impl<'a> TopicName<&'a str> {
    /// Checks the topic name rules.
    pub fn new(s: &'a str) -> Result<Self, ValueError> {
        check_name(s)?;
        Ok(TopicName(s))
    }

    /// The zero-length topic name, allowed only in an MQTT 5.0 PUBLISH that carries a
    /// Topic Alias (MQTT 5.0 §3.3.2.1).
    pub const fn empty() -> Self {
        TopicName("")
    }

    /// Checks raw bytes (as read off the wire) against the topic name rules and borrows
    /// them: well-formed UTF-8, non-empty, no wildcards, no U+0000, at most 65,535 bytes.
    /// One pass finds U+0000 and the wildcards eight bytes at a time before UTF-8 is
    /// checked. `strict` also refuses control characters and non-characters.
    #[inline]
    pub fn from_bytes(b: &'a [u8], strict: bool) -> Result<Self, ValueError> {
        from_wire(b, strict, crate::storage::Borrow)
    }

    /// The topic, with the lifetime of the buffer it borrows.
    #[inline]
    pub fn get(self) -> &'a str {
        self.0
    }
}

/// A topic name from the wire into either storage: the rules on bytes first (one pass for
/// U+0000 and the wildcards, eight bytes at a time), then UTF-8, checked once on the way
/// to the string type, then the strict rules.
#[inline]
pub(crate) fn from_wire<'a, S: crate::storage::Source<'a>>(
    b: &'a [u8],
    strict: bool,
    src: S,
) -> Result<TopicName<S::T>, ValueError> {
    if b.is_empty() {
        return Err(ValueError::EmptyTopic);
    }
    if b.len() > u16::MAX as usize {
        return Err(ValueError::TooLong { len: b.len() });
    }
    if let Some(at) = crate::wire::utf8::find_null_or_wildcard(b) {
        return Err(match b.get(at) {
            Some(&0) | None => ValueError::NullCharacter { at },
            Some(&c) => ValueError::WildcardInTopicName { at, ch: c as char },
        });
    }
    let s = src.utf8(b).map_err(|at| ValueError::IllFormedUtf8 { at })?;
    if strict {
        crate::wire::utf8::check_strict(&s).map_err(ValueError::from)?;
    }
    Ok(TopicName(s))
}

impl TopicName<ByteString> {
    /// Checks the topic name rules; a `String` becomes the storage without a copy.
    pub fn new(s: impl Into<ByteString>) -> Result<Self, ValueError> {
        let s = s.into();
        check_name(&s)?;
        Ok(TopicName(s))
    }

    /// The zero-length topic name (see [`TopicName::<&str>::empty`]).
    pub const fn empty() -> Self {
        TopicName(ByteString::new())
    }
}

impl<T> TopicName<T> {
    #[inline]
    pub(crate) const fn from_checked(s: T) -> Self {
        TopicName(s)
    }
}

impl<T: StrStorage> TopicName<T> {
    /// Whether `filter` matches this name (§4.7). See [`TopicFilter::matches`].
    pub fn matches<F: StrStorage>(&self, filter: &TopicFilter<F>) -> bool {
        filter.matches(self)
    }
}

impl<'a> TryFrom<&'a str> for TopicName<&'a str> {
    type Error = ValueError;
    fn try_from(s: &'a str) -> Result<Self, ValueError> {
        TopicName::<&str>::new(s)
    }
}

impl TryFrom<String> for TopicName<ByteString> {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        TopicName::<ByteString>::new(s)
    }
}

/// A Topic Filter: what a SUBSCRIBE or UNSUBSCRIBE names. Wildcards `+` and `#` fill whole
/// levels, `#` only last.
///
/// Shared subscriptions (`$share/{ShareName}/{filter}`) are an MQTT 5.0 feature: built with
/// [`TopicFilter::new`] the share name is checked; [`TopicFilter::shared`] splits it.
///
/// `T` is `&str` in the borrowed form ([`TopicFilter<'a>`](crate::TopicFilter)) and
/// [`ByteString`] in the shared one ([`shared::TopicFilter`](crate::shared::TopicFilter)).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TopicFilter<T>(T);

crate::types::str_newtype!(TopicFilter);

/// A shared subscription split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedFilter<'s> {
    /// The ShareName: the group that shares the subscription.
    pub group: &'s str,
    /// The filter after the share name.
    pub filter: &'s str,
}

impl<'a> TopicFilter<&'a str> {
    /// Checks the topic filter rules, including the shared-subscription form.
    pub fn new(s: &'a str) -> Result<Self, ValueError> {
        check_filter(s, true)?;
        Ok(TopicFilter(s))
    }

    /// Checks raw bytes (as read off the wire) against the topic filter rules, shared
    /// subscriptions included, and borrows them. `strict` also refuses control characters
    /// and non-characters.
    #[inline]
    pub fn from_bytes(b: &'a [u8], strict: bool) -> Result<Self, ValueError> {
        filter_from_bytes(b, strict, true).map(TopicFilter)
    }

    /// Checks the topic filter rules of a protocol without shared subscriptions (MQTT
    /// 3.1.1, MQTT-SN): a filter starting `$share/` is an ordinary one there. The
    /// shared-subscription view ([`shared`](Self::shared), and the matching that uses it)
    /// is MQTT 5.0's reading of the filter.
    pub fn new_unshared(s: &'a str) -> Result<Self, ValueError> {
        check_filter(s, false)?;
        Ok(TopicFilter(s))
    }

    /// [`from_bytes`](Self::from_bytes) with the rules of [`new_unshared`](Self::new_unshared).
    #[inline(always)]
    pub fn from_bytes_unshared(b: &'a [u8], strict: bool) -> Result<Self, ValueError> {
        filter_from_bytes(b, strict, false).map(TopicFilter)
    }

    /// The filter, with the lifetime of the buffer it borrows.
    #[inline]
    pub fn get(self) -> &'a str {
        self.0
    }
}

impl TopicFilter<ByteString> {
    /// Checks the topic filter rules, including the shared-subscription form; a `String`
    /// becomes the storage without a copy.
    pub fn new(s: impl Into<ByteString>) -> Result<Self, ValueError> {
        let s = s.into();
        check_filter(&s, true)?;
        Ok(TopicFilter(s))
    }

    /// The rules without shared subscriptions (see [`TopicFilter::<&str>::new_unshared`]).
    pub fn new_unshared(s: impl Into<ByteString>) -> Result<Self, ValueError> {
        let s = s.into();
        check_filter(&s, false)?;
        Ok(TopicFilter(s))
    }
}

impl<T> TopicFilter<T> {
    #[inline]
    pub(crate) const fn from_checked(s: T) -> Self {
        TopicFilter(s)
    }
}

impl<T: StrStorage> TopicFilter<T> {
    /// The group and filter of a shared subscription (`$share/{group}/{filter}`), or
    /// `None` for an ordinary filter.
    pub fn shared(&self) -> Option<SharedFilter<'_>> {
        let rest = self.0.strip_prefix("$share/")?;
        let (group, filter) = rest.split_once('/')?;
        if group.is_empty() || filter.is_empty() {
            return None;
        }
        Some(SharedFilter { group, filter })
    }

    /// Whether the filter has a `+` or `#` level.
    pub fn has_wildcards(&self) -> bool {
        let f = self.shared().map_or(self.as_str(), |s| s.filter);
        f.bytes().any(|b| b == b'+' || b == b'#')
    }

    /// Whether `name` matches this filter (§4.7.1, §4.7.2).
    ///
    /// `+` matches exactly one level (possibly empty), `#` matches the parent level and any
    /// number of levels below it. A filter starting with a wildcard does not match a topic
    /// name starting with `$` ([MQTT-4.7.2-1]). For a shared subscription the filter after
    /// the share name is what matches.
    pub fn matches<N: StrStorage>(&self, name: &TopicName<N>) -> bool {
        let filter = self.shared().map_or(self.as_str(), |s| s.filter);
        matches(filter, name.as_str())
    }
}

/// Matches a topic name against a filter, both as plain strings (see
/// [`TopicFilter::matches`]); neither is validated here.
pub fn matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut n = name.split('/');
    loop {
        match (f.next(), n.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(nl)) if fl == nl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

impl<'a> TryFrom<&'a str> for TopicFilter<&'a str> {
    type Error = ValueError;
    fn try_from(s: &'a str) -> Result<Self, ValueError> {
        TopicFilter::<&str>::new(s)
    }
}

impl TryFrom<String> for TopicFilter<ByteString> {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        TopicFilter::<ByteString>::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TopicFilter, TopicName};

    /// `filter_from_bytes` skips the level rules when its word-at-a-time pass finds no
    /// wildcard and no U+0000, and starts them at the first one it finds: it must give the
    /// same answer as the full rules (`check_filter`) on every filter, at every length
    /// around the word size and with every special byte in every place.
    #[test]
    fn mqtt_4_7_1_filter_fast_path_agrees_with_the_full_rules() {
        let alphabet = [b'a', b'/', b'+', b'#', 0];
        let mut cases: alloc::vec::Vec<alloc::vec::Vec<u8>> = alloc::vec::Vec::new();
        for len in 0..=6u32 {
            for mut k in 0..alphabet.len().pow(len) {
                let mut v = alloc::vec::Vec::new();
                for _ in 0..len {
                    v.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                cases.push(v);
            }
        }
        // Longer ones: a clean run of 0 to 20 bytes, then every tail of up to 3 bytes, so
        // specials land in the whole words, the overlapping last word and the short tail.
        for run in 0..=20 {
            for mut k in 0..alphabet.len().pow(3) {
                let mut v = alloc::vec![b'x'; run];
                for _ in 0..3 {
                    v.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                cases.push(v);
            }
        }
        let shared: alloc::vec::Vec<_> = cases
            .iter()
            .map(|c| [b"$share/".as_slice(), c].concat())
            .collect();
        for case in cases.iter().chain(&shared) {
            let s = core::str::from_utf8(case).unwrap_or_default();
            for share_rules in [false, true] {
                assert_eq!(
                    filter_from_bytes(case, false, share_rules),
                    check_filter(s, share_rules).map(|()| s),
                    "{case:?} shared={share_rules}"
                );
                // The bytes-only check of the lists gives the same answer.
                assert_eq!(
                    check_filter_bytes(case, false, share_rules),
                    filter_from_bytes(case, false, share_rules).map(|_| ()),
                    "{case:?} shared={share_rules}"
                );
            }
        }
    }

    fn name(s: &str) -> TopicName<'_> {
        TopicName::new(s).unwrap()
    }
    fn filter(s: &str) -> TopicFilter<'_> {
        TopicFilter::new(s).unwrap()
    }

    #[test]
    fn mqtt_4_7_0_1_wildcards_not_in_topic_names() {
        assert_eq!(
            TopicName::new("a/+"),
            Err(ValueError::WildcardInTopicName { at: 2, ch: '+' })
        );
        assert_eq!(
            TopicName::new("#"),
            Err(ValueError::WildcardInTopicName { at: 0, ch: '#' })
        );
    }

    #[test]
    fn mqtt_4_7_1_1_multi_level_wildcard_alone_and_last() {
        assert!(TopicFilter::new("#").is_ok());
        assert!(TopicFilter::new("a/#").is_ok());
        assert_eq!(
            TopicFilter::new("a/#/b"),
            Err(ValueError::MultiLevelNotLast { at: 2 })
        );
        assert_eq!(
            TopicFilter::new("a#"),
            Err(ValueError::WildcardNotAlone { at: 1 })
        );
        assert_eq!(
            TopicFilter::new("sport/tennis#"),
            Err(ValueError::WildcardNotAlone { at: 12 })
        );
    }

    #[test]
    fn mqtt_4_7_1_2_single_level_wildcard_fills_level() {
        assert!(TopicFilter::new("+").is_ok());
        assert!(TopicFilter::new("+/tennis/#").is_ok());
        assert!(TopicFilter::new("sport/+/player1").is_ok());
        assert!(TopicFilter::new("/+").is_ok());
        assert_eq!(
            TopicFilter::new("sport+"),
            Err(ValueError::WildcardNotAlone { at: 5 })
        );
        assert_eq!(
            TopicFilter::new("a/+b"),
            Err(ValueError::WildcardNotAlone { at: 2 })
        );
    }

    #[test]
    fn mqtt_4_7_3_1_topics_are_not_empty() {
        assert_eq!(TopicName::new(""), Err(ValueError::EmptyTopic));
        assert_eq!(TopicFilter::new(""), Err(ValueError::EmptyTopic));
    }

    #[test]
    fn mqtt_4_7_3_2_no_null_in_topics() {
        assert_eq!(
            TopicName::new("a\0"),
            Err(ValueError::NullCharacter { at: 1 })
        );
        assert_eq!(
            TopicFilter::new("\0"),
            Err(ValueError::NullCharacter { at: 0 })
        );
    }

    #[test]
    fn mqtt_4_7_3_3_topics_at_most_65535_bytes() {
        let long = "a".repeat(65_536);
        assert_eq!(
            TopicName::new(long.as_str()),
            Err(ValueError::TooLong { len: 65_536 })
        );
        assert!(TopicName::new(&long[..65_535]).is_ok());
        assert!(TopicFilter::new(long.as_str()).is_err());
    }

    #[test]
    fn mqtt_4_8_2_1_share_name_at_least_one_character() {
        assert_eq!(
            TopicFilter::new("$share//a"),
            Err(ValueError::InvalidShareName)
        );
        assert_eq!(
            TopicFilter::new("$share/g"),
            Err(ValueError::MissingSharedFilter)
        );
        assert_eq!(
            TopicFilter::new("$share/g/"),
            Err(ValueError::MissingSharedFilter)
        );
    }

    #[test]
    fn mqtt_4_8_2_2_share_name_without_wildcards() {
        assert_eq!(
            TopicFilter::new("$share/a+/x"),
            Err(ValueError::InvalidShareName)
        );
        assert_eq!(
            TopicFilter::new("$share/#/x"),
            Err(ValueError::InvalidShareName)
        );
        let f = filter("$share/group/sensors/+/temp");
        assert_eq!(
            f.shared(),
            Some(SharedFilter {
                group: "group",
                filter: "sensors/+/temp"
            })
        );
        assert!(f.matches(&name("sensors/kitchen/temp")));
        assert_eq!(
            TopicFilter::new("$share/g/a/#/b"),
            Err(ValueError::MultiLevelNotLast { at: 11 })
        );
    }

    #[test]
    fn matching_per_4_7() {
        let cases: &[(&str, &str, bool)] = &[
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/ranking",
                true,
            ),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/score/wimbledon",
                true,
            ),
            ("sport/#", "sport", true),
            ("#", "a/b/c", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("a/b", "a/b", true),
            ("a/b", "a/b/c", false),
            ("a/b/c", "a/b", false),
            ("+/monitor/Clients", "$SYS/monitor/Clients", false),
            ("#", "$SYS/x", false),
            ("$SYS/#", "$SYS/monitor/Clients", true),
            ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
            ("ACCOUNTS", "Accounts", false),
            ("a/+/c", "a//c", true),
        ];
        for &(f, n, want) in cases {
            assert_eq!(filter(f).matches(&name(n)), want, "{f} ~ {n}");
        }
    }
}
