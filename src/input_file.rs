//! The one way plumb reads a user's file from disk: plumb.yaml, policy and policy-test files,
//! manifests for `compare`, live files, a baseline report.
//!
//! Only regular files are read, and only up to a size limit (limits.rs), so a FIFO, a device such
//! as /dev/zero or a file that never ends cannot hang plumb or grow its memory without bound. The
//! file is opened without blocking and checked after opening, so swapping it for a FIFO between
//! a check and the read changes nothing.

use crate::limits::{MAX_CONFIG_BYTES, MAX_LIVE_FILE_BYTES, MAX_MANIFEST_BYTES, MAX_REPORT_BYTES};
use std::io::Read;
use std::path::Path;

/// What a file is read as: which limit applies, and how messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// plumb.yaml, a policy file or a policy-test file.
    Config,
    /// A manifest file (`plumb compare`, `plumb init`).
    Manifest,
    /// A snapshot or a `kubectl get` List.
    Live,
    /// A previous JSON report (`--baseline`).
    Report,
}

impl InputKind {
    pub fn limit(self) -> u64 {
        match self {
            InputKind::Config => MAX_CONFIG_BYTES,
            InputKind::Manifest => MAX_MANIFEST_BYTES,
            InputKind::Live => MAX_LIVE_FILE_BYTES,
            InputKind::Report => MAX_REPORT_BYTES,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            InputKind::Config => "a configuration, policy or policy-test file",
            InputKind::Manifest => "a manifest file",
            InputKind::Live => "a live-state file",
            InputKind::Report => "a report",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a regular file (it is {what})\n  help: pass a file; plumb does not read pipes, devices or sockets, which may never end"
    )]
    NotRegular { path: String, what: &'static str },
    #[error(
        "{path} is larger than {limit} bytes, plumb's limit for {what}\n  help: check that this is the file you meant; docs/security.md lists the limits"
    )]
    TooLarge {
        path: String,
        limit: u64,
        what: &'static str,
    },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

/// The bytes of a regular file no larger than `kind`'s limit.
pub fn read_bytes(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputFileError> {
    let name = || path.display().to_string();
    let read_error = |source| InputFileError::Read {
        path: name(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Opening a FIFO for reading blocks until a writer comes; without blocking it returns at
        // once, and the check below refuses it.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(InputFileError::NotRegular {
            path: name(),
            what: file_type_name(&metadata.file_type()),
        });
    }
    let limit = kind.limit();
    let too_large = || InputFileError::TooLarge {
        path: name(),
        limit,
        what: kind.describe(),
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // The file may grow while it is read: read one byte past the limit to know.
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of a regular file no larger than `kind`'s limit.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputFileError> {
    String::from_utf8(read_bytes(path, kind)?).map_err(|_| InputFileError::NotText {
        path: path.display().to_string(),
    })
}

fn file_type_name(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_pipes_are_refused_at_once() {
        let err = read_bytes(Path::new("/dev/zero"), InputKind::Live).unwrap_err();
        assert!(
            err.to_string()
                .contains("is not a regular file (it is a device)"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_text(&fifo, InputKind::Config).unwrap_err();
        assert!(err.to_string().contains("a named pipe (FIFO)"), "{err}");
        let err = read_text(dir.path(), InputKind::Config).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_naming_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_CONFIG_BYTES + 1)
            .unwrap();
        let err = read_text(&big, InputKind::Config).unwrap_err().to_string();
        assert!(
            err.contains(&format!("is larger than {MAX_CONFIG_BYTES} bytes")),
            "{err}"
        );
        std::fs::write(&big, "a: 1\n").unwrap();
        assert_eq!(read_text(&big, InputKind::Config).unwrap(), "a: 1\n");
    }
}
