//! The operator's side: configuration checked before anything starts, one setup link at a time.
use std::sync::Arc;

use carer_friendly::clock::ManualClock;
use carer_friendly::config::Config;
use carer_friendly::startup::Application;
use reqwest::StatusCode;

use super::helpers::*;

async fn build(config: Config) -> anyhow::Result<Application> {
    Application::build(config, Arc::new(ManualClock::new(start_time())), "127.0.0.1:0").await
}

#[tokio::test]
async fn a_bad_setting_stops_the_start_before_a_database_or_a_setup_link_exists() {
    let dir = std::env::temp_dir().join(format!("cf-config-{}", uuid::Uuid::new_v4()));
    let file = dir.join("never.db");
    let mut config = Config::for_database(&format!("sqlite://{}?mode=rwc", file.display()));
    config.jobs_heartbeat = "*/5 * * * *".into();
    config.smtp_url = Some("smtpz://mail.example.org".into());
    let e = build(config).await.err().expect("refused").to_string();
    assert!(e.contains("JOBS_HEARTBEAT") && e.contains("six"), "{e}");
    assert!(e.contains("SMTP_URL"), "{e}");
    assert!(!dir.exists(), "nothing was created: no database, so no setup link either");
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_is_named_with_what_to_check() {
    let config = Config::for_database("sqlite:///proc/no-such-place/carer.db?mode=rwc");
    let e = build(config).await.err().expect("refused").to_string();
    assert!(e.contains("/proc/no-such-place/carer.db") && e.contains("writable"), "{e}");
    let config = Config::for_database("postgres://nobody:secret@127.0.0.1:1/nothing");
    let e = build(config).await.err().expect("refused").to_string();
    assert!(e.contains("127.0.0.1:1/nothing") && e.contains("PostgreSQL runs"), "{e}");
    assert!(!e.contains("secret"), "no password in the message: {e}");
}

#[tokio::test]
async fn a_new_setup_link_ends_the_previous_one() {
    let app = TestApp::spawn().await;
    let link = || carer_friendly::services::accounts::setup_link_if_needed(&app.state);
    let first = link().await.unwrap().unwrap();
    let second = link().await.unwrap().unwrap();
    let path = |l: &str| l.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap();
    let b = app.browser();
    assert_eq!(b.get(&path(&second)).await.status(), StatusCode::OK);
    assert_ne!(b.get(&path(&first)).await.status(), StatusCode::OK, "the earlier link no longer works");
    // Two instances starting at the same moment: one of the two links works, not both.
    let (x, y) = tokio::join!(link(), link());
    let works = [x.unwrap().unwrap(), y.unwrap().unwrap()];
    let mut ok = 0;
    for l in &works {
        ok += usize::from(b.get(&path(l)).await.status() == StatusCode::OK);
    }
    assert_eq!(ok, 1, "exactly one working setup link");
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_with_every_file_and_readable_passports() {
    use carer_friendly::db::backup::{Backup, backup};
    use carer_friendly::db::entities::evidence_file;
    use sea_orm::EntityTrait;
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};

    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Back-up BV", "b").await;
    let consent = s
        .hr_api
        .client
        .put(format!("{}/passport/consent", s.hr_api.base))
        .bearer_auth(&s.hr_api.token)
        .json(&json!({ "hr_copy": false, "statistics": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::OK, "{}", consent.text().await.unwrap());
    let situation = "Mijn vader woont sinds kort in een verpleeghuis";
    let r = s.hr_api.post("/passports", json!({ "situation": situation, "arrangements": [], "support": "" })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let passport = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let items = s.hr_api.item_ids(s.org_id, "bespreken").await;
    let mut uploaded = vec![];
    for (i, item) in items.iter().take(3).enumerate() {
        let mut bytes = pdf_bytes();
        bytes.extend_from_slice(format!("% file {i}\n").as_bytes());
        let r = s.hr_api.upload(*item, &format!("Bestand {i}"), &format!("f{i}.pdf"), bytes.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        uploaded.push(hex::encode(Sha256::digest(&bytes)));
    }

    // Writes go on while the copy is made.
    let writer = {
        let api =
            ApiClient { client: reqwest::Client::new(), base: s.hr_api.base.clone(), token: s.hr_api.token.clone() };
        let item = items[3];
        tokio::spawn(async move {
            for i in 0..20 {
                api.add_note(item, &format!("Notitie {i}"), "Tijdens de back-up.").await;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let dir = std::env::temp_dir().join(format!("cf-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copy.db");
    let result = backup(&app.state.db, &app.database_url, &file).await.expect("backup");
    writer.await.unwrap();
    let Backup::Written { .. } = result else {
        // PostgreSQL: the way is pg_dump, printed without the password.
        let Backup::PgDump { command } = result else { unreachable!() };
        assert!(command.starts_with("pg_dump ") && command.contains("cf_test_"), "{command}");
        return;
    };
    assert!(backup(&app.state.db, &app.database_url, &file).await.is_err(), "an existing file is not overwritten");

    // Restore: the copy plus the passport key (kept beside the database file by default).
    let key = carer_friendly::services::passport_crypto::key_file_path(&app.state.config);
    std::fs::copy(&key, dir.join("passport.key")).expect("the passport key is kept");
    let restored =
        TestApp::spawn_with(super::smtp::SmtpSink::running().await, format!("sqlite://{}?mode=rwc", file.display()))
            .await;
    let mut found: Vec<String> = evidence_file::Entity::find()
        .all(&restored.state.db)
        .await
        .unwrap()
        .iter()
        .map(|f| hex::encode(Sha256::digest(&f.content)))
        .collect();
    found.sort();
    uploaded.sort();
    assert_eq!(found, uploaded, "every evidence file, byte for byte");
    let api = ApiClient {
        client: reqwest::Client::new(),
        base: format!("{}/api/v1", restored.address),
        token: s.hr_api.token.clone(),
    };
    let p = api.get_json(&format!("/passports/{passport}")).await;
    assert_eq!(p["situation"], situation, "the passport decrypts after the restore");
}

#[tokio::test]
async fn the_daily_housekeeping_removes_what_is_past_retention_and_keeps_the_rest() {
    use carer_friendly::db::entities::{job_run, one_time_token, outbox, session};
    use carer_friendly::jobs::{Job, run};
    use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

    let app = TestApp::spawn().await;
    app.operator().await; // a session and a used setup link
    let sent = |at: chrono::DateTime<chrono::Utc>| outbox::ActiveModel {
        recipient: Set("x@example.org".into()),
        subject: Set("s".into()),
        body_text: Set("t".into()),
        body_html: Set("h".into()),
        dedupe_key: Set(None),
        attempts: Set(1),
        created_at: Set(at),
        next_attempt_at: Set(at),
        locked_until: Set(None),
        last_error: Set(None),
        sent_at: Set(Some(at)),
        claim_token: Set(None),
        dead_at: Set(None),
        ..Default::default()
    };
    let old_mail = sent(app.state.now()).insert(&app.state.db).await.unwrap();
    let now = app.state.now();
    job_run::ActiveModel {
        job: Set("old-job".into()),
        period: Set("2023".into()),
        scope: Set("all".into()),
        instance: Set("test".into()),
        attempts: Set(1),
        claimed_at: Set(now - chrono::Duration::days(900)),
        expires_at: Set(now - chrono::Duration::days(900)),
        finished_at: Set(Some(now - chrono::Duration::days(900))),
        outcome: Set(Some("0".into())),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();

    app.clock.advance(chrono::Duration::days(40));
    let fresh_mail = sent(app.state.now()).insert(&app.state.db).await.unwrap();
    let report = run(&app.state, Job::Housekeeping).await.unwrap();
    assert_eq!(report.done, 1);
    let db = &app.state.db;
    assert!(outbox::Entity::find_by_id(old_mail.id).one(db).await.unwrap().is_none(), "sent 40 days ago");
    assert!(outbox::Entity::find_by_id(fresh_mail.id).one(db).await.unwrap().is_some(), "sent today");
    assert_eq!(session::Entity::find().count(db).await.unwrap(), 0, "expired sessions");
    assert_eq!(one_time_token::Entity::find().count(db).await.unwrap(), 0, "the used setup link");
    let runs: Vec<String> = job_run::Entity::find().all(db).await.unwrap().into_iter().map(|r| r.job).collect();
    assert!(!runs.contains(&"old-job".to_string()) && runs.contains(&"housekeeping".to_string()), "{runs:?}");
    assert_eq!(run(&app.state, Job::Housekeeping).await.unwrap().done, 0, "once a day");
}

/// Tests run on a one-thread runtime, like a busy server's worker: if argon2 ran on it, nothing
/// else would move until every hash was done.
#[tokio::test]
async fn password_hashing_leaves_the_runtime_free_for_other_work() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let done = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let done = done.clone();
        async move {
            let (mut worst, mut last) = (Duration::ZERO, Instant::now());
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(2)).await;
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            worst
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let passwords = ["een lang wachtwoord", "nog een lang wachtwoord"];
    let hashes: Vec<_> = (0..8)
        .map(|i| tokio::spawn(carer_friendly::services::crypto::hash_password_off_runtime(passwords[i % 2])))
        .collect();
    for h in hashes {
        assert!(h.await.unwrap().is_ok());
    }
    let total = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let worst = ticker.await.unwrap();
    assert!(worst < total / 2, "the runtime stood still for {worst:?} of {total:?}");
}
