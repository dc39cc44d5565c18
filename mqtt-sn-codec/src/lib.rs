//! MQTT-SN 1.2 codec (in progress).
//!
//! This crate is a placeholder in the workspace until the MQTT-SN codec lands; it builds as
//! `no_std` and exposes nothing yet.
#![no_std]
#![forbid(unsafe_code)]
