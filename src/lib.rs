//! ember: a small, single-threaded async runtime for Linux, built from
//! scratch on epoll.
//!
//! A **reactor** maps file descriptors to the wakers of the tasks waiting
//! on them, through one edge-triggered epoll instance; an **executor** on
//! one thread polls tasks when they are woken. Together they make async
//! `accept`, `connect`, `read` and `write` resolve on readiness.
//!
//! ```
//! use ember::io::{AsyncReadExt, AsyncWriteExt};
//! use ember::net::{TcpListener, TcpStream};
//!
//! ember::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0")?;
//!     let addr = listener.local_addr()?;
//!     // An echo server, one task per connection.
//!     ember::spawn(async move {
//!         while let Ok((mut stream, _)) = listener.accept().await {
//!             ember::spawn(async move {
//!                 let mut buf = [0u8; 1024];
//!                 while let Ok(n @ 1..) = stream.read(&mut buf).await {
//!                     let _ = stream.write_all(&buf[..n]).await;
//!                 }
//!             });
//!         }
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut reply = [0u8; 5];
//!     client.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"hello");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Where `unsafe` lives
//! Only in `sys` (the system calls) and in `runtime::task` (pinning a
//! future inside its task cell). `docs/unsafe.md` lists every site and the
//! invariant it relies on.
//!
//! # What crosses threads
//! Tasks, sockets, `JoinHandle`s and the `Runtime` stay on their thread
//! (`!Send`); `Waker`s and `JoinError`s may go anywhere, and so may a
//! `TcpSocket`, which belongs to no runtime until it listens or connects
//! (bind it on one thread, listen on another: `docs/multicore.md`). The
//! compiler checks both directions:
//!
//! ```
//! fn send_sync<T: Send + Sync>() {}
//! send_sync::<ember::task::JoinError>();
//! send_sync::<std::task::Waker>();
//! send_sync::<ember::net::TcpSocket>();
//! ```
//! ```compile_fail
//! fn send<T: Send>() {}
//! send::<ember::net::TcpStream>();
//! ```
//! ```compile_fail
//! fn send<T: Send>() {}
//! send::<ember::task::JoinHandle<()>>();
//! ```
//! ```compile_fail
//! fn send<T: Send>() {}
//! send::<ember::Runtime>();
//! ```
//!
//! # Map
//! - [`block_on`], [`spawn`], [`Runtime`], [`Builder`]: the executor.
//! - [`task`]: `JoinHandle`, `JoinError`, `JoinSet`, `yield_now`,
//!   `consume_budget`.
//! - [`net`]: `TcpSocket` (options, then `listen` or `connect`),
//!   `TcpListener`, `TcpStream`, `UdpSocket`, `UnixListener`, `UnixStream`,
//!   `UnixDatagram`, `unix::pipe`, `ToSocketAddrs` and `lookup_host` (host
//!   names are resolved off the loop).
//! - [`io`]: `AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek` and
//!   their extension traits, `BufReader`, `BufWriter`, `copy`, `copy_buf`,
//!   `copy_bidirectional`, `split`, `take`, `chain`, `duplex`, `empty`,
//!   `sink`, `repeat`, `Async<T>` for any fd, and `Interest` and `Ready`
//!   for the sockets' `ready`.
//! - [`time`]: `sleep`, `sleep_until`, `timeout`, `timeout_at`,
//!   `interval`, `interval_at`, `Instant`, and a clock tests can stop:
//!   `pause`, `resume`, `advance`.
//! - [`sync`]: channels (`oneshot`, `mpsc`, `watch`, `broadcast`), `Notify`,
//!   `Semaphore`, `Mutex`, `RwLock`, `Barrier`, `OnceCell`, `SetOnce`; the
//!   channels, `Notify` and `Semaphore` usable from plain threads too.
//! - [`future`]: `join!`, `select!`, `poll_fn`, `pending`, `ready`.
//! - [`runtime::stats`]: counters of the running runtime; set
//!   `EMBER_TRACE=1` to watch the loop on stderr.
//! - [`runtime::pin_to_cpu`]: for one runtime per CPU, each thread on its
//!   own (`docs/multicore.md`, `examples/multicore_echo.rs`).
//! - [`spawn_blocking`]: the blocking pool, for work that would stop the
//!   loop (host-name lookups go there too).
//! - [`signal`]: `ctrl_c`, `Signals`.
//! - [`process`]: `Command`, `Child` and its pipes; a child's exit heard
//!   by the reactor (a pidfd, or `SIGCHLD`), dropped children reaped.
//! - [`fs`]: files and directories (`File`, `read`, `write`, `read_dir`,
//!   ...), on the blocking pool, in chunks.
//!
//! Internal modules: `reactor` (the registry of fds, their readiness and
//! waiters; it knows nothing above `sys`), `io::registered` (the one
//! registered-fd type under every socket and `Async<T>`, with the one
//! `WouldBlock` loop), `sys` (every system call), `trace` (`EMBER_TRACE`)
//! and `contain` (where the runtime calls user code whose panic must not
//! escape the loop: wakers, destructors). `docs/architecture.md` draws how the pieces fit.
//!
//! # Features
//! Everything above is on by default (the `full` feature). A program that
//! needs less turns the default off and names the parts it uses, and
//! compiles only those; the runtime itself is always there:
//!
//! | feature | adds |
//! | --- | --- |
//! | (none) | [`block_on`], [`spawn`], [`spawn_blocking`], [`Runtime`], [`Builder`], [`runtime::stats`], [`task`], [`future`], and `io`'s traits `AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek` |
//! | `net` | [`net`]: TCP, UDP and Unix sockets, Unix pipes and FIFOs (`net::unix::pipe`), `ToSocketAddrs`; and `io::Async<T>` |
//! | `io-util` | `io`'s extension traits (`AsyncReadExt`, ...) and their futures, `BufReader`, `BufWriter`, `copy`, `copy_buf`, `copy_bidirectional`, `split`, `Take`, `Chain`, `duplex`, `simplex`, `empty`, `sink`, `repeat` |
//! | `io-std` | `io::{stdin, stdout, stderr}` (on the blocking pool) |
//! | `time` | [`time`]: `sleep`, `timeout`, `interval`, ... |
//! | `sync` | [`sync`]: `oneshot`, `mpsc`, `watch`, `broadcast`, `Notify`, `Semaphore`, `Mutex`, `RwLock`, `Barrier`, `OnceCell`, `SetOnce` |
//! | `signal` | [`signal`]: `ctrl_c`, `Signals` |
//! | `process` | [`process`]: `Command`, `Child`, `ChildStdin`, `ChildStdout`, `ChildStderr` (turns on `signal`) |
//! | `fs` | [`fs`]: `File`, `OpenOptions`, `read`, `write`, `read_dir`, `metadata`, ... on the blocking pool |
//! | `full` (default) | all of the above |
//! | `futures-io` (off by default, not in `full`) | ember's stream sockets and their halves, `Async<T>`, `BufReader` and `BufWriter` also implement the `futures-io` traits |
//!
//! An echo server, for example, needs only this (`bench/buildsize/`
//! measures what it saves):
//!
//! ```toml
//! [dependencies]
//! ember = { version = "0.1", default-features = false, features = ["net", "io-util"] }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs, missing_debug_implementations)]

// Where user code whose panic must not escape the loop is called.
mod contain;
#[cfg(feature = "fs")]
pub mod fs;
pub mod future;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
#[cfg(feature = "net")]
pub mod net;
// Without `net` or `signal` nothing registers an fd: the loop still waits
// in the reactor (for the eventfd and the timers), but its registration
// half (`registration.rs`, `Reactor::register` and `deregister`, readiness
// clearing) has no caller. Gating it would scatter `cfg`s through the
// reactor's hot path to save about 200 lines of compiling, so it stays, and
// only in those builds is the dead-code lint off.
#[cfg(feature = "process")]
pub mod process;
#[cfg_attr(not(any(feature = "net", feature = "signal")), allow(dead_code))]
mod reactor;
pub mod runtime;
#[cfg(feature = "signal")]
pub mod signal;
#[cfg(feature = "sync")]
pub mod sync;
mod sys;
pub mod task;
#[cfg(feature = "time")]
pub mod time;
mod trace;
// Without the feature the module stays, private: the loop waits on its
// timer store whatever the features, and `net` pauses with its `Sleep`.
#[cfg(not(feature = "time"))]
mod time;

pub use runtime::{block_on, spawn, spawn_blocking, Builder, Runtime};
/// std's `pin!`, re-exported so `tokio::pin!` ports by renaming: pins a
/// future on the stack (`let mut f = ember::pin!(fut);`).
pub use std::pin::pin;

// Compiles the README's examples as doctests, so its first screen cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// Compiles the block at the end of `docs/from-tokio.md`, which names every
// ember path that page promises (`tests/docs_from_tokio.rs` checks that the
// tables name nothing else).
#[cfg(all(doctest, feature = "full"))]
#[doc = include_str!("../docs/from-tokio.md")]
struct FromTokioDoctests;
