use reqwest::StatusCode;
use serde_json::json;

use super::helpers::*;
use super::smtp::SmtpSink;

#[tokio::test]
async fn the_invitation_arrives_over_smtp_in_the_invitees_language_with_a_working_link() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Mail BV", "m").await;
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations?lang=en", s.org_id),
            json!({ "email": "eve@m.example", "name": "Eve", "role": "manager" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app.smtp.wait_for("eve@m.example", "/welcome/").await;
    assert!(mail.text().contains("Mail BV"));
    assert!(mail.data.contains("multipart/alternative"), "text and HTML versions");
    assert!(mail.from.contains("noreply@localhost"));
    app.accept_invitation("eve@m.example", "Eve").await;
}

#[tokio::test]
async fn with_the_mail_server_down_the_mail_waits_in_the_outbox_and_goes_out_once_when_it_is_back() {
    let mut app = TestApp::spawn_with(SmtpSink::down().await, fresh_database_url().await).await;
    let operator = app.operator().await;
    let api = operator.api_token("t").await;
    let r = api.post("/advisors", json!({ "email": "wait@m.example", "name": "Wachter" })).await;
    assert_eq!(r.status(), StatusCode::OK, "the invitation is accepted although mail is down");
    // The sender tries and fails; the message stays, with the error recorded.
    let pending = wait_for_failed_attempt(&app).await;
    assert!(pending.last_error.is_some());
    assert!(pending.sent_at.is_none());
    assert!(app.smtp.all().is_empty());

    // The mail server comes back; after the backoff the message goes out, once.
    app.smtp.start().await;
    app.clock.advance(chrono::Duration::minutes(5));
    app.smtp.wait_for("wait@m.example", "/welcome/").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let copies = app.smtp.all().iter().filter(|m| m.to.iter().any(|t| t.contains("wait@m.example"))).count();
    assert_eq!(copies, 1);
}

async fn wait_for_failed_attempt(app: &TestApp) -> carer_friendly::db::entities::outbox::Model {
    use sea_orm::EntityTrait;
    for _ in 0..200 {
        let rows = carer_friendly::db::entities::outbox::Entity::find().all(&app.state.db).await.unwrap();
        if let Some(r) = rows.into_iter().find(|r| r.recipient == "wait@m.example" && r.attempts > 0) {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sender never tried");
}
