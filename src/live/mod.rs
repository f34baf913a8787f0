//! Live state: what the cluster runs. Read from snapshot files and `kubectl get` Lists; reading a
//! cluster directly over the API comes with the cluster client.

pub mod snapshot;
