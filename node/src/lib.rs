//! confer node: everything with I/O — the redb store, the libp2p network, the event loop
//! that drives the protocol's replica, the local HTTP API and the `confer` CLI.

pub mod api;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
mod event_loop;
mod evidence;
pub mod handle;
pub mod i18n;
mod i18n_input;
pub mod identity;
pub mod metrics;
pub mod net;
pub mod relay;
pub mod runtime;
pub mod store;
pub mod sync_file;
pub mod ui;
pub mod versions;
pub mod views;

pub use config::Config;
pub use handle::{NodeError, NodeHandle};
pub use runtime::{run, start, NodeFailure, RunningNode};
