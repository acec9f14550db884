//! Archival: the sink contract on a local folder and on S3 (moto), the run's
//! invariants under injected faults, and the archive → restore round trip.

mod cli;
mod dynamo;
mod faults;
/// A sink and a store that fail chosen calls.
mod faulty;
mod roundtrip;
mod sink_contract;
mod support;
