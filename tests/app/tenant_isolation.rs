use reqwest::StatusCode;
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn people_of_another_organisation_get_not_found_for_every_id_and_change_nothing() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Organisatie A", "a").await;
    let b = app.organisation_with_people("Organisatie B", "b").await;
    let item = a.hr_api.item_ids(a.org_id, "bespreken").await[0];
    let r = a.hr_api.upload(item, "Beleid", "beleid.pdf", pdf_bytes()).await;
    let evidence = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    let token_id = a.hr_api.list("/tokens").await[0]["id"].as_i64().unwrap();
    let before = a.hr_api.get_json(&format!("/items/{item}")).await;
    let org = a.org_id;
    // A member and a pending invitation of A, for the people routes.
    let member = a.hr_api.get_json("/me").await["id"].as_i64().unwrap();
    let r = a
        .hr_api
        .post(
            &format!("/organisations/{org}/invitations"),
            json!({ "email": "p@a.nl", "name": "P", "role": "employee" }),
        )
        .await;
    let invitation = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();
    // An open pulse round of A.
    let r = a
        .hr_api
        .post(
            &format!("/organisations/{org}/pulse/rounds"),
            json!({ "closes_on": "2026-03-20", "invite": false, "open_link": true }),
        )
        .await;
    let round = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();

    // B's HR lead and B's advisor, through the API.
    for outsider in [&b.hr_api, &b.advisor] {
        for path in [
            format!("/organisations/{org}"),
            format!("/organisations/{org}/members"),
            format!("/organisations/{org}/invitations"),
            format!("/organisations/{org}/checklists/bespreken"),
            format!("/items/{item}"),
            format!("/evidence/{evidence}/download"),
            format!("/organisations/{org}/pulse/rounds"),
            format!("/pulse/rounds/{round}"),
            format!("/pulse/rounds/{round}/comments"),
        ] {
            assert_eq!(outsider.get(&path).await.status(), StatusCode::NOT_FOUND, "GET {path}");
        }
        let writes = [
            outsider.transition(item, "start", None).await,
            outsider.transition(item, "accept", None).await,
            outsider.patch(&format!("/items/{item}"), json!({ "due_date": "2026-12-01" })).await,
            outsider.post(&format!("/items/{item}/comments"), json!({ "body": "hallo" })).await,
            outsider.add_note(item, "x", "y").await,
            outsider.upload(item, "x", "x.pdf", pdf_bytes()).await,
            outsider
                .post(
                    &format!("/organisations/{org}/invitations"),
                    json!({ "email": "x@y.nl", "name": "X", "role": "director" }),
                )
                .await,
            outsider.delete(&format!("/tokens/{token_id}")).await,
            outsider.patch(&format!("/organisations/{org}/members/{member}"), json!({ "active": false })).await,
            outsider.post(&format!("/organisations/{org}/invitations/{invitation}/resend"), json!({})).await,
            outsider.delete(&format!("/organisations/{org}/invitations/{invitation}")).await,
            outsider.post(&format!("/organisations/{org}/members/{member}/erasure"), json!({})).await,
            outsider.post(&format!("/organisations/{org}/pulse/rounds"), json!({ "closes_on": "2026-03-21" })).await,
            outsider.post(&format!("/pulse/rounds/{round}/close"), json!({})).await,
            outsider.post(&format!("/pulse/rounds/{round}/evidence"), json!({})).await,
        ];
        for r in writes {
            let url = r.url().to_string();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url}");
        }
    }
    assert!(b.hr_api.list("/organisations").await.as_array().unwrap().iter().all(|o| o["id"] != org));

    // B's HR lead through the pages, with a valid CSRF token of their own session.
    let own = b.hr.get_html(&format!("/organisations/{}", b.org_id)).await;
    let csrf = csrf_of(&own);
    for path in [
        format!("/organisations/{org}"),
        format!("/organisations/{org}/checklists/bespreken"),
        format!("/organisations/{org}/members"),
        format!("/items/{item}"),
        format!("/evidence/{evidence}/download"),
        format!("/organisations/{org}/members/{member}/erase"),
        format!("/organisations/{org}/pulse"),
        format!("/pulse/rounds/{round}"),
    ] {
        assert_eq!(b.hr.get(&path).await.status(), StatusCode::NOT_FOUND, "page {path}");
    }
    for (path, fields) in [
        (format!("/items/{item}/transition"), vec![("action", "start")]),
        (format!("/items/{item}/comments"), vec![("body", "hallo")]),
        (format!("/items/{item}/details"), vec![("due_date", "2026-12-01")]),
        (format!("/organisations/{org}/members"), vec![("email", "x@y.nl"), ("name", "X"), ("role", "director")]),
        (format!("/organisations/{org}/members/{member}"), vec![("active", "false")]),
        (format!("/organisations/{org}/invitations/{invitation}/resend"), vec![]),
        (format!("/organisations/{org}/invitations/{invitation}/withdraw"), vec![]),
        (format!("/organisations/{org}/members/{member}/erase"), vec![]),
        (format!("/organisations/{org}/pulse"), vec![("closes_on", "2026-03-21"), ("invite", "on")]),
        (format!("/pulse/rounds/{round}/close"), vec![]),
        (format!("/pulse/rounds/{round}/evidence"), vec![]),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        let r = b.hr.client.post(format!("{}{}", b.hr.base, path)).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }

    let after = a.hr_api.get_json(&format!("/items/{item}")).await;
    assert_eq!(before, after, "nothing of A changed");
    assert_eq!(a.hr_api.list("/tokens").await[0]["revoked_at"], serde_json::Value::Null);
    let members = a.hr_api.list(&format!("/organisations/{org}/members")).await;
    assert!(members.as_array().unwrap().iter().all(|m| m["status"] == "active"), "{members}");
    let pending = a.hr_api.list(&format!("/organisations/{org}/invitations")).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "the invitation is still pending: {pending}");
    let rounds = a.hr_api.get_json(&format!("/organisations/{org}/pulse/rounds")).await;
    assert_eq!(rounds["rounds"].as_array().unwrap().len(), 1, "no round opened for A: {rounds}");
    assert_eq!(rounds["rounds"][0]["state"], "open", "A's round is still open");
}

#[tokio::test]
async fn a_director_reads_everything_of_their_organisation_but_cannot_change_it() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Organisatie A", "d").await;
    let r = a
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", a.org_id),
            json!({ "email": "dirk@a.example", "name": "Dirk Directeur", "role": "director" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let director = app.accept_invitation("dirk@a.example", "Dirk Directeur").await.api_token("board").await;
    let item = a.hr_api.item_ids(a.org_id, "borgen").await[0];
    let evidence =
        a.hr_api.upload(item, "Beleid", "beleid.pdf", pdf_bytes()).await.json::<serde_json::Value>().await.unwrap();
    let ev = evidence["id"].as_i64().unwrap();

    assert_eq!(director.get(&format!("/organisations/{}", a.org_id)).await.status(), StatusCode::OK);
    assert_eq!(director.get(&format!("/items/{item}")).await.status(), StatusCode::OK);
    let file = director.get(&format!("/evidence/{ev}/download")).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert!(file.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf_bytes());

    for r in [
        director.transition(item, "submit", None).await,
        director.transition(item, "accept", None).await,
        director.add_note(item, "x", "y").await,
        director.post(&format!("/items/{item}/comments"), json!({ "body": "hallo" })).await,
        director.patch(&format!("/items/{item}"), json!({ "due_date": "2026-12-01" })).await,
        director.post("/organisations", json!({ "name": "Nieuw" })).await,
    ] {
        let url = r.url().to_string();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{url}");
    }
    // An HR lead may not review their own items either.
    a.hr_api.transition(item, "submit", None).await;
    assert_eq!(a.hr_api.transition(item, "accept", None).await.status(), StatusCode::FORBIDDEN);
    let d = a.hr_api.get_json(&format!("/items/{item}")).await;
    assert_eq!(d["item"]["status"], "submitted");
    assert!(d["comments"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_advisor_taken_off_an_organisation_on_one_instance_loses_it_at_once_on_another() {
    // Instances keep advisors' assignments in memory between changes: the change made through
    // one instance must reach the other's next request.
    let a = TestApp::spawn().await;
    let s = a.organisation_with_people("Twee Vestigingen", "ti").await;
    let b = TestApp::spawn_with(super::smtp::SmtpSink::down().await, a.database_url.clone()).await;
    let on_b =
        ApiClient { client: reqwest::Client::new(), base: format!("{}/api/v1", b.address), token: s.advisor.token };
    let path = format!("/organisations/{}", s.org_id);
    assert_eq!(on_b.get(&path).await.status(), StatusCode::OK);
    assert_eq!(on_b.get("/portfolio").await.json::<serde_json::Value>().await.unwrap()["total"], 1);
    let op = a.login_as("operator@example.org").await.api_token("move").await;
    let advisor_id = on_b.get_json("/me").await["id"].as_i64().unwrap();
    let r = op.delete(&format!("/organisations/{}/advisors/{advisor_id}", s.org_id)).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(on_b.get(&path).await.status(), StatusCode::NOT_FOUND, "the other instance still let them in");
    assert_eq!(on_b.get("/portfolio").await.json::<serde_json::Value>().await.unwrap()["total"], 0);
    // Assigned again: back at once on both.
    let r = op.post(&format!("/organisations/{}/advisors", s.org_id), json!({ "advisor_id": advisor_id })).await;
    assert!(r.status().is_success(), "{}", r.status());
    let on_a =
        ApiClient { client: reqwest::Client::new(), base: format!("{}/api/v1", a.address), token: on_b.token.clone() };
    assert_eq!(on_a.get(&path).await.status(), StatusCode::OK);
    assert_eq!(on_b.get(&path).await.status(), StatusCode::OK);
}
