//! `OpenOptions`: std's builder of `open(2)` flags, with an `open` that
//! runs on the blocking pool.
//!
//! Used by `File::{open, create, create_new}` and by applications. A thin
//! wrapper: the builder is `std::fs::OpenOptions` itself, moved into the
//! job by `open`.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{asyncify, File};

/// Options and flags for opening a [`File`]: the same builder as
/// `std::fs::OpenOptions`, with `open(..).await`.
///
/// ```
/// use ember::fs::OpenOptions;
/// use ember::io::AsyncWriteExt;
/// # let dir = std::env::temp_dir().join(format!("ember-doc-oo-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("log.txt");
/// # ember::block_on(async {
/// let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
/// log.write_all(b"one line\n").await?;
/// log.flush().await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All options off: set at least one of `read`, `write`, `append`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end (`O_APPEND`).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate to 0 bytes when opening (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists
    /// (`O_CREAT | O_EXCL`, atomic); `create` and `truncate` are ignored.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a file this creates (before the umask);
    /// `0o666` by default.
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    /// Extra `open(2)` flags (`O_NOFOLLOW`, `O_DIRECT`, ...), or'ed in.
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    /// Those of `std::fs::OpenOptions::open`: `NotFound`,
    /// `AlreadyExists`, `PermissionDenied`, `InvalidInput` for a
    /// combination that makes no sense.
    ///
    /// # Cancel safety
    /// Not cancel safe: if dropped while the job runs, the file is opened
    /// (and created, or truncated) there, then closed.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
