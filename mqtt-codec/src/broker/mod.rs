//! Building blocks for a broker, sans-IO like the rest: what a server application needs
//! between its connection machines. They depend on topics and packets, not on the
//! machines.
//!
//! - [`SubscriptionTable`]: which clients a topic name goes to, with wildcards, the
//!   `$`-topic rule, shared groups, No Local, Retain As Published, Subscription Identifiers
//!   and the granted QoS.
//! - [`RetainedStore`]: the last retained message of each topic, for new subscriptions,
//!   with Retain Handling and Message Expiry.

mod retained;
mod subscriptions;

pub use retained::RetainedStore;
pub use subscriptions::{Delivery, Matches, RoundRobin, SharePolicy, SubscriptionTable};
