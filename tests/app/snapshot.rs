//! Every page of the demo as each role, in Dutch and in English, and every e-mail: they must
//! render with no template syntax or undefined value showing, HTML escaped in HTML and only
//! there. With `SNAPSHOT_DIR` set, the test also writes each page and mail there, normalised
//! (no CSRF values or random tokens), one file each: run it before and after an upgrade of the
//! template engine and `diff -r` the two folders.
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use carer_friendly::demo::{DEMO_PASSWORD, load_showcase};
use carer_friendly::jobs::{Job, run};
use carer_friendly::mail::{Message, render};
use chrono::TimeZone;
use minijinja::Value;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, QueryOrder};

use super::helpers::*;

const ROLES: [&str; 6] = [
    "operator@demo.example",
    "adviseur@demo.example",
    "hr@rivierstad.demo",
    "directie@rivierstad.demo",
    "leidinggevende@rivierstad.demo",
    "medewerker@rivierstad.demo",
];

/// Pages per role and language: enough to reach every kind of page from the landing page, with
/// item pages (alike, and many) bounded so that they do not crowd out the rest.
const PAGES_PER_ROLE: usize = 120;
const ITEMS_PER_ROLE: usize = 12;

/// Random values replaced, so that two runs of the same code give the same text: the app's
/// port, the value of every CSRF field, and any long run of token characters with a digit in it
/// (session and link tokens, UUIDs, nonces).
fn normalise(text: &str, address: &str) -> String {
    let host = address.trim_start_matches("http://");
    let text = text.replace(host, "127.0.0.1:<port>");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    let marker = r#"name="csrf" value=""#;
    while let Some(at) = rest.find(marker) {
        out.push_str(&rest[..at + marker.len()]);
        rest = &rest[at + marker.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str("<csrf>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut result = String::with_capacity(out.len());
    let mut run = String::new();
    for c in out.chars().chain(std::iter::once('\0')) {
        if token_char(c) {
            run.push(c);
            continue;
        }
        if run.len() >= 32 && run.chars().any(|c| c.is_ascii_digit()) {
            result.push_str("<token>");
        } else {
            result.push_str(&run);
        }
        run.clear();
        if c != '\0' {
            result.push(c);
        }
    }
    result
}

/// What a template must never leave in its output.
fn leftovers(name: &str, text: &str) {
    for bad in ["{{", "}}", "{%", "%}", "undefined", "[object", "Undefined"] {
        assert!(!text.contains(bad), "{name} shows {bad:?}:\n{text}");
    }
}

/// Renders a mail template in both languages with a fixed context; `<`, `&` and quotes in the
/// values show which output escapes.
fn mails_with_fixed_contexts(app: &TestApp, out: &mut BTreeMap<String, String>) {
    let base = app.state.public_url();
    let org = "Zorg & <Co> \"Noord\"";
    let item = serde_json::json!({
        "organisation": org, "item": "Beleid <op papier>", "short": "beleid",
        "status": "ingediend", "link": format!("{base}/items/7"),
    });
    let contexts: Vec<(&str, &str, serde_json::Value)> = vec![
        (
            "invitation",
            "new",
            serde_json::json!({ "name": "Anna <A>", "link": format!("{base}/welcome/abc"),
            "role": "HR-verantwoordelijke", "organisation": org, "days": 7, "existing_account": false,
            "login_link": format!("{base}/login") }),
        ),
        (
            "invitation",
            "existing",
            serde_json::json!({ "name": "Anna", "link": format!("{base}/welcome/abc"),
            "role": "manager", "organisation": org, "days": 7, "existing_account": true,
            "login_link": format!("{base}/login") }),
        ),
        (
            "password_reset",
            "",
            serde_json::json!({ "name": "Bob & co", "link": format!("{base}/password-reset/x"), "hours": 2 }),
        ),
        (
            "recognition_applied",
            "first",
            serde_json::json!({ "name": "Ada", "organisation": org, "renewal": false,
            "motivation": "Wij <doen> het & meer", "link": format!("{base}/organisations/3/recognition") }),
        ),
        (
            "recognition_applied",
            "renewal",
            serde_json::json!({ "name": "Ada", "organisation": org, "renewal": true,
            "motivation": "", "link": format!("{base}/organisations/3/recognition") }),
        ),
        (
            "recognition_decided",
            "granted",
            serde_json::json!({ "name": "Hanna", "organisation": org, "granted": true,
            "reason": "Goed <werk>", "number": "MZV-2026-0001", "valid_until": "2029-03-02",
            "link": format!("{base}/organisations/3/recognition") }),
        ),
        (
            "recognition_decided",
            "declined",
            serde_json::json!({ "name": "Hanna", "organisation": org, "granted": false,
            "reason": "Nog niet & later", "number": null, "valid_until": null,
            "link": format!("{base}/organisations/3/recognition") }),
        ),
        (
            "passport_review",
            "carer",
            serde_json::json!({ "name": "Sanne", "carer": "Sanne <V>", "side": "carer",
            "review_date": "2026-09-01", "link": format!("{base}/passport/1") }),
        ),
        (
            "passport_review",
            "manager",
            serde_json::json!({ "name": "Lars", "carer": "Sanne", "side": "manager",
            "review_date": "2026-09-01", "link": format!("{base}/passport/1") }),
        ),
        (
            "review_waiting",
            "one",
            serde_json::json!({ "name": "Ada", "items": [item.clone()],
            "queue_link": format!("{base}/review") }),
        ),
        (
            "review_waiting",
            "two",
            serde_json::json!({ "name": "Ada", "items": [item.clone(), item],
            "queue_link": format!("{base}/review") }),
        ),
        (
            "reminder",
            "",
            serde_json::json!({ "name": "Ruben", "title": "Dag van de Mantelzorg <10 nov>",
            "body": "Over 4 weken & meer", "link": format!("{base}/inbox") }),
        ),
    ];
    for (template, case, context) in contexts {
        for lang in ["nl", "en"] {
            let msg = Message {
                template,
                to: "x@example.org",
                lang,
                context: Value::from(minijinja::value::Serde(&context)),
                dedupe_key: None,
            };
            let r = render(&app.state, &msg).unwrap_or_else(|e| panic!("{template} {case} {lang}: {e}"));
            let name = format!("mail-fixed/{template}-{case}-{lang}");
            leftovers(&name, &format!("{}\n{}\n{}", r.subject, r.text, r.html));
            for escaped in ["&amp;", "&lt;", "&gt;", "&quot;", "&#"] {
                assert!(!r.text.contains(escaped), "{name}.txt is not HTML but shows {escaped}:\n{}", r.text);
                assert!(!r.subject.contains(escaped), "{name} subject shows {escaped}: {}", r.subject);
            }
            assert!(
                !r.html.contains("<Co>") && !r.html.contains("<A>") && !r.html.contains("<V>"),
                "{name}.html escapes"
            );
            out.insert(format!("{name}.subject"), r.subject);
            out.insert(format!("{name}.txt"), r.text);
            out.insert(format!("{name}.html"), r.html);
        }
    }
}

/// Each role's pages reached by following links from where it lands, in link order.
async fn crawl(app: &TestApp, lang: &str, out: &mut BTreeMap<String, String>) {
    for email in ROLES {
        let client = reqwest::Client::builder().cookie_store(true).local_address(next_loopback()).build().unwrap();
        let html = client.get(format!("{}/login", app.address)).send().await.unwrap().text().await.unwrap();
        let r = client
            .post(format!("{}/login", app.address))
            .form(&[("csrf", csrf_of(&html).as_str()), ("email", email), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{email} logs in: {}", r.status());
        let mut queue = VecDeque::from(["/".to_string()]);
        let mut seen = BTreeSet::new();
        let mut items = 0;
        while let Some(path) = queue.pop_front() {
            if seen.len() >= PAGES_PER_ROLE || seen.contains(&path) || path == "/logout" {
                continue;
            }
            if path.starts_with("/items/") {
                if items >= ITEMS_PER_ROLE {
                    continue;
                }
                items += 1;
            }
            seen.insert(path.clone());
            let r = client.get(format!("{}{path}", app.address)).send().await.unwrap();
            let status = r.status();
            let html_page = r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("html"));
            let body = r.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{email}: {path}\n{body:.500}");
            if !html_page {
                continue;
            }
            let name = format!("pages-{lang}/{email}{}.html", path.replace('/', "~"));
            leftovers(&name, &body);
            queue.extend(links(&body).into_iter().filter(|l| !l.starts_with("/api/docs")));
            out.insert(name, body);
        }
        assert!(seen.len() > 3, "{email} reached only {seen:?}");
    }
}

#[tokio::test]
async fn every_page_and_mail_of_the_demo_renders_without_template_leftovers_and_escapes_only_html() {
    // The sender never runs: the mails stay in the outbox to be read, and pages that count them
    // see the same number each run.
    let app = TestApp::spawn_configured(super::smtp::SmtpSink::running().await, fresh_database_url().await, |c| {
        c.outbox_interval_ms = 3_600_000
    })
    .await;
    load_showcase(&app.state).await.expect("demo data");
    let mut out = BTreeMap::new();

    // The jobs on days they have work, so reminders reach inboxes and the outbox.
    for (y, m, d) in [(2026, 3, 2), (2026, 3, 9), (2026, 10, 13), (2026, 11, 3), (2026, 11, 10)] {
        app.clock.set(chrono::Utc.with_ymd_and_hms(y, m, d, 7, 0, 0).unwrap());
        for job in Job::ALL {
            run(&app.state, job).await.unwrap_or_else(|e| panic!("{job:?} on {y}-{m}-{d}: {e}"));
        }
    }
    crawl(&app, "nl", &mut out).await;
    use carer_friendly::db::entities::user;
    user::Entity::update_many().col_expr(user::Column::Locale, Expr::value("en")).exec(&app.state.db).await.unwrap();
    crawl(&app, "en", &mut out).await;

    use carer_friendly::db::entities::outbox;
    let queued = outbox::Entity::find().order_by_asc(outbox::Column::Id).all(&app.state.db).await.unwrap();
    assert!(!queued.is_empty(), "the jobs queued mail");
    for m in queued {
        let name = format!("mail-outbox/{:04}-{}", m.id, m.recipient);
        leftovers(&name, &format!("{}\n{}\n{}", m.subject, m.body_text, m.body_html));
        out.insert(format!("{name}.subject"), m.subject);
        out.insert(format!("{name}.txt"), m.body_text);
        out.insert(format!("{name}.html"), m.body_html);
    }
    mails_with_fixed_contexts(&app, &mut out);

    if let Ok(dir) = std::env::var("SNAPSHOT_DIR") {
        let dir = PathBuf::from(dir);
        for (name, text) in &out {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, normalise(text, &app.address)).unwrap();
        }
    }
}
