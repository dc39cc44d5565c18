//! A subscription table: which clients a topic name goes to (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7
//! and §4.8).
//!
//! Filters are stored in a trie of topic levels (one node per distinct level path, `+` as
//! its own child, `#` subscribers kept on the node they follow), so matching walks the
//! topic's levels once, trying at each level the exact child, the `+` child and the `#`
//! subscribers, and costs what the matching filters cost, not what the table holds.
//! Inserting or removing walks one filter's levels.
//!
//! Level strings and share names are interned: each distinct one is stored once, and the
//! trie's edges and the subscriptions' share names are 32-bit symbols. A match looks each
//! of the topic's levels up once (a level nobody subscribed to has no exact child
//! anywhere), then walks the trie comparing integers.
//!
//! A match gathers, per client, one delivery at the highest granted QoS of its matching
//! non-shared subscriptions, with every Subscription Identifier among them
//! ([MQTT-3.3.5-1], [MQTT-3.3.4-2], [MQTT-3.3.4-3], [MQTT-3.3.4-4]); each shared group
//! (`$share/{group}/{filter}`) adds one delivery to one of its members, chosen by a
//! [`SharePolicy`] (MQTT 5.0 §4.8.2).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
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

/// A symbol: an interned level string or share name. 0 is never a symbol.
type Sym = u32;

/// The interned strings: each with the number of edges and subscriptions that use it, and
/// an ordered index for lookups (logarithmic, whatever the strings: no hash to collide).
#[derive(Debug, Clone, Default)]
struct Interner {
    /// Text to symbol, for the live symbols.
    index: BTreeMap<Arc<str>, Sym>,
    /// By symbol (index 0 unused): the text (shared with the index) and its reference
    /// count; `None` for a free slot.
    strings: Vec<(Option<Arc<str>>, u32)>,
    free: Vec<Sym>,
}

impl Interner {
    fn text(&self, s: Sym) -> &str {
        self.strings
            .get(s as usize)
            .and_then(|e| e.0.as_deref())
            .unwrap_or("")
    }

    fn lookup(&self, text: &str) -> Option<Sym> {
        self.index.get(text).copied()
    }

    /// The symbol of `text`, created if needed, with one more reference.
    fn acquire(&mut self, text: &str) -> Sym {
        if let Some(s) = self.lookup(text) {
            if let Some(e) = self.strings.get_mut(s as usize) {
                e.1 += 1;
            }
            return s;
        }
        let shared: Arc<str> = Arc::from(text);
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                if self.strings.is_empty() {
                    self.strings.push((None, 0));
                }
                self.strings.push((None, 0));
                (self.strings.len() - 1) as Sym
            }
        };
        if let Some(e) = self.strings.get_mut(s as usize) {
            *e = (Some(shared.clone()), 1);
        }
        self.index.insert(shared, s);
        s
    }

    /// One reference less to `s`; the string goes with the last one.
    fn release(&mut self, s: Sym) {
        let Some(e) = self.strings.get_mut(s as usize) else {
            return;
        };
        e.1 = e.1.saturating_sub(1);
        if e.1 > 0 {
            return;
        }
        if let Some(text) = e.0.take() {
            self.index.remove(&*text);
        }
        self.free.push(s);
    }
}

/// One subscription as the table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<C> {
    client: C,
    options: SubscriptionOptions,
    id: Option<SubscriptionId>,
    /// The share name's symbol for a shared subscription, else 0.
    group: Sym,
    /// The filter is this node's path followed by `/#` (or `#` alone, at the root); else it
    /// is exactly the path.
    multi: bool,
}

#[derive(Debug, Clone)]
struct Node<C> {
    /// Children by level symbol, sorted.
    children: Vec<(Sym, u32)>,
    /// The `+` child (0: none; the root is nobody's child).
    plus: u32,
    parent: u32,
    /// Subscribers of this path followed by `/#` (`#` alone at the root), then of exactly
    /// this path: `Entry::multi` tells which; each kind in subscription order.
    subs: Vec<Entry<C>>,
}

impl<C> Node<C> {
    fn new(parent: u32) -> Self {
        Node {
            children: Vec::new(),
            plus: 0,
            parent,
            subs: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.plus == 0 && self.subs.is_empty()
    }

    fn child(&self, level: Sym) -> Option<u32> {
        self.children
            .binary_search_by_key(&level, |c| c.0)
            .ok()
            .and_then(|i| self.children.get(i))
            .map(|c| c.1)
    }
}

/// A shared subscription that matched: share name, the filter (its node and whether it
/// ends in `#`), member, options, identifier.
type SharedHit<C> = (Sym, u64, C, SubscriptionOptions, Option<SubscriptionId>);

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
    /// Non-shared subscriptions that matched, with their order of discovery (so that a
    /// client's identifiers keep it through the sort).
    raw: Vec<(C, u32, SubscriptionOptions, Option<SubscriptionId>)>,
    /// Shared subscriptions that matched: share name, the filter (its node and whether it
    /// ends in `#`: two filters under one share name are two shared subscriptions, MQTT
    /// 5.0 §4.8.2), member, options, identifier.
    groups: Vec<SharedHit<C>>,
    members: Vec<C>,
    stack: Vec<(u32, u32)>,
    /// The topic's levels as symbols (0: a level no filter has).
    levels: Vec<Sym>,
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
            levels: Vec::new(),
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
    symbols: Interner,
}

impl<C> fmt::Debug for SubscriptionTable<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionTable")
            .field("subscriptions", &self.len)
            .field("nodes", &(self.nodes.len() - self.free.len()))
            .field("symbols", &self.symbols.index.len())
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
            symbols: Interner::default(),
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
            let Some(node) = self.node(at) else {
                return false;
            };
            at = if level == "+" {
                match node.plus {
                    0 => {
                        let p = self.alloc(at);
                        if let Some(n) = self.nodes.get_mut(at as usize) {
                            n.plus = p;
                        }
                        p
                    }
                    p => p,
                }
            } else {
                let existing = self.symbols.lookup(level).and_then(|s| node.child(s));
                match existing {
                    Some(c) => c,
                    None => {
                        let sym = self.symbols.acquire(level);
                        let c = self.alloc(at);
                        if let Some(n) = self.nodes.get_mut(at as usize) {
                            let i = n
                                .children
                                .binary_search_by_key(&sym, |c| c.0)
                                .unwrap_or_else(|i| i);
                            grow_small(&mut n.children);
                            n.children.insert(i, (sym, c));
                        }
                        c
                    }
                }
            };
        }
        // The share name's symbol an existing entry would have (0: not shared); `None`
        // when the name is not interned, so no entry has it.
        let wanted = match group {
            Some(g) => self.symbols.lookup(g),
            None => Some(0),
        };
        let Some(node) = self.nodes.get(at as usize) else {
            return false;
        };
        let existing = wanted.and_then(|w| {
            node.subs
                .iter()
                .position(|e| e.client == client && e.multi == multi && e.group == w)
        });
        if let Some(i) = existing {
            if let Some(e) = self
                .nodes
                .get_mut(at as usize)
                .and_then(|n| n.subs.get_mut(i))
            {
                e.options = options;
                e.id = id;
            }
            return true;
        }
        let group = match group {
            Some(g) => self.symbols.acquire(g),
            None => 0,
        };
        let entry = Entry {
            client,
            options,
            id,
            group,
            multi,
        };
        if let Some(node) = self.nodes.get_mut(at as usize) {
            grow_small(&mut node.subs);
            if multi {
                let first_exact = node.subs.iter().position(|e| !e.multi);
                node.subs
                    .insert(first_exact.unwrap_or(node.subs.len()), entry);
            } else {
                node.subs.push(entry);
            }
            self.len += 1;
        }
        false
    }

    /// Removes `client`'s subscription to exactly `filter`, compared character by
    /// character ([MQTT-3.10.4-1]); returns whether there was one. Nodes left empty go.
    pub fn unsubscribe(&mut self, client: &C, filter: &str) -> bool {
        let (group, filter) = split_share(filter);
        let (levels, multi) = filter_levels(filter);
        let group = match group {
            Some(g) => match self.symbols.lookup(g) {
                Some(s) => s,
                None => return false,
            },
            None => 0,
        };
        let mut at = 0u32;
        for level in levels {
            let next = self.node(at).and_then(|n| {
                if level == "+" {
                    Some(n.plus).filter(|&p| p != 0)
                } else {
                    self.symbols.lookup(level).and_then(|s| n.child(s))
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
        let Some(i) = node
            .subs
            .iter()
            .position(|e| &e.client == client && e.group == group && e.multi == multi)
        else {
            return false;
        };
        node.subs.remove(i);
        if node.subs.is_empty() {
            node.subs = Vec::new();
        }
        if group != 0 {
            self.symbols.release(group);
        }
        self.len -= 1;
        self.prune(at);
        true
    }

    /// Frees `at` and its ancestors while they hold nothing.
    fn prune(&mut self, mut at: u32) {
        while at != 0 && self.node(at).is_some_and(Node::is_empty) {
            let parent = self.node(at).map_or(0, |n| n.parent);
            let mut released = None;
            if let Some(p) = self.nodes.get_mut(parent as usize) {
                if p.plus == at {
                    p.plus = 0;
                } else if let Some(i) = p.children.iter().position(|c| c.1 == at) {
                    released = p.children.get(i).map(|c| c.0);
                    p.children.remove(i);
                    if p.children.is_empty() {
                        p.children = Vec::new();
                    }
                }
            }
            if let Some(s) = released {
                self.symbols.release(s);
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
        // Each level looked up once: 0 when no filter has it (no exact child anywhere).
        out.levels.clear();
        for level in topic.split('/') {
            out.levels.push(self.symbols.lookup(level).unwrap_or(0));
        }
        let depth_max = out.levels.len() as u32;
        // [MQTT-4.7.2-1]: a topic starting with `$` is not matched by a filter starting
        // with a wildcard.
        let dollar = topic.starts_with('$');
        // The walk, with an explicit stack of (node, level index).
        let mut stack = core::mem::take(&mut out.stack);
        stack.clear();
        stack.push((0, 0));
        while let Some((at, depth)) = stack.pop() {
            let Some(node) = self.node(at) else {
                continue;
            };
            let wild_ok = !(dollar && depth == 0);
            if !node.subs.is_empty() {
                let last = depth == depth_max;
                // `#` matches the rest, including nothing after its parent
                // ([MQTT-4.7.1-2]); an exact filter matches at the last level.
                collect(&node.subs, wild_ok, last, at, publisher, out);
            }
            if depth == depth_max {
                continue;
            }
            let level = out.levels.get(depth as usize).copied().unwrap_or(0);
            if level != 0 {
                if let Some(c) = node.child(level) {
                    stack.push((c, depth + 1));
                }
            }
            if wild_ok && node.plus != 0 {
                stack.push((node.plus, depth + 1));
            }
        }
        out.stack = stack;
        // One delivery per client: the highest QoS, every identifier (in the order found).
        out.raw
            .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut i = 0;
        while i < out.raw.len() {
            let mut j = i;
            let mut qos = QoS::AtMostOnce;
            let mut rap = false;
            let start = out.subscription_ids.len();
            while let Some((c, _, o, id)) = out.raw.get(j) {
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
        if out.groups.is_empty() {
            return;
        }
        // One member per shared group. Stable: members stay in subscription order within
        // a group.
        out.groups.sort_by_key(|g| (g.0, g.1));
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
            let name = self.symbols.text(out.groups.get(i).map_or(0, |g| g.0));
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

/// The subscriptions of one node that match: those ending in `#` when `multi_ok`, the
/// exact ones when `exact_ok`.
fn collect<C: Ord + Clone>(
    entries: &[Entry<C>],
    multi_ok: bool,
    exact_ok: bool,
    node: u32,
    publisher: Option<&C>,
    out: &mut Matches<C>,
) {
    for e in entries {
        // The `#` subscriptions come first.
        if !e.multi && !exact_ok {
            break;
        }
        if e.multi && !multi_ok {
            continue;
        }
        if e.group == 0 {
            // [MQTT-3.8.3-3]: No Local.
            if e.options.no_local && publisher == Some(&e.client) {
                continue;
            }
            let seq = out.raw.len() as u32;
            out.raw.push((e.client.clone(), seq, e.options, e.id));
        } else {
            let filter = u64::from(node) << 1 | u64::from(e.multi);
            out.groups
                .push((e.group, filter, e.client.clone(), e.options, e.id));
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

    #[test]
    fn churn_keeps_matches_exact_and_frees_every_node_and_symbol() {
        // Random subscribes and unsubscribes (plain and shared) over a small alphabet,
        // checked after each step against a list of what is subscribed and
        // `crate::matches`; once everything is unsubscribed, only the root node is left
        // and no level string or share name is kept.
        let levels = ["a", "b", "c", "", "+", "$s"];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut t: SubscriptionTable<usize> = SubscriptionTable::new();
        let mut live: Vec<(usize, String)> = Vec::new();
        let mut m = Matches::new();
        for step in 0..4000 {
            if live.is_empty() || next(3) > 0 {
                let depth = 1 + next(3);
                let mut f: Vec<&str> = (0..depth).map(|_| levels[next(levels.len())]).collect();
                if next(4) == 0 {
                    f.push("#");
                }
                let mut filter = f.join("/");
                if next(8) == 0 {
                    filter = alloc::format!("$share/g{}/{filter}", next(2));
                }
                let client = next(5);
                let replaced = t.subscribe(client, &filter, opts(QoS::AtMostOnce), None);
                let had = live.iter().any(|(c, f)| *c == client && *f == filter);
                assert_eq!(replaced, had, "step {step}: subscribe {client} {filter}");
                if !had {
                    live.push((client, filter));
                }
            } else {
                let (client, filter) = live.swap_remove(next(live.len()));
                assert!(
                    t.unsubscribe(&client, &filter),
                    "step {step}: {client} {filter}"
                );
            }
            assert_eq!(t.len(), live.len());
            let topic: Vec<&str> = (0..1 + next(3))
                .map(|_| ["a", "b", "c", "", "$s", "d"][next(6)])
                .collect();
            let topic = topic.join("/");
            t.matches(&topic, None, &mut RoundRobin::default(), &mut m);
            let mut got: Vec<(usize, bool)> =
                m.deliveries.iter().map(|d| (d.client, d.shared)).collect();
            got.sort();
            let mut want: Vec<(usize, bool)> = live
                .iter()
                .filter(|(_, f)| !f.starts_with("$share/") && crate::matches(f, &topic))
                .map(|(c, _)| (*c, false))
                .collect();
            want.sort();
            want.dedup();
            // Shared: one delivery per (group, filter) with a matching member.
            let mut groups: Vec<&str> = live
                .iter()
                .filter(|(_, f)| {
                    f.strip_prefix("$share/")
                        .and_then(|r| r.split_once('/'))
                        .is_some_and(|(_, f)| crate::matches(f, &topic))
                })
                .map(|(_, f)| f.as_str())
                .collect();
            groups.sort();
            groups.dedup();
            let shared = got.iter().filter(|d| d.1).count();
            got.retain(|d| !d.1);
            assert_eq!(got, want, "step {step}: topic {topic:?}");
            assert_eq!(shared, groups.len(), "step {step}: topic {topic:?}");
        }
        for (client, filter) in core::mem::take(&mut live) {
            assert!(t.unsubscribe(&client, &filter));
        }
        assert!(t.is_empty());
        assert_eq!(t.nodes.len() - t.free.len(), 1);
        assert!(t.symbols.index.is_empty());
        assert!(t.symbols.strings.iter().all(|e| e.1 == 0 && e.0.is_none()));
    }
}
