use reqwest::StatusCode;
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn through_the_api_hr_works_every_pillar_item_and_the_advisor_completes_all_four_pillars() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Rivierstad", "a").await;
    let overview = s.hr_api.get_json(&format!("/organisations/{}", s.org_id)).await;
    let pillars: Vec<_> =
        overview["checklists"].as_array().unwrap().iter().filter(|c| c["is_pillar"] == true).collect();
    assert_eq!(pillars.len(), 4);
    assert!(pillars.iter().all(|p| p["progress"]["complete"] == false));
    assert_eq!(overview["all_pillars_complete"], false);

    let mut first_item = None;
    for pillar in ["bespreken", "beschrijven", "bekwamen", "borgen"] {
        for item in s.hr_api.item_ids(s.org_id, pillar).await {
            first_item.get_or_insert(item);
            let r = if item % 3 == 0 {
                s.hr_api.upload(item, "Verslag", "verslag.pdf", pdf_bytes()).await
            } else {
                s.hr_api.add_note(item, "Toelichting", "Besproken in het MT van maart.").await
            };
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
            let r = s.hr_api.transition(item, "submit", None).await;
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        }
    }
    let queue = s.advisor.list("/review-queue").await;
    assert_eq!(queue.as_array().unwrap().len(), 24, "every pillar item waits for review");

    // The advisor asks for changes on one item and accepts the others.
    let changed = first_item.unwrap();
    let r = s.advisor.transition(changed, "request_changes", Some("Voeg het verslag van het MT toe.")).await;
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["item"]["status"], "changes_requested");
    for entry in queue.as_array().unwrap() {
        let id = entry["item_id"].as_i64().unwrap();
        if id != changed {
            let r = s.advisor.transition(id, "accept", None).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    let overview = s.hr_api.get_json(&format!("/organisations/{}", s.org_id)).await;
    assert_eq!(overview["all_pillars_complete"], false, "one item still needs changes");

    // HR sees the reason, replaces the evidence, submits again; the advisor accepts.
    let detail = s.hr_api.get_json(&format!("/items/{changed}")).await;
    assert_eq!(detail["history"].as_array().unwrap().last().unwrap()["reason"], "Voeg het verslag van het MT toe.");
    let old = detail["evidence"][0]["id"].as_i64().unwrap();
    let r = s
        .hr_api
        .post(&format!("/items/{changed}/evidence"), json!({ "kind": "link", "title": "MT-verslag", "url": "https://intranet.example.org/mt/2026-03", "replaces": old }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(changed, "submit", None).await.status(), StatusCode::OK);
    assert_eq!(s.advisor.transition(changed, "accept", None).await.status(), StatusCode::OK);

    let overview = s.hr_api.get_json(&format!("/organisations/{}", s.org_id)).await;
    for c in overview["checklists"].as_array().unwrap().iter().filter(|c| c["is_pillar"] == true) {
        assert_eq!(c["progress"]["complete"], true, "{} complete", c["key"]);
        assert_eq!(c["progress"]["percent"], 100);
    }
    assert_eq!(overview["all_pillars_complete"], true);
    let detail = s.hr_api.get_json(&format!("/items/{changed}")).await;
    assert_eq!(detail["previous_evidence"][0]["id"], old, "the replaced evidence is kept");
    let statuses: Vec<_> =
        detail["history"].as_array().unwrap().iter().map(|h| h["to_status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["in_progress", "submitted", "changes_requested", "submitted", "accepted"]);
    assert!(s.advisor.list("/review-queue").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn not_applicable_counts_only_after_the_advisor_accepts_it() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Bakkerij", "b").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[4];
    let r = s.hr_api.transition(item, "propose_not_applicable", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    let r = s.hr_api.transition(item, "propose_not_applicable", Some("Wij hebben geen ondernemingsraad.")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let w = s.hr_api.get_json(&format!("/organisations/{}/checklists/bespreken", s.org_id)).await;
    assert_eq!(w["checklist"]["progress"]["done"], 0);
    assert_eq!(s.advisor.transition(item, "accept", None).await.status(), StatusCode::OK);
    let w = s.hr_api.get_json(&format!("/organisations/{}/checklists/bespreken", s.org_id)).await;
    assert_eq!(w["checklist"]["progress"]["done"], 1);
    assert_eq!(w["items"][4]["status"], "not_applicable");
}

#[tokio::test]
async fn owner_due_date_and_comments_are_stored_and_shown() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Owner BV", "c").await;
    let item = s.hr_api.item_ids(s.org_id, "borgen").await[0];
    let me = s.hr_api.get_json("/me").await;
    let r = s.hr_api.patch(&format!("/items/{item}"), json!({ "owner_id": me["id"], "due_date": "2026-03-01" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .advisor
        .post(&format!("/items/{item}/comments"), json!({ "body": "Denk aan de functioneringsgesprekken." }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = s.hr_api.get_json(&format!("/items/{item}")).await;
    assert_eq!(d["item"]["owner"]["id"], me["id"]);
    assert_eq!(d["item"]["due_date"], "2026-03-01");
    assert_eq!(d["item"]["overdue"], true, "the clock stands at 2 March 2026");
    assert_eq!(d["comments"][0]["body"], "Denk aan de functioneringsgesprekken.");
    assert_eq!(d["comments"][0]["author"]["name"], "Adviseur c");
}
