use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;

/// A fresh app whose outbox sender stays quiet, so the query counter sees only the request.
async fn quiet_app() -> TestApp {
    TestApp::spawn_configured(super::smtp::SmtpSink::running().await, fresh_database_url().await, |c| {
        c.outbox_interval_ms = 3_600_000
    })
    .await
}

async fn queries_for(app: &TestApp, api: &ApiClient, path: &str) -> u64 {
    let before = app.state.query_count();
    let r = api.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    app.state.query_count() - before
}

async fn queries_for_page(app: &TestApp, b: &Browser, path: &str) -> u64 {
    let before = app.state.query_count();
    let r = b.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    app.state.query_count() - before
}

#[tokio::test]
async fn the_portfolio_and_the_dashboard_take_the_same_number_of_queries_for_more_organisations_and_items() {
    let app = quiet_app().await;
    let s = app.organisation_with_people("Eerste", "q").await;
    let operator = app.browser();
    operator.login("operator@example.org", PASSWORD).await;
    let op = operator.api_token("op").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].clone();
    let add_orgs = |n: usize| async move {
        for i in 0..n {
            let o =
                op.post("/organisations", json!({ "name": format!("Extra {i}") })).await.json::<Value>().await.unwrap();
            op.post(&format!("/organisations/{}/advisors", o["id"]), json!({ "advisor_id": advisor_id })).await;
        }
    };
    let small = queries_for(&app, &s.advisor, "/portfolio").await;
    let small_page = queries_for_page(&app, &app.login_as("advisor-q@example.org").await, "/portfolio").await;
    let small_dash = queries_for(&app, &s.hr_api, &format!("/organisations/{}/dashboard", s.org_id)).await;
    add_orgs(8).await;
    // More items done, with evidence and history, in the first organisation.
    for id in s.hr_api.item_ids(s.org_id, "bespreken").await {
        s.hr_api.add_note(id, "Notulen", "MT").await;
        s.hr_api.transition(id, "submit", None).await;
        s.advisor.transition(id, "accept", None).await;
    }
    let large = queries_for(&app, &s.advisor, "/portfolio").await;
    let large_page = queries_for_page(&app, &app.login_as("advisor-q@example.org").await, "/portfolio").await;
    let large_dash = queries_for(&app, &s.hr_api, &format!("/organisations/{}/dashboard", s.org_id)).await;
    assert_eq!(s.advisor.get_json("/portfolio").await["data"].as_array().unwrap().len(), 9);
    assert_eq!(small, large, "portfolio API: queries do not grow with organisations");
    assert_eq!(small_page, large_page, "portfolio page: queries do not grow with organisations");
    assert_eq!(small_dash, large_dash, "dashboard: queries do not grow with items");
    assert!(large < 20, "{large} queries");
}

#[tokio::test]
async fn the_director_dashboard_shows_progress_waiting_overdue_and_recurring_items() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Dashboard BV", "db").await;
    let items = s.hr_api.item_ids(s.org_id, "borgen").await;
    // One accepted recurring item, one waiting for the advisor, one overdue.
    s.hr_api
        .post(
            &format!("/items/{}/evidence", items[1]),
            json!({ "kind": "note", "title": "Intranet", "note": "Pagina", "valid_until": "2026-09-01" }),
        )
        .await;
    s.hr_api.transition(items[1], "submit", None).await;
    s.advisor.transition(items[1], "accept", None).await;
    s.hr_api.add_note(items[2], "Introductie", "Map").await;
    s.hr_api.transition(items[2], "submit", None).await;
    s.hr_api.patch(&format!("/items/{}", items[3]), json!({ "due_date": "2026-02-01" })).await;
    app.clock.advance(chrono::Duration::days(3));
    let d = s.hr_api.get_json(&format!("/organisations/{}/dashboard", s.org_id)).await;
    assert_eq!(d["overall"]["done"], 1);
    assert_eq!(d["overall"]["total"], 24);
    assert_eq!(d["waiting_on_advisor"]["count"], 1);
    assert_eq!(d["waiting_on_advisor"]["oldest_days"], 3);
    assert_eq!(d["overdue"][0]["id"], items[3]);
    assert_eq!(d["next_recurring"][0]["id"], items[1]);
    assert_eq!(d["next_recurring"][0]["date"], "2026-09-01");
    assert_eq!(d["done_now"], 1);
    let html = s.hr.get_html(&format!("/organisations/{}/dashboard", s.org_id)).await;
    assert!(html.contains("<polyline"), "server-rendered chart");
    let report = s.hr.get(&format!("/organisations/{}/report", s.org_id)).await;
    assert_eq!(report.status(), StatusCode::OK);

    let csv = s.hr.get(&format!("/organisations/{}/export.csv", s.org_id)).await;
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 37, "a header and every item");
    assert!(lines[0].contains("status") && lines[0].contains("evidence"));
    assert!(text.contains("Intranet (note)"));
}

#[tokio::test]
async fn the_portfolio_filters_and_sorts_and_the_operator_sees_the_workload() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Alfa", "pa").await;
    let operator = app.browser();
    operator.login("operator@example.org", PASSWORD).await;
    let op = operator.api_token("op").await;
    let advisor_id = a.advisor.get_json("/me").await["id"].clone();
    let beta = op.post("/organisations", json!({ "name": "Beta" })).await.json::<Value>().await.unwrap();
    op.post(&format!("/organisations/{}/advisors", beta["id"]), json!({ "advisor_id": advisor_id })).await;
    let item = a.hr_api.item_ids(a.org_id, "bespreken").await[0];
    a.hr_api.add_note(item, "x", "y").await;
    a.hr_api.transition(item, "submit", None).await;
    let all = a.advisor.list("/portfolio?sort=name&desc=true").await;
    assert_eq!(
        all.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Beta", "Alfa"]
    );
    let waiting = a.advisor.list("/portfolio?waiting=true").await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["waiting"], 1);
    let page = app.login_as("advisor-pa@example.org").await.get_html("/portfolio?q=bet").await;
    assert!(page.contains("Beta") && !page.contains(">Alfa<"));
    let overview = op.get_json("/operator/overview").await;
    assert_eq!(overview["organisations"], 2);
    assert_eq!(overview["advisors"][0]["organisations"], 2);
    assert_eq!(overview["advisors"][0]["waiting"], 1);
    assert_eq!(a.hr_api.get("/portfolio").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(a.hr_api.get("/operator/overview").await.status(), StatusCode::FORBIDDEN);
}

/// The links in a page's list table (`table` selects it) and its pager's links.
fn rows_and_pager(html: &str, table: &str) -> (Vec<String>, Option<String>, Option<String>, String) {
    use scraper::{Html, Selector};
    let doc = Html::parse_document(html);
    let rows = Selector::parse(&format!("{table} tbody tr th a")).unwrap();
    let hrefs = doc.select(&rows).filter_map(|a| a.value().attr("href")).map(String::from).collect();
    let link = |rel: &str| {
        let sel = Selector::parse(&format!("nav.pager a{rel}")).unwrap();
        doc.select(&sel).next().and_then(|a| a.value().attr("href")).map(String::from)
    };
    let text = Selector::parse("nav.pager p").unwrap();
    let shown = doc.select(&text).next().map(|p| p.text().collect::<String>()).unwrap_or_default();
    (hrefs, link("[rel=next]"), link(":not([rel])"), shown)
}

#[tokio::test]
async fn long_lists_on_pages_come_fifty_rows_at_a_time_with_links_that_keep_the_sort() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Eén", "one").await;
    let op = app.operator_once().await.api_token("many").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let mut extra = vec![];
    for i in 0..54 {
        let r = op.post("/organisations", json!({ "name": format!("Organisatie {i:02}") })).await;
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let r = op.post(&format!("/organisations/{id}/advisors"), json!({ "advisor_id": advisor_id })).await;
        assert_eq!(r.status(), StatusCode::OK);
        extra.push(id);
    }
    // Items of three of them wait for review (set in the database: the waiting, not the way
    // there, is what this is about).
    use sea_orm::ConnectionTrait;
    let ids = extra[..3].iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let sql = format!("UPDATE items SET status = 'submitted' WHERE organisation_id IN ({ids})");
    app.state.db.execute_unprepared(&sql).await.unwrap();
    // Written past the service, so its kept progress is brought up to date as the service would.
    carer_friendly::services::progress::refresh(&app.state.db, &app.state.checklists, &extra[..3]).await.unwrap();
    assert_progress_kept(&app).await;
    let waiting = 3 * s.hr_api.item_ids(s.org_id, "bespreken").await.len()
        + 3 * (s.hr_api.item_ids(s.org_id, "beschrijven").await.len()
            + s.hr_api.item_ids(s.org_id, "bekwamen").await.len()
            + s.hr_api.item_ids(s.org_id, "borgen").await.len()
            + s.hr_api.item_ids(s.org_id, "going-ahead").await.len());
    let advisor = app.login_as("advisor-one@example.org").await;

    // The portfolio, sorted by name descending: 50, then the rest; the next link keeps the sort.
    let html = advisor.get_html("/portfolio?sort=name&desc=true").await;
    let (first, next, back, shown) = rows_and_pager(&html, "table.portfolio");
    assert_eq!(first.len(), 50);
    assert_eq!(shown, "50 van 55 getoond");
    assert!(back.is_none(), "the first page has no link back to itself");
    let next = next.expect("a next page");
    assert!(next.starts_with("/portfolio?sort=name&desc=true&cursor="), "{next}");
    let html = advisor.get_html(&next).await;
    let (second, further, back, _) = rows_and_pager(&html, "table.portfolio");
    assert_eq!(second.len(), 5);
    assert!(further.is_none());
    assert_eq!(back.as_deref(), Some("/portfolio?sort=name&desc=true"));
    let mut all: Vec<String> = first.into_iter().chain(second).collect();
    assert_eq!(all[0], format!("/organisations/{}", extra[53]), "Organisatie 53 comes first, descending");
    assert_eq!(all[54], format!("/organisations/{}", s.org_id), "Gemeente Eén comes last");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 55, "every organisation once");

    // The review queue: the same, oldest first.
    let mut seen = vec![];
    let mut page = Some("/review".to_string());
    while let Some(p) = page {
        let html = advisor.get_html(&p).await;
        let (rows, next, _, _) = rows_and_pager(&html, "table.queue");
        assert!(rows.len() <= 50);
        seen.extend(rows);
        page = next;
    }
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((count, seen.len()), (waiting, waiting), "every waiting item once");
    // A cursor that is not the page's own (of another sort, or made up) starts again at page one.
    let html = advisor.get_html("/portfolio?sort=progress&cursor=made-up").await;
    assert_eq!(rows_and_pager(&html, "table.portfolio").0.len(), 50);

    // Filtered by waiting work and sorted by it, in the database: the three, most waiting first.
    let html = advisor.get_html("/portfolio?sort=waiting&desc=true&waiting=true").await;
    let (rows, next, _, _) = rows_and_pager(&html, "table.portfolio");
    assert!(next.is_none());
    let mut want: Vec<String> = extra[..3].iter().map(|i| format!("/organisations/{i}")).collect();
    let mut got = rows;
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // The operator's organisations: 50 a page, found by name, the forms choosing from the page.
    let operator = app.login_as("operator@example.org").await;
    let html = operator.get_html("/operator").await;
    let (rows, next, _, shown) = rows_and_pager(&html, "section[aria-labelledby=organisations-heading] table");
    assert_eq!((rows.len(), shown.as_str()), (50, "50 van 55 getoond"));
    let html = operator.get_html(&next.expect("a next page")).await;
    assert_eq!(rows_and_pager(&html, "section[aria-labelledby=organisations-heading] table").0.len(), 5);
    let html = operator.get_html("/operator?q=organisatie%2005").await;
    let (rows, next, _, _) = rows_and_pager(&html, "section[aria-labelledby=organisations-heading] table");
    assert_eq!((rows, next), (vec![format!("/organisations/{}", extra[5])], None));
    let doc = scraper::Html::parse_document(&html);
    let options = scraper::Selector::parse("#assign-organisation option").unwrap();
    assert_eq!(doc.select(&options).count(), 1, "the assign form offers the organisation found");
    let html = operator.get_html("/operator?q=zzz").await;
    assert!(html.contains("Geen organisatie gevonden"), "a search without result says so");
}

#[tokio::test]
async fn an_advisors_calendar_feed_takes_the_same_number_of_queries_for_more_organisations() {
    let app = quiet_app().await;
    let s = app.organisation_with_people("Gemeente Agenda", "cal").await;
    let url = s.advisor.post("/me/calendar", json!({})).await.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url.split_once("/calendar/").map(|(_, t)| format!("/calendar/{t}")).unwrap();
    let feed_queries = || async {
        let before = app.state.query_count();
        let r = reqwest::get(format!("{}{path}", app.address)).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().starts_with("BEGIN:VCALENDAR"));
        app.state.query_count() - before
    };
    let one = feed_queries().await;
    let op = app.operator_once().await.api_token("cal").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].as_i64().unwrap();
    for i in 0..4 {
        let id = op
            .post("/organisations", json!({ "name": format!("Agenda {i}") }))
            .await
            .json::<Value>()
            .await
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        op.post(&format!("/organisations/{id}/advisors"), json!({ "advisor_id": advisor_id })).await;
    }
    assert_eq!(feed_queries().await, one, "five organisations take the queries of one");
}

#[tokio::test]
async fn kept_progress_equals_a_full_recount_after_every_kind_of_change_also_when_made_at_once() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Teller BV", "kp").await;
    assert_progress_kept(&app).await;
    let items = s.hr_api.item_ids(s.org_id, "bespreken").await;
    // Evidence starts items, then all are submitted, each step for every item at once: on
    // PostgreSQL these are concurrent transactions counting the same organisation.
    join_all(items.iter().map(|&i| s.hr_api.add_note(i, "Notulen", "MT"))).await;
    assert_progress_kept(&app).await;
    let submitted = join_all(items.iter().map(|&i| s.hr_api.transition(i, "submit", None))).await;
    assert!(submitted.iter().all(|r| r.status() == StatusCode::OK));
    assert_progress_kept(&app).await;
    let decided = join_all(items.iter().enumerate().map(|(n, &i)| {
        let advisor = &s.advisor;
        async move {
            if n % 2 == 0 {
                advisor.transition(i, "accept", None).await
            } else {
                advisor.transition(i, "request_changes", Some("Graag het verslag erbij.")).await
            }
        }
    }))
    .await;
    assert!(decided.iter().all(|r| r.status() == StatusCode::OK));
    assert_progress_kept(&app).await;
    let borgen = s.hr_api.item_ids(s.org_id, "borgen").await;
    s.hr_api.transition(borgen[0], "propose_not_applicable", Some("Past niet bij ons.")).await;
    // An accepted item whose evidence runs out falls back to due (the lapsing job).
    s.hr_api
        .post(
            &format!("/items/{}/evidence", borgen[1]),
            json!({ "kind": "note", "title": "Intranet", "note": "Pagina", "valid_until": "2026-04-30" }),
        )
        .await;
    s.hr_api.transition(borgen[1], "submit", None).await;
    s.advisor.transition(borgen[1], "accept", None).await;
    app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 4, 30, 9, 0, 0).unwrap());
    carer_friendly::jobs::run(&app.state, carer_friendly::jobs::Job::EvidenceLapsing).await.unwrap();
    assert_eq!(s.hr_api.get_json(&format!("/items/{}", borgen[1])).await["item"]["status"], "due");
    assert_progress_kept(&app).await;

    // The portfolio shows the kept figures: Bespreken half done, the waiting items counted.
    let row = &s.advisor.get_json("/portfolio").await["data"][0];
    let accepted = items.len().div_ceil(2);
    let mut pillar_items = 0;
    for pillar in ["bespreken", "beschrijven", "bekwamen", "borgen"] {
        pillar_items += s.hr_api.item_ids(s.org_id, pillar).await.len();
    }
    assert_eq!(row["percent"], (accepted * 100 / pillar_items) as u64, "{row}");
    assert_eq!(row["waiting"], 1, "the proposal waits: {row}");
    let bespreken = row["pillars"].as_array().unwrap().iter().find(|p| p["key"] == "bespreken").unwrap();
    assert_eq!(bespreken["percent"], (accepted * 100 / items.len()) as u64);
}

#[tokio::test]
async fn every_page_takes_the_same_number_of_queries_for_more_organisations_and_work() {
    let app = quiet_app().await;
    let s = app.organisation_with_people("Eerste", "pq").await;
    let advisor = app.login_as("advisor-pq@example.org").await;
    let operator = app.login_as("operator@example.org").await;
    let op = operator.api_token("op").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].clone();
    let items = s.hr_api.item_ids(s.org_id, "bespreken").await;
    s.hr_api.add_note(items[0], "Notulen", "MT").await;
    s.hr_api.transition(items[0], "submit", None).await;
    let org = s.org_id;
    let pages: Vec<(&Browser, String)> = vec![
        (&advisor, "/review".into()),
        (&advisor, "/portfolio?sort=progress&waiting=true".into()),
        (&advisor, "/portfolio?sort=oldest&desc=true".into()),
        (&advisor, "/portfolio?q=eer&expiring=true".into()),
        (&operator, "/operator".into()),
        (&s.hr, format!("/organisations/{org}")),
        (&s.hr, format!("/organisations/{org}/checklists/bespreken")),
        (&s.hr, format!("/items/{}", items[0])),
        (&s.hr, "/inbox".into()),
        (&s.hr, format!("/organisations/{org}/members")),
        (&s.hr, format!("/organisations/{org}/passports")),
        (&s.hr, "/passport".into()),
    ];
    let mut before = vec![];
    for (b, path) in &pages {
        before.push(queries_for_page(&app, b, path).await);
    }
    // Seven more organisations for the advisor, and more work waiting in the first.
    for i in 0..7 {
        let o = op.post("/organisations", json!({ "name": format!("Extra {i}") })).await.json::<Value>().await.unwrap();
        op.post(&format!("/organisations/{}/advisors", o["id"]), json!({ "advisor_id": advisor_id })).await;
    }
    for &id in &items[1..] {
        s.hr_api.add_note(id, "Notulen", "MT").await;
        s.hr_api.transition(id, "submit", None).await;
    }
    s.advisor.transition(items[0], "request_changes", Some("Graag het verslag erbij.")).await;
    s.hr_api.add_note(items[0], "Verslag", "OR").await;
    for ((b, path), n) in pages.iter().zip(before) {
        assert_eq!(queries_for_page(&app, b, path).await, n, "{path}: queries grew with organisations and work");
    }
}

#[tokio::test]
async fn an_advisors_kept_sums_and_the_unassigned_list_follow_every_change_of_assignments() {
    let app = TestApp::spawn().await;
    let a = app.organisation_with_people("Alfa", "ks").await;
    let operator = app.browser();
    operator.login("operator@example.org", PASSWORD).await;
    let op = operator.api_token("op").await;
    let advisor_id = a.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let item = a.hr_api.item_ids(a.org_id, "bespreken").await[0];
    a.hr_api.add_note(item, "x", "y").await;
    a.hr_api.transition(item, "submit", None).await;
    let beta = op.post("/organisations", json!({ "name": "Beta" })).await.json::<Value>().await.unwrap();
    let beta = beta["id"].as_i64().unwrap();
    let load = || async {
        let o = op.get_json("/operator/overview").await;
        let mine = o["advisors"].as_array().unwrap().iter().find(|x| x["advisor"]["id"] == advisor_id).cloned();
        let mine = mine.unwrap_or_else(|| panic!("advisor missing: {o}"));
        let unassigned: Vec<String> =
            o["unassigned"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_string()).collect();
        // Since when the oldest waits: shown exactly when something waits (submitted today).
        let oldest = &mine["oldest_waiting_days"];
        assert_eq!(oldest.is_null(), mine["waiting"] == 0, "{mine}");
        assert!(oldest.is_null() || *oldest == 0, "{mine}");
        (
            mine["organisations"].as_u64().unwrap(),
            mine["waiting"].as_u64().unwrap(),
            o["unassigned_total"].as_u64().unwrap(),
            unassigned,
        )
    };
    let queue_total = || async { a.advisor.get_json("/review-queue").await["total"].as_u64().unwrap() };
    assert_eq!(load().await, (1, 1, 1, vec!["Beta".to_string()]));
    assert_eq!(queue_total().await, 1);
    assert_progress_kept(&app).await;

    // Assigned, moved, unassigned: the advisor's sums and the unassigned list follow each step.
    op.post(&format!("/organisations/{beta}/advisors"), json!({ "advisor_id": advisor_id })).await;
    assert_eq!(load().await, (2, 1, 0, vec![]));
    assert_progress_kept(&app).await;
    let r = op.delete(&format!("/organisations/{}/advisors/{advisor_id}", a.org_id)).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(load().await, (1, 0, 1, vec!["Alfa".to_string()]));
    assert_eq!(queue_total().await, 0);
    assert_eq!(a.advisor.get_json("/portfolio?waiting=true").await["total"], 0);
    assert_progress_kept(&app).await;
    let r = op.put(&format!("/organisations/{}/advisors", a.org_id), json!({ "advisor_ids": [advisor_id] })).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(load().await, (2, 1, 0, vec![]));
    assert_eq!(queue_total().await, 1);
    assert_eq!(a.advisor.get_json("/portfolio?waiting=true").await["total"], 1);
    assert_progress_kept(&app).await;
    // A decision moves the sums; the advisor's erasure ends every assignment.
    a.advisor.transition(item, "accept", None).await;
    assert_eq!(load().await, (2, 0, 0, vec![]));
    assert_progress_kept(&app).await;
    let r = op.post(&format!("/advisors/{advisor_id}/erasure"), json!({})).await;
    assert!(r.status().is_success(), "{}", r.status());
    let o = op.get_json("/operator/overview").await;
    assert_eq!(o["unassigned_total"], 2, "{o}");
    assert_progress_kept(&app).await;
}

/// The organisation ids of an exported CSV, after checking its header line.
fn exported_ids(text: &str) -> Vec<i64> {
    let text = text.strip_prefix('\u{feff}').expect("a byte order mark for spreadsheets");
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header = lines.next().unwrap();
    assert!(header.starts_with("organisation_id,organisation,percent,bespreken_percent,"), "{header}");
    lines.map(|l| l.split(',').next().unwrap().parse().unwrap()).collect()
}

#[tokio::test]
async fn the_whole_portfolio_exports_as_csv_in_the_order_and_with_the_filters_of_the_page() {
    let app = quiet_app().await;
    let s = app.organisation_with_people("Buiten BV", "ex").await;
    // More than one part of the stream (200 organisations each).
    carer_friendly::demo::load_many(&app.state, 230).await.unwrap();
    let b = app.browser();
    b.login("portefeuille@demo.example", carer_friendly::demo::DEMO_PASSWORD).await;
    let api = b.api_token("export").await;
    let mut listed: Vec<i64> = vec![];
    let mut url = "/portfolio?sort=progress&desc=true&limit=200".to_string();
    loop {
        let page = api.get_json(&url).await;
        listed.extend(page["data"].as_array().unwrap().iter().map(|r| r["organisation_id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/portfolio?sort=progress&desc=true&limit=200&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(listed.len(), 230);

    let r = b.get("/portfolio/export.csv?sort=progress&desc=true").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(exported_ids(&r.text().await.unwrap()), listed, "the page's order, every organisation once");

    let r = api.get("/portfolio/export.csv?sort=progress&desc=true").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(exported_ids(&r.text().await.unwrap()), listed);
    let waiting = api.get_json("/portfolio?waiting=true&limit=1").await["total"].as_u64().unwrap();
    assert!(waiting > 0 && waiting < 230, "{waiting}");
    let r = api.get("/portfolio/export.csv?waiting=true").await;
    assert_eq!(exported_ids(&r.text().await.unwrap()).len() as u64, waiting);
    // The page links to the export with its sort and filters.
    let page = b.get_html("/portfolio?sort=waiting&waiting=true").await;
    assert!(page.contains("/portfolio/export.csv?sort=waiting&amp;waiting=true"), "{page}");

    // A sort it does not know falls back to the name; a filter that is not true or false is refused.
    let by_name = exported_ids(&b.get("/portfolio/export.csv").await.text().await.unwrap());
    assert_eq!(by_name.len(), 230);
    assert_eq!(exported_ids(&b.get("/portfolio/export.csv?sort=bogus").await.text().await.unwrap()), by_name);
    let r = b.get("/portfolio/export.csv?waiting=maybe").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text().await.unwrap().contains("<title>400 · Mantelzorgvriendelijk</title>"),
        "an error page, not a file"
    );
    let r = api.get("/portfolio/export.csv?waiting=maybe").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["field"], "waiting");
    // Only advisors and operators have a portfolio.
    assert_eq!(s.hr_api.get("/portfolio/export.csv").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.login_as("hr-ex@example.org").await.get("/portfolio/export.csv").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn advisors_sums_stay_exact_when_work_and_reassignments_happen_at_once() {
    let app = TestApp::spawn().await;
    let one = app.organisation_with_people("Een BV", "c1").await;
    let two = app.organisation_with_people("Twee BV", "c2").await;
    let op = app.login_as("operator@example.org").await.api_token("op").await;
    let x = one.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let y = two.advisor.get_json("/me").await["id"].as_i64().unwrap();
    let items_one = one.hr_api.item_ids(one.org_id, "bespreken").await;
    let items_two = two.hr_api.item_ids(two.org_id, "bespreken").await;
    for (s, items) in [(&one, &items_one), (&two, &items_two)] {
        join_all(items.iter().map(|&i| s.hr_api.add_note(i, "Notulen", "MT"))).await;
    }
    // Submissions in both organisations while both move between the advisors: on PostgreSQL these
    // are concurrent transactions taking organisation and advisor locks.
    let moves = [
        (one.org_id, vec![x, y]),
        (two.org_id, vec![x]),
        (one.org_id, vec![y]),
        (two.org_id, vec![x, y]),
        (one.org_id, vec![x]),
    ];
    let submit = items_one.iter().map(|&i| (&one, i)).chain(items_two.iter().map(|&i| (&two, i)));
    let work = join_all(submit.map(|(s, i)| async move { s.hr_api.transition(i, "submit", None).await.status() }));
    let reassign = async {
        let mut statuses = vec![];
        for (org, advisors) in &moves {
            let r = op.put(&format!("/organisations/{org}/advisors"), json!({ "advisor_ids": advisors })).await;
            statuses.push(r.status());
        }
        statuses
    };
    let (worked, moved) = tokio::join!(work, reassign);
    assert!(worked.iter().all(|s| *s == StatusCode::OK), "{worked:?}");
    assert!(moved.iter().all(|s| *s == StatusCode::OK), "{moved:?}");
    assert_progress_kept(&app).await;
    // Decisions by whoever looks after the organisation now, while it moves again.
    let (ax, ay) = (&one.advisor, &two.advisor);
    let decide = items_two.iter().map(|&i| async move {
        let by_x = ax.transition(i, "accept", None).await.status();
        if by_x == StatusCode::OK { by_x } else { ay.transition(i, "accept", None).await.status() }
    });
    let reassign = async {
        for advisors in [vec![y], vec![x, y], vec![x]] {
            let r =
                op.put(&format!("/organisations/{}/advisors", two.org_id), json!({ "advisor_ids": advisors })).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    let (decided, ()) = tokio::join!(join_all(decide), reassign);
    assert!(decided.iter().all(|s| [StatusCode::OK, StatusCode::NOT_FOUND].contains(s)), "{decided:?}");
    assert_progress_kept(&app).await;
    let queue = one.advisor.get_json("/review-queue").await["total"].as_u64().unwrap();
    assert_eq!(queue as usize, items_one.len() + decided.iter().filter(|s| **s != StatusCode::OK).count());
}
