//! Shared code for the ember benchmarks: command-line flags, a latency
//! histogram, the HTTP servers' request parser, the micro-benchmarks' helpers, thin `libc` epoll/socket
//! wrappers, and the start-up convention every server follows
//! (`listening on ADDR`).

pub mod args;
pub mod hist;
pub mod http;
pub mod micro;
pub mod server;
pub mod sys;
