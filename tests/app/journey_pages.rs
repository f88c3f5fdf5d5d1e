use reqwest::StatusCode;
use scraper::{Html, Selector};

use super::helpers::*;

fn item_links(html: &str) -> Vec<i64> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("a[href^='/items/']").unwrap();
    let mut ids: Vec<i64> = doc
        .select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| h.trim_start_matches("/items/").split(['#', '/']).next()?.parse().ok())
        .collect();
    ids.dedup();
    ids
}

fn organisation_id_from(html: &str, name: &str) -> i64 {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("a[href^='/organisations/']").unwrap();
    doc.select(&sel)
        .find(|a| a.text().collect::<String>().contains(name))
        .and_then(|a| a.value().attr("href"))
        .and_then(|h| h.trim_start_matches("/organisations/").split('/').next()?.parse().ok())
        .expect("organisation link on the operator page")
}

async fn post_evidence_note(b: &Browser, item: i64, title: &str, note: &str) -> reqwest::Response {
    let html = b.get_html(&format!("/items/{item}")).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&html))
        .text("kind", "note")
        .text("title", title.to_string())
        .text("note", note.to_string());
    b.client.post(format!("{}/items/{item}/evidence", b.base)).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn through_the_html_forms_an_organisation_goes_from_nothing_to_four_complete_pillars() {
    let app = TestApp::spawn().await;
    let operator = app.operator().await;

    // The operator creates the organisation with its first HR lead and invites an advisor.
    let r = operator
        .submit(
            "/operator",
            "/operator/organisations",
            &[("name", "Zorggroep Lindehof"), ("hr_name", "Hanna HR"), ("hr_email", "hanna@lindehof.example")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = operator
        .submit("/operator", "/operator/advisors", &[("name", "Ada Adviseur"), ("email", "ada@advies.example")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        operator
            .get_html(r.headers()["location"].to_str().unwrap())
            .await
            .contains("Uitnodiging aan de adviseur verstuurd.")
    );
    let advisor = app.accept_invitation("ada@advies.example", "Ada Adviseur").await;
    let page = operator.get_html("/operator").await;
    let org = organisation_id_from(&page, "Zorggroep Lindehof");
    let advisor_id = advisor.api_token("id").await.get_json("/me").await["id"].as_i64().unwrap().to_string();
    let r = operator
        .submit(
            "/operator",
            "/operator/assignments",
            &[("organisation_id", &org.to_string()), ("advisor_id", &advisor_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The HR lead follows the invitation, works every item of the four pillars and submits it.
    let hr = app.accept_invitation("hanna@lindehof.example", "Hanna HR").await;
    let home = hr.get("/").await;
    assert_eq!(home.headers()["location"], format!("/organisations/{org}").as_str());
    let overview = hr.get_html(&format!("/organisations/{org}")).await;
    assert!(overview.contains("Bespreken") && overview.contains("Borgen"));
    let mut all = vec![];
    for pillar in ["bespreken", "beschrijven", "bekwamen", "borgen"] {
        let sheet = hr.get_html(&format!("/organisations/{org}/checklists/{pillar}")).await;
        let items = item_links(&sheet);
        assert!(!items.is_empty(), "{pillar} lists its items");
        for item in items {
            let r = post_evidence_note(&hr, item, "Notulen", "Besproken op 2 maart.").await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
            let page = format!("/items/{item}");
            let r = hr.submit(&page, &format!("/items/{item}/transition"), &[("action", "submit")]).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            all.push(item);
        }
    }
    assert_eq!(all.len(), 24);

    // The advisor works the queue: changes on one item, the rest accepted.
    let queue = advisor.get_html("/review").await;
    assert_eq!(item_links(&queue).len(), 24);
    let first = all[0];
    let r = advisor
        .submit(
            &format!("/items/{first}"),
            &format!("/items/{first}/transition"),
            &[("action", "request_changes"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "asking for changes needs a reason");
    let r = advisor
        .submit(
            &format!("/items/{first}"),
            &format!("/items/{first}/transition"),
            &[("action", "request_changes"), ("reason", "Welke afdelingen?")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for &item in &all[1..] {
        let r = advisor
            .submit(&format!("/items/{item}"), &format!("/items/{item}/transition"), &[("action", "accept")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let item_page = hr.get_html(&format!("/items/{first}")).await;
    assert!(item_page.contains("Welke afdelingen?"), "the reason is shown to HR");
    let r = post_evidence_note(&hr, first, "Aanvulling", "Alle afdelingen.").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    hr.submit(&format!("/items/{first}"), &format!("/items/{first}/transition"), &[("action", "submit")]).await;
    let r = advisor
        .submit(&format!("/items/{first}"), &format!("/items/{first}/transition"), &[("action", "accept")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let api = hr.api_token("check").await;
    let overview = api.get_json(&format!("/organisations/{org}")).await;
    assert_eq!(overview["all_pillars_complete"], true);
    let page = hr.get_html(&format!("/organisations/{org}")).await;
    assert!(page.contains("100"), "the overview shows the pillars at 100%");
}

#[tokio::test]
async fn pages_switch_between_dutch_and_english() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let dutch = b.get_html("/login").await;
    assert!(dutch.contains("lang=\"nl\""));
    let r = b.submit("/login", "/language", &[("lang", "en"), ("next", "/login")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let english = b.get_html("/login").await;
    assert!(english.contains("lang=\"en\""));
    assert_ne!(dutch, english);
}

#[tokio::test]
async fn a_form_without_a_valid_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("CSRF BV", "x").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let r =
        s.hr.client
            .post(format!("{}/items/{item}/comments", s.hr.base))
            .form(&[("csrf", "forged"), ("body", "hallo")])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let d = s.hr_api.get_json(&format!("/items/{item}")).await;
    assert!(d["comments"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_visitor_who_is_not_logged_in_is_sent_to_the_login_page_and_back() {
    let app = TestApp::spawn().await;
    let r = app.browser().get("/organisations/1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Forganisations%2F1");
}

/// The `revision` the item page's forms carry, as a browser would send it.
fn revision_of(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("form[action$='/details'] input[name='revision']").unwrap();
    doc.select(&sel).next().and_then(|i| i.value().attr("value")).expect("the details form has a revision").into()
}

#[tokio::test]
async fn a_form_sent_from_a_page_someone_else_overtook_changes_nothing_and_says_so() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Tegelijk", "tg").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let page = format!("/items/{item}");
    // Two HR leads have the item open (the same page, so the same revision).
    let seen = revision_of(&s.hr.get_html(&page).await);
    let r = s.hr.submit(&page, &format!("{page}/details"), &[("due_date", "2026-12-01"), ("revision", &seen)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The second sends their form from the page as it was: refused, told why, nothing written.
    let r = s.hr.submit(&page, &format!("{page}/details"), &[("due_date", "2027-01-15"), ("revision", &seen)]).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let html = r.text().await.unwrap();
    assert!(html.contains("Iemand anders heeft dit intussen gewijzigd"), "{html}");
    assert_eq!(s.hr_api.get_json(&page).await["item"]["due_date"], "2026-12-01");
    // The page shown with the message carries the new revision: sent again from it, it goes.
    let fresh = revision_of(&html);
    assert_ne!(fresh, seen);
    let r = s.hr.submit(&page, &format!("{page}/details"), &[("due_date", "2027-01-15"), ("revision", &fresh)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A workflow step from the overtaken page is refused the same way.
    let r = s.hr.submit(&page, &format!("{page}/transition"), &[("action", "start"), ("revision", &seen)]).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.hr_api.get_json(&page).await["item"]["status"], "open");
}
