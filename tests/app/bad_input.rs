use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;

#[tokio::test]
async fn malformed_json_gets_a_json_error_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Json BV", "j").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let before = s.hr_api.get_json(&format!("/items/{item}")).await;
    for body in ["{not json", "{\"kind\": \"poem\", \"title\": \"x\"}", "[]"] {
        let r = s
            .hr_api
            .client
            .post(format!("{}/items/{item}/evidence", s.hr_api.base))
            .bearer_auth(&s.hr_api.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let err: Value = r.json().await.expect("errors are JSON");
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    let r = s
        .hr_api
        .post(&format!("/items/{item}/evidence"), json!({ "kind": "link", "title": "x", "url": "javascript:alert(1)" }))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["errors"][0]["field"], "url");
    assert_eq!(before, s.hr_api.get_json(&format!("/items/{item}")).await);
}

#[tokio::test]
async fn oversized_and_disguised_uploads_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Upload BV", "u").await;
    let item = s.hr_api.item_ids(s.org_id, "beschrijven").await[0];
    let mut big = pdf_bytes();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = s.hr_api.upload(item, "Te groot", "groot.pdf", big).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("10 MB"));
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    let r = s.hr_api.upload(item, "Vermomd", "beleid.pdf", exe).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = s.hr_api.upload(item, "Tekst", "notitie.docx", b"plain text pretending".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let d = s.hr_api.get_json(&format!("/items/{item}")).await;
    assert!(d["evidence"].as_array().unwrap().is_empty());
    assert_eq!(d["item"]["status"], "open");

    // The same through the page: the item page says why, with status 413.
    let html = s.hr.get_html(&format!("/items/{item}")).await;
    let mut big = pdf_bytes();
    big.resize(10 * 1024 * 1024 + 10, b' ');
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&html))
        .text("kind", "file")
        .text("title", "Te groot")
        .part("file", reqwest::multipart::Part::bytes(big).file_name("groot.pdf"));
    let r = s.hr.client.post(format!("{}/items/{item}/evidence", s.hr.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("10 MB"));
    assert!(s.hr_api.get_json(&format!("/items/{item}")).await["evidence"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn illegal_transitions_get_409_and_the_item_keeps_its_status() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Flow BV", "f").await;
    let item = s.hr_api.item_ids(s.org_id, "bekwamen").await[0];
    let r = s.hr_api.transition(item, "submit", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no evidence yet");
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["field"], "evidence");
    let r = s.advisor.transition(item, "accept", None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("cannot be moved"));
    let r = s.hr_api.transition(item, "reopen", Some("why")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = s.hr_api.post(&format!("/items/{item}/transitions"), json!({ "action": "lapse" })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "lapse is not an action users can ask for");
    let d = s.hr_api.get_json(&format!("/items/{item}")).await;
    assert_eq!(d["item"]["status"], "open");
    assert!(d["history"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_or_used_invitation_link_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Link BV", "l").await;
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": "late@l.example", "name": "Laat", "role": "manager" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mail = app.smtp.wait_for("late@l.example", "/welcome/").await;
    let link = mail.link_containing("/welcome/").unwrap();
    let path = link.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap();
    app.clock.advance(Duration::days(8));
    let b = app.browser();
    let r = b.get(&path).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Deze link is verlopen"));
    // Nobody was created, and the used setup link cannot be used twice.
    let members = s.hr_api.list(&format!("/organisations/{}/members", s.org_id)).await;
    assert!(members.as_array().unwrap().iter().all(|m| m["email"] != "late@l.example"));
    let r = b.get("/welcome/not-a-real-token").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_logs_nobody_in() {
    let app = TestApp::spawn().await;
    app.operator().await;
    let b = app.browser();
    let r = b.submit("/login", "/login", &[("email", "operator@example.org"), ("password", "wrong password!")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("cf_session")));
    let html = r.text().await.unwrap();
    assert!(html.contains("operator@example.org"), "what the user typed is kept");
    assert_eq!(b.get("/operator").await.status(), StatusCode::SEE_OTHER, "still not logged in");
    let r = b.submit("/login", "/login", &[("email", "nobody@example.org"), ("password", "wrong password!")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn invalid_form_input_is_shown_next_to_the_field_with_what_was_typed() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Form BV", "v").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[1];
    let html = s.hr.get_html(&format!("/items/{item}")).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&html))
        .text("kind", "link")
        .text("title", "Intranetpagina")
        .text("url", "niet-een-adres")
        .text("valid_until", "2020-01-01");
    let r = s.hr.client.post(format!("{}/items/{item}/evidence", s.hr.base)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Intranetpagina") && page.contains("niet-een-adres"), "typed values are kept");
    assert!(s.hr_api.get_json(&format!("/items/{item}")).await["evidence"].as_array().unwrap().is_empty());
}
