//! Working Carers Passports: who may read them (and who gets 404), encryption at rest, consent
//! withdrawal, handover, portability between organisations, review reminders and small-number
//! suppression in every aggregate shown.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use super::helpers::*;

const SITUATION: &str = "Mijn moeder heeft Parkinson en woont alleen";
const PHONE: &str = "Telefoon aan tijdens diensten voor de thuiszorg";
const SUPPORT: &str = "Steunpunt Mantelzorg Utrecht";
const PASSPHRASE: &str = "paarse olifant op de fiets";

struct Person {
    id: i64,
    email: String,
    browser: Browser,
    api: ApiClient,
}

/// Invites someone into the organisation through HR's API and logs them in.
async fn person(app: &TestApp, s: &Setup, email: &str, name: &str, role: &str) -> Person {
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": email, "name": name, "role": role }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let browser = app.accept_invitation(email, name).await;
    let api = browser.api_token("t").await;
    let id = api.get_json("/me").await["id"].as_i64().unwrap();
    Person { id, email: email.into(), browser, api }
}

async fn set_manager(s: &Setup, user: i64, manager: Option<i64>, department: &str) {
    let r = s
        .hr_api
        .client
        .put(format!("{}/organisations/{}/reporting-lines/{user}", s.hr_api.base, s.org_id))
        .bearer_auth(&s.hr_api.token)
        .json(&json!({ "manager_id": manager, "department": department }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The answer is the line as the list shows it.
    let line: Value = r.json().await.unwrap();
    assert_eq!((line["user"]["id"].as_i64(), line["manager"]["id"].as_i64()), (Some(user), manager));
    let lines = s.hr_api.list(&format!("/organisations/{}/reporting-lines", s.org_id)).await;
    assert!(lines.as_array().unwrap().contains(&line), "{line} is listed as such");
}

async fn put(api: &ApiClient, path: &str, body: Value) -> reqwest::Response {
    api.client.put(format!("{}{path}", api.base)).bearer_auth(&api.token).json(&body).send().await.unwrap()
}

async fn consent(p: &Person, hr_copy: bool, statistics: bool) {
    let r = put(&p.api, "/passport/consent", json!({ "hr_copy": hr_copy, "statistics": statistics })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn start_passport(p: &Person) -> i64 {
    let r = p
        .api
        .post(
            "/passports",
            json!({
                "situation": SITUATION,
                "arrangements": [{ "kind": "phone", "details": PHONE }, { "kind": "flexible_start", "details": "Start tussen 8 en 10" }],
                "support": SUPPORT,
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn confirm(api: &ApiClient, id: i64) -> Value {
    let version = api.get_json(&format!("/passports/{id}")).await["current_version"].as_i64().unwrap();
    let r = api.post(&format!("/passports/{id}/confirmations"), json!({ "version": version })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// The carer's sealed file, exported through the API with `PASSPHRASE`.
async fn export_file(carer: &Person, id: i64) -> Value {
    let r = carer.api.post(&format!("/passports/{id}/export.json"), json!({ "passphrase": PASSPHRASE })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// The field codes of a 422 answer from the API.
async fn field_codes(r: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    let db = &app.state.db;
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Every way into one passport, with the status each gives.
async fn ways_in(browser: &Browser, api: &ApiClient, id: i64) -> Vec<(String, StatusCode)> {
    let mut out = vec![];
    for path in [
        format!("/passports/{id}"),
        format!("/passports/{id}/edit"),
        format!("/passports/{id}/export.pdf"),
        format!("/passports/{id}/export.json"),
    ] {
        out.push((format!("page {path}"), browser.get(&path).await.status()));
    }
    for path in [
        format!("/passports/{id}"),
        format!("/passports/{id}/versions/1"),
        format!("/passports/{id}/export.pdf"),
        format!("/passports/{id}/access-log"),
    ] {
        out.push((format!("api {path}"), api.get(&path).await.status()));
    }
    let path = format!("/passports/{id}/export.json");
    out.push((format!("api {path}"), api.post(&path, json!({ "passphrase": PASSPHRASE })).await.status()));
    out
}

/// Exactly the `allowed` ways succeed; every other way answers 404. The page address of the
/// sealed file leads the carer to the form that makes it.
fn expect(ways: &[(String, StatusCode)], allowed: &[String], who: &str) {
    for (way, status) in ways {
        let want = match allowed.contains(way) {
            true if way.starts_with("page") && way.ends_with("export.json") => StatusCode::SEE_OTHER,
            true => StatusCode::OK,
            false => StatusCode::NOT_FOUND,
        };
        assert_eq!(*status, want, "{who}: {way}");
    }
}

#[tokio::test]
async fn only_the_carer_their_manager_and_consented_hr_read_a_passport_everyone_else_gets_404() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let other_org = app.organisation_with_people("Zorg B", "b").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    let other_manager = person(&app, &s, "other@a.example", "Olaf Other", "manager").await;
    let director = person(&app, &s, "director@a.example", "Dirk Director", "director").await;
    let colleague = person(&app, &s, "colleague@a.example", "Cor Colleague", "employee").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    set_manager(&s, colleague.id, Some(manager.id), "Zorg").await;
    consent(&carer, true, true).await;
    let id = start_passport(&carer).await;

    let advisor = app.browser();
    advisor.login("advisor-a@example.org", PASSWORD).await;
    let operator = app.browser();
    operator.login("operator@example.org", PASSWORD).await;
    let operator_api = operator.api_token("op").await;

    let hr: Vec<String> = [
        format!("page /passports/{id}"),
        format!("page /passports/{id}/export.pdf"),
        format!("api /passports/{id}"),
        format!("api /passports/{id}/versions/1"),
        format!("api /passports/{id}/export.pdf"),
    ]
    .into();
    let manager_ways: Vec<String> = [hr.clone(), vec![format!("page /passports/{id}/edit")]].concat();
    let carer_ways: Vec<String> = [
        manager_ways.clone(),
        vec![
            format!("page /passports/{id}/export.json"),
            format!("api /passports/{id}/export.json"),
            format!("api /passports/{id}/access-log"),
        ],
    ]
    .concat();

    expect(&ways_in(&carer.browser, &carer.api, id).await, &carer_ways, "carer");
    expect(&ways_in(&manager.browser, &manager.api, id).await, &manager_ways, "manager");
    expect(&ways_in(&s.hr, &s.hr_api, id).await, &hr, "HR with consent");
    for (who, b, api) in [
        ("other manager", &other_manager.browser, &other_manager.api),
        ("director", &director.browser, &director.api),
        ("colleague", &colleague.browser, &colleague.api),
        ("operator", &operator, &operator_api),
        ("other organisation's HR", &other_org.hr, &other_org.hr_api),
    ] {
        expect(&ways_in(b, api, id).await, &[], who);
        let listed = api.list("/passports").await;
        assert!(listed.as_array().unwrap().iter().all(|p| p["id"] != id), "{who} sees it listed");
    }
    for path in
        [format!("/passports/{id}"), format!("/passports/{id}/export.pdf"), format!("/passports/{id}/export.json")]
    {
        assert_eq!(advisor.get(&path).await.status(), StatusCode::NOT_FOUND, "advisor page {path}");
    }
    for (way, status) in ways_in(&advisor, &s.advisor, id).await.into_iter().filter(|(w, _)| w.starts_with("api")) {
        assert_eq!(status, StatusCode::NOT_FOUND, "advisor {way}");
    }
    let r = s.advisor.post(&format!("/passports/{id}/transfer-codes"), json!({})).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "advisor transfer code");
    // Writes from outsiders are 404 too, and change nothing.
    let r = director.api.post(&format!("/passports/{id}/confirmations"), json!({ "version": 1 })).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = put(&s.hr_api, &format!("/passports/{id}"), json!({ "situation": "x" })).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "HR reads a copy but does not write");

    // The PDF is a PDF, and the page shows the text to those entitled.
    let pdf = carer.browser.get(&format!("/passports/{id}/export.pdf")).await.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert!(manager.browser.get_html(&format!("/passports/{id}")).await.contains(SITUATION));

    // Without the HR copy consent, HR gets 404 like anyone else.
    consent(&carer, false, true).await;
    expect(&ways_in(&s.hr, &s.hr_api, id).await, &[], "HR without consent");

    // Every read was logged, and the carer sees who read it.
    let log = carer.api.list(&format!("/passports/{id}/access-log")).await;
    let readers: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["reader"].as_str().unwrap()).collect();
    assert!(readers.contains(&"Max Manager") && readers.contains(&"Hanna HR"), "{readers:?}");
    assert!(!readers.contains(&"Dirk Director"));
    let own_reads = log.as_array().unwrap().iter().filter(|e| e["reader"] == "Carla Carer" && e["action"] == "read");
    assert_eq!(own_reads.count(), 0, "the carer's own reading does not fill their log: {log}");
    let page = carer.browser.get_html(&format!("/passports/{id}")).await;
    assert!(page.contains("Max Manager") && page.contains("Hanna HR"));
}

/// Writes a passport with this situation and these arrangement details.
async fn write_passport(carer: &Person, situation: &str, details: &str) -> i64 {
    let body = json!({
        "situation": situation,
        "arrangements": [{ "kind": "emergency_plan", "details": details }],
        "support": SUPPORT,
    });
    let r = carer.api.post("/passports", body).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_passport_pdf_shows_names_and_text_in_any_european_script_exactly_as_typed() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg Ü", "u").await;
    let carer = person(&app, &s, "sahin@u.example", "Şahin Yıldız", "employee").await;
    let manager = person(&app, &s, "lucja@u.example", "Łucja Wiśniewska", "manager").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    consent(&carer, false, false).await;
    let situation = "Mijn schoonmoeder Nguyễn Thị Minh Khai woont bij ons sinds haar beroerte.";
    let details = "Bel Łucja Wiśniewska; zij weet wat Şahin Yıldız dan overneemt.";
    let id = write_passport(&carer, situation, details).await;
    confirm(&carer.api, id).await;
    confirm(&manager.api, id).await;

    let path = format!("/passports/{id}/export.pdf");
    for bytes in [
        carer.browser.get(&path).await.bytes().await.unwrap(),
        manager.api.get(&format!("{path}?lang=en")).await.bytes().await.unwrap(),
    ] {
        let (_, text) = pdf_text(&bytes);
        for name in ["Şahin Yıldız", "Łucja Wiśniewska", "Nguyễn Thị Minh Khai"] {
            assert!(text.contains(name), "{name} in {text}");
        }
        assert!(text.contains(situation) && text.contains(details), "{text}");
        assert!(text.contains(SUPPORT), "{text}");
    }
}

#[tokio::test]
async fn a_long_passport_wraps_to_the_page_width_and_runs_onto_a_second_page_without_losing_a_word() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg W", "w").await;
    let carer = person(&app, &s, "nguyen@w.example", "Nguyễn Thị Minh Khai", "employee").await;
    consent(&carer, false, false).await;
    // Some 2,700 characters: about 35 lines at 11 points, more than fit below the first page's top.
    let situation = (1..=95).map(|day| format!("Dag {day}: ik breng mijn vader.")).collect::<Vec<_>>().join(" ");
    let id = write_passport(&carer, &situation, PHONE).await;
    let bytes = carer.browser.get(&format!("/passports/{id}/export.pdf")).await.bytes().await.unwrap();
    let (pages, text) = pdf_text(&bytes);
    assert_eq!(pages, 2, "{text}");
    assert!(text.contains(&situation), "{text}");
    assert!(text.contains(PHONE) && text.contains(SUPPORT), "{text}");
}

#[tokio::test]
async fn the_database_holds_no_plain_text_of_the_passport() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    let r = carer.api.post(&format!("/passports/{id}/transfer-codes"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);

    let db = &app.state.db;
    let backend = db.get_database_backend();
    let mut seen = 0;
    for sql in ["SELECT content FROM passport_versions", "SELECT payload FROM passport_transfer_codes"] {
        for row in db.query_all_raw(Statement::from_string(backend, sql.to_string())).await.unwrap() {
            let stored: String = row.try_get_by_index(0).unwrap();
            seen += 1;
            assert!(stored.starts_with("pp1:"), "{stored}");
            for plain in [SITUATION, PHONE, SUPPORT, "Parkinson", "Steunpunt"] {
                assert!(!stored.contains(plain), "{sql} holds {plain:?} in plain text");
            }
        }
    }
    assert_eq!(seen, 2);
    // Nor does any other table: the audit log and the outbox carry no passport text either.
    for sql in ["SELECT COALESCE(detail, '') FROM audit_log", "SELECT body_text FROM outbox"] {
        for row in db.query_all_raw(Statement::from_string(backend, sql.to_string())).await.unwrap() {
            let text: String = row.try_get_by_index(0).unwrap();
            assert!(!text.contains("Parkinson"), "{sql}");
        }
    }
    // The key is not in the database either.
    let settings = count_rows(&app, "SELECT COUNT(*) FROM settings WHERE key LIKE '%passport%'").await;
    assert_eq!(settings, 0);
    // And the API still reads it back.
    assert_eq!(carer.api.get_json(&format!("/passports/{id}")).await["situation"], SITUATION);
}

#[tokio::test]
async fn withdrawing_consent_erases_the_passport_from_every_table_and_only_the_anonymous_count_remains() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    let successor = person(&app, &s, "successor@a.example", "Sam Successor", "manager").await;
    let mut carers = vec![];
    for i in 0..6 {
        let c = person(&app, &s, &format!("carer{i}@a.example"), &format!("Carer {i}"), "employee").await;
        set_manager(&s, c.id, Some(manager.id), "Zorg").await;
        consent(&c, true, true).await;
        carers.push(c);
    }
    // The first carer has a full history: versions, confirmations, reads, a handover, a transfer
    // code and a review reminder.
    let leaver = &carers[0];
    let id = start_passport(leaver).await;
    confirm(&leaver.api, id).await;
    confirm(&manager.api, id).await;
    let r = put(&leaver.api, &format!("/passports/{id}"), json!({ "situation": "Nieuwe situatie" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    set_manager(&s, leaver.id, Some(successor.id), "Zorg").await;
    app.smtp.wait_for(&leaver.email, &format!("/passports/{id}")).await;
    assert_eq!(leaver.api.post(&format!("/passports/{id}/transfer-codes"), json!({})).await.status(), StatusCode::OK);
    app.clock.advance(chrono::Duration::days(360));
    carer_friendly::services::passport::send_review_reminders(&app.state).await.unwrap();
    let figures = s.hr_api.get_json(&format!("/organisations/{}/passport-figures", s.org_id)).await;
    assert_eq!(figures["carers"], json!({ "value": 6 }));

    // The carer withdraws, having agreed to stay counted.
    assert_eq!(leaver.api.delete("/passport/consent").await.status(), StatusCode::OK);
    leaver.browser.login(&leaver.email, PASSWORD).await;
    for (table, column) in [
        ("passports", "id"),
        ("passport_versions", "passport_id"),
        ("passport_confirmations", "passport_id"),
        ("passport_access_log", "passport_id"),
        ("passport_handovers", "passport_id"),
        ("passport_transfer_codes", "passport_id"),
        ("passport_review_reminders", "passport_id"),
    ] {
        let n = count_rows(&app, &format!("SELECT COUNT(*) FROM {table} WHERE {column} = {id}")).await;
        assert_eq!(n, 0, "{table} still holds the passport");
    }
    let consents =
        count_rows(&app, &format!("SELECT COUNT(*) FROM carer_consents WHERE user_id = {}", leaver.id)).await;
    assert_eq!(consents, 0);
    let audit = count_rows(
        &app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE subject = 'passport:{id}' OR subject = 'carer:{}'", leaver.id),
    )
    .await;
    assert_eq!(audit, 0, "the audit log no longer says they were a carer");
    let mails = count_rows(&app, &format!("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'passport:{id}:%'")).await;
    assert_eq!(mails, 0, "nor does the outbox");
    assert_eq!(leaver.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(manager.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    let page = leaver.browser.get_html("/passport").await;
    assert!(page.contains("name=\"agree\""), "the consent form is offered again");

    // Five known carers plus one anonymous former carer: still 6; one withdrawing without
    // agreeing to be counted brings it to 5, and another to "fewer than 5" would need 4.
    let figures = s.hr_api.get_json(&format!("/organisations/{}/passport-figures", s.org_id)).await;
    assert_eq!(figures["carers"], json!({ "value": 6 }));
    assert_eq!(count_rows(&app, "SELECT former_carers FROM carer_statistics").await, 1);
    consent(&carers[1], true, false).await;
    assert_eq!(carers[1].api.delete("/passport/consent").await.status(), StatusCode::OK);
    let figures = s.hr_api.get_json(&format!("/organisations/{}/passport-figures", s.org_id)).await;
    assert_eq!(figures["carers"], json!({ "value": 5 }));
    consent(&carers[2], true, false).await;
    assert_eq!(carers[2].api.delete("/passport/consent").await.status(), StatusCode::OK);
    let figures = s.hr_api.get_json(&format!("/organisations/{}/passport-figures", s.org_id)).await;
    assert_eq!(figures["carers"], json!({ "fewer_than": 5 }));
}

#[tokio::test]
async fn a_passport_moves_with_a_new_manager_and_travels_to_another_organisation_where_it_is_confirmed_and_reviewed() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Zorg A", "a").await;
    let b = app.organisation_with_people("Zorg B", "b").await;
    let carer = person(&app, &a, "carer@a.example", "Carla Carer", "employee").await;
    let first = person(&app, &a, "first@a.example", "Fien First", "manager").await;
    let second = person(&app, &a, "second@a.example", "Stan Second", "manager").await;
    set_manager(&a, carer.id, Some(first.id), "Zorg").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    assert_eq!(confirm(&carer.api, id).await["state"], "draft");
    assert_eq!(confirm(&first.api, id).await["state"], "confirmed");

    // Handover: the new manager reads, the old one no longer; recorded; the carer is told.
    assert_eq!(second.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    set_manager(&a, carer.id, Some(second.id), "Zorg").await;
    assert_eq!(first.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    let seen = second.api.get_json(&format!("/passports/{id}")).await;
    assert_eq!(seen["situation"], SITUATION);
    assert_eq!(seen["handovers"][0]["from_manager"], "Fien First");
    assert_eq!(seen["handovers"][0]["to_manager"], "Stan Second");
    let mail = app.smtp.wait_for("carer@a.example", &format!("/passports/{id}")).await;
    assert!(mail.text().contains("Stan Second"));
    assert!(carer.browser.get_html(&format!("/passports/{id}")).await.contains("Fien First"));

    // The second manager leaves: HR hands over all their passports at once.
    let r = a
        .hr_api
        .post(
            &format!("/organisations/{}/handovers", a.org_id),
            json!({ "from_manager_id": second.id, "to_manager_id": first.id }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["passports"], 1);
    assert_eq!(second.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(first.api.get(&format!("/passports/{id}")).await.status(), StatusCode::OK);

    // Export at A; import at B, where the same person has a new account and manager.
    let file = export_file(&carer, id).await;
    assert!(file["signature"].as_str().is_some());
    let new_self = person(&app, &b, "carla@b.example", "Carla Carer", "employee").await;
    let new_manager = person(&app, &b, "manager@b.example", "Bea Manager", "manager").await;
    set_manager(&b, new_self.id, Some(new_manager.id), "Wonen").await;
    let mut tampered = file.clone();
    tampered["nonce"] = json!("AAAAAAAAAAAAAAAA");
    consent(&new_self, false, false).await;
    let r = new_self.api.post("/passports/import", json!({ "file": tampered, "passphrase": PASSPHRASE })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a changed file is refused");
    let r = new_self.api.post("/passports/import", json!({ "file": file, "passphrase": PASSPHRASE })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let imported = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let draft = new_manager.api.get_json(&format!("/passports/{imported}")).await;
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["origin"], "imported");
    assert_eq!(draft["situation"], SITUATION);
    assert_eq!(draft["arrangements"][0]["details"], PHONE);
    // A's people do not see B's copy, nor B's people A's passport.
    assert_eq!(first.api.get(&format!("/passports/{imported}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(new_manager.api.get(&format!("/passports/{id}")).await.status(), StatusCode::NOT_FOUND);
    confirm(&new_manager.api, imported).await;
    assert_eq!(confirm(&new_self.api, imported).await["state"], "confirmed");

    // A review makes a new version, which both confirm again; the old one stays readable.
    let r = new_manager.api.post(&format!("/passports/{imported}/reviews"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
    let reviewed = new_self.api.get_json(&format!("/passports/{imported}")).await;
    assert_eq!(reviewed["state"], "draft");
    assert_eq!(reviewed["versions"].as_array().unwrap().len(), 2);
    let old = new_self.api.get_json(&format!("/passports/{imported}/versions/1")).await;
    assert_eq!(old["state"], "confirmed");

    // A one-time transfer code works once, for someone at B.
    let code = carer
        .api
        .post(&format!("/passports/{id}/transfer-codes"), json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let colleague = person(&app, &b, "second-carer@b.example", "Carla Twee", "employee").await;
    consent(&colleague, false, false).await;
    let r = colleague.api.post("/passports/import", json!({ "code": code.to_lowercase() })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let again = person(&app, &b, "third@b.example", "Derde", "employee").await;
    consent(&again, false, false).await;
    let r = again.api.post("/passports/import", json!({ "code": code })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a used code does not work again");
}

#[tokio::test]
async fn a_review_reminder_goes_to_carer_and_manager_once() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    let send = || carer_friendly::services::passport::send_review_reminders(&app.state);
    assert_eq!(send().await.unwrap(), 0, "a year ahead, nothing is due");
    app.clock.advance(chrono::Duration::days(365 - 14));
    assert_eq!(send().await.unwrap(), 1);
    assert_eq!(send().await.unwrap(), 0, "never twice for the same review date");
    // The fewest statements of a few runs (the app's own mail sender counts on the same meter).
    let mut fewest = u64::MAX;
    for _ in 0..5 {
        let before = app.state.query_count();
        send().await.unwrap();
        fewest = fewest.min(app.state.query_count() - before);
    }
    assert_eq!(fewest, 1, "a reminded passport is not loaded again");
    let link = format!("/passports/{id}");
    assert!(app.smtp.wait_for("carer@a.example", &link).await.text().contains("herzien"));
    assert!(app.smtp.wait_for("manager@a.example", &link).await.text().contains("Carla Carer"));
    // After the review a new date is claimed afresh.
    let r = manager.api.post(&format!("/passports/{id}/reviews"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(send().await.unwrap(), 0);
    app.clock.advance(chrono::Duration::days(365));
    assert_eq!(send().await.unwrap(), 1);
}

/// The four headline figures as a page shows them.
fn shown_figures(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("dd[data-figure]").unwrap();
    doc.select(&sel).map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

fn fewer_than_five(v: &Value) -> bool {
    *v == json!({ "fewer_than": 5 })
}

#[tokio::test]
async fn every_aggregate_shows_fewer_than_five_below_five_and_the_number_from_five() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    let director = person(&app, &s, "director@a.example", "Dirk Director", "director").await;
    let advisor = app.browser();
    advisor.login("advisor-a@example.org", PASSWORD).await;
    let figures_path = format!("/organisations/{}/passport-figures", s.org_id);
    let page_path = format!("/organisations/{}/passports", s.org_id);
    let item = {
        let w = s.hr_api.get_json(&format!("/organisations/{}/checklists/going-ahead", s.org_id)).await;
        w["items"].as_array().unwrap().iter().find(|i| i["key"] == "count-carers").unwrap()["id"].as_i64().unwrap()
    };

    let mut carers = vec![];
    for i in 0..5 {
        let c = person(&app, &s, &format!("carer{i}@a.example"), &format!("Carer {i}"), "employee").await;
        set_manager(&s, c.id, Some(manager.id), "Zorg").await;
        consent(&c, false, true).await;
        let id = start_passport(&c).await;
        confirm(&c.api, id).await;
        confirm(&manager.api, id).await;
        carers.push(c);
        if i == 3 {
            // Four: every figure, in the API and on every page, says "fewer than 5".
            let f = s.hr_api.get_json(&figures_path).await;
            for key in ["carers", "active_passports", "draft_passports", "reviews_due"] {
                assert!(fewer_than_five(&f[key]), "{key}: {}", f[key]);
            }
            assert!(fewer_than_five(&f["active_by_department"][0]["count"]));
            assert!(f["active_by_department"][0]["department"].is_null(), "a small department is pooled, not named");
            assert_eq!(s.advisor.get_json(&figures_path).await["active_passports"], f["active_passports"]);
            for html in [
                s.hr.get_html(&page_path).await,
                director.browser.get_html(&page_path).await,
                advisor.get_html(&page_path).await,
                s.hr.get_html(&format!("/items/{item}")).await,
            ] {
                let shown = shown_figures(&html);
                assert_eq!(shown.len(), 4, "{html}");
                assert!(shown.iter().all(|f| f == "minder dan 5"), "{shown:?}");
            }
        }
    }
    // Five: the number itself.
    let f = director.api.get_json(&figures_path).await;
    assert_eq!(f["carers"], json!({ "value": 5 }));
    assert_eq!(f["active_passports"], json!({ "value": 5 }));
    assert!(fewer_than_five(&f["draft_passports"]));
    assert_eq!(f["active_by_department"][0], json!({ "department": "Zorg", "count": { "value": 5 } }));
    for html in [director.browser.get_html(&page_path).await, s.hr.get_html(&format!("/items/{item}")).await] {
        assert_eq!(shown_figures(&html), ["5", "5", "minder dan 5", "minder dan 5"]);
    }
    // Managers and employees see no figures; other organisations get 404.
    assert_eq!(manager.api.get(&figures_path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(carers[0].api.get(&figures_path).await.status(), StatusCode::FORBIDDEN);
    let other = app.organisation_with_people("Zorg B", "b").await;
    assert_eq!(other.hr_api.get(&figures_path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_carer_gives_consent_and_writes_the_passport_through_the_pages() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let b = &carer.browser;
    // Without ticking the consent box nothing is recorded.
    let r = b.submit("/passport", "/passport/consent", &[("hr_copy", "on")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(carer.api.get("/passport/consent").await.status(), StatusCode::NOT_FOUND);
    let r = b.submit("/passport", "/passport/consent", &[("agree", "on"), ("statistics", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = b.submit("/passport", "/passports", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let edit = r.headers()["location"].to_str().unwrap().to_string();
    let r = b
        .submit(
            &edit,
            &edit,
            &[
                ("situation", SITUATION),
                ("arrangement_phone", PHONE),
                ("support", SUPPORT),
                ("review_date", "2027-01-15"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let html = b.get_html(&location).await;
    let page = location.split('?').next().unwrap().to_string();
    assert!(html.contains(SITUATION) && html.contains(PHONE) && html.contains("15 januari 2027"));
    assert!(html.contains("Wijzigingen in het paspoort opgeslagen."), "the page confirms the save");
    // The first real content is version 1: the empty start is not part of the history.
    assert!(html.contains(r#"name="version" value="1""#), "{html}");
    let r = b.submit(&page, &format!("{page}/confirm"), &[("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(b.get_html(&page).await.contains("Carla Carer, <time"));
    // A review date in the past is refused with a message next to the field.
    let r = b.submit(&edit, &edit, &[("situation", SITUATION), ("review_date", "2020-01-01")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("in de toekomst"));
}

#[tokio::test]
async fn rotating_the_passport_key_re_encrypts_everything_so_the_old_key_is_no_longer_needed() {
    use carer_friendly::services::passport::rotate_key;
    use carer_friendly::services::passport_crypto::{PassportKeys, generate_key, key_file_path};
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    assert_eq!(carer.api.post(&format!("/passports/{id}/transfer-codes"), json!({})).await.status(), StatusCode::OK);

    // The default key lives in a file beside the data, not in the database.
    let old = std::fs::read_to_string(key_file_path(&app.state.config)).expect("key file");
    let new = generate_key();
    let mut rotated = app.state.clone();
    rotated.passport_keys = std::sync::Arc::new(PassportKeys::new(&new, &[old.trim()]).unwrap());
    assert_eq!(rotate_key(&rotated).await.unwrap(), 2, "one version and one transfer code");
    assert_eq!(rotate_key(&rotated).await.unwrap(), 0, "nothing left under the old key");

    let only_new = PassportKeys::new(&new, &[]).unwrap();
    let db = &app.state.db;
    let sql = format!("SELECT content FROM passport_versions WHERE passport_id = {id}");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    let stored: String = row.try_get_by_index(0).unwrap();
    assert!(only_new.is_current(&stored));
    let plain = only_new.decrypt(&stored, &format!("passport_version:{id}:1")).unwrap();
    assert!(String::from_utf8(plain).unwrap().contains(SITUATION));
}

/// The manager of `carer` as stored, read from the table itself.
async fn stored_manager(app: &TestApp, carer: i64) -> i64 {
    count_rows(app, &format!("SELECT COALESCE(manager_id, 0) FROM reporting_lines WHERE user_id = {carer}")).await
}

#[tokio::test]
async fn only_an_active_manager_of_the_organisation_can_become_a_carers_manager_by_page_or_api() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let other_org = app.organisation_with_people("Zorg B", "b").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    let director = person(&app, &s, "director@a.example", "Dirk Director", "director").await;
    let colleague = person(&app, &s, "colleague@a.example", "Cor Colleague", "employee").await;
    let foreign_manager = person(&app, &other_org, "manager@b.example", "Bea Manager", "manager").await;
    let leaver = person(&app, &s, "leaver@a.example", "Lea Leaver", "manager").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    // The carer does not share the passport with HR.
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    app.state
        .db
        .execute_unprepared(&format!("UPDATE users SET active = false WHERE id = {}", leaver.id))
        .await
        .unwrap();
    let hr_id = s.hr_api.get_json("/me").await["id"].as_i64().unwrap();
    let advisor_id = s.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let operator = app.login_as("operator@example.org").await;
    let operator_api = operator.api_token("op").await;
    let operator_id = operator_api.get_json("/me").await["id"].as_i64().unwrap();

    let lines = format!("/organisations/{}/reporting-lines", s.org_id);
    let handovers = format!("/organisations/{}/handovers", s.org_id);
    let figures_page = format!("/organisations/{}/passports", s.org_id);
    let role = ("manager_role_required", "Alleen iemand met de rol leidinggevende");
    let unknown = ("manager_unknown", "Kies een leidinggevende uit deze organisatie");
    let inactive = ("manager_inactive", "geen actief account meer");
    let candidates = [
        ("HR lead", hr_id, role),
        ("director", director.id, role),
        ("advisor", advisor_id, unknown),
        ("operator", operator_id, unknown),
        ("another employee", colleague.id, role),
        ("manager of another organisation", foreign_manager.id, unknown),
        ("deactivated manager", leaver.id, inactive),
        ("the carer themselves", carer.id, unknown),
    ];
    for (who, candidate, (code, message)) in candidates {
        // In a handover the one who cannot be chosen is the leaving manager; the carer is an
        // employee like any other there.
        let (handover_code, handover_message) = if candidate == carer.id { role } else { (code, message) };
        // HR makes them the carer's manager: by API and by page.
        let r = put(&s.hr_api, &format!("{lines}/{}", carer.id), json!({ "manager_id": candidate })).await;
        assert_eq!(field_codes(r).await, [("manager_id".to_string(), code.to_string())], "{who}: API");
        let cid = candidate.to_string();
        let carer_id = carer.id.to_string();
        let r =
            s.hr.submit(&figures_page, &lines, &[("user_id", &carer_id), ("manager_id", &cid), ("department", "Zorg")])
                .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{who}: page");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{who}: the message on the page");
        assert!(html.contains(&format!("id=\"manager-{}-error\"", carer.id)), "{who}: the message at the field");
        // HR hands all of the manager's people over to them: by API and by page.
        let r = s.hr_api.post(&handovers, json!({ "from_manager_id": manager.id, "to_manager_id": candidate })).await;
        let want = [("to_manager_id".to_string(), handover_code.to_string())];
        assert_eq!(field_codes(r).await, want, "{who}: handover API");
        let from = manager.id.to_string();
        let r = s.hr.submit(&figures_page, &handovers, &[("from_manager_id", &from), ("to_manager_id", &cid)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{who}: handover page");
        assert!(r.text().await.unwrap().contains(handover_message), "{who}: handover page message");
        assert_eq!(stored_manager(&app, carer.id).await, manager.id, "{who}: nothing changed");
    }

    // Nobody but HR sets a line at all, not even their own: 403 inside, 404 outside.
    for (who, b, api, own, want) in [
        ("director", &director.browser, &director.api, director.id, StatusCode::FORBIDDEN),
        ("another employee", &colleague.browser, &colleague.api, colleague.id, StatusCode::FORBIDDEN),
        ("the manager", &manager.browser, &manager.api, manager.id, StatusCode::FORBIDDEN),
        ("operator", &operator, &operator_api, operator_id, StatusCode::FORBIDDEN),
        (
            "manager of another organisation",
            &foreign_manager.browser,
            &foreign_manager.api,
            foreign_manager.id,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = put(api, &format!("{lines}/{}", carer.id), json!({ "manager_id": own })).await;
        assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status()), "{who}: API {}", r.status());
        let r = b
            .submit("/passport", &lines, &[("user_id", &carer.id.to_string()), ("manager_id", &own.to_string())])
            .await;
        assert!([want, StatusCode::NOT_FOUND].contains(&r.status()), "{who}: page {}", r.status());
        let r = api.post(&handovers, json!({ "from_manager_id": manager.id, "to_manager_id": own })).await;
        assert!([StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status()), "{who}: handover");
    }
    assert_eq!(stored_manager(&app, carer.id).await, manager.id);

    // And then none of them reads the passport, by page or API.
    for (who, b, api) in [
        ("HR lead without the carer's consent", &s.hr, &s.hr_api),
        ("director", &director.browser, &director.api),
        ("another employee", &colleague.browser, &colleague.api),
        ("operator", &operator, &operator_api),
        ("manager of another organisation", &foreign_manager.browser, &foreign_manager.api),
    ] {
        expect(&ways_in(b, api, id).await, &[], who);
    }
    for path in [format!("/passports/{id}"), format!("/passports/{id}/export.pdf")] {
        assert_eq!(s.advisor.get(&path).await.status(), StatusCode::NOT_FOUND, "advisor {path}");
    }
    assert_eq!(leaver.api.get(&format!("/passports/{id}")).await.status(), StatusCode::UNAUTHORIZED, "deactivated");

    // A line stored before this rule (an HR lead or director as "manager") opens nothing either.
    for (who, b, api, uid) in
        [("HR lead", &s.hr, &s.hr_api, hr_id), ("director", &director.browser, &director.api, director.id)]
    {
        let sql = format!("UPDATE reporting_lines SET manager_id = {uid} WHERE user_id = {}", carer.id);
        app.state.db.execute_unprepared(&sql).await.unwrap();
        expect(&ways_in(b, api, id).await, &[], &format!("{who} stored as manager"));
        let listed = api.list("/passports").await;
        assert!(listed.as_array().unwrap().iter().all(|p| p["id"] != id), "{who} sees it listed");
        let r = api.post("/passports", json!({ "carer_id": carer.id })).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who} starts no passport through a stored line");
    }
    // Nor does the review reminder go to such a "manager" (the line now holds the director).
    app.clock.advance(chrono::Duration::days(360));
    assert_eq!(carer_friendly::services::passport::send_review_reminders(&app.state).await.unwrap(), 1);
    let to = |email: &str| {
        format!("SELECT COUNT(*) FROM outbox WHERE recipient = '{email}' AND dedupe_key LIKE 'passport:{id}:review%'")
    };
    assert_eq!(count_rows(&app, &to("director@a.example")).await, 0);
    assert_eq!(count_rows(&app, &to("carer@a.example")).await, 1);
}

#[tokio::test]
async fn the_carer_is_told_in_their_language_by_inbox_and_e_mail_when_their_manager_changes() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let first = person(&app, &s, "first@a.example", "Fien First", "manager").await;
    let second = person(&app, &s, "second@a.example", "Stan Second", "manager").await;
    set_manager(&s, carer.id, Some(first.id), "Zorg").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    app.state.db.execute_unprepared(&format!("UPDATE users SET locale = 'en' WHERE id = {}", carer.id)).await.unwrap();

    set_manager(&s, carer.id, Some(second.id), "Zorg").await;
    let inbox = carer.api.get_json("/inbox").await;
    let message = &inbox["messages"][0];
    assert_eq!(message["kind"], "passport_handover");
    assert_eq!(message["title"], "Your Working Carers Passport has a new manager");
    assert!(message["body"].as_str().unwrap().contains("from Fien First to Stan Second"), "{message}");
    assert!(message["link"].as_str().unwrap().ends_with(&format!("/passports/{id}")));
    let mail = app.smtp.wait_for("carer@a.example", &format!("/passports/{id}")).await;
    assert!(mail.text().contains("Stan Second can read it"), "{}", mail.text());
    assert!(!mail.text().contains("Parkinson"), "no passport text in the mail");

    // A handover of all a leaving manager's people tells the carer too.
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/handovers", s.org_id),
            json!({ "from_manager_id": second.id, "to_manager_id": first.id }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let inbox = carer.api.get_json("/inbox").await;
    assert_eq!(inbox["messages"].as_array().unwrap().len(), 2);
    assert!(inbox["messages"][0]["body"].as_str().unwrap().contains("from Stan Second to Fien First"));

    // Withdrawing consent erases these messages with the passport.
    assert_eq!(carer.api.delete("/passport/consent").await.status(), StatusCode::OK);
    let left = count_rows(&app, &format!("SELECT COUNT(*) FROM notifications WHERE user_id = {}", carer.id)).await;
    assert_eq!(left, 0);
}

/// Rows that an import would add, counted straight from the tables.
async fn import_rows(app: &TestApp) -> [i64; 4] {
    [
        count_rows(app, "SELECT COUNT(*) FROM passports").await,
        count_rows(app, "SELECT COUNT(*) FROM passport_versions").await,
        count_rows(app, "SELECT COUNT(*) FROM passport_file_imports").await,
        count_rows(app, "SELECT COUNT(*) FROM passport_transfer_codes WHERE used_at IS NOT NULL").await,
    ]
}

/// Imports a file through the page, as the browser's form sends it.
async fn import_by_page(b: &Browser, file: &Value, passphrase: &str) -> reqwest::Response {
    let csrf = csrf_of(&b.get_html("/passport").await);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("passphrase", passphrase.to_string())
        .part("file", reqwest::multipart::Part::bytes(file.to_string().into_bytes()).file_name("passport.json"));
    b.client.post(format!("{}/passport/import", b.base)).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn a_sealed_file_imports_only_with_the_carers_passphrase_and_once_and_someone_elses_changes_nothing() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Zorg A", "a").await;
    let b = app.organisation_with_people("Zorg B", "b").await;
    let carer = person(&app, &a, "carer@a.example", "Carla Carer", "employee").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    let export = format!("/passports/{id}/export.json");

    // Exporting asks the carer for a passphrase; nobody else exports.
    let r = carer.api.post(&export, json!({ "passphrase": "kort" })).await;
    assert_eq!(field_codes(r).await, [("passphrase".to_string(), "passphrase_too_short".to_string())]);
    assert_eq!(a.hr_api.post(&export, json!({ "passphrase": PASSPHRASE })).await.status(), StatusCode::NOT_FOUND);
    let file = export_file(&carer, id).await;
    let text = file.to_string();
    for plain in [SITUATION, PHONE, SUPPORT, "Carla Carer", "Zorg A"] {
        assert!(!text.contains(plain), "the file shows {plain:?}");
    }
    // On the page: the two passphrases must match, then the file downloads.
    let page = format!("/passports/{id}");
    let action = format!("/passports/{id}/transfer-code");
    let r =
        carer.browser.submit(&page, &action, &[("passphrase", PASSPHRASE), ("passphrase_again", "iets anders")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("De twee wachtzinnen zijn niet gelijk"));
    let r = carer.browser.submit(&page, &action, &[("passphrase", PASSPHRASE), ("passphrase_again", PASSPHRASE)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let page_file: Value = r.json().await.unwrap();
    assert_ne!(page_file["id"], file["id"], "every export is a new file");

    // Someone else at B has the files but not the passphrase: refused, nothing written.
    let other = person(&app, &b, "other@b.example", "Otto Other", "employee").await;
    consent(&other, true, true).await;
    let before = import_rows(&app).await;
    let mut old_style = json!({ "passport": { "situation": "x" }, "signature": "x" });
    old_style["passport"]["format"] = json!("carer-friendly-passport/1");
    let mut other_id = file.clone();
    other_id["id"] = json!("another-id");
    for (body, field, code) in [
        (json!({ "file": file, "passphrase": "een andere wachtzin" }), "passphrase", "passphrase_wrong"),
        (json!({ "file": file }), "passphrase", "passphrase_wrong"),
        (json!({ "file": old_style, "passphrase": PASSPHRASE }), "file", "passport_file_invalid"),
        (json!({ "file": other_id, "passphrase": PASSPHRASE }), "file", "passport_file_invalid"),
        (json!({ "code": "ABCD-EFGH-JKLM" }), "code", "transfer_code_invalid"),
    ] {
        let r = other.api.post("/passports/import", body).await;
        assert_eq!(field_codes(r).await, [(field.to_string(), code.to_string())]);
    }
    let r = import_by_page(&other.browser, &page_file, "een andere wachtzin").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Met deze wachtzin gaat het bestand niet open"));
    assert_eq!(import_rows(&app).await, before, "nothing was written");
    assert!(other.api.list("/passports").await.as_array().unwrap().is_empty());

    // The carer, with a new account at B, imports the file with the passphrase: once.
    let new_self = person(&app, &b, "carla@b.example", "Carla Carer", "employee").await;
    consent(&new_self, false, false).await;
    let r = import_by_page(&new_self.browser, &page_file, PASSPHRASE).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let imported = new_self.api.list("/passports").await[0]["id"].as_i64().unwrap();
    assert_eq!(new_self.api.get_json(&format!("/passports/{imported}")).await["situation"], SITUATION);
    let [passports, versions, files, codes] = before;
    assert_eq!(import_rows(&app).await, [passports + 1, versions + 1, files + 1, codes]);
    // A second import of the same file is refused, whoever tries, passphrase or not.
    let r = other.api.post("/passports/import", json!({ "file": page_file, "passphrase": PASSPHRASE })).await;
    assert_eq!(field_codes(r).await, [("file".to_string(), "passport_file_used".to_string())]);
    assert_eq!(import_rows(&app).await, [passports + 1, versions + 1, files + 1, codes]);
    assert!(other.api.list("/passports").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_passport_change_on_a_stale_read_is_refused_with_412_and_the_newer_version_stays() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg A", "a").await;
    let carer = person(&app, &s, "carer@a.example", "Carla Carer", "employee").await;
    let manager = person(&app, &s, "manager@a.example", "Max Manager", "manager").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    let read = |api: &ApiClient| {
        let (client, url, token) = (api.client.clone(), format!("{}/passports/{id}", api.base), api.token.clone());
        async move {
            let r = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let etag = r.headers()["etag"].to_str().unwrap().to_string();
            (r.json::<Value>().await.unwrap(), etag)
        }
    };
    let write = |api: &ApiClient, etag: String, situation: &str| {
        let req = api
            .client
            .put(format!("{}/passports/{id}", api.base))
            .bearer_auth(&api.token)
            .header("If-Match", etag)
            .json(&json!({ "situation": situation, "support": SUPPORT }));
        async move { req.send().await.unwrap() }
    };
    // Both read the same version; the carer changes it first.
    let (_, carer_read) = read(&carer.api).await;
    let (_, manager_read) = read(&manager.api).await;
    assert_eq!(carer_read, manager_read);
    let r = write(&carer.api, carer_read, "Moeder verhuist naar het verpleeghuis").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let fresh = r.headers()["etag"].to_str().unwrap().to_string();
    let written: Value = r.json().await.unwrap();
    assert_eq!(written["situation"], "Moeder verhuist naar het verpleeghuis", "the write answers as the read");
    // The manager's change, made on the older read, does not overwrite it unseen.
    let r = write(&manager.api, manager_read, "Iets anders").await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let (now, etag) = read(&manager.api).await;
    assert_eq!((now["situation"].clone(), etag.clone()), (written["situation"].clone(), fresh));
    assert_eq!(now["current_version"], written["current_version"]);
    // Read again, the manager's change goes through.
    assert_eq!(write(&manager.api, etag, "Iets anders").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_manager_reading_a_passport_is_counted_in_the_metrics_and_the_carers_own_reading_is_not() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Telbaar BV", "tel").await;
    let carer = person(&app, &s, "carer@tel.example", "Carer Tel", "employee").await;
    let manager = person(&app, &s, "manager@tel.example", "Manager Tel", "manager").await;
    set_manager(&s, carer.id, Some(manager.id), "Zorg").await;
    consent(&carer, false, false).await;
    let id = start_passport(&carer).await;
    let reads = |text: &str, action: &str| -> u64 {
        let line = format!("carer_friendly_passport_reads_total{{action=\"{action}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(line.as_str())).map_or(0, |n| n.parse().unwrap())
    };
    for _ in 0..2 {
        assert_eq!(carer.api.get(&format!("/passports/{id}")).await.status(), StatusCode::OK);
    }
    let before = app.state.metrics.render(&app.state).await;
    assert_eq!(reads(&before, "read"), 0, "the carer's own reading is not counted: {before}");
    assert_eq!(manager.api.get(&format!("/passports/{id}")).await.status(), StatusCode::OK);
    assert_eq!(manager.browser.get(&format!("/passports/{id}")).await.status(), StatusCode::OK);
    let after = app.state.metrics.render(&app.state).await;
    assert_eq!(reads(&after, "read"), 2, "two reads by the manager, one per channel: {after}");
}
