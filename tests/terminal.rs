//! What plumb writes to a terminal's stderr: progress notes shown, and no escape sequence when
//! `NO_COLOR`, `--color never` or `TERM=dumb` asks for plain text (docs/report.md, "Quiet and
//! clean"). plumb runs under a real pseudo-terminal (`script`), where it sees a terminal on
//! stderr as a user's shell gives it; stdout goes to /dev/null, so what `script` records is
//! stderr alone.

mod support;

use support::{Repo, demo_repo};

const ESC: char = '\x1b';

/// Runs `plumb ARGS` in `repo` on a pseudo-terminal with `env` set (and `NO_COLOR`, `CI` unset
/// unless given); returns its exit code and what it wrote to stderr.
fn on_a_terminal(repo: &Repo, args: &str, env: &[(&str, &str)]) -> (i32, String) {
    let binary = env!("CARGO_BIN_EXE_plumb");
    let mut command = std::process::Command::new("script");
    command
        .arg("-qec")
        .arg(format!("'{binary}' {args} >/dev/null"))
        .arg("/dev/null")
        .current_dir(repo.path())
        .env("PLUMB_FINGERPRINT_KEY", "test-key")
        .env("PLUMB_CACHE_DIR", repo.cache_dir())
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CI");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .output()
        .expect("`script` (util-linux) runs plumb on a pseudo-terminal; install it");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn progress_notes_on_a_terminal_are_plain_text_under_no_color_color_never_and_dumb_terminals() {
    let repo = demo_repo();
    for (args, env) in [
        ("drift production", vec![("NO_COLOR", "1")]),
        ("drift production --color never", vec![]),
        ("drift production", vec![("TERM", "dumb")]),
    ] {
        let (code, stderr) = on_a_terminal(&repo, args, &env);
        assert_eq!(code, 1, "{args} {env:?}: {stderr}");
        // The notes are there (a terminal), only unstyled.
        assert!(
            stderr.contains("reading production from Git at HEAD"),
            "{args} {env:?}: {stderr:?}"
        );
        assert!(!stderr.contains(ESC), "{args} {env:?}: {stderr:?}");
    }
}

#[test]
fn progress_notes_on_a_colour_terminal_may_be_styled() {
    let repo = demo_repo();
    let (code, stderr) = on_a_terminal(&repo, "drift production", &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("reading production from Git at HEAD"),
        "{stderr:?}"
    );
    assert!(stderr.contains(ESC), "{stderr:?}");
    // Piped (no terminal), the same run says nothing on stderr.
    let output = repo
        .plumb()
        .env_remove("NO_COLOR")
        .args(["drift", "production"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn errors_on_a_terminal_follow_color_never() {
    let repo = demo_repo();
    let (code, stderr) = on_a_terminal(&repo, "drift nope --color never", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown environment `nope`"), "{stderr:?}");
    assert!(!stderr.contains(ESC), "{stderr:?}");
    // Without it, the same error on a colour terminal is styled: the line above checks something.
    let (_, styled) = on_a_terminal(&repo, "drift nope", &[]);
    assert!(styled.contains(ESC), "{styled:?}");
}
