//! Counters for `/metrics`, in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use crate::app::credentials::{CachedCredentials, CredentialsReport};
use crate::app::identity_provider::issuer::IssuerReport;
use crate::app::rate_limit::SharedReport;
use crate::clock::{ClockReport, StoreClockReport};
use crate::upload::ports::UploadEvents;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What the service has done since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    issued: Mutex<BTreeMap<String, u64>>,
    refused: Mutex<BTreeMap<String, u64>>,
    multipart_created: Mutex<BTreeMap<String, u64>>,
    multipart_completed: Mutex<BTreeMap<String, u64>>,
    /// By `(profile, reason)`.
    multipart_refused: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Identity providers' tokens checked, by `(issuer, result)`.
    token_verifications: Mutex<BTreeMap<(String, &'static str), u64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn bump(counts: &Mutex<BTreeMap<String, u64>>, label: &str) {
    *entry(&mut lock(counts), label) += 1;
}

/// `label`'s entry, made only the first time (so a label is not copied on every call).
fn entry<'a, V: Default>(map: &'a mut BTreeMap<String, V>, label: &str) -> &'a mut V {
    if !map.contains_key(label) {
        map.insert(label.to_owned(), V::default());
    }
    map.get_mut(label).expect("inserted above")
}

fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

impl Metrics {
    /// Counts a request refused for `reason` (a problem code).
    pub fn refused(&self, reason: &str) {
        bump(&self.refused, reason);
    }

    /// Counts an identity provider's token checked: `result` is `accepted` or the problem code;
    /// `issuer` is the issuer's name (`none` when the token names no configured issuer).
    pub fn token_verified(&self, issuer: &str, result: &'static str) {
        let mut counts = lock(&self.token_verifications);
        *counts.entry((issuer.to_owned(), result)).or_default() += 1;
    }

    /// Records how long a request to `route` (its pattern, e.g. `/upload/{profile}`) took.
    pub fn observe(&self, route: &str, seconds: f64) {
        let mut latency = lock(&self.latency);
        let histogram = entry(&mut latency, route);
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The exposition text; `clock` and `credentials` are the `/readyz` reports.
    pub fn render(&self, clock: &ClockReport, credentials: &CredentialsReport) -> String {
        let mut text = String::new();
        render_counter(
            &mut text,
            "presigned_post_policies_issued_total",
            "profile",
            "Policies signed, by profile.",
            &self.issued,
        );
        render_counter(
            &mut text,
            "presigned_post_refusals_total",
            "reason",
            "Upload requests refused, by reason.",
            &self.refused,
        );
        self.render_multipart(&mut text);
        self.render_latency(&mut text);
        self.render_token_verifications(&mut text);
        if let ClockReport::Store(store) = clock {
            render_store_clock(&mut text, store);
        }
        if let Some(cached) = &credentials.cached {
            render_credentials(&mut text, cached);
        }
        text
    }

    /// The uploads in parts: started, completed and refused at completion.
    fn render_multipart(&self, text: &mut String) {
        render_counter(
            text,
            "presigned_post_multipart_uploads_created_total",
            "profile",
            "Uploads in parts started, by profile.",
            &self.multipart_created,
        );
        render_counter(
            text,
            "presigned_post_multipart_uploads_completed_total",
            "profile",
            "Uploads in parts completed, by profile.",
            &self.multipart_completed,
        );
        const REFUSED: &str = "presigned_post_multipart_uploads_refused_total";
        let help = "Uploads in parts refused at completion, by profile and reason.";
        family(text, REFUSED, "counter", help);
        for ((profile, reason), count) in lock(&self.multipart_refused).iter() {
            let _ = writeln!(
                text,
                "{REFUSED}{{profile=\"{profile}\",reason=\"{reason}\"}} {count}"
            );
        }
    }

    /// Identity providers' tokens checked, by issuer and result (nothing until one is).
    fn render_token_verifications(&self, text: &mut String) {
        const NAME: &str = "presigned_post_token_verifications_total";
        let counts = lock(&self.token_verifications);
        if counts.is_empty() {
            return;
        }
        let help = "Identity providers' tokens checked, by issuer and result.";
        family(text, NAME, "counter", help);
        for ((issuer, result), count) in counts.iter() {
            let _ = writeln!(
                text,
                "{NAME}{{issuer=\"{issuer}\",result=\"{result}\"}} {count}"
            );
        }
    }

    /// The request duration histogram: buckets, sum and count per route.
    fn render_latency(&self, text: &mut String) {
        const NAME: &str = "presigned_post_request_duration_seconds";
        let help = "Time to answer HTTP requests, by route.";
        family(text, NAME, "histogram", help);
        for (route, h) in lock(&self.latency).iter() {
            let route = route.replace('\\', "\\\\").replace('"', "\\\"");
            for (bound, count) in LATENCY_BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    text,
                    "{NAME}_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                text,
                "{NAME}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(text, "{NAME}_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(text, "{NAME}_count{{route=\"{route}\"}} {}", h.count);
        }
    }
}

/// Counts each policy signed, and each upload in parts started, completed or refused, by profile.
impl UploadEvents for Metrics {
    fn issued(&self, profile: &str) {
        bump(&self.issued, profile);
    }

    fn multipart_created(&self, profile: &str) {
        bump(&self.multipart_created, profile);
    }

    fn multipart_completed(&self, profile: &str) {
        bump(&self.multipart_completed, profile);
    }

    fn multipart_refused(&self, profile: &str, reason: &'static str) {
        let mut refused = lock(&self.multipart_refused);
        *refused.entry((profile.to_owned(), reason)).or_default() += 1;
    }
}

/// A counter family with one label: one sample per label value, in label order.
fn render_counter(
    text: &mut String,
    name: &str,
    label: &str,
    help: &str,
    counts: &Mutex<BTreeMap<String, u64>>,
) {
    family(text, name, "counter", help);
    for (value, count) in lock(counts).iter() {
        let _ = writeln!(text, "{name}{{{label}=\"{value}\"}} {count}");
    }
}

/// Each identity provider's cached keys and their age (none before a fetch succeeded), and its
/// tokens accepted from the verified-token cache; nothing without providers.
pub fn render_identity_providers(text: &mut String, reports: &[IssuerReport]) {
    if reports.is_empty() {
        return;
    }
    const KEYS: &str = "presigned_post_jwks_keys";
    family(
        text,
        KEYS,
        "gauge",
        "Usable keys cached per identity provider.",
    );
    for report in reports {
        let _ = writeln!(text, "{KEYS}{{issuer=\"{}\"}} {}", report.name, report.keys);
    }
    const AGE: &str = "presigned_post_jwks_age_seconds";
    let help = "Seconds since each identity provider's keys were fetched.";
    family(text, AGE, "gauge", help);
    for report in reports {
        if let Some(ago) = report.fetched_ago {
            let _ = writeln!(
                text,
                "{AGE}{{issuer=\"{}\"}} {}",
                report.name,
                ago.as_secs()
            );
        }
    }
    const HITS: &str = "presigned_post_token_cache_hits_total";
    let help = "Identity providers' tokens accepted as verified lately, without a signature check \
                (also counted in presigned_post_token_verifications_total).";
    family(text, HITS, "counter", help);
    for report in reports {
        let _ = writeln!(
            text,
            "{HITS}{{issuer=\"{}\"}} {}",
            report.name, report.tokens_from_cache
        );
    }
}

/// Whether Redis decides the rate limits now, and how often it failed (only when Redis is
/// configured: without it there is nothing to watch).
pub fn render_shared_rate_limit(text: &mut String, report: &SharedReport) {
    const SHARED: &str = "presigned_post_rate_limit_shared";
    let help = "1 while Redis decides the rate limits for every replica, 0 while each replica \
                counts by itself (Redis not answering).";
    family(text, SHARED, "gauge", help);
    let _ = writeln!(text, "{SHARED} {}", u8::from(report.shared));
    const ERRORS: &str = "presigned_post_rate_limit_redis_errors_total";
    let help = "Calls to Redis by the rate limiter that failed or timed out.";
    family(text, ERRORS, "counter", help);
    let _ = writeln!(text, "{ERRORS} {}", report.redis_errors);
    const LOCAL: &str = "presigned_post_rate_limit_local_verdicts_total";
    let help = "Requests the local counter judged because Redis was not answering.";
    family(text, LOCAL, "counter", help);
    let _ = writeln!(text, "{LOCAL} {}", report.local_verdicts);
}

/// The store clock's offset (once measured) and its failed probes.
fn render_store_clock(text: &mut String, store: &StoreClockReport) {
    if let Some(offset_ms) = store.measured_offset_ms {
        const OFFSET: &str = "presigned_post_clock_offset_seconds";
        let help = "The store's clock minus this host's, as last measured.";
        family(text, OFFSET, "gauge", help);
        let _ = writeln!(text, "{OFFSET} {}", offset_ms as f64 / 1000.0);
    }
    const FAILURES: &str = "presigned_post_clock_probe_failures_total";
    let help = "Failed measurements of the store's clock.";
    family(text, FAILURES, "counter", help);
    let _ = writeln!(text, "{FAILURES} {}", store.probe_failures);
}

/// The time left on the signing credentials.
fn render_credentials(text: &mut String, cached: &CachedCredentials) {
    const NAME: &str = "presigned_post_credentials_seconds_left";
    let help = "Seconds until the signing credentials expire (+Inf if they do not).";
    family(text, NAME, "gauge", help);
    let left = cached
        .expires_in_s
        .map_or_else(|| "+Inf".to_owned(), |s| s.to_string());
    let _ = writeln!(text, "{NAME} {left}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_clock(measured_offset_ms: Option<i64>, probe_failures: u64) -> ClockReport {
        ClockReport::Store(StoreClockReport {
            correct: true,
            applied_offset_ms: measured_offset_ms.unwrap_or_default(),
            measured_offset_ms,
            uncertainty_ms: measured_offset_ms.map(|_| 600),
            measured_at: None,
            probe_failures,
            last_probe_error: None,
        })
    }

    fn loaded(expires_in_s: Option<u64>) -> CredentialsReport {
        CredentialsReport {
            cached: Some(CachedCredentials {
                source: "tests",
                access_key_id: "AKID".into(),
                temporary: expires_in_s.is_some(),
                expires_in_s,
            }),
        }
    }

    fn samples(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    }

    #[test]
    fn the_clock_and_credential_gauges_come_from_the_reports() {
        let metrics = Metrics::default();
        let text = metrics.render(&store_clock(Some(-1_500), 3), &loaded(Some(1_234)));
        assert_eq!(
            samples(&text),
            [
                "presigned_post_clock_offset_seconds -1.5",
                "presigned_post_clock_probe_failures_total 3",
                "presigned_post_credentials_seconds_left 1234",
            ]
        );

        let text = metrics.render(&store_clock(None, 1), &loaded(None));
        assert_eq!(
            samples(&text),
            [
                "presigned_post_clock_probe_failures_total 1",
                "presigned_post_credentials_seconds_left +Inf",
            ]
        );

        let text = metrics.render(&ClockReport::System, &CredentialsReport { cached: None });
        assert!(samples(&text).is_empty(), "{text}");
    }

    #[test]
    fn every_family_renders_as_before() {
        let metrics = Metrics::default();
        metrics.issued("photos");
        metrics.issued("photos");
        metrics.issued("docs");
        metrics.refused("too-large");
        metrics.multipart_created("videos");
        metrics.multipart_created("videos");
        metrics.multipart_completed("videos");
        metrics.multipart_refused("videos", "too-large");
        metrics.observe("/upload/{profile}", 0.003);
        metrics.observe("/upload/{profile}", 0.7);
        metrics.observe("/odd \\ \"route\"", 9.0);
        let text = metrics.render(&store_clock(Some(250), 0), &loaded(Some(60)));
        assert_eq!(text, EVERY_FAMILY);
    }

    #[test]
    fn the_shared_rate_limit_is_a_gauge_and_two_counters() {
        let mut report = SharedReport {
            redis: "redis://***@redis.internal:6379".into(),
            shared: true,
            error: None,
            next_probe_in: None,
            redis_errors: 0,
            local_verdicts: 0,
        };
        let mut text = String::new();
        render_shared_rate_limit(&mut text, &report);
        assert_eq!(
            samples(&text),
            [
                "presigned_post_rate_limit_shared 1",
                "presigned_post_rate_limit_redis_errors_total 0",
                "presigned_post_rate_limit_local_verdicts_total 0",
            ]
        );
        (report.shared, report.redis_errors, report.local_verdicts) = (false, 2, 7);
        let mut text = String::new();
        render_shared_rate_limit(&mut text, &report);
        assert_eq!(
            samples(&text),
            [
                "presigned_post_rate_limit_shared 0",
                "presigned_post_rate_limit_redis_errors_total 2",
                "presigned_post_rate_limit_local_verdicts_total 7",
            ]
        );
        assert!(!text.contains("redis.internal"), "no URL in the metrics");
    }

    /// `every_family_renders_as_before`'s output, as the service rendered it before `render` was
    /// split up.
    const EVERY_FAMILY: &str = r#"# HELP presigned_post_policies_issued_total Policies signed, by profile.
# TYPE presigned_post_policies_issued_total counter
presigned_post_policies_issued_total{profile="docs"} 1
presigned_post_policies_issued_total{profile="photos"} 2
# HELP presigned_post_refusals_total Upload requests refused, by reason.
# TYPE presigned_post_refusals_total counter
presigned_post_refusals_total{reason="too-large"} 1
# HELP presigned_post_multipart_uploads_created_total Uploads in parts started, by profile.
# TYPE presigned_post_multipart_uploads_created_total counter
presigned_post_multipart_uploads_created_total{profile="videos"} 2
# HELP presigned_post_multipart_uploads_completed_total Uploads in parts completed, by profile.
# TYPE presigned_post_multipart_uploads_completed_total counter
presigned_post_multipart_uploads_completed_total{profile="videos"} 1
# HELP presigned_post_multipart_uploads_refused_total Uploads in parts refused at completion, by profile and reason.
# TYPE presigned_post_multipart_uploads_refused_total counter
presigned_post_multipart_uploads_refused_total{profile="videos",reason="too-large"} 1
# HELP presigned_post_request_duration_seconds Time to answer HTTP requests, by route.
# TYPE presigned_post_request_duration_seconds histogram
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.001"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.005"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.01"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.025"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.05"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.1"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.25"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="0.5"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="1"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="5"} 0
presigned_post_request_duration_seconds_bucket{route="/odd \\ \"route\"",le="+Inf"} 1
presigned_post_request_duration_seconds_sum{route="/odd \\ \"route\""} 9
presigned_post_request_duration_seconds_count{route="/odd \\ \"route\""} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.001"} 0
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.005"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.01"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.025"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.05"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.1"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.25"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="0.5"} 1
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="1"} 2
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="5"} 2
presigned_post_request_duration_seconds_bucket{route="/upload/{profile}",le="+Inf"} 2
presigned_post_request_duration_seconds_sum{route="/upload/{profile}"} 0.703
presigned_post_request_duration_seconds_count{route="/upload/{profile}"} 2
# HELP presigned_post_clock_offset_seconds The store's clock minus this host's, as last measured.
# TYPE presigned_post_clock_offset_seconds gauge
presigned_post_clock_offset_seconds 0.25
# HELP presigned_post_clock_probe_failures_total Failed measurements of the store's clock.
# TYPE presigned_post_clock_probe_failures_total counter
presigned_post_clock_probe_failures_total 0
# HELP presigned_post_credentials_seconds_left Seconds until the signing credentials expire (+Inf if they do not).
# TYPE presigned_post_credentials_seconds_left gauge
presigned_post_credentials_seconds_left 60
"#;
}
