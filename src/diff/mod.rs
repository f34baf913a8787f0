//! Structural diff over `serde_json::Value`, with key-based paths (docs/architecture.md, comparison).

pub mod keys;
pub mod path;
pub mod sequence;
pub mod tree;

pub use path::{Path, PathError, Segment};
pub use tree::{Change, ChangeOp, diff};
