//! TCP echo load generator (bench/tcp_echo.sh).
//!
//! `conns` connections each keep one message of `size` bytes in flight:
//! write it, read the echo back in full, again. Round trips during the first
//! `warmup` seconds are not counted; then for `seconds` every round trip's
//! latency goes into a histogram with one-microsecond buckets. The
//! connections are spread over `threads` OS threads, each running its own
//! single-threaded tokio runtime (no work stealing, no cross-thread wake-ups:
//! the cheapest client tokio gives, so the server is the bottleneck).
//!
//! With `--pid P` it also reads the CPU time process P (the server) used
//! while measuring, from /proc/P/stat, and prints it per round trip.
//!
//! Usage: loadgen HOST PORT [--conns 50] [--size 64] [--seconds 10]
//!                [--warmup 1] [--threads 1] [--name tcp_echo] [--pid P]
//! Output: `RESULT <name>_rate <rt/s> rt/s`, `RESULT <name>_p50 <µs> us`,
//!         `RESULT <name>_p99 <µs> us`, with `--pid` `RESULT <name>_server_cpu
//!         <µs> us/rt`, and INFO lines (client and server CPU use).

use std::io;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Latencies above this land in the last bucket.
const MAX_US: usize = 200_000;

struct Options {
    host: String,
    port: u16,
    conns: usize,
    size: usize,
    seconds: f64,
    warmup: f64,
    threads: usize,
    name: String,
    pid: Option<u32>,
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let host = args.next().ok_or("usage: loadgen HOST PORT [--conns N] [--size B] [--seconds S] [--warmup S] [--threads T] [--name N] [--pid P]")?;
    let port = args.next().and_then(|p| p.parse().ok()).ok_or("PORT must be a number")?;
    let mut o = Options { host, port, conns: 50, size: 64, seconds: 10.0, warmup: 1.0, threads: 1, name: "tcp_echo".into(), pid: None };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--conns" => o.conns = value.parse().map_err(|_| bad.clone())?,
            "--size" => o.size = value.parse().map_err(|_| bad.clone())?,
            "--seconds" => o.seconds = value.parse().map_err(|_| bad.clone())?,
            "--warmup" => o.warmup = value.parse().map_err(|_| bad.clone())?,
            "--threads" => o.threads = value.parse().map_err(|_| bad.clone())?,
            "--name" => o.name = value,
            "--pid" => o.pid = Some(value.parse().map_err(|_| bad.clone())?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.conns == 0 || o.size == 0 || o.threads == 0 || !(o.seconds > 0.0) || !(o.warmup >= 0.0) {
        return Err("conns, size, threads and seconds must be positive".into());
    }
    Ok(o)
}

/// Round trips per microsecond of latency, over the measured window.
struct Histogram(Vec<u64>);

impl Histogram {
    fn new() -> Histogram {
        Histogram(vec![0; MAX_US + 1])
    }

    fn add(&mut self, latency: Duration) {
        self.0[(latency.as_micros() as usize).min(MAX_US)] += 1;
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The latency (µs) at or below which `pct` percent of round trips fall.
    fn percentile(&self, pct: f64) -> usize {
        let want = ((self.count() as f64) * pct / 100.0).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (us, n) in self.0.iter().enumerate() {
            seen += n;
            if seen >= want {
                return us;
            }
        }
        MAX_US
    }
}

/// One connection: round trips until `end`, counted from `start`.
async fn connection(addr: (String, u16), size: usize, start: Instant, end: Instant) -> io::Result<Histogram> {
    let mut hist = Histogram::new();
    let mut sock = tokio::net::TcpStream::connect((addr.0.as_str(), addr.1)).await?;
    sock.set_nodelay(true)?;
    let out = vec![b'x'; size];
    let mut back = vec![0u8; size];
    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok(hist);
        }
        sock.write_all(&out).await?;
        sock.read_exact(&mut back).await?;
        if sent >= start {
            hist.add(sent.elapsed());
        }
    }
}

/// One thread's share of the connections, on its own runtime.
fn thread_main(o: &Options, conns: usize, start: Instant, end: Instant) -> io::Result<Histogram> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio::spawn(connection((o.host.clone(), o.port), o.size, start, end)))
            .collect();
        let mut total = Histogram::new();
        for task in tasks {
            total.merge(&task.await.map_err(io::Error::other)??);
        }
        Ok(total)
    })
}

/// utime + stime of process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now() + Duration::from_secs_f64(o.warmup);
    let end = start + Duration::from_secs_f64(o.seconds);
    let own0 = cpu_ticks(std::process::id());
    let mut server0 = None;
    let hist = std::thread::scope(|scope| {
        let o = &o;
        let workers: Vec<_> = (0..o.threads)
            .map(|t| {
                let conns = o.conns / o.threads + usize::from(t < o.conns % o.threads);
                scope.spawn(move || thread_main(o, conns, start, end))
            })
            .collect();
        // The server's CPU time is read when the measured window opens.
        std::thread::sleep(start.saturating_duration_since(Instant::now()));
        server0 = o.pid.and_then(cpu_ticks);
        let mut total = Histogram::new();
        for w in workers {
            match w.join() {
                Ok(Ok(h)) => total.merge(&h),
                Ok(Err(e)) => {
                    eprintln!("loadgen: {e}");
                    std::process::exit(1);
                }
                Err(_) => std::process::exit(1),
            }
        }
        total
    });
    let server1 = o.pid.and_then(cpu_ticks);
    let measured = Instant::now().saturating_duration_since(start).as_secs_f64().max(1e-9);
    let n = hist.count();
    let rate = n as f64 / measured;
    println!("RESULT {}_rate {:.2} rt/s", o.name, rate);
    println!("RESULT {}_p50 {} us", o.name, hist.percentile(50.0));
    println!("RESULT {}_p99 {} us", o.name, hist.percentile(99.0));
    let hz = ticks_per_second();
    if let (Some(a), Some(b)) = (own0, cpu_ticks(std::process::id())) {
        let total = o.warmup + measured;
        println!("INFO {} client cpu {:.0}% of one core (threads={}, conns={}, size={})", o.name, 100.0 * (b - a) as f64 / hz / total, o.threads, o.conns, o.size);
    }
    if let (Some(a), Some(b)) = (server0, server1) {
        let cpu = (b - a) as f64 / hz;
        println!(
            "INFO {} server cpu {:.0}% of one core, {:.1} us per round trip",
            o.name,
            100.0 * cpu / measured,
            if n > 0 { cpu * 1e6 / n as f64 } else { 0.0 }
        );
        println!("RESULT {}_server_cpu {:.2} us/rt", o.name, if n > 0 { cpu * 1e6 / n as f64 } else { 0.0 });
    }
}
