//! The QoS flow machines: one value per message and direction (MQTT 3.1.1 §4.3, MQTT 5.0
//! §4.3).
//!
//! - [`SenderFlow`]: an outgoing QoS 1 message awaiting PUBACK, or an outgoing QoS 2
//!   message awaiting PUBREC and then PUBCOMP.
//! - [`ReceiverFlow`]: an incoming QoS 2 message awaiting PUBREL.
//!
//! Each is a small `Copy` enum with one transition function that takes the packet that
//! arrived and says what to do, or that the packet is not valid in this state. They know
//! nothing of buffers or connections: the session state keeps them, the connection
//! machines drive them.

use core::fmt;

use crate::{PacketType, PubAckReason, PubCompReason, PubRecReason, QoS, ReasonCode};

/// Where an outgoing QoS 1 or QoS 2 message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SenderFlow {
    /// QoS 1: PUBLISH sent (or to be sent), awaiting PUBACK ([MQTT-4.3.2-3]).
    AwaitPubAck,
    /// QoS 2: PUBLISH sent (or to be sent), awaiting PUBREC ([MQTT-4.3.3-3]).
    AwaitPubRec,
    /// QoS 2: PUBREL sent (or to be sent), awaiting PUBCOMP ([MQTT-4.3.3-5]). The PUBLISH
    /// itself is never sent again ([MQTT-4.3.3-6]).
    AwaitPubComp,
}

/// An acknowledgement of an outgoing message, as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderInput {
    /// PUBACK with its reason code (`Success` at 3.x).
    PubAck(PubAckReason),
    /// PUBREC with its reason code.
    PubRec(PubRecReason),
    /// PUBCOMP with its reason code.
    PubComp(PubCompReason),
}

impl SenderInput {
    /// The packet type of this input.
    pub const fn packet_type(&self) -> PacketType {
        match self {
            SenderInput::PubAck(_) => PacketType::PubAck,
            SenderInput::PubRec(_) => PacketType::PubRec,
            SenderInput::PubComp(_) => PacketType::PubComp,
        }
    }
}

/// What a [`SenderFlow`] transition asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderStep {
    /// The message is done with: its identifier is free again ([MQTT-2.3.1-3]). The reason
    /// code is the acknowledgement's: `Success` (or `NoMatchingSubscribers`) for a delivery,
    /// a code of 0x80 or above for a refusal, which also ends the flow and is never
    /// retransmitted ([MQTT-4.4.0-2]).
    Complete(ReasonCode),
    /// QoS 2: PUBREC accepted the message; send PUBREL with the same identifier
    /// ([MQTT-4.3.3-4]) and wait in [`SenderFlow::AwaitPubComp`].
    Release,
}

/// An acknowledgement that the flow did not expect in its state: the peer broke the QoS
/// protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnexpectedAck {
    /// The state the message was in.
    pub state: SenderFlow,
    /// The packet that arrived.
    pub packet: PacketType,
}

impl fmt::Display for UnexpectedAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for a message in state {:?}", self.packet, self.state)
    }
}

impl SenderFlow {
    /// The flow a new message of `qos` starts in; `None` for QoS 0, which has no flow.
    pub const fn start(qos: QoS) -> Option<Self> {
        match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => Some(SenderFlow::AwaitPubAck),
            QoS::ExactlyOnce => Some(SenderFlow::AwaitPubRec),
        }
    }

    /// The QoS of the message this flow carries.
    pub const fn qos(self) -> QoS {
        match self {
            SenderFlow::AwaitPubAck => QoS::AtLeastOnce,
            SenderFlow::AwaitPubRec | SenderFlow::AwaitPubComp => QoS::ExactlyOnce,
        }
    }

    /// Whether the packet to (re)send in this state is the PUBLISH; otherwise it is the
    /// PUBREL.
    pub const fn sends_publish(self) -> bool {
        !matches!(self, SenderFlow::AwaitPubComp)
    }

    /// The transition on an acknowledgement. On [`SenderStep::Release`] the flow is now
    /// [`SenderFlow::AwaitPubComp`]; on [`SenderStep::Complete`] it is over.
    pub fn on_ack(&mut self, input: SenderInput) -> Result<SenderStep, UnexpectedAck> {
        match (*self, input) {
            // [MQTT-4.3.2-3]: PUBACK ends a QoS 1 flow, whatever its reason code.
            (SenderFlow::AwaitPubAck, SenderInput::PubAck(r)) => {
                Ok(SenderStep::Complete(ReasonCode::from(r)))
            }
            (SenderFlow::AwaitPubRec, SenderInput::PubRec(r)) => {
                if u8::from(r) >= 0x80 {
                    // [MQTT-4.4.0-2]: a refusal acknowledges the message; no PUBREL.
                    Ok(SenderStep::Complete(ReasonCode::from(r)))
                } else {
                    *self = SenderFlow::AwaitPubComp;
                    Ok(SenderStep::Release)
                }
            }
            (SenderFlow::AwaitPubComp, SenderInput::PubComp(r)) => {
                Ok(SenderStep::Complete(ReasonCode::from(r)))
            }
            (state, input) => Err(UnexpectedAck {
                state,
                packet: input.packet_type(),
            }),
        }
    }
}

/// Where an incoming QoS 2 message stands once it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiverFlow {
    /// Received and handed to the application; the PUBREC is not sent yet (the
    /// application acknowledges it explicitly). A PUBLISH with the same identifier is a
    /// duplicate: neither delivered again ([MQTT-4.3.3-10]) nor acknowledged until the
    /// application has.
    AwaitAppAck,
    /// PUBREC sent; awaiting PUBREL ([MQTT-4.3.3-8], [MQTT-4.3.3-10]). A PUBLISH with the
    /// same identifier is answered with PUBREC again and not delivered.
    AwaitPubRel,
}

/// What a [`ReceiverFlow`] does with a PUBLISH that carries its identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiverStep {
    /// A duplicate: answer with PUBREC again, deliver nothing.
    RepeatPubRec,
    /// A duplicate whose first copy the application has not acknowledged yet: nothing to
    /// send, nothing to deliver.
    Ignore,
}

impl ReceiverFlow {
    /// A PUBLISH arrived with this message's identifier ([MQTT-4.3.3-10]).
    pub const fn on_duplicate(self) -> ReceiverStep {
        match self {
            ReceiverFlow::AwaitAppAck => ReceiverStep::Ignore,
            ReceiverFlow::AwaitPubRel => ReceiverStep::RepeatPubRec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_4_3_2_3_puback_completes_qos1() {
        let mut f = SenderFlow::start(QoS::AtLeastOnce).unwrap();
        assert_eq!(
            f.on_ack(SenderInput::PubAck(PubAckReason::Success)),
            Ok(SenderStep::Complete(ReasonCode::Success))
        );
    }

    #[test]
    fn mqtt_4_3_3_4_pubrec_releases_then_pubcomp_completes() {
        let mut f = SenderFlow::start(QoS::ExactlyOnce).unwrap();
        assert_eq!(
            f.on_ack(SenderInput::PubRec(PubRecReason::Success)),
            Ok(SenderStep::Release)
        );
        assert_eq!(f, SenderFlow::AwaitPubComp);
        assert!(!f.sends_publish(), "[MQTT-4.3.3-6]");
        // A second PUBREC is not valid once released.
        assert_eq!(
            f.on_ack(SenderInput::PubRec(PubRecReason::Success)),
            Err(UnexpectedAck {
                state: SenderFlow::AwaitPubComp,
                packet: PacketType::PubRec
            })
        );
        assert_eq!(
            f.on_ack(SenderInput::PubComp(PubCompReason::Success)),
            Ok(SenderStep::Complete(ReasonCode::Success))
        );
    }

    #[test]
    fn mqtt_4_4_0_2_error_pubrec_completes_without_pubrel() {
        let mut f = SenderFlow::AwaitPubRec;
        assert_eq!(
            f.on_ack(SenderInput::PubRec(PubRecReason::QuotaExceeded)),
            Ok(SenderStep::Complete(ReasonCode::QuotaExceeded))
        );
        assert_eq!(f, SenderFlow::AwaitPubRec);
    }

    #[test]
    fn wrong_acknowledgement_type_is_unexpected() {
        let mut f = SenderFlow::AwaitPubAck;
        assert_eq!(
            f.on_ack(SenderInput::PubRec(PubRecReason::Success)),
            Err(UnexpectedAck {
                state: SenderFlow::AwaitPubAck,
                packet: PacketType::PubRec
            })
        );
        let mut f = SenderFlow::AwaitPubRec;
        assert!(f
            .on_ack(SenderInput::PubComp(PubCompReason::Success))
            .is_err());
        assert!(SenderFlow::start(QoS::AtMostOnce).is_none());
    }

    #[test]
    fn mqtt_4_3_3_10_duplicates_are_not_redelivered() {
        assert_eq!(
            ReceiverFlow::AwaitPubRel.on_duplicate(),
            ReceiverStep::RepeatPubRec
        );
        assert_eq!(
            ReceiverFlow::AwaitAppAck.on_duplicate(),
            ReceiverStep::Ignore
        );
    }
}
