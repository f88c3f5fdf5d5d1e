//! Load benchmark of the pages: every heavy page (portfolio, review queue, operator) and the
//! everyday ones (dashboard, overview, worksheet, item, inbox, passports) next to `GET /health`
//! in the same run, with the ratio to it, p50/p99 and queries per request; then `GET /health`
//! alone and during a burst of logins (each an argon2 hash).
//!
//!     cargo bench --bench load                                # 1,000 organisations, SQLite
//!     BENCH_ORGANISATIONS=10000 cargo bench --bench load
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench load
//!
//! The demo data is loaded by the `carer-friendly demo` command into a fresh SQLite file, or into
//! a fresh database made on the PostgreSQL server of `BENCH_DATABASE_URL`. The app then runs in
//! this process, pinned to the first core, and `wrk` (installed from the Debian packages when
//! missing, as `.ci/run` does) runs on the second core: client and server do not compete for one
//! core. Without wrk the requests come from an in-process client instead (`BENCH_CLIENT=inproc`
//! forces it), and the table says so. `BENCH_SECONDS` (5), `BENCH_CONCURRENCY` (8).
//!
//! On PostgreSQL it then compares one `carer-friendly serve` process with two on the same
//! database, on a read-heavy mix of an advisor's pages (portfolio, review queue, overviews,
//! worksheets, dashboards of organisations across the range): one instance on core 0, then one on
//! each core, wrk unpinned; with the CPU time each party used (instances, PostgreSQL, wrk), which
//! says what limits the second instance on this machine. `BENCH_INSTANCES=0` skips it.
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use carer_friendly::clock::SystemClock;
use carer_friendly::config::Config;
use carer_friendly::startup::Application;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Keeps this process (the app under test) on core 0 when there are two or more.
fn pin_to_first_core() -> bool {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 || env_or("BENCH_PIN", 1) == 0 {
        return false;
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the call only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// wrk, installed from the Debian packages when missing (root only), or None.
fn wrk() -> Option<String> {
    if std::env::var("BENCH_CLIENT").as_deref() == Ok("inproc") {
        return None;
    }
    let found = || Command::new("wrk").arg("--version").output().is_ok();
    if !found() && unsafe { libc::geteuid() } == 0 {
        eprintln!("wrk missing: installing it with apt-get");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
    found().then(|| "wrk".to_string())
}

/// Logs in and gives a client sending that session's cookie, and the cookie for wrk.
async fn login(base: &str, email: &str) -> (reqwest::Client, String) {
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = plain.get(format!("{base}/login")).send().await.unwrap();
    let mut cookies: Vec<String> = set_cookies(&page);
    let html = page.text().await.unwrap();
    let start = html.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let r = plain
        .post(format!("{base}/login"))
        .header("cookie", cookies.join("; "))
        .form(&[("csrf", csrf), ("email", email), ("password", carer_friendly::demo::DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login {email}");
    cookies.extend(set_cookies(&r));
    let cookie = cookies.join("; ");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    (client, cookie)
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect()
}

struct Outcome {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    queries: u64,
    requests: u64,
}

/// The app's query counter around a run, for queries per request.
fn counted(state: &carer_friendly::state::AppState, run: impl FnOnce() -> Outcome) -> Outcome {
    let before = state.query_count();
    let mut o = run();
    o.queries = state.query_count() - before;
    o
}

/// Milliseconds from wrk's "635.00us", "1.23ms", "2.01s".
fn wrk_ms(s: &str) -> f64 {
    let (n, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn run_wrk(wrk: &str, url: &str, cookie: Option<&str>, connections: usize, seconds: u64) -> Outcome {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "1", wrk, "-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency"]);
    if let Some(c) = cookie {
        cmd.args(["-H", &format!("Cookie: {c}")]);
    }
    let out = cmd.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |label: &str| -> Option<&str> {
        text.lines().map(str::trim).find(|l| l.starts_with(label)).and_then(|l| l.split_whitespace().nth(1))
    };
    let errors: u64 = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Non-2xx or 3xx responses:"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0);
    let requests: u64 = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Outcome {
        rps: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, wrk_ms),
        p99_ms: field("99%").map_or(f64::NAN, wrk_ms),
        errors,
        queries: 0,
        requests,
    }
}

async fn run_inproc(client: reqwest::Client, url: String, concurrency: usize, seconds: u64) -> Outcome {
    let (done, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..concurrency {
        let (client, url, done, errors, latencies) =
            (client.clone(), url.clone(), done.clone(), errors.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                        latencies.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
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
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(f64::total_cmp);
    let at =
        |q: f64| l.get(((l.len() as f64 * q) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    let requests = done.load(Ordering::Relaxed);
    Outcome {
        rps: requests as f64 / started.elapsed().as_secs_f64(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        errors: errors.load(Ordering::Relaxed),
        queries: 0,
        requests,
    }
}

/// A fresh database for the run: a new SQLite file, or a new database on the PostgreSQL server.
async fn fresh_database() -> String {
    let Ok(url) = std::env::var("BENCH_DATABASE_URL") else {
        let path = std::env::temp_dir().join(format!("carer-friendly-bench-{}.db", uuid::Uuid::new_v4()));
        return format!("sqlite://{}?mode=rwc", path.display());
    };
    use sea_orm::ConnectionTrait;
    let name = format!("cf_bench_{}", uuid::Uuid::new_v4().simple());
    let server = sea_orm::Database::connect(&url).await.expect("PostgreSQL answers");
    server.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create the bench database");
    let (base, _) = url.rsplit_once('/').expect("a database URL");
    format!("{base}/{name}")
}

fn main() {
    // As the service does (the app runs in this process).
    carer_friendly::memory::limit_arenas();
    let pinned = pin_to_first_core();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(bench(pinned));
}

async fn bench(pinned: bool) {
    let n: usize = env_or("BENCH_ORGANISATIONS", 1000);
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 8);
    let url = fresh_database().await;
    let backend = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };

    // The demo command loads the data in its own process, so this one holds only the server.
    let demo = |args: &[&str]| {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_carer-friendly"))
            .arg("demo")
            .args(args)
            .env("DATABASE_URL", &url)
            .env("JOBS_HEARTBEAT", "off")
            .output()
            .expect("demo runs");
        assert!(out.status.success(), "demo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (t.elapsed().as_secs_f64(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    demo(&[]);
    let (load_secs, printed) = demo(&["--organisations", &n.to_string()]);
    // "… or as directieN@orgN.demo (a director)."
    let director_email = printed
        .split_whitespace()
        .find(|w| w.starts_with("directie") && w.ends_with(".demo"))
        .expect("the demo names a director")
        .to_string();
    println!("demo --organisations {n} loaded in {load_secs:.1} s ({backend})");

    let mut config = Config::for_database(&url);
    config.outbox_interval_ms = 3_600_000;
    config.jobs_heartbeat = "off".into();
    // The login burst below comes from one address; the limits per client would stop it.
    config.rate_limits = false;
    let app = Application::build(config, Arc::new(SystemClock), "127.0.0.1:0").await.expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    let advisor = login(&base, "portefeuille@demo.example").await;
    let operator = login(&base, "operator@demo.example").await;
    let director = login(&base, &director_email).await;
    let hr = login(&base, "hr@rivierstad.demo").await;
    let carer = login(&base, "medewerker@rivierstad.demo").await;
    // A director lands on the dashboard: the organisation's path is what comes before it.
    let landing =
        director.0.get(format!("{base}/")).send().await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let org = landing.trim_end_matches("/dashboard").to_string();
    let worksheet =
        director.0.get(format!("{base}{org}/checklists/bespreken")).send().await.unwrap().text().await.unwrap();
    let item_at = worksheet.find("href=\"/items/").expect("an item link") + 6;
    let item = &worksheet[item_at..item_at + worksheet[item_at..].find('"').unwrap()];
    let hr_landing =
        hr.0.get(format!("{base}/")).send().await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let hr_org = hr_landing.split('/').take(3).collect::<Vec<_>>().join("/");
    // The demo's closed pulse round, from the organisation's pulse page.
    let pulse = hr.0.get(format!("{base}{hr_org}/pulse")).send().await.unwrap().text().await.unwrap();
    let round_at = pulse.find("href=\"/pulse/rounds/").expect("a pulse round link") + 6;
    let round = &pulse[round_at..round_at + pulse[round_at..].find('"').unwrap()];
    let public = (reqwest::Client::new(), String::new());
    let cases = [
        ("GET /health", &public, "/health".to_string()),
        ("portfolio (by name, page 1 of 50)", &advisor, "/portfolio".into()),
        ("portfolio ?sort=progress&waiting=true", &advisor, "/portfolio?sort=progress&waiting=true".into()),
        ("portfolio ?sort=oldest&desc=true", &advisor, "/portfolio?sort=oldest&desc=true".into()),
        ("review queue (page 1 of 50)", &advisor, "/review".into()),
        ("operator page (organisations, 50)", &operator, "/operator".into()),
        ("director dashboard", &director, format!("{org}/dashboard")),
        ("organisation overview", &director, org.clone()),
        ("worksheet (Bespreken)", &director, format!("{org}/checklists/bespreken")),
        ("item page", &director, item.to_string()),
        ("inbox", &director, "/inbox".into()),
        ("passports of the organisation (HR)", &hr, format!("{hr_org}/passports")),
        ("own passport (carer)", &carer, "/passport".into()),
        ("employee pulse: rounds and trend (HR)", &hr, format!("{hr_org}/pulse")),
        ("employee pulse: a round's figures (HR)", &hr, round.to_string()),
    ];
    let wrk = wrk();
    let how = match (&wrk, pinned) {
        (Some(_), true) => "wrk -t2 on core 1, the app on core 0",
        (Some(_), false) => "wrk -t2, not pinned",
        (None, true) => "in-process client (no wrk), the app and client on core 0",
        (None, false) => "in-process client (no wrk), not pinned",
    };
    println!("\n{n} organisations, {backend}, {concurrency} connections, {seconds} s each; {how}\n");
    println!(
        "{:<40} {:>9} {:>8} {:>9} {:>9} {:>11} {:>7}",
        "page", "req/s", "ratio", "p50 ms", "p99 ms", "queries/req", "errors"
    );
    let mut health = f64::NAN;
    for (name, (client, cookie), path) in cases {
        let url = format!("{base}{path}");
        // Warm up once, and check the page answers.
        let r = client.get(&url).send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let o = match &wrk {
            Some(w) => {
                let cookie = (!cookie.is_empty()).then_some(cookie.as_str());
                counted(&state, || tokio::task::block_in_place(|| run_wrk(w, &url, cookie, concurrency, seconds)))
            }
            None => {
                let before = state.query_count();
                let mut o = run_inproc(client.clone(), url, concurrency, seconds).await;
                o.queries = state.query_count() - before;
                o
            }
        };
        if health.is_nan() {
            health = o.rps;
        }
        let per = o.queries as f64 / o.requests.max(1) as f64;
        println!(
            "{name:<40} {:>9.1} {:>8.3} {:>9.2} {:>9.2} {per:>11.1} {:>7}",
            o.rps,
            o.rps / health,
            o.p50_ms,
            o.p99_ms,
            o.errors
        );
    }
    println!(
        "\nresident memory of the app after the run: {} MB ({} MB anonymous, {} MB mapped from files: code)",
        rss_mb("VmRSS:"),
        rss_mb("RssAnon:"),
        rss_mb("RssFile:")
    );
    if let (Some(w), "PostgreSQL", true) = (&wrk, backend, env_or("BENCH_INSTANCES", 1) != 0) {
        // Organisations across the advisor's portfolio, from the first to the last.
        let orgs: Vec<i64> = {
            use carer_friendly::db::entities::{advisor_assignment, user};
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
            let me = user::Entity::find()
                .filter(user::Column::Email.eq("portefeuille@demo.example"))
                .one(&state.db)
                .await
                .unwrap()
                .expect("the portfolio advisor");
            let all: Vec<i64> = advisor_assignment::Entity::find()
                .select_only()
                .column(advisor_assignment::Column::OrganisationId)
                .filter(advisor_assignment::Column::AdvisorId.eq(me.id))
                .order_by_asc(advisor_assignment::Column::OrganisationId)
                .into_tuple()
                .all(&state.db)
                .await
                .unwrap();
            (0..6).map(|k| all[k * (all.len() - 1) / 5]).collect()
        };
        for path in mix_paths(&orgs) {
            let r = advisor.0.get(format!("{base}{path}")).send().await.unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
        }
        tokio::task::block_in_place(|| instances(w, &url, &advisor.1, &orgs, seconds * 2));
    }

    // GET /health alone, then while 4 clients log in as fast as they can.
    let health_url = format!("{base}/health");
    let alone = run_inproc(public.0.clone(), health_url.clone(), concurrency, seconds).await;
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
    let during = run_inproc(public.0, health_url, concurrency, seconds).await;
    for t in burst {
        let _ = t.await;
    }
    println!(
        "GET /health (in-process client) alone {:.0} req/s; during a login burst ({:.1} logins/s) {:.0} req/s ({:.0} %)",
        alone.rps,
        logins.load(Ordering::Relaxed) as f64 / (seconds + 1) as f64,
        during.rps,
        100.0 * during.rps / alone.rps.max(1.0)
    );
}

/// The read-heavy mix: the advisor's lists, and pages of organisations across their portfolio.
fn mix_paths(orgs: &[i64]) -> Vec<String> {
    let mut paths = vec!["/portfolio".to_string(), "/review".into(), "/portfolio?sort=oldest&desc=true".into()];
    for o in orgs {
        paths.extend([
            format!("/organisations/{o}"),
            format!("/organisations/{o}/checklists/bespreken"),
            format!("/organisations/{o}/dashboard"),
        ]);
    }
    paths
}

/// The mix as a wrk script: each connection walks the paths in turn.
fn mix_script(orgs: &[i64]) -> std::path::PathBuf {
    let paths = mix_paths(orgs);
    let list = paths.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ");
    let script = format!(
        "local paths = {{{list}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n"
    );
    let file = std::env::temp_dir().join(format!("carer-friendly-mix-{}.lua", std::process::id()));
    std::fs::write(&file, script).expect("write the wrk script");
    file
}

/// CPU seconds (user + system) used so far by the processes whose command name is `name`.
fn cpu_of(name: &str) -> f64 {
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "pid (comm) state …": fields after the command name, utime and stime are 12th and 13th.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if &stat[open + 1..close] != name {
            continue;
        }
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        ticks += rest.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += rest.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 / tick
}

/// CPU seconds of this process's reaped children (the wrk runs; the instances are reaped last).
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// One `carer-friendly serve` process on the bench database, on `port` and `core`, once it answers.
fn serve(url: &str, port: u16, core: Option<usize>) -> std::process::Child {
    // Not pinned: any core of the machine.
    let cores = core.map_or_else(
        || format!("0-{}", std::thread::available_parallelism().map_or(1, |n| n.get()) - 1),
        |c| c.to_string(),
    );
    let mut child = Command::new("taskset")
        .args(["-c", &cores, env!("CARGO_BIN_EXE_carer-friendly"), "serve"])
        .env("DATABASE_URL", url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RATE_LIMITS", "false")
        .env("JOBS", "false")
        .env("JOBS_HEARTBEAT", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("carer-friendly serve starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = (child.kill(), child.wait());
    panic!("carer-friendly serve on port {port} did not answer within a minute");
}

/// One instance against two on the read-heavy mix, with where the CPU went.
fn instances(wrk: &str, url: &str, cookie: &str, orgs: &[i64], seconds: u64) {
    let script = mix_script(orgs);
    let script = script.to_string_lossy().to_string();
    let measure = |ports: &[u16]| -> (f64, u64, [f64; 3]) {
        let before = [cpu_of("carer-friendly"), cpu_of("postgres"), children_cpu()];
        let runs: Vec<std::process::Child> = ports
            .iter()
            .map(|p| {
                Command::new(wrk)
                    .args(["-t1", "-c8", &format!("-d{seconds}s"), "-s", &script, "-H", &format!("Cookie: {cookie}")])
                    .arg(format!("http://127.0.0.1:{p}/"))
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("wrk runs")
            })
            .collect();
        let (mut rps, mut errors) = (0.0, 0);
        for r in runs {
            let out = r.wait_with_output().expect("wrk ends");
            let text = String::from_utf8_lossy(&out.stdout);
            for l in text.lines().map(str::trim) {
                if let Some(v) = l.strip_prefix("Requests/sec:") {
                    rps += v.trim().parse::<f64>().unwrap_or(0.0);
                }
                if let Some(v) = l.strip_prefix("Non-2xx or 3xx responses:") {
                    errors += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
        // wrk has ended and been reaped: its time is in the children's.
        let after = [cpu_of("carer-friendly"), cpu_of("postgres"), children_cpu()];
        (rps, errors, [0, 1, 2].map(|i| (after[i] - before[i]) / seconds as f64))
    };
    // The same two clients each time: both on the one instance, or one on each.
    let mut a = serve(url, 18_311, None);
    let free = measure(&[18_311, 18_311]);
    let _ = (a.kill(), a.wait());
    let mut a = serve(url, 18_311, Some(0));
    let one = measure(&[18_311, 18_311]);
    let mut b = serve(url, 18_312, Some(1));
    let two = measure(&[18_311, 18_312]);
    let _ = (a.kill(), b.kill(), a.wait(), b.wait());
    println!(
        "\nread-heavy mix ({} pages, an advisor of every organisation), {seconds} s; two wrk -t1 -c8, not pinned",
        3 + orgs.len() * 3
    );
    println!("{:<34} {:>9} {:>7} {:>22}", "", "req/s", "errors", "CPU cores: app / pg / wrk");
    for (name, (rps, errors, cpu)) in
        [("one instance (not pinned)", free), ("one instance (core 0)", one), ("two instances (cores 0 and 1)", two)]
    {
        println!("{name:<34} {rps:>9.1} {errors:>7} {:>10.2} / {:.2} / {:.2}", cpu[0], cpu[1], cpu[2]);
    }
    println!(
        "two instances serve {:.2} x the requests of one on core 0, {:.2} x those of one not pinned",
        two.0 / one.0.max(1.0),
        two.0 / free.0.max(1.0)
    );
}

/// This process's resident set, or a part of it by its `/proc/self/status` label (the app; the
/// demo data was loaded by another process).
fn rss_mb(label: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(label)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .map_or(0, |kb: u64| kb / 1024)
}
