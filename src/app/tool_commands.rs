//! The commands about plumb itself: `plumb version`, `plumb completion SHELL` and `plumb schema
//! FILE`.

use super::{AppError, Context, write_output};
use crate::cli::{Cli, SchemaFile, Shell};
use crate::exit::Exit;
use crate::schema::FileKind;
use clap::CommandFactory;
use std::path::Path;

/// The commit plumb was built from ("unknown" outside a Git checkout), from build.rs.
pub const BUILD_COMMIT: &str = env!("PLUMB_BUILD_COMMIT");
/// The day plumb was built (UTC, or `SOURCE_DATE_EPOCH`'s), from build.rs.
pub const BUILD_DATE: &str = env!("PLUMB_BUILD_DATE");

/// `plumb version`: plumb's version and build, then the helm and kustomize a render would use
/// (found as a render finds them: `--helm`/`PLUMB_HELM`, `--kustomize`/`PLUMB_KUSTOMIZE`, PATH),
/// so a bug report says which tools produced the objects. A tool that cannot be found is said,
/// not an error: `version` must answer on any machine.
pub(super) fn version(context: &Context<'_>) -> Result<Exit, AppError> {
    let mut out = format!(
        "plumb {}\ncommit: {BUILD_COMMIT}\nbuilt: {BUILD_DATE}\n",
        env!("CARGO_PKG_VERSION")
    );
    for (role, tool) in context.renderer.tools_available() {
        out.push_str(&match tool {
            // The version names kubectl where kubectl's kustomize stands in (`kubectl v1.35.2
            // (kustomize v5.7.1)`).
            Ok(tool) => format!("{role}: {} at {}\n", tool.version, tool.path.display()),
            Err(why) => format!("{role}: not available ({})\n", why.replace('\n', " ")),
        });
    }
    write_output(None, &out)?;
    Ok(Exit::Clean)
}

/// `plumb completion SHELL`: the shell's completion script, generated from the same definition
/// that parses the arguments, so it cannot drift from them.
pub(super) fn completion(shell: Shell) -> Result<Exit, AppError> {
    use clap_complete::Shell as Target;
    let target = match shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Powershell => Target::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(target, &mut Cli::command(), "plumb", &mut script);
    write_output(None, &String::from_utf8_lossy(&script))?;
    Ok(Exit::Clean)
}

/// `plumb schema FILE`: the JSON Schema of a file plumb reads, generated from the types that
/// parse it (docs/config.md, "Schemas"), on stdout or into `--out-file`.
pub(super) fn schema(file: SchemaFile, out_file: Option<&Path>) -> Result<Exit, AppError> {
    let kind = match file {
        SchemaFile::Config => FileKind::Config,
        SchemaFile::Policy => FileKind::Policy,
        SchemaFile::PolicyTest => FileKind::PolicyTest,
    };
    write_output(out_file, &kind.schema_text())?;
    Ok(Exit::Clean)
}
