//! Comparison: pairing objects by identity and turning field changes into differences — drift
//! (desired vs live) and parity (environment vs environment). Pure code, no I/O.

pub mod drift;
pub mod managed;
pub mod pairing;
pub mod parity;

use crate::diff::{ChangeOp, Path};
use crate::model::{Resource, ResourceId, SourceLocation};
use serde::Serialize;
use serde_json::Value;

/// What kind of finding a difference is (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Drift,
    Missing,
    Unmanaged,
    Parity,
    OnlyIn,
    Check,
    Change,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Drift => "drift",
            FindingKind::Missing => "missing",
            FindingKind::Unmanaged => "unmanaged",
            FindingKind::Parity => "parity",
            FindingKind::OnlyIn => "only-in",
            FindingKind::Check => "check",
            FindingKind::Change => "change",
        }
    }
}

/// Who last wrote a drifted field, from managedFields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedBy {
    pub manager: String,
    pub operation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// The resource a difference is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub id: ResourceId,
    pub version: String,
}

impl ResourceRef {
    pub fn of(resource: &Resource) -> Self {
        ResourceRef {
            id: resource.id.clone(),
            version: resource.version.clone(),
        }
    }
}

/// One difference, before policy decides what it means.
#[derive(Debug, Clone)]
pub struct Difference {
    pub kind: FindingKind,
    pub resource: ResourceRef,
    /// `""` (root) for findings about a whole object.
    pub path: Path,
    /// For field changes: changed, added (right only) or removed (left only).
    pub op: Option<ChangeOp>,
    pub left: Option<Value>,
    pub right: Option<Value>,
    pub source: Option<SourceLocation>,
    pub changed_by: Option<ChangedBy>,
    /// For `only-in`: the environment that has the object.
    pub only_in: Option<String>,
    /// Why a live-only field counts as drift, when it does.
    pub note: Option<String>,
}

impl Difference {
    pub fn whole(kind: FindingKind, resource: &Resource) -> Self {
        Difference {
            kind,
            resource: ResourceRef::of(resource),
            path: Path::default(),
            op: None,
            left: None,
            right: None,
            source: resource.source.clone(),
            changed_by: None,
            only_in: None,
            note: None,
        }
    }
}
