//! A file on its way in: written to a temporary file as it arrives, counted against the
//! limit and hashed on the way, so no upload is ever held whole in memory. Once uploaded, the
//! store keeps it in chunks and hands it back the same way.

use super::source;
use crate::error::{Error, ErrorCode, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// The largest file the server takes as an upload; bigger ones go through the command line.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A file uploaded (or taken back from the store) into a temporary file, deleted when dropped.
#[derive(Debug)]
pub struct Upload {
    file: tempfile::NamedTempFile,
    pub name: String,
    pub len: u64,
    pub sha256: String,
}

impl Upload {
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// A reader from the start of the file.
    pub fn reader(&self) -> Result<std::fs::File> {
        self.file.reopen().map_err(|e| io_error(&e))
    }

    /// A file already in memory (the command line, tests).
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Upload> {
        let mut file = tempfile::NamedTempFile::new().map_err(|e| io_error(&e))?;
        std::io::Write::write_all(&mut file, bytes).map_err(|e| io_error(&e))?;
        Ok(Upload {
            file,
            name: name.to_string(),
            len: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
    }

    /// An empty file to fill (the store writes a kept file back into it).
    pub fn empty(name: &str) -> Result<(Upload, std::fs::File)> {
        let file = tempfile::NamedTempFile::new().map_err(|e| io_error(&e))?;
        let writer = file.reopen().map_err(|e| io_error(&e))?;
        Ok((
            Upload {
                file,
                name: name.to_string(),
                len: 0,
                sha256: String::new(),
            },
            writer,
        ))
    }
}

fn io_error(e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::Unavailable,
        format!("the upload could not be kept for reading: {e}"),
    )
}

/// Writes an upload as it arrives.
pub struct UploadWriter {
    temp: tempfile::NamedTempFile,
    file: tokio::fs::File,
    hasher: Sha256,
    len: u64,
    name: String,
}

impl UploadWriter {
    /// Start an upload of a file with this name; a kind of file that cannot be imported is
    /// refused before a byte is written.
    pub fn new(name: &str) -> Result<Self> {
        source::refuse_unknown(name)?;
        let temp = tempfile::NamedTempFile::new().map_err(|e| io_error(&e))?;
        let file = tokio::fs::File::from_std(temp.reopen().map_err(|e| io_error(&e))?);
        Ok(UploadWriter {
            temp,
            file,
            hasher: Sha256::new(),
            len: 0,
            name: name.to_string(),
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.len += chunk.len() as u64;
        if self.len > MAX_UPLOAD_BYTES as u64 {
            return Err(too_large());
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(|e| io_error(&e))
    }

    pub async fn finish(mut self) -> Result<Upload> {
        self.file.flush().await.map_err(|e| io_error(&e))?;
        Ok(Upload {
            file: self.temp,
            name: self.name,
            len: self.len,
            sha256: self.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

pub fn too_large() -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "upload at most {} MB, or import the file with `anchora import`",
            MAX_UPLOAD_BYTES / 1_048_576
        ),
    )
}
