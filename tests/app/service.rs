use reqwest::StatusCode;
use serde_json::Value;

use super::helpers::*;

#[tokio::test]
async fn health_says_the_database_answers() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(format!("{}/health", app.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["database"], true);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api_and_the_docs_page_is_served() {
    let app = TestApp::spawn().await;
    let spec: Value = reqwest::get(format!("{}/api/openapi.json", app.address)).await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for p in ["/items/{id}/transitions", "/organisations/{id}", "/review-queue", "/items/{id}/evidence/file"] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    let docs = reqwest::get(format!("{}/api/docs", app.address)).await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_operation_documents_its_error_answers_and_they_come_in_the_documented_shape() {
    let app = TestApp::spawn().await;
    let spec: Value = reqwest::get(format!("{}/api/openapi.json", app.address)).await.unwrap().json().await.unwrap();
    assert!(spec["components"]["schemas"]["Error"]["properties"]["errors"].is_object());
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            for status in ["400", "401", "403", "404", "409", "422", "429", "500"] {
                assert!(op["responses"].get(status).is_some(), "{method} {path} documents {status}");
            }
        }
    }
    let item = &spec["components"]["schemas"]["ItemSummary"]["properties"];
    assert_eq!(item["due_date"]["nullable"], true, "optional fields are nullable: {item}");
    assert_eq!(item["due_date"]["format"], "date");
    // The rules the services enforce are stated where they apply.
    let schemas = &spec["components"]["schemas"];
    for (schema, property) in [
        ("NewToken", "name"),
        ("NewOrganisation", "name"),
        ("NewInvitation", "name"),
        ("NewAdvisor", "name"),
        ("NewTextEvidence", "title"),
        ("NewComment", "body"),
    ] {
        assert!(schemas[schema]["properties"][property]["pattern"].is_string(), "{schema}.{property}");
        assert!(schemas[schema]["properties"][property]["maxLength"].is_u64(), "{schema}.{property}");
    }
    assert!(schemas["Preferences"]["properties"]["email"]["items"]["enum"].as_array().is_some_and(|k| k.len() > 5));
    let docs = reqwest::get(format!("{}/api/docs", app.address)).await.unwrap().text().await.unwrap();
    assert!(docs.contains("#/components/schemas/Error"), "the docs UI shows the same document");

    let s = app.organisation_with_people("Contract BV", "c").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    // A date that is no date: 400 in the error shape, naming the body as the field.
    let r = s.hr_api.patch(&format!("/items/{item}"), serde_json::json!({ "due_date": "31-31-2026" })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "body", "{body}");
    assert_eq!(body["errors"][0]["code"], "malformed");
    // A method the path does not have: 405 saying which it has.
    let r = s.hr_api.client.request(reqwest::Method::PUT, format!("{}/items/{item}", s.hr_api.base));
    let r = r.bearer_auth(&s.hr_api.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, PATCH");
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    // A comment too long is refused as too long, not as missing.
    let r = s.hr_api.post(&format!("/items/{item}/comments"), serde_json::json!({ "body": "x".repeat(10_001) })).await;
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["code"], "comment_too_long");

    // What a write answers is what the read shows: evidence (note and file) and comments.
    let note: Value = s.hr_api.add_note(item, "Verslag", "Besproken in het MT.").await.json().await.unwrap();
    let file: Value = s.hr_api.upload(item, "Beleid", "beleid.pdf", pdf_bytes()).await.json().await.unwrap();
    let comment: Value = s
        .hr_api
        .post(&format!("/items/{item}/comments"), serde_json::json!({ "body": "Graag bespreken." }))
        .await
        .json()
        .await
        .unwrap();
    assert!(file["filename"].is_string() && file["size"].is_u64() && file["created_by"]["name"].is_string(), "{file}");
    assert!(comment["author"]["name"].is_string(), "{comment}");
    let read = s.hr_api.get_json(&format!("/items/{item}")).await;
    let find = |list: &str, id: &Value| read[list].as_array().unwrap().iter().find(|e| &e["id"] == id).cloned();
    assert_eq!(find("evidence", &note["id"]), Some(note.clone()));
    assert_eq!(find("evidence", &file["id"]), Some(file.clone()));
    assert_eq!(find("comments", &comment["id"]), Some(comment.clone()));
}

#[tokio::test]
async fn the_api_needs_a_valid_token_and_a_revoked_token_stops_working() {
    let app = TestApp::spawn().await;
    let operator = app.operator().await;
    let r = reqwest::get(format!("{}/api/v1/me", app.address)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    let api = operator.api_token("laptop").await;
    assert_eq!(api.get_json("/me").await["role"], "operator");
    let id = api.list("/tokens").await[0]["id"].as_i64().unwrap();
    let r = api.delete(&format!("/tokens/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let revoked: Value = r.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string() && revoked["id"] == id, "the token as it now is: {revoked}");
    assert_eq!(api.get("/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_second_instance_on_the_same_database_serves_the_same_sessions_and_files() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Twee BV", "t").await;
    let item = s.hr_api.item_ids(s.org_id, "borgen").await[1];
    let ev = s.hr_api.upload(item, "Handboek", "handboek.pdf", pdf_bytes()).await.json::<Value>().await.unwrap();
    let second = TestApp::spawn_with(super::smtp::SmtpSink::running().await, app.database_url.clone()).await;
    // The same browser (its session cookie) and the same token work on the other instance.
    let cookie_browser = Browser { client: s.hr.client.clone(), base: second.address.clone(), ip: s.hr.ip };
    let page = cookie_browser.get(&format!("/items/{item}")).await;
    assert_eq!(page.status(), StatusCode::OK, "the session is shared");
    let other = ApiClient {
        client: reqwest::Client::new(),
        base: format!("{}/api/v1", second.address),
        token: s.hr_api.token.clone(),
    };
    let file = other.get(&format!("/evidence/{}/download", ev["id"])).await;
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf_bytes(), "the upload is shared");
}
