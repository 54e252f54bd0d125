//! Cost of one rate-limit check as the number of distinct clients in a minute grows: flat,
//! because no request scans the other clients and the tables stop growing at the bound.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use presigned_post::app::rate_limit::{Client, DEFAULT_MAX_CLIENTS, RateLimiter};

/// The service binary's allocator, so that allocation costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn client(n: u32) -> Client<'static> {
    Client::Address(IpAddr::V4(Ipv4Addr::from(n)))
}

fn bench(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let mut group = c.benchmark_group("rate_limit check");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for clients in [1u32, 1_000, 100_000, 1_000_000] {
        let limiter = RateLimiter::new(120, DEFAULT_MAX_CLIENTS);
        for n in 0..clients {
            let _ = limiter.check(client(n), now);
        }
        let mut n = 0;
        group.bench_function(BenchmarkId::new("distinct clients", clients), |b| {
            b.iter(|| {
                n = (n + 1) % clients;
                black_box(limiter.check(black_box(client(n)), now))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
