//! Every role finds its way: where it lands after login, and that every link of its own menu
//! opens. Error pages keep the site header.
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::json;

use super::helpers::*;

fn menu_links(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("nav.site-nav a").unwrap();
    doc.select(&sel).filter_map(|a| a.value().attr("href")).map(String::from).collect()
}

#[tokio::test]
async fn every_role_lands_on_its_work_and_every_link_of_its_menu_opens() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "nav").await;
    let org = s.org_id;
    for (email, role) in [
        ("director-nav@example.org", "director"),
        ("manager-nav@example.org", "manager"),
        ("carer-nav@example.org", "employee"),
    ] {
        let r = s
            .hr_api
            .post(&format!("/organisations/{org}/invitations"), json!({ "email": email, "name": role, "role": role }))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let director = app.accept_invitation("director-nav@example.org", "Dirk Directeur").await;
    let manager = app.accept_invitation("manager-nav@example.org", "Mia Manager").await;
    let employee = app.accept_invitation("carer-nav@example.org", "Kees Mantelzorger").await;
    let operator = app.login_as("operator@example.org").await;
    let advisor = app.login_as("advisor-nav@example.org").await;
    let cases = [
        ("operator", &operator, "/operator".to_string()),
        ("advisor", &advisor, "/review".to_string()),
        ("HR lead", &s.hr, format!("/organisations/{org}")),
        ("director", &director, format!("/organisations/{org}/dashboard")),
        ("manager", &manager, "/passport".to_string()),
        ("employee", &employee, "/passport".to_string()),
    ];
    for (role, b, landing) in cases {
        let r = b.get("/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{role}");
        assert_eq!(r.headers()["location"], landing.as_str(), "{role} lands on its work");
        let html = b.get_html(&landing).await;
        let links = menu_links(&html);
        assert!(links.contains(&"/account".to_string()), "{role}: {links:?}");
        for link in &links {
            let r = b.get(link).await;
            assert_eq!(r.status(), StatusCode::OK, "{role} follows its menu link {link}");
        }
    }
    // Members who do not work the assessment are not offered it.
    let links = menu_links(&employee.get_html("/passport").await);
    assert!(!links.iter().any(|l| l.starts_with("/organisations/")), "{links:?}");
    // An error page keeps the menu, the log-out and the language switch.
    let r = employee.get(&format!("/organisations/{org}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(menu_links(&html).contains(&"/passport".to_string()), "{html}");
    assert!(html.contains("action=\"/logout\"") && html.contains("action=\"/language\""));
    let r = employee.get("/no-such-page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(menu_links(&r.text().await.unwrap()).contains(&"/inbox".to_string()));
}

#[tokio::test]
async fn a_form_that_cannot_be_used_is_not_offered_and_a_refusal_reads_in_the_page_language() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "lang").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    assert_eq!(s.hr_api.add_note(item, "Notulen", "MT-overleg").await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(item, "submit", None).await.status(), StatusCode::OK);
    let html = s.hr.get_html(&format!("/items/{item}")).await;
    assert!(!html.contains("enctype=\"multipart/form-data\""), "no evidence form on a submitted item");
    // A stale page that still had the form: the refusal is in Dutch, at the form.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&html))
        .text("kind", "note")
        .text("title", "Te laat")
        .text("note", "x");
    let r = s.hr.client.post(format!("{}/items/{item}/evidence", app.address)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Bewijs kan niet veranderen zolang het punt de status &quot;Ter beoordeling&quot; heeft"),
        "{page}"
    );
}

#[tokio::test]
async fn the_operator_reaches_every_organisations_members_page_from_the_overview() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "opmembers").await;
    let operator = app.login_as("operator@example.org").await;
    let html = operator.get_html("/operator").await;
    let link = format!("/organisations/{}/members", s.org_id);
    assert!(html.contains(&format!("href=\"{link}\"")), "a link to the members page");
    let page = operator.get_html(&link).await;
    assert!(page.contains("hr-opmembers@example.org"));
}

#[tokio::test]
async fn switching_language_on_a_failed_form_returns_to_the_page_of_the_form() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg BV", "switch").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let page = format!("/items/{item}");
    let html = s.hr.get_html(&page).await;
    // An empty comment is refused: the item page again, shown as the answer to the POST.
    let r =
        s.hr.client
            .post(format!("{}/items/{item}/comments", app.address))
            .header("referer", format!("{}{page}", app.address))
            .form(&[("csrf", csrf_of(&html).as_str()), ("body", "")])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let failed = r.text().await.unwrap();
    let doc = Html::parse_document(&failed);
    let next = doc
        .select(&Selector::parse("form[action='/language'] input[name=next]").unwrap())
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(String::from);
    assert_eq!(next.as_deref(), Some(page.as_str()), "not the POST-only address of the form");
    let r = s.hr.submit(&page, "/language", &[("lang", "en"), ("next", next.as_deref().unwrap())]).await;
    assert_eq!(r.headers()["location"], page.as_str());
    assert_eq!(s.hr.get(&page).await.status(), StatusCode::OK);
}
