//! The employee pulse, driven as its users do: HR opens a round on the pages, employees answer
//! from the e-mailed link (or the open link) without logging in, the round closes, and the
//! figures and the evidence are read back over the pages and the API. The anonymity is checked
//! on the raw rows.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use super::helpers::*;

/// Invites an employee through HR's API and lets them set a password (no login needed after).
async fn member(app: &TestApp, s: &Setup, email: &str, name: &str) -> i64 {
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": email, "name": name, "role": "employee" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let b = app.accept_invitation(email, name).await;
    b.api_token("t").await.get_json("/me").await["id"].as_i64().unwrap()
}

/// The path of the `nth` (1-based) pulse invitation mailed to `email`.
async fn invitation(app: &TestApp, email: &str, nth: usize) -> String {
    for _ in 0..300 {
        app.flush_outbox().await;
        let mails: Vec<_> = app
            .smtp
            .all()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains(email)) && m.text().contains("/pulse/answer/"))
            .collect();
        if let Some(mail) = mails.get(nth - 1) {
            let link = mail.link_containing("/pulse/answer/").expect("a link to the questionnaire");
            return format!("/pulse/answer/{}", link.split_once("/pulse/answer/").unwrap().1);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no pulse invitation number {nth} to {email}");
}

async fn open_round(s: &Setup, fields: &[(&str, &str)]) -> i64 {
    let page = format!("/organisations/{}/pulse", s.org_id);
    let r = s.hr.submit(&page, &page, fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/pulse/rounds/"), "{to}");
    to.trim_start_matches("/pulse/rounds/").split('?').next().unwrap().parse().unwrap()
}

/// The open link's form as a browser sends it: with its CSRF token and its one-time form value.
async fn send_link_form(b: &Browser, path: &str, fields: &[(&str, &str)]) -> (reqwest::Response, String) {
    let html = b.get_html(path).await;
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse("input[name=form]").unwrap();
    let nonce =
        doc.select(&sel).next().and_then(|e| e.value().attr("value")).expect("a one-time form value").to_string();
    let csrf = csrf_of(&html);
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str()), ("form", nonce.as_str())];
    form.extend_from_slice(fields);
    let r = b.client.post(format!("{}{path}", b.base)).form(&form).send().await.unwrap();
    (r, nonce)
}

async fn raw(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = &app.state.db;
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap()
}

#[tokio::test]
async fn a_pulse_answered_by_invitation_stays_anonymous_shows_figures_from_five_answers_and_becomes_reviewable_evidence()
 {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorggroep Puls", "p").await;
    let mut emails = vec![];
    for i in 0..5 {
        let email = format!("medewerker{i}@p.example");
        member(&app, &s, &email, &format!("Medewerker {i}")).await;
        emails.push(email);
    }

    // Round 1: four answers. Nothing is shown, and no evidence is made.
    let first = open_round(&s, &[("closes_on", "2026-03-20"), ("invite", "on")]).await;
    let page = s.hr.get_html(&format!("/pulse/rounds/{first}")).await;
    assert!(page.contains("Cijfers verschijnen als de ronde gesloten is"), "no figures while open");
    let mut used = vec![];
    for email in &emails[..4] {
        let path = invitation(&app, email, 1).await;
        let visitor = app.browser();
        let form = visitor.get_html(&path).await;
        assert!(form.contains("Zorg je voor iemand"), "the questionnaire is shown without logging in");
        let r = visitor.submit(&path, &path, &[("cares", "now"), ("supported", "4")]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("anoniem bewaard"));
        used.push(path);
    }
    // The same invitation twice: refused, in words, and nothing more is stored.
    let again = app.browser();
    let r = again.get(&used[0]).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("al gebruikt"));
    let r = again
        .client
        .post(format!("{}{}", app.address, used[0]))
        .form(&[("csrf", csrf_of(&again.get_html("/login").await).as_str()), ("cares", "no")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    // A missing required answer is a clear error, and the invitation still works afterwards.
    let fifth = invitation(&app, &emails[4], 1).await;
    let r = app.browser().submit(&fifth, &fifth, &[("supported", "9")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text().await.unwrap();
    assert!(text.contains("Beantwoord deze vraag") && text.contains("Kies een van de aangeboden antwoorden"), "{text}");
    assert_eq!(app.browser().get(&fifth).await.status(), StatusCode::OK, "a refused form does not use the invitation");

    // The raw rows: no user, no token, no time of day, no address; the tokens used are gone.
    let n = raw(&app, &format!("SELECT COUNT(*) AS n FROM pulse_answers WHERE round_id = {first}")).await;
    assert_eq!(n[0].try_get::<i64>("", "n").unwrap(), 4);
    let columns: Vec<String> = if app.state.db.get_database_backend() == DatabaseBackend::Sqlite {
        raw(&app, "SELECT name FROM pragma_table_info('pulse_answers') ORDER BY name").await
    } else {
        raw(&app, "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'pulse_answers' ORDER BY column_name")
            .await
    }
    .iter()
    .map(|r| r.try_get::<String>("", "name").unwrap())
    .collect();
    assert_eq!(columns, ["answered_on", "answers", "department", "id", "round_id"]);
    for row in raw(&app, "SELECT answers, CAST(answered_on AS TEXT) AS day FROM pulse_answers").await {
        let answers: String = row.try_get("", "answers").unwrap();
        let day: String = row.try_get("", "day").unwrap();
        assert_eq!(day, "2026-03-02", "the date only");
        for (email, path) in emails.iter().zip(&used) {
            let token = path.rsplit('/').next().unwrap();
            assert!(!answers.contains(token) && !answers.contains(email.as_str()));
        }
        assert_eq!(serde_json::from_str::<Value>(&answers).unwrap(), json!({ "cares": "now", "supported": "4" }));
    }
    let left = raw(&app, &format!("SELECT COUNT(*) AS n FROM pulse_tokens WHERE round_id = {first}")).await;
    assert_eq!(left[0].try_get::<i64>("", "n").unwrap(), 2, "used invitations are deleted (HR and one employee left)");

    let invitations = format!("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'pulse-invite:{first}:%'");
    assert_eq!(raw(&app, &invitations).await[0].try_get::<i64>("", "n").unwrap(), 6);
    let r = s.hr.submit(&format!("/pulse/rounds/{first}"), &format!("/pulse/rounds/{first}/close"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Closing removes the invitation e-mails: they no longer tie an address to a token.
    assert_eq!(raw(&app, &invitations).await[0].try_get::<i64>("", "n").unwrap(), 0);
    let round = s.hr_api.get_json(&format!("/pulse/rounds/{first}")).await;
    assert_eq!(round["state"], "closed");
    assert_eq!((round["answers"].clone(), round["answers_fewer_than_5"].clone()), (Value::Null, json!(true)));
    assert_eq!(round["figures"]["overall"], Value::Null, "four answers show nothing");
    assert_eq!(round["evidence"], json!([]));
    assert!(s.hr.get_html(&format!("/pulse/rounds/{first}")).await.contains("Minder dan 5 mensen antwoordden"));
    let r = app.browser().get(&fifth).await;
    assert_eq!(r.status(), StatusCode::GONE, "a closed round's invitations are gone");
    // Closing twice is refused.
    let r = s.hr_api.post(&format!("/pulse/rounds/{first}/close"), json!({})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Round 2: five answers, closed by the pulse job after its date. Figures and evidence.
    let second = open_round(&s, &[("closes_on", "2026-03-10"), ("invite", "on")]).await;
    let page = format!("/organisations/{}/pulse", s.org_id);
    let r = s.hr.submit(&page, &page, &[("closes_on", "2026-03-12"), ("invite", "on")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "one round open at a time");
    for (i, email) in emails.iter().enumerate() {
        let path = invitation(&app, email, 2).await;
        let cares = if i < 3 { "now" } else { "no" };
        let r = app.browser().submit(&path, &path, &[("cares", cares), ("knows-arrangements", "yes")]).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    app.clock.advance(chrono::Duration::days(9));
    let report = carer_friendly::jobs::run(&app.state, carer_friendly::jobs::Job::Pulse).await.unwrap();
    assert_eq!(report.failed, 0);
    let round = s.hr_api.get_json(&format!("/pulse/rounds/{second}")).await;
    assert_eq!(round["state"], "closed", "{round}");
    assert_eq!(round["answers"], 5);
    assert_eq!(round["response_rate"], 83, "5 of 6 invited");
    let cares = &round["figures"]["overall"]["questions"][0];
    assert_eq!(cares["question"], "cares");
    assert_eq!(cares["choices"][0], json!({ "choice": "now", "shown": "fewer_than", "count": null, "percent": null }));
    let knows = round["figures"]["overall"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["question"] == "knows-arrangements")
        .unwrap()
        .clone();
    assert_eq!(knows["choices"][0], json!({ "choice": "yes", "shown": "exact", "count": 5, "percent": 100 }));
    // The director and the advisor see the same figures.
    let advisor_view = s.advisor.get_json(&format!("/pulse/rounds/{second}")).await;
    assert_eq!(advisor_view["figures"], round["figures"]);
    assert_eq!(advisor_view["open_link"], Value::Null);
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": "directie@p.example", "name": "Dirk Directie", "role": "director" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let director = app.accept_invitation("directie@p.example", "Dirk Directie").await;
    let director_api = director.api_token("d").await;
    assert_eq!(director_api.get_json(&format!("/pulse/rounds/{second}")).await["figures"], round["figures"]);
    let page = director.get_html(&format!("/pulse/rounds/{second}")).await;
    assert!(page.contains("Iedereen (5)") && !page.contains("De ronde nu sluiten"), "same figures, no HR actions");
    let r = director_api.post(&format!("/pulse/rounds/{second}/close"), json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // HR heard the round closed.
    app.flush_outbox().await;
    app.smtp.wait_for("hr-p@example.org", "Pulsronde gesloten").await;

    // The frozen result is evidence on both items it serves, marked as made by the service.
    let evidence = round["evidence"].as_array().unwrap().clone();
    assert_eq!(evidence.len(), 2, "{round}");
    assert_eq!(
        (evidence[0]["checklist"].clone(), evidence[0]["item"].clone()),
        (json!("bespreken"), json!("carer-survey"))
    );
    assert_eq!(
        (evidence[1]["checklist"].clone(), evidence[1]["item"].clone()),
        (json!("going-ahead"), json!("count-carers"))
    );
    let survey = evidence[0]["item_id"].as_i64().unwrap();
    let item = s.hr_api.get_json(&format!("/items/{survey}")).await;
    assert_eq!(item["item"]["key"], "carer-survey", "{item}");
    assert_eq!(item["item"]["status"], "in_progress", "the evidence started the item");
    let ev = &item["evidence"][0];
    assert_eq!(ev["kind"], "pulse");
    assert!(ev["note"].as_str().unwrap().contains("Gemaakt door de dienst"), "{ev}");
    let pdf = s.hr_api.get(ev["download_url"].as_str().unwrap().trim_start_matches("/api/v1")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let (_, text) = pdf_text(&pdf.bytes().await.unwrap());
    assert!(text.contains("Zorggroep Puls") && text.contains("2026.1"), "{text}");
    let html = s.hr.get_html(&format!("/items/{survey}")).await;
    assert!(html.contains("Uitkomst puls") && html.contains("Gemaakt door de dienst"), "{html}");
    let round_link = format!("{}/pulse/rounds/{second}\"", app.address).replace('/', "&#x2f;");
    assert!(html.contains(&round_link), "the round is linked");
    let other = s.hr_api.get_json(&format!("/items/{}", evidence[1]["item_id"])).await;
    assert_eq!(other["item"]["key"], "count-carers");
    // And reviewable: HR submits, the advisor accepts.
    assert_eq!(s.hr_api.transition(survey, "submit", None).await.status(), StatusCode::OK);
    assert_eq!(s.advisor.transition(survey, "accept", None).await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.get_json(&format!("/items/{survey}")).await["item"]["status"], "accepted");

    // The trend has the one round with figures; the audit has both rounds opened and closed.
    let overview = s.hr_api.get_json(&format!("/organisations/{}/pulse/rounds", s.org_id)).await;
    assert_eq!(overview["trend"].as_array().unwrap().len(), 1);
    assert_eq!(overview["trend"][0]["knows_arrangements"], 100);
    let page = s.hr.get_html(&format!("/pulse/rounds/{second}")).await;
    assert!(page.contains("Bespreken: Een peiling laat zien"), "the items it serves are named");
    let audit = raw(&app, "SELECT action FROM audit_log WHERE action LIKE 'pulse.%' ORDER BY id").await;
    let actions: Vec<String> = audit.iter().map(|r| r.try_get("", "action").unwrap()).collect();
    assert_eq!(actions, ["pulse.opened", "pulse.closed", "pulse.opened", "pulse.closed"]);
    // Another organisation's people see none of it.
    let t = app.organisation_with_people("Ander", "q").await;
    assert_eq!(t.hr_api.get(&format!("/pulse/rounds/{second}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.hr.get(&format!("/organisations/{}/pulse", s.org_id)).await.status(), StatusCode::NOT_FOUND);

    // Round 3 closes while the survey item is accepted: evidence does not change under the
    // advisor's eyes, so the result is held back from it (and goes to the Going-Ahead item).
    let third = open_round(&s, &[("closes_on", "2026-03-25"), ("invite", "on")]).await;
    for email in &emails {
        let path = invitation(&app, email, 3).await;
        let r = app.browser().submit(&path, &path, &[("cares", "no")]).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = s.hr_api.post(&format!("/pulse/rounds/{third}/close"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let closed: Value = r.json().await.unwrap();
    assert_eq!(
        closed["held_back"],
        json!([{ "item_id": survey, "checklist": "bespreken", "item": "carer-survey", "status": "accepted" }])
    );
    assert_eq!(closed["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(s.hr_api.get_json(&format!("/items/{survey}")).await["item"]["status"], "accepted", "untouched");
    let page = s.hr.get_html(&format!("/pulse/rounds/{third}")).await;
    assert!(page.contains("niet aan deze punten toegevoegd"), "{page}");
    // Reopened, HR attaches it from the round's page.
    assert_eq!(s.hr_api.transition(survey, "reopen", Some("Nieuwe peiling")).await.status(), StatusCode::OK);
    let r = s.hr.submit(&format!("/pulse/rounds/{third}"), &format!("/pulse/rounds/{third}/evidence"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let round = s.hr_api.get_json(&format!("/pulse/rounds/{third}")).await;
    assert_eq!(round["held_back"], json!([]));
    assert_eq!(round["evidence"].as_array().unwrap().len(), 2);
    let item = s.hr_api.get_json(&format!("/items/{survey}")).await;
    let pulses = item["evidence"].as_array().unwrap().iter().filter(|e| e["kind"] == "pulse").count();
    assert_eq!(pulses, 2, "round 2's and round 3's results");
    // What the service made cannot be replaced by hand.
    let made = item["evidence"][0]["id"].as_i64().unwrap();
    let r = s
        .hr_api
        .post(
            &format!("/items/{survey}/evidence"),
            json!({ "kind": "note", "title": "Eigen", "note": "x", "replaces": made }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The closed rounds' rows were written again in random order, all of them still there.
    let n = raw(&app, &format!("SELECT COUNT(*) AS n FROM pulse_answers WHERE round_id = {third}")).await;
    assert_eq!(n[0].try_get::<i64>("", "n").unwrap(), 5);
}

#[tokio::test]
async fn the_open_link_takes_one_answer_per_browser_pools_small_departments_and_hides_what_could_be_subtracted() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Puls Afdelingen", "d").await;
    for i in 0..5 {
        let id = member(&app, &s, &format!("zorg{i}@d.example"), &format!("Zorg {i}")).await;
        let r = s
            .hr_api
            .put(
                &format!("/organisations/{}/reporting-lines/{id}", s.org_id),
                json!({ "manager_id": null, "department": "Zorg" }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/pulse/rounds", s.org_id),
            json!({ "closes_on": "2026-03-20", "invite": false, "open_link": true, "by_department": true, "free_text": true }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let round: Value = r.json().await.unwrap();
    assert_eq!(round["departments"], json!(["Zorg"]));
    assert_eq!(round["invited"], 0);
    let link = round["open_link"].as_str().unwrap().to_string();
    let path = link.trim_start_matches(&app.address).to_string();
    // A tampered link is not a link.
    assert_eq!(app.browser().get(&format!("{path}x")).await.status(), StatusCode::NOT_FOUND);

    // Eleven browsers: six from Zorg, five without a department; each answer recognisable by the
    // choices of "what would help", so the stored order can be compared with the order of answering.
    let helps = ["flexible-hours", "remote-work", "leave", "conversation"];
    for i in 0..11usize {
        let b = app.browser();
        let department = if i < 6 { "Zorg" } else { "" };
        let cares = if i < 6 {
            "now"
        } else if i < 10 {
            "no"
        } else {
            "now"
        };
        let mut fields = vec![("department", department), ("cares", cares), ("comment", "")];
        let comment = format!("opmerking {i}");
        fields[2].1 = &comment;
        for (bit, h) in helps.iter().enumerate() {
            if (i + 1) & (1 << bit) != 0 {
                fields.push(("would-help", h));
            }
        }
        let (r, nonce) = send_link_form(&b, &path, &fields).await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        if i == 0 {
            // The same form sent twice (a double click, before the cookie is back): counted once.
            let other = app.browser();
            let csrf = csrf_of(&other.get_html("/login").await);
            let r = other
                .client
                .post(format!("{}{path}", app.address))
                .form(&[("csrf", csrf.as_str()), ("form", nonce.as_str()), ("cares", "no")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CONFLICT);
            // Without the form value: a clear error, nothing stored.
            let r = other
                .client
                .post(format!("{}{path}", app.address))
                .form(&[("csrf", csrf.as_str()), ("cares", "no")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(r.text().await.unwrap().contains("Dit formulier was verlopen"));
            // The same browser again: refused on the page and on posting.
            let r = b.get(&path).await;
            assert_eq!(r.status(), StatusCode::CONFLICT);
            assert!(r.text().await.unwrap().contains("al beantwoord"));
            let csrf = csrf_of(&b.get_html("/login").await);
            let r = b
                .client
                .post(format!("{}{path}", app.address))
                .form(&[("csrf", csrf.as_str()), ("cares", "no")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::CONFLICT);
        }
    }
    // A department that is not offered is refused.
    let (r, _) = send_link_form(&app.browser(), &path, &[("department", "Directie"), ("cares", "no")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Kies een van de genoemde afdelingen"));

    // Stored in an order that is not the order of answering.
    let rows = raw(&app, "SELECT answers FROM pulse_answers ORDER BY id").await;
    let order: Vec<usize> = rows
        .iter()
        .map(|r| {
            let a: Value = serde_json::from_str(&r.try_get::<String>("", "answers").unwrap()).unwrap();
            let chosen = a["would-help"].as_array().cloned().unwrap_or_default();
            helps.iter().enumerate().filter(|(_, h)| chosen.contains(&json!(h))).map(|(bit, _)| 1 << bit).sum::<usize>()
                - 1
        })
        .collect();
    assert_eq!(order.len(), 11);
    assert_ne!(order, (0..11).collect::<Vec<_>>(), "ids follow the order of answering");
    // Free-text answers are kept apart from the other answers.
    let comments = raw(&app, "SELECT text FROM pulse_comments").await;
    assert_eq!(comments.len(), 11);

    let r = s.hr_api.post(&format!("/pulse/rounds/{}/close", round["id"]), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let closed: Value = r.json().await.unwrap();
    assert_eq!(closed["answers"], 11);
    assert_eq!(closed["open_link"], Value::Null);
    let groups: Vec<(Value, Value, Value)> = closed["figures"]["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["department"].clone(), g["pooled"].clone(), g["respondents"].clone()))
        .collect();
    assert_eq!(groups, [(json!("Zorg"), json!(false), json!(6)), (Value::Null, json!(true), json!(5))]);
    let cell = |group: &Value, choice: &str| {
        group["questions"][0]["choices"].as_array().unwrap().iter().find(|c| c["choice"] == choice).unwrap()["shown"]
            .clone()
    };
    let overall = &closed["figures"]["overall"];
    let zorg = &closed["figures"]["departments"][0];
    let pool = &closed["figures"]["departments"][1];
    // "Now": 7 overall, 6 in Zorg, 1 in the pool. Showing 7 and 6 would give the pool's 1 away.
    assert_eq!(cell(overall, "now"), "exact");
    assert_eq!(cell(pool, "now"), "fewer_than");
    assert_eq!(cell(zorg, "now"), "hidden");
    // The link is closed with the round.
    assert_eq!(app.browser().get(&path).await.status(), StatusCode::CONFLICT);

    // Free text: HR reads it (eleven answers, at least ten), nobody else.
    // A page at a time (the helper reads pages of two and checks they add up to the total), in a
    // shuffled order that stays the same from page to page and is not the order of answering.
    let read = || async {
        let texts = s.hr_api.list(&format!("/pulse/rounds/{}/comments", round["id"])).await;
        texts.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect::<Vec<String>>()
    };
    let mut texts = read().await;
    assert_eq!(texts, read().await, "the same order on every read");
    assert_ne!(texts, (0..11).map(|i| format!("opmerking {i}")).collect::<Vec<_>>(), "not the order of answering");
    texts.sort();
    let mut expected: Vec<String> = (0..11).map(|i| format!("opmerking {i}")).collect();
    expected.sort();
    assert_eq!(texts, expected);
    let r = s.advisor.get(&format!("/pulse/rounds/{}/comments", round["id"])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = s.hr.get_html(&format!("/pulse/rounds/{}", round["id"])).await;
    assert!(page.contains("opmerking 3") && page.contains("Overige afdelingen"));
}

#[tokio::test]
async fn bad_round_settings_are_refused_in_words_and_hr_is_asked_for_the_yearly_pulse_once() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Puls Jaarlijks", "y").await;
    let page = format!("/organisations/{}/pulse", s.org_id);
    for (fields, message) in [
        (vec![("closes_on", "2026-03-01"), ("invite", "on")], "Kies een sluitingsdatum na vandaag"),
        (vec![("closes_on", "2027-01-01"), ("invite", "on")], "Kies een sluitingsdatum na vandaag"),
        (vec![("closes_on", "gisteren"), ("invite", "on")], "Kies een sluitingsdatum na vandaag"),
        (vec![("closes_on", "2026-03-20")], "Kies minstens één manier"),
    ] {
        let r = s.hr.submit(&page, &page, &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains(message), "{fields:?}");
    }
    let r = s.hr_api.post(&format!("/organisations/{}/pulse/rounds", s.org_id), json!({ "closes_on": "soon" })).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Only HR opens rounds.
    let r = s
        .advisor
        .post(&format!("/organisations/{}/pulse/rounds", s.org_id), json!({ "closes_on": "2026-03-20" }))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Six weeks before the Dag van de Mantelzorg, HR is asked once.
    let job = carer_friendly::jobs::Job::Pulse;
    app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 9, 28, 12, 0, 0).unwrap());
    assert_eq!(carer_friendly::jobs::run(&app.state, job).await.unwrap().notices, 0, "not before its day");
    app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 9, 29, 12, 0, 0).unwrap());
    let first = carer_friendly::jobs::run(&app.state, job).await.unwrap();
    assert_eq!(first.notices, 1);
    assert_eq!(carer_friendly::jobs::run(&app.state, job).await.unwrap().notices, 0, "once");
    app.flush_outbox().await;
    let mail = app.smtp.wait_for("hr-y@example.org", "medewerkerspuls").await;
    assert!(mail.text().contains(&format!("/organisations/{}/pulse", s.org_id)), "{}", mail.text());
}
