//! What both sides of the nst C ABI share without linking each other: the plugin builds on it, and the host SDK
//! reads the same limits, so a range is written once.

pub mod abi;
pub mod limits;
pub mod sizing;
