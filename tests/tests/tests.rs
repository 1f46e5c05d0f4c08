//! confer's multi-node integration tests: real nodes, real libp2p on loopback, one redb
//! file each. Fixtures live in the `confer_tests` library (`tests/src/lib.rs`).

mod adversarial;
mod backup;
mod browser;
mod hostile;
mod members;
mod membership;
mod metrics;
mod offline;
mod progress;
mod reach;
mod restart;
mod scenario;
mod support;
mod sync;
mod ui_http;
mod upgrade;
mod workflow;
