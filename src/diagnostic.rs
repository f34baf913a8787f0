//! Errors in files the user wrote (plumb.yaml, policy files, policy tests), located by file, line
//! and column. plumb.yaml and policy files hold no secrets, so miette renders a snippet of the
//! place; a policy test holds objects (Secrets among them), so its errors carry no snippet.

use miette::{Diagnostic, NamedSource, SourceSpan};

/// An error at a place in a user's file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{column}: {message}")]
pub struct LocatedError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    pub source_code: Option<NamedSource<String>>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

impl LocatedError {
    /// Builds the error; `line`/`column` are 1-based (0 when unknown).
    pub fn new(file: &str, text: &str, line: u64, column: u64, message: impl Into<String>) -> Self {
        LocatedError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            help: None,
            source_code: Some(NamedSource::new(file, text.to_string())),
            span: offset_of(text, line, column).map(|offset| SourceSpan::from((offset, 1))),
        }
    }

    /// The error without a snippet: for files whose text may hold Secret data.
    pub fn without_snippet(file: &str, line: u64, column: u64, message: impl Into<String>) -> Self {
        LocatedError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            help: None,
            source_code: None,
            span: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line - 1).ok()?)
        .map(str::len)
        .sum();
    let line_len = text[line_start..].split('\n').next().map_or(0, str::len);
    let column = usize::try_from(column.max(1) - 1).ok()?.min(line_len);
    Some(line_start + column)
}

/// The 1-based line and column of the first line of `text` that contains `needle`, for validation
/// errors found after parsing.
pub fn find_line(text: &str, needle: &str) -> (u64, u64) {
    find_line_with(text, "", needle)
}

/// Like [`find_line`], for the first line that contains `context` and then `needle`.
pub fn find_line_with(text: &str, context: &str, needle: &str) -> (u64, u64) {
    for (i, line) in text.lines().enumerate() {
        if let Some(start) = line.find(context)
            && let Some(col) = line[start..].find(needle)
        {
            return (i as u64 + 1, (start + col) as u64 + 1);
        }
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_point_into_the_line() {
        assert_eq!(offset_of("ab\ncd\n", 2, 2), Some(4));
        assert_eq!(offset_of("ab\ncd\n", 0, 0), None);
        assert_eq!(find_line("a: 1\nfoo: 2\n", "foo"), (2, 1));
    }
}
