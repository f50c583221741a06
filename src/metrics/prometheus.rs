//! A reading of the node in the Prometheus text exposition format (0.0.4):
//! `# HELP` and `# TYPE` before each family, label values escaped, every
//! family present even when it has no series yet (`promtool check
//! metrics` accepts the result; the busted spec runs it).

use super::{Process, ServiceRow};
use crate::runtime::stats::{BUCKETS, Outcome};
use std::fmt::Write;

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One series per live service of a per-service family.
fn per_service(out: &mut String, rows: &[ServiceRow], name: &str, kind: &str, help: &str, value: impl Fn(&ServiceRow) -> String) {
    family(out, name, kind, help);
    for row in rows {
        let _ = writeln!(out, "{name}{{id=\"{}\",name=\"{}\"}} {}", row.id, escape(&row.name), value(row));
    }
}

/// Prometheus's float syntax (whole numbers without a fraction are fine too).
fn float(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "NaN".into() }
}

/// The text of one scrape.
pub fn render(rows: &[ServiceRow], p: &Process) -> String {
    let mut out = String::with_capacity(512 + rows.len() * 400);
    family(&mut out, "skynet_services", "gauge", "Live services, the main script included.");
    let _ = writeln!(out, "skynet_services {}", p.services);
    per_service(&mut out, rows, "skynet_service_memory_bytes", "gauge", "Bytes of the service's Lua heap.", |r| r.memory.to_string());
    per_service(&mut out, rows, "skynet_service_queue_length", "gauge", "Messages waiting in the service's queue.", |r| r.queue.to_string());
    per_service(&mut out, rows, "skynet_service_messages_total", "counter", "Messages handled by the service.", |r| r.messages.to_string());
    per_service(&mut out, rows, "skynet_service_cpu_seconds_total", "counter", "Time spent handling the service's messages.", |r| {
        float(r.cpu.as_secs_f64())
    });
    family(&mut out, "skynet_messages_total", "counter", "Messages handled by all services, ended ones included.");
    let _ = writeln!(out, "skynet_messages_total {}", p.messages);
    family(&mut out, "skynet_rpc_calls_total", "counter", "rpc calls made by services of this node, by how they ended.");
    for outcome in Outcome::ALL {
        let _ = writeln!(out, "skynet_rpc_calls_total{{result=\"{}\"}} {}", outcome.label(), p.calls[outcome as usize]);
    }
    let name = "skynet_rpc_call_duration_seconds";
    family(&mut out, name, "histogram", "Time from an rpc call to its answer (or timeout).");
    let cumulative = |i: usize| p.call_durations.cumulative.get(i).copied().unwrap_or(0);
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", cumulative(i));
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", p.call_durations.count());
    let _ = writeln!(out, "{name}_sum {}", float(p.call_durations.sum_seconds));
    let _ = writeln!(out, "{name}_count {}", p.call_durations.count());
    family(&mut out, "skynet_worker_busy_seconds_total", "counter", "Time each worker thread spent handling messages.");
    for (worker, busy) in p.busy.iter().enumerate() {
        let _ = writeln!(out, "skynet_worker_busy_seconds_total{{worker=\"{worker}\"}} {}", float(busy.as_secs_f64()));
    }
    family(&mut out, "skynet_sockets", "gauge", "Open sockets: connections and listening servers.");
    let _ = writeln!(out, "skynet_sockets {}", p.sockets);
    family(&mut out, "skynet_cluster_links", "gauge", "Open links to other cluster nodes (a connected NATS server counts as one).");
    let _ = writeln!(out, "skynet_cluster_links {}", p.links);
    family(&mut out, "skynet_timers", "gauge", "Armed os.timer objects.");
    let _ = writeln!(out, "skynet_timers {}", p.timers);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stats::Histogram;
    use std::time::Duration;

    fn row(id: u32, name: &str) -> ServiceRow {
        ServiceRow {
            id,
            name: name.into(),
            worker: Some(0),
            state: "running",
            memory: 2048,
            queue: 3,
            messages: 10,
            cpu: Duration::from_millis(1500),
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
    }

    #[test]
    fn every_family_is_typed_and_series_carry_their_labels() {
        let h = Histogram::default();
        h.observe(80_000);
        h.observe(30_000_000_000);
        let mut p = Process { services: 2, workers: 2, sockets: 1, links: 0, timers: 4, calls: [5, 1, 0, 2, 0], ..Process::default() };
        h.add_to(&mut p.call_durations);
        p.busy = vec![Duration::from_millis(250), Duration::ZERO];
        let text = render(&[row(1, "main"), row(7, "we\"ird")], &p);
        for line in [
            "# TYPE skynet_services gauge",
            "skynet_services 2",
            "skynet_service_memory_bytes{id=\"1\",name=\"main\"} 2048",
            "skynet_service_queue_length{id=\"7\",name=\"we\\\"ird\"} 3",
            "skynet_service_messages_total{id=\"7\",name=\"we\\\"ird\"} 10",
            "skynet_service_cpu_seconds_total{id=\"1\",name=\"main\"} 1.5",
            "skynet_rpc_calls_total{result=\"ok\"} 5",
            "skynet_rpc_calls_total{result=\"not_found\"} 2",
            "skynet_rpc_calls_total{result=\"cancel\"} 0",
            "# TYPE skynet_rpc_call_duration_seconds histogram",
            "skynet_rpc_call_duration_seconds_bucket{le=\"0.00005\"} 0",
            "skynet_rpc_call_duration_seconds_bucket{le=\"0.0001\"} 1",
            "skynet_rpc_call_duration_seconds_bucket{le=\"10\"} 1",
            "skynet_rpc_call_duration_seconds_bucket{le=\"+Inf\"} 2",
            "skynet_rpc_call_duration_seconds_count 2",
            "skynet_worker_busy_seconds_total{worker=\"0\"} 0.25",
            "skynet_worker_busy_seconds_total{worker=\"1\"} 0",
            "skynet_sockets 1",
            "skynet_cluster_links 0",
            "skynet_timers 4",
        ] {
            assert!(text.lines().any(|l| l == line), "missing line {line:?} in\n{text}");
        }
        // Each family announced once, before its series.
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let mut unique = types.clone();
        unique.dedup();
        assert_eq!(types.len(), unique.len());
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn per_service_families_are_present_without_services() {
        let text = render(&[], &Process::default());
        assert!(text.contains("# TYPE skynet_service_memory_bytes gauge\n# HELP skynet_service_queue_length"));
        assert!(text.contains("skynet_rpc_call_duration_seconds_bucket{le=\"+Inf\"} 0"));
    }
}
