use reqwest::StatusCode;

use super::helpers::*;

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link_once() {
    let app = TestApp::spawn().await;
    app.operator().await;
    let b = app.browser();
    let r = b.submit("/password-reset", "/password-reset", &[("email", "operator@example.org")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    // An unknown address gets the same answer, and no mail.
    let r = b.submit("/password-reset", "/password-reset", &[("email", "nobody@example.org")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app.smtp.wait_for("operator@example.org", "/password-reset/").await;
    let link = mail.link_containing("/password-reset/").unwrap();
    let path = format!("/password-reset/{}", link.rsplit('/').next().unwrap());
    let r = b.submit(&path, &path, &[("password", "short")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "too short");
    let r = b.submit(&path, &path, &[("password", "a brand new password")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(b.get(&path).await.status(), StatusCode::CONFLICT, "the link works once");
    let r = b.submit("/login", "/login", &[("email", "operator@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the old password no longer works");
    b.login("operator@example.org", "a brand new password").await;
    assert!(app.smtp.all().iter().all(|m| !m.to.iter().any(|t| t.contains("nobody@"))));
}

#[tokio::test]
async fn the_setup_link_creates_the_operator_once_and_logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let b = app.operator().await;
    assert_eq!(b.get("/operator").await.status(), StatusCode::OK);
    assert!(carer_friendly::services::accounts::setup_link_if_needed(&app.state).await.unwrap().is_none());
    let r = b.submit("/operator", "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/operator").await.status(), StatusCode::SEE_OTHER, "logged out");
}
