//! Arbitrary valid MQTT-SN messages, for the round-trip target.

use arbitrary::{Result, Unstructured};
use mqtt_sn_codec::shared::{
    Connect, Encapsulated, GwInfo, Message, Payload, Publish, Register, Str, Subscribe,
    TopicFilter, TopicName, TopicRef, Unsubscribe, WillTopic,
};
use mqtt_sn_codec::*;

fn client_id(u: &mut Unstructured<'_>) -> Result<Str> {
    let n = u.int_in_range(1..=23)?;
    let s: String = (0..n)
        .map(|_| u.int_in_range(b'!'..=b'~').map(char::from))
        .collect::<Result<_>>()?;
    Ok(Str::new(s).unwrap_or_default())
}

fn level(u: &mut Unstructured<'_>, wild: bool) -> Result<String> {
    let n = u.int_in_range(0..=6)?;
    let mut s = String::new();
    for _ in 0..n {
        let c = u.int_in_range(0u8..=40)?;
        s.push(match c {
            0..=25 => char::from(b'a' + c),
            26..=35 => char::from(b'0' + c - 26),
            36 => 'é',
            37 => '$',
            _ => ' ',
        });
    }
    if wild && u.ratio(1, 4)? {
        s = "+".into();
    }
    Ok(s)
}

fn topic_string(u: &mut Unstructured<'_>, wild: bool) -> Result<String> {
    let levels = u.int_in_range(1..=4)?;
    let mut s = String::new();
    for i in 0..levels {
        if i > 0 {
            s.push('/');
        }
        s.push_str(&level(u, wild)?);
    }
    if wild && u.ratio(1, 4)? {
        s.push_str("/#");
    }
    if s.is_empty() {
        s.push('t');
    }
    Ok(s)
}

fn topic_name(u: &mut Unstructured<'_>) -> Result<TopicName> {
    let s = topic_string(u, false)?;
    Ok(TopicName::new(s).unwrap_or_else(|_| TopicName::new("t").unwrap_or(TopicName::empty())))
}

fn short(u: &mut Unstructured<'_>) -> Result<ShortTopic> {
    let a = u.int_in_range(b'!'..=b'~')?;
    let b = u.int_in_range(b'!'..=b'~')?;
    let s = [a, b];
    Ok(ShortTopic::new(core::str::from_utf8(&s).unwrap_or("ab"))
        .or_else(|_| ShortTopic::new("ab"))
        .map_err(|_| arbitrary::Error::IncorrectFormat)?)
}

fn msg_id(u: &mut Unstructured<'_>) -> Result<MsgId> {
    Ok(MsgId::new(u.int_in_range(1..=u16::MAX)?).ok_or(arbitrary::Error::IncorrectFormat)?)
}

/// The QoS of a will, a subscription or a grant: 0, 1 or 2 (QoS −1 is PUBLISH's alone,
/// §5.3.4; PUBLISH draws its own from `Delivery`).
fn qos(u: &mut Unstructured<'_>) -> Result<QoS> {
    Ok(*u.choose(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])?)
}

fn bytes(u: &mut Unstructured<'_>) -> Result<Payload> {
    // Sometimes long enough for the three-octet Length.
    let n = if u.ratio(1, 8)? {
        u.int_in_range(250..=1200)?
    } else {
        u.int_in_range(0..=40)?
    };
    let b: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31)).collect();
    let fill: Vec<u8> = u.bytes(n.min(u.len()))?.to_vec();
    let mut b = b;
    b[..fill.len()].copy_from_slice(&fill);
    Ok(Payload::from(b))
}

fn will(u: &mut Unstructured<'_>) -> Result<Option<WillTopic>> {
    if u.ratio(1, 4)? {
        return Ok(None);
    }
    Ok(Some(WillTopic {
        qos: qos(u)?,
        retain: u.arbitrary()?,
        topic: topic_name(u)?,
    }))
}

fn sub_topic(u: &mut Unstructured<'_>) -> Result<TopicRef> {
    Ok(match u.int_in_range(0..=2)? {
        0 => TopicRef::Name(
            TopicFilter::new(topic_string(u, true)?)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?,
        ),
        1 => TopicRef::Predefined(TopicId(u.arbitrary()?)),
        _ => TopicRef::Short(short(u)?),
    })
}

/// Any message that is not encapsulated.
pub fn plain(u: &mut Unstructured<'_>) -> Result<Message> {
    let code = || -> fn(u8) -> ReturnCode { ReturnCode::from };
    Ok(match u.int_in_range(0..=26)? {
        0 => Message::Advertise(Advertise {
            gw_id: u.arbitrary()?,
            duration: u.arbitrary()?,
        }),
        1 => Message::SearchGw(SearchGw {
            radius: u.arbitrary()?,
        }),
        2 => Message::GwInfo(GwInfo {
            gw_id: u.arbitrary()?,
            gw_add: bytes(u)?,
        }),
        3 => Message::Connect(Connect {
            will: u.arbitrary()?,
            clean_session: u.arbitrary()?,
            duration: u.arbitrary()?,
            client_id: client_id(u)?,
        }),
        4 => Message::ConnAck(code()(u.arbitrary()?)),
        5 => Message::WillTopicReq,
        6 => Message::WillTopic(will(u)?),
        7 => Message::WillMsgReq,
        8 => Message::WillMsg(bytes(u)?),
        9 => Message::Register(Register {
            topic_id: TopicId(u.arbitrary()?),
            msg_id: msg_id(u)?,
            topic: topic_name(u)?,
        }),
        10 => Message::RegAck(RegAck {
            topic_id: TopicId(u.arbitrary()?),
            msg_id: msg_id(u)?,
            code: code()(u.arbitrary()?),
        }),
        11 => {
            let topic = match u.int_in_range(0..=2)? {
                0 => TopicRef::Registered(TopicId(u.arbitrary()?)),
                1 => TopicRef::Predefined(TopicId(u.arbitrary()?)),
                _ => TopicRef::Short(short(u)?),
            };
            let delivery = match u.int_in_range(0..=3)? {
                0 => Delivery::AtMostOnce,
                1 => Delivery::AtLeastOnce(msg_id(u)?),
                2 => Delivery::ExactlyOnce(msg_id(u)?),
                _ if matches!(topic, TopicRef::Registered(_)) => Delivery::AtMostOnce,
                _ => Delivery::MinusOne,
            };
            Message::Publish(Publish {
                dup: u.arbitrary()?,
                retain: u.arbitrary()?,
                delivery,
                topic,
                payload: bytes(u)?,
            })
        }
        12 => Message::PubAck(PubAck {
            topic_id: TopicId(u.arbitrary()?),
            msg_id: MsgId::new(u.arbitrary()?),
            code: code()(u.arbitrary()?),
        }),
        13 => Message::PubComp(msg_id(u)?),
        14 => Message::PubRec(msg_id(u)?),
        15 => Message::PubRel(msg_id(u)?),
        16 => Message::Subscribe(Subscribe {
            dup: u.arbitrary()?,
            qos: qos(u)?,
            msg_id: msg_id(u)?,
            topic: sub_topic(u)?,
        }),
        17 => Message::SubAck(SubAck {
            qos: qos(u)?,
            topic_id: TopicId(u.arbitrary()?),
            msg_id: msg_id(u)?,
            code: code()(u.arbitrary()?),
        }),
        18 => Message::Unsubscribe(Unsubscribe {
            msg_id: msg_id(u)?,
            topic: sub_topic(u)?,
        }),
        19 => Message::UnsubAck(msg_id(u)?),
        20 => Message::PingReq(if u.arbitrary()? {
            Some(client_id(u)?)
        } else {
            None
        }),
        21 => Message::PingResp,
        22 => Message::Disconnect(u.arbitrary()?),
        23 => Message::WillTopicUpd(will(u)?),
        24 => Message::WillTopicResp(code()(u.arbitrary()?)),
        25 => Message::WillMsgUpd(bytes(u)?),
        _ => Message::WillMsgResp(code()(u.arbitrary()?)),
    })
}

/// Any message, sometimes wrapped in an Encapsulated message.
pub fn message(u: &mut Unstructured<'_>) -> Result<Message> {
    let inner = plain(u)?;
    if u.ratio(1, 5)? {
        let n = u.int_in_range(0..=8)?;
        let node: Vec<u8> = u.bytes(n.min(u.len()))?.to_vec();
        return Ok(Message::Encapsulated(Encapsulated {
            ctrl: Ctrl(u.arbitrary()?),
            node_id: Payload::from(node),
            message: Box::new(inner),
        }));
    }
    Ok(inner)
}
