//! Flux objects as `plumb init` finds them: each `clusters/<env>/` folder holding Flux
//! Kustomizations or HelmReleases is a `flux:` source of environment `<env>`; the paths
//! Kustomizations and HelmReleases read from this repository (directly from a GitRepository, or
//! through an ArtifactGenerator's ExternalArtifact) are covered; what plumb cannot follow — a
//! source of another repository, a Bucket, an OCI artifact or chart — is a warning naming it
//! (docs/sources.md, "`plumb init`").

use super::repositories::{ThisRepository, without_credentials};
use super::{Findings, Found, Here, Object, folder_under};
use serde_json::Value;

const KUSTOMIZE: &str = "kustomize.toolkit.fluxcd.io";
const HELM: &str = "helm.toolkit.fluxcd.io";
const SOURCE: &str = "source.toolkit.fluxcd.io";
const SOURCE_EXTENSIONS: &str = "source.extensions.fluxcd.io";

/// Flux's bootstrap names the GitRepository of the repository it syncs `flux-system` in
/// `flux-system`: that one is this repository whatever its URL says.
const BOOTSTRAP: &str = "flux-system";

pub(super) fn find(
    here: &Here,
    objects: &[Object],
    this: &mut ThisRepository,
    findings: &mut Findings,
) {
    let index = Index { objects };
    for object in objects {
        let is_kustomization = object.is(KUSTOMIZE, "Kustomization");
        let is_release = object.is(HELM, "HelmRelease");
        if !(is_kustomization || is_release) {
            continue;
        }
        let env = folder_under(&object.file, &["clusters"]);
        if let Some(folder) = &env {
            let name = folder.rsplit('/').next().unwrap_or(folder);
            findings.add(name, Found::Flux(folder.clone()));
        }
        let env = env.as_deref().map(|f| f.rsplit('/').next().unwrap_or(f));
        if is_kustomization {
            kustomization(here, &index, object, env, this, findings);
        } else {
            helm_release(here, &index, object, env, this, findings);
        }
    }
}

/// The Flux objects of the repository, looked up by kind and name as Flux's references name
/// them (`sourceRef: {kind, name, namespace}`, the namespace defaulting to the referrer's).
struct Index<'a> {
    objects: &'a [Object],
}

impl<'a> Index<'a> {
    fn get(
        &self,
        group: &str,
        kind: &str,
        name: &str,
        namespace: Option<&str>,
    ) -> Option<&'a Object> {
        let candidates: Vec<&Object> = self
            .objects
            .iter()
            .filter(|o| o.is(group, kind) && o.name() == name)
            .collect();
        candidates
            .iter()
            .find(|o| namespace.is_none() || o.namespace().is_none() || o.namespace() == namespace)
            .copied()
    }
}

/// A `sourceRef` of `object`: kind, name and namespace.
fn reference<'v>(object: &'v Object, at: &'v Value) -> (&'v str, &'v str, Option<&'v str>) {
    (
        at["kind"].as_str().unwrap_or(""),
        at["name"].as_str().unwrap_or(""),
        at["namespace"].as_str().or(object.namespace()),
    )
}

/// Whether a GitRepository is this repository: the bootstrap's, or one whose URL this
/// repository goes by. `paths_exist`: whether what its referrer reads exists here (how a URL is
/// guessed to be this repository when there is no `origin`).
fn is_this(repository: &Object, this: &mut ThisRepository, paths_exist: bool) -> bool {
    let url = repository.value["spec"]["url"].as_str().unwrap_or("");
    let bootstrap =
        repository.name() == BOOTSTRAP && repository.namespace().is_none_or(|n| n == BOOTSTRAP);
    // The bootstrap's URL is this repository's: without an `origin`, it is one to list.
    this.names(url, paths_exist || bootstrap) || bootstrap
}

fn kustomization(
    here: &Here,
    index: &Index<'_>,
    object: &Object,
    env: Option<&str>,
    this: &mut ThisRepository,
    findings: &mut Findings,
) {
    let spec = &object.value["spec"];
    let spec_path = spec["path"].as_str().unwrap_or("./");
    let (kind, name, namespace) = reference(object, &spec["sourceRef"]);
    let what = object.describe();
    match kind {
        "GitRepository" => {
            let read = GitRead { name, namespace, path: spec_path, what: "reads" };
            git_path(here, index, object, &read, env, this, findings);
        }
        "ExternalArtifact" => external_artifact(here, index, object, (name, namespace), env, this, findings),
        "Bucket" => findings.warn(env, format!(
            "{what} reads Bucket `{name}`: plumb follows Git sources only, so this source is a render error"
        )),
        "OCIRepository" => findings.warn(env, format!(
            "{what} reads OCIRepository `{name}`, an OCI artifact: plumb follows Git sources only, so this source is a render error"
        )),
        other => findings.warn(env, format!(
            "{what} reads a `{other}` source, which plumb does not follow: this source is a render error"
        )),
    }
}

/// Covers what an ArtifactGenerator copies into the ExternalArtifact a Kustomization reads
/// (`copy: [{from: "@alias/apps/base/**", to: "@artifact/base/"}]` covers `apps/base`).
fn external_artifact(
    here: &Here,
    index: &Index<'_>,
    object: &Object,
    (name, namespace): (&str, Option<&str>),
    env: Option<&str>,
    this: &mut ThisRepository,
    findings: &mut Findings,
) {
    let what = object.describe();
    let generated = index.objects.iter().find_map(|o| {
        if !o.is(SOURCE_EXTENSIONS, "ArtifactGenerator")
            || namespace.is_some_and(|n| o.namespace().is_some_and(|m| m != n))
        {
            return None;
        }
        o.value["spec"]["artifacts"]
            .as_array()?
            .iter()
            .find(|a| a["name"].as_str() == Some(name))
            .map(|artifact| (o, artifact))
    });
    let Some((generator, artifact)) = generated else {
        findings.warn(env, format!(
            "{what} reads ExternalArtifact `{name}`, which no ArtifactGenerator in this repository builds: plumb cannot tell what it holds, so this source is a render error"
        ));
        return;
    };
    for copy in artifact["copy"].as_array().into_iter().flatten() {
        let Some(from) = copy["from"].as_str() else {
            continue;
        };
        let Some((alias, glob)) = from.strip_prefix('@').and_then(|f| f.split_once('/')) else {
            continue;
        };
        // The directory before the first glob character is what the copy reads.
        let dir: Vec<&str> = glob
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '{']))
            .collect();
        let Some(path) = here.repository_path(&dir.join("/")) else {
            continue;
        };
        let exists = here.exists(&path);
        let source = generator.value["spec"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["alias"].as_str() == Some(alias));
        let repository = source.and_then(|s| {
            let (kind, name, namespace) = reference(generator, s);
            (kind == "GitRepository").then(|| index.get(SOURCE, kind, name, namespace))?
        });
        let bootstrap = source.is_some_and(|s| {
            s["kind"].as_str() == Some("GitRepository") && s["name"].as_str() == Some(BOOTSTRAP)
        });
        match repository {
            Some(repository) if is_this(repository, this, exists) => {
                if exists {
                    findings.covered.insert(path);
                }
            }
            None if bootstrap => {
                if exists {
                    findings.covered.insert(path);
                }
            }
            Some(repository) => findings.warn(env, another_repository(&what, repository)),
            None => findings.warn(env, format!(
                "{what} reads ExternalArtifact `{name}`, whose source `@{alias}` in {} is not a GitRepository of this repository: plumb cannot follow it, so this source is a render error",
                generator.describe()
            )),
        }
    }
}

fn helm_release(
    here: &Here,
    index: &Index<'_>,
    object: &Object,
    env: Option<&str>,
    this: &mut ThisRepository,
    findings: &mut Findings,
) {
    let spec = &object.value["spec"];
    let what = object.describe();
    if let Some(chart_ref) = spec.get("chartRef") {
        let (kind, name, namespace) = reference(object, chart_ref);
        if kind == "OCIRepository" {
            let url = index
                .get(SOURCE, kind, name, namespace)
                .and_then(|o| o.value["spec"]["url"].as_str())
                .unwrap_or("");
            findings.warn(env, oci_chart_warning(&what, name, url));
        }
        return;
    }
    let chart = &spec["chart"]["spec"];
    let chart_name = chart["chart"].as_str().unwrap_or("");
    let (kind, name, namespace) = reference(object, &chart["sourceRef"]);
    match kind {
        "GitRepository" => {
            let read = GitRead { name, namespace, path: chart_name, what: "takes its chart from" };
            git_path(here, index, object, &read, env, this, findings);
        }
        "HelmRepository" => {
            let repository = index.get(SOURCE, kind, name, namespace);
            let url = repository
                .and_then(|o| o.value["spec"]["url"].as_str())
                .unwrap_or("");
            let oci = url.starts_with("oci://")
                || repository.is_some_and(|o| o.value["spec"]["type"].as_str() == Some("oci"));
            if oci {
                let chart_url = format!("{}/{chart_name}", url.trim_end_matches('/'));
                findings.warn(env, oci_chart_warning(&what, chart_name, &chart_url));
            }
        }
        "Bucket" => findings.warn(env, format!(
            "{what} takes its chart from Bucket `{name}`: plumb follows Git and chart repositories only, so this source is a render error"
        )),
        _ => {}
    }
}

/// A path a Flux object reads from a GitRepository.
struct GitRead<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
    /// The path inside the repository (a Kustomization's `path`, a chart's directory).
    path: &'a str,
    /// How the warning says it reads it.
    what: &'a str,
}

/// Covers `read.path` when the GitRepository is this repository; warns otherwise.
fn git_path(
    here: &Here,
    index: &Index<'_>,
    object: &Object,
    read: &GitRead<'_>,
    env: Option<&str>,
    this: &mut ThisRepository,
    findings: &mut Findings,
) {
    let path = here.repository_path(read.path);
    let exists = path.as_deref().is_some_and(|p| here.exists(p));
    let what = object.describe();
    let this_repository = match index.get(SOURCE, "GitRepository", read.name, read.namespace) {
        Some(repository) if is_this(repository, this, exists) => true,
        Some(repository) => {
            findings.warn(env, another_repository(&what, repository));
            false
        }
        None if read.name == BOOTSTRAP => true,
        None => {
            findings.warn(env, format!(
                "{what} {} GitRepository `{}`, which is not in this repository: plumb cannot tell which repository it is, so this source is a render error",
                read.what, read.name
            ));
            false
        }
    };
    if this_repository && let Some(path) = path.filter(|_| exists) {
        findings.covered.insert(path);
    }
}

fn another_repository(what: &str, repository: &Object) -> String {
    let url = without_credentials(repository.value["spec"]["url"].as_str().unwrap_or(""));
    format!(
        "{what} reads {} at `{url}`, which is not this repository: plumb follows only this repository, so this source is a render error (list the URL under `repositories:` if it names this repository)",
        repository.describe()
    )
}

/// An OCI chart (`chart_url`: `oci://registry/path/chart`): the mirror to add is keyed by the
/// repository the chart is in.
fn oci_chart_warning(what: &str, chart: &str, chart_url: &str) -> String {
    let chart_url = without_credentials(chart_url);
    let repository = chart_url
        .rsplit_once('/')
        .map_or(chart_url.as_str(), |(repository, _)| repository);
    format!(
        "{what} takes chart `{chart}` from the OCI registry `{chart_url}`: plumb pulls no OCI charts, only HTTP ones through a mirror — add `charts: {{mirrors: {{\"{repository}\": \"http://YOUR-CHART-REPOSITORY\"}}}}`"
    )
}
