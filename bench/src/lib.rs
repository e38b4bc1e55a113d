//! Shared code for the ember echo-server benchmarks: command-line flags,
//! a latency histogram, thin `libc` epoll/socket wrappers, and the start-up
//! convention every echo server follows (`listening on ADDR`).

pub mod args;
pub mod hist;
pub mod server;
pub mod sys;
