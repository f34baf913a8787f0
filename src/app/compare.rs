//! `plumb compare LEFT RIGHT`: two files or directories, no config (also kubectl's external differ).

use super::*;

pub(super) fn compare_command(
    normalizer: &Normalizer,
    left: &Path,
    right: &Path,
    policy_files: &[PathBuf],
    mode: Mode,
    field_managers: &[String],
    namespace: Option<&str>,
) -> Result<Report, AppError> {
    let (left_name, right_name) = (left.display().to_string(), right.display().to_string());
    let mut left_docs = desired::disk::read(left)?;
    let right_docs = desired::disk::read(right)?;
    let scopes = match mode {
        Mode::Drift => scopes_of(Scopes::default(), &left_docs, &right_docs),
        Mode::Parity => scopes_of(Scopes::default(), left_docs.iter().chain(&right_docs), &[]),
    };
    // Policy files named on the command line are relative to where plumb runs.
    let entries: Vec<String> = policy_files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let policies = load_policies(&entries, Path::new(""))?;
    let mut report = Report::new(
        "compare",
        inputs(None, environment_inputs(&[&left_name, &right_name])),
    );
    match mode {
        Mode::Drift => {
            if namespace.is_none() {
                inventory::adopt_live_namespaces(&mut left_docs, &right_docs, &scopes);
            }
            let mut desired = inventory::build(&left_name, left_docs, namespace, &scopes)?;
            let mut live = inventory::build_live(&right_name, right_docs, &scopes)?;
            let prepare = Preparation {
                normalizer,
                policies: &policies,
                scope: Scope::Drift,
            };
            prepare.prepare(&mut desired, false);
            prepare.prepare(&mut live, true);
            let mut checks = CheckResults::default();
            checks.add(&policies, desired.par_values(), Side::Desired);
            checks.add(&policies, live.par_values(), Side::Live);
            let scope = DriftScope {
                namespaces: desired.namespaces(),
                field_managers: field_managers.to_vec(),
                ..Default::default()
            };
            report
                .summary
                .resources
                .insert(left_name.clone(), desired.len());
            report
                .summary
                .live_resources
                .insert(left_name.clone(), live.len());
            add_all(
                &mut report,
                drift(&desired, &live, &scope),
                &[&left_name],
                &policies,
            );
            add_checks(&mut report, checks, &left_name, &policies);
        }
        Mode::Parity => {
            let mut l = inventory::build(&left_name, left_docs, namespace, &scopes)?;
            let mut r = inventory::build(&right_name, right_docs, namespace, &scopes)?;
            let prepare = Preparation {
                normalizer,
                policies: &policies,
                scope: Scope::Parity,
            };
            prepare.prepare(&mut l, false);
            prepare.prepare(&mut r, false);
            let (mut left_checks, mut right_checks) =
                (CheckResults::default(), CheckResults::default());
            left_checks.add(&policies, l.par_values(), Side::Desired);
            right_checks.add(&policies, r.par_values(), Side::Desired);
            let sides = Sides {
                left: &left_name,
                right: &right_name,
            };
            let mapping = Mapping::default();
            let equal_values = |a: &Resource, b: &Resource| policies.equal_values(a, b);
            let mut run = ParityRun::new(&l, &mapping, sides)?.with_pair_check(&equal_values);
            let mut differences = run.add_right(r.resources.values())?;
            differences.extend(run.finish());
            report.summary.resources.insert(left_name.clone(), l.len());
            report.summary.resources.insert(right_name.clone(), r.len());
            add_all(
                &mut report,
                differences,
                &[&left_name, &right_name],
                &policies,
            );
            add_checks(&mut report, left_checks, &left_name, &policies);
            add_checks(&mut report, right_checks, &right_name, &policies);
        }
    }
    Ok(report)
}
