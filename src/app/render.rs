//! `plumb render ENV`: an environment's desired objects as YAML, secrets as fingerprints — the
//! first two stages of the estate (read and rendered, inventory built), then redaction only.

use super::estate::{open_tree, read_desired};
use super::{AppError, Context, environment, write_output};
use crate::config::LoadedConfig;
use crate::inventory;
use crate::model::Scopes;
use std::path::Path;

pub(super) fn render(
    context: &Context<'_>,
    config: &LoadedConfig,
    env: &str,
    git_ref: Option<&str>,
) -> Result<u8, AppError> {
    let tree = open_tree(config, git_ref)?;
    let (documents, errors) = read_desired(context, config, &tree, env, false)?;
    let mut scopes = Scopes::default();
    scopes.learn_from_crds(documents.iter().map(|d| &d.value));
    let namespace = environment(config, env)?.namespace.clone();
    let mut inventory = inventory::build(env, documents, namespace.as_deref(), &scopes)?;
    for resource in inventory.resources.values_mut() {
        context.normalizer.redact(&mut resource.object);
    }
    for e in &errors {
        eprintln!(
            "plumb: incomplete: {} {}: {}",
            e.env,
            e.source.as_deref().unwrap_or(""),
            e.message
        );
    }
    match context.common.output.as_deref() {
        Some(dir) if dir != Path::new("-") => {
            for resource in inventory.resources.values() {
                let folder = resource
                    .id
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "_cluster".into());
                let path = dir.join(folder).join(format!(
                    "{}-{}.yaml",
                    resource.id.kind.to_lowercase(),
                    resource.id.name
                ));
                let write = |p: &Path| -> std::io::Result<()> {
                    std::fs::create_dir_all(p.parent().unwrap_or(dir))?;
                    std::fs::write(p, crate::yaml::to_yaml(&resource.object))
                };
                write(&path).map_err(|source| AppError::Write {
                    path: path.display().to_string(),
                    source,
                })?;
            }
        }
        _ => {
            let mut out = String::new();
            for resource in inventory.resources.values() {
                out.push_str("---\n");
                out.push_str(&crate::yaml::to_yaml(&resource.object));
            }
            write_output(None, &out)?;
        }
    }
    Ok(if errors.is_empty() { 0 } else { 3 })
}
