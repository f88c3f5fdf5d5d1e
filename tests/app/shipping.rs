//! The built binary on its own, as an operator installs it: copied into an empty folder and
//! started there, with no templates or checklists beside it and no setting pointing at them.
use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use scraper::{Html, Selector};

use super::helpers::links;

/// The server process, stopped when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a just-copied binary. While it was being written, another test's thread may have forked
/// a child that still holds the file open until its own exec (the descriptor is close-on-exec,
/// but only from exec on): starting it then fails with "Text file busy" for a moment.
fn retry_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    let mut tries = 0;
    loop {
        match start() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
}

struct Alone {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Alone {
    /// The binary copied into a new empty folder.
    fn new() -> Alone {
        let dir = std::env::temp_dir().join(format!("carer-friendly-alone-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("carer-friendly");
        std::fs::copy(env!("CARGO_BIN_EXE_carer-friendly"), &bin).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Alone { dir, bin, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The binary run in its folder with a clean environment: only the database, where to listen
    /// and the speed of the test are set.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", "sqlite://carer-friendly.db?mode=rwc")
            .env("BIND", format!("127.0.0.1:{}", self.port))
            .env("PUBLIC_URL", self.base())
            .env("JOBS_HEARTBEAT", "off")
            .env("RATE_LIMITS", "false")
            .env("OUTBOX_INTERVAL_MS", "100");
        c
    }

    /// `serve` with `env` added, its output in `serve.log`, once `/health` answers.
    async fn serve(&self, env: &[(&str, &str)]) -> Running {
        let log = std::fs::File::create(self.dir.join("serve.log")).unwrap();
        let mut command = self.command(&["serve"]);
        command.envs(env.iter().copied()).stdout(log.try_clone().unwrap()).stderr(log);
        let server = Running(retry_busy(|| command.spawn()));
        let started = Instant::now();
        while !reqwest::get(format!("{}/health", self.base())).await.is_ok_and(|r| r.status().is_success()) {
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not start:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("serve.log")).unwrap_or_default()
    }
}

async fn login(base: &str, email: &str) -> reqwest::Client {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let html = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&html);
    let r = client
        .post(format!("{base}/login"))
        .form(&[("csrf", csrf.as_str()), ("email", email), ("password", carer_friendly::demo::DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{email} logs in: {}", r.status());
    client
}

fn csrf_of(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf]").unwrap();
    doc.select(&sel).next().and_then(|i| i.value().attr("value")).expect("a form with its CSRF token").to_string()
}

fn mails(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("data/mail"))
        .map(|d| d.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_binary_copied_to_an_empty_folder_starts_and_serves_every_page_and_mail() {
    let alone = Alone::new();
    let out = retry_busy(|| alone.command(&["demo"]).output());
    assert!(out.status.success(), "demo: {}", String::from_utf8_lossy(&out.stderr));
    let _server = alone.serve(&[]).await;
    let base = alone.base();

    // Every page each role can reach by following links from where it lands (bounded per role).
    let mut seen_pages = 0;
    for email in [
        "operator@demo.example",
        "adviseur@demo.example",
        "hr@rivierstad.demo",
        "directie@rivierstad.demo",
        "leidinggevende@rivierstad.demo",
        "medewerker@rivierstad.demo",
    ] {
        let client = login(&base, email).await;
        let mut queue = VecDeque::from(["/".to_string()]);
        let mut seen = BTreeSet::new();
        while let Some(path) = queue.pop_front() {
            if seen.len() >= 60 || !seen.insert(path.clone()) {
                continue;
            }
            let r = client.get(format!("{base}{path}")).send().await.unwrap();
            let status = r.status();
            let html_page = r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("html"));
            let body = r.text().await.unwrap();
            assert!(status.is_success(), "{email}: {path} answered {status}\n{body:.500}\n{}", alone.log());
            if html_page {
                queue.extend(links(&body).into_iter().filter(|l| !l.starts_with("/api/docs")));
            }
        }
        assert!(seen.len() > 3, "{email} reached only {seen:?}");
        seen_pages += seen.len();
    }
    assert!(seen_pages > 60, "{seen_pages} pages");
    let css = reqwest::get(format!("{base}/static/style.css")).await.unwrap();
    assert!(css.status().is_success());

    // A mail, rendered from the built-in e-mail templates and written to the mail folder.
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let html = client.get(format!("{base}/password-reset")).send().await.unwrap().text().await.unwrap();
    let r = client
        .post(format!("{base}/password-reset"))
        .form(&[("csrf", csrf_of(&html).as_str()), ("email", "hr@rivierstad.demo")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let started = Instant::now();
    while !mails(&alone.dir).iter().any(|m| m.contains("/password-reset/")) {
        assert!(started.elapsed() < Duration::from_secs(30), "no reset mail in data/mail:\n{}", alone.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(_server);
    let _ = std::fs::remove_dir_all(&alone.dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_templates_folder_replaces_the_built_in_one_and_a_broken_one_stops_the_start() {
    use super::helpers::*;
    let dir = std::env::temp_dir().join(format!("carer-friendly-templates-{}", uuid::Uuid::new_v4().simple()));
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"), &dir);
    let nl = dir.join("i18n/nl.toml");
    let text = std::fs::read_to_string(&nl)
        .unwrap()
        .replace("\"login.title\" = \"Inloggen\"", "\"login.title\" = \"Aanmelden bij ons\"");
    std::fs::write(&nl, text).unwrap();
    let dir_s = dir.display().to_string();
    let app = TestApp::spawn_configured(super::smtp::SmtpSink::running().await, fresh_database_url().await, |c| {
        c.templates_dir = Some(dir_s.clone())
    })
    .await;
    let html = reqwest::get(format!("{}/login", app.address)).await.unwrap().text().await.unwrap();
    assert!(html.contains("Aanmelden bij ons"), "the folder's text is shown");

    // A template that does not parse: the start stops and names the file.
    std::fs::write(dir.join("partials/pager.html"), "{% if %}").unwrap();
    let mut config = carer_friendly::config::Config::for_database(&fresh_database_url().await);
    config.templates_dir = Some(dir_s);
    let clock = std::sync::Arc::new(carer_friendly::clock::SystemClock);
    let err = match carer_friendly::startup::Application::build(config, clock, "127.0.0.1:0").await {
        Ok(_) => panic!("a broken template must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("partials/pager.html"), "{err}");
    // A folder that is not there: no silent fallback to the built-in files.
    let mut config = carer_friendly::config::Config::for_database(&fresh_database_url().await);
    config.templates_dir = Some("/nonexistent/templates".into());
    let clock = std::sync::Arc::new(carer_friendly::clock::SystemClock);
    let err = match carer_friendly::startup::Application::build(config, clock, "127.0.0.1:0").await {
        Ok(_) => panic!("a missing templates folder must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("/nonexistent/templates"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn on_sigterm_the_service_stops_taking_connections_finishes_the_request_in_flight_and_exits_0() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let alone = Alone::new();
    let mut server = alone.serve(&[("JOBS_HEARTBEAT", "0 * * * * *")]).await;
    // A request under way: headers and half its body sent.
    let body = "email=someone%40example.org&password=x";
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", alone.port)).await.unwrap();
    let head = format!(
        "POST /password-reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) }, 0);
    // New connections are refused once the listener is closed.
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", alone.port)).await.is_ok() {
        assert!(started.elapsed() < Duration::from_secs(5), "still accepting after SIGTERM:\n{}", alone.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The request in flight is answered in full.
    conn.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "an answer to the request in flight: {answer:?}\n{}", alone.log());
    // Then the process exits 0, in bounded time.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "did not exit after SIGTERM:\n{}", alone.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}\n{}", alone.log());
    assert!(alone.log().contains("stopped"), "{}", alone.log());
    let _ = std::fs::remove_dir_all(&alone.dir);
}

#[tokio::test]
async fn with_json_logs_every_line_is_json_and_a_request_id_runs_from_the_header_to_the_page_and_the_log() {
    let alone = Alone::new();
    let _server = alone.serve(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info,carer_friendly=debug")]).await;
    let base = alone.base();
    let client = reqwest::Client::new();
    // A proxy's id is kept; the error page shows it, so a user can quote it.
    let r = client.get(format!("{base}/no-such-page")).header("x-request-id", "proxy-4711.a").send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-request-id"], "proxy-4711.a");
    assert!(r.text().await.unwrap().contains("<code>proxy-4711.a</code>"));
    // One that could carry someone's text is replaced by a fresh one.
    let r = client.get(format!("{base}/login")).header("x-request-id", "<b>hello there</b>").send().await.unwrap();
    let fresh = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(fresh.len() == 16 && fresh.chars().all(|c| c.is_ascii_hexdigit()), "{fresh}");
    let r = client.get(format!("{base}/api/v1/organisations")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("x-request-id"), "the API answers with an id too");

    let started = Instant::now();
    let lines = loop {
        let lines: Vec<serde_json::Value> = alone
            .log()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .collect();
        if lines.iter().any(|l| l["span"]["id"] == "proxy-4711.a") || started.elapsed() > Duration::from_secs(10) {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let traced: Vec<_> = lines.iter().filter(|l| l["span"]["id"] == "proxy-4711.a").collect();
    assert!(
        traced.iter().any(|l| l["fields"]["status"] == 404 && l["span"]["path"] == "/no-such-page"),
        "the request's line names its id, path and status: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l["span"]["id"] == fresh.as_str()), "{lines:#?}");
    let _ = std::fs::remove_dir_all(&alone.dir);
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token_and_count_requests_under_their_route_templates() {
    use super::helpers::*;
    let token = "metrics-token-0123456789";
    let off = TestApp::spawn().await;
    let r = reqwest::get(format!("{}/metrics", off.address)).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND, "off unless METRICS_TOKEN is set");

    let app = TestApp::spawn_configured(super::smtp::SmtpSink::running().await, fresh_database_url().await, |c| {
        c.metrics_token = Some(token.into())
    })
    .await;
    let s = app.organisation_with_people("Meetbaar BV", "met").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    for _ in 0..3 {
        assert_eq!(s.hr.get(&format!("/items/{item}")).await.status(), reqwest::StatusCode::OK);
    }
    assert_eq!(s.hr.get("/wp-login.php").await.status(), reqwest::StatusCode::NOT_FOUND);
    carer_friendly::jobs::run(&app.state, carer_friendly::jobs::Job::Housekeeping).await.unwrap();

    let client = reqwest::Client::new();
    let url = format!("{}/metrics", app.address);
    assert_eq!(client.get(&url).send().await.unwrap().status(), reqwest::StatusCode::UNAUTHORIZED);
    let wrong = client.get(&url).bearer_auth("metrics-token-wrong-wrong").send().await.unwrap();
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);
    let r = client.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        value(r#"carer_friendly_http_requests_total{method="GET",route="/items/:id",status="200"}"#),
        3.0,
        "three item pages, under the route's template"
    );
    assert!(value(r#"carer_friendly_http_requests_total{method="GET",route="other",status="404"}"#) >= 1.0);
    assert!(!text.contains("wp-login"), "unknown paths never become labels");
    assert_eq!(value(r#"carer_friendly_http_request_duration_seconds_count{method="GET",route="/items/:id"}"#), 3.0);
    assert!(
        text.contains(
            r#"carer_friendly_http_request_duration_seconds_bucket{method="GET",route="/items/:id",le="0.1"}"#
        )
    );
    assert_eq!(value(r#"carer_friendly_job_runs_total{job="housekeeping",outcome="ok"}"#), 1.0);
    assert!(value(r#"carer_friendly_db_connections{state="in_use"}"#) >= 0.0);
    assert!(value(r#"carer_friendly_outbox_messages{state="waiting"}"#) >= 0.0);
    assert_eq!(value(r#"carer_friendly_outbox_messages{state="dead"}"#), 0.0);
}
