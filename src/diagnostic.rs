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
            source_code: Some(NamedSource::new(file, text.to_string())),
            // miette cannot draw a label further right than a format width reaches (65,535)
            // and panics trying; a column that far out gets no snippet, only file:line:column.
            span: offset_of(text, line, column)
                .filter(|_| column <= crate::limits::MAX_SNIPPET_COLUMN)
                .map(|offset| SourceSpan::from((offset, 1))),
            ..Self::without_snippet(file, line, column, message)
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
    fn an_error_far_out_on_a_long_line_renders_without_a_snippet() {
        // Found by tests/fuzz.rs: miette panicked drawing a label at column 70,001.
        let text = format!("a: {}: b\n", "x".repeat(70_000));
        let error = LocatedError::new("p.yaml", &text, 1, 70_004, "mapping values are not allowed");
        assert!(error.span.is_none());
        let mut rendered = String::new();
        miette::GraphicalReportHandler::new()
            .render_report(&mut rendered, &error)
            .unwrap();
        assert!(
            rendered.contains("mapping values are not allowed"),
            "{rendered}"
        );
        let near = LocatedError::new("p.yaml", &text, 1, 4, "here");
        assert!(near.span.is_some());
    }

    #[test]
    fn offsets_point_into_the_line() {
        assert_eq!(offset_of("ab\ncd\n", 2, 2), Some(4));
        assert_eq!(offset_of("ab\ncd\n", 0, 0), None);
        assert_eq!(find_line("a: 1\nfoo: 2\n", "foo"), (2, 1));
    }
}
