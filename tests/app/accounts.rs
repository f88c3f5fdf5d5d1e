use reqwest::StatusCode;

use super::helpers::*;

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_mailed_link_once() {
    let app = TestApp::spawn().await;
    app.operator().await;
    let b = app.browser();
    let r = b.submit("/password-reset", "/password-reset", &[("email", "operator@example.org")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?done=reset_requested");
    assert!(b.get_html("/login?done=reset_requested").await.contains("hebben we een link gestuurd"));
    // An unknown address gets the same answer, and no mail.
    let r = b.submit("/password-reset", "/password-reset", &[("email", "nobody@example.org")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?done=reset_requested");
    let mail = app.smtp.wait_for("operator@example.org", "/password-reset/").await;
    let link = mail.link_containing("/password-reset/").unwrap();
    let path = format!("/password-reset/{}", link.rsplit('/').next().unwrap());
    let r = b.submit(&path, &path, &[("password", "short")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "too short");
    let r = b.submit(&path, &path, &[("password", "a brand new password")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?done=password_set");
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

/// Two invitations to one address, accepted at the same moment: one account, and the other
/// person reads that the address is taken (422), not a server error.
#[tokio::test]
async fn two_invitations_to_one_address_accepted_at_once_make_one_account() {
    let app = TestApp::spawn().await;
    let operator = app.operator().await;
    let api = operator.api_token("t").await;
    for name in ["Een", "Twee"] {
        let r = api.post("/advisors", serde_json::json!({ "email": "twice@example.org", "name": name })).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    app.flush_outbox().await;
    let mut paths = vec![];
    for _ in 0..50 {
        paths = app
            .smtp
            .all()
            .iter()
            .filter(|m| m.to.iter().any(|t| t.contains("twice@example.org")))
            .filter_map(|m| m.link_containing("/welcome/"))
            .map(|l| l.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap())
            .collect();
        if paths.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(paths.len(), 2, "two invitations");
    let (a, b) = (app.browser(), app.browser());
    let (ca, cb) = (csrf_of(&a.get_html(&paths[0]).await), csrf_of(&b.get_html(&paths[1]).await));
    let post = |br: &Browser, path: &str, csrf: String| {
        let form = vec![("csrf", csrf), ("name", "Dubbel".to_string()), ("password", PASSWORD.to_string())];
        br.client.post(format!("{}{}", br.base, path)).form(&form).send()
    };
    let (ra, rb) = tokio::join!(post(&a, &paths[0], ca), post(&b, &paths[1], cb));
    let mut statuses = vec![ra.unwrap().status(), rb.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]);
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let users = carer_friendly::db::entities::user::Entity::find()
        .filter(carer_friendly::db::entities::user::Column::Email.eq("twice@example.org"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
}
