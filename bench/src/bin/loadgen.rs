//! Closed-loop ping-pong load generator on raw `libc` epoll, one thread,
//! sharing no code with the runtimes under test.
//!
//! Opens `--conns` TCP connections (TCP_NODELAY) to `--addr`. Each one sends
//! a `--size`-byte message, waits until all of it has been echoed back,
//! checks every byte, records the round-trip time and sends the next
//! message. Each message is a pseudo-random pattern derived from the
//! connection number and the round, so crossed, stale or corrupted echoes
//! are caught. The run lasts `--warmup` + `--secs` seconds (only the last
//! `--secs` are measured) or, with `--rtts N`, until every connection has
//! completed N round trips (all measured). At the end it prints one line:
//!
//! `conns=64 size=64 secs=5.00 rtts=123456 msgs_per_sec=24691.2 p50_us=40.1 p99_us=90.3 p999_us=120.5 max_us=800.2`
//!
//! and exits with status 1 if any connection failed, closed early, or echoed
//! a byte that differed from what was sent (status 2 for bad flags).
//!
//! `--idle N` instead opens N connections, does one `--size`-byte round
//! trip on each (so the server has accepted it and set it up), prints
//! `idle=N holding` and then holds them, silent, for `--secs` seconds: the
//! memory benchmark reads the server's RSS meanwhile. It raises its own
//! open-file limit to the hard limit first.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use ember_bench::args::Flags;
use ember_bench::hist::Histogram;
use ember_bench::sys::{Epoll, EMPTY_EVENT, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP};

const USAGE: &str = "usage: loadgen [--addr 127.0.0.1:7000] [--conns 64] [--size 64] \
                     [--secs 5] [--warmup 1] [--rtts N] [--idle N]";

/// How long to keep retrying to connect (the server may still be starting).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Give up if no round trip at all completes for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(10);

struct Config {
    addr: SocketAddr,
    conns: usize,
    size: usize,
    secs: f64,
    warmup: f64,
    /// Round trips per connection; when set, `secs` and `warmup` are ignored.
    rtts: Option<u64>,
    /// Hold this many idle connections instead of running load.
    idle: Option<usize>,
}

fn main() {
    let config = match parse_config() {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("loadgen: {msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let result = match config.idle {
        Some(n) => hold_idle(&config, n),
        None => run(&config),
    };
    match result {
        Ok(report) => println!("{report}"),
        Err(msg) => {
            eprintln!("loadgen: FAILED: {msg}");
            std::process::exit(1);
        }
    }
}

fn parse_config() -> Result<Config, String> {
    let known = ["addr", "conns", "size", "secs", "warmup", "rtts", "idle"];
    let flags = Flags::parse(std::env::args().skip(1), &known)?;
    let config = Config {
        addr: flags.get_or("addr", SocketAddr::from(([127, 0, 0, 1], 7000)))?,
        conns: flags.get_or("conns", 64)?,
        size: flags.get_or("size", 64)?,
        secs: flags.get_or("secs", 5.0)?,
        warmup: flags.get_or("warmup", 1.0)?,
        rtts: flags.get("rtts")?,
        idle: flags.get("idle")?,
    };
    if config.conns == 0 || config.size == 0 || config.rtts == Some(0) || config.idle == Some(0) {
        return Err("--conns, --size, --rtts and --idle must be at least 1".into());
    }
    // (Also bounded above so the Duration conversions cannot overflow.)
    let secs_ok = config.secs > 0.0 && config.secs < 1e6;
    let warmup_ok = config.warmup >= 0.0 && config.warmup < 1e6;
    if !secs_ok || !warmup_ok {
        return Err("--secs must be in (0, 1e6) and --warmup in [0, 1e6)".into());
    }
    Ok(config)
}

/// One client connection and the round trip it has in flight.
struct Conn {
    id: usize,
    stream: TcpStream,
    /// The message of the current round (what the echo must match).
    msg: Vec<u8>,
    /// Bytes of `msg` sent / received back so far this round.
    sent: usize,
    received: usize,
    /// When the current round's first byte was sent.
    started: Instant,
    /// Completed round trips.
    rounds: u64,
    /// Whether EPOLLOUT is in the interest set (only while a send is stuck).
    want_out: bool,
}

impl Conn {
    /// Starts the next round: a fresh message, sent as far as the socket takes it.
    fn start_round(&mut self, now: Instant, epoll: &Epoll) -> Result<(), String> {
        fill_pattern(&mut self.msg, self.id, self.rounds);
        self.sent = 0;
        self.received = 0;
        self.started = now;
        self.send_more(epoll)
    }

    /// Sends the rest of the message until done or the socket buffer is full;
    /// in the latter case asks epoll for EPOLLOUT to continue later.
    fn send_more(&mut self, epoll: &Epoll) -> Result<(), String> {
        while self.sent < self.msg.len() {
            match (&self.stream).write(&self.msg[self.sent..]) {
                Ok(0) => return Err(self.error("send returned 0")),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.error(format!("send: {e}"))),
            }
        }
        let want_out = self.sent < self.msg.len();
        if want_out != self.want_out {
            let events = if want_out {
                EPOLLIN | EPOLLOUT
            } else {
                EPOLLIN
            };
            epoll
                .modify(self.stream.as_raw_fd(), events, self.id as u64)
                .map_err(|e| self.error(format!("epoll_ctl: {e}")))?;
            self.want_out = want_out;
        }
        Ok(())
    }

    /// Reads (at most the rest of the message of) echoed bytes and checks
    /// them. Returns `true` once the whole message has come back. Between
    /// rounds nothing is expected, so any byte or EOF then is an error.
    fn receive(&mut self, scratch: &mut [u8]) -> Result<bool, String> {
        let expected = self.msg.len() - self.received;
        let want = expected.clamp(1, scratch.len());
        let n = loop {
            match (&self.stream).read(&mut scratch[..want]) {
                Ok(0) => return Err(self.error("server closed the connection")),
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.error(format!("recv: {e}"))),
            }
        };
        if n > expected || self.received + n > self.sent {
            return Err(self.error("server echoed more bytes than were sent"));
        }
        let sent = &self.msg[self.received..self.received + n];
        if let Some(i) = sent.iter().zip(&scratch[..n]).position(|(a, b)| a != b) {
            return Err(self.error(format!(
                "round {}: echoed byte {} is {:#04x}, sent {:#04x}",
                self.rounds,
                self.received + i,
                scratch[i],
                sent[i]
            )));
        }
        self.received += n;
        Ok(self.received == self.msg.len())
    }

    fn error(&self, msg: impl std::fmt::Display) -> String {
        format!("connection {}: {msg}", self.id)
    }
}

/// Fills `msg` with a pseudo-random (xorshift64*) byte stream seeded from
/// the connection number and round, so every message differs from the
/// previous one on the same connection and from those on other connections.
fn fill_pattern(msg: &mut [u8], conn: usize, round: u64) {
    let mut x = ((conn as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ round.wrapping_mul(0xD1B5_4A32_D192_ED03))
        | 1;
    for chunk in msg.chunks_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let bytes = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// Connects, retrying (e.g. on "connection refused" while the server is
/// still starting) until `deadline`.
fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, String> {
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let err = match TcpStream::connect_timeout(&addr, remaining.max(Duration::from_millis(1))) {
            Ok(stream) => return Ok(stream),
            Err(e) => e,
        };
        if Instant::now() + Duration::from_millis(50) >= deadline {
            return Err(format!(
                "could not connect to {addr} within {}s (is the server running?): {err}",
                CONNECT_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(config: &Config) -> Result<String, String> {
    let epoll = Epoll::new().map_err(|e| format!("epoll_create1: {e}"))?;
    let connect_deadline = Instant::now() + CONNECT_TIMEOUT;
    let mut conns = Vec::with_capacity(config.conns);
    for id in 0..config.conns {
        let stream = connect(config.addr, connect_deadline)?;
        let setup = |stream: &TcpStream| -> std::io::Result<()> {
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            epoll.add(stream.as_raw_fd(), EPOLLIN, id as u64)
        };
        setup(&stream).map_err(|e| format!("connection {id}: setup: {e}"))?;
        conns.push(Conn {
            id,
            stream,
            msg: vec![0; config.size],
            sent: 0,
            received: 0,
            started: Instant::now(),
            rounds: 0,
            want_out: false,
        });
    }

    // Duration mode measures [measure_from, stop_at); rtts mode measures all.
    let start = Instant::now();
    let (measure_from, stop_at) = match config.rtts {
        Some(_) => (start, None),
        None => {
            let from = start + Duration::from_secs_f64(config.warmup);
            (from, Some(from + Duration::from_secs_f64(config.secs)))
        }
    };
    for conn in &mut conns {
        conn.start_round(start, &epoll)?;
    }

    let mut hist = Histogram::new();
    let mut active = conns.len(); // Connections that have not finished (rtts mode).
    let mut last_done = start; // Latest round-trip completion.
    let mut scratch = vec![0u8; 64 * 1024];
    let mut events = vec![EMPTY_EVENT; 1024];
    loop {
        let now = Instant::now();
        if active == 0 || stop_at.is_some_and(|stop| now >= stop) {
            break;
        }
        if now.duration_since(last_done) > STALL_TIMEOUT {
            return Err(format!(
                "no round trip completed for {}s",
                STALL_TIMEOUT.as_secs()
            ));
        }
        // Wake at least every 100 ms to check the deadlines above.
        let until_stop = stop_at.map_or(Duration::MAX, |stop| stop - now);
        let timeout_ms = until_stop
            .min(Duration::from_millis(100))
            .as_millis()
            .max(1) as i32;
        let n = epoll
            .wait(&mut events, timeout_ms)
            .map_err(|e| format!("epoll_wait: {e}"))?;
        for event in &events[..n] {
            // Copy the fields out: epoll_event is packed on x86_64.
            let (token, flags) = (event.u64, event.events as libc::c_int);
            let conn = &mut conns[token as usize];
            if flags & EPOLLOUT != 0 && conn.sent < conn.msg.len() {
                conn.send_more(&epoll)?;
            }
            if flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) == 0
                || !conn.receive(&mut scratch)?
            {
                continue;
            }
            // A round trip completed.
            let done = Instant::now();
            last_done = done;
            if conn.started >= measure_from && stop_at.is_none_or(|stop| done <= stop) {
                hist.record(done.duration_since(conn.started).as_nanos() as u64);
            }
            conn.rounds += 1;
            if config.rtts == Some(conn.rounds) {
                active -= 1; // Done: leave it idle (anything it receives now is an error).
            } else {
                conn.start_round(done, &epoll)?;
            }
        }
    }

    let secs = match stop_at {
        Some(_) => config.secs,
        None => last_done.duration_since(start).as_secs_f64(),
    };
    let rtts = hist.count();
    let us = |nanos: u64| nanos as f64 / 1000.0;
    Ok(format!(
        "conns={} size={} secs={:.2} rtts={} msgs_per_sec={:.1} p50_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1}",
        config.conns,
        config.size,
        secs,
        rtts,
        rtts as f64 / secs.max(1e-9),
        us(hist.quantile(0.50)),
        us(hist.quantile(0.99)),
        us(hist.quantile(0.999)),
        us(hist.max()),
    ))
}

/// `--idle N`: opens N connections, one round trip each, then holds them.
fn hold_idle(config: &Config, n: usize) -> Result<String, String> {
    raise_fd_limit();
    let mut conns = Vec::with_capacity(n);
    let mut msg = vec![0u8; config.size];
    let mut echo = vec![0u8; config.size];
    for id in 0..n {
        let mut stream = connect(config.addr, Instant::now() + CONNECT_TIMEOUT)?;
        fill_pattern(&mut msg, id, 0);
        let mut round_trip = |stream: &mut TcpStream| -> std::io::Result<()> {
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(STALL_TIMEOUT))?;
            stream.write_all(&msg)?;
            stream.read_exact(&mut echo)
        };
        round_trip(&mut stream).map_err(|e| format!("idle connection {id}: {e}"))?;
        if echo != msg {
            return Err(format!("idle connection {id}: the echo differs"));
        }
        conns.push(stream);
    }
    println!("idle={n} holding");
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs_f64(config.secs));
    Ok(format!("idle={n} released"))
}

/// Raises the soft limit on open files to the hard limit (best effort).
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid rlimit; raising the soft limit up to
        // the hard one needs no privilege, and failure leaves it unchanged.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}
