//! The retained-message store (MQTT 3.1.1 §3.3.1.3, MQTT 5.0 §3.3.1.3): the last retained
//! message of each topic, given to new subscriptions.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::time::Instant;
use crate::{shared, ByteString, RetainHandling, SubscriptionOptions};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Retained {
    message: shared::Publish,
    stored_at: Instant,
}

/// The retained messages, by topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetainedStore {
    by_topic: BTreeMap<ByteString, Retained>,
}

impl RetainedStore {
    /// An empty store.
    pub fn new() -> Self {
        RetainedStore::default()
    }

    /// How many topics have a retained message.
    pub fn len(&self) -> usize {
        self.by_topic.len()
    }

    /// Whether no topic has one.
    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }

    /// Takes note of a message a client published (its topic resolved from any alias): with
    /// RETAIN=1 it replaces the topic's retained message ([MQTT-3.3.1-5], [MQTT-3.3.1-7] at
    /// 3.1.1: a QoS 0 one too), and with an empty payload it deletes it and is not kept
    /// itself ([MQTT-3.3.1-10], [MQTT-3.3.1-11]); with RETAIN=0 nothing changes
    /// ([MQTT-3.3.1-12]). Retained messages are not session state: nothing here belongs to
    /// a client ([MQTT-3.1.2.7]).
    pub fn publish(&mut self, now: Instant, message: &shared::Publish) {
        if !message.retain {
            return;
        }
        let topic = message.topic.clone().into_inner();
        if message.payload.is_empty() {
            self.by_topic.remove(&topic);
            return;
        }
        let mut kept = message.clone();
        kept.delivery = crate::Delivery::new(message.qos(), message.packet_id(), false)
            .unwrap_or(kept.delivery);
        self.by_topic.insert(
            topic,
            Retained {
                message: kept,
                stored_at: now,
            },
        );
    }

    /// The retained messages a new subscription to `filter` gets, into `out` (appended),
    /// RETAIN=1 each ([MQTT-3.3.1-8]), at most at the granted QoS ([MQTT-3.8.4-6]), with
    /// what is left of their Message Expiry Interval ([MQTT-3.3.2-6]); expired ones are not
    /// sent ([MQTT-3.3.2-5]). Retain Handling: 0 sends them, 1 only when the subscription
    /// did not exist before (`existed`), 2 never ([MQTT-3.3.1-9], [MQTT-3.3.1-10],
    /// [MQTT-3.3.1-11] of 5.0). A shared subscription gets none (MQTT 5.0 §4.8.2). The
    /// messages' packet identifiers are the connection's to assign.
    pub fn for_subscription(
        &self,
        now: Instant,
        filter: &str,
        options: &SubscriptionOptions,
        existed: bool,
        out: &mut Vec<shared::Publish>,
    ) {
        match options.retain_handling {
            RetainHandling::DoNotSend => return,
            RetainHandling::SendIfNew if existed => return,
            _ => {}
        }
        if filter.starts_with("$share/") {
            return;
        }
        for (topic, r) in &self.by_topic {
            if !crate::matches(filter, topic) {
                continue;
            }
            let mut m = r.message.clone();
            if let Some(e) = m.properties.message_expiry_interval() {
                let waited = now.saturating_duration_since(r.stored_at).as_secs();
                let left = u64::from(e).saturating_sub(waited);
                if left == 0 {
                    continue;
                }
                m.properties
                    .set_message_expiry_interval(u32::try_from(left).unwrap_or(u32::MAX));
            }
            let qos = m.qos().min(options.qos);
            m.delivery = crate::Delivery::new(qos, crate::PacketId::new(1), false)
                .unwrap_or(crate::Delivery::AtMostOnce);
            m.retain = true;
            out.push(m);
        }
    }

    /// Drops the messages whose Message Expiry Interval has passed.
    pub fn expire(&mut self, now: Instant) {
        self.by_topic.retain(
            |_, r| match r.message.properties.message_expiry_interval() {
                Some(e) => now.saturating_duration_since(r.stored_at).as_secs() < u64::from(e),
                None => true,
            },
        );
    }

    /// When the next retained message expires: the deadline for [`RetainedStore::expire`].
    pub fn next_expiry(&self) -> Option<Instant> {
        self.by_topic
            .values()
            .filter_map(|r| {
                r.message
                    .properties
                    .message_expiry_interval()
                    .map(|e| r.stored_at.plus_secs(u64::from(e)))
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QoS;
    use alloc::string::ToString;

    fn msg(topic: &str, payload: &str, retain: bool) -> shared::Publish {
        let mut m = shared::Publish::new(
            shared::TopicName::new(topic.to_string()).unwrap(),
            payload.as_bytes().to_vec(),
        );
        m.retain = retain;
        m
    }

    fn sub(qos: QoS, rh: RetainHandling) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: rh,
        }
    }

    fn got(
        s: &RetainedStore,
        now: Instant,
        filter: &str,
        o: SubscriptionOptions,
        existed: bool,
    ) -> Vec<(alloc::string::String, bool)> {
        let mut out = Vec::new();
        s.for_subscription(now, filter, &o, existed, &mut out);
        out.iter()
            .map(|m| {
                (
                    alloc::format!(
                        "{} {}",
                        m.topic.as_str(),
                        core::str::from_utf8(m.payload.as_bytes()).unwrap()
                    ),
                    m.retain,
                )
            })
            .collect()
    }

    #[test]
    fn mqtt_3_3_1_5_retain_stores_and_replaces_and_0_does_not() {
        let mut s = RetainedStore::new();
        let t = Instant::ZERO;
        s.publish(t, &msg("a/b", "one", true));
        s.publish(t, &msg("a/b", "two", true));
        s.publish(t, &msg("a/b", "not kept", false));
        s.publish(t, &msg("a/c", "three", true));
        let o = sub(QoS::AtLeastOnce, RetainHandling::SendAtSubscribe);
        // [MQTT-3.3.1-8]: sent with RETAIN=1.
        assert_eq!(
            got(&s, t, "a/+", o, false),
            [
                ("a/b two".to_string(), true),
                ("a/c three".to_string(), true)
            ]
        );
    }

    #[test]
    fn mqtt_3_3_1_10_empty_payload_clears_and_is_not_kept() {
        let mut s = RetainedStore::new();
        let t = Instant::ZERO;
        s.publish(t, &msg("a", "x", true));
        s.publish(t, &msg("a", "", true));
        assert!(s.is_empty());
        s.publish(t, &msg("b", "", true));
        assert!(s.is_empty(), "[MQTT-3.3.1-11]");
    }

    #[test]
    fn mqtt_3_3_1_9_retain_handling_0_1_2() {
        let mut s = RetainedStore::new();
        let t = Instant::ZERO;
        s.publish(t, &msg("a", "x", true));
        let rh = |r| sub(QoS::AtMostOnce, r);
        assert_eq!(
            got(&s, t, "#", rh(RetainHandling::SendAtSubscribe), true).len(),
            1
        );
        assert_eq!(
            got(&s, t, "#", rh(RetainHandling::SendIfNew), false).len(),
            1
        );
        assert_eq!(
            got(&s, t, "#", rh(RetainHandling::SendIfNew), true).len(),
            0
        );
        assert_eq!(
            got(&s, t, "#", rh(RetainHandling::DoNotSend), false).len(),
            0
        );
        // Not to a shared subscription.
        assert_eq!(
            got(
                &s,
                t,
                "$share/g/#",
                rh(RetainHandling::SendAtSubscribe),
                false
            )
            .len(),
            0
        );
    }

    #[test]
    fn mqtt_3_3_2_6_message_expiry_counts_down_and_expires() {
        let mut s = RetainedStore::new();
        let mut m = msg("a", "x", true);
        m.properties.set_message_expiry_interval(10);
        s.publish(Instant::ZERO, &m);
        assert_eq!(s.next_expiry(), Some(Instant::from_secs(10)));
        let mut out = Vec::new();
        let o = sub(QoS::ExactlyOnce, RetainHandling::SendAtSubscribe);
        s.for_subscription(Instant::from_secs(4), "a", &o, false, &mut out);
        assert_eq!(out[0].properties.message_expiry_interval(), Some(6));
        out.clear();
        // [MQTT-3.3.2-5]
        s.for_subscription(Instant::from_secs(10), "a", &o, false, &mut out);
        assert!(out.is_empty());
        s.expire(Instant::from_secs(10));
        assert!(s.is_empty());
    }

    #[test]
    fn mqtt_3_8_4_6_delivered_at_most_at_the_granted_qos() {
        let mut s = RetainedStore::new();
        let mut m = msg("a", "x", true);
        m.delivery =
            crate::Delivery::new(QoS::ExactlyOnce, crate::PacketId::new(7), false).unwrap();
        s.publish(Instant::ZERO, &m);
        let mut out = Vec::new();
        s.for_subscription(
            Instant::ZERO,
            "a",
            &sub(QoS::AtLeastOnce, RetainHandling::SendAtSubscribe),
            false,
            &mut out,
        );
        assert_eq!(out[0].qos(), QoS::AtLeastOnce);
        out.clear();
        s.for_subscription(
            Instant::ZERO,
            "a",
            &sub(QoS::AtMostOnce, RetainHandling::SendAtSubscribe),
            false,
            &mut out,
        );
        assert_eq!(out[0].qos(), QoS::AtMostOnce);
    }
}
