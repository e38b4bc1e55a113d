//! The one-call operations on paths: metadata, directories, removal,
//! renaming, copying, links, permissions. Each is one job on the blocking
//! pool running its `std::fs` namesake.
//!
//! Used by applications. None of them can be cancelled once started: the
//! job runs to completion on its pool thread whatever happens to the
//! future, so a dropped call may or may not have taken effect. The table
//! in `docs/cancellation.md` says so once for all of them.
//!
//! Two of them can hold a pool thread for long, and are not cut into
//! chunks: `copy` (the kernel copies in one `copy_file_range` loop, which
//! keeps reflinks and server-side copies; chunking would lose them) and
//! `remove_dir_all` on a large tree.

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use super::asyncify;

/// Runs `f` on the pool with an owned copy of `path`.
async fn with_path<T, F>(path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    asyncify(move || f(path)).await
}

/// Runs `f` on the pool with owned copies of two paths.
async fn with_paths<T, F>(from: &Path, to: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(PathBuf, PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (from, to) = (from.to_owned(), to.to_owned());
    asyncify(move || f(from, to)).await
}

/// The metadata of `path`, following symbolic links (`stat`).
///
/// # Cancel safety
/// Cancel safe: it changes nothing.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path(path.as_ref(), std::fs::metadata).await
}

/// The metadata of `path` itself, not following a symbolic link (`lstat`).
///
/// # Cancel safety
/// Cancel safe: it changes nothing.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path(path.as_ref(), std::fs::symlink_metadata).await
}

/// Whether `path` exists (following links): `Ok(false)` for `NotFound`,
/// `Err` when that cannot be told (`PermissionDenied` on a parent, ...).
///
/// # Cancel safety
/// Cancel safe: it changes nothing.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    with_path(path.as_ref(), |p| p.try_exists()).await
}

/// The absolute path of `path`, with every link and `..` resolved
/// (`realpath`); `NotFound` if it does not exist.
///
/// # Cancel safety
/// Cancel safe: it changes nothing.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path(path.as_ref(), std::fs::canonicalize).await
}

/// What the symbolic link at `path` points to (`readlink`).
///
/// # Cancel safety
/// Cancel safe: it changes nothing.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path(path.as_ref(), std::fs::read_link).await
}

/// Creates the directory `path`; its parent must exist, and `path` must
/// not (`AlreadyExists`).
///
/// # Cancel safety
/// Not cancel safe: the directory may have been created.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::create_dir).await
}

/// Creates the directory `path` and any missing parent; `Ok` if it
/// exists already.
///
/// # Cancel safety
/// Not cancel safe: some of the directories may have been created.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::create_dir_all).await
}

/// Removes the file (or link) at `path`.
///
/// # Cancel safety
/// Not cancel safe: the file may have been removed.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_file).await
}

/// Removes the empty directory at `path`.
///
/// # Cancel safety
/// Not cancel safe: the directory may have been removed.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_dir).await
}

/// Removes the directory at `path` and everything in it (links are
/// removed, not followed). One job: a large tree holds a pool thread
/// until it is gone.
///
/// # Cancel safety
/// Not cancel safe: the removal goes on to its end on the pool.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_dir_all).await
}

/// Renames `from` to `to`, replacing `to` if it is a file (`rename`,
/// atomic on one file system; `CrossesDevices` across two).
///
/// # Cancel safety
/// Not cancel safe: the rename may have happened.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    with_paths(from.as_ref(), to.as_ref(), std::fs::rename).await
}

/// Copies the contents and permissions of the file `from` to `to`
/// (created or truncated); returns the bytes copied. The kernel copies
/// (`copy_file_range`) in one job, which keeps reflinks, so a huge file
/// holds a pool thread for as long as it takes.
///
/// # Cancel safety
/// Not cancel safe: the copy goes on to its end on the pool.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    with_paths(from.as_ref(), to.as_ref(), std::fs::copy).await
}

/// Makes `link` a new name (a hard link) for the file `original`.
///
/// # Cancel safety
/// Not cancel safe: the link may have been made.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths(original.as_ref(), link.as_ref(), std::fs::hard_link).await
}

/// Makes `link` a symbolic link to `original` (which need not exist).
///
/// # Cancel safety
/// Not cancel safe: the link may have been made.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths(original.as_ref(), link.as_ref(), std::os::unix::fs::symlink).await
}

/// Sets the permissions of `path` (`chmod`, following links).
///
/// # Cancel safety
/// Not cancel safe: the permissions may have changed.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    with_path(path.as_ref(), move |p| std::fs::set_permissions(p, perm)).await
}
