//! Integration tests of the sans-IO protocol crate, as one test binary.

mod chunk;
mod convergence;
mod encoding;
mod fuzz_corpus;
mod membership;
mod model;
mod outcome;
mod outcome_vector;
mod replica;
mod request_vector;
mod revocation;
mod sim;
mod space;
mod support;
mod sync_vector;
mod workflow;
