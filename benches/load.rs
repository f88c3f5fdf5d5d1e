//! Load benchmark of the heavy pages: the advisor's portfolio and review queue over all
//! organisations (a page of 50 rows each) and the director's dashboard, next to GET /health in
//! the same run; then GET /health alone and during a burst of logins (each an argon2 hash), to
//! show the hashing does not stall other requests.
//!
//!     cargo bench --bench load                       # 1,000 organisations, 5 s per endpoint
//!     BENCH_ORGANISATIONS=200 BENCH_SECONDS=3 cargo bench --bench load
//!
//! It loads `demo --organisations N` into a fresh SQLite file (or `BENCH_DATABASE_URL`), starts
//! the app on a free port and sends requests from `BENCH_CONCURRENCY` (8) clients over loopback.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carer_friendly::clock::SystemClock;
use carer_friendly::config::Config;
use carer_friendly::startup::{Application, build_state};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn login(base: &str, email: &str) -> reqwest::Client {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let html = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let start = html.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let r = client
        .post(format!("{base}/login"))
        .form(&[("csrf", csrf), ("email", email), ("password", carer_friendly::demo::DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login {email}");
    client
}

struct Outcome {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    queries: u64,
}

async fn hammer(
    client: reqwest::Client,
    url: String,
    concurrency: usize,
    seconds: u64,
    state: &carer_friendly::state::AppState,
) -> Outcome {
    // Warm up once (and check the page answers).
    let r = client.get(&url).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    let queries_before = state.query_count();
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (client, url, done, errors) = (client.clone(), url.clone(), done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Outcome {
        requests: done.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        queries: state.query_count() - queries_before,
    }
}

#[tokio::main]
async fn main() {
    let n: usize = env_or("BENCH_ORGANISATIONS", 1000);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 8);
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("carer-friendly-bench-{}.db", uuid::Uuid::new_v4()));
        format!("sqlite://{}?mode=rwc", path.display())
    });
    let mut config = Config::for_database(&url);
    config.outbox_interval_ms = 3_600_000;
    // The login burst below comes from one address; the limits per client would stop it.
    config.rate_limits = false;
    let loaded = Instant::now();
    let state = build_state(config.clone(), Arc::new(SystemClock)).await.expect("state");
    print!("{}", carer_friendly::demo::load_many(&state, n).await.expect("demo data"));
    println!("loaded in {:.1} s", loaded.elapsed().as_secs_f64());

    let app = Application::build(config, Arc::new(SystemClock), "127.0.0.1:0").await.expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    let advisor = login(&base, "portefeuille@demo.example").await;
    let director = login(&base, "directie1@org1.demo").await;
    // A director lands on the dashboard: the organisation's path is what comes before it.
    let landing =
        director.get(format!("{base}/")).send().await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let org = landing.trim_end_matches("/dashboard").to_string();
    let plain = reqwest::Client::new();
    let cases = [
        ("GET /health", plain.clone(), format!("{base}/health")),
        ("GET /portfolio (by name, page 1 of 50 rows)", advisor.clone(), format!("{base}/portfolio")),
        (
            "GET /portfolio?sort=progress&waiting=true",
            advisor.clone(),
            format!("{base}/portfolio?sort=progress&waiting=true"),
        ),
        ("GET /review (queue, page 1 of 50 rows)", advisor, format!("{base}/review")),
        ("GET director dashboard", director.clone(), format!("{base}{org}/dashboard")),
        ("GET organisation overview", director, format!("{base}{org}")),
    ];
    println!("\n{n} organisations, {concurrency} clients, {seconds} s each\n");
    println!("{:<46} {:>10} {:>12} {:>14} {:>8}", "endpoint", "req/s", "mean ms", "queries/req", "errors");
    for (name, client, url) in cases {
        let o = hammer(client, url, concurrency, seconds, &state).await;
        let rps = o.requests as f64 / o.elapsed.as_secs_f64();
        let mean = o.elapsed.as_secs_f64() * 1000.0 * concurrency as f64 / o.requests.max(1) as f64;
        let per = o.queries as f64 / o.requests.max(1) as f64;
        println!("{name:<46} {rps:>10.1} {mean:>12.1} {per:>14.1} {:>8}", o.errors);
    }

    // GET /health alone, then while 4 clients log in as fast as they can.
    let alone = hammer(plain.clone(), format!("{base}/health"), concurrency, seconds, &state).await;
    let logins = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds + 1);
    let mut burst = vec![];
    for _ in 0..4 {
        let (base, logins) = (base.clone(), logins.clone());
        burst.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                login(&base, "portefeuille@demo.example").await;
                logins.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let during = hammer(plain, format!("{base}/health"), concurrency, seconds, &state).await;
    for t in burst {
        let _ = t.await;
    }
    let rate = |o: &Outcome| o.requests as f64 / o.elapsed.as_secs_f64();
    println!(
        "\nGET /health alone {:.0} req/s; during a login burst ({:.1} logins/s) {:.0} req/s ({:.0} %)",
        rate(&alone),
        logins.load(Ordering::Relaxed) as f64 / (seconds + 1) as f64,
        rate(&during),
        100.0 * rate(&during) / rate(&alone).max(1.0)
    );
}
