use chrono::{Duration, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;

const PILLARS: [&str; 4] = ["bespreken", "beschrijven", "bekwamen", "borgen"];

/// HR adds evidence to every pillar item and submits it; the advisor accepts them all. The
/// yearly-attention item gets evidence valid until `recurring_until`.
async fn complete_pillars(s: &Setup, recurring_until: &str) -> i64 {
    let mut yearly = 0;
    for pillar in PILLARS {
        let sheet = s.hr_api.get_json(&format!("/organisations/{}/checklists/{pillar}", s.org_id)).await;
        for it in sheet["items"].as_array().unwrap() {
            let id = it["id"].as_i64().unwrap();
            let mut body = json!({ "kind": "note", "title": "Bewijs", "note": "Vastgelegd in het MT-verslag." });
            if it["key"] == "yearly-attention" {
                body["valid_until"] = json!(recurring_until);
                yearly = id;
            }
            let r = s.hr_api.post(&format!("/items/{id}/evidence"), body).await;
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
            assert_eq!(s.hr_api.transition(id, "submit", None).await.status(), StatusCode::OK);
            assert_eq!(s.advisor.transition(id, "accept", None).await.status(), StatusCode::OK);
        }
    }
    yearly
}

async fn standing(s: &Setup) -> String {
    s.hr_api.get_json(&format!("/organisations/{}/recognition", s.org_id)).await["standing"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The recognition events so far, as "recognition:event".
async fn events(app: &TestApp) -> Vec<String> {
    use sea_orm::{EntityTrait, QueryOrder};
    carer_friendly::db::entities::recognition_event::Entity::find()
        .order_by_asc(carer_friendly::db::entities::recognition_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}", e.recognition_id, e.event))
        .collect()
}

/// The job that records changes of standing (a heartbeat would run it).
async fn record_standings(app: &TestApp) {
    carer_friendly::jobs::run(&app.state, carer_friendly::jobs::Job::RecognitionExpiry).await.unwrap();
}

fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

#[tokio::test]
async fn the_recognition_lives_from_refusal_through_grant_lapse_expiry_renewal_and_revocation() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorggroep Lindehof", "r").await;
    let org = s.org_id;
    let apply = |motivation: &str| {
        let body = json!({ "motivation": motivation });
        let api = &s.hr_api;
        async move { api.post(&format!("/organisations/{org}/recognition/applications"), body).await }
    };

    // Not eligible yet: refused, with exactly what is missing.
    let r = apply("Wij willen graag erkend worden.").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    let missing = body["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 24, "every pillar item is missing");
    assert!(missing.iter().all(|m| m["kind"] == "item_not_done"));
    let readiness = s.hr_api.get_json(&format!("/organisations/{org}/readiness")).await;
    assert_eq!(readiness["eligible"], false);
    assert_eq!(readiness["missing"].as_array().unwrap().len(), 24);

    let yearly = complete_pillars(&s, "2026-12-31").await;
    assert_eq!(s.hr_api.get_json(&format!("/organisations/{org}/readiness")).await["eligible"], true);

    // Apply, decline with a reason, apply again, grant.
    let first = apply("Alle pijlers zijn afgerond.").await.json::<Value>().await.unwrap();
    assert_eq!(first["status"], "pending");
    app.smtp.wait_for("advisor-r@example.org", "Zorggroep Lindehof").await;
    assert_eq!(
        apply("Nog een keer").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "one pending application at a time"
    );
    let decide = |id: i64, decision: &str, reason: &str| {
        let body = json!({ "decision": decision, "reason": reason });
        let api = &s.advisor;
        async move { api.post(&format!("/recognition-applications/{id}/decision"), body).await }
    };
    let id = first["id"].as_i64().unwrap();
    // Every pillar item is accepted: the application alone puts the organisation among those waiting.
    assert_progress_kept(&app).await;
    let waiting = s.advisor.get_json("/portfolio?waiting=true").await;
    assert_eq!((waiting["total"].as_u64(), waiting["data"][0]["application_pending"].as_bool()), (Some(1), Some(true)));
    assert_eq!(decide(id, "decline", "").await.status(), StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
    assert_eq!(decide(id, "decline", "Beschrijf de rol van de OR beter.").await.status(), StatusCode::OK);
    assert_eq!(decide(id, "grant", "toch wel").await.status(), StatusCode::CONFLICT, "already decided");
    app.smtp.wait_for("hr-r@example.org", "Beschrijf de rol van de OR beter.").await;
    let second = apply("Aangevuld met het OR-verslag.").await.json::<Value>().await.unwrap();
    let granted = decide(second["id"].as_i64().unwrap(), "grant", "Alles aanwezig; gefeliciteerd!").await;
    assert_eq!(granted.status(), StatusCode::OK);
    let rec = granted.json::<Value>().await.unwrap()["recognition"].clone();
    assert_eq!(rec["number"], "WWM-2026-0001");
    assert_eq!(rec["valid_from"], "2026-03-02");
    assert_eq!(rec["valid_until"], "2029-03-01");
    assert_eq!(rec["standing"], "valid");
    assert_eq!(rec["going_ahead_complete"], false);
    assert_eq!(rec["checklist_versions"]["borgen"], "2026.1");
    assert_progress_kept(&app).await;

    // Anyone can verify it, and sees nothing but name, the certificate's number, standing and dates.
    let code = rec["verify_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let public = reqwest::get(format!("{}/verify/{code}", app.address)).await.unwrap();
    assert_eq!(public.status(), StatusCode::OK);
    let page = public.text().await.unwrap();
    assert!(page.contains("Zorggroep Lindehof"));
    assert!(page.contains("WWM-2026-0001"), "the number the certificate prints");
    for secret in ["hr-r@example.org", "Hanna HR", "Adviseur r", "MT-verslag", "Alles aanwezig"] {
        assert!(!page.contains(secret), "the verification page shows {secret}");
    }
    let api: Value = reqwest::get(format!("{}/api/v1/verify/{code}", app.address)).await.unwrap().json().await.unwrap();
    assert_eq!(
        api.as_object().unwrap().keys().cloned().collect::<Vec<_>>(),
        ["granted_on", "number", "organisation", "standing", "valid_from", "valid_until"]
    );
    assert_eq!(
        reqwest::get(format!("{}/verify/{}", app.address, "x".repeat(43))).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // The yearly item lapses: at risk. Fresh evidence accepted: valid again.
    app.clock.set(at(2027, 1, 2));
    assert_eq!(standing(&s).await, "at_risk");
    assert_eq!(
        reqwest::get(format!("{}/api/v1/verify/{code}", app.address)).await.unwrap().json::<Value>().await.unwrap()["standing"],
        "at_risk"
    );
    // Reading (also the public verification) writes nothing; the job records the change.
    assert!(!events(&app).await.contains(&"1:at_risk".to_string()), "a GET recorded a standing");
    record_standings(&app).await;
    assert_eq!(s.hr_api.transition(yearly, "reopen", Some("Nieuw jaar, nieuw bewijs")).await.status(), StatusCode::OK);
    let old = s.hr_api.get_json(&format!("/items/{yearly}")).await["evidence"][0]["id"].as_i64().unwrap();
    let r = s
        .hr_api
        .post(&format!("/items/{yearly}/evidence"), json!({ "kind": "note", "title": "Dag van de Mantelzorg 2026", "note": "Lunch voor mantelzorgers.", "valid_until": "2031-01-01", "replaces": old }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(standing(&s).await, "at_risk", "still at risk until the advisor accepts");
    s.hr_api.transition(yearly, "submit", None).await;
    s.advisor.transition(yearly, "accept", None).await;
    assert_eq!(standing(&s).await, "valid");
    record_standings(&app).await;

    // Past valid-until it expires; a renewal (open from 90 days before) reuses the evidence.
    app.clock.set(at(2029, 3, 2));
    assert_eq!(standing(&s).await, "expired");
    record_standings(&app).await;
    let renewal = apply("Verlenging: alles is nog actueel.").await.json::<Value>().await.unwrap();
    assert_eq!(renewal["renewal"], true);
    let renewed = decide(renewal["id"].as_i64().unwrap(), "grant", "Verlengd.").await.json::<Value>().await.unwrap();
    assert_eq!(renewed["recognition"]["number"], "WWM-2029-0001");
    assert_eq!(renewed["recognition"]["valid_until"], "2032-03-01");
    assert_progress_kept(&app).await;
    assert_eq!(standing(&s).await, "valid");

    // The advisor revokes it; the public page says so.
    let rid = renewed["recognition"]["id"].as_i64().unwrap();
    let r = s.advisor.post(&format!("/recognitions/{rid}/revoke"), json!({ "reason": "Beleid is ingetrokken." })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(standing(&s).await, "revoked");
    assert_progress_kept(&app).await;
    let new_code = renewed["recognition"]["verify_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let v: Value =
        reqwest::get(format!("{}/api/v1/verify/{new_code}", app.address)).await.unwrap().json().await.unwrap();
    assert_eq!(v["standing"], "revoked");
    let v: Value = reqwest::get(format!("{}/api/v1/verify/{code}", app.address)).await.unwrap().json().await.unwrap();
    assert_eq!(v["standing"], "expired", "the first certificate stays expired");

    // Every change was recorded.
    let events = events(&app).await;
    for expected in ["1:granted", "1:at_risk", "1:valid", "1:expired", "1:renewed", "2:renewed", "2:revoked"] {
        assert!(events.contains(&expected.to_string()), "{expected} in {events:?}");
    }
}

#[tokio::test]
async fn only_the_assigned_advisor_decides_and_other_organisations_see_nothing() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Org A", "ra").await;
    let b = app.organisation_with_people("Org B", "rb").await;
    complete_pillars(&a, "2027-12-31").await;
    let r = a
        .hr_api
        .post(&format!("/organisations/{}/recognition/applications", a.org_id), json!({ "motivation": "Klaar" }))
        .await;
    let app_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = a
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", a.org_id),
            json!({ "email": "dir@ra.example", "name": "Directeur", "role": "director" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let director = app.accept_invitation("dir@ra.example", "Directeur").await.api_token("d").await;
    let decision = json!({ "decision": "grant", "reason": "ok" });
    let path = format!("/recognition-applications/{app_id}/decision");
    assert_eq!(a.hr_api.post(&path, decision.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(director.post(&path, decision.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(b.advisor.post(&path, decision.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(b.hr_api.post(&path, decision.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        director
            .post(&format!("/organisations/{}/recognition/applications", a.org_id), json!({ "motivation": "x" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let granted = a.advisor.post(&path, decision).await.json::<Value>().await.unwrap();
    let rid = granted["recognition"]["id"].as_i64().unwrap();
    assert_eq!(director.get(&format!("/organisations/{}/recognition", a.org_id)).await.status(), StatusCode::OK);
    assert_eq!(director.get(&format!("/organisations/{}/dashboard", a.org_id)).await.status(), StatusCode::OK);
    assert_eq!(
        director.post(&format!("/recognitions/{rid}/revoke"), json!({ "reason": "x" })).await.status(),
        StatusCode::FORBIDDEN
    );
    for outsider in [&b.hr_api, &b.advisor] {
        for p in ["readiness", "recognition", "recognition/certificate.pdf", "dashboard", "export.csv"] {
            assert_eq!(
                outsider.get(&format!("/organisations/{}/{p}", a.org_id)).await.status(),
                StatusCode::NOT_FOUND,
                "{p}"
            );
        }
        assert_eq!(
            outsider.post(&format!("/recognitions/{rid}/revoke"), json!({ "reason": "x" })).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    for page in
        ["recognition", "recognition/certificate", "recognition/certificate.pdf", "dashboard", "report", "export.csv"]
    {
        assert_eq!(
            b.hr.get(&format!("/organisations/{}/{page}", a.org_id)).await.status(),
            StatusCode::NOT_FOUND,
            "{page}"
        );
    }
    assert_eq!(standing_of_org(&a).await, "valid");
}

async fn standing_of_org(s: &Setup) -> String {
    standing(s).await
}

/// All pillars done, applied for and granted: the recognition's number.
async fn granted(s: &Setup) -> String {
    complete_pillars(s, "2027-12-31").await;
    let a = s
        .hr_api
        .post(&format!("/organisations/{}/recognition/applications", s.org_id), json!({ "motivation": "Klaar" }))
        .await;
    let id = a.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = s
        .advisor
        .post(&format!("/recognition-applications/{id}/decision"), json!({ "decision": "grant", "reason": "Prima" }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["recognition"]["number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_certificate_pdf_is_a_real_pdf_with_the_recognition_number() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Bakkerij De Korenschoof", "p").await;
    let number = granted(&s).await;
    for bytes in [
        s.hr_api
            .get(&format!("/organisations/{}/recognition/certificate.pdf?lang=en", s.org_id))
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
        s.hr.get(&format!("/organisations/{}/recognition/certificate.pdf", s.org_id))
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    ] {
        let (_, text) = pdf_text(&bytes);
        assert!(text.contains(&number), "{text}");
        assert!(text.contains("Bakkerij De Korenschoof"), "{text}");
    }
    let page = s.hr.get_html(&format!("/organisations/{}/recognition/certificate", s.org_id)).await;
    assert!(page.contains(&number) && page.contains("<svg"), "printable page with QR code");
    let _ = NaiveDate::MIN;
    let _ = Duration::zero();
}

#[tokio::test]
async fn the_certificate_pdf_shows_organisation_names_in_any_european_script_exactly_as_typed() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Şahin Yıldız", "u").await;
    granted(&s).await;
    for name in ["Şahin Yıldız", "Łucja Wiśniewska", "Nguyễn Thị Minh Khai"] {
        rename_organisation(&app, s.org_id, name).await;
        let r = s.hr.get(&format!("/organisations/{}/recognition/certificate.pdf", s.org_id)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        let (pages, text) = pdf_text(&bytes);
        assert_eq!(pages, 1);
        assert!(text.contains(name), "{name} in {text}");
        assert!(text.contains("Wij werken mantelzorgvriendelijk!"), "{text}");
        // The font is embedded as the few glyphs used, not as its whole 0.7 MB.
        assert!(bytes.len() < 60_000, "{} bytes", bytes.len());
    }
}

/// Organisations keep the name they were created with; these tests give one another.
async fn rename_organisation(app: &TestApp, id: i64, name: &str) {
    use carer_friendly::db::entities::organisation;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    organisation::Entity::update_many()
        .col_expr(organisation::Column::Name, Expr::value(name))
        .filter(organisation::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn in_the_browser_hr_sees_what_is_missing_applies_and_the_advisor_decides_with_a_reason() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Thuiszorg De Linde", "pg").await;
    let page = format!("/organisations/{}/recognition", s.org_id);
    let apply = format!("/organisations/{}/recognition/apply", s.org_id);

    // Not eligible: the page lists the missing items; applying anyway is refused with that list.
    let html = s.hr.get_html(&page).await;
    assert!(html.contains("ontbreekt nog dit (24)"), "{html}");
    let r = s.hr.submit(&page, &apply, &[("motivation", "We zijn er klaar voor")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("kan nog niet worden aangevraagd") && html.contains("We zijn er klaar voor"),
        "message and what was typed"
    );

    complete_pillars(&s, "2026-12-31").await;
    let html = s.hr.get_html(&page).await;
    assert!(html.contains("Alles is op orde"), "{html}");
    let r = s.hr.submit(&page, &apply, &[("motivation", "   ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "an empty motivation is refused");
    assert!(r.text().await.unwrap().contains("Schrijf een korte motivatie"));
    let r = s.hr.submit(&page, &apply, &[("motivation", "Alle pijlers zijn rond.")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The advisor finds it in the portfolio and decides on the recognition page, with a reason.
    let advisor = app.login_as("advisor-pg@example.org").await;
    let portfolio = advisor.get_html("/portfolio").await;
    assert!(
        portfolio.contains("Aanvragen voor de erkenning") && portfolio.contains("Thuiszorg De Linde"),
        "{portfolio}"
    );
    let html = advisor.get_html(&page).await;
    let id = html
        .split("/recognition-applications/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("a decision form")
        .to_string();
    let decide = format!("/recognition-applications/{id}/decision");
    let r = advisor.submit(&page, &decide, &[("decision", "grant"), ("reason", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Geef een toelichting"));
    let r = advisor.submit(&page, &decide, &[("decision", "grant"), ("reason", "Mooi werk.")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = advisor.submit(&page, &decide, &[("decision", "decline"), ("reason", "Toch niet.")]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("Over deze aanvraag is al besloten"), "the conflict in Dutch");

    // HR sees the recognition, the certificate and the public link; an unknown code is a plain 404.
    let html = s.hr.get_html(&page).await;
    assert!(html.contains("WWM-2026-0001") && html.contains("Geldig"), "{html}");
    assert!(!html.contains("/recognition-applications/"), "HR cannot decide");
    let mail = app.smtp.wait_for("hr-pg@example.org", "WWM-2026-0001").await;
    assert!(mail.subject().contains("Erkenning toegekend"), "{}", mail.subject());
    let r = s.hr.get("/verify/ABCDEFGHIJKLMNOPQRSTUVWXYZ").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("controlecode is niet bekend"));
    let dashboard = s.hr.get_html(&format!("/organisations/{}/dashboard", s.org_id)).await;
    assert!(dashboard.contains("WWM-2026-0001") && dashboard.contains("100%"), "{dashboard}");
}

/// Two HR clicks (or two tabs) at the same moment: one application is stored, the other is told.
#[tokio::test]
async fn two_applications_sent_at_once_store_one_and_the_other_is_told() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gelijktijdig BV", "g").await;
    complete_pillars(&s, "2031-01-01").await;
    let path = format!("/organisations/{}/recognition/applications", s.org_id);
    let tries = (0..6).map(|i| s.hr_api.post(&path, json!({ "motivation": format!("Poging {i}") })));
    let mut statuses: Vec<StatusCode> = join_all(tries).await.iter().map(|r| r.status()).collect();
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::OK);
    assert_ne!(statuses[1], StatusCode::OK, "one is stored: {statuses:?}");
    assert!(
        statuses[1..].iter().all(|s| [StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(s)),
        "the others are refused, not a 500: {statuses:?}"
    );
    use carer_friendly::db::entities::recognition_application as application;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let pending = application::Entity::find()
        .filter(application::Column::OrganisationId.eq(s.org_id))
        .filter(application::Column::Status.eq("pending"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(pending, 1);
}

/// Two advisors grant in two organisations at once: two different numbers; two revocations of
/// one recognition at once: one is recorded, the other told.
#[tokio::test]
async fn grants_at_once_get_different_numbers_and_a_recognition_is_revoked_once() {
    let app = TestApp::spawn().await;
    let mut orgs = vec![];
    for tag in ["e", "t", "d", "v"] {
        orgs.push(app.organisation_with_people(&format!("Organisatie {tag}"), tag).await);
    }
    let mut applications = vec![];
    for s in &orgs {
        complete_pillars(s, "2031-01-01").await;
        let path = format!("/organisations/{}/recognition/applications", s.org_id);
        let a: Value = s.hr_api.post(&path, json!({ "motivation": "Klaar" })).await.json().await.unwrap();
        applications.push(a["id"].as_i64().unwrap());
    }
    async fn grant(s: &Setup, id: i64) -> reqwest::Response {
        let body = json!({ "decision": "grant", "reason": "Goed." });
        s.advisor.post(&format!("/recognition-applications/{id}/decision"), body).await
    }
    // Four grants at once, in four organisations: four different numbers.
    let answers = join_all(orgs.iter().zip(&applications).map(|(s, id)| grant(s, *id))).await;
    let mut granted: Vec<Value> = vec![];
    for r in answers {
        assert_eq!(r.status(), StatusCode::OK);
        granted.push(r.json().await.unwrap());
    }
    let mut numbers: Vec<&str> = granted.iter().map(|g| g["recognition"]["number"].as_str().unwrap()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 4, "{numbers:?}");

    let one = &orgs[0];
    let rid = granted[0]["recognition"]["id"].as_i64().unwrap();
    let path = format!("/recognitions/{rid}/revoke");
    // Eight at once, so that the reads before the writes overlap.
    let answers =
        join_all((0..8).map(|i| one.advisor.post(&path, json!({ "reason": format!("Ingetrokken {i}.") })))).await;
    let mut statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    statuses.sort();
    assert_eq!(statuses, [vec![StatusCode::OK], vec![StatusCode::CONFLICT; 7]].concat());
    let revoked = events(&app).await.into_iter().filter(|e| e == &format!("{rid}:revoked")).count();
    assert_eq!(revoked, 1, "one revocation recorded");
}
