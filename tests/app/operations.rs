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
}
