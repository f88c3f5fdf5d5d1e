//! Mail under faults, against real SMTP servers on loopback that misbehave: one that never
//! answers, one that is slow, one that refuses for good and one that asks to try later.
use std::time::{Duration, Instant};

use carer_friendly::db::entities::{audit_log, outbox};
use carer_friendly::mail::sender::{self, Transport};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use super::helpers::*;
use super::smtp::{Behaviour, SmtpSink};

/// An app whose own sender stays out of the way (its first run is an hour after start), so the
/// test decides when mail is sent.
async fn app_with(behaviour: Behaviour, adjust: impl FnOnce(&mut carer_friendly::config::Config)) -> TestApp {
    let sink = SmtpSink::behaving(behaviour).await;
    TestApp::spawn_configured(sink, fresh_database_url().await, |c| {
        c.outbox_interval_ms = 3_600_000;
        c.smtp_timeout_secs = 1;
        adjust(c);
    })
    .await
}

async fn queue(app: &TestApp, to: &str) -> outbox::Model {
    let now = app.state.now();
    outbox::ActiveModel {
        recipient: Set(to.into()),
        subject: Set(format!("Hello {to}")),
        body_text: Set("text".into()),
        body_html: Set("<p>html</p>".into()),
        dedupe_key: Set(None),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(now - chrono::Duration::seconds(1)),
        locked_until: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        claim_token: Set(None),
        dead_at: Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("queue a mail")
}

async fn send(app: &TestApp) -> sender::Report {
    let transport = Transport::from_config(&app.state.config).expect("transport");
    sender::send_due(&app.state, &transport).await.expect("send the outbox")
}

async fn row(app: &TestApp, id: i64) -> Option<outbox::Model> {
    outbox::Entity::find_by_id(id).one(&app.state.db).await.unwrap()
}

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let r = reqwest::get(format!("{}/health", app.address)).await.unwrap();
    (r.status(), r.json().await.unwrap())
}

fn message_id(m: &super::smtp::Mail) -> String {
    m.data
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: ").or_else(|| l.strip_prefix("Message-Id: ")))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no Message-ID in\n{}", m.data))
}

#[tokio::test]
async fn a_mail_server_that_never_answers_costs_each_mail_a_bounded_wait_and_health_shows_it() {
    let app = app_with(Behaviour::Silent, |_| {}).await;
    for i in 0..3 {
        queue(&app, &format!("silent{i}@example.org")).await;
    }
    let started = Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(30), send(&app))
        .await
        .expect("the sender gives up on a silent server instead of hanging");
    assert_eq!((report.sent, report.dead), (0, 0));
    // On a loaded machine the app's own first run may come after the mails were queued and try
    // some of them itself: count the tries on the rows, not in this call's report.
    let tried = || async {
        let rows = outbox::Entity::find().all(&app.state.db).await.unwrap();
        rows.iter().filter(|r| r.attempts == 1 && r.last_error.is_some() && r.sent_at.is_none()).count()
    };
    while tried().await < 3 && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        tried().await,
        3,
        "every mail was tried once, none blocked the rest (this call failed {})",
        report.failed
    );
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK, "mail trouble does not take the service out");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["mail"]["ok"], false);
    assert_eq!(body["mail"]["failing"], 3);
}

#[tokio::test]
async fn two_senders_with_a_slow_mail_server_deliver_each_mail_once() {
    let app = app_with(Behaviour::Slow(Duration::from_millis(300)), |c| c.smtp_timeout_secs = 30).await;
    for i in 0..6 {
        queue(&app, &format!("slow{i}@example.org")).await;
    }
    // Instance A starts a batch; while it is busy more than the old two-minute lock passes, then
    // instance B starts. Each message is claimed with its own lease, so B takes only what A has not.
    let a = tokio::spawn({
        let state = app.state.clone();
        async move { sender::send_due(&state, &Transport::from_config(&state.config).unwrap()).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.clock.advance(chrono::Duration::minutes(3));
    let b = send(&app).await;
    let a = a.await.unwrap();
    assert_eq!(a.sent + b.sent, 6, "A {a:?}, B {b:?}");
    let mails = app.smtp.all();
    for i in 0..6 {
        let to = format!("slow{i}@example.org");
        let copies = mails.iter().filter(|m| m.to.iter().any(|t| t.contains(&to))).count();
        assert_eq!(copies, 1, "{to} delivered {copies} times");
    }
}

#[tokio::test]
async fn every_try_of_a_mail_carries_the_same_message_id_derived_from_its_row() {
    let app = app_with(Behaviour::Defer, |_| {}).await;
    let queued = queue(&app, "again@example.org").await;
    assert_eq!(send(&app).await.failed, 1);
    app.smtp.set(Behaviour::Accept);
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(send(&app).await.sent, 1);
    let first = message_id(&app.smtp.tries()[0]);
    let delivered = message_id(&app.smtp.all()[0]);
    assert_eq!(first, delivered, "a receiver can drop the repeat");
    assert_eq!(delivered, sender::message_id(&app.state, &queued));
    let other = queue(&app, "other@example.org").await;
    assert_ne!(sender::message_id(&app.state, &other), delivered, "another row has another id");
}

#[tokio::test]
async fn a_permanent_refusal_makes_the_mail_dead_at_once_and_the_operator_retries_or_discards_it() {
    let app = app_with(Behaviour::Reject, |_| {}).await;
    let operator = app.operator().await;
    let refused = queue(&app, "refused@example.org").await;
    let unwanted = queue(&app, "unwanted@example.org").await;
    assert_eq!(send(&app).await, sender::Report { sent: 0, failed: 0, dead: 2 });
    let dead = row(&app, refused.id).await.unwrap();
    assert!(dead.dead_at.is_some());
    assert_eq!(dead.attempts, 1);
    assert!(dead.last_error.unwrap_or_default().contains("550"));
    // Not tried again by itself, however long we wait.
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(send(&app).await, sender::Report::default());
    assert_eq!(app.smtp.tries().len(), 2);
    let (_, body) = health(&app).await;
    assert_eq!(body["mail"]["dead"], 2);

    // The operator sees both on the jobs page (and in the API) and acts on them.
    let page = operator.get_html("/operator/jobs").await;
    assert!(page.contains("refused@example.org") && page.contains(&format!("/operator/mail/{}", refused.id)));
    let api = operator.api_token("ops").await;
    let jobs = api.get_json("/jobs").await;
    assert_eq!(jobs["mail_dead"].as_array().unwrap().len(), 2);

    app.smtp.set(Behaviour::Accept);
    let path = format!("/operator/mail/{}", refused.id);
    let r = operator.submit("/operator/jobs", &path, &[("action", "retry")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = api.delete(&format!("/mail/{}", unwanted.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(row(&app, unwanted.id).await.is_none(), "discarded");
    assert_eq!(send(&app).await.sent, 1);
    app.smtp.wait_for("refused@example.org", "text").await;
    assert!(app.smtp.all().iter().all(|m| !m.to.iter().any(|t| t.contains("unwanted"))));
    // Live mail cannot be discarded.
    assert_eq!(api.delete(&format!("/mail/{}", refused.id)).await.status(), StatusCode::NOT_FOUND);

    let audit =
        audit_log::Entity::find().filter(audit_log::Column::Action.starts_with("mail.")).all(&app.state.db).await;
    let actions: Vec<String> = audit.unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, vec!["mail.retry", "mail.discard"]);
}

#[tokio::test]
async fn a_mail_that_keeps_being_deferred_is_given_up_after_the_configured_attempts() {
    let app = app_with(Behaviour::Defer, |c| c.mail_max_attempts = 3).await;
    let queued = queue(&app, "later@example.org").await;
    let mut reports = vec![];
    for _ in 0..4 {
        reports.push(send(&app).await);
        app.clock.advance(chrono::Duration::hours(2));
    }
    let failed: usize = reports.iter().map(|r| r.failed).sum();
    let dead: usize = reports.iter().map(|r| r.dead).sum();
    assert_eq!((failed, dead), (2, 1), "{reports:?}");
    let r = row(&app, queued.id).await.unwrap();
    assert_eq!(r.attempts, 3);
    assert!(r.dead_at.is_some());
    assert_eq!(app.smtp.tries().len(), 3);
}

#[tokio::test]
async fn a_repeated_dedupe_key_inside_a_transaction_leaves_the_transaction_usable() {
    use carer_friendly::mail::{Message, enqueue};
    let app = TestApp::spawn().await;
    let txn = carer_friendly::db::connect::write_txn(&app.state.db).await.unwrap();
    for _ in 0..2 {
        let msg = Message {
            template: "password_reset",
            to: "once@example.org",
            lang: "en",
            context: minijinja::context! { name => "Once", link => "http://x/y", hours => 2 },
            dedupe_key: Some("test:once".into()),
        };
        enqueue(&txn, &app.state, msg).await.expect("a repeat is no error");
    }
    // On PostgreSQL a caught error would have aborted the transaction: this would fail.
    let msg = Message {
        template: "password_reset",
        to: "next@example.org",
        lang: "en",
        context: minijinja::context! { name => "Next", link => "http://x/z", hours => 2 },
        dedupe_key: None,
    };
    enqueue(&txn, &app.state, msg).await.expect("the transaction still works");
    txn.commit().await.unwrap();
    let rows = outbox::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.recipient == "once@example.org").count(), 1);
    assert_eq!(rows.iter().filter(|r| r.recipient == "next@example.org").count(), 1);
}

#[tokio::test]
async fn health_answers_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let (status, body) = health(&app).await;
    assert_eq!(
        (status, body["database"].clone(), body["mail"]["ok"].clone()),
        (StatusCode::OK, true.into(), true.into())
    );
    // Close the app's pool: every statement now fails, as with a database that went away.
    app.state.db.clone().close().await.unwrap();
    let started = Instant::now();
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], false);
    assert_eq!(body["status"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn run_job_all_against_a_mail_server_that_never_answers_finishes() {
    let app = app_with(Behaviour::Silent, |_| {}).await;
    queue(&app, "stuck@example.org").await;
    let bin = env!("CARGO_BIN_EXE_carer-friendly");
    let run = tokio::process::Command::new(bin)
        .args(["run-job", "all"])
        .env("DATABASE_URL", &app.database_url)
        .env("SMTP_URL", app.smtp.url())
        .env("SMTP_TIMEOUT_SECS", "1")
        .env("JOBS_HEARTBEAT", "off")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run).await.expect("run-job all ends").unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("failed: 1"), "{stdout}");
}

/// PostgreSQL only (SQLite has no server to lose): every connection of the app is cut from the
/// database side, as when the server restarts; the service recovers by itself.
#[tokio::test]
async fn after_the_database_drops_every_connection_the_service_recovers_without_a_restart() {
    let app = TestApp::spawn().await;
    if !app.database_url.starts_with("postgres") {
        return;
    }
    assert_eq!(health(&app).await.0, StatusCode::OK);
    let db_name = app.database_url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
    let admin = carer_friendly::db::connect(&std::env::var("TEST_DATABASE_URL").unwrap()).await.unwrap();
    use sea_orm::ConnectionTrait;
    let killed = admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    admin.close().await.ok();
    assert!(killed.rows_affected() >= 1, "the app had connections to cut");
    let started = Instant::now();
    loop {
        if health(&app).await.0 == StatusCode::OK {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the service did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = reqwest::get(format!("{}/login", app.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "pages work again");
}
