//! Finding the render tools and their versions.
//!
//! `--helm`/`PLUMB_HELM` and `--kustomize`/`PLUMB_KUSTOMIZE` name a tool explicitly (a path, or a name looked up on `PATH`);
//! otherwise `helm`, and `kustomize` else `kubectl kustomize`, are looked up on `PATH`. A version
//! is part of every render's cache key and of the report's inputs, and asking a tool for it costs a
//! process start; so it is cached by the tool's resolved path, size and modification time, and a
//! warm run starts no process at all.

use super::cache::Cache;
use super::process;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(
        "{tool} was not found ({tried})\n  help: install it, or point {variable} at the binary"
    )]
    NotFound {
        tool: &'static str,
        tried: String,
        variable: &'static str,
    },
    #[error("cannot tell the version of {path}: {message}")]
    Version { path: String, message: String },
}

/// How a tool is invoked for a render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `helm template …`
    Helm,
    /// `kustomize build DIR`
    Kustomize,
    /// `kubectl kustomize DIR` (kustomize built into kubectl)
    KubectlKustomize,
}

/// A located tool and its version.
#[derive(Debug, Clone)]
pub struct Tool {
    pub path: PathBuf,
    pub flavor: Flavor,
    /// As the report shows it: `v4.1.4`, `v5.7.1`, `kubectl v1.35.2 (kustomize v5.7.1)`.
    pub version: String,
}

impl Tool {
    /// The name the report and error messages use.
    pub fn name(&self) -> &'static str {
        match self.flavor {
            Flavor::Helm => "helm",
            Flavor::Kustomize => "kustomize",
            Flavor::KubectlKustomize => "kubectl kustomize",
        }
    }

    /// The arguments that build a kustomization directory.
    pub fn build_args(&self, dir: &str) -> Vec<String> {
        match self.flavor {
            Flavor::KubectlKustomize => vec!["kustomize".into(), dir.into()],
            _ => vec!["build".into(), dir.into()],
        }
    }
}

/// Locates helm: as given (`--helm`, `PLUMB_HELM`), else `helm` on `PATH`.
pub fn helm(cache: &Cache, given: Option<&str>) -> Result<Tool, ToolError> {
    let (path, tried) = match given.filter(|g| !g.is_empty()) {
        Some(given) => (find(given), format!("PLUMB_HELM={given}")),
        None => (find("helm"), "`helm` on PATH".to_string()),
    };
    let path = path.ok_or(ToolError::NotFound {
        tool: "helm",
        tried,
        variable: "PLUMB_HELM",
    })?;
    let version = version(cache, &path, Flavor::Helm)?;
    Ok(Tool {
        path,
        flavor: Flavor::Helm,
        version,
    })
}

/// Locates kustomize: as given (`--kustomize`, `PLUMB_KUSTOMIZE`; a `kubectl` binary is run as
/// `kubectl kustomize`), else `kustomize` on `PATH`, else `kubectl` on `PATH`.
pub fn kustomize(cache: &Cache, given: Option<&str>) -> Result<Tool, ToolError> {
    let found = match given.filter(|g| !g.is_empty()) {
        Some(given) => find(given).ok_or(ToolError::NotFound {
            tool: "kustomize",
            tried: format!("PLUMB_KUSTOMIZE={given}"),
            variable: "PLUMB_KUSTOMIZE",
        })?,
        None => find("kustomize")
            .or_else(|| find("kubectl"))
            .ok_or(ToolError::NotFound {
                tool: "kustomize",
                tried: "`kustomize` and `kubectl` on PATH".into(),
                variable: "PLUMB_KUSTOMIZE",
            })?,
    };
    let is_kubectl = found
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl"));
    let flavor = if is_kubectl {
        Flavor::KubectlKustomize
    } else {
        Flavor::Kustomize
    };
    let version = version(cache, &found, flavor)?;
    Ok(Tool {
        path: found,
        flavor,
        version,
    })
}

/// A path (anything with a `/`) as given, else the first executable of that name on `PATH`;
/// resolved through symbolic links so the version cache sees the real binary.
fn find(name: &str) -> Option<PathBuf> {
    let candidate = if name.contains('/') {
        Some(PathBuf::from(name)).filter(|p| is_executable(p))
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| is_executable(p))
        })
    }?;
    candidate.canonicalize().ok()
}

fn is_executable(path: &Path) -> bool {
    match std::fs::metadata(path) {
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            meta.is_file() && meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        Ok(meta) => meta.is_file(),
        Err(_) => false,
    }
}

/// The tool's version, from the cache when the binary is unchanged.
fn version(cache: &Cache, path: &Path, flavor: Flavor) -> Result<String, ToolError> {
    let identity = identity(path, flavor);
    if let Some(known) = identity.as_deref().and_then(|id| cache.tool_version(id)) {
        return Ok(known);
    }
    let args: Vec<String> = match flavor {
        Flavor::Helm => vec!["version".into(), "--template".into(), "{{.Version}}".into()],
        Flavor::Kustomize => vec!["version".into()],
        Flavor::KubectlKustomize => {
            vec![
                "version".into(),
                "--client".into(),
                "-o".into(),
                "json".into(),
            ]
        }
    };
    let failed = |message: String| ToolError::Version {
        path: path.display().to_string(),
        message,
    };
    let out = process::run(path, &args, Path::new("/"), &[], Duration::from_secs(30))
        .map_err(|e| failed(e.to_string()))?;
    // What a tool prints goes through the scrubber like any tool text (docs/rendering.md).
    let scrubber = crate::scrub::Scrubber::new();
    if !out.success {
        return Err(failed(scrubber.excerpt(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = parse_version(flavor, &text).ok_or_else(|| {
        failed(format!(
            "unexpected output `{}`",
            scrubber.excerpt(text.as_bytes())
        ))
    })?;
    if let Some(id) = identity {
        cache.store_tool_version(&id, &version);
    }
    Ok(version)
}

/// What identifies a binary without running it: path, size, modification time.
fn identity(path: &Path, flavor: Flavor) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{flavor:?}\n{}\n{}\n{}",
        path.display(),
        meta.len(),
        modified.as_nanos()
    ))
}

/// Reads a version out of what `helm version`, `kustomize version` or `kubectl version` print.
pub fn parse_version(flavor: Flavor, text: &str) -> Option<String> {
    let text = text.trim();
    match flavor {
        Flavor::Helm => text.starts_with('v').then(|| text.to_string()),
        Flavor::Kustomize => {
            // v5: `v5.7.1`; v4: `{Version:kustomize/v4.5.7 GitCommit:… }`
            if let Some(rest) = text.split("kustomize/").nth(1) {
                rest.split_whitespace().next().map(str::to_string)
            } else {
                text.lines()
                    .next()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
            }
        }
        Flavor::KubectlKustomize => {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            let kubectl = value["clientVersion"]["gitVersion"].as_str()?;
            Some(match value["kustomizeVersion"].as_str() {
                Some(kustomize) => format!("kubectl {kubectl} (kustomize {kustomize})"),
                None => format!("kubectl {kubectl}"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_of_each_flavor() {
        assert_eq!(
            parse_version(Flavor::Helm, "v4.1.4\n").as_deref(),
            Some("v4.1.4")
        );
        assert_eq!(parse_version(Flavor::Helm, "oops"), None);
        assert_eq!(
            parse_version(Flavor::Kustomize, "v5.7.1\n").as_deref(),
            Some("v5.7.1")
        );
        assert_eq!(
            parse_version(
                Flavor::Kustomize,
                "{Version:kustomize/v4.5.7 GitCommit:56d82a8 BuildDate:2022-08-02T16:35:54Z GoOs:linux}"
            )
            .as_deref(),
            Some("v4.5.7")
        );
        assert_eq!(
            parse_version(
                Flavor::KubectlKustomize,
                r#"{"clientVersion":{"gitVersion":"v1.35.2"},"kustomizeVersion":"v5.7.1"}"#
            )
            .as_deref(),
            Some("kubectl v1.35.2 (kustomize v5.7.1)")
        );
    }
}
