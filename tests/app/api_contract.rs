//! The API's contract beyond single answers: lists come in pages (a stable order, a limit, a
//! cursor; every row once, even when rows are added meanwhile), writes on a stale read are
//! refused with 412 (`ETag` / `If-Match`), PATCH tells "leave" from "clear", and a write answers
//! with what the read shows.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;

fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array().unwrap().iter().map(|r| r["id"].as_i64().or(r["item_id"].as_i64()).unwrap()).collect()
}

async fn error_fields(r: reqwest::Response, status: StatusCode) -> Vec<(String, String)> {
    assert_eq!(r.status(), status);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| (e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into())).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_list_comes_in_pages_in_a_stable_order_with_each_row_once() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Paginaland", "p").await;

    // Tokens: newest first; the pages of two add up to the whole list.
    for i in 0..4 {
        assert_eq!(s.hr_api.post("/tokens", json!({ "name": format!("t{i}") })).await.status(), StatusCode::OK);
    }
    let tokens = ids(&s.hr_api.list("/tokens").await);
    assert_eq!(tokens.len(), 5, "the setup's token and four more");
    assert!(tokens.windows(2).all(|w| w[0] > w[1]), "newest first: {tokens:?}");

    // Organisations as the operator sees them: by name, page after page as on one page.
    let op = app.operator_once().await.api_token("pages").await;
    for name in ["Zorg Zuid", "Alpha Zorg", "Midden Zorg", "Beta Zorg"] {
        assert_eq!(op.post("/organisations", json!({ "name": name })).await.status(), StatusCode::OK);
    }
    let paged = op.list("/organisations").await;
    let whole = op.get_json("/organisations?limit=200").await;
    assert_eq!(paged, whole["data"]);
    assert_eq!(whole["next_cursor"], Value::Null);
    let names: Vec<&str> = paged.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 5);

    // The review queue: oldest submission first, whatever the item ids.
    let items = s.hr_api.item_ids(s.org_id, "bespreken").await;
    let order = [items[3], items[0], items[4], items[1], items[2]];
    for id in order {
        assert_eq!(s.hr_api.add_note(id, "Verslag", "Besproken in het MT").await.status(), StatusCode::OK);
        assert_eq!(s.hr_api.transition(id, "submit", None).await.status(), StatusCode::OK);
        app.clock.advance(chrono::Duration::minutes(5));
    }
    assert_eq!(ids(&s.advisor.list("/review-queue").await), order);

    // A row added between two pages neither repeats a row nor hides one: the newest submission
    // comes last, after the rows already read.
    let first = s.advisor.get_json("/review-queue?limit=2").await;
    assert_eq!(ids(&first["data"]), order[..2]);
    assert_eq!(first["total"], 5);
    assert_eq!(s.hr_api.add_note(items[5], "Verslag", "Ook besproken").await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(items[5], "submit", None).await.status(), StatusCode::OK);
    let mut seen = ids(&first["data"]);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_string();
    loop {
        let page = s.advisor.get_json(&format!("/review-queue?limit=2&cursor={cursor}")).await;
        seen.extend(ids(&page["data"]));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let mut expected = order.to_vec();
    expected.push(items[5]);
    assert_eq!(seen, expected);

    // The members, the portfolio (in each of its sorts) and the reporting lines page the same way.
    let members = s.hr_api.list(&format!("/organisations/{}/members", s.org_id)).await;
    assert_eq!(members, s.hr_api.get_json(&format!("/organisations/{}/members?limit=200", s.org_id)).await["data"]);
    for sort in ["name", "progress", "waiting", "oldest", "expiry"] {
        for desc in [false, true] {
            let q = format!("/portfolio?sort={sort}&desc={desc}");
            let paged = s.advisor.list(&q).await;
            assert_eq!(paged, s.advisor.get_json(&format!("{q}&limit=200")).await["data"], "{q}");
        }
    }
}

#[tokio::test]
async fn a_page_request_the_service_cannot_read_is_refused_with_the_field_named() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Foutland", "f").await;
    for limit in ["0", "201", "-1", "many"] {
        let r = s.hr_api.get(&format!("/tokens?limit={limit}")).await;
        assert_eq!(error_fields(r, StatusCode::BAD_REQUEST).await, [("limit".into(), "malformed".into())], "{limit}");
    }
    // A cursor is ours or nothing: made up, of another list, or forged with a key of the wrong
    // kind, it is refused as such (never a server error).
    let tokens_cursor = {
        s.hr_api.post("/tokens", json!({ "name": "second" })).await;
        s.hr_api.get_json("/tokens?limit=1").await["next_cursor"].as_str().unwrap().to_string()
    };
    let forged = URL_SAFE_NO_PAD.encode(r#"{"l":"review-queue","k":[{"Text":"x"},{"Int":1}]}"#);
    let injected = URL_SAFE_NO_PAD.encode(r#"{"l":"tokens","k":[{"Text":"1 OR 1=1"}]}"#);
    for (path, cursor) in [
        ("/tokens", "not-a-cursor".to_string()),
        ("/organisations", tokens_cursor.clone()),
        ("/review-queue", forged),
        ("/tokens", injected),
    ] {
        let who = if path == "/review-queue" { &s.advisor } else { &s.hr_api };
        let r = who.get(&format!("{path}?cursor={cursor}")).await;
        assert_eq!(
            error_fields(r, StatusCode::UNPROCESSABLE_ENTITY).await,
            [("cursor".into(), "cursor_invalid".into())],
            "{path} {cursor}"
        );
    }
    assert_eq!(s.hr_api.get(&format!("/tokens?cursor={tokens_cursor}")).await.status(), StatusCode::OK);
}

async fn read_item(api: &ApiClient, id: i64) -> (Value, String) {
    let r = api.get(&format!("/items/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    (r.json().await.unwrap(), etag)
}

async fn patch_if(api: &ApiClient, id: i64, etag: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = api.client.patch(format!("{}/items/{id}", api.base)).bearer_auth(&api.token).json(&body);
    if let Some(e) = etag {
        req = req.header("If-Match", e);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_change_made_on_a_stale_read_is_refused_with_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Tweemaal", "t").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let me = s.hr_api.get_json("/me").await["id"].as_i64().unwrap();

    // Two people read the item; the first changes it.
    let (_, read_by_both) = read_item(&s.hr_api, item).await;
    let r = patch_if(&s.hr_api, item, Some(&read_by_both), json!({ "due_date": "2026-12-01" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after_first = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(after_first, read_by_both);

    // The second writes on what they read: refused, and nothing of theirs is written.
    let r = patch_if(&s.hr_api, item, Some(&read_by_both), json!({ "owner_id": me, "due_date": null })).await;
    assert!(error_fields(r, StatusCode::PRECONDITION_FAILED).await.is_empty());
    let (now, etag) = read_item(&s.hr_api, item).await;
    assert_eq!((now["item"]["due_date"].clone(), now["item"]["owner"].clone()), (json!("2026-12-01"), Value::Null));
    assert_eq!(etag, after_first);

    // A workflow step on a stale read is refused the same way; on the current one it goes.
    assert_eq!(s.hr_api.add_note(item, "Verslag", "Besproken").await.status(), StatusCode::OK);
    let (_, after_first) = read_item(&s.hr_api, item).await; // the note started the item
    let step = |etag: String| {
        let api = &s.hr_api;
        async move {
            api.client
                .post(format!("{}/items/{item}/transitions", api.base))
                .bearer_auth(&api.token)
                .header("If-Match", etag)
                .json(&json!({ "action": "submit" }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(step(read_by_both.clone()).await.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        step(format!("W/{after_first}")).await.status(),
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match"
    );
    let r = step(format!("\"elsewhere\", {after_first}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let submitted: Value = r.json().await.unwrap();
    assert_eq!(submitted["item"]["status"], "submitted");
    // `*` and no `If-Match` at all: the write does not depend on what was read.
    let r = patch_if(&s.hr_api, item, Some("*"), json!({ "due_date": "2026-12-24" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(patch_if(&s.hr_api, item, None, json!({ "due_date": null })).await.status(), StatusCode::OK);

    // The document says so: the header, the ETag and the 412.
    let doc = app.browser().get("/api/openapi.json").await.json::<Value>().await.unwrap();
    for (path, method) in [("/items/{id}", "patch"), ("/items/{id}/transitions", "post"), ("/passports/{id}", "put")] {
        let op = &doc["paths"][path][method];
        assert!(op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "If-Match"), "{method} {path}");
        assert!(op["responses"]["412"].is_object(), "{method} {path}");
        let headers = op["responses"]["200"]["headers"].as_object().unwrap();
        assert!(headers.keys().any(|h| h.eq_ignore_ascii_case("etag")), "{method} {path}");
    }
    assert!(doc["paths"]["/items/{id}"]["get"]["responses"]["412"].is_null(), "a read is never refused for staleness");
}

#[tokio::test]
async fn patch_leaves_absent_fields_clears_nulls_and_answers_as_the_read_does() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Precies", "q").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let me = s.hr_api.get_json("/me").await["id"].as_i64().unwrap();

    let r = s.hr_api.patch(&format!("/items/{item}"), json!({ "owner_id": me, "due_date": "2026-12-01" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let written: Value = r.json().await.unwrap();
    let (read, _) = read_item(&s.hr_api, item).await;
    assert_eq!(written, read, "a write answers with what the read shows");
    assert_eq!(read["item"]["owner"]["id"], me);

    // Absent: left as it is.
    let r = s.hr_api.patch(&format!("/items/{item}"), json!({ "due_date": "2026-12-02" })).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["item"]["owner"]["id"].clone(), v["item"]["due_date"].clone()), (json!(me), json!("2026-12-02")));
    // Null: cleared, the other field untouched.
    let v: Value = s.hr_api.patch(&format!("/items/{item}"), json!({ "owner_id": null })).await.json().await.unwrap();
    assert_eq!((v["item"]["owner"].clone(), v["item"]["due_date"].clone()), (Value::Null, json!("2026-12-02")));
    // Nothing asked: nothing written (no audit line either).
    let audits = || async {
        use sea_orm::{ConnectionTrait, Statement};
        let db = &app.state.db;
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'item.updated' AND subject = 'item:{item}'");
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    };
    let before = audits().await;
    assert_eq!(s.hr_api.patch(&format!("/items/{item}"), json!({})).await.status(), StatusCode::OK);
    assert_eq!(audits().await, before);
    // The flags of old are unknown fields now, refused rather than ignored.
    let r = s.hr_api.patch(&format!("/items/{item}"), json!({ "clear_due_date": true })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(read_item(&s.hr_api, item).await.0["item"]["due_date"], "2026-12-02");
}
