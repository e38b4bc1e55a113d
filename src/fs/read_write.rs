//! `read`, `read_to_string` and `write`: a whole file in one call, moved
//! through the blocking pool in chunks.
//!
//! Used by applications. Each job reads or writes at most
//! [`DEFAULT_MAX_BUF_SIZE`] bytes (2 MiB), then hands the file and the
//! bytes back to the loop, which starts the next job: a 1 GiB file is 512
//! short jobs, not one that holds a pool thread for seconds, and other
//! `spawn_blocking` work queued meanwhile gets its turn between them. A
//! file up to one chunk costs one job, open included.

use std::io::{self, Read, Write};
use std::path::Path;

use super::asyncify;
use super::file::DEFAULT_MAX_BUF_SIZE;

/// Reads the whole file at `path` into a `Vec`.
///
/// # Errors
/// Those of `std::fs::read` (`NotFound`, `PermissionDenied`, `IsADirectory`,
/// ...), and `OutOfMemory` if the file's size cannot be reserved.
///
/// # Cancel safety
/// Cancel safe in effect (reading changes nothing): the chunk being read
/// finishes on the pool and is dropped there.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ember-doc-read-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("greeting");
/// # ember::block_on(async {
/// ember::fs::write(&path, b"hello").await?;
/// assert_eq!(ember::fs::read(&path).await?, b"hello");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    let mut chunk = asyncify(move || {
        let file = std::fs::File::open(path)?;
        // The size is a hint (a file in /proc says 0): reserve it so the
        // buffer is allocated once, then read as if it were unknown.
        let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(usize::try_from(hint).unwrap_or(usize::MAX))
            .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
        read_chunk(file, bytes)
    })
    .await?;
    while !chunk.done {
        let Chunk { file, bytes, .. } = chunk;
        chunk = asyncify(move || read_chunk(file, bytes)).await?;
    }
    Ok(chunk.bytes)
}

/// Reads the whole file at `path` into a `String`.
///
/// # Errors
/// As [`read`], and `InvalidData` if the file is not UTF-8.
///
/// # Cancel safety
/// As [`read`].
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Writes `contents` to the file at `path`, creating it or replacing what
/// it held (`O_CREAT | O_TRUNC`).
///
/// The bytes are copied once, so that the jobs on the pool own them.
///
/// # Errors
/// Those of `std::fs::write`. After an error the file holds a prefix of
/// `contents`.
///
/// # Cancel safety
/// Not cancel safe: if dropped midway, the file holds a prefix of
/// `contents` (the chunk in flight completes on the pool).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let bytes = contents.as_ref().to_vec();
    let mut chunk = asyncify(move || {
        let file = std::fs::File::create(path)?;
        write_chunk(file, bytes, 0)
    })
    .await?;
    while chunk.written < chunk.bytes.len() {
        let WriteChunk {
            file,
            bytes,
            written,
        } = chunk;
        chunk = asyncify(move || write_chunk(file, bytes, written)).await?;
    }
    Ok(())
}

/// A file being read, what was read so far, and whether it ended.
struct Chunk {
    file: std::fs::File,
    bytes: Vec<u8>,
    done: bool,
}

/// On the pool: appends at most one chunk of `file` to `bytes`.
fn read_chunk(file: std::fs::File, mut bytes: Vec<u8>) -> io::Result<Chunk> {
    let limit = DEFAULT_MAX_BUF_SIZE as u64;
    // `Take` ends each `read_to_end` after one chunk; fewer bytes than
    // that means the file ended. (`read_to_end` retries `Interrupted`.)
    let n = (&file).take(limit).read_to_end(&mut bytes)?;
    Ok(Chunk {
        file,
        bytes,
        done: (n as u64) < limit,
    })
}

/// A file being written, the bytes, and how many are written.
struct WriteChunk {
    file: std::fs::File,
    bytes: Vec<u8>,
    written: usize,
}

/// On the pool: writes the chunk of `bytes` that starts at `written`.
fn write_chunk(file: std::fs::File, bytes: Vec<u8>, written: usize) -> io::Result<WriteChunk> {
    let end = bytes.len().min(written + DEFAULT_MAX_BUF_SIZE);
    (&file).write_all(&bytes[written..end])?;
    Ok(WriteChunk {
        file,
        bytes,
        written: end,
    })
}
