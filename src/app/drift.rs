//! `plumb drift ENV`: desired state from Git against live state from a cluster or a file.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn drift_command(
    common: &Common,
    normalizer: &Normalizer,
    name: &str,
    git_ref: Option<&str>,
    live_file: Option<&Path>,
    context: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let env = environment(&config, name)?;
    let policies = load_policies(&config.config.policy_entries(), &config.dir)?;
    let tree = open_tree(&config, git_ref)?;
    let desired = read_desired(&config, &tree, renderer, name, progress)?;
    let live_cfg = env.live.clone().unwrap_or_default();
    let mut errors = desired.errors;
    let source = live::LiveSource::resolve(&config, name, live_file, context)?;
    let live_scope = live::LiveScope::of(env, &desired.documents);
    let live = live::read(&source, name, &live_scope, normalizer, progress)?;
    errors.extend(live.errors.iter().cloned());
    let unreachable = errors
        .iter()
        .any(|e| e.kind == "unreachable" && e.resource.is_none());
    let scopes = scopes_of(live.scopes.clone(), &desired.documents, &live.documents);
    let mut desired_inv =
        inventory::build(name, desired.documents, env.namespace.as_deref(), &scopes)?;
    let mut live_inv = inventory::build_live(name, live.documents, &scopes)?;
    let prepare = Preparation {
        normalizer,
        policies: &policies,
        scope: Scope::Drift,
    };
    prepare.prepare(&mut desired_inv, false);
    prepare.prepare(&mut live_inv, true);
    let mut checks = CheckResults::default();
    checks.add(&policies, desired_inv.par_values(), Side::Desired);
    checks.add(&policies, live_inv.par_values(), Side::Live);
    let namespaces: BTreeSet<String> = if !live_cfg.namespaces.is_empty() {
        live_cfg.namespaces.iter().cloned().collect()
    } else if let Some(ns) = &live.namespaces {
        ns.iter().cloned().collect()
    } else {
        desired_inv.namespaces()
    };
    let mut scope = DriftScope {
        namespaces,
        field_managers: live_cfg.field_managers.clone(),
        ..Default::default()
    };
    for e in &errors {
        if let Some(kind) = &e.resource {
            let (group, kind) = kind.rsplit_once('/').unwrap_or(("", kind));
            scope
                .unseen_kinds
                .insert((group.to_string(), kind.to_string()));
        }
    }
    let differences = if unreachable {
        Vec::new()
    } else {
        drift(&desired_inv, &live_inv, &scope)
    };
    let env_input = EnvironmentInput {
        name: name.to_string(),
        live: Some(source.describe()),
    };
    let mut report = Report::new("drift", inputs(Some(&tree), vec![env_input]));
    report.inputs.tools = renderer.tools_used();
    report
        .summary
        .resources
        .insert(name.to_string(), desired_inv.len());
    report
        .summary
        .live_resources
        .insert(name.to_string(), live_inv.len());
    add_all(&mut report, differences, &[name], &policies);
    add_checks(&mut report, checks, name, &policies);
    report.errors.extend(errors);
    Ok(report)
}
