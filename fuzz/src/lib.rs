//! Builders of valid packets from fuzzer bytes, and the differential-decoding summaries,
//! shared by the fuzz targets.

pub mod differential;
pub mod sn;

use arbitrary::{Result, Unstructured};
use core::num::{NonZeroU16, NonZeroU32};
use mqtt_codec::shared::{
    Auth, Bin, ConnAck, Connect, Disconnect, Packet, PubAck, PubComp, PubRec,
    PubRel, Publish, Str, SubAck, Subscribe, Subscription, TopicFilter, TopicName, UnsubAck, Unsubscribe, Will, WillProperties,
};
use mqtt_codec::*;

/// A protocol level.
pub fn level(u: &mut Unstructured<'_>) -> Result<Protocol> {
    Ok(*u.choose(&[Protocol::V3_1, Protocol::V3_1_1, Protocol::V5])?)
}

/// A string that satisfies the UTF-8 string rules (no U+0000, at most 64 KiB).
pub fn string(u: &mut Unstructured<'_>) -> Result<Str> {
    let s: String = u.arbitrary()?;
    let s: String = s.chars().filter(|&c| c != '\0').take(300).collect();
    Ok(Str::new(s).unwrap_or_default())
}

/// Binary data of at most 300 bytes.
pub fn binary(u: &mut Unstructured<'_>) -> Result<Bin> {
    let len = u.int_in_range(0..=300)?;
    let b = u.bytes(len)?.to_vec();
    Ok(Bin::new(b).unwrap_or_default())
}

/// A topic name: levels of letters, digits and some UTF-8, never a wildcard.
pub fn topic_name(u: &mut Unstructured<'_>) -> Result<TopicName> {
    let levels = u.int_in_range(1..=5)?;
    let mut t = String::new();
    for i in 0..levels {
        if i > 0 {
            t.push('/');
        }
        let s = string(u)?;
        t.extend(s.chars().filter(|&c| c != '+' && c != '#' && c != '/').take(12));
    }
    if t.is_empty() {
        t.push('t');
    }
    Ok(TopicName::new(t).unwrap_or_else(|_| TopicName::new("fallback").unwrap_or(TopicName::empty())))
}

/// A topic filter: a name with `+` levels and perhaps a trailing `#`; at 5.0 sometimes
/// shared.
pub fn topic_filter(u: &mut Unstructured<'_>, v5: bool) -> Result<TopicFilter> {
    let name = topic_name(u)?;
    let mut levels: Vec<String> = name.split('/').map(String::from).collect();
    for l in levels.iter_mut() {
        if u.ratio(1, 4)? {
            *l = "+".into();
        }
    }
    if u.ratio(1, 3)? {
        levels.push("#".into());
    }
    let mut f = levels.join("/");
    if v5 && u.ratio(1, 5)? {
        f = format!("$share/g{}/{f}", u.int_in_range(0..=9)?);
    }
    Ok(TopicFilter::new(f).unwrap_or_else(|_| TopicFilter::new("#").expect("valid")))
}

fn pid(u: &mut Unstructured<'_>) -> Result<PacketId> {
    Ok(PacketId::new(u.int_in_range(1..=u16::MAX)?).unwrap_or(PacketId::new(1).expect("1")))
}

fn qos(u: &mut Unstructured<'_>) -> Result<QoS> {
    Ok(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])?)
}

fn opt<T>(u: &mut Unstructured<'_>, f: impl FnOnce(&mut Unstructured<'_>) -> Result<T>) -> Result<Option<T>> {
    Ok(if u.arbitrary()? { Some(f(u)?) } else { None })
}

fn nz16(u: &mut Unstructured<'_>) -> Result<NonZeroU16> {
    Ok(NonZeroU16::new(u.int_in_range(1..=u16::MAX)?).unwrap_or(NonZeroU16::MIN))
}

fn nz32(u: &mut Unstructured<'_>) -> Result<NonZeroU32> {
    Ok(NonZeroU32::new(u.int_in_range(1..=u32::MAX)?).unwrap_or(NonZeroU32::MIN))
}

fn sub_id(u: &mut Unstructured<'_>) -> Result<SubscriptionId> {
    Ok(SubscriptionId::new(u.int_in_range(1..=VARINT_MAX)?).unwrap_or(SubscriptionId::new(1).expect("1")))
}

macro_rules! users {
    ($u:expr, $p:expr) => {
        for _ in 0..$u.int_in_range(0..=3)? {
            let (k, v) = (string($u)?, string($u)?);
            $p.push_user_property(mqtt_codec::UserProperty { key: k.view(), value: v.view() });
        }
    };
}

fn reason<R: Copy>(u: &mut Unstructured<'_>, all: &[R], v5: bool, ok_v3: impl Fn(R) -> bool) -> Result<R> {
    let r = *u.choose(all)?;
    Ok(if v5 || ok_v3(r) { r } else { all[0] })
}

/// Any valid packet at `level` (AUTH only at 5.0).
pub fn packet(u: &mut Unstructured<'_>, level: Protocol) -> Result<Packet> {
    let v5 = level.is_v5();
    let ty = u.int_in_range(1..=if v5 { 15 } else { 14 })?;
    Ok(match ty {
        1 => {
            let mut c = Connect::new(level, string(u)?, u.arbitrary()?);
            c.clean_start = u.arbitrary()?;
            if level == Protocol::V3_1 && c.client_id.is_empty() {
                c.client_id = Str::new("c").expect("valid");
            }
            if level == Protocol::V3_1 {
                let id: String = c.client_id.chars().take(23).collect();
                c.client_id = Str::new(if id.is_empty() { "c".into() } else { id }).expect("valid");
            }
            if level == Protocol::V3_1_1 && c.client_id.is_empty() {
                c.clean_start = true;
            }
            if u.arbitrary()? {
                let mut w = Will {
                    topic: topic_name(u)?,
                    payload: binary(u)?,
                    qos: qos(u)?,
                    retain: u.arbitrary()?,
                    properties: WillProperties::new(),
                };
                if v5 {
                    let p = &mut w.properties;
                    if let Some(v) = opt(u, |u| u.arbitrary())? {
                        p.set_will_delay_interval(v);
                    }
                    if let Some(v) = opt(u, |u| Ok(*u.choose(&[PayloadFormat::Unspecified, PayloadFormat::Utf8])?))? {
                        p.set_payload_format_indicator(v);
                    }
                    if let Some(v) = opt(u, |u| u.arbitrary())? {
                        p.set_message_expiry_interval(v);
                    }
                    if let Some(v) = opt(u, string)? {
                        p.set_content_type(v.view());
                    }
                    if let Some(v) = opt(u, topic_name)? {
                        p.set_response_topic(v.view());
                    }
                    if let Some(v) = opt(u, binary)? {
                        p.set_correlation_data(v.view());
                    }
                    users!(u, p);
                }
                c.will = Some(w);
            }
            c.username = opt(u, string)?;
            c.password = opt(u, binary)?;
            if !v5 && c.username.is_none() {
                c.password = None;
            }
            if v5 {
                let p = &mut c.properties;
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_session_expiry_interval(v);
                }
                if let Some(v) = opt(u, nz16)? {
                    p.set_receive_maximum(v);
                }
                if let Some(v) = opt(u, nz32)? {
                    p.set_maximum_packet_size(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_topic_alias_maximum(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_request_response_information(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_request_problem_information(v);
                }
                if let Some(v) = opt(u, string)? {
                    p.set_authentication_method(v.view());
                }
                // Authentication Data only with a Method (MQTT 5.0 §3.1.2.11.10).
                if let Some(v) = opt(u, binary)? {
                    if p.contains(PropertyId::AuthenticationMethod) {
                        p.set_authentication_data(v.view());
                    }
                }
                users!(u, p);
            }
            Packet::Connect(c)
        }
        2 => {
            let r = reason(u, ConnectReason::ALL, v5, |r| r.v3_code().is_some())?;
            let sp = r == ConnectReason::Success && level != Protocol::V3_1 && u.arbitrary()?;
            let mut c = ConnAck::new(r, sp);
            if v5 {
                let p = &mut c.properties;
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_session_expiry_interval(v);
                }
                if let Some(v) = opt(u, nz16)? {
                    p.set_receive_maximum(v);
                }
                if let Some(v) = opt(u, |u| Ok(*u.choose(&[MaximumQos::AtMostOnce, MaximumQos::AtLeastOnce])?))? {
                    p.set_maximum_qos(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_retain_available(v);
                }
                if let Some(v) = opt(u, nz32)? {
                    p.set_maximum_packet_size(v);
                }
                if let Some(v) = opt(u, string)? {
                    p.set_assigned_client_identifier(v.view());
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_topic_alias_maximum(v);
                }
                if let Some(v) = opt(u, string)? {
                    p.set_reason_string(v.view());
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_wildcard_subscription_available(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_subscription_identifiers_available(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_shared_subscription_available(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    p.set_server_keep_alive(v);
                }
                if let Some(v) = opt(u, string)? {
                    p.set_response_information(v.view());
                }
                if let Some(v) = opt(u, string)? {
                    p.set_server_reference(v.view());
                }
                if let Some(v) = opt(u, string)? {
                    p.set_authentication_method(v.view());
                }
                if let Some(v) = opt(u, binary)? {
                    p.set_authentication_data(v.view());
                }
                users!(u, p);
            }
            Packet::ConnAck(c)
        }
        3 => {
            let len = u.int_in_range(0..=2048)?;
            let payload = u.bytes(len.min(u.len()))?.to_vec();
            let mut p = Publish::new(topic_name(u)?, payload);
            p.retain = u.arbitrary()?;
            p.delivery = match qos(u)? {
                QoS::AtMostOnce => Delivery::AtMostOnce,
                QoS::AtLeastOnce => Delivery::AtLeastOnce { packet_id: pid(u)?, dup: u.arbitrary()? },
                QoS::ExactlyOnce => Delivery::ExactlyOnce { packet_id: pid(u)?, dup: u.arbitrary()? },
            };
            if v5 {
                let pr = &mut p.properties;
                if let Some(v) = opt(u, |u| Ok(*u.choose(&[PayloadFormat::Unspecified, PayloadFormat::Utf8])?))? {
                    pr.set_payload_format_indicator(v);
                }
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    pr.set_message_expiry_interval(v);
                }
                if let Some(v) = opt(u, nz16)? {
                    pr.set_topic_alias(v);
                }
                if let Some(v) = opt(u, topic_name)? {
                    pr.set_response_topic(v.view());
                }
                if let Some(v) = opt(u, binary)? {
                    pr.set_correlation_data(v.view());
                }
                if let Some(v) = opt(u, string)? {
                    pr.set_content_type(v.view());
                }
                for _ in 0..u.int_in_range(0..=3)? {
                    pr.add_subscription_identifier(sub_id(u)?);
                }
                users!(u, pr);
                if pr.topic_alias().is_some() && u.arbitrary()? {
                    p.topic = TopicName::empty();
                }
            }
            Packet::Publish(p)
        }
        4..=7 => {
            let id = pid(u)?;
            macro_rules! ack {
                ($t:ident, $r:ident, $v:ident) => {{
                    let mut a = $t::new(id);
                    if v5 {
                        a.reason = *u.choose($r::ALL)?;
                        if let Some(v) = opt(u, string)? {
                            a.properties.set_reason_string(v.view());
                        }
                        users!(u, a.properties);
                    }
                    Packet::$v(a)
                }};
            }
            match ty {
                4 => ack!(PubAck, PubAckReason, PubAck),
                5 => ack!(PubRec, PubRecReason, PubRec),
                6 => ack!(PubRel, PubRelReason, PubRel),
                _ => ack!(PubComp, PubCompReason, PubComp),
            }
        }
        8 => {
            let n = u.int_in_range(1..=8)?;
            let mut subs = Vec::new();
            for _ in 0..n {
                let filter = topic_filter(u, v5)?;
                let mut options = SubscriptionOptions::qos(qos(u)?);
                if v5 {
                    options.no_local = filter.shared().is_none() && u.arbitrary()?;
                    options.retain_as_published = u.arbitrary()?;
                    options.retain_handling = *u.choose(&[RetainHandling::SendAtSubscribe, RetainHandling::SendIfNew, RetainHandling::DoNotSend])?;
                }
                subs.push(Subscription { filter, options });
            }
            let mut s = Subscribe::new(pid(u)?, subs);
            if v5 {
                if let Some(v) = opt(u, sub_id)? {
                    s.properties.set_subscription_identifier(v);
                }
                users!(u, s.properties);
            }
            Packet::Subscribe(s)
        }
        9 => {
            let n = u.int_in_range(1..=8)?;
            let mut codes = Vec::new();
            for _ in 0..n {
                codes.push(reason(u, SubAckReason::ALL, v5, |r| r.in_v3())?);
            }
            let mut s = SubAck::new(pid(u)?, codes);
            if v5 {
                if let Some(v) = opt(u, string)? {
                    s.properties.set_reason_string(v.view());
                }
                users!(u, s.properties);
            }
            Packet::SubAck(s)
        }
        10 => {
            let n = u.int_in_range(1..=8)?;
            let mut filters = Vec::new();
            for _ in 0..n {
                filters.push(topic_filter(u, v5)?);
            }
            let mut s = Unsubscribe::new(pid(u)?, filters);
            if v5 {
                users!(u, s.properties);
            }
            Packet::Unsubscribe(s)
        }
        11 => {
            let mut codes = Vec::new();
            if v5 {
                for _ in 0..u.int_in_range(1..=8)? {
                    codes.push(*u.choose(UnsubAckReason::ALL)?);
                }
            }
            let mut s = UnsubAck::new(pid(u)?, codes);
            if v5 {
                if let Some(v) = opt(u, string)? {
                    s.properties.set_reason_string(v.view());
                }
                users!(u, s.properties);
            }
            Packet::UnsubAck(s)
        }
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => {
            let mut d = Disconnect::default();
            if v5 {
                d.reason = *u.choose(DisconnectReason::ALL)?;
                if let Some(v) = opt(u, |u| u.arbitrary())? {
                    d.properties.set_session_expiry_interval(v);
                }
                if let Some(v) = opt(u, string)? {
                    d.properties.set_reason_string(v.view());
                }
                if let Some(v) = opt(u, string)? {
                    d.properties.set_server_reference(v.view());
                }
                users!(u, d.properties);
            }
            Packet::Disconnect(d)
        }
        _ => {
            let mut a = Auth { reason: *u.choose(AuthReason::ALL)?, ..Auth::default() };
            if let Some(v) = opt(u, string)? {
                a.properties.set_authentication_method(v.view());
            }
            if let Some(v) = opt(u, binary)? {
                a.properties.set_authentication_data(v.view());
            }
            if let Some(v) = opt(u, string)? {
                a.properties.set_reason_string(v.view());
            }
            users!(u, a.properties);
            Packet::Auth(a)
        }
    })
}
