//! plumb's exit codes, in one place (docs/report.md): what a CI job gates on.

/// How a run ended. Precedence when several apply: bad input over incomplete over findings over
/// clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Complete, and nothing at or above `--fail-on`.
    Clean,
    /// Findings at or above `--fail-on` (for `policy lint` and `policy test`: problems found).
    Findings,
    /// Something could not be read, rendered or evaluated: the report says what, and is never
    /// clean.
    Incomplete,
    /// Bad input the user must fix: usage, config, policies, a malformed manifest.
    BadInput,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::BadInput => 2,
            Exit::Incomplete => 3,
        }
    }

    /// `Findings` when `failed`, else `Clean`.
    pub fn findings_if(failed: bool) -> Exit {
        if failed { Exit::Findings } else { Exit::Clean }
    }

    /// `Incomplete` when `incomplete`, else `Clean`.
    pub fn incomplete_if(incomplete: bool) -> Exit {
        if incomplete {
            Exit::Incomplete
        } else {
            Exit::Clean
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_bad_input_then_incomplete_then_findings() {
        let worst = [
            Exit::Findings,
            Exit::Incomplete,
            Exit::Clean,
            Exit::BadInput,
        ]
        .into_iter()
        .max();
        assert_eq!(worst, Some(Exit::BadInput));
        assert!(Exit::Incomplete > Exit::Findings && Exit::Findings > Exit::Clean);
        assert_eq!(
            [
                Exit::Clean,
                Exit::Findings,
                Exit::BadInput,
                Exit::Incomplete
            ]
            .map(Exit::code),
            [0, 1, 2, 3]
        );
    }
}
