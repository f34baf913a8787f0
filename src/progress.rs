//! Progress notes on stderr: shown on a terminal, silent when piped, in CI, or with `-q`.

use std::io::IsTerminal;

pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Notes on a terminal unless `quiet` (`-q`, or a CI job).
    pub fn new(quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    pub fn note(&self, message: &str) {
        if self.enabled {
            eprintln!("\x1b[2m{message}…\x1b[0m");
        }
    }
}
