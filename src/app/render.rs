//! `plumb render ENV`: an environment's desired objects as YAML, secrets as fingerprints.

use super::*;

pub(super) fn render(
    common: &Common,
    normalizer: &Normalizer,
    env: &str,
    git_ref: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<u8, AppError> {
    let config = load_config(common)?;
    let tree = open_tree(&config, git_ref)?;
    let desired = read_desired(&config, &tree, renderer, env, progress)?;
    let scopes = scopes_of(Scopes::default(), &desired.documents, &[]);
    let namespace = environment(&config, env)?.namespace.clone();
    let mut inventory = inventory::build(env, desired.documents, namespace.as_deref(), &scopes)?;
    for resource in inventory.resources.values_mut() {
        normalizer.redact(&mut resource.object);
    }
    for e in &desired.errors {
        eprintln!(
            "plumb: incomplete: {} {}: {}",
            e.env,
            e.source.as_deref().unwrap_or(""),
            e.message
        );
    }
    match common.output.as_deref() {
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
    Ok(if desired.errors.is_empty() { 0 } else { 3 })
}
