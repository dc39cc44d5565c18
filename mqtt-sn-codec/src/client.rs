//! The MQTT-SN client machine (MQTT-SN 1.2 §6): gateway discovery, connection with the
//! will dialogue, the topic registry, publishing at QoS −1 to 2, subscriptions,
//! keep-alive, retransmission and sleeping. Sans-IO like the MQTT machines: datagrams
//! (with the address they came from) and commands in; datagrams (with where they go),
//! events and the next deadline out; time only as the `now` the caller passes, and
//! randomness (the SEARCHGW delay) only from the seed it gives.
//!
//! The caller's address type `A` is anything `Clone + Eq` (a `SocketAddr`, a radio id).
//!
//! Requests that expect a reply go out one at a time (§6.5: a client waits for REGACK
//! before the next REGISTER; the QoS 1 and 2 flows are likewise one at a time here), each
//! resent after `t_retry` up to `n_retry` times, PUBLISH with DUP set (§6.13); when the
//! budget is spent the gateway is counted lost. Commands given meanwhile wait in order.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::num::NonZeroU16;
use core::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_codec::{ByteString, Instant};

use crate::generic::{Message, TopicRef};
use crate::{shared, Advertise, Delivery, MsgId, PubAck, QoS, ReturnCode, SearchGw, TopicId};

/// What a [`Client`] is configured with.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The ClientId: 1 to 23 characters (§5.3.1).
    pub client_id: String,
    /// The keep-alive Duration announced in CONNECT, in seconds (0: none).
    pub keep_alive: u16,
    /// The CleanSession flag of CONNECT.
    pub clean_session: bool,
    /// The will, given to the gateway in the will dialogue (§6.2).
    pub will: Option<Will>,
    /// Topic ids both sides know in advance (§6.7).
    pub predefined: Vec<(TopicId, String)>,
    /// How long to wait for a reply before sending again (T_retry, §6.13).
    pub t_retry: Duration,
    /// How many times to send again before the gateway counts as lost (N_retry).
    pub n_retry: u8,
    /// The largest random delay before a SEARCHGW (T_SEARCHGW, §6.1).
    pub t_searchgw: Duration,
    /// How many ADVERTISE periods a gateway may miss before it counts as lost (N_ADV).
    pub n_adv: u8,
    /// The broadcast radius of SEARCHGW.
    pub radius: u8,
}

impl ClientConfig {
    /// A configuration with the specification's suggested timers: T_retry 10 s, N_retry 5,
    /// T_SEARCHGW 5 s, N_ADV 3; CleanSession, keep-alive `keep_alive` seconds, no will.
    pub fn new(client_id: &str, keep_alive: u16) -> Self {
        ClientConfig {
            client_id: String::from(client_id),
            keep_alive,
            clean_session: true,
            will: None,
            predefined: Vec::new(),
            t_retry: Duration::from_secs(10),
            n_retry: 5,
            t_searchgw: Duration::from_secs(5),
            n_adv: 3,
            radius: 1,
        }
    }
}

/// A will: published by the gateway if the client is lost (§6.2, §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    /// The will topic.
    pub topic: shared::TopicName,
    /// The will message.
    pub message: Bytes,
    /// Its QoS (0 to 2).
    pub qos: QoS,
    /// Whether it is retained.
    pub retain: bool,
}

/// Where a datagram goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination<A> {
    /// Broadcast, with this radius (SEARCHGW).
    Broadcast {
        /// The broadcast radius, in hops.
        radius: u8,
    },
    /// To one address.
    To(A),
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<A> {
    /// Where it goes.
    pub to: Destination<A>,
    /// The datagram.
    pub data: Bytes,
}

/// A topic to publish to: a name (registered on first use, §6.5), a predefined id or a short
/// name (no registration, §6.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// A topic name, registered with the gateway before its first PUBLISH.
    Name(shared::TopicName),
    /// A predefined topic id.
    Predefined(TopicId),
    /// A two-character short topic name.
    Short(crate::ShortTopic),
}

/// Where the connection stands (§6.14's states, and the connecting ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Not connected (never, or after DISCONNECT).
    Disconnected,
    /// CONNECT sent; the will dialogue and CONNACK are under way.
    Connecting,
    /// Connected.
    Active,
    /// Asleep (DISCONNECT with a duration acknowledged): the gateway buffers.
    Asleep,
    /// Awake to collect buffered messages (PINGREQ with the ClientId sent).
    Awake,
    /// The gateway stopped answering: retries spent or keep-alive unanswered.
    Lost,
}

/// How an outgoing QoS 1 or QoS 2 PUBLISH ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// PUBACK (QoS 1) or PUBCOMP (QoS 2).
    Delivered,
    /// The gateway refused it with this code (PUBACK with an error).
    Rejected(ReturnCode),
    /// The gateway was lost before the flow ended.
    Lost,
}

/// What the client machine tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<A> {
    /// A gateway announced itself (ADVERTISE) or answered (GWINFO).
    GatewayFound {
        /// Its id.
        gw_id: u8,
        /// The address the announcement came from.
        from: A,
        /// The GWINFO's gateway address, when another client answered for the gateway.
        gw_add: Bytes,
    },
    /// A gateway missed `n_adv` ADVERTISE periods (§6.1).
    GatewayLost {
        /// Its id.
        gw_id: u8,
    },
    /// CONNACK accepted the connection.
    Connected,
    /// CONNACK refused it (after `Congestion`, try again later, §6.2).
    ConnectRefused(ReturnCode),
    /// A topic id is known for a topic name: our REGISTER was acknowledged, the gateway
    /// registered one (§6.5), or a SUBACK gave one.
    Registered {
        /// The topic id.
        topic_id: TopicId,
        /// The topic name.
        topic: ByteString,
    },
    /// A REGISTER of ours was refused.
    RegisterRefused {
        /// The topic name.
        topic: ByteString,
        /// Why.
        code: ReturnCode,
    },
    /// A message from the gateway, its topic resolved; once per QoS 2 message.
    Message {
        /// The topic name (a short name's two characters, a predefined id's name).
        topic: ByteString,
        /// The payload.
        payload: Bytes,
        /// Its QoS.
        qos: QoS,
        /// The Retain flag.
        retain: bool,
    },
    /// An outgoing QoS 1 or 2 message is over.
    PublishComplete {
        /// The MsgId `publish` returned.
        msg_id: MsgId,
        /// How it ended.
        outcome: PublishOutcome,
    },
    /// The answer to a SUBSCRIBE.
    SubAck {
        /// The MsgId `subscribe` returned.
        msg_id: MsgId,
        /// The granted QoS.
        qos: QoS,
        /// The topic id to expect (a topic name without wildcards), else [`TopicId::NONE`].
        topic_id: TopicId,
        /// Accepted, or why not.
        code: ReturnCode,
    },
    /// The answer to an UNSUBSCRIBE.
    UnsubAck {
        /// The MsgId `unsubscribe` returned.
        msg_id: MsgId,
    },
    /// The answer to a will topic update.
    WillTopicUpdated(ReturnCode),
    /// The answer to a will message update.
    WillMessageUpdated(ReturnCode),
    /// The gateway acknowledged the sleep request: asleep.
    Asleep,
    /// Awake: buffered messages come now; `Asleep` follows with the PINGRESP.
    Awake,
    /// Disconnected: our DISCONNECT was answered, or the gateway sent one unasked (§6.12).
    Disconnected {
        /// Whether the gateway disconnected us unasked.
        by_gateway: bool,
    },
    /// The gateway is lost (§6.13): retries spent, or a keep-alive ping unanswered.
    Lost,
}

/// A request waiting for its reply.
#[derive(Debug, Clone)]
enum Request {
    Connect,
    Register {
        topic: shared::TopicName,
        msg_id: MsgId,
    },
    Publish {
        msg: shared::Publish,
        name: Option<shared::TopicName>,
        reregistered: bool,
    },
    /// The PUBREL of a QoS 2 PUBLISH of ours, after PUBREC.
    PubRel {
        msg_id: MsgId,
    },
    Subscribe {
        msg_id: MsgId,
        topic: shared::TopicRef,
        qos: QoS,
    },
    Unsubscribe {
        msg_id: MsgId,
        topic: shared::TopicRef,
    },
    Ping,
    /// PINGREQ with the ClientId: collecting buffered messages.
    Wake,
    Sleep {
        duration: u16,
    },
    Disconnect,
    WillTopicUpd(Option<shared::WillTopic>),
    WillMsgUpd(Bytes),
}

#[derive(Debug, Clone)]
struct Outstanding {
    request: Request,
    /// When it was last sent, and how many times it was resent.
    sent_at: Instant,
    retries: u8,
}

/// A gateway the client heard of.
#[derive(Debug, Clone)]
struct Gateway<A> {
    gw_id: u8,
    addr: A,
    /// When it counts as lost if no ADVERTISE comes (ADVERTISE only).
    lost_at: Option<Instant>,
}

/// The MQTT-SN client connection machine.
#[derive(Debug, Clone)]
pub struct Client<A> {
    config: ClientConfig,
    state: ClientState,
    gateway: Option<A>,
    now: Instant,
    rng: u64,
    /// Topic names by id and ids by name: registered (both ways) and predefined.
    by_id: BTreeMap<u16, ByteString>,
    by_name: BTreeMap<ByteString, TopicId>,
    predefined: BTreeMap<u16, ByteString>,
    next_msg_id: u16,
    outstanding: Option<Outstanding>,
    queue: VecDeque<Request>,
    /// Incoming QoS 2 MsgIds delivered and not yet released.
    incoming_qos2: crate::qos2::Qos2Ids,
    last_sent: Instant,
    /// Asleep: when to wake up (the sleep duration after going to sleep or the last
    /// PINGRESP).
    wake_at: Option<Instant>,
    sleep_duration: u16,
    gateways: Vec<Gateway<A>>,
    /// A SEARCHGW waiting for its random delay, and the interval to search again after.
    search_at: Option<Instant>,
    search_backoff: Duration,
    tx: VecDeque<Transmit<A>>,
    buf: BytesMut,
    events: VecDeque<Event<A>>,
}

impl<A: Clone + Eq> Client<A> {
    /// A client with `config`; `seed` feeds the random SEARCHGW delay.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        let predefined = config
            .predefined
            .iter()
            .map(|(id, name)| (id.0, ByteString::from(name.as_str())))
            .collect();
        Client {
            state: ClientState::Disconnected,
            gateway: None,
            now: Instant::ZERO,
            rng: seed | 1,
            by_id: BTreeMap::new(),
            by_name: BTreeMap::new(),
            predefined,
            next_msg_id: 0,
            outstanding: None,
            queue: VecDeque::new(),
            incoming_qos2: Default::default(),
            last_sent: Instant::ZERO,
            wake_at: None,
            sleep_duration: 0,
            gateways: Vec::new(),
            search_at: None,
            search_backoff: config.t_searchgw,
            tx: VecDeque::new(),
            buf: BytesMut::new(),
            events: VecDeque::new(),
            config,
        }
    }

    // ---- getters ----

    /// Where the connection stands.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The gateway connected to (or last connected to).
    pub fn gateway(&self) -> Option<&A> {
        self.gateway.as_ref()
    }

    /// The topic id registered for `topic`, if any.
    pub fn topic_id(&self, topic: &str) -> Option<TopicId> {
        self.by_name.get(topic).copied()
    }

    /// The gateways heard of: id and address.
    pub fn gateways(&self) -> impl Iterator<Item = (u8, &A)> + '_ {
        self.gateways.iter().map(|g| (g.gw_id, &g.addr))
    }

    /// Requests waiting behind the one in flight.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    // ---- outputs ----

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<A>> {
        self.tx.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event<A>> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let retry = self
            .outstanding
            .as_ref()
            .map(|o| o.sent_at + self.config.t_retry);
        let ping = match (self.state, &self.outstanding) {
            (ClientState::Active, None) if self.config.keep_alive > 0 => {
                Some(self.last_sent + Duration::from_secs(u64::from(self.config.keep_alive)))
            }
            _ => None,
        };
        let wake = match self.state {
            ClientState::Asleep => self.wake_at,
            _ => None,
        };
        let adv = self.gateways.iter().filter_map(|g| g.lost_at).min();
        [retry, ping, wake, adv, self.search_at]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- commands ----

    /// Looks for a gateway: SEARCHGW after a random delay of up to `t_searchgw` (§6.1),
    /// cancelled if a GWINFO or another client's SEARCHGW is heard first; sent again,
    /// with the interval doubling, until a gateway answers.
    pub fn search_gateway(&mut self, now: Instant) {
        self.tick(now);
        let delay = self.random_below(self.config.t_searchgw);
        self.search_at = Some(now + delay);
        self.search_backoff = self.config.t_searchgw.max(Duration::from_millis(1));
    }

    /// Connects to the gateway at `gateway` (§6.2): CONNECT, then the will dialogue when
    /// a will is configured, then CONNACK.
    pub fn connect(&mut self, now: Instant, gateway: A) -> Result<(), ClientError> {
        self.tick(now);
        if matches!(self.state, ClientState::Connecting | ClientState::Active) {
            return Err(ClientError::WrongState(self.state));
        }
        crate::Str::new(self.config.client_id.as_str())
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 23)
            .ok_or(ClientError::InvalidClientId)?;
        self.gateway = Some(gateway);
        self.state = ClientState::Connecting;
        self.wake_at = None;
        // Registrations belong to a connection (§6.5); a clean session forgets the
        // subscriptions' topic ids too.
        self.by_id.clear();
        self.by_name.clear();
        // A new connection numbers its messages anew: an old QoS 2 MsgId is not a
        // duplicate on it. What was waiting for the old one ends with it.
        self.incoming_qos2.clear();
        self.abandon();
        self.begin(Request::Connect);
        Ok(())
    }

    /// Publishes `payload` to `topic` at QoS 0, 1 or 2 (QoS −1: see
    /// [`Client::publish_minus_one`]). A topic name is registered first if needed. Returns
    /// the MsgId of a QoS 1 or 2 message ([`Event::PublishComplete`] carries it).
    pub fn publish(
        &mut self,
        now: Instant,
        topic: Topic,
        payload: Bytes,
        qos: QoS,
        retain: bool,
    ) -> Result<Option<MsgId>, ClientError> {
        self.tick(now);
        self.require_active()?;
        let msg_id = match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce | QoS::ExactlyOnce => Some(self.new_msg_id()),
            QoS::MinusOne => return Err(ClientError::QosMinusOneNeedsNoConnection),
        };
        let delivery = match (qos, msg_id) {
            (QoS::AtLeastOnce, Some(id)) => Delivery::AtLeastOnce(id),
            (QoS::ExactlyOnce, Some(id)) => Delivery::ExactlyOnce(id),
            _ => Delivery::AtMostOnce,
        };
        let (topic_ref, name) = match topic {
            Topic::Name(n) => (TopicRef::Registered(TopicId::NONE), Some(n)),
            Topic::Predefined(id) => (TopicRef::Predefined(id), None),
            Topic::Short(s) => (TopicRef::Short(s), None),
        };
        let msg = shared::Publish {
            dup: false,
            retain,
            delivery,
            topic: topic_ref,
            payload: payload.into(),
        };
        if Message::Publish(msg.clone()).encoded_len() > crate::MAX_MESSAGE_LEN {
            return Err(ClientError::TooLarge);
        }
        self.submit(Request::Publish {
            msg,
            name,
            reregistered: false,
        });
        Ok(msg_id)
    }

    /// Publishes at QoS −1 to `gateway`, connected or not, on a predefined topic id or a
    /// short topic name (§6.8): one datagram, no reply.
    pub fn publish_minus_one(
        &mut self,
        now: Instant,
        gateway: A,
        topic: Topic,
        payload: Bytes,
        retain: bool,
    ) -> Result<(), ClientError> {
        self.tick(now);
        let topic = match topic {
            Topic::Predefined(id) => TopicRef::Predefined(id),
            Topic::Short(s) => TopicRef::Short(s),
            Topic::Name(_) => return Err(ClientError::QosMinusOneNeedsNoConnection),
        };
        let msg = Message::Publish(shared::Publish {
            dup: false,
            retain,
            delivery: Delivery::MinusOne,
            topic,
            payload: payload.into(),
        });
        self.send(Destination::To(gateway), &msg);
        Ok(())
    }

    /// Subscribes to a topic name or filter, a predefined id or a short name (§6.9).
    pub fn subscribe(
        &mut self,
        now: Instant,
        topic: shared::TopicRef,
        qos: QoS,
    ) -> Result<MsgId, ClientError> {
        self.tick(now);
        self.require_active()?;
        if qos == QoS::MinusOne {
            return Err(ClientError::QosMinusOneNeedsNoConnection);
        }
        let msg_id = self.new_msg_id();
        self.submit(Request::Subscribe { msg_id, topic, qos });
        Ok(msg_id)
    }

    /// Unsubscribes (§6.10).
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        topic: shared::TopicRef,
    ) -> Result<MsgId, ClientError> {
        self.tick(now);
        self.require_active()?;
        let msg_id = self.new_msg_id();
        self.submit(Request::Unsubscribe { msg_id, topic });
        Ok(msg_id)
    }

    /// Replaces the will topic (`None` deletes the will), §6.4.
    pub fn update_will_topic(
        &mut self,
        now: Instant,
        will: Option<shared::WillTopic>,
    ) -> Result<(), ClientError> {
        self.tick(now);
        self.require_active()?;
        self.submit(Request::WillTopicUpd(will));
        Ok(())
    }

    /// Replaces the will message, §6.4.
    pub fn update_will_message(&mut self, now: Instant, message: Bytes) -> Result<(), ClientError> {
        self.tick(now);
        self.require_active()?;
        self.submit(Request::WillMsgUpd(message));
        Ok(())
    }

    /// Disconnects (§6.12): DISCONNECT, answered by DISCONNECT.
    pub fn disconnect(&mut self, now: Instant) -> Result<(), ClientError> {
        self.tick(now);
        if !matches!(
            self.state,
            ClientState::Active | ClientState::Asleep | ClientState::Awake
        ) {
            return Err(ClientError::WrongState(self.state));
        }
        if self.state == ClientState::Active {
            // Not behind a sleep or another DISCONNECT.
            self.require_active()?;
        }
        if self.state != ClientState::Active {
            // Asleep or awake: the gateway knows us; a plain DISCONNECT ends it, at once
            // (a wake-up in progress is dropped).
            self.state = ClientState::Active;
            self.outstanding = None;
            self.begin(Request::Disconnect);
            return Ok(());
        }
        self.submit(Request::Disconnect);
        Ok(())
    }

    /// Goes to sleep for `duration` seconds (§6.14): DISCONNECT with the duration. The
    /// machine wakes itself before the duration ends (a PINGREQ with the ClientId) to
    /// collect what the gateway buffered, then sleeps again.
    pub fn sleep(&mut self, now: Instant, duration: u16) -> Result<(), ClientError> {
        self.tick(now);
        self.require_active()?;
        if duration == 0 {
            return Err(ClientError::ZeroSleep);
        }
        self.submit(Request::Sleep { duration });
        Ok(())
    }

    /// Wakes up now to collect buffered messages (§6.14), asleep only.
    pub fn wake(&mut self, now: Instant) -> Result<(), ClientError> {
        self.tick(now);
        if self.state != ClientState::Asleep {
            return Err(ClientError::WrongState(self.state));
        }
        self.state = ClientState::Awake;
        self.begin(Request::Wake);
        Ok(())
    }

    // ---- inputs ----

    /// A datagram from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: A, data: &[u8]) {
        self.handle_bytes(now, from, Bytes::copy_from_slice(data));
    }

    /// A datagram from `from`, held in `Bytes` (messages share it, without a copy).
    pub fn handle_bytes(&mut self, now: Instant, from: A, data: Bytes) {
        self.tick(now);
        let Ok(msg) = crate::Decoder::default().decode_bytes(&data) else {
            // Not a message: nothing to answer on a datagram transport.
            return;
        };
        let from_gateway = self.gateway.as_ref() == Some(&from);
        match msg {
            Message::Advertise(a) => self.on_advertise(from, a),
            Message::GwInfo(g) => {
                // §6.1: a GWINFO cancels our pending SEARCHGW. One from another client
                // carries the gateway's address in GwAdd: the sender is not the gateway.
                self.search_at = None;
                if g.gw_add.is_empty() {
                    self.note_gateway(from.clone(), g.gw_id, None);
                }
                self.events.push_back(Event::GatewayFound {
                    gw_id: g.gw_id,
                    from,
                    gw_add: g.gw_add.into_inner(),
                });
            }
            Message::SearchGw(_) if self.search_at.is_some() => {
                // §6.1: another client searches; its answer will do for us too.
                self.search_at = Some(now + self.search_backoff);
            }
            other if from_gateway => self.on_gateway_message(other),
            _ => {}
        }
    }

    /// Acts on the deadlines that have passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.search_at.is_some_and(|t| now >= t) {
            let radius = self.config.radius;
            self.send(
                Destination::Broadcast { radius },
                &Message::SearchGw(SearchGw { radius }),
            );
            // Searched; again later, less often, until a gateway answers.
            self.search_backoff = (self.search_backoff * 2).min(Duration::from_secs(900));
            self.search_at = Some(now + self.search_backoff);
        }
        // §6.1: a gateway that missed N_ADV advertisements is gone.
        let mut i = 0;
        while let Some(g) = self.gateways.get(i) {
            if g.lost_at.is_some_and(|t| now >= t) {
                let gw_id = g.gw_id;
                self.gateways.remove(i);
                self.events.push_back(Event::GatewayLost { gw_id });
            } else {
                i += 1;
            }
        }
        if let Some(o) = &self.outstanding {
            if now >= o.sent_at + self.config.t_retry {
                if o.retries >= self.config.n_retry {
                    // §6.13: the budget is spent.
                    self.lost();
                } else {
                    self.resend();
                }
            }
        }
        match self.state {
            ClientState::Active
                if self.outstanding.is_none()
                    && self.config.keep_alive > 0
                    && now
                        >= self.last_sent
                            + Duration::from_secs(u64::from(self.config.keep_alive)) =>
            {
                // §6.11: a PINGREQ within the keep-alive Duration.
                self.begin(Request::Ping);
            }
            ClientState::Asleep if self.wake_at.is_some_and(|t| now >= t) => {
                // §6.14: wake before the sleep duration ends, collect, sleep again.
                self.state = ClientState::Awake;
                self.begin(Request::Wake);
            }
            _ => {}
        }
    }

    // ---- internals ----

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Connected, and not on the way to sleep: a request given after `sleep` would wait
    /// behind it with nothing to send it.
    fn require_active(&self) -> Result<(), ClientError> {
        let leaving = self
            .queue
            .iter()
            .chain(self.outstanding.as_ref().map(|o| &o.request))
            .find(|r| matches!(r, Request::Sleep { .. } | Request::Disconnect));
        match leaving {
            Some(Request::Sleep { .. }) => {
                return Err(ClientError::WrongState(ClientState::Asleep))
            }
            Some(_) => return Err(ClientError::WrongState(ClientState::Disconnected)),
            None => {}
        }
        if self.state == ClientState::Active {
            Ok(())
        } else {
            Err(ClientError::WrongState(self.state))
        }
    }

    /// A value in `0..max` from the seeded generator.
    fn random_below(&mut self, max: Duration) -> Duration {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        let ms = max.as_millis() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(x % ms)
    }

    fn new_msg_id(&mut self) -> MsgId {
        let n = self.next_msg_id.checked_add(1).and_then(NonZeroU16::new);
        let id = n.unwrap_or(NonZeroU16::MIN);
        self.next_msg_id = id.get();
        MsgId::from(id)
    }

    fn on_advertise(&mut self, from: A, a: Advertise) {
        let lost_at =
            self.now + Duration::from_secs(u64::from(a.duration) * u64::from(self.config.n_adv));
        let known = self.gateways.iter().any(|g| g.gw_id == a.gw_id);
        self.note_gateway(from.clone(), a.gw_id, Some(lost_at));
        // An ADVERTISE answers a search as well as a GWINFO does.
        self.search_at = None;
        if !known {
            self.events.push_back(Event::GatewayFound {
                gw_id: a.gw_id,
                from,
                gw_add: Bytes::new(),
            });
        }
    }

    fn note_gateway(&mut self, addr: A, gw_id: u8, lost_at: Option<Instant>) {
        match self.gateways.iter_mut().find(|g| g.gw_id == gw_id) {
            Some(g) => {
                g.addr = addr;
                if lost_at.is_some() {
                    g.lost_at = lost_at;
                }
            }
            None => self.gateways.push(Gateway {
                gw_id,
                addr,
                lost_at,
            }),
        }
    }

    /// Queues a request, or sends it when nothing is in flight.
    fn submit(&mut self, r: Request) {
        if self.outstanding.is_none() && self.queue.is_empty() {
            self.begin(r);
        } else {
            self.queue.push_back(r);
        }
    }

    /// Sends the next queued request once nothing is in flight.
    fn next(&mut self) {
        while self.outstanding.is_none() && self.state == ClientState::Active {
            let Some(r) = self.queue.pop_front() else {
                return;
            };
            self.begin(r);
        }
    }

    /// Sends a request (or, for a QoS 0 PUBLISH on a known topic, just the message).
    fn begin(&mut self, r: Request) {
        let r = match r {
            Request::Publish {
                mut msg,
                name: Some(name),
                reregistered,
            } => match self.by_name.get(name.as_str()) {
                Some(&id) => {
                    msg.topic = TopicRef::Registered(id);
                    Request::Publish {
                        msg,
                        name: Some(name),
                        reregistered,
                    }
                }
                None => {
                    // §6.5: register the name first; the PUBLISH waits in front.
                    self.queue.push_front(Request::Publish {
                        msg,
                        name: Some(name.clone()),
                        reregistered,
                    });
                    let msg_id = self.new_msg_id();
                    Request::Register {
                        topic: name,
                        msg_id,
                    }
                }
            },
            other => other,
        };
        let Some(msg) = self.message_of(&r, false) else {
            return;
        };
        let to = match &self.gateway {
            Some(g) => Destination::To(g.clone()),
            None => return,
        };
        self.send(to, &msg);
        let expects_reply = match &r {
            Request::Publish { msg, .. } => msg.delivery.msg_id().is_some(),
            _ => true,
        };
        if expects_reply {
            self.outstanding = Some(Outstanding {
                request: r,
                sent_at: self.now,
                retries: 0,
            });
        } else {
            self.next();
        }
    }

    fn message_of(&self, r: &Request, dup: bool) -> Option<shared::Message> {
        Some(match r {
            Request::Connect => Message::Connect(shared::Connect {
                will: self.config.will.is_some(),
                clean_session: self.config.clean_session,
                duration: self.config.keep_alive,
                client_id: shared::Str::new(self.config.client_id.clone()).ok()?,
            }),
            Request::Register { topic, msg_id } => Message::Register(shared::Register {
                topic_id: TopicId::NONE,
                msg_id: *msg_id,
                topic: topic.clone(),
            }),
            Request::Publish { msg, .. } => {
                let mut m = msg.clone();
                m.dup = dup;
                Message::Publish(m)
            }
            Request::PubRel { msg_id } => Message::PubRel(*msg_id),
            Request::Subscribe { msg_id, topic, qos } => Message::Subscribe(shared::Subscribe {
                dup,
                qos: *qos,
                msg_id: *msg_id,
                topic: topic.clone(),
            }),
            Request::Unsubscribe { msg_id, topic } => Message::Unsubscribe(shared::Unsubscribe {
                msg_id: *msg_id,
                topic: topic.clone(),
            }),
            Request::Ping => Message::PingReq(None),
            Request::Wake => {
                Message::PingReq(Some(shared::Str::new(self.config.client_id.clone()).ok()?))
            }
            Request::Sleep { duration } => Message::Disconnect(Some(*duration)),
            Request::Disconnect => Message::Disconnect(None),
            Request::WillTopicUpd(w) => Message::WillTopicUpd(w.clone()),
            Request::WillMsgUpd(m) => Message::WillMsgUpd(m.clone().into()),
        })
    }

    fn resend(&mut self) {
        let Some(o) = self.outstanding.take() else {
            return;
        };
        if let (Some(msg), Some(g)) = (self.message_of(&o.request, true), self.gateway.clone()) {
            self.send(Destination::To(g), &msg);
        }
        self.outstanding = Some(Outstanding {
            request: o.request,
            sent_at: self.now,
            retries: o.retries.saturating_add(1),
        });
    }

    fn send(&mut self, to: Destination<A>, msg: &shared::Message) {
        self.buf.clear();
        if msg.encode(&mut self.buf).is_err() {
            return;
        }
        let data = self.buf.split().freeze();
        if matches!(to, Destination::To(_)) {
            self.last_sent = self.now;
        }
        self.tx.push_back(Transmit { to, data });
    }

    fn reply(&mut self, msg: &shared::Message) {
        if let Some(g) = self.gateway.clone() {
            self.send(Destination::To(g), msg);
        }
    }

    /// The gateway is gone: what was in flight or waiting ends.
    fn lost(&mut self) {
        self.state = ClientState::Lost;
        self.abandon();
        self.events.push_back(Event::Lost);
    }

    /// Ends what was in flight or waiting: `PublishComplete` with `Lost` for each QoS 1
    /// and 2 message.
    fn abandon(&mut self) {
        let mut ended: Vec<MsgId> = Vec::new();
        if let Some(o) = self.outstanding.take() {
            if let Some(id) = Self::publish_id(&o.request) {
                ended.push(id);
            }
        }
        for r in core::mem::take(&mut self.queue) {
            if let Some(id) = Self::publish_id(&r) {
                ended.push(id);
            }
        }
        for msg_id in ended {
            self.events.push_back(Event::PublishComplete {
                msg_id,
                outcome: PublishOutcome::Lost,
            });
        }
    }

    fn publish_id(r: &Request) -> Option<MsgId> {
        match r {
            Request::Publish { msg, .. } => msg.delivery.msg_id(),
            Request::PubRel { msg_id } => Some(*msg_id),
            _ => None,
        }
    }

    /// Ends the request in flight and sends the next.
    fn complete(&mut self) {
        self.outstanding = None;
        self.next();
    }

    fn learn(&mut self, topic_id: TopicId, topic: ByteString) {
        if let Some(old) = self.by_id.insert(topic_id.0, topic.clone()) {
            if old != topic {
                self.by_name.remove(&old);
            }
        }
        self.by_name.insert(topic.clone(), topic_id);
        self.events.push_back(Event::Registered { topic_id, topic });
    }

    fn on_gateway_message(&mut self, msg: shared::Message) {
        let now = self.now;
        if let Some(o) = self.outstanding.as_mut() {
            // The gateway is at work on it (delivering what it buffered, asking for the
            // will): the reply is coming, do not send the request again yet.
            let busy = matches!(o.request, Request::Wake)
                && matches!(
                    msg,
                    Message::Publish(_) | Message::Register(_) | Message::PubRel(_)
                )
                || matches!(o.request, Request::Connect)
                    && matches!(msg, Message::WillTopicReq | Message::WillMsgReq);
            if busy {
                o.sent_at = now;
            }
        }
        let pending = self.outstanding.as_ref().map(|o| o.request.clone());
        match (msg, pending) {
            // ---- connection (§6.2) ----
            (Message::WillTopicReq, _) if self.state == ClientState::Connecting => {
                let will = self.config.will.as_ref().map(|w| shared::WillTopic {
                    qos: w.qos,
                    retain: w.retain,
                    topic: w.topic.clone(),
                });
                self.reply(&Message::WillTopic(will));
            }
            (Message::WillMsgReq, _) if self.state == ClientState::Connecting => {
                let m = self
                    .config
                    .will
                    .as_ref()
                    .map(|w| w.message.clone())
                    .unwrap_or_default();
                self.reply(&Message::WillMsg(m.into()));
            }
            (Message::ConnAck(code), Some(Request::Connect)) => {
                self.outstanding = None;
                if code.is_accepted() {
                    self.state = ClientState::Active;
                    self.events.push_back(Event::Connected);
                    self.next();
                } else {
                    self.state = ClientState::Disconnected;
                    self.events.push_back(Event::ConnectRefused(code));
                }
            }
            // ---- registration (§6.5) ----
            (Message::RegAck(a), Some(Request::Register { topic, msg_id })) => {
                if a.msg_id != msg_id {
                    return;
                }
                self.outstanding = None;
                let name = ByteString::from(topic.as_str());
                if a.code.is_accepted() && !a.topic_id.is_reserved() {
                    self.learn(a.topic_id, name);
                } else {
                    // The PUBLISH that waited for this name cannot go.
                    if let Some(Request::Publish { msg, .. }) = self.queue.front() {
                        if let Some(msg_id) = msg.delivery.msg_id() {
                            self.events.push_back(Event::PublishComplete {
                                msg_id,
                                outcome: PublishOutcome::Rejected(a.code),
                            });
                        }
                        self.queue.pop_front();
                    }
                    self.events.push_back(Event::RegisterRefused {
                        topic: name,
                        code: a.code,
                    });
                }
                self.next();
            }
            (Message::Register(r), _) if self.is_connected() => {
                // §6.5: the gateway tells us a topic id before it publishes on it; never
                // 0x0000 or 0xFFFF ([SN-5.3.11]).
                let code = if r.topic_id.is_reserved() {
                    ReturnCode::InvalidTopicId
                } else {
                    self.learn(r.topic_id, ByteString::from(r.topic.as_str()));
                    ReturnCode::Accepted
                };
                self.reply(&Message::RegAck(crate::RegAck {
                    topic_id: r.topic_id,
                    msg_id: r.msg_id,
                    code,
                }));
            }
            // ---- our PUBLISH (§6.6) ----
            (
                Message::PubAck(a),
                Some(Request::Publish {
                    msg,
                    name,
                    reregistered,
                }),
            ) if a.msg_id == msg.delivery.msg_id() => {
                self.outstanding = None;
                let Some(msg_id) = msg.delivery.msg_id() else {
                    self.next();
                    return;
                };
                match a.code {
                    ReturnCode::Accepted => self.events.push_back(Event::PublishComplete {
                        msg_id,
                        outcome: PublishOutcome::Delivered,
                    }),
                    ReturnCode::InvalidTopicId if name.is_some() && !reregistered => {
                        // §6.6: register the topic again, then send again.
                        if let Some(n) = &name {
                            if let Some(id) = self.by_name.remove(n.as_str()) {
                                self.by_id.remove(&id.0);
                            }
                        }
                        self.queue.push_front(Request::Publish {
                            msg,
                            name,
                            reregistered: true,
                        });
                    }
                    code => self.events.push_back(Event::PublishComplete {
                        msg_id,
                        outcome: PublishOutcome::Rejected(code),
                    }),
                }
                self.next();
            }
            (Message::PubRec(id), Some(Request::Publish { msg, .. }))
                if Some(id) == msg.delivery.msg_id() =>
            {
                self.outstanding = None;
                self.begin(Request::PubRel { msg_id: id });
            }
            (Message::PubComp(id), Some(Request::PubRel { msg_id })) if id == msg_id => {
                self.events.push_back(Event::PublishComplete {
                    msg_id,
                    outcome: PublishOutcome::Delivered,
                });
                self.complete();
            }
            (Message::PubAck(a), _)
                if a.msg_id.is_none() && a.code == ReturnCode::InvalidTopicId =>
            {
                // A QoS 0 PUBLISH refused: its topic id is not known any more; the next
                // PUBLISH on the name registers it again.
                if let Some(name) = self.by_id.remove(&a.topic_id.0) {
                    self.by_name.remove(&name);
                }
            }
            // ---- subscriptions (§6.9, §6.10) ----
            (Message::SubAck(a), Some(Request::Subscribe { msg_id, topic, .. }))
                if a.msg_id == msg_id =>
            {
                if a.code.is_accepted() && !a.topic_id.is_reserved() {
                    if let TopicRef::Name(f) = &topic {
                        if !f.has_wildcards() {
                            self.learn(a.topic_id, ByteString::from(f.as_str()));
                        }
                    }
                }
                self.events.push_back(Event::SubAck {
                    msg_id,
                    qos: a.qos,
                    topic_id: a.topic_id,
                    code: a.code,
                });
                self.complete();
            }
            (Message::UnsubAck(id), Some(Request::Unsubscribe { msg_id, .. })) if id == msg_id => {
                self.events.push_back(Event::UnsubAck { msg_id });
                self.complete();
            }
            // ---- incoming PUBLISH (§6.7, §6.10) ----
            (Message::Publish(p), _) if self.is_connected() => self.on_publish(p),
            (Message::PubRel(id), _) if self.is_connected() => {
                // QoS 2, incoming: released; answered even when already released.
                self.incoming_qos2.release(id, self.now);
                self.reply(&Message::PubComp(id));
            }
            // ---- keep-alive and sleep (§6.11, §6.14) ----
            (Message::PingReq(_), _) if self.is_connected() => self.reply(&Message::PingResp),
            (Message::PingResp, Some(Request::Ping)) => self.complete(),
            (Message::PingResp, Some(Request::Wake)) => {
                // Everything buffered has come: back to sleep.
                self.outstanding = None;
                self.state = ClientState::Asleep;
                self.wake_at = Some(self.now + self.wake_after(self.sleep_duration));
                self.events.push_back(Event::Asleep);
            }
            (Message::Disconnect(_), Some(Request::Sleep { duration })) => {
                self.outstanding = None;
                self.state = ClientState::Asleep;
                self.sleep_duration = duration;
                // Wake in time: the gateway counts a client lost after the duration.
                self.wake_at = Some(self.now + self.wake_after(duration));
                self.events.push_back(Event::Asleep);
            }
            (Message::Disconnect(_), Some(Request::Disconnect)) => {
                self.outstanding = None;
                self.state = ClientState::Disconnected;
                self.events
                    .push_back(Event::Disconnected { by_gateway: false });
            }
            (Message::Disconnect(_), _) => {
                // §6.12: unasked, the gateway ended the connection; what was in flight or
                // waiting ends with it.
                self.abandon();
                self.state = ClientState::Disconnected;
                self.events
                    .push_back(Event::Disconnected { by_gateway: true });
            }
            // ---- will updates (§6.4) ----
            (Message::WillTopicResp(code), Some(Request::WillTopicUpd(_))) => {
                self.events.push_back(Event::WillTopicUpdated(code));
                self.complete();
            }
            (Message::WillMsgResp(code), Some(Request::WillMsgUpd(_))) => {
                self.events.push_back(Event::WillMessageUpdated(code));
                self.complete();
            }
            _ => {}
        }
    }

    /// How long to sleep before waking up: the duration less the time a wake-up may take
    /// with every retry (at most half the duration), so that the gateway, whose clock
    /// started a little earlier, hears from us before the duration ends.
    fn wake_after(&self, duration: u16) -> Duration {
        let d = Duration::from_secs(u64::from(duration));
        let margin = self.config.t_retry * (u32::from(self.config.n_retry) + 1);
        d.saturating_sub(margin.min(d / 2))
    }

    fn is_connected(&self) -> bool {
        matches!(
            self.state,
            ClientState::Active | ClientState::Awake | ClientState::Asleep
        )
    }

    fn on_publish(&mut self, p: shared::Publish) {
        let (topic, id_field) = match &p.topic {
            TopicRef::Registered(id) => (self.by_id.get(&id.0).cloned(), *id),
            TopicRef::Predefined(id) => (self.predefined.get(&id.0).cloned(), *id),
            TopicRef::Short(s) => (
                Some(ByteString::from(s.as_str())),
                TopicId(u16::from_be_bytes(s.octets())),
            ),
            TopicRef::Name(_) => (None, TopicId::NONE),
        };
        let Some(topic) = topic else {
            // §6.6 seen from the other side: an id we do not know is refused.
            self.reply(&Message::PubAck(PubAck {
                topic_id: id_field,
                msg_id: p.delivery.msg_id(),
                code: ReturnCode::InvalidTopicId,
            }));
            return;
        };
        let deliver = match p.delivery {
            Delivery::ExactlyOnce(id) => {
                let window = self.config.t_retry;
                let first = self.incoming_qos2.receive(id, self.now, window);
                self.reply(&Message::PubRec(id));
                first
            }
            Delivery::AtLeastOnce(id) => {
                self.reply(&Message::PubAck(PubAck {
                    topic_id: id_field,
                    msg_id: Some(id),
                    code: ReturnCode::Accepted,
                }));
                true
            }
            Delivery::AtMostOnce | Delivery::MinusOne => true,
        };
        if deliver {
            self.events.push_back(Event::Message {
                topic,
                payload: p.payload.into_inner(),
                qos: p.delivery.qos(),
                retain: p.retain,
            });
        }
    }
}

/// Why a command was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Not in a state that allows it.
    #[error("not possible while {0:?}")]
    WrongState(ClientState),
    /// The configured ClientId is not 1 to 23 characters of valid UTF-8 (§5.3.1).
    #[error("the ClientId must be 1 to 23 characters")]
    InvalidClientId,
    /// QoS −1 is only for `publish_minus_one`, on a predefined id or a short name (§6.8).
    #[error("QoS -1 goes through publish_minus_one, on a predefined id or a short name")]
    QosMinusOneNeedsNoConnection,
    /// A sleep of 0 seconds is a plain DISCONNECT.
    #[error("a sleep duration must be at least 1 s")]
    ZeroSleep,
    /// The message would not fit in an MQTT-SN message (65,535 octets).
    #[error("the message does not fit in an MQTT-SN message")]
    TooLarge,
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
