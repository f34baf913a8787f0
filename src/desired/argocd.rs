//! `argocd:` sources: an Argo CD Application or ApplicationSet, followed as Argo CD would (docs/sources.md).

use super::{DesiredError, Followed, Reading};
use crate::config::{ControllerSource, Environment, Source};
use crate::model::RunError;

/// Follows the Argo CD objects `controller` names in environment `env`.
pub fn follow(
    _reading: &Reading<'_>,
    env: &str,
    _environment: &Environment,
    source: &Source,
    _controller: &ControllerSource,
) -> Result<Followed, DesiredError> {
    Ok(Followed {
        errors: vec![RunError {
            env: env.to_string(),
            kind: "render".into(),
            source: Some(source.describe()),
            resource: None,
            message: format!(
                "environment `{env}`, source `{}`: Argo CD sources are not followed yet",
                source.describe()
            ),
            unjudged: None,
        }],
        ..Followed::default()
    })
}
