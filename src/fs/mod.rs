//! Files and directories, on the blocking pool.
//!
//! Linux has no readiness for regular files (epoll refuses them, and a
//! read from a slow disk or a network file system simply blocks), so, as
//! in tokio, every operation here is a job for the blocking pool
//! ([`spawn_blocking`](crate::spawn_blocking)) and the loop goes on
//! running other tasks meanwhile. Reads and writes of any size go in
//! chunks of at most 2 MiB per job, so one call never holds a pool thread
//! for seconds; other blocking work queued meanwhile gets its turn
//! between two chunks.
//!
//! | need | use |
//! | --- | --- |
//! | a whole file | [`read`], [`read_to_string`], [`write()`] |
//! | a file to read, write, seek | [`File`] ([`OpenOptions`] for the flags), with `AsyncReadExt`, `AsyncWriteExt`, `AsyncSeekExt` |
//! | a directory's entries | [`read_dir`]: [`ReadDir`] (`next_entry`, or a `Stream`) of [`DirEntry`] |
//! | metadata | [`metadata`], [`symlink_metadata`], [`try_exists`], [`File::metadata`] |
//! | directories | [`create_dir`], [`create_dir_all`], [`remove_dir`], [`remove_dir_all`] |
//! | names and links | [`rename`], [`remove_file`], [`copy`], [`hard_link`], [`symlink`], [`read_link`], [`canonicalize`] |
//! | permissions | [`set_permissions`], [`File::set_permissions`] |
//!
//! Every function needs a running ember runtime (it panics outside one,
//! as `spawn_blocking` does). Errors are `std`'s `io::Error`s, unchanged
//! (`NotFound`, `PermissionDenied`, ...).
//!
//! # Writes to a `File` run in the background
//! As in tokio, `File::write` returns once its bytes are handed to the
//! pool; the next operation waits for that job, and `flush().await`
//! reports its error. See [`File`].
//!
//! # Cancellation
//! A job cannot be stopped once the pool has it. Dropping a future here
//! abandons the result, not the operation: a dropped `remove_file` may
//! still remove the file. `docs/cancellation.md` lists each function.
//!
//! Files: `file.rs` (`File` and its state machine), `buf.rs` (the bytes
//! a `File` lends its jobs), `open_options.rs`, `read_dir.rs`,
//! `read_write.rs` (whole files, in chunks), `path_ops.rs` (the rest, one
//! job each). Needs the `fs` feature.

mod buf;
mod file;
mod open_options;
mod path_ops;
mod read_dir;
mod read_write;

pub use file::File;
pub use open_options::OpenOptions;
pub use path_ops::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read_link, remove_dir,
    remove_dir_all, remove_file, rename, set_permissions, symlink, symlink_metadata, try_exists,
};
pub use read_dir::{read_dir, DirEntry, ReadDir};
pub use read_write::{read, read_to_string, write};

use std::io;

/// Runs `f` on the blocking pool; a lost job (the runtime shutting down)
/// or a panic inside `f` becomes an `io::Error`.
async fn asyncify<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match crate::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(e.into()),
    }
}
