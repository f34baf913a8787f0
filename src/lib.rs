//! plumb: GitOps drift detection and environment parity for Kubernetes.
//!
//! Data flows one way (docs/architecture.md): `desired/` and `live/` read inputs into per-environment
//! [`model::Inventory`]s; `normalize/` takes out noise and fingerprints secrets; `compare/` pairs
//! objects and `diff/` finds field changes; `policy/` decides what each change means; `report/`
//! renders the result. Only the edges do I/O.

// Errors carry the paths, identities and messages a user needs to fix their input; they travel
// once, on the way out of a failed command, so their size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod cli;
pub mod compare;
pub mod config;
pub mod desired;
pub mod diagnostic;
pub mod diff;
pub mod exit;
pub mod input_file;
pub mod inventory;
pub mod limits;
pub mod live;
pub mod model;
pub mod names;
pub mod normalize;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod report;
pub mod schema;
pub mod scrub;
pub mod timestamp;
pub mod yaml;
