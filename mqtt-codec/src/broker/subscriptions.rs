//! A subscription table: which clients a topic name goes to (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7
//! and §4.8).
//!
//! Filters are stored in a trie of topic levels (one node per distinct level path, `+` as
//! its own child, `#` subscribers kept on the node they follow), so matching walks the
//! topic's levels once, trying at each level the exact child, the `+` child and the `#`
//! subscribers, and costs what the matching filters cost, not what the table holds.
//! Inserting or removing walks one filter's levels.
//!
//! A match gathers, per client, one delivery at the highest granted QoS of its matching
//! non-shared subscriptions, with every Subscription Identifier among them
//! ([MQTT-3.3.5-1], [MQTT-3.3.4-2], [MQTT-3.3.4-3], [MQTT-3.3.4-4]); each shared group
//! (`$share/{group}/{filter}`) adds one delivery to one of its members, chosen by a
//! [`SharePolicy`] (MQTT 5.0 §4.8.2).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::{QoS, SubscriptionId, SubscriptionOptions};

/// Chooses which member of a shared subscription group gets a message.
pub trait SharePolicy<C> {
    /// The index in `members` (never empty, in subscription order) that receives a
    /// message published to `topic` for `group`.
    fn choose(&mut self, group: &str, topic: &str, members: &[C]) -> usize;
}

/// The members of each group in turn: a counter per group, so over a run of messages
/// each member gets its share.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    next: alloc::collections::BTreeMap<Box<str>, usize>,
}

impl<C> SharePolicy<C> for RoundRobin {
    fn choose(&mut self, group: &str, _topic: &str, members: &[C]) -> usize {
        let n = match self.next.get_mut(group) {
            Some(n) => n,
            None => self.next.entry(Box::from(group)).or_insert(0),
        };
        let i = *n % members.len().max(1);
        *n = n.wrapping_add(1);
        i
    }
}

/// One subscription as the table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<C> {
    client: C,
    options: SubscriptionOptions,
    id: Option<SubscriptionId>,
    /// The share name of a shared subscription.
    group: Option<Box<str>>,
    /// The filter is this node's path followed by `/#` (or `#` alone, at the root); else it
    /// is exactly the path.
    multi: bool,
}

#[derive(Debug, Clone)]
struct Node<C> {
    /// Children by level, sorted by the level's bytes.
    children: Vec<(Box<str>, u32)>,
    /// The `+` child.
    plus: Option<u32>,
    /// Subscribers of exactly this path, and of this path followed by `/#` (`#` alone at
    /// the root): `Entry::multi` tells which.
    subs: Vec<Entry<C>>,
    parent: u32,
}

impl<C> Node<C> {
    fn new(parent: u32) -> Self {
        Node {
            children: Vec::new(),
            plus: None,
            subs: Vec::new(),
            parent,
        }
    }

    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.plus.is_none() && self.subs.is_empty()
    }
}

/// A shared subscription that matched: share name, the filter (its node and whether it
/// ends in `#`), member, options, identifier.
type SharedHit<C> = (
    Box<str>,
    u64,
    C,
    SubscriptionOptions,
    Option<SubscriptionId>,
);

/// One delivery a match asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<C> {
    /// The client to deliver to.
    pub client: C,
    /// The highest QoS granted among the subscriptions that matched: deliver at the lower
    /// of this and the message's ([MQTT-3.8.4-6], [MQTT-3.8.4-8]).
    pub qos: QoS,
    /// Whether any of them has Retain As Published ([MQTT-3.3.1-12], [MQTT-3.3.1-13]).
    pub retain_as_published: bool,
    /// The Subscription Identifiers of the subscriptions that matched, in
    /// [`Matches::subscription_ids`] from `ids.0` to `ids.1`.
    pub ids: (usize, usize),
    /// The share name, for a delivery to a shared subscription group.
    pub shared: bool,
}

/// The result of [`SubscriptionTable::matches`], reusable from one match to the next (no
/// allocation once it has grown to the largest match).
#[derive(Debug, Clone)]
pub struct Matches<C> {
    /// One delivery per client (and one more per shared group).
    pub deliveries: Vec<Delivery<C>>,
    /// The Subscription Identifiers the deliveries point into.
    pub subscription_ids: Vec<SubscriptionId>,
    raw: Vec<(C, SubscriptionOptions, Option<SubscriptionId>)>,
    /// Shared subscriptions that matched: share name, the filter (its node and whether it
    /// ends in `#`: two filters under one share name are two shared subscriptions, MQTT
    /// 5.0 §4.8.2), member, options, identifier.
    groups: Vec<SharedHit<C>>,
    members: Vec<C>,
    stack: Vec<(u32, usize)>,
}

impl<C> Default for Matches<C> {
    fn default() -> Self {
        Matches {
            deliveries: Vec::new(),
            subscription_ids: Vec::new(),
            raw: Vec::new(),
            groups: Vec::new(),
            members: Vec::new(),
            stack: Vec::new(),
        }
    }
}

impl<C> Matches<C> {
    /// An empty result.
    pub fn new() -> Self {
        Matches::default()
    }

    /// The identifiers of one delivery.
    pub fn ids_of(&self, d: &Delivery<C>) -> &[SubscriptionId] {
        self.subscription_ids.get(d.ids.0..d.ids.1).unwrap_or(&[])
    }
}

/// A subscription table for clients identified by `C` (a connection number, a client
/// identifier: anything `Ord + Clone`).
#[derive(Clone)]
pub struct SubscriptionTable<C> {
    nodes: Vec<Node<C>>,
    free: Vec<u32>,
    len: usize,
}

impl<C> fmt::Debug for SubscriptionTable<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionTable")
            .field("subscriptions", &self.len)
            .field("nodes", &(self.nodes.len() - self.free.len()))
            .finish()
    }
}

impl<C: Ord + Clone> Default for SubscriptionTable<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// The levels of a filter and whether it ends with `#`.
fn filter_levels(filter: &str) -> (impl Iterator<Item = &str>, bool) {
    let (body, multi) = if filter == "#" {
        ("", true)
    } else if let Some(b) = filter.strip_suffix("/#") {
        (b, true)
    } else {
        (filter, false)
    };
    let empty_root = filter == "#";
    (body.split('/').filter(move |_| !empty_root), multi)
}

impl<C: Ord + Clone> SubscriptionTable<C> {
    /// An empty table.
    pub fn new() -> Self {
        SubscriptionTable {
            nodes: alloc::vec![Node::new(0)],
            free: Vec::new(),
            len: 0,
        }
    }

    /// How many subscriptions it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn node(&self, i: u32) -> Option<&Node<C>> {
        self.nodes.get(i as usize)
    }

    fn alloc(&mut self, parent: u32) -> u32 {
        match self.free.pop() {
            Some(i) => {
                if let Some(n) = self.nodes.get_mut(i as usize) {
                    *n = Node::new(parent);
                }
                i
            }
            None => {
                self.nodes.push(Node::new(parent));
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Adds or replaces `client`'s subscription to `filter` (a valid topic filter,
    /// `$share/{group}/…` for a shared one) with `options` (the granted QoS in
    /// `options.qos`) and the SUBSCRIBE's Subscription Identifier. Returns whether it
    /// replaced one ([MQTT-3.8.4-3]: the same filter replaces, it is not added twice).
    pub fn subscribe(
        &mut self,
        client: C,
        filter: &str,
        options: SubscriptionOptions,
        id: Option<SubscriptionId>,
    ) -> bool {
        let (group, filter) = split_share(filter);
        let (levels, multi) = filter_levels(filter);
        let mut at = 0u32;
        for level in levels {
            at = if level == "+" {
                match self.node(at).and_then(|n| n.plus) {
                    Some(p) => p,
                    None => {
                        let p = self.alloc(at);
                        if let Some(n) = self.nodes.get_mut(at as usize) {
                            n.plus = Some(p);
                        }
                        p
                    }
                }
            } else {
                let found = self
                    .node(at)
                    .map(|n| n.children.binary_search_by(|(k, _)| k.as_ref().cmp(level)));
                match found {
                    Some(Ok(i)) => self
                        .node(at)
                        .and_then(|n| n.children.get(i))
                        .map_or(0, |c| c.1),
                    Some(Err(i)) => {
                        let c = self.alloc(at);
                        if let Some(n) = self.nodes.get_mut(at as usize) {
                            grow_small(&mut n.children);
                            n.children.insert(i, (Box::from(level), c));
                        }
                        c
                    }
                    None => 0,
                }
            };
        }
        let entry = Entry {
            client,
            options,
            id,
            group: group.map(Box::from),
            multi,
        };
        let Some(node) = self.nodes.get_mut(at as usize) else {
            return false;
        };
        let list = &mut node.subs;
        match list
            .iter_mut()
            .find(|e| e.client == entry.client && e.group == entry.group && e.multi == multi)
        {
            Some(e) => {
                *e = entry;
                true
            }
            None => {
                grow_small(list);
                list.push(entry);
                self.len += 1;
                false
            }
        }
    }

    /// Removes `client`'s subscription to exactly `filter`, compared character by
    /// character ([MQTT-3.10.4-1]); returns whether there was one. Nodes left empty go.
    pub fn unsubscribe(&mut self, client: &C, filter: &str) -> bool {
        let (group, filter) = split_share(filter);
        let (levels, multi) = filter_levels(filter);
        let mut at = 0u32;
        for level in levels {
            let next = self.node(at).and_then(|n| {
                if level == "+" {
                    n.plus
                } else {
                    n.children
                        .binary_search_by(|(k, _)| k.as_ref().cmp(level))
                        .ok()
                        .and_then(|i| n.children.get(i))
                        .map(|c| c.1)
                }
            });
            match next {
                Some(n) => at = n,
                None => return false,
            }
        }
        let Some(node) = self.nodes.get_mut(at as usize) else {
            return false;
        };
        let list = &mut node.subs;
        let Some(i) = list
            .iter()
            .position(|e| &e.client == client && e.group.as_deref() == group && e.multi == multi)
        else {
            return false;
        };
        list.remove(i);
        self.len -= 1;
        self.prune(at);
        true
    }

    /// Frees `at` and its ancestors while they hold nothing.
    fn prune(&mut self, mut at: u32) {
        while at != 0 && self.node(at).is_some_and(Node::is_empty) {
            let parent = self.node(at).map_or(0, |n| n.parent);
            if let Some(p) = self.nodes.get_mut(parent as usize) {
                if p.plus == Some(at) {
                    p.plus = None;
                } else if let Some(i) = p.children.iter().position(|c| c.1 == at) {
                    p.children.remove(i);
                }
            }
            if let Some(n) = self.nodes.get_mut(at as usize) {
                *n = Node::new(0);
            }
            self.free.push(at);
            at = parent;
        }
    }

    /// The deliveries for a message published to `topic` (a valid topic name) by
    /// `publisher` (for No Local, [MQTT-3.8.3-3]; `None` for a message of the server's own),
    /// into `out` (cleared first). Shared groups get one member each, chosen by `policy`.
    pub fn matches(
        &self,
        topic: &str,
        publisher: Option<&C>,
        policy: &mut impl SharePolicy<C>,
        out: &mut Matches<C>,
    ) {
        out.deliveries.clear();
        out.subscription_ids.clear();
        out.raw.clear();
        out.groups.clear();
        // [MQTT-4.7.2-1]: a topic starting with `$` is not matched by a filter starting
        // with a wildcard.
        let dollar = topic.starts_with('$');
        // The walk, with an explicit stack of (node, level index).
        let levels: usize = topic.split('/').count();
        let mut stack = core::mem::take(&mut out.stack);
        stack.clear();
        stack.push((0, 0));
        while let Some((at, depth)) = stack.pop() {
            let Some(node) = self.node(at) else {
                continue;
            };
            let wild_ok = !(dollar && depth == 0);
            // `#` matches the rest, including nothing after its parent ([MQTT-4.7.1-2]).
            if wild_ok {
                collect(&node.subs, true, u64::from(at) << 1 | 1, publisher, out);
            }
            if depth == levels {
                collect(&node.subs, false, u64::from(at) << 1, publisher, out);
                continue;
            }
            let level = topic.split('/').nth(depth).unwrap_or("");
            if let Ok(i) = node
                .children
                .binary_search_by(|(k, _)| k.as_ref().cmp(level))
            {
                if let Some(c) = node.children.get(i) {
                    stack.push((c.1, depth + 1));
                }
            }
            if wild_ok {
                if let Some(p) = node.plus {
                    stack.push((p, depth + 1));
                }
            }
        }
        out.stack = stack;
        // One delivery per client: the highest QoS, every identifier.
        out.raw.sort_by(|a, b| a.0.cmp(&b.0));
        let mut i = 0;
        while i < out.raw.len() {
            let mut j = i;
            let mut qos = QoS::AtMostOnce;
            let mut rap = false;
            let start = out.subscription_ids.len();
            while let Some((c, o, id)) = out.raw.get(j) {
                if out.raw.get(i).is_some_and(|r| &r.0 != c) {
                    break;
                }
                qos = qos.max(o.qos);
                rap |= o.retain_as_published;
                if let Some(id) = id {
                    if !out
                        .subscription_ids
                        .get(start..)
                        .is_some_and(|s| s.contains(id))
                    {
                        out.subscription_ids.push(*id);
                    }
                }
                j += 1;
            }
            if let Some(first) = out.raw.get(i) {
                out.deliveries.push(Delivery {
                    client: first.0.clone(),
                    qos,
                    retain_as_published: rap,
                    ids: (start, out.subscription_ids.len()),
                    shared: false,
                });
            }
            i = j;
        }
        // One member per shared group.
        // Stable: members stay in subscription order within a group.
        out.groups.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut i = 0;
        while i < out.groups.len() {
            let mut j = i;
            while out
                .groups
                .get(j)
                .zip(out.groups.get(i))
                .is_some_and(|(a, b)| a.0 == b.0 && a.1 == b.1)
            {
                j += 1;
            }
            out.members.clear();
            for g in out.groups.get(i..j).unwrap_or(&[]) {
                out.members.push(g.2.clone());
            }
            let name = out.groups.get(i).map_or("", |g| &g.0);
            let pick = i + policy.choose(name, topic, &out.members).min(j - i - 1);
            if let Some((_, _, c, o, id)) = out.groups.get(pick) {
                let start = out.subscription_ids.len();
                if let Some(id) = id {
                    out.subscription_ids.push(*id);
                }
                out.deliveries.push(Delivery {
                    client: c.clone(),
                    qos: o.qos,
                    retain_as_published: o.retain_as_published,
                    ids: (start, out.subscription_ids.len()),
                    shared: true,
                });
            }
            i = j;
        }
    }
}

fn collect<C: Ord + Clone>(
    entries: &[Entry<C>],
    multi: bool,
    filter: u64,
    publisher: Option<&C>,
    out: &mut Matches<C>,
) {
    for e in entries.iter().filter(|e| e.multi == multi) {
        match &e.group {
            None => {
                // [MQTT-3.8.3-3]: No Local.
                if e.options.no_local && publisher == Some(&e.client) {
                    continue;
                }
                out.raw.push((e.client.clone(), e.options, e.id));
            }
            Some(g) => out
                .groups
                .push((g.clone(), filter, e.client.clone(), e.options, e.id)),
        }
    }
}

/// Makes room for one more element exactly while a list is short (most nodes have one
/// child and one subscriber: the default growth would reserve four of each), as usual
/// beyond.
fn grow_small<T>(v: &mut Vec<T>) {
    if v.len() == v.capacity() && v.len() < 4 {
        v.reserve_exact(1);
    }
}

/// `$share/{group}/{filter}` into its group and filter.
fn split_share(filter: &str) -> (Option<&str>, &str) {
    if let Some(rest) = filter.strip_prefix("$share/") {
        if let Some((g, f)) = rest.split_once('/') {
            return (Some(g), f);
        }
    }
    (None, filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec;

    fn opts(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: crate::RetainHandling::SendAtSubscribe,
        }
    }

    fn table(subs: &[(&str, &str)]) -> SubscriptionTable<String> {
        let mut t = SubscriptionTable::new();
        for (c, f) in subs {
            t.subscribe(c.to_string(), f, opts(QoS::AtLeastOnce), None);
        }
        t
    }

    fn who(t: &SubscriptionTable<String>, topic: &str) -> Vec<String> {
        let mut m = Matches::new();
        t.matches(topic, None, &mut RoundRobin::default(), &mut m);
        let mut v: Vec<String> = m.deliveries.iter().map(|d| d.client.clone()).collect();
        v.sort();
        v
    }

    #[test]
    fn mqtt_4_7_1_wildcards_match_by_level() {
        let t = table(&[
            ("exact", "a/b/c"),
            ("plus", "a/+/c"),
            ("plus2", "+/+/+"),
            ("hash", "a/#"),
            ("root", "#"),
            ("other", "x/y"),
            ("empty-level", "a//c"),
        ]);
        assert_eq!(who(&t, "a/b/c"), ["exact", "hash", "plus", "plus2", "root"]);
        assert_eq!(who(&t, "x/y"), ["other", "root"]);
        // `#` matches its parent level too ([MQTT-4.7.1-2]).
        assert_eq!(who(&t, "a"), ["hash", "root"]);
        // `+` matches an empty level; levels are not normalised ([MQTT-4.7.3-4]).
        assert_eq!(
            who(&t, "a//c"),
            ["empty-level", "hash", "plus", "plus2", "root"]
        );
        assert_eq!(who(&t, "A/b/c"), ["plus2", "root"]);
    }

    #[test]
    fn mqtt_4_7_2_1_dollar_topics_skip_leading_wildcards() {
        let t = table(&[
            ("root", "#"),
            ("plus", "+/info"),
            ("sys", "$SYS/#"),
            ("sysplus", "$SYS/+"),
        ]);
        assert_eq!(who(&t, "$SYS/info"), ["sys", "sysplus"]);
        assert_eq!(who(&t, "x/info"), ["plus", "root"]);
    }

    #[test]
    fn mqtt_3_3_5_1_overlapping_subscriptions_deliver_once_at_the_highest_qos() {
        let mut t = SubscriptionTable::new();
        let id = |n| SubscriptionId::new(n);
        t.subscribe("c", "a/#", opts(QoS::AtMostOnce), id(1));
        t.subscribe("c", "a/+", opts(QoS::ExactlyOnce), id(2));
        t.subscribe("c", "a/b", opts(QoS::AtLeastOnce), None);
        let mut m = Matches::new();
        t.matches("a/b", None, &mut RoundRobin::default(), &mut m);
        assert_eq!(m.deliveries.len(), 1);
        let d = &m.deliveries[0];
        assert_eq!(d.qos, QoS::ExactlyOnce);
        // [MQTT-3.3.4-3], [MQTT-3.3.4-4]: every matching identifier, once.
        let mut ids: Vec<u32> = m.ids_of(d).iter().map(|i| i.get()).collect();
        ids.sort();
        assert_eq!(ids, [1, 2]);
    }

    #[test]
    fn mqtt_3_8_4_3_same_filter_replaces() {
        let mut t = SubscriptionTable::new();
        assert!(!t.subscribe("c", "a/b", opts(QoS::AtMostOnce), None));
        assert!(t.subscribe("c", "a/b", opts(QoS::ExactlyOnce), None));
        assert_eq!(t.len(), 1);
        let mut m = Matches::new();
        t.matches("a/b", None, &mut RoundRobin::default(), &mut m);
        assert_eq!(m.deliveries[0].qos, QoS::ExactlyOnce);
    }

    #[test]
    fn mqtt_3_10_4_1_unsubscribe_exact_filter_only_and_prunes() {
        let mut t = table(&[("c", "a/+/c"), ("c", "a/b/c"), ("d", "a/#")]);
        assert!(!t.unsubscribe(&"c".to_string(), "a/b/+"));
        assert!(!t.unsubscribe(&"d".to_string(), "a/+/c"));
        assert!(t.unsubscribe(&"c".to_string(), "a/+/c"));
        assert_eq!(who(&t, "a/x/c"), ["d"]);
        assert!(t.unsubscribe(&"c".to_string(), "a/b/c"));
        assert!(t.unsubscribe(&"d".to_string(), "a/#"));
        assert!(t.is_empty());
        // Every node but the root went back to the free list.
        assert_eq!(t.nodes.len() - t.free.len(), 1);
        // And is reused.
        t.subscribe("e".to_string(), "q/r", opts(QoS::AtMostOnce), None);
        assert_eq!(who(&t, "q/r"), ["e"]);
    }

    #[test]
    fn mqtt_3_8_3_3_no_local_skips_the_publisher() {
        let mut t = SubscriptionTable::new();
        let mut o = opts(QoS::AtLeastOnce);
        o.no_local = true;
        t.subscribe("me", "chat/#", o, None);
        t.subscribe("you", "chat/#", opts(QoS::AtLeastOnce), None);
        let mut m = Matches::new();
        t.matches("chat/room", Some(&"me"), &mut RoundRobin::default(), &mut m);
        let v: Vec<&str> = m.deliveries.iter().map(|d| d.client).collect();
        assert_eq!(v, ["you"]);
    }

    #[test]
    fn mqtt_4_8_2_shared_groups_get_one_member_each_in_turn() {
        let mut t = SubscriptionTable::new();
        t.subscribe("w1", "$share/workers/jobs/+", opts(QoS::AtLeastOnce), None);
        t.subscribe("w2", "$share/workers/jobs/+", opts(QoS::ExactlyOnce), None);
        t.subscribe("m1", "$share/monitors/jobs/#", opts(QoS::AtMostOnce), None);
        t.subscribe("w1", "jobs/#", opts(QoS::AtMostOnce), None);
        let mut rr = RoundRobin::default();
        let mut m = Matches::new();
        let mut seen = Vec::new();
        for _ in 0..4 {
            t.matches("jobs/1", None, &mut rr, &mut m);
            // w1's own subscription, one worker, one monitor.
            assert_eq!(m.deliveries.len(), 3);
            let shared: Vec<(&str, QoS)> = m
                .deliveries
                .iter()
                .filter(|d| d.shared)
                .map(|d| (d.client, d.qos))
                .collect();
            assert!(shared.contains(&("m1", QoS::AtMostOnce)));
            // [MQTT-4.8.2-3]: the chosen member's own granted QoS.
            let worker = shared.iter().find(|s| s.0 != "m1").unwrap();
            assert_eq!(
                worker.1,
                if worker.0 == "w1" {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                }
            );
            seen.push(worker.0);
        }
        assert!(seen.contains(&"w1") && seen.contains(&"w2"), "{seen:?}");
        // Two filters under one share name are two shared subscriptions (MQTT 5.0 §4.8.2).
        t.subscribe("w3", "$share/workers/jobs/#", opts(QoS::AtMostOnce), None);
        t.matches("jobs/1", None, &mut rr, &mut m);
        assert_eq!(m.deliveries.iter().filter(|d| d.shared).count(), 3);
        assert!(t.unsubscribe(&"w3", "$share/workers/jobs/#"));
        // Leaving a group: only the others remain.
        assert!(t.unsubscribe(&"w2", "$share/workers/jobs/+"));
        t.matches("jobs/1", None, &mut rr, &mut m);
        assert!(m
            .deliveries
            .iter()
            .filter(|d| d.shared)
            .all(|d| d.client != "w2"));
    }

    #[test]
    fn matches_agree_with_the_reference_matcher() {
        // Every filter of a small alphabet against every topic: the table gives exactly the
        // filters `crate::matches` accepts.
        let levels = ["a", "b", "", "$x"];
        let mut filters: Vec<String> = Vec::new();
        let mut topics: Vec<String> = Vec::new();
        for l1 in levels.iter().chain(["+", "#"].iter()) {
            filters.push(l1.to_string());
            for l2 in levels.iter().chain(["+", "#"].iter()) {
                if *l1 != "#" {
                    filters.push(alloc::format!("{l1}/{l2}"));
                }
            }
        }
        for l1 in levels {
            topics.push(l1.to_string());
            for l2 in ["a", "b", ""] {
                topics.push(alloc::format!("{l1}/{l2}"));
            }
        }
        let mut t = SubscriptionTable::new();
        for (i, f) in filters.iter().enumerate() {
            t.subscribe(i, f, opts(QoS::AtMostOnce), None);
        }
        let mut m = Matches::new();
        for topic in topics.iter().filter(|t| !t.is_empty()) {
            t.matches(topic, None, &mut RoundRobin::default(), &mut m);
            let mut got: Vec<usize> = m.deliveries.iter().map(|d| d.client).collect();
            got.sort();
            let want: Vec<usize> = filters
                .iter()
                .enumerate()
                .filter(|(_, f)| crate::matches(f, topic))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, want, "topic {topic:?}");
        }
        let _ = vec![0u8];
    }
}
