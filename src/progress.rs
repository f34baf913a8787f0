//! Progress notes on stderr: shown on a terminal, silent when piped, in CI, or with `-q`; plain
//! text (no escape sequence) with `NO_COLOR`, `--color never` or `TERM=dumb`.

use std::io::IsTerminal;

/// Where and how a run's progress notes go; one value, copied to whatever reports progress (the
/// renderer, the cluster reader), so every note follows the same `--color`/`NO_COLOR` choice.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
    /// Dim the notes with an SGR sequence; never set unless stderr may carry escapes.
    styled: bool,
}

impl Progress {
    /// Notes on a terminal unless `quiet` (`-q`, or a CI job); `styled` as [`stderr_styled`] says.
    pub fn new(quiet: bool, styled: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            styled,
        }
    }

    /// No notes at all (library callers and tests that render without a run around them).
    pub fn off() -> Self {
        Progress {
            enabled: false,
            styled: false,
        }
    }

    pub fn note(&self, message: &str) {
        if self.enabled {
            eprintln!("{}", self.line(message));
        }
    }

    /// The text of a note as written to stderr.
    fn line(&self, message: &str) -> String {
        if self.styled {
            format!("\x1b[2m{message}…\x1b[0m")
        } else {
            format!("{message}…")
        }
    }
}

/// Whether stderr's notes and logs may carry colour: `always` and `never` decide; `auto` needs a
/// terminal on stderr, no `NO_COLOR` (no-color.org) and a `TERM` other than `dumb` (a terminal
/// that shows escape sequences as text, such as Emacs' shell buffer).
pub fn stderr_styled(choice: crate::cli::ColorChoice, no_color: bool, dumb_terminal: bool) -> bool {
    use crate::cli::ColorChoice;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && !dumb_terminal && std::io::stderr().is_terminal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ColorChoice;

    #[test]
    fn an_unstyled_note_holds_no_escape_byte() {
        let plain = Progress {
            enabled: true,
            styled: false,
        };
        assert_eq!(
            plain.line("staging: rendering 3 source(s)"),
            "staging: rendering 3 source(s)…"
        );
        let styled = Progress {
            enabled: true,
            styled: true,
        };
        assert!(styled.line("x").contains('\x1b'));
    }

    #[test]
    fn never_and_no_color_and_dumb_terminals_are_unstyled() {
        assert!(!stderr_styled(ColorChoice::Never, false, false));
        assert!(!stderr_styled(ColorChoice::Auto, true, false));
        assert!(!stderr_styled(ColorChoice::Auto, false, true));
        // `always` is the user's explicit word, as for the table.
        assert!(stderr_styled(ColorChoice::Always, true, true));
    }
}
