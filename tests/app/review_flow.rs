//! The review loop as its people live it: confirmations after each form, the advisor moving on
//! through the queue, accepting several opened items at once, bundled mails naming the items, the
//! HR lead's inbox and tasks.
use chrono::Duration;
use reqwest::StatusCode;

use super::helpers::*;

/// `n` pillar items with a note, submitted by HR; their ids, oldest submission first.
async fn submitted(app: &TestApp, s: &Setup, n: usize) -> Vec<i64> {
    let mut ids = vec![];
    for item in s.hr_api.item_ids(s.org_id, "bespreken").await.into_iter().take(n) {
        assert_eq!(s.hr_api.add_note(item, "Verslag", "Besproken in het MT.").await.status(), StatusCode::OK);
        assert_eq!(s.hr_api.transition(item, "submit", None).await.status(), StatusCode::OK);
        ids.push(item);
        // A moment apart, so the queue's order (oldest first) is the order of submission.
        app.clock.advance(Duration::seconds(5));
    }
    ids
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn after_each_decision_the_advisor_goes_on_to_the_next_waiting_item_and_at_last_to_the_empty_queue() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Rivierstad", "q").await;
    let ids = submitted(&app, &s, 3).await;
    let advisor = app.login_as("advisor-q@example.org").await;

    let page = format!("/items/{}", ids[0]);
    let r = advisor.submit(&page, &format!("{page}/transition"), &[("action", "accept")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/items/{}?done=accepted_next", ids[1]), "on to the oldest one still waiting");
    let html = advisor.get_html(&location(&r)).await;
    assert!(html.contains("Punt goedgekeurd. Hieronder het volgende punt in je wachtrij."), "{html}");

    let page = format!("/items/{}", ids[1]);
    let r = advisor
        .submit(
            &page,
            &format!("{page}/transition"),
            &[("action", "request_changes"), ("reason", "Graag het verslag.")],
        )
        .await;
    assert_eq!(location(&r), format!("/items/{}?done=changes_requested_next", ids[2]));

    let page = format!("/items/{}", ids[2]);
    let r = advisor.submit(&page, &format!("{page}/transition"), &[("action", "accept")]).await;
    assert_eq!(location(&r), "/review?done=queue_empty");
    let html = advisor.get_html(&location(&r)).await;
    assert!(html.contains("Er wacht niets meer op beoordeling."));

    // The organisation's own moves stay on the item, with their confirmation.
    let page = format!("/items/{}", ids[1]);
    let r = s.hr.submit(&page, &format!("{page}/transition"), &[("action", "submit")]).await;
    assert_eq!(location(&r), format!("/items/{}?done=submitted", ids[1]));
    assert!(s.hr.get_html(&location(&r)).await.contains("Punt ingediend ter beoordeling."));
}

#[tokio::test]
async fn items_opened_since_they_were_submitted_can_be_accepted_together_and_an_unopened_one_stops_them_all() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorggroep Lindehof", "b").await;
    let ids = submitted(&app, &s, 3).await;
    let advisor = app.login_as("advisor-b@example.org").await;

    let queue = advisor.get_html("/review").await;
    assert!(!queue.contains(r#"name="item""#), "nothing opened yet, nothing to tick");
    for id in &ids[..2] {
        advisor.get_html(&format!("/items/{id}")).await;
    }
    let queue = advisor.get_html("/review").await;
    assert!(queue.contains(&format!(r#"name="item" value="{}""#, ids[0])));
    assert!(!queue.contains(&format!(r#"name="item" value="{}""#, ids[2])), "the third was not opened");

    // A hand-made form that slips in the unopened item changes nothing.
    let all: Vec<(&str, String)> = ids.iter().map(|id| ("item", id.to_string())).collect();
    let fields: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = advisor.submit("/review", "/review/accept", &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Open eerst elk punt"));
    for id in &ids {
        assert_eq!(s.hr_api.get_json(&format!("/items/{id}")).await["item"]["status"], "submitted");
    }

    let r = advisor.submit("/review", "/review/accept", &fields[..2]).await;
    assert_eq!(location(&r), "/review?done=items_accepted");
    for id in &ids[..2] {
        assert_eq!(s.hr_api.get_json(&format!("/items/{id}")).await["item"]["status"], "accepted");
    }

    // Opened before it was submitted again does not count: the evidence may have changed.
    let again = ids[2];
    advisor.get_html(&format!("/items/{again}")).await;
    app.clock.advance(Duration::seconds(5));
    assert_eq!(s.hr_api.transition(again, "withdraw", None).await.status(), StatusCode::OK);
    app.clock.advance(Duration::seconds(5));
    assert_eq!(s.hr_api.transition(again, "submit", None).await.status(), StatusCode::OK);
    let r = advisor.submit("/review", "/review/accept", &[("item", &again.to_string())]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn submissions_close_together_reach_the_advisor_as_one_mail_that_names_each_item() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Rivierstad", "m").await;
    let before = app.smtp.all().len();
    let ids = submitted(&app, &s, 3).await;
    app.flush_outbox().await;
    let to_advisor = |app: &TestApp| {
        app.smtp
            .all()
            .into_iter()
            .skip(before)
            .filter(|m| m.to.iter().any(|t| t.contains("advisor-m@")))
            .collect::<Vec<_>>()
    };
    assert!(to_advisor(&app).is_empty(), "held back for a while, in case more come");

    app.clock.advance(Duration::minutes(11));
    app.flush_outbox().await;
    let mail = app.smtp.wait_for("advisor-m@example.org", "/review").await;
    assert_eq!(to_advisor(&app).len(), 1, "one message for three submissions");
    assert_eq!(mail.subject(), "3 punten wachten op je beoordeling");
    for id in &ids {
        assert!(mail.text().contains(&format!("/items/{id}")), "{}", mail.text());
    }

    // One more, later: a message of its own, its subject naming the item.
    let one = s.hr_api.item_ids(s.org_id, "beschrijven").await[0];
    assert_eq!(s.hr_api.add_note(one, "Beleid", "Het beleid staat op intranet.").await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(one, "submit", None).await.status(), StatusCode::OK);
    app.clock.advance(Duration::minutes(11));
    app.flush_outbox().await;
    let mails = to_advisor(&app);
    assert_eq!(mails.len(), 2);
    let subject = mails[1].subject();
    assert!(subject.starts_with("Ter beoordeling: "), "{subject}");
    assert!(subject.contains("Gemeente Rivierstad") || subject.contains("=?utf-8?"), "{subject}");
    assert!(
        mails[1].text().contains(&format!("/items/{one}")) && !mails[1].text().contains(&format!("/items/{}", ids[0]))
    );
}

#[tokio::test]
async fn a_change_request_reaches_the_hr_leads_inbox_and_mail_and_the_inbox_speaks_the_readers_language() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorggroep Lindehof", "c").await;
    let ids = submitted(&app, &s, 1).await;
    let r = s.advisor.transition(ids[0], "request_changes", Some("Voeg het MT-verslag toe.")).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.flush_outbox().await;
    let mail = app.smtp.wait_for("hr-c@example.org", "Voeg het MT-verslag toe.").await;
    assert!(mail.subject().starts_with("Wijzigingen gevraagd: "), "{}", mail.subject());

    let inbox = s.hr.get_html("/inbox").await;
    assert!(inbox.contains("Wijzigingen gevraagd: ") && inbox.contains("Voeg het MT-verslag toe."));
    // The same message, read after switching to English, is in English.
    let r = s.hr.submit("/inbox", "/language", &[("lang", "en"), ("next", "/inbox")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let inbox = s.hr.get_html("/inbox").await;
    assert!(inbox.contains("Changes requested: ") && inbox.contains("The advisor asks for changes"), "{inbox}");
    assert!(!inbox.contains("Wijzigingen gevraagd"));
    let api = s.hr_api.get_json("/inbox").await;
    assert!(api["messages"][0]["title"].as_str().unwrap().starts_with("Changes requested: "));

    // HR's overview lists it among their tasks, and the item offers no "start" any more.
    let overview = s.hr.get_html(&format!("/organisations/{}", s.org_id)).await;
    assert!(overview.contains("My tasks") && overview.contains(&format!("/items/{}", ids[0])));
    let item = s.hr.get_html(&format!("/items/{}", ids[0])).await;
    assert!(!item.contains(r#"value="start""#) && item.contains(r#"value="submit""#));
}

#[tokio::test]
async fn successful_forms_lead_to_their_page_with_a_confirmation_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Rivierstad", "f").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let page = format!("/items/{item}");
    let r = s.hr.submit(&page, &format!("{page}/comments"), &[("body", "Komt in het MT van juni.")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with(&format!("/items/{item}?done=comment_added#comment-")), "{to}");
    assert!(s.hr.get_html(&to).await.contains("Opmerking geplaatst."));
    let r = s.hr.submit(&page, &format!("{page}/details"), &[("owner_id", ""), ("due_date", "2027-03-01")]).await;
    assert_eq!(location(&r), format!("/items/{item}?done=details_saved"));
    let html = s.hr.get_html(&location(&r)).await;
    assert!(
        html.contains("Eigenaar en deadline opgeslagen.") && html.contains("1 maart 2027"),
        "dates as people write them"
    );

    // Only the known confirmations are shown: a link cannot put words on the page.
    let html = s.hr.get_html(&format!("{page}?done=Uw+account+is+geblokkeerd")).await;
    assert!(!html.contains("Uw account is geblokkeerd") && !html.contains(r#"class="alert alert-success notice""#));

    let r =
        s.hr.submit("/inbox", "/language", &[("lang", "en"), ("next", &format!("{page}?done=details_saved"))]).await;
    assert!(s.hr.get_html(&location(&r)).await.contains("Owner and due date saved."));
}

#[tokio::test]
async fn switching_language_after_a_refused_form_keeps_what_was_typed_on_the_forms_page() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Rivierstad", "k").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let page = format!("/items/{item}");
    let r = s.hr.submit(&page, &format!("{page}/details"), &[("owner_id", ""), ("due_date", "31-02-2027")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    // The language switch on that page carries the typed text, as a browser would send it.
    let doc = scraper::Html::parse_document(&html);
    let switch = scraper::Selector::parse("form.lang-switch input[type=hidden]").unwrap();
    let mut fields: Vec<(String, String)> = doc
        .select(&switch)
        .map(|i| (i.value().attr("name").unwrap().to_string(), i.value().attr("value").unwrap_or("").to_string()))
        .collect();
    assert!(fields.contains(&("keep.due_date".into(), "31-02-2027".into())), "{fields:?}");
    assert!(fields.contains(&("next".into(), page.clone())), "back to the item, not the POST-only address");
    fields.push(("lang".into(), "en".into()));
    let r = s.hr.client.post(format!("{}/language", s.hr.base)).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), page);
    let html = s.hr.get_html(&page).await;
    assert!(html.contains(r#"value="31-02-2027""#), "the typed date is back in the form");
    assert!(html.contains(r#"lang="en""#));
    // Shown once: the next visit shows the saved state again.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!s.hr.get_html(&page).await.contains("31-02-2027"));
}
