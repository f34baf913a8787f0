//! Live state: what the cluster runs. Read from a cluster over the Kubernetes API (`cluster`), or
//! from snapshot files and `kubectl get` Lists (`snapshot`).

pub mod cluster;
pub mod snapshot;
