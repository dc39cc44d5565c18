//! The MQTT-SN gateway machine (MQTT-SN 1.2 §6, gateway side), aggregating: every MQTT-SN
//! client's traffic goes over one MQTT connection to the broker, driven by `mqtt-codec`'s
//! client machine, which this machine owns. Sans-IO: datagrams (with the address they came
//! from) and the broker connection's bytes in; datagrams (with where they go), the broker
//! connection's bytes, events and the next deadline out; time only as `now`.
//!
//! Per client (keyed by the caller's address, and the forwarder's node id for an
//! Encapsulated client, §5.5): the connection with the will dialogue (§6.2), a topic
//! registry plus the configured predefined topics (§6.5, §6.7), the QoS flows toward the
//! client one at a time, resent after `t_retry` up to `n_retry` times (§6.13), keep-alive
//! supervision (§6.11), and buffering while the client sleeps (§6.14), bounded by
//! `max_buffered` (past it: [`GatewayEvent::BufferFull`], the message is not buffered).
//!
//! Translation (§6.6 to §6.10): an MQTT-SN PUBLISH (registered, predefined or short topic;
//! QoS −1 as QoS 0) becomes an MQTT PUBLISH on its topic name; an MQTT-SN SUBSCRIBE an MQTT
//! SUBSCRIBE (once per filter, shared by the clients that ask for it), answered when the
//! broker answers; a message from the broker goes to every client whose subscription it
//! matches, after a REGISTER when the client does not know the topic's id yet (§6.5,
//! §6.10). Clients' QoS 1 and 2 PUBLISHes are acknowledged by the gateway on receipt (QoS 2
//! forwarded once, at PUBREC time).

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::num::NonZeroU16;
use core::time::Duration;

use bytes::{Bytes, BytesMut};
use mqtt_codec::broker::{Matches, RoundRobin, SubscriptionTable};
use mqtt_codec::session::{Client as MqttClient, Event as MqttEvent};
use mqtt_codec::{ByteString, Instant, PacketId};

use crate::client::{Destination, Transmit};
use crate::generic::{Message, TopicRef};
use crate::{shared, Advertise, Delivery, MsgId, PubAck, QoS, RegAck, ReturnCode, SubAck, TopicId};

/// The most topic names registered for one client.
const MAX_TOPICS: usize = 1024;
/// The most subscriptions of one client.
const MAX_FILTERS: usize = 64;
/// The most incoming QoS 2 messages of one client received and not released.
const MAX_OPEN_QOS2: usize = 256;

/// What a [`Gateway`] is configured with.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The gateway's id, in ADVERTISE and GWINFO.
    pub gw_id: u8,
    /// Seconds between ADVERTISE broadcasts (0: none).
    pub advertise_interval: u16,
    /// Topic ids every client knows in advance (§6.7).
    pub predefined: Vec<(TopicId, String)>,
    /// How long to wait for a client's reply before sending again (T_retry).
    pub t_retry: Duration,
    /// How many times to send again before the client counts as lost (N_retry).
    pub n_retry: u8,
    /// The most messages kept for one sleeping client.
    pub max_buffered: usize,
    /// The radius of broadcasts (ADVERTISE, GWINFO).
    pub radius: u8,
    /// The most client sessions kept; a CONNECT from a new client beyond it is refused
    /// with `Congestion`.
    pub max_sessions: usize,
    /// How long a session without CleanSession is kept after its client disconnected or
    /// was lost.
    pub session_expiry: Duration,
}

impl GatewayConfig {
    /// Gateway `gw_id`, ADVERTISE every 15 minutes, T_retry 10 s, N_retry 5, 100 messages
    /// per sleeping client.
    pub fn new(gw_id: u8) -> Self {
        GatewayConfig {
            gw_id,
            advertise_interval: 900,
            predefined: Vec::new(),
            t_retry: Duration::from_secs(10),
            n_retry: 5,
            max_buffered: 100,
            radius: 1,
            max_sessions: 10_000,
            session_expiry: Duration::from_secs(3600),
        }
    }
}

/// A client as the gateway knows it: its address, and the node id a forwarder gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Peer<A> {
    /// Where its datagrams come from (the forwarder's, for an encapsulated client).
    pub addr: A,
    /// The Wireless Node Id of an Encapsulated client (§5.5).
    pub node: Option<Box<[u8]>>,
}

/// What the gateway tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent<A> {
    /// A client connected.
    Connected {
        /// Who.
        peer: Peer<A>,
        /// Its ClientId.
        client_id: ByteString,
    },
    /// A client disconnected, or went to sleep (`asleep`).
    Disconnected {
        /// Who.
        peer: Peer<A>,
        /// Whether it went to sleep.
        asleep: bool,
    },
    /// A client stopped answering or missed its keep-alive; its will was published.
    ClientLost {
        /// Who.
        peer: Peer<A>,
    },
    /// A message for a client did not fit its buffer (`max_buffered`: what waits while it
    /// sleeps, or behind the flow in progress) and was not kept.
    BufferFull {
        /// Who.
        peer: Peer<A>,
        /// The topic of the message not kept.
        topic: ByteString,
    },
    /// A message for a client could not be delivered: the client refused to register its
    /// topic.
    Undeliverable {
        /// Who.
        peer: Peer<A>,
        /// The topic.
        topic: ByteString,
    },
    /// The broker connection did not take a client's PUBLISH (its limits); the client was
    /// answered with a rejection.
    PublishRefused {
        /// Who.
        peer: Peer<A>,
        /// The topic.
        topic: ByteString,
    },
    /// The broker connection is up.
    BrokerConnected,
    /// The broker connection closed.
    BrokerClosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// CONNECT received with Will=1: WILLTOPICREQ sent.
    AwaitWillTopic,
    /// WILLTOPIC received: WILLMSGREQ sent.
    AwaitWillMsg,
    Active,
    Asleep,
    Awake,
}

/// A message on its way to a client.
#[derive(Debug, Clone)]
struct Outbound {
    topic: ByteString,
    payload: Bytes,
    qos: QoS,
    retain: bool,
}

/// What the gateway waits for from a client.
#[derive(Debug, Clone)]
enum Request {
    Register {
        topic_id: TopicId,
        msg_id: MsgId,
        topic: ByteString,
    },
    Publish {
        msg: shared::Publish,
    },
    PubRel {
        msg_id: MsgId,
    },
    WillTopicReq,
    WillMsgReq,
}

/// One client's session. What most sleeping or idle clients do not use (a will, topic
/// registrations, flows, buffered messages) lives in [`Extra`], allocated when first
/// needed and given back when empty again: a session reads and writes those fields
/// through `Deref`, and [`Session::trim`] frees them.
#[derive(Debug, Clone)]
struct Session {
    client_id: Box<str>,
    last_heard: Instant,
    /// Filters this client subscribed to, with the QoS granted (for the shared MQTT
    /// subscriptions, and to move them with a session that changes address).
    filters: Box<[(ByteString, QoS)]>,
    more: Option<Box<Extra>>,
    keep_alive: u16,
    sleep_duration: u16,
    next_topic_id: u16,
    next_msg_id: u16,
    state: State,
    clean: bool,
    /// Disconnected or lost, kept (no CleanSession) until `session_expiry`.
    ended: bool,
    /// CONNACK sent and nothing heard since: a CONNECT now is the same one again (its
    /// CONNACK was lost, or the datagram came twice), not a new connection.
    just_connected: bool,
    /// The Will flag of the CONNECT that opened the session.
    connect_will: bool,
}

/// The parts of a session that are often empty.
#[derive(Debug, Clone)]
struct Extra {
    will_topic: Option<shared::WillTopic>,
    will_msg: Bytes,
    by_id: BTreeMap<u16, ByteString>,
    by_name: BTreeMap<ByteString, TopicId>,
    outstanding: Option<(Request, Instant, u8)>,
    /// A resumed session's PUBREL, set aside during the will dialogue.
    parked: Option<(Request, Instant, u8)>,
    queue: VecDeque<Outbound>,
    incoming_qos2: crate::qos2::Qos2Ids,
    /// Awake: how many of the buffered messages are still to go before PINGRESP.
    awake_left: usize,
}

impl Extra {
    const EMPTY: Extra = Extra {
        will_topic: None,
        will_msg: Bytes::new(),
        by_id: BTreeMap::new(),
        by_name: BTreeMap::new(),
        outstanding: None,
        parked: None,
        queue: VecDeque::new(),
        incoming_qos2: crate::qos2::Qos2Ids::new(),
        awake_left: 0,
    };

    fn is_empty(&self) -> bool {
        self.will_topic.is_none()
            && self.will_msg.is_empty()
            && self.by_id.is_empty()
            && self.by_name.is_empty()
            && self.outstanding.is_none()
            && self.parked.is_none()
            && self.queue.is_empty()
            && self.incoming_qos2.is_empty()
    }
}

/// What reads of an empty session see.
static NO_EXTRA: Extra = Extra::EMPTY;

impl core::ops::Deref for Session {
    type Target = Extra;
    fn deref(&self) -> &Extra {
        self.more.as_deref().unwrap_or(&NO_EXTRA)
    }
}

impl core::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Extra {
        self.more.get_or_insert_with(|| Box::new(Extra::EMPTY))
    }
}

impl Session {
    fn new(client_id: &str, keep_alive: u16, clean: bool, now: Instant) -> Self {
        Session {
            client_id: Box::from(client_id),
            last_heard: now,
            filters: Box::default(),
            more: None,
            keep_alive,
            sleep_duration: 0,
            next_topic_id: 0,
            next_msg_id: 0,
            state: State::Active,
            clean,
            ended: false,
            just_connected: false,
            connect_will: false,
        }
    }

    fn remove_filter(&mut self, filter: &ByteString) {
        if self.filters.iter().any(|f| f.0 == *filter) {
            let mut v = core::mem::take(&mut self.filters).into_vec();
            v.retain(|f| f.0 != *filter);
            self.filters = v.into_boxed_slice();
        }
    }

    /// Gives back the extra parts once they hold nothing.
    fn trim(&mut self) {
        if self.more.as_deref().is_some_and(Extra::is_empty) {
            self.more = None;
        }
    }

    fn msg_id(&mut self) -> MsgId {
        let n = self.next_msg_id.checked_add(1).and_then(NonZeroU16::new);
        let id = n.unwrap_or(NonZeroU16::MIN);
        self.next_msg_id = id.get();
        MsgId::from(id)
    }

    /// A new topic id for this client (never 0x0000 or 0xFFFF, [SN-5.3.11]) that no
    /// predefined topic uses.
    fn topic_id(&mut self, predefined: &BTreeMap<u16, ByteString>) -> Option<TopicId> {
        if self.by_id.len() >= MAX_TOPICS {
            return None;
        }
        for _ in 0..u16::MAX {
            self.next_topic_id = self.next_topic_id.wrapping_add(1);
            let n = self.next_topic_id;
            if n != 0 && n != 0xFFFF && !self.by_id.contains_key(&n) && !predefined.contains_key(&n)
            {
                return Some(TopicId(n));
            }
        }
        None
    }

    /// When the client counts as lost: one and a half keep-alives of silence, or the sleep
    /// duration (and half again) without a wake-up; for an ended session, when it expires.
    fn deadline(&self, expiry: Duration) -> Option<Instant> {
        if self.ended {
            return Some(self.last_heard + expiry);
        }
        let secs = match self.state {
            State::Asleep => self.sleep_duration,
            _ => self.keep_alive,
        };
        (secs > 0).then(|| self.last_heard + Duration::from_millis(u64::from(secs) * 1500))
    }
}

/// The MQTT-SN gateway machine, with the MQTT client machine of its broker connection.
#[derive(Debug)]
pub struct Gateway<A: Ord> {
    config: GatewayConfig,
    now: Instant,
    mqtt: MqttClient,
    sessions: BTreeMap<Peer<A>, Box<Session>>,
    predefined: BTreeMap<u16, ByteString>,
    predefined_by_name: BTreeMap<ByteString, TopicId>,
    table: SubscriptionTable<Peer<A>>,
    matches: Matches<Peer<A>>,
    policy: RoundRobin,
    /// MQTT subscriptions and how many clients hold each.
    mqtt_filters: BTreeMap<ByteString, usize>,
    /// SN SUBSCRIBEs waiting for the broker's SUBACK: MQTT packet id, client, SN MsgId,
    /// requested QoS, topic id to return, filter.
    pending_subs: Vec<(PacketId, Peer<A>, MsgId, QoS, TopicId, ByteString)>,
    next_advertise: Option<Instant>,
    tx: VecDeque<Transmit<A>>,
    events: VecDeque<GatewayEvent<A>>,
    buf: BytesMut,
}

impl<A: Clone + Ord> Gateway<A> {
    /// A gateway with `config` whose broker connection is `mqtt` (not connected yet:
    /// [`Gateway::connect_broker`]).
    pub fn new(config: GatewayConfig, mqtt: MqttClient) -> Self {
        let predefined: BTreeMap<u16, ByteString> = config
            .predefined
            .iter()
            .map(|(id, n)| (id.0, ByteString::from(n.as_str())))
            .collect();
        let predefined_by_name = predefined
            .iter()
            .map(|(id, n)| (n.clone(), TopicId(*id)))
            .collect();
        Gateway {
            now: Instant::ZERO,
            mqtt,
            sessions: BTreeMap::new(),
            predefined,
            predefined_by_name,
            table: SubscriptionTable::new(),
            matches: Matches::new(),
            policy: RoundRobin::default(),
            mqtt_filters: BTreeMap::new(),
            pending_subs: Vec::new(),
            next_advertise: None,
            tx: VecDeque::new(),
            events: VecDeque::new(),
            buf: BytesMut::new(),
            config,
        }
    }

    // ---- getters ----

    /// How many clients have a session (connected, asleep or awake).
    pub fn clients(&self) -> usize {
        self.sessions.len()
    }

    /// The broker connection's machine.
    pub fn mqtt(&self) -> &MqttClient {
        &self.mqtt
    }

    /// How many messages wait for `peer` (buffered while asleep, or behind the one in
    /// flight).
    pub fn waiting(&self, peer: &Peer<A>) -> usize {
        self.sessions.get(peer).map_or(0, |s| s.queue.len())
    }

    // ---- outputs ----

    /// The next datagram for a client, or a broadcast.
    pub fn poll_transmit(&mut self) -> Option<Transmit<A>> {
        self.tx.pop_front()
    }

    /// The next bytes for the broker connection.
    pub fn poll_mqtt_transmit(&mut self) -> Option<Bytes> {
        self.mqtt.poll_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<GatewayEvent<A>> {
        self.events.pop_front()
    }

    /// When [`Gateway::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sessions = self
            .sessions
            .values()
            .filter_map(|s| {
                let retry = s.outstanding.as_ref().map(|o| o.1 + self.config.t_retry);
                // No resending to a client asleep or gone: its flow waits for it.
                let retry = retry.filter(|_| s.state != State::Asleep);
                [retry, s.deadline(self.config.session_expiry)]
                    .into_iter()
                    .flatten()
                    .min()
            })
            .min();
        [sessions, self.next_advertise, self.mqtt.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- commands ----

    /// Opens the broker connection (its CONNECT goes out through
    /// [`Gateway::poll_mqtt_transmit`]) and starts advertising.
    pub fn connect_broker(
        &mut self,
        now: Instant,
    ) -> Result<(), mqtt_codec::session::CommandError> {
        self.tick(now);
        if self.config.advertise_interval > 0 {
            self.next_advertise = Some(now);
        }
        self.mqtt.connect(now)
    }

    /// The broker connection was replaced by a new one: reconnect on it.
    pub fn reconnect_broker(
        &mut self,
        now: Instant,
    ) -> Result<(), mqtt_codec::session::CommandError> {
        self.tick(now);
        self.mqtt.reconnect(now)
    }

    // ---- inputs ----

    /// Bytes from the broker connection.
    pub fn handle_mqtt_bytes(&mut self, now: Instant, data: &[u8]) {
        self.tick(now);
        self.mqtt.handle_bytes(now, data);
        self.mqtt_events();
    }

    /// The broker connection is gone.
    pub fn handle_mqtt_link_lost(&mut self, now: Instant) {
        self.tick(now);
        self.mqtt.handle_link_lost(now);
        self.mqtt_events();
    }

    /// A datagram from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: A, data: &[u8]) {
        self.handle_bytes(now, from, Bytes::copy_from_slice(data));
    }

    /// A datagram from `from`, held in `Bytes` (messages share it, without a copy).
    pub fn handle_bytes(&mut self, now: Instant, from: A, data: Bytes) {
        self.tick(now);
        let Ok(msg) = crate::Decoder::default().decode_bytes(&data) else {
            return;
        };
        match msg {
            Message::Encapsulated(e) => {
                let peer = Peer {
                    addr: from,
                    node: Some(Box::from(e.node_id.as_bytes())),
                };
                let inner = *e.message;
                self.on_client_message(peer, inner);
            }
            Message::SearchGw(_) => {
                // §6.1: a gateway answers SEARCHGW.
                let radius = self.config.radius;
                let gw = Message::GwInfo(shared::GwInfo {
                    gw_id: self.config.gw_id,
                    gw_add: Bytes::new().into(),
                });
                self.send_to(Destination::Broadcast { radius }, None, &gw);
            }
            other => self.on_client_message(
                Peer {
                    addr: from,
                    node: None,
                },
                other,
            ),
        }
    }

    /// Acts on the deadlines that have passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.next_advertise.is_some_and(|t| now >= t) {
            // §6.1: ADVERTISE, with the interval to the next one.
            let interval = self.config.advertise_interval;
            let radius = self.config.radius;
            let adv = Message::Advertise(Advertise {
                gw_id: self.config.gw_id,
                duration: interval,
            });
            self.send_to(Destination::Broadcast { radius }, None, &adv);
            self.next_advertise = Some(now + Duration::from_secs(u64::from(interval)));
        }
        self.mqtt.handle_timeout(now);
        self.mqtt_events();
        let peers: Vec<Peer<A>> = self.sessions.keys().cloned().collect();
        for peer in peers {
            let Some(s) = self.sessions.get(&peer) else {
                continue;
            };
            if s.deadline(self.config.session_expiry)
                .is_some_and(|t| now >= t)
            {
                if s.ended {
                    // Kept long enough for a client that did not come back.
                    self.drop_session(&peer);
                } else {
                    // §6.11, §6.14: silent past its keep-alive or sleep duration.
                    self.lose(&peer);
                }
                continue;
            }
            let due = s
                .outstanding
                .as_ref()
                .filter(|_| s.state != State::Asleep)
                .filter(|o| now >= o.1 + self.config.t_retry)
                .map(|o| o.2);
            match due {
                Some(n) if n >= self.config.n_retry => self.lose(&peer),
                Some(_) => self.resend(&peer),
                None => {}
            }
            self.trim(&peer);
        }
    }

    // ---- internals ----

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    fn send_to(&mut self, to: Destination<A>, node: Option<&[u8]>, msg: &shared::Message) {
        self.buf.clear();
        let encoded = match node {
            Some(n) => Message::Encapsulated(shared::Encapsulated {
                ctrl: crate::Ctrl(0),
                node_id: Bytes::copy_from_slice(n).into(),
                message: alloc::boxed::Box::new(msg.clone()),
            })
            .encode(&mut self.buf),
            None => msg.encode(&mut self.buf),
        };
        if encoded.is_err() {
            return;
        }
        let data = self.buf.split().freeze();
        self.tx.push_back(Transmit { to, data });
    }

    fn send(&mut self, peer: &Peer<A>, msg: &shared::Message) {
        let node = peer.node.clone();
        self.send_to(Destination::To(peer.addr.clone()), node.as_deref(), msg);
    }

    fn on_client_message(&mut self, peer: Peer<A>, msg: shared::Message) {
        self.client_message(peer.clone(), msg);
        self.trim(&peer);
    }

    /// Gives back what a session does not use any more (see [`Extra`]).
    fn trim(&mut self, peer: &Peer<A>) {
        let (now, window) = (self.now, self.config.t_retry);
        if let Some(s) = self.sessions.get_mut(peer) {
            if let Some(m) = s.more.as_deref_mut() {
                m.incoming_qos2.prune(now, window);
            }
            s.trim();
        }
    }

    fn client_message(&mut self, peer: Peer<A>, msg: shared::Message) {
        if let Message::Connect(c) = &msg {
            self.on_connect(peer, c);
            return;
        }
        if let Message::Publish(p) = &msg {
            if p.delivery == Delivery::MinusOne {
                // §6.8: QoS −1 needs no connection.
                if let Some(topic) = self.resolve(None, &p.topic) {
                    self.forward(
                        topic,
                        p.payload.clone().into_inner(),
                        QoS::AtMostOnce,
                        p.retain,
                    );
                }
                return;
            }
        }
        let now = self.now;
        let Some(s) = self.sessions.get_mut(&peer).filter(|s| !s.ended) else {
            // Not connected: a DISCONNECT tells it so, and answers a DISCONNECT whose first
            // answer was lost (§6.12). Discovery traffic of other nodes is not ours.
            if !matches!(
                msg,
                Message::Advertise(_) | Message::GwInfo(_) | Message::SearchGw(_)
            ) {
                self.send(&peer, &Message::Disconnect(None));
            }
            return;
        };
        s.last_heard = now;
        s.just_connected = false;
        let state = s.state;
        let pending = s.outstanding.as_ref().map(|o| o.0.clone());
        match (msg, pending) {
            // ---- the will dialogue (§6.2) ----
            (Message::WillTopic(w), Some(Request::WillTopicReq))
                if state == State::AwaitWillTopic =>
            {
                s.will_topic = w;
                s.state = State::AwaitWillMsg;
                s.outstanding = Some((Request::WillMsgReq, now, 0));
                self.send(&peer, &Message::WillMsgReq);
            }
            (Message::WillMsg(m), Some(Request::WillMsgReq)) if state == State::AwaitWillMsg => {
                s.will_msg = m.into_inner();
                s.state = State::Active;
                s.outstanding = s.parked.take();
                s.just_connected = true;
                let client_id = ByteString::from(&*s.client_id);
                self.send(&peer, &Message::ConnAck(ReturnCode::Accepted));
                self.events.push_back(GatewayEvent::Connected {
                    peer: peer.clone(),
                    client_id,
                });
                self.resume(&peer);
            }
            (_, _) if matches!(state, State::AwaitWillTopic | State::AwaitWillMsg) => {}
            // ---- will updates (§6.4) ----
            (Message::WillTopicUpd(w), _) => {
                s.will_topic = w;
                self.send(&peer, &Message::WillTopicResp(ReturnCode::Accepted));
            }
            (Message::WillMsgUpd(m), _) => {
                s.will_msg = m.into_inner();
                self.send(&peer, &Message::WillMsgResp(ReturnCode::Accepted));
            }
            // ---- registration (§6.5) ----
            (Message::Register(r), _) => {
                let name = ByteString::from(r.topic.as_str());
                let (topic_id, code) = match s.by_name.get(&name) {
                    Some(id) => (*id, ReturnCode::Accepted),
                    None => match s.topic_id(&self.predefined) {
                        Some(id) => {
                            s.by_id.insert(id.0, name.clone());
                            s.by_name.insert(name, id);
                            (id, ReturnCode::Accepted)
                        }
                        None => (TopicId::NONE, ReturnCode::Congestion),
                    },
                };
                self.send(
                    &peer,
                    &Message::RegAck(RegAck {
                        topic_id,
                        msg_id: r.msg_id,
                        code,
                    }),
                );
            }
            (
                Message::RegAck(a),
                Some(Request::Register {
                    msg_id,
                    topic_id,
                    topic,
                }),
            ) if a.msg_id == msg_id => {
                s.outstanding = None;
                if !a.code.is_accepted() {
                    // §6.5: refused: the id is not the client's, and the message that
                    // waited for it cannot go.
                    s.by_id.remove(&topic_id.0);
                    s.by_name.remove(&topic);
                    if s.queue.front().is_some_and(|o| o.topic == topic) {
                        s.queue.pop_front();
                        if s.state == State::Awake {
                            s.awake_left = s.awake_left.saturating_sub(1);
                        }
                    }
                    self.events.push_back(GatewayEvent::Undeliverable {
                        peer: peer.clone(),
                        topic,
                    });
                }
                self.pump(&peer);
            }
            // ---- PUBLISH from the client (§6.6) ----
            (Message::Publish(p), _) => self.on_publish(&peer, p),
            (Message::PubRel(id), _) => {
                s.incoming_qos2.release(id, now);
                self.send(&peer, &Message::PubComp(id));
            }
            // ---- our PUBLISH to the client ----
            (Message::PubAck(a), Some(Request::Publish { msg }))
                if a.msg_id == msg.delivery.msg_id() =>
            {
                s.outstanding = None;
                if a.code == ReturnCode::InvalidTopicId {
                    // The client does not know the id (a new connection, say): register
                    // the topic again and send the message again (§6.5).
                    if let TopicRef::Registered(id) = msg.topic {
                        if let Some(n) = s.by_id.remove(&id.0) {
                            s.by_name.remove(&n);
                            s.queue.push_front(Outbound {
                                topic: n,
                                payload: msg.payload.into_inner(),
                                qos: msg.delivery.qos(),
                                retain: msg.retain,
                            });
                            if s.state == State::Awake {
                                s.awake_left += 1;
                            }
                        }
                    }
                }
                self.pump(&peer);
            }
            (Message::PubRec(id), Some(Request::Publish { msg }))
                if Some(id) == msg.delivery.msg_id() =>
            {
                s.outstanding = Some((Request::PubRel { msg_id: id }, now, 0));
                self.send(&peer, &Message::PubRel(id));
            }
            (Message::PubComp(id), Some(Request::PubRel { msg_id })) if id == msg_id => {
                s.outstanding = None;
                self.pump(&peer);
            }
            (Message::PubAck(a), _)
                if a.msg_id.is_none() && a.code == ReturnCode::InvalidTopicId =>
            {
                // A QoS 0 PUBLISH on an id the client does not know: the next one on the
                // topic registers it again.
                if let Some(n) = s.by_id.remove(&a.topic_id.0) {
                    s.by_name.remove(&n);
                }
            }
            // ---- subscriptions (§6.9, §6.10) ----
            (Message::Subscribe(sub), _) => self.on_subscribe(&peer, sub),
            (Message::Unsubscribe(u), _) => self.on_unsubscribe(&peer, u),
            // ---- keep-alive, sleep, disconnect (§6.11, §6.12, §6.14) ----
            (Message::PingReq(Some(_)), _) if state == State::Asleep => {
                // Awake to collect what was buffered (what was in flight first); PINGRESP
                // once that is all out. What comes meanwhile waits for the next wake-up.
                s.state = State::Awake;
                s.awake_left = s.queue.len();
                self.resume(&peer);
            }
            (Message::PingReq(Some(_)), _) if state == State::Awake => {
                // The same wake-up again: its PINGRESP comes once the buffer is out.
            }
            (Message::PingReq(_), _) => self.send(&peer, &Message::PingResp),
            (Message::Disconnect(Some(duration)), _) if duration > 0 => {
                s.state = State::Asleep;
                s.sleep_duration = duration;
                self.send(&peer, &Message::Disconnect(None));
                self.events
                    .push_back(GatewayEvent::Disconnected { peer, asleep: true });
            }
            (Message::Disconnect(_), _) => {
                self.send(&peer, &Message::Disconnect(None));
                self.end(&peer);
                self.events.push_back(GatewayEvent::Disconnected {
                    peer,
                    asleep: false,
                });
            }
            _ => {}
        }
    }

    fn on_connect(&mut self, peer: Peer<A>, c: &shared::Connect) {
        let now = self.now;
        let client_id = ByteString::from(c.client_id.as_str());
        if let Some(s) = self.sessions.get_mut(&peer) {
            let recent = now.saturating_duration_since(s.last_heard)
                <= self.config.t_retry * (u32::from(self.config.n_retry) + 1);
            if s.just_connected
                && recent
                && *s.client_id == *client_id
                && !s.ended
                && s.clean == c.clean_session
                && s.keep_alive == c.duration
                && s.connect_will == c.will
            {
                // The CONNECT again before anything else (§6.13's retransmission, or a
                // duplicated datagram): the same answer, the session untouched.
                s.last_heard = now;
                self.send(&peer, &Message::ConnAck(ReturnCode::Accepted));
                return;
            }
        }
        // Another client's session at this address ends: this CONNECT is not its.
        if self
            .sessions
            .get(&peer)
            .is_some_and(|s| *s.client_id != *client_id)
        {
            self.drop_session(&peer);
        }
        // A client identifier now at another address takes its session along.
        let old_peer = self
            .sessions
            .iter()
            .find(|(p, s)| *s.client_id == *client_id && **p != peer)
            .map(|(p, _)| p.clone());
        let mut old = match old_peer {
            Some(p) => {
                let s = self.sessions.remove(&p);
                if let Some(s) = &s {
                    for (f, _) in &s.filters {
                        self.table.unsubscribe(&p, f);
                    }
                }
                s.map(|s| (s, Some(p)))
            }
            None => self.sessions.remove(&peer).map(|s| (s, None)),
        };
        if old.is_none() && self.sessions.len() >= self.config.max_sessions {
            // Full: refused, to come back later.
            self.send(&peer, &Message::ConnAck(ReturnCode::Congestion));
            return;
        }
        let mut s = Session::new(&client_id, c.duration, c.clean_session, now);
        s.connect_will = c.will;
        if let Some((o, moved_from)) = old.take() {
            if c.clean_session {
                // §6.3: a clean session drops the subscriptions and the will.
                let from = moved_from.unwrap_or_else(|| peer.clone());
                for (f, _) in &o.filters {
                    self.table.unsubscribe(&from, f);
                    self.release_filter(f);
                }
            } else {
                // §6.3: subscriptions stay; the will stays unless a new one is given.
                if moved_from.is_some() {
                    // Taken out of the table with the old address above; in again here.
                    for (f, q) in &o.filters {
                        let opts = mqtt_codec::SubscriptionOptions::qos(q.to_mqtt());
                        self.table.subscribe(peer.clone(), f, opts, None);
                    }
                }
                let mut o = o;
                s.filters = core::mem::take(&mut o.filters);
                s.next_msg_id = o.next_msg_id;
                let mut extra = o.more.take().map(|b| *b).unwrap_or(Extra::EMPTY);
                s.will_topic = extra.will_topic.take();
                s.will_msg = core::mem::take(&mut extra.will_msg);
                s.queue = core::mem::take(&mut extra.queue);
                // The flow that was in progress goes on: a PUBLISH goes again (registered
                // again first: registrations are the connection's, §6.5), a PUBREL as it is.
                let mut o = extra;
                if matches!(
                    o.outstanding,
                    Some((Request::WillTopicReq | Request::WillMsgReq, _, _))
                ) {
                    // Its will dialogue was cut short: the flow it had set aside goes on.
                    o.outstanding = o.parked.take();
                }
                match o.outstanding {
                    Some((Request::Publish { msg }, _, _)) => {
                        let name = match &msg.topic {
                            TopicRef::Registered(id) => o.by_id.get(&id.0).cloned(),
                            other => self.resolve(None, other),
                        };
                        if let Some(topic) = name {
                            s.queue.push_front(Outbound {
                                topic,
                                payload: msg.payload.into_inner(),
                                qos: msg.delivery.qos(),
                                retain: msg.retain,
                            });
                        }
                    }
                    Some((r @ Request::PubRel { .. }, _, _)) => s.outstanding = Some((r, now, 0)),
                    _ => {}
                }
            }
        }
        if c.will {
            // §6.2: the will dialogue before CONNACK.
            s.state = State::AwaitWillTopic;
            s.parked = s.outstanding.take();
            s.outstanding = Some((Request::WillTopicReq, now, 0));
            self.sessions.insert(peer.clone(), Box::new(s));
            self.send(&peer, &Message::WillTopicReq);
            return;
        }
        s.just_connected = true;
        self.sessions.insert(peer.clone(), Box::new(s));
        self.send(&peer, &Message::ConnAck(ReturnCode::Accepted));
        self.events.push_back(GatewayEvent::Connected {
            peer: peer.clone(),
            client_id,
        });
        self.resume(&peer);
    }

    /// A topic reference as a topic name: the client's registry, the predefined topics, or
    /// a short name as is.
    fn resolve(&self, peer: Option<&Peer<A>>, topic: &shared::TopicRef) -> Option<ByteString> {
        match topic {
            TopicRef::Registered(id) => peer
                .and_then(|p| self.sessions.get(p))
                .and_then(|s| s.by_id.get(&id.0).cloned()),
            TopicRef::Predefined(id) => self.predefined.get(&id.0).cloned(),
            TopicRef::Short(s) => Some(ByteString::from(s.as_str())),
            TopicRef::Name(_) => None,
        }
    }

    fn on_publish(&mut self, peer: &Peer<A>, p: shared::Publish) {
        let topic_field = match &p.topic {
            TopicRef::Registered(id) | TopicRef::Predefined(id) => *id,
            TopicRef::Short(s) => TopicId(u16::from_be_bytes(s.octets())),
            TopicRef::Name(_) => TopicId::NONE,
        };
        let Some(topic) = self.resolve(Some(peer), &p.topic) else {
            // §6.6: an unknown topic id is refused; the client registers again.
            self.send(
                peer,
                &Message::PubAck(PubAck {
                    topic_id: topic_field,
                    msg_id: p.delivery.msg_id(),
                    code: ReturnCode::InvalidTopicId,
                }),
            );
            return;
        };
        let payload = p.payload.into_inner();
        let refused = |code| {
            Message::PubAck(PubAck {
                topic_id: topic_field,
                msg_id: p.delivery.msg_id(),
                code,
            })
        };
        let taken = match p.delivery {
            Delivery::AtMostOnce | Delivery::MinusOne => {
                self.forward(topic.clone(), payload, QoS::AtMostOnce, p.retain)
            }
            Delivery::AtLeastOnce(id) => {
                let taken = self.forward(topic.clone(), payload, QoS::AtLeastOnce, p.retain);
                if taken {
                    self.send(
                        peer,
                        &Message::PubAck(PubAck {
                            topic_id: topic_field,
                            msg_id: Some(id),
                            code: ReturnCode::Accepted,
                        }),
                    );
                }
                taken
            }
            Delivery::ExactlyOnce(id) => {
                let (now, window) = (self.now, self.config.t_retry);
                let seen = self
                    .sessions
                    .get_mut(peer)
                    .is_some_and(|s| !s.incoming_qos2.is_new(id, now, window));
                let room = self
                    .sessions
                    .get(peer)
                    .is_some_and(|s| s.incoming_qos2.open_count() < MAX_OPEN_QOS2);
                let taken = seen
                    || (room && self.forward(topic.clone(), payload, QoS::ExactlyOnce, p.retain));
                if taken {
                    if let Some(s) = self.sessions.get_mut(peer) {
                        s.incoming_qos2.open(id);
                    }
                    self.send(peer, &Message::PubRec(id));
                }
                taken
            }
        };
        if !taken {
            // The broker connection does not take it (down, or its limits): refused, so
            // that the client knows (§6.6).
            self.send(peer, &refused(ReturnCode::Congestion));
            self.events.push_back(GatewayEvent::PublishRefused {
                peer: peer.clone(),
                topic,
            });
        }
    }

    /// Publishes to the broker.
    /// Whether the broker connection took it.
    fn forward(&mut self, topic: ByteString, payload: Bytes, qos: QoS, retain: bool) -> bool {
        let Ok(name) = shared::TopicName::new(topic.clone()) else {
            return false;
        };
        let mut m = mqtt_codec::shared::Publish::new(name, payload);
        m.retain = retain;
        self.mqtt.publish(m, qos.to_mqtt()).is_ok()
    }

    fn on_subscribe(&mut self, peer: &Peer<A>, sub: shared::Subscribe) {
        let (filter, topic_id) = match &sub.topic {
            TopicRef::Name(f) => {
                let name = ByteString::from(f.as_str());
                // A name without wildcards gets a topic id in SUBACK ([SN-5.4.16]).
                let id = if f.has_wildcards() {
                    TopicId::NONE
                } else {
                    self.topic_id_for(peer, &name).unwrap_or(TopicId::NONE)
                };
                (name, id)
            }
            other => match self.resolve(Some(peer), other) {
                Some(n) => (n, other.id_field().map_or(TopicId::NONE, TopicId)),
                None => {
                    self.send(
                        peer,
                        &Message::SubAck(SubAck {
                            qos: QoS::AtMostOnce,
                            topic_id: TopicId::NONE,
                            msg_id: sub.msg_id,
                            code: ReturnCode::InvalidTopicId,
                        }),
                    );
                    return;
                }
            },
        };
        let qos = match sub.qos {
            QoS::MinusOne => QoS::AtMostOnce,
            q => q,
        };
        let full = self.sessions.get(peer).is_some_and(|s| {
            s.filters.len() >= MAX_FILTERS && !s.filters.iter().any(|f| f.0 == filter)
        });
        if full {
            self.send(
                peer,
                &Message::SubAck(SubAck {
                    qos,
                    topic_id: TopicId::NONE,
                    msg_id: sub.msg_id,
                    code: ReturnCode::Congestion,
                }),
            );
            return;
        }
        let opts = mqtt_codec::SubscriptionOptions::qos(qos.to_mqtt());
        let again = self.table.subscribe(peer.clone(), &filter, opts, None);
        if let Some(s) = self.sessions.get_mut(peer) {
            match s.filters.iter_mut().find(|f| f.0 == filter) {
                Some(f) => f.1 = qos,
                None => {
                    let mut v = core::mem::take(&mut s.filters).into_vec();
                    v.push((filter.clone(), qos));
                    s.filters = v.into_boxed_slice();
                }
            }
        }
        let held = self.mqtt_filters.entry(filter.clone()).or_insert(0);
        if !again {
            *held += 1;
        }
        if again || *held > 1 {
            // The broker has it already.
            self.send(
                peer,
                &Message::SubAck(SubAck {
                    qos,
                    topic_id,
                    msg_id: sub.msg_id,
                    code: ReturnCode::Accepted,
                }),
            );
            return;
        }
        let sent = shared::TopicFilter::new(filter.clone()).ok().and_then(|f| {
            let s = mqtt_codec::shared::Subscription::new(f, mqtt_codec::QoS::ExactlyOnce);
            self.mqtt.subscribe(alloc::vec![s], Default::default()).ok()
        });
        match sent {
            Some(pid) => {
                self.pending_subs
                    .push((pid, peer.clone(), sub.msg_id, qos, topic_id, filter))
            }
            None => {
                self.release_filter(&filter);
                self.table.unsubscribe(peer, &filter);
                if let Some(s) = self.sessions.get_mut(peer) {
                    s.remove_filter(&filter);
                }
                self.send(
                    peer,
                    &Message::SubAck(SubAck {
                        qos,
                        topic_id: TopicId::NONE,
                        msg_id: sub.msg_id,
                        code: ReturnCode::Congestion,
                    }),
                );
            }
        }
    }

    fn on_unsubscribe(&mut self, peer: &Peer<A>, u: shared::Unsubscribe) {
        let filter = match &u.topic {
            TopicRef::Name(f) => Some(ByteString::from(f.as_str())),
            other => self.resolve(Some(peer), other),
        };
        if let Some(f) = filter {
            if self.table.unsubscribe(peer, &f) {
                if let Some(s) = self.sessions.get_mut(peer) {
                    s.remove_filter(&f);
                }
                self.release_filter(&f);
            }
        }
        self.send(peer, &Message::UnsubAck(u.msg_id));
    }

    /// One client less holds `filter`; the last one unsubscribes from the broker.
    fn release_filter(&mut self, filter: &ByteString) {
        let Some(n) = self.mqtt_filters.get_mut(filter) else {
            return;
        };
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.mqtt_filters.remove(filter);
            if let Ok(f) = shared::TopicFilter::new(filter.clone()) {
                let _ = self.mqtt.unsubscribe(alloc::vec![f], Default::default());
            }
        }
    }

    /// The topic id `peer` knows `name` by, registered for it now if needed (not sent: the
    /// SUBACK carries it).
    fn topic_id_for(&mut self, peer: &Peer<A>, name: &ByteString) -> Option<TopicId> {
        // A normal id even when the name is also predefined: the client takes a SUBACK's
        // id as a normal one.
        let s = self.sessions.get_mut(peer)?;
        if let Some(id) = s.by_name.get(name) {
            return Some(*id);
        }
        let id = s.topic_id(&self.predefined)?;
        s.by_id.insert(id.0, name.clone());
        s.by_name.insert(name.clone(), id);
        Some(id)
    }

    fn mqtt_events(&mut self) {
        while let Some(e) = self.mqtt.poll_event() {
            match e {
                MqttEvent::Connected(ack) => {
                    if !ack.session_present && !self.mqtt_filters.is_empty() {
                        // The broker does not have our session (a new one, or it lost it):
                        // the clients' subscriptions are asked for again.
                        let subs: Vec<mqtt_codec::shared::Subscription> = self
                            .mqtt_filters
                            .keys()
                            .filter_map(|f| shared::TopicFilter::new(f.clone()).ok())
                            .map(|f| {
                                mqtt_codec::shared::Subscription::new(
                                    f,
                                    mqtt_codec::QoS::ExactlyOnce,
                                )
                            })
                            .collect();
                        let _ = self.mqtt.subscribe(subs, Default::default());
                    }
                    self.events.push_back(GatewayEvent::BrokerConnected);
                }
                MqttEvent::Closed(_) => self.events.push_back(GatewayEvent::BrokerClosed),
                MqttEvent::SubAck(a) => {
                    let granted = a.reasons.iter().next().and_then(|r| r.granted_qos());
                    self.answer_subscribe(a.packet_id, granted);
                }
                MqttEvent::RequestLost { packet_id } => {
                    // The broker connection ended before its SUBACK: refused for now.
                    self.answer_subscribe(packet_id, None);
                }
                MqttEvent::Message(m) => self.deliver(m),
                _ => {}
            }
        }
    }

    /// Answers the client SUBSCRIBE behind the broker SUBSCRIBE `packet_id`: granted, or
    /// refused (the broker refused, or the connection ended first), and then undone, so
    /// that a later SUBSCRIBE asks the broker again.
    fn answer_subscribe(&mut self, packet_id: PacketId, granted: Option<mqtt_codec::QoS>) {
        let Some(i) = self.pending_subs.iter().position(|p| p.0 == packet_id) else {
            return;
        };
        let (_, peer, msg_id, qos, topic_id, filter) = self.pending_subs.remove(i);
        let reply = match granted {
            Some(g) => SubAck {
                qos: min_qos(qos, g),
                topic_id,
                msg_id,
                code: ReturnCode::Accepted,
            },
            None => {
                self.table.unsubscribe(&peer, &filter);
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.remove_filter(&filter);
                }
                // This client's hold on the filter goes; others who hold it keep theirs.
                if let Some(n) = self.mqtt_filters.get_mut(&filter) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.mqtt_filters.remove(&filter);
                    }
                }
                SubAck {
                    qos,
                    topic_id: TopicId::NONE,
                    msg_id,
                    code: ReturnCode::Congestion,
                }
            }
        };
        self.send(&peer, &Message::SubAck(reply));
    }

    /// A message from the broker, to every client whose subscription matches.
    fn deliver(&mut self, m: mqtt_codec::shared::Publish) {
        let topic = ByteString::from(m.topic.as_str());
        let payload = m.payload.clone().into_inner();
        let mut matches = core::mem::take(&mut self.matches);
        self.table
            .matches(m.topic.as_str(), None, &mut self.policy, &mut matches);
        for d in &matches.deliveries {
            let qos = sn_qos(m.qos().min(d.qos));
            let out = Outbound {
                topic: topic.clone(),
                payload: payload.clone(),
                qos,
                retain: m.retain && d.retain_as_published,
            };
            let max = self.config.max_buffered;
            let Some(s) = self.sessions.get_mut(&d.client) else {
                continue;
            };
            if s.queue.len() >= max {
                self.events.push_back(GatewayEvent::BufferFull {
                    peer: d.client.clone(),
                    topic: topic.clone(),
                });
                continue;
            }
            s.queue.push_back(out);
            let peer = d.client.clone();
            self.pump(&peer);
        }
        self.matches = matches;
    }

    /// Sends what waits for `peer` while it can take it: one QoS 1 or 2 flow (or REGISTER)
    /// at a time; nothing while it sleeps; once an awake client has everything, PINGRESP
    /// and back to sleep (§6.14).
    fn pump(&mut self, peer: &Peer<A>) {
        self.pump_inner(peer);
        self.trim(peer);
    }

    fn pump_inner(&mut self, peer: &Peer<A>) {
        loop {
            let now = self.now;
            let Some(s) = self.sessions.get_mut(peer) else {
                return;
            };
            if s.outstanding.is_some() || !matches!(s.state, State::Active | State::Awake) {
                return;
            }
            let awake_done = s.state == State::Awake && s.awake_left == 0;
            let next = if awake_done {
                None
            } else {
                s.queue.pop_front()
            };
            let Some(next) = next else {
                if s.state == State::Awake {
                    // §6.14: everything buffered is out: PINGRESP, and asleep again.
                    s.state = State::Asleep;
                    s.last_heard = now;
                    self.send(peer, &Message::PingResp);
                }
                return;
            };
            if s.state == State::Awake {
                s.awake_left -= 1;
            }
            // §6.10: only a topic id the client knows.
            let topic = if let Some(id) = self.predefined_by_name.get(&next.topic) {
                TopicRef::Predefined(*id)
            } else if let Some(short) = crate::ShortTopic::new(&next.topic)
                .ok()
                .filter(|_| next.topic.len() == 2)
            {
                TopicRef::Short(short)
            } else if let Some(id) = s.by_name.get(&next.topic) {
                TopicRef::Registered(*id)
            } else {
                // §6.5: REGISTER first; the message waits in front.
                let Some(id) = s.topic_id(&self.predefined) else {
                    // No topic id left for this client: the message cannot go.
                    self.events.push_back(GatewayEvent::Undeliverable {
                        peer: peer.clone(),
                        topic: next.topic,
                    });
                    continue;
                };
                let msg_id = s.msg_id();
                s.by_id.insert(id.0, next.topic.clone());
                s.by_name.insert(next.topic.clone(), id);
                let Ok(name) = shared::TopicName::new(next.topic.clone()) else {
                    continue;
                };
                s.queue.push_front(next.clone());
                if s.state == State::Awake {
                    // Taken off above; still to go.
                    s.awake_left += 1;
                }
                s.outstanding = Some((
                    Request::Register {
                        topic_id: id,
                        msg_id,
                        topic: next.topic.clone(),
                    },
                    now,
                    0,
                ));
                let reg = Message::Register(shared::Register {
                    topic_id: id,
                    msg_id,
                    topic: name,
                });
                self.send(peer, &reg);
                return;
            };
            let delivery = match next.qos {
                QoS::AtLeastOnce => Delivery::AtLeastOnce(s.msg_id()),
                QoS::ExactlyOnce => Delivery::ExactlyOnce(s.msg_id()),
                _ => Delivery::AtMostOnce,
            };
            let msg = shared::Publish {
                dup: false,
                retain: next.retain,
                delivery,
                topic,
                payload: next.payload.into(),
            };
            if delivery.msg_id().is_some() {
                s.outstanding = Some((Request::Publish { msg: msg.clone() }, now, 0));
            }
            self.send(peer, &Message::Publish(msg));
        }
    }

    fn resend(&mut self, peer: &Peer<A>) {
        let now = self.now;
        let Some(s) = self.sessions.get_mut(peer) else {
            return;
        };
        let Some((request, _, n)) = s.outstanding.take() else {
            return;
        };
        let msg = match &request {
            Request::Register {
                topic_id,
                msg_id,
                topic,
            } => {
                let Ok(name) = shared::TopicName::new(topic.clone()) else {
                    return;
                };
                Message::Register(shared::Register {
                    topic_id: *topic_id,
                    msg_id: *msg_id,
                    topic: name,
                })
            }
            Request::Publish { msg } => {
                let mut m = msg.clone();
                m.dup = true;
                Message::Publish(m)
            }
            Request::PubRel { msg_id } => Message::PubRel(*msg_id),
            Request::WillTopicReq => Message::WillTopicReq,
            Request::WillMsgReq => Message::WillMsgReq,
        };
        s.outstanding = Some((request, now, n.saturating_add(1)));
        self.send(peer, &msg);
    }

    /// The client is lost: its will goes to the broker (§6.2, [MQTT-3.1.2-8] by
    /// analogy), and its session ends when it was clean.
    fn lose(&mut self, peer: &Peer<A>) {
        let will = self.sessions.get(peer).and_then(|s| {
            s.will_topic.as_ref().map(|w| {
                (
                    ByteString::from(w.topic.as_str()),
                    s.will_msg.clone(),
                    w.qos,
                    w.retain,
                )
            })
        });
        if let Some((topic, msg, qos, retain)) = will {
            self.forward(topic, msg, qos, retain);
        }
        self.end(peer);
        self.events
            .push_back(GatewayEvent::ClientLost { peer: peer.clone() });
    }

    /// The connection is over: a clean session goes with its subscriptions; otherwise the
    /// subscriptions stay for the next CONNECT (§6.3), and so do the flow in progress and
    /// what matches them (within `max_buffered`, as for a sleeping client), until
    /// `session_expiry`.
    fn end(&mut self, peer: &Peer<A>) {
        let now = self.now;
        let Some(s) = self.sessions.get_mut(peer) else {
            return;
        };
        if s.clean {
            self.drop_session(peer);
            return;
        }
        s.ended = true;
        s.state = State::Asleep;
        s.last_heard = now;
    }

    /// The session goes, with its subscriptions.
    fn drop_session(&mut self, peer: &Peer<A>) {
        let Some(s) = self.sessions.remove(peer) else {
            return;
        };
        for (f, _) in &s.filters {
            self.table.unsubscribe(peer, f);
            self.release_filter(f);
        }
    }

    /// A client back (connected again, or awake): what was in flight goes again at once
    /// (PUBLISH with DUP), then the rest.
    fn resume(&mut self, peer: &Peer<A>) {
        if self
            .sessions
            .get(peer)
            .is_some_and(|s| s.outstanding.is_some())
        {
            self.resend(peer);
        } else {
            self.pump(peer);
        }
    }
}

fn sn_qos(q: mqtt_codec::QoS) -> QoS {
    match q {
        mqtt_codec::QoS::AtMostOnce => QoS::AtMostOnce,
        mqtt_codec::QoS::AtLeastOnce => QoS::AtLeastOnce,
        mqtt_codec::QoS::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn min_qos(a: QoS, granted: mqtt_codec::QoS) -> QoS {
    let g = sn_qos(granted);
    match (a, g) {
        (QoS::MinusOne, _) | (_, QoS::MinusOne) => QoS::AtMostOnce,
        (a, g) if a.bits() <= g.bits() => a,
        (_, g) => g,
    }
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
