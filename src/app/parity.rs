//! `plumb parity LEFT RIGHT`: two environments, desired against desired (or live against live).

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn parity_command(
    common: &Common,
    normalizer: &Normalizer,
    left: &str,
    right: &str,
    live: bool,
    git_ref: Option<&str>,
    progress: &Progress,
    renderer: &Renderer,
) -> Result<Report, AppError> {
    let config = load_config(common)?;
    let (left_env, right_env) = (environment(&config, left)?, environment(&config, right)?);
    let mapping = pair_mapping(&config, left, right);
    // Equivalents reach secret values too: they are replaced in the decoded text before hashing.
    let secret_rewrite = |text: &str| mapping.replace_equivalents(text);
    let sides = Sides { left, right };
    let mut errors = Vec::new();
    let policies = load_policies(&config.config.policy_entries(), &config.dir)?;
    let prepare = Preparation {
        normalizer,
        policies: &policies,
        scope: Scope::Parity,
    };
    let equal_values = |l: &Resource, r: &Resource| policies.equal_values(l, r);
    let (mut left_checks, mut right_checks) = (CheckResults::default(), CheckResults::default());
    let (tree, left_count, right_count, differences) = if live {
        // A cluster is read for the namespaces and kinds of the environment's desired state.
        let desired_documents = |name: &str| -> Result<Vec<Document>, AppError> {
            let tree = open_tree(&config, git_ref)?;
            Ok(read_desired(&config, &tree, renderer, name, progress)?.documents)
        };
        let mut left_inv = live_environment(
            &config,
            normalizer,
            left,
            &desired_documents,
            progress,
            &mut errors,
        )?;
        let mut right_inv = live_environment(
            &config,
            normalizer,
            right,
            &desired_documents,
            progress,
            &mut errors,
        )?;
        prepare.prepare_mapped(&mut left_inv, false, Some(&secret_rewrite));
        prepare.prepare(&mut right_inv, false);
        left_checks.add(&policies, left_inv.par_values(), Side::Live);
        right_checks.add(&policies, right_inv.par_values(), Side::Live);
        let mut run = ParityRun::new(&left_inv, &mapping, sides)?.with_pair_check(&equal_values);
        let mut differences = run.add_right(right_inv.resources.values())?;
        differences.extend(run.finish());
        (None, left_inv.len(), right_inv.len(), differences)
    } else {
        let tree = open_tree(&config, git_ref)?;
        // The left environment is held whole; the right one is read in batches and compared as it
        // comes, so only one side is ever whole in memory.
        let desired = read_desired(&config, &tree, renderer, left, progress)?;
        errors.extend(desired.errors);
        let mut scopes = scopes_of(Scopes::default(), &desired.documents, &[]);
        let mut left_inv = inventory::build(
            left,
            desired.documents,
            left_env.namespace.as_deref(),
            &scopes,
        )?;
        prepare.prepare_mapped(&mut left_inv, false, Some(&secret_rewrite));
        left_checks.add(&policies, left_inv.par_values(), Side::Desired);
        let mut run = ParityRun::new(&left_inv, &mapping, sides)?.with_pair_check(&equal_values);
        progress.note(&format!(
            "reading {right} from Git at {} and comparing",
            tree.rev
        ));
        let right_files =
            desired::environment_files(&tree, renderer, &config.dir, right, right_env)?;
        errors.extend(right_files.errors);
        let mut differences = Vec::new();
        for batch in desired::batches(right_files.files, 8 << 20) {
            let parsed = desired::parse(right, batch)?;
            errors.extend(parsed.errors);
            let documents = parsed.documents;
            scopes.learn_from_crds(documents.iter().map(|d| &d.value));
            let mut batch_inv =
                inventory::build(right, documents, right_env.namespace.as_deref(), &scopes)?;
            prepare.prepare(&mut batch_inv, false);
            right_checks.add(&policies, batch_inv.par_values(), Side::Desired);
            differences.extend(run.add_right(batch_inv.resources.values())?);
            progress.note(&format!(
                "{right}: {} objects compared with {left}'s {}",
                run.right_count,
                left_inv.len()
            ));
        }
        let right_count = run.right_count;
        if right_count == 0 && errors.iter().all(|e| e.env != right) {
            return Err(AppError::EmptyEnvironment {
                env: right.to_string(),
                config: config.path.display().to_string(),
            });
        }
        differences.extend(run.finish());
        (Some(tree), left_inv.len(), right_count, differences)
    };
    let mut report = Report::new(
        "parity",
        inputs(tree.as_ref(), environment_inputs(&[left, right])),
    );
    report.inputs.tools = renderer.tools_used();
    report
        .summary
        .resources
        .insert(left.to_string(), left_count);
    report
        .summary
        .resources
        .insert(right.to_string(), right_count);
    add_all(&mut report, differences, &[left, right], &policies);
    add_checks(&mut report, left_checks, left, &policies);
    add_checks(&mut report, right_checks, right, &policies);
    report.errors.extend(errors);
    Ok(report)
}

/// The configured mapping from `left` onto `right`, or none.
pub(super) fn pair_mapping(config: &LoadedConfig, left: &str, right: &str) -> Mapping {
    config
        .pair(left, right)
        .map(|pair| Mapping {
            namespaces: pair.namespaces,
            equivalents: pair
                .equivalents
                .into_iter()
                .filter_map(|e| Some((e.first()?.clone(), e.get(1)?.clone())))
                .collect(),
        })
        .unwrap_or_default()
}

/// An environment's live state, without what the cluster makes itself (their names are generated
/// per cluster, so they never pair).
pub(super) fn live_environment(
    config: &LoadedConfig,
    normalizer: &Normalizer,
    name: &str,
    desired_documents: &dyn Fn(&str) -> Result<Vec<Document>, AppError>,
    progress: &Progress,
    errors: &mut Vec<RunError>,
) -> Result<Inventory, AppError> {
    let env = environment(config, name)?;
    let source = live::LiveSource::resolve(config, name, None, None)?;
    let scope = match &source {
        live::LiveSource::Context(_) => live::LiveScope::of(env, &desired_documents(name)?),
        live::LiveSource::File(_) => live::LiveScope::of(env, &[]),
    };
    let file = live::read(&source, name, &scope, normalizer, progress)?;
    errors.extend(file.errors.iter().cloned());
    let scopes = scopes_of(file.scopes.clone(), &[], &file.documents);
    let mut inventory = inventory::build_live(name, file.documents, &scopes)?;
    let made: Vec<_> = inventory
        .resources
        .values()
        .filter(|r| crate::compare::made_by_cluster(r, &inventory))
        .map(|r| r.id.clone())
        .collect();
    for id in made {
        inventory.resources.remove(&id);
    }
    Ok(inventory)
}
