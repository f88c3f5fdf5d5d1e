//! People come, change and leave: pending invitations, role changes, deactivation and
//! reactivation, by page and API, with the rule that an organisation keeps an active HR lead.
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;

async fn invite(s: &Setup, email: &str, role: &str) {
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": email, "name": role, "role": role }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
}

async fn member_id(s: &Setup, email: &str) -> i64 {
    let members = s.hr_api.list(&format!("/organisations/{}/members", s.org_id)).await;
    members.as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_deactivated_member_is_shut_out_at_once_and_can_be_reactivated() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "deact").await;
    invite(&s, "kees@example.org", "employee").await;
    let kees = app.accept_invitation("kees@example.org", "Kees").await;
    let token = kees.api_token("kees").await;
    assert_eq!(kees.get("/passport").await.status(), StatusCode::OK);
    let id = member_id(&s, "kees@example.org").await;
    let members = format!("/organisations/{}/members", s.org_id);
    let r = s.hr.submit(&members, &format!("{members}/{id}"), &[("active", "false")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("{members}?done=deactivated").as_str());
    let page = s.hr.get_html(&format!("{members}?done=deactivated")).await;
    assert!(page.contains("gedeactiveerd"), "a confirmation on the page");
    // The very next request of the session and of the token is refused.
    let r = kees.get("/passport").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the session is gone");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert_eq!(token.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    let again = app.browser();
    let r = again.submit("/login", "/login", &[("email", "kees@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a deactivated member cannot log in");
    let listed = s.hr_api.list(&format!("/organisations/{}/members", s.org_id)).await;
    let row = listed.as_array().unwrap().iter().find(|m| m["id"] == id).unwrap().clone();
    assert_eq!(row["status"], "deactivated");
    assert!(row["last_login_at"].is_string(), "{row}");
    // Reactivated by API: they log in again; the old token stays revoked.
    let r = s.hr_api.patch(&format!("/organisations/{}/members/{id}", s.org_id), json!({ "active": true })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "active");
    again.login("kees@example.org", PASSWORD).await;
    assert_eq!(token.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    let audit = audit_actions(&app).await;
    assert!(audit.contains(&"member.deactivated".to_string()) && audit.contains(&"member.reactivated".to_string()));
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    use sea_orm::EntityTrait;
    carer_friendly::db::entities::audit_log::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

#[tokio::test]
async fn the_last_active_hr_lead_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "last").await;
    let me = s.hr_api.get_json("/me").await["id"].as_i64().unwrap();
    let path = format!("/organisations/{}/members/{me}", s.org_id);
    for change in [json!({ "role": "employee" }), json!({ "active": false })] {
        let r = s.hr_api.patch(&path, change.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{change}");
        assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["code"], "last_hr_lead");
    }
    let operator = app.login_as("operator@example.org").await.api_token("op").await;
    let r = operator.patch(&path, json!({ "active": false })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the operator neither");
    // With a second HR lead the first may step down.
    invite(&s, "hr2@example.org", "hr_lead").await;
    app.accept_invitation("hr2@example.org", "Tweede HR").await;
    let r = s.hr_api.patch(&path, json!({ "role": "director" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "director");
    // A director may not change anyone; another organisation's HR lead finds nobody.
    let other = app.organisation_with_people("Ander BV", "other").await;
    let hr2 = member_id(&s, "hr2@example.org").await;
    let r = other.hr_api.patch(&format!("/organisations/{}/members/{hr2}", s.org_id), json!({ "active": false })).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s.hr_api.patch(&format!("/organisations/{}/members/{hr2}", s.org_id), json!({ "active": false })).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "now a director");
}

#[tokio::test]
async fn pending_invitations_are_listed_resent_with_a_new_link_and_withdrawn() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "pending").await;
    invite(&s, "anna@example.org", "employee").await;
    invite(&s, "bert@example.org", "manager").await;
    let members = format!("/organisations/{}/members", s.org_id);
    let page = s.hr.get_html(&members).await;
    assert!(page.contains("anna@example.org") && page.contains("bert@example.org"), "pending invitations are shown");
    app.flush_outbox().await;
    let first = app.smtp.wait_for("anna@example.org", "/welcome/").await.link_containing("/welcome/").unwrap();
    let pending = s.hr_api.list(&format!("/organisations/{}/invitations", s.org_id)).await;
    let id_of =
        |email: &str| pending.as_array().unwrap().iter().find(|i| i["email"] == email).unwrap()["id"].as_i64().unwrap();
    let (anna, bert) = (id_of("anna@example.org"), id_of("bert@example.org"));
    let r = s.hr.submit(&members, &format!("/organisations/{}/invitations/{anna}/resend", s.org_id), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.flush_outbox().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let links: Vec<String> = app
        .smtp
        .all()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains("anna@")))
        .filter_map(|m| m.link_containing("/welcome/"))
        .collect();
    assert_eq!(links.len(), 2, "a second mail with a new link");
    let path = |l: &str| format!("/welcome/{}", l.rsplit('/').next().unwrap());
    let b = app.browser();
    assert_eq!(b.get(&path(&first)).await.status(), StatusCode::CONFLICT, "the old link is dead");
    assert_eq!(b.get(&path(&links[1])).await.status(), StatusCode::OK, "the new link works");
    let r = s.hr_api.delete(&format!("/organisations/{}/invitations/{bert}", s.org_id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bert_link = app.smtp.wait_for("bert@example.org", "/welcome/").await.link_containing("/welcome/").unwrap();
    assert_eq!(b.get(&path(&bert_link)).await.status(), StatusCode::CONFLICT, "a withdrawn link is dead");
    let pending = s.hr_api.list(&format!("/organisations/{}/invitations", s.org_id)).await;
    let emails: Vec<&str> = pending.as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec!["anna@example.org"]);
    assert!(audit_actions(&app).await.contains(&"invitation.withdrawn".to_string()));
}

#[tokio::test]
async fn a_manager_with_carers_is_deactivated_only_after_the_handover() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "handover").await;
    invite(&s, "mia@example.org", "manager").await;
    invite(&s, "kees@example.org", "employee").await;
    app.accept_invitation("mia@example.org", "Mia").await;
    app.accept_invitation("kees@example.org", "Kees").await;
    let (mia, kees) = (member_id(&s, "mia@example.org").await, member_id(&s, "kees@example.org").await);
    let r = s
        .hr_api
        .client
        .put(format!("{}/organisations/{}/reporting-lines/{kees}", s.hr_api.base, s.org_id))
        .bearer_auth(&s.hr_api.token)
        .json(&json!({ "manager_id": mia }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let members = format!("/organisations/{}/members", s.org_id);
    let r = s.hr.submit(&members, &format!("{members}/{mia}"), &[("active", "false")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("Draag hun paspoorten eerst over"), "HR is told why");
    assert!(html.contains(&format!("/organisations/{}/passports", s.org_id)), "and led to the handover");
    // Once Kees has no manager (or another one), Mia can go.
    let r = s
        .hr_api
        .client
        .put(format!("{}/organisations/{}/reporting-lines/{kees}", s.hr_api.base, s.org_id))
        .bearer_auth(&s.hr_api.token)
        .json(&json!({ "manager_id": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.hr.submit(&members, &format!("{members}/{mia}"), &[("active", "false")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
