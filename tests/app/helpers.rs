//! The test harness: every test gets its own database (a SQLite file, or a fresh PostgreSQL
//! database when TEST_DATABASE_URL is set), its own app on a random port with a manual clock,
//! and an SMTP sink; then it drives the app over HTTP as a user would.
use std::sync::Arc;

use carer_friendly::clock::ManualClock;
use carer_friendly::config::Config;
use carer_friendly::startup::Application;
use carer_friendly::state::AppState;
use chrono::TimeZone;
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use scraper::{Html, Selector};
use serde_json::{Value, json};

use super::smtp::SmtpSink;

pub const PASSWORD: &str = "a long enough password";

pub async fn fresh_database_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("cf_test_{}", uuid::Uuid::new_v4().simple());
            let admin = carer_friendly::db::connect(&base).await.expect("connect to TEST_DATABASE_URL");
            use sea_orm::ConnectionTrait;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&base).expect("TEST_DATABASE_URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        _ => {
            let dir = std::env::temp_dir().join("carer-friendly-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}?mode=rwc", dir.join(format!("{}.db", uuid::Uuid::new_v4())).display())
        }
    }
}

pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub smtp: SmtpSink,
    pub database_url: String,
}

/// A browser: its own cookies, no automatic redirects (tests look at them), and its own address
/// on the loopback network, as each person has their own machine (limits per client hold).
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub ip: std::net::IpAddr,
}

/// A fresh address in 127.0.0.0/8 for each client a test makes.
pub fn next_loopback() -> std::net::IpAddr {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % (250 * 250);
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8))
}

pub struct ApiClient {
    pub client: Client,
    pub base: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let smtp = SmtpSink::running().await;
        Self::spawn_with(smtp, fresh_database_url().await).await
    }

    pub async fn spawn_with(smtp: SmtpSink, database_url: String) -> TestApp {
        Self::spawn_configured(smtp, database_url, |_| {}).await
    }

    pub async fn spawn_configured(smtp: SmtpSink, database_url: String, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::for_database(&database_url);
        config.smtp_url = Some(smtp.url());
        config.outbox_interval_ms = 50;
        config.max_upload_bytes = 10 * 1024 * 1024;
        adjust(&mut config);
        let clock = Arc::new(ManualClock::new(start_time()));
        let app = Application::build(config, clock.clone(), "127.0.0.1:0").await.expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp { address, state, clock, smtp, database_url }
    }

    pub fn browser(&self) -> Browser {
        let ip = next_loopback();
        Browser {
            client: Client::builder().cookie_store(true).redirect(Policy::none()).local_address(ip).build().unwrap(),
            base: self.address.clone(),
            ip,
        }
    }

    /// Creates the operator through the setup link, logged in in the returned browser.
    pub async fn operator(&self) -> Browser {
        let link = carer_friendly::services::accounts::setup_link_if_needed(&self.state)
            .await
            .unwrap()
            .expect("no operator yet");
        let path = link.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap();
        let b = self.browser();
        let r = b
            .submit(
                &path,
                &path,
                &[("name", "Olga Operator"), ("email", "operator@example.org"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "setting the password leads to the login page");
        assert_eq!(r.headers()["location"], "/login?done=password_set");
        b.login("operator@example.org", PASSWORD).await;
        b
    }

    /// Accepts the invitation mailed to `email` and logs in.
    /// Delivers what waits in the outbox now, for apps whose sender runs rarely.
    pub async fn flush_outbox(&self) {
        let transport =
            carer_friendly::mail::sender::Transport::from_config(&self.state.config).expect("mail transport");
        carer_friendly::mail::sender::send_due(&self.state, &transport).await.expect("send the outbox");
    }

    pub async fn accept_invitation(&self, email: &str, name: &str) -> Browser {
        self.flush_outbox().await;
        let mail = self.smtp.wait_for(email, "/welcome/").await;
        let link = mail.link_containing("/welcome/").expect("invitation link");
        let path = link.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap();
        let b = self.browser();
        let r = b.submit(&path, &path, &[("name", name), ("password", PASSWORD)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
        assert_eq!(r.headers()["location"], "/login?done=password_set");
        b.login(email, PASSWORD).await;
        b
    }

    /// Operator, advisor and HR lead of a new organisation, each with an API token.
    pub async fn organisation_with_people(&self, name: &str, tag: &str) -> Setup {
        let operator = self.operator_once().await;
        let op_api = operator.api_token("setup").await;
        let org = op_api.post("/organisations", json!({ "name": name })).await;
        assert_eq!(org.status(), StatusCode::OK);
        let org_id = org.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let advisor_email = format!("advisor-{tag}@example.org");
        let r = op_api.post("/advisors", json!({ "email": advisor_email, "name": format!("Adviseur {tag}") })).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let advisor = self.accept_invitation(&advisor_email, &format!("Adviseur {tag}")).await;
        let advisor_id = advisor.api_token("me").await.get_json("/me").await["id"].as_i64().unwrap();
        let r = op_api.post(&format!("/organisations/{org_id}/advisors"), json!({ "advisor_id": advisor_id })).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let hr_email = format!("hr-{tag}@example.org");
        let r = op_api
            .post(
                &format!("/organisations/{org_id}/invitations"),
                json!({ "email": hr_email, "name": "Hanna HR", "role": "hr_lead" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let hr = self.accept_invitation(&hr_email, "Hanna HR").await;
        Setup { org_id, advisor: advisor.api_token("review").await, hr_api: hr.api_token("work").await, hr }
    }

    /// A browser logged in as an existing user.
    pub async fn login_as(&self, email: &str) -> Browser {
        let b = self.browser();
        b.login(email, PASSWORD).await;
        b
    }

    pub async fn operator_once(&self) -> Browser {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let users = carer_friendly::db::entities::user::Entity::find().count(&self.state.db).await.unwrap();
        if users == 0 {
            self.operator().await
        } else {
            let b = self.browser();
            b.login("operator@example.org", PASSWORD).await;
            b
        }
    }
}

pub struct Setup {
    pub org_id: i64,
    pub advisor: ApiClient,
    pub hr: Browser,
    pub hr_api: ApiClient,
}

pub fn csrf_of(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf]").unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(String::from)
        .unwrap_or_else(|| panic!("no csrf field in page:\n{html}"))
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{}", self.base, path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }

    /// Opens `page`, takes its CSRF token and posts the form fields to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let html = self.get_html(page).await;
        let csrf = csrf_of(&html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        // As a browser does: the page the form was on goes along as the Referer.
        let referer = format!("{}{}", self.base, page);
        self.client
            .post(format!("{}{}", self.base, action))
            .header("Referer", referer)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) {
        let r = self.submit("/login", "/login", &[("email", email), ("password", password)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {email} failed");
    }

    /// Creates an API token on the account page and returns a client that uses it.
    pub async fn api_token(&self, name: &str) -> ApiClient {
        let r = self.submit("/account", "/account/tokens", &[("name", name)]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        // Read from its own element: a random CSRF token elsewhere on the page may contain "cf_" too.
        let marker = r#"<code class="token">"#;
        let start = html.find(marker).expect("token shown once on the page") + marker.len();
        let token: String =
            html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
        assert!(token.starts_with("cf_"), "{token}");
        let client = Client::builder().local_address(self.ip).build().unwrap();
        ApiClient { client, base: format!("{}/api/v1", self.base), token }
    }
}

impl ApiClient {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{}", self.base, path)).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    /// A whole list, page by page, as an integrator walks it: every page holds at most `limit`
    /// rows, and the pages together hold `total` rows, each once.
    pub async fn list(&self, path: &str) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut rows: Vec<Value> = vec![];
        let mut cursor: Option<String> = None;
        let mut total = None;
        for _ in 0..1000 {
            let url = match &cursor {
                None => format!("{path}{sep}limit=2"),
                Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            };
            let page = self.get_json(&url).await;
            let data = page["data"].as_array().unwrap_or_else(|| panic!("GET {url} is not a page: {page}"));
            assert!(data.len() <= 2, "GET {url}: more rows than the limit");
            let t = page["total"].as_u64().unwrap();
            assert_eq!(*total.get_or_insert(t), t, "GET {url}: the total changed while nothing was written");
            rows.extend(data.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(rows.len() as u64, total.unwrap_or(0), "GET {path}: the pages do not add up to the total");
        Value::Array(rows)
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.client.post(format!("{}{}", self.base, path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.client.patch(format!("{}{}", self.base, path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.client.put(format!("{}{}", self.base, path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client.delete(format!("{}{}", self.base, path)).bearer_auth(&self.token).send().await.unwrap()
    }

    pub async fn transition(&self, item: i64, action: &str, reason: Option<&str>) -> Response {
        self.post(&format!("/items/{item}/transitions"), json!({ "action": action, "reason": reason })).await
    }

    pub async fn add_note(&self, item: i64, title: &str, note: &str) -> Response {
        self.post(&format!("/items/{item}/evidence"), json!({ "kind": "note", "title": title, "note": note })).await
    }

    pub async fn upload(&self, item: i64, title: &str, filename: &str, bytes: Vec<u8>) -> Response {
        let form = reqwest::multipart::Form::new()
            .text("title", title.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string()));
        self.client
            .post(format!("{}/items/{item}/evidence/file", self.base))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The ids of the items of one checklist.
    pub async fn item_ids(&self, org: i64, checklist: &str) -> Vec<i64> {
        let w = self.get_json(&format!("/organisations/{org}/checklists/{checklist}")).await;
        w["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
    }
}

/// A small but real PDF.
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// The number of pages of a PDF and its text as a reader extracts it (through the fonts'
/// /ToUnicode maps), with lines and pages joined by single spaces.
pub fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(bytes).expect("a PDF that parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text that extracts");
    (pages.len(), text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Runs the futures together on this task and gives their outputs in order.
pub async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut busy = false;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        out[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => busy = true,
                }
            }
        }
        if busy { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// The progress the service keeps (`services::progress`) equals a recount from the items.
pub async fn assert_progress_kept(app: &TestApp) {
    let drift = carer_friendly::services::progress::drift(&app.state.db, &app.state.checklists).await.unwrap();
    assert!(drift.is_empty(), "kept progress differs from a recount: {drift:#?}");
}

/// The same-site links of a page (no fragment), as a crawler follows them.
pub fn links(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("a[href]").unwrap();
    doc.select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .collect()
}
