//! confer node: everything with I/O — storage, networking, the local HTTP API and the CLI.

pub mod net;
pub mod store;
