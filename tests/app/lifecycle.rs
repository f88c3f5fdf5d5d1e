//! People leaving for good and advisors changing hands: erasure on request (GDPR art. 17) leaves
//! no name or address anywhere, history says "former member"; the operator assigns an advisor who
//! has not accepted yet, moves an organisation to another advisor (its queue follows), and
//! deactivates, re-invites or withdraws advisors.
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{Value, json};

use super::helpers::*;

async fn person(app: &TestApp, s: &Setup, email: &str, name: &str, role: &str) -> (i64, Browser, ApiClient) {
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": email, "name": name, "role": role }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let browser = app.accept_invitation(email, name).await;
    let api = browser.api_token("mine").await;
    let id = api.get_json("/me").await["id"].as_i64().unwrap();
    (id, browser, api)
}

async fn on_line_of(s: &Setup, carer: i64, manager: i64) {
    let url = format!("{}/organisations/{}/reporting-lines/{carer}", s.hr_api.base, s.org_id);
    let r = s.hr_api.client.put(url).bearer_auth(&s.hr_api.token);
    let r = r.json(&json!({ "manager_id": manager, "department": "Zorg" })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn strings(app: &TestApp, sql: &str) -> Vec<String> {
    let db = &app.state.db;
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = &app.state.db;
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Every (table, column) of the database holding `needle` in any row, as text.
async fn where_found(app: &TestApp, needle: &str) -> Vec<String> {
    let postgres = app.state.db.get_database_backend() == DatabaseBackend::Postgres;
    let tables = if postgres {
        strings(app, "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'").await
    } else {
        strings(app, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").await
    };
    assert!(tables.len() > 30, "all tables found: {tables:?}");
    let mut found = vec![];
    for table in tables {
        let columns = if postgres {
            strings(
                app,
                &format!(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'"
                ),
            )
            .await
        } else {
            strings(app, &format!("SELECT name FROM pragma_table_info('{table}')")).await
        };
        for column in columns {
            let sql = format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE LOWER(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
                needle.to_lowercase()
            );
            if count(app, &sql).await > 0 {
                found.push(format!("{table}.{column}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn an_erased_member_leaves_neither_name_nor_address_in_any_column_of_any_table() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg Wissen BV", "erase").await;
    // An HR colleague who did real work: owned and submitted an item, wrote a comment, was
    // quoted by others, and a carer with a passport on a manager's line.
    let (colleague, _b, colleague_api) =
        person(&app, &s, "zorgvuldig@wissen.example", "Zorgvuldig Verwijderd", "hr_lead").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    let r = s.hr_api.patch(&format!("/items/{item}"), json!({ "owner_id": colleague })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(colleague_api.add_note(item, "Verslag", "Besproken in het MT.").await.status(), StatusCode::OK);
    let r = colleague_api.post(&format!("/items/{item}/comments"), json!({ "body": "Ik pak dit op." })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .hr_api
        .post(
            &format!("/items/{item}/comments"),
            json!({ "body": "Vraag Zorgvuldig Verwijderd (zorgvuldig@wissen.example)." }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(colleague_api.transition(item, "submit", None).await.status(), StatusCode::OK);
    let (manager, _m, manager_api) = person(&app, &s, "baas@wissen.example", "Bea Baas", "manager").await;
    let (carer, _c, carer_api) = person(&app, &s, "mantel@wissen.example", "Mieke Mantelzorger", "employee").await;
    on_line_of(&s, carer, manager).await;
    let r = carer_api
        .client
        .put(format!("{}/passport/consent", carer_api.base))
        .bearer_auth(&carer_api.token)
        .json(&json!({ "hr_copy": true, "statistics": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = carer_api.post("/passports", json!({ "situation": "Mijn vader", "arrangements": [], "support": "" })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let passport = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(manager_api.get(&format!("/passports/{passport}")).await.status(), StatusCode::OK);
    app.flush_outbox().await;
    assert!(!where_found(&app, "Zorgvuldig Verwijderd").await.is_empty(), "the name is there before");

    // HR erases the colleague through the pages: a page that says what goes, then the form.
    let members = format!("/organisations/{}/members", s.org_id);
    let page = s.hr.get_html(&format!("{members}/{colleague}/erase")).await;
    assert!(page.contains("Zorgvuldig Verwijderd") && page.contains("kan niet ongedaan"), "{page}");
    let r = s.hr.submit(&format!("{members}/{colleague}/erase"), &format!("{members}/{colleague}/erase"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("{members}?done=erased").as_str());
    // And the carer through the API.
    let r = s.hr_api.post(&format!("/organisations/{}/members/{carer}/erasure", s.org_id), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    for needle in ["Zorgvuldig Verwijderd", "zorgvuldig@wissen.example", "Mieke Mantelzorger", "mantel@wissen.example"]
    {
        assert_eq!(where_found(&app, needle).await, Vec::<String>::new(), "{needle} is still stored");
    }
    assert_eq!(count(&app, &format!("SELECT COUNT(*) FROM passports WHERE id = {passport}")).await, 0);
    assert_eq!(manager_api.get(&format!("/passports/{passport}")).await.status(), StatusCode::NOT_FOUND);
    // They are shut out; history calls them "former member"; the audit log keeps the fact.
    assert_eq!(colleague_api.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .browser()
        .submit("/login", "/login", &[("email", "zorgvuldig@wissen.example"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let item_page = s.hr.get_html(&format!("/items/{item}")).await;
    assert!(item_page.contains("voormalig lid"), "the owner and the history read 'former member'");
    let listed = s.hr_api.list(&format!("/organisations/{}/members", s.org_id)).await;
    let row = listed.as_array().unwrap().iter().find(|m| m["id"] == colleague).unwrap().clone();
    assert_eq!(
        (row["status"].as_str(), row["name"].as_str(), row["email"].as_str()),
        (Some("erased"), Some(""), Some(""))
    );
    let page = s.hr.get_html(&members).await;
    assert!(page.contains("Gegevens verwijderd") && !page.contains(&format!("{members}/{colleague}/erase")));
    let erased = count(
        &app,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'member.erased' AND subject = 'user:{colleague}'"),
    )
    .await;
    assert_eq!(erased, 1);
    // An erased member cannot be changed back.
    let r =
        s.hr_api.patch(&format!("/organisations/{}/members/{colleague}", s.org_id), json!({ "active": true })).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn erasure_is_refused_for_the_last_hr_lead_for_a_manager_with_carers_and_for_oneself() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorg Blijft BV", "keep").await;
    let me = s.hr_api.get_json("/me").await["id"].as_i64().unwrap();
    let (manager, _m, _) = person(&app, &s, "chef@blijft.example", "Chef Blijft", "manager").await;
    let (carer, _c, _) = person(&app, &s, "zorger@blijft.example", "Zorger Blijft", "employee").await;
    on_line_of(&s, carer, manager).await;
    let erase = |id: i64| format!("/organisations/{}/members/{id}/erasure", s.org_id);
    assert_eq!(s.hr_api.post(&erase(me), json!({})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.hr_api.post(&erase(manager), json!({})).await.status(), StatusCode::CONFLICT);
    // Through the page, the refusal leads to the passport handover.
    let members = format!("/organisations/{}/members", s.org_id);
    let r = s.hr.submit(&format!("{members}/{manager}/erase"), &format!("{members}/{manager}/erase"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains(&format!("passports?from={manager}")));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM users WHERE erased_at IS NOT NULL").await, 0);
    // Someone from another organisation cannot erase anyone here.
    let other = app.organisation_with_people("Ander BV", "other").await;
    let r = other.hr_api.post(&erase(carer), json!({})).await;
    assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::FORBIDDEN, "{}", r.status());
    assert_eq!(s.advisor.post(&erase(carer), json!({})).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invited_advisor_is_assigned_before_accepting_and_finds_those_organisations_at_sign_up() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Eerste BV", "first").await;
    let op = app.login_as("operator@example.org").await.api_token("op").await;
    let second = op.post("/organisations", json!({ "name": "Tweede BV" })).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = op
        .post(
            "/advisors",
            json!({ "email": "nieuw@advies.example", "name": "Nina Nieuw", "organisation_ids": [s.org_id] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let invitation = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = op.post(&format!("/organisations/{second}/advisors"), json!({ "invitation_id": invitation })).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let pending = op.list("/advisors/invitations").await;
    let mut planned: Vec<i64> =
        pending[0]["organisation_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    planned.sort();
    assert_eq!(planned, vec![s.org_id, second]);
    // The operator's page shows them as invited beside both organisations.
    let page = app.login_as("operator@example.org").await.get_html("/operator").await;
    let doc = scraper::Html::parse_document(&page);
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    for org in [s.org_id, second] {
        let row = doc
            .select(&rows)
            .find(|r| r.html().contains(&format!("href=\"/organisations/{org}\"")))
            .unwrap_or_else(|| panic!("no row for organisation {org}: {page}"))
            .html();
        assert!(row.contains("Nina Nieuw") && row.contains(&format!("value=\"invitation-{invitation}\"")), "{row}");
    }
    // Re-sending keeps the plan; the new link is the one that works.
    let r = op.post(&format!("/advisors/invitations/{invitation}/resend"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let resent = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_ne!(resent, invitation);
    let pending = op.list("/advisors/invitations").await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["organisation_ids"].as_array().unwrap().len(), 2);
    app.flush_outbox().await;
    // Both mails arrive (the sender may run beside the flush); the old link is dead, the new works.
    let mut paths = vec![];
    for _ in 0..300 {
        paths = app
            .smtp
            .all()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.contains("nieuw@advies.example")))
            .filter_map(|m| m.link_containing("/welcome/"))
            .filter_map(|l| l.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")))
            .collect();
        if paths.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(paths.len(), 2, "the invitation and the one sent again");
    let mut statuses = vec![];
    for p in &paths {
        statuses.push(app.browser().get(p).await.status());
    }
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
    let mut path = String::new();
    for p in &paths {
        if app.browser().get(p).await.status() == StatusCode::OK {
            path = p.clone();
        }
    }
    let b = app.browser();
    let r = b.submit(&path, &path, &[("name", "Nina Nieuw"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b.login("nieuw@advies.example", PASSWORD).await;
    let nina = b.api_token("nina").await;
    let mut theirs: Vec<i64> =
        nina.list("/organisations").await.as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
    theirs.sort();
    assert_eq!(theirs, vec![s.org_id, second], "assigned from the moment they accepted");
    assert!(op.list("/advisors/invitations").await.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn moving_an_organisation_to_another_advisor_moves_its_waiting_items_to_their_queue() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Verhuis BV", "move").await;
    let item = s.hr_api.item_ids(s.org_id, "bespreken").await[0];
    assert_eq!(s.hr_api.add_note(item, "Verslag", "Besproken.").await.status(), StatusCode::OK);
    assert_eq!(s.hr_api.transition(item, "submit", None).await.status(), StatusCode::OK);
    assert_eq!(s.advisor.list("/review-queue").await.as_array().unwrap().len(), 1);
    let operator = app.login_as("operator@example.org").await;
    let op = operator.api_token("op").await;
    let r = op.post("/advisors", json!({ "email": "opvolger@advies.example", "name": "Otto Opvolger" })).await;
    assert_eq!(r.status(), StatusCode::OK);
    let otto = app.accept_invitation("opvolger@advies.example", "Otto Opvolger").await.api_token("otto").await;
    let otto_id = otto.get_json("/me").await["id"].as_i64().unwrap();
    assert!(otto.list("/review-queue").await.as_array().unwrap().is_empty());

    // Through the operator's page: assign Otto and move the organisation in one step.
    let r = operator
        .submit(
            "/operator",
            "/operator/assignments",
            &[("organisation_id", &s.org_id.to_string()), ("advisor_id", &otto_id.to_string()), ("replace", "true")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/operator?done=advisor_moved");
    assert!(s.advisor.list("/review-queue").await.as_array().unwrap().is_empty(), "the old advisor's queue is empty");
    assert_eq!(
        s.advisor.get(&format!("/organisations/{}", s.org_id)).await.status(),
        StatusCode::NOT_FOUND,
        "an organisation no longer theirs is not found"
    );
    let queue = otto.list("/review-queue").await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(otto.transition(item, "accept", None).await.status(), StatusCode::OK);

    // And back through the API; an unknown advisor is refused and nothing changes.
    let old = s.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let r = op.client.put(format!("{}/organisations/{}/advisors", op.base, s.org_id)).bearer_auth(&op.token);
    let r = r.json(&json!({ "advisor_ids": [old, 999_999] })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(otto.get(&format!("/organisations/{}", s.org_id)).await.status(), StatusCode::OK);
    let r = op.client.put(format!("{}/organisations/{}/advisors", op.base, s.org_id)).bearer_auth(&op.token);
    let r = r.json(&json!({ "advisor_ids": [old] })).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let now: Vec<i64> =
        r.json::<Value>().await.unwrap().as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(now, vec![old]);
    assert_eq!(
        otto.get(&format!("/organisations/{}", s.org_id)).await.status(),
        StatusCode::NOT_FOUND,
        "an organisation no longer theirs is not found"
    );
    // Unassigning the last one leaves the organisation waiting for an advisor.
    assert_eq!(op.delete(&format!("/organisations/{}/advisors/{old}", s.org_id)).await.status(), StatusCode::OK);
    assert_eq!(op.delete(&format!("/organisations/{}/advisors/{old}", s.org_id)).await.status(), StatusCode::NOT_FOUND);
    let moves =
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action IN ('advisor.moved', 'advisor.unassigned')").await;
    assert_eq!(moves, 3);
}

#[tokio::test]
async fn the_operator_deactivates_and_erases_an_advisor_and_withdraws_an_advisor_invitation() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Adviseur Weg BV", "gone").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let operator = app.login_as("operator@example.org").await;
    let op = operator.api_token("op").await;
    // Deactivated through the page: the advisor's token stops at once.
    let r = operator.submit("/operator", &format!("/operator/advisors/{advisor_id}"), &[("active", "false")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.advisor.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    let page = operator.get_html("/operator").await;
    assert!(page.contains("Adviseur niet actief"), "the organisation shows its advisor is not active");
    let r = operator.submit("/operator", &format!("/operator/advisors/{advisor_id}"), &[("active", "maybe")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "an unknown value changes nothing");
    let r = op.patch(&format!("/advisors/{advisor_id}"), json!({ "active": false })).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "nothing to change");
    let r = op.patch(&format!("/advisors/{advisor_id}"), json!({ "active": true })).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);
    // Erased through the page.
    let erase = format!("/operator/advisors/{advisor_id}/erase");
    assert!(operator.get_html(&erase).await.contains("Adviseur gone"));
    let r = operator.submit(&erase, &erase, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(where_found(&app, "advisor-gone@example.org").await.is_empty());
    assert!(where_found(&app, "Adviseur gone").await.is_empty());
    assert!(op.list("/advisors").await.as_array().unwrap().iter().all(|a| a["id"] != advisor_id));
    // An invitation withdrawn through the page: its link no longer works.
    let r = op.post("/advisors", json!({ "email": "bedacht@advies.example", "name": "Bedacht" })).await;
    let invitation = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = operator.submit("/operator", &format!("/operator/invitations/{invitation}/withdraw"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.flush_outbox().await;
    let mail = app.smtp.wait_for("bedacht@advies.example", "/welcome/").await;
    let link = mail.link_containing("/welcome/").unwrap();
    let path = link.split_once("/welcome/").map(|(_, t)| format!("/welcome/{t}")).unwrap();
    assert_eq!(app.browser().get(&path).await.status(), StatusCode::CONFLICT);
    assert!(op.list("/advisors/invitations").await.as_array().unwrap().is_empty());
    // Nobody but the operator may do any of this.
    assert_eq!(s.hr_api.get("/advisors/invitations").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        s.hr_api.patch(&format!("/advisors/{advisor_id}"), json!({ "active": true })).await.status(),
        StatusCode::FORBIDDEN
    );
}
