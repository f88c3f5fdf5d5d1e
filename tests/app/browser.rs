//! In a real browser (headless Chromium driven through chromedriver): each of the six roles logs
//! in through the login form, lands on its own work, and follows every link of its menu and the
//! links on those pages without meeting an error page; axe-core, run in that browser, finds no
//! accessibility violation on the pages.
//!
//! Chromium, chromedriver and axe-core are not Rust crates: `.ci/run` installs them. Where they
//! are missing these tests say so and pass, unless `REQUIRE_BROWSER=1` (set by `.ci/run`).
//! `CHROMEDRIVER`, `CHROME` and `AXE_CORE_JS` point at other copies.
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::helpers::*;

/// One Chromium at a time: the machine has two cores and the rest of the suite runs beside.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Tools {
    chromedriver: PathBuf,
    chrome: PathBuf,
    axe: Option<String>,
}

/// The browser tools, or `None` (after saying why) when they are missing and not required.
fn tools(need_axe: bool) -> Option<Tools> {
    let path = |var: &str, default: &str| std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| default.into());
    let chromedriver = path("CHROMEDRIVER", "/usr/bin/chromedriver");
    let chrome = path("CHROME", "/usr/bin/chromium");
    let mut missing = vec![];
    if !chromedriver.is_file() {
        missing.push(format!("chromedriver at {} (CHROMEDRIVER)", chromedriver.display()));
    }
    if !chrome.is_file() {
        missing.push(format!("Chromium at {} (CHROME)", chrome.display()));
    }
    let axe = match std::env::var_os("AXE_CORE_JS").map(PathBuf::from) {
        _ if !need_axe => None,
        None => {
            missing.push("axe-core: AXE_CORE_JS is not set (the path of axe.min.js)".into());
            None
        }
        Some(p) => match std::fs::read_to_string(&p) {
            Ok(source) => Some(source),
            Err(e) => {
                missing.push(format!("axe-core at {} (AXE_CORE_JS): {e}", p.display()));
                None
            }
        },
    };
    if missing.is_empty() {
        return Some(Tools { chromedriver, chrome, axe });
    }
    let message = format!(
        "browser test: missing {}. `.ci/run` installs them \
         (apt-get install chromium chromium-driver; npm install axe-core@4)",
        missing.join("; ")
    );
    if std::env::var("REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("{message}; REQUIRE_BROWSER=1 makes this a failure.");
    }
    // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(std::io::stderr(), "{message}; skipped.");
    None
}

/// chromedriver on a free port, with the Chromium it starts, in a process group of its own so
/// that both end with the test, also when an assertion fails half-way.
struct Driver {
    child: tokio::process::Child,
    client: Option<Client>,
}

impl Driver {
    async fn start(tools: &Tools) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = tokio::process::Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", tools.chromedriver.display()));
        let mut driver = Driver { child, client: None };
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !reqwest::get(format!("{webdriver}/status")).await.is_ok_and(|r| r.status() == StatusCode::OK) {
            assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": tools.chrome,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1024"],
            }),
        );
        // Plain HTTP to the driver on loopback: no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a browser session");
        driver.client = Some(client);
        driver
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("session started")
    }

    /// Ends the browser session properly; `Drop` is the fallback for a failed test.
    async fn stop(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started. The system call,
        // not kill(1): procps reads `kill -KILL -1234` as `kill(-1)`, which is every process.
        if let Some(group) = self.child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()).filter(|&g| g > 1) {
            // SAFETY: a plain system call on a process group this test created (`process_group(0)`).
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
    }
}

/// Someone to log in as, and the page that is their work.
struct Login {
    role: &'static str,
    email: String,
    home: String,
}

/// One organisation with each of the six roles: the manager has the employee on their line, the
/// employee has a passport both confirmed, an item waits for the advisor's review, and the
/// tables that need content to show have some.
async fn organisation_with_every_role(app: &TestApp) -> Vec<Login> {
    let s = app.organisation_with_people("Zorg BV", "web").await;
    let org = s.org_id;
    let mut api = vec![];
    for (email, name, role) in [
        ("director-web@example.org", "Dirk Directeur", "director"),
        ("manager-web@example.org", "Mia Manager", "manager"),
        ("carer-web@example.org", "Kees Mantelzorger", "employee"),
    ] {
        let r = s
            .hr_api
            .post(&format!("/organisations/{org}/invitations"), json!({ "email": email, "name": name, "role": role }))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
        api.push(app.accept_invitation(email, name).await.api_token("setup").await);
    }
    let (manager, carer) = (&api[1], &api[2]);
    let manager_id = manager.get_json("/me").await["id"].as_i64().unwrap();
    let carer_id = carer.get_json("/me").await["id"].as_i64().unwrap();
    let put = |api: &ApiClient, path: String, body: Value| {
        api.client.put(format!("{}{path}", api.base)).bearer_auth(&api.token).json(&body).send()
    };
    let r = put(
        &s.hr_api,
        format!("/organisations/{org}/reporting-lines/{carer_id}"),
        json!({ "manager_id": manager_id, "department": "Zorg" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let r = put(carer, "/passport/consent".into(), json!({ "hr_copy": true, "statistics": true })).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let r = carer
        .post(
            "/passports",
            json!({
                "situation": "Mijn moeder woont alleen en heeft hulp nodig",
                "arrangements": [{ "kind": "phone", "details": "Telefoon aan tijdens het werk" }],
                "support": "Steunpunt Mantelzorg",
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let passport = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for who in [carer, manager] {
        let r = who.post(&format!("/passports/{passport}/confirmations"), json!({ "version": 1 })).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    }
    let item = s.hr_api.item_ids(org, "bespreken").await[0];
    assert_eq!(s.hr_api.add_note(item, "Notulen", "Besproken in het MT").await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(item, "submit", None).await.status(), StatusCode::OK);
    // Tables that show only with content: pending invitations (a member, an advisor) and an
    // attention moment.
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{org}/invitations"),
            json!({ "email": "nieuw-web@example.org", "name": "Nina Nieuw", "role": "employee" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let moment = json!({
        "title": "Mantelzorgcafé",
        "message": "Koffie met werkende mantelzorgers.",
        "rule": "monthly 15",
        "recipients": ["hr_lead"],
    });
    let r = s.hr_api.post(&format!("/organisations/{org}/attention-moments"), moment).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let operator = app.login_as("operator@example.org").await.api_token("setup").await;
    let r =
        operator.post("/advisors", json!({ "email": "nieuw-adviseur@example.org", "name": "Nieuwe Adviseur" })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());

    let login = |role, email: &str, home: String| Login { role, email: email.into(), home };
    vec![
        login("operator", "operator@example.org", "/operator".into()),
        login("advisor", "advisor-web@example.org", "/review".into()),
        login("hr_lead", "hr-web@example.org", format!("/organisations/{org}")),
        login("director", "director-web@example.org", format!("/organisations/{org}/dashboard")),
        login("manager", "manager-web@example.org", "/passport".into()),
        login("employee", "carer-web@example.org", "/passport".into()),
    ]
}

/// What the browser shows: where it is, the HTTP status of the page, the status on the app's
/// error page (its `data-status` marker), and the links on it.
#[derive(Debug, Deserialize)]
struct Page {
    url: String,
    status: Option<u16>,
    error: Option<String>,
    links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
struct Link {
    href: String,
    raw: String,
    menu: bool,
    download: bool,
}

impl Page {
    /// The error this page shows, if any.
    fn failure(&self) -> Option<String> {
        match (&self.error, self.status) {
            (Some(marker), _) => Some(format!("error page {marker}")),
            (None, Some(status)) if status >= 400 => Some(format!("HTTP {status}")),
            _ => None,
        }
    }
}

const INSPECT: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const marker = document.querySelector('[data-status]');
return {
  url: location.href,
  status: nav && nav.responseStatus ? nav.responseStatus : null,
  error: marker ? marker.getAttribute('data-status') : null,
  links: Array.from(document.querySelectorAll('a[href]'), a => ({
    href: a.href,
    raw: a.getAttribute('href'),
    menu: a.closest('nav.site-nav') !== null,
    download: a.hasAttribute('download'),
  })),
};
"#;

async fn inspect(c: &Client) -> Page {
    let v = c.execute(INSPECT, vec![]).await.expect("reading the page");
    serde_json::from_value(v).expect("the page as INSPECT describes it")
}

async fn open(c: &Client, url: &str) -> Page {
    c.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    inspect(c).await
}

/// The address to follow for a link, or `None` for what a page walk leaves alone: other sites,
/// `mailto:`, anchors on the same page, and downloads (files, calendar feeds, the API).
fn to_follow(link: &Link, site: &Url) -> Option<String> {
    if link.raw.starts_with('#') || link.download {
        return None;
    }
    let mut url = Url::parse(&link.href).ok()?;
    if url.origin() != site.origin() {
        return None;
    }
    let path = url.path();
    let download = [".pdf", ".ics", ".csv", ".json"].iter().any(|ext| path.ends_with(ext))
        || path.ends_with("/download")
        || path.starts_with("/calendar/")
        || path.starts_with("/api/");
    if download {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}

/// Logs in through the login form and returns the page the browser lands on.
async fn log_in(c: &Client, site: &Url, email: &str) -> Page {
    let login = site.join("/login").expect("login address");
    c.goto(login.as_str()).await.expect("the login page");
    c.find(Locator::Css("#email")).await.expect("e-mail field").send_keys(email).await.expect("typing");
    c.find(Locator::Css("#password")).await.expect("password field").send_keys(PASSWORD).await.expect("typing");
    c.find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .expect("log-in button")
        .click()
        .await
        .expect("click");
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.current_url().await.expect("current address").path() == "/login" {
        assert!(Instant::now() < deadline, "{email} is still on the login page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    inspect(c).await
}

/// A page reached in a walk, and from where.
struct Visit {
    url: String,
    from: String,
    failure: Option<String>,
}

/// Logs in as `who`, checks the landing page, then opens every menu page and, from each (the
/// landing page too), every on-page link: one level deep. `on_page` is called on each page
/// reached, with its address after any redirect, while the browser shows it.
async fn walk<F, Fut>(c: &Client, site: &Url, who: &Login, mut on_page: F) -> Vec<Visit>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    c.delete_all_cookies().await.expect("a fresh start");
    let home = log_in(c, site, &who.email).await;
    let landed = Url::parse(&home.url).expect("landing address");
    assert_eq!(landed.path(), who.home, "{} lands on its work", who.role);
    let menu: Vec<String> = home.links.iter().filter(|l| l.menu).filter_map(|l| to_follow(l, site)).collect();
    assert!(menu.iter().any(|m| m.ends_with("/account")), "{}: a menu with the account page: {menu:?}", who.role);
    let mut seen = BTreeSet::new();
    let mut visits = vec![];
    let mut deeper = vec![];
    let mut pages = vec![(home.url.clone(), "log-in".to_string(), Some(home))];
    pages.extend(menu.into_iter().map(|m| (m, "menu".to_string(), None)));
    for (url, from, page) in pages {
        if !seen.insert(url.clone()) {
            continue;
        }
        let page = match page {
            Some(p) => p,
            None => open(c, &url).await,
        };
        seen.insert(page.url.clone());
        visits.push(Visit { url: url.clone(), from, failure: page.failure() });
        on_page(page.url.clone()).await;
        deeper
            .extend(page.links.iter().filter(|l| !l.menu).filter_map(|l| to_follow(l, site)).map(|l| (l, url.clone())));
    }
    for (url, from) in deeper {
        if !seen.insert(url.clone()) {
            continue;
        }
        let page = open(c, &url).await;
        seen.insert(page.url.clone());
        visits.push(Visit { url, from, failure: page.failure() });
        on_page(page.url).await;
    }
    visits
}

#[tokio::test]
async fn every_role_follows_its_own_menu_without_meeting_an_error_page() {
    let Some(tools) = tools(false) else { return };
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    let logins = organisation_with_every_role(&app).await;
    let site = Url::parse(&app.address).expect("app address");
    let driver = Driver::start(&tools).await;
    let c = driver.client();
    let mut failures = vec![];
    for who in &logins {
        let visits = walk(c, &site, who, |_| async {}).await;
        assert!(visits.len() > 3, "{}: only {} pages", who.role, visits.len());
        for v in visits {
            if let Some(f) = v.failure {
                failures.push(format!("{}: {} (from {}): {f}", who.role, v.url, v.from));
            }
        }
    }
    driver.stop().await;
    assert!(failures.is_empty(), "error pages on the way:\n{}", failures.join("\n"));
}

/// One of axe-core's findings on a page.
#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    targets: Vec<String>,
}

const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then(r => done({ violations: r.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.map(String).join(' ')),
  })) }))
  .catch(e => done({ error: String(e) }));
"#;

/// axe-core's violations on the page the browser shows now.
async fn axe(c: &Client, source: &str) -> Vec<Violation> {
    // Injected through WebDriver, which the page's Content-Security-Policy does not govern.
    let loaded = c.execute(&format!("{source}\nreturn typeof window.axe;"), vec![]).await.expect("injecting axe-core");
    assert_eq!(loaded, json!("object"), "axe-core did not load");
    let r = c.execute_async(AXE_RUN, vec![]).await.expect("running axe-core");
    if let Some(e) = r.get("error") {
        panic!("axe-core failed: {e}");
    }
    serde_json::from_value(r["violations"].clone()).expect("axe-core's violations")
}

fn describe(url: &str, violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        let impact = v.impact.as_deref().unwrap_or("?");
        out.push_str(&format!("{url}: {} ({impact}) {}\n", v.id, v.help));
        for t in &v.targets {
            out.push_str(&format!("    {t}\n"));
        }
    }
    out
}

/// A page's kind: its path with the ids taken out, so that one of many items is checked.
fn shape(url: &str) -> String {
    let path = Url::parse(url).map(|u| u.path().to_string()).unwrap_or_default();
    path.split('/')
        .map(|s| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { ":id" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn axe_finds_no_violation_on_the_main_page_of_each_role_nor_on_the_pages_its_menu_leads_to() {
    let Some(tools) = tools(true) else { return };
    let source = tools.axe.clone().expect("axe-core source");
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    let logins = organisation_with_every_role(&app).await;
    let site = Url::parse(&app.address).expect("app address");
    let driver = Driver::start(&tools).await;
    let c = driver.client();
    let report = std::cell::RefCell::new(String::new());
    let checked = std::cell::Cell::new(0);
    for who in &logins {
        // The landing page comes first, so it is always checked; of the others one of each kind.
        let mut shapes = BTreeSet::new();
        let (report, checked, source) = (&report, &checked, &source);
        walk(c, &site, who, |url| {
            let fresh = shapes.insert(shape(&url));
            async move {
                if fresh {
                    let found = axe(c, source).await;
                    report.borrow_mut().push_str(&describe(&format!("{} {url}", who.role), &found));
                    checked.set(checked.get() + 1);
                }
            }
        })
        .await;
    }
    driver.stop().await;
    let report = report.into_inner();
    assert!(checked.get() > 3 * logins.len(), "only {} pages checked", checked.get());
    assert!(report.is_empty(), "axe-core found violations:\n{report}");
}

/// The employee pulse in Chromium: an employee opens the invitation from their e-mail, answers
/// without logging in, and the HR lead reads the closed round's figures on its page.
#[tokio::test]
async fn an_employee_answers_the_pulse_in_a_browser_and_hr_reads_the_result() {
    let Some(tools) = tools(false) else { return };
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Puls in de browser", "pb").await;
    let mut emails = vec![];
    for i in 0..5 {
        let email = format!("collega{i}@pb.example");
        let r = s
            .hr_api
            .post(
                &format!("/organisations/{}/invitations", s.org_id),
                json!({ "email": email, "name": format!("Collega {i}"), "role": "employee" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        app.accept_invitation(&email, &format!("Collega {i}")).await;
        emails.push(email);
    }
    let page = format!("/organisations/{}/pulse", s.org_id);
    let r = s.hr.submit(&page, &page, &[("closes_on", "2026-03-20"), ("invite", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let round = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_string();
    app.flush_outbox().await;
    let mut links = vec![];
    for email in &emails {
        let mail = app.smtp.wait_for(email, "/pulse/answer/").await;
        links.push(mail.link_containing("/pulse/answer/").expect("the questionnaire's link"));
    }
    // Four answer over plain HTTP; the fifth in the browser.
    for link in &links[..4] {
        let path = format!("/pulse/answer/{}", link.split_once("/pulse/answer/").unwrap().1);
        let r = app.browser().submit(&path, &path, &[("cares", "now"), ("knows-arrangements", "yes")]).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let driver = Driver::start(&tools).await;
    let c = driver.client();
    c.goto(&links[4]).await.expect("the invitation link");
    c.find(Locator::Css("input[name=cares][value=now]")).await.expect("first question").click().await.expect("click");
    c.find(Locator::Css("input[name=knows-arrangements][value=yes]"))
        .await
        .expect("a choice")
        .click()
        .await
        .expect("click");
    c.find(Locator::Css("input[name=would-help][value=leave]")).await.expect("a box").click().await.expect("click");
    c.find(Locator::Css("form.pulse-form button[type=submit]")).await.expect("send").click().await.expect("click");
    let deadline = Instant::now() + Duration::from_secs(20);
    // The thanks page's own heading (the questionnaire's intro speaks of anonymity too).
    while !c.source().await.expect("the page").contains("Dank je wel") {
        assert!(Instant::now() < deadline, "no thanks after sending the answers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = s.hr.submit(&round, &format!("{round}/close"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let site = Url::parse(&app.address).expect("app address");
    log_in(c, &site, "hr-pb@example.org").await;
    c.goto(site.join(&round).expect("round address").as_str()).await.expect("the round's page");
    // As rendered: table headings may be upper-cased by the stylesheet.
    let text = c.find(Locator::Css("main")).await.expect("the page's main part").text().await.expect("its text");
    let text = text.to_lowercase();
    assert!(text.contains("iedereen (5)"), "{text}");
    assert!(text.contains("weet je welke regelingen"), "{text}");
    assert!(text.contains("5 (100%)"), "all five know the arrangements: {text}");
    assert!(text.contains("minder dan 5"), "{text}");
    driver.stop().await;
}
