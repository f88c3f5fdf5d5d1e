//! Recurring attention: jobs fire in their period once, at local time across DST, catch up
//! once after downtime, deliver once from two instances, survive a mail server that is down,
//! and feed calendars.
use carer_friendly::jobs::{Job, run};
use chrono::{DateTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::helpers::*;
use super::smtp::SmtpSink;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

async fn run_job(app: &TestApp, job: Job) -> carer_friendly::jobs::Report {
    run(&app.state, job).await.expect("job runs")
}

fn mails_to(app: &TestApp, to: &str, needle: &str) -> usize {
    app.smtp.all().iter().filter(|m| m.to.iter().any(|t| t.contains(to)) && m.text().contains(needle)).count()
}

/// Waits until the outbox is empty (everything sent), so counts of mails are final.
async fn drained(app: &TestApp) {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    for _ in 0..300 {
        let waiting = carer_friendly::db::entities::outbox::Entity::find()
            .filter(carer_friendly::db::entities::outbox::Column::SentAt.is_null())
            .count(&app.state.db)
            .await
            .unwrap();
        if waiting == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox did not empty");
}

#[tokio::test]
async fn day_of_carers_reminders_fire_at_nine_local_time_once_each_across_the_dst_change() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorgcentrum Het Anker", "dc").await;
    // 13 October is summer time (UTC+2): 09:00 in Amsterdam is 07:00 UTC.
    app.clock.set(utc(2026, 10, 13, 6, 59));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 0, "not before nine");
    app.clock.set(utc(2026, 10, 13, 7, 0));
    let r = run_job(&app, Job::DayOfCarers).await;
    assert_eq!((r.done, r.notices), (1, 1));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 0, "the same period is not done twice");
    app.smtp.wait_for("hr-dc@example.org", "Over 28 dagen is het Dag van de Mantelzorg").await;
    // 3 November is winter time (UTC+1): 09:00 is now 08:00 UTC.
    app.clock.set(utc(2026, 11, 3, 7, 59));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 0, "08:59 local is not nine");
    app.clock.set(utc(2026, 11, 3, 8, 0));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 1);
    app.smtp.wait_for("hr-dc@example.org", "Over 7 dagen is het Dag van de Mantelzorg").await;
    drained(&app).await;
    assert_eq!(mails_to(&app, "hr-dc@example.org", "Dag van de Mantelzorg"), 2);
    let inbox = s.hr_api.get_json("/inbox").await;
    assert_eq!(inbox["unread"], 2);
    assert!(inbox["messages"][0]["body"].as_str().unwrap().contains("10 november 2026"));
}

#[tokio::test]
async fn on_the_day_of_carers_the_yearly_item_asks_for_fresh_evidence() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Gemeente Dijkstad", "yd").await;
    let borgen = s.hr_api.get_json(&format!("/organisations/{}/checklists/borgen", s.org_id)).await;
    let yearly = borgen["items"].as_array().unwrap().iter().find(|i| i["key"] == "yearly-attention").unwrap()["id"]
        .as_i64()
        .unwrap();
    s.hr_api.add_note(yearly, "Lunch 2025", "Lunch voor mantelzorgers").await;
    s.hr_api.transition(yearly, "submit", None).await;
    assert_eq!(s.advisor.transition(yearly, "accept", None).await.status(), StatusCode::OK);
    // Downtime over the day itself: the run two days later still does it, once.
    app.clock.set(utc(2026, 11, 12, 10, 0));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 1);
    assert_eq!(s.hr_api.get_json(&format!("/items/{yearly}")).await["item"]["status"], "due");
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 0);
    app.smtp.wait_for("hr-yd@example.org", "vraagt om nieuw bewijs voor dit jaar").await;
    drained(&app).await;
    assert_eq!(mails_to(&app, "hr-yd@example.org", "Leg vast wat"), 1);
    let late = mails_to(&app, "hr-yd@example.org", "dagen is het Dag van de Mantelzorg");
    assert_eq!(late, 0, "the missed 4- and 1-week reminders are not sent late");
    let history = s.hr_api.get_json(&format!("/items/{yearly}")).await["history"].clone();
    assert!(history.to_string().contains("Dag van de Mantelzorg 2026"), "{history}");
}

#[tokio::test]
async fn after_weeks_of_downtime_the_missed_runs_are_caught_up_once() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Bouwbedrijf Van Dam", "cu").await;
    let items = s.hr_api.item_ids(s.org_id, "bespreken").await;
    // One item waits for the advisor; one accepted item has evidence valid until 30 April.
    s.hr_api.add_note(items[0], "Notulen", "MT").await;
    s.hr_api.transition(items[0], "submit", None).await;
    s.hr_api
        .post(
            &format!("/items/{}/evidence", items[1]),
            json!({ "kind": "note", "title": "Enquête 2025", "note": "Uitkomsten", "valid_until": "2026-04-30" }),
        )
        .await;
    s.hr_api.transition(items[1], "submit", None).await;
    s.advisor.transition(items[1], "accept", None).await;

    // The weekly digest: Monday 08:00 in Amsterdam (07:00 UTC in winter).
    app.clock.set(utc(2026, 3, 9, 6, 59));
    assert_eq!(run_job(&app, Job::AdvisorDigest).await.done, 0);
    app.clock.set(utc(2026, 3, 9, 7, 0));
    assert_eq!(run_job(&app, Job::AdvisorDigest).await.notices, 1);
    // Three weeks without any instance running: one digest for the current week, not three.
    app.clock.set(utc(2026, 3, 31, 10, 0));
    let r = run_job(&app, Job::AdvisorDigest).await;
    assert_eq!((r.done, r.notices), (1, 1));
    assert_eq!(run_job(&app, Job::AdvisorDigest).await.done, 0);

    // Evidence lapsing: the 30- and 7-day steps were missed; one reminder (7 days) is sent.
    app.clock.set(utc(2026, 4, 28, 9, 0));
    assert_eq!(run_job(&app, Job::EvidenceLapsing).await.notices, 1);
    assert_eq!(run_job(&app, Job::EvidenceLapsing).await.notices, 0);
    app.clock.set(utc(2026, 4, 29, 9, 0));
    assert_eq!(run_job(&app, Job::EvidenceLapsing).await.notices, 1, "the 1-day step");
    // On the day it falls back to due.
    app.clock.set(utc(2026, 4, 30, 9, 0));
    assert_eq!(run_job(&app, Job::EvidenceLapsing).await.notices, 1);
    assert_eq!(s.hr_api.get_json(&format!("/items/{}", items[1])).await["item"]["status"], "due");
    app.clock.set(utc(2026, 5, 8, 9, 0));
    assert_eq!(run_job(&app, Job::EvidenceLapsing).await.notices, 0, "a lapsed item is not reminded again");

    drained(&app).await;
    assert_eq!(mails_to(&app, "advisor-cu@example.org", "ter beoordeling"), 2);
    assert_eq!(mails_to(&app, "hr-cu@example.org", "Enqu"), 3);
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_reminder_once() {
    let every_second = |c: &mut carer_friendly::config::Config| c.jobs_heartbeat = "* * * * * *".into();
    let a = TestApp::spawn_configured(SmtpSink::running().await, fresh_database_url().await, every_second).await;
    let s = a.organisation_with_people("Twee Servers BV", "ti").await;
    let sink = a.smtp.url();
    let b = TestApp::spawn_configured(SmtpSink::down().await, a.database_url.clone(), |c| {
        every_second(c);
        c.smtp_url = Some(sink);
    })
    .await;
    // Both schedulers wake every second and see the same period come due at the same moment.
    let at = utc(2026, 10, 13, 7, 0);
    a.clock.set(at);
    b.clock.set(at);
    a.smtp.wait_for("hr-ti@example.org", "Over 28 dagen").await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    drained(&a).await;
    assert_eq!(mails_to(&a, "hr-ti@example.org", "Over 28 dagen"), 1);
    // In the inbox once too (beside it, the yearly pulse's suggestion of 29 September, once).
    let inbox = s.hr_api.get_json("/inbox").await;
    let kinds: Vec<&str> = inbox["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "day_of_carers").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "pulse_suggested").count(), 1, "{kinds:?}");
}

#[tokio::test]
async fn with_the_mail_server_down_a_reminder_waits_and_is_delivered_once_when_it_is_back() {
    let mut app = TestApp::spawn().await;
    let s = app.organisation_with_people("Uitzendbureau Stip", "sd").await;
    app.smtp.stop();
    app.clock.set(utc(2026, 10, 13, 7, 0));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.notices, 1);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mails_to(&app, "hr-sd@example.org", "Over 28 dagen"), 0);
    assert_eq!(s.hr_api.get_json("/inbox").await["unread"], 1, "the inbox has it already");
    let operator = app.login_as("operator@example.org").await;
    let jobs = operator.get_html("/operator/jobs").await;
    assert!(jobs.contains("hr-sd@example.org"), "the operator sees the failed mail");
    app.smtp.start().await;
    app.clock.advance(chrono::Duration::hours(2));
    app.smtp.wait_for("hr-sd@example.org", "Over 28 dagen").await;
    drained(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mails_to(&app, "hr-sd@example.org", "Over 28 dagen"), 1);
}

#[tokio::test]
async fn the_calendar_feed_parses_and_a_new_secret_retires_the_old_url() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Thuiszorg Kompas", "ic").await;
    let items = s.hr_api.item_ids(s.org_id, "borgen").await;
    s.hr_api.patch(&format!("/items/{}", items[0]), json!({ "due_date": "2026-06-15" })).await;
    let r = s.hr_api.post(&format!("/organisations/{}/calendar", s.org_id), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let url = r.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    let feed = reqwest::get(&url).await.unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = feed.text().await.unwrap();
    let cal: icalendar::Calendar = text.parse().expect("a valid iCalendar file");
    use icalendar::Component;
    let events: Vec<&icalendar::Event> = cal.components.iter().filter_map(|c| c.as_event()).collect();
    let summaries: Vec<String> = events.iter().filter_map(|e| e.get_summary().map(str::to_string)).collect();
    assert!(summaries.iter().any(|s| s.starts_with("Dag van de Mantelzorg")), "{summaries:?}");
    let due = events.iter().find(|e| e.get_summary().is_some_and(|s| s.starts_with("Deadline"))).expect("the due item");
    assert_eq!(
        due.get_start(),
        Some(icalendar::DatePerhapsTime::Date(chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()))
    );
    let _ = events.iter().map(|e| e.get_uid()).collect::<Vec<_>>();
    // A new secret: the old URL is gone, the new one works.
    let new =
        s.hr_api.post(&format!("/organisations/{}/calendar", s.org_id), json!({})).await.json::<Value>().await.unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(reqwest::get(new["url"].as_str().unwrap()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        reqwest::get(format!("{}/calendar/nonsense.ics", app.address)).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // A director may not make the organisation's feed.
    let personal = s.advisor.post("/me/calendar", json!({})).await.json::<Value>().await.unwrap();
    assert_eq!(reqwest::get(personal["url"].as_str().unwrap()).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        s.advisor.post(&format!("/organisations/{}/calendar", s.org_id), json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_organisation_adds_its_own_moment_with_a_checked_rule_and_chooses_what_comes_by_email() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Zorgboerderij De Hoeve", "cm").await;
    let path = format!("/organisations/{}/attention-moments", s.org_id);
    let bad = s
        .hr_api
        .post(
            &path,
            json!({ "title": "Koffie", "message": "Mantelzorgcafé", "rule": "elke week", "recipients": ["hr_lead"] }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.json::<Value>().await.unwrap();
    assert!(body.to_string().contains("rule"), "{body}");
    let too_often = s
        .hr_api
        .post(&path, json!({ "title": "x", "message": "y", "rule": "*/10 * * * *", "recipients": ["hr_lead"] }))
        .await;
    assert_eq!(too_often.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = s.hr_api.post(&path, json!({ "title": "Mantelzorgcafé", "message": "Koffie met werkende mantelzorgers.", "rule": "monthly 15", "recipients": ["hr_lead"] })).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.json::<Value>().await.unwrap()["next"], "2026-03-15T08:00:00+00:00");

    app.clock.set(utc(2026, 3, 15, 8, 0));
    assert_eq!(run_job(&app, Job::CustomMoments).await.notices, 1);
    app.smtp.wait_for("hr-cm@example.org", "Koffie met werkende mantelzorgers").await;
    // HR turns this kind off by e-mail: April's moment is in the inbox only.
    let r = s
        .hr_api
        .client
        .put(format!("{}/api/v1/me/reminder-preferences", app.address))
        .bearer_auth(&s.hr_api.token)
        .json(&json!({ "email": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let written: serde_json::Value = r.json().await.unwrap();
    assert_eq!(written, s.hr_api.get_json("/me/reminder-preferences").await, "the write answers as the read");
    app.clock.set(utc(2026, 4, 15, 7, 0));
    assert_eq!(run_job(&app, Job::CustomMoments).await.notices, 1);
    drained(&app).await;
    assert_eq!(mails_to(&app, "hr-cm@example.org", "Koffie met werkende mantelzorgers"), 1);
    assert_eq!(s.hr_api.get_json("/inbox").await["unread"], 2);
    // Role-bound reminders stay on.
    let prefs = s.hr_api.get_json("/me/reminder-preferences").await;
    let recognition = prefs.as_array().unwrap().iter().find(|p| p["kind"] == "recognition_expiry").unwrap();
    assert_eq!((recognition["email"].clone(), recognition["required"].clone()), (json!(true), json!(true)));
}

#[tokio::test]
async fn the_inbox_page_counts_unread_messages_and_marks_them_read() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Kinderopvang Zon", "ip").await;
    app.clock.set(utc(2026, 10, 13, 7, 0));
    run_job(&app, Job::DayOfCarers).await;
    // Months later: a fresh login.
    let hr = app.login_as("hr-ip@example.org").await;
    let html = hr.get_html("/inbox").await;
    assert!(html.contains("Over 28 dagen is het Dag van de Mantelzorg"));
    assert!(html.contains("1 ongelezen"), "unread count in the header");
    let r = hr.submit("/inbox", "/inbox/read", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!hr.get_html("/inbox").await.contains("ongelezen"));
    // Someone else's message is not found.
    let id = s.hr_api.get_json("/inbox").await["messages"][0]["id"].as_i64().unwrap();
    assert_eq!(s.advisor.post(&format!("/inbox/{id}/read"), json!({})).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_operator_sees_the_jobs_and_runs_one_now_others_may_not() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Logistiek Noord", "op").await;
    app.clock.set(utc(2026, 10, 13, 7, 0));
    let operator = app.login_as("operator@example.org").await;
    let page = operator.get_html("/operator/jobs").await;
    for job in Job::ALL {
        assert!(page.contains(job.name()), "{}", job.name());
    }
    let r = operator.submit("/operator/jobs", "/operator/jobs/day-of-carers/run", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("1 periode gedaan, 1 herinnering, 0 mislukt"));
    app.smtp.wait_for("hr-op@example.org", "Over 28 dagen").await;
    assert_eq!(app.login_as("hr-op@example.org").await.get("/operator/jobs").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.hr_api.post("/jobs/day-of-carers/run", json!({})).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn run_job_on_the_command_line_names_the_jobs_and_runs_them() {
    let app = TestApp::spawn().await;
    app.organisation_with_people("Drukkerij Letter", "cl").await;
    // The SMTP sink runs on this test's runtime: wait for the command without blocking it.
    let bin = env!("CARGO_BIN_EXE_carer-friendly");
    let out = tokio::process::Command::new(bin)
        .args(["run-job", "nonsense"])
        .env("DATABASE_URL", &app.database_url)
        .env("SMTP_URL", app.smtp.url())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("day-of-carers"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = tokio::process::Command::new(bin)
        .args(["run-job", "all"])
        .env("DATABASE_URL", &app.database_url)
        .env("SMTP_URL", app.smtp.url())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for job in Job::ALL {
        assert!(stdout.contains(job.name()), "{stdout}");
    }
}

#[tokio::test]
async fn evidence_accepted_since_the_four_week_reminder_counts_as_this_years() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Apotheek Kruidvat", "sy").await;
    let borgen = s.hr_api.get_json(&format!("/organisations/{}/checklists/borgen", s.org_id)).await;
    let yearly = borgen["items"].as_array().unwrap().iter().find(|i| i["key"] == "yearly-attention").unwrap()["id"]
        .as_i64()
        .unwrap();
    app.clock.set(utc(2026, 10, 20, 10, 0));
    s.hr_api.add_note(yearly, "Lunch 2026", "Lunch op 10 november gepland en gehouden").await;
    s.hr_api.transition(yearly, "submit", None).await;
    assert_eq!(s.advisor.transition(yearly, "accept", None).await.status(), StatusCode::OK);
    app.clock.set(utc(2026, 11, 10, 8, 0));
    assert_eq!(run_job(&app, Job::DayOfCarers).await.done, 1);
    assert_eq!(s.hr_api.get_json(&format!("/items/{yearly}")).await["item"]["status"], "accepted");
    let mail = app.smtp.wait_for("hr-sy@example.org", "Leg vast wat").await;
    assert!(!mail.text().contains("vraagt om nieuw bewijs"), "{}", mail.text());
}

#[tokio::test]
async fn attention_settings_with_a_bad_month_or_zone_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Transport Oost", "st").await;
    let page = format!("/organisations/{}/attention", s.org_id);
    let action = format!("{page}/settings");
    let fields = [("appraisal_month", "dertien"), ("manager_briefing_years", "2"), ("timezone", "Europe/Amsterdam")];
    let r = s.hr.submit(&page, &action, &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Kies een maand."));
    let r =
        s.hr.submit(
            &page,
            &action,
            &[("appraisal_month", "9"), ("manager_briefing_years", "2"), ("timezone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Onbekende tijdzone"));
    let r =
        s.hr.submit(
            &page,
            &action,
            &[("appraisal_month", "9"), ("manager_briefing_years", "3"), ("timezone", "Europe/Amsterdam")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = s.hr.get_html(r.headers()["location"].to_str().unwrap()).await;
    assert!(html.contains("Gesprekscyclus in september"), "saved after the refused attempts");
    assert!(html.contains("Instellingen opgeslagen."), "and the page says so");
}

#[tokio::test]
async fn a_reminder_leads_each_person_to_a_page_they_may_open() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Links BV", "links").await;
    let r = s
        .hr_api
        .post(
            &format!("/organisations/{}/invitations", s.org_id),
            json!({ "email": "chef@links.example", "name": "Chef", "role": "manager" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let manager = app.accept_invitation("chef@links.example", "Chef").await;
    let url = format!("{}/organisations/{}/attention-settings", s.hr_api.base, s.org_id);
    let body = json!({ "timezone": "Europe/Amsterdam", "appraisal_month": 3, "manager_briefing_years": 2 });
    let r = s.hr_api.client.put(url).bearer_auth(&s.hr_api.token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // The appraisal cycle reaches HR and managers in March.
    assert_eq!(run_job(&app, Job::AppraisalCycle).await.notices, 2);
    let notes = carer_friendly::db::entities::notification::Entity::find()
        .filter(carer_friendly::db::entities::notification::Column::Kind.eq("appraisal_cycle"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(notes.len(), 2);
    for n in notes {
        let link = n.link.clone().unwrap();
        let path = link.strip_prefix(&app.address).unwrap_or(&link).to_string();
        let who = if n.user_id == s.hr_api.get_json("/me").await["id"].as_i64().unwrap() { &s.hr } else { &manager };
        assert_eq!(who.get(&path).await.status(), StatusCode::OK, "{path} opens for user {}", n.user_id);
        if std::ptr::eq(who, &manager) {
            assert!(path.ends_with("/passport"), "the manager goes to their team's passports: {path}");
        } else {
            assert!(path.ends_with("/checklists/borgen"), "HR goes to the worksheet: {path}");
        }
    }
}

#[tokio::test]
async fn a_heartbeat_with_nothing_left_to_do_takes_the_same_number_of_queries_for_more_organisations() {
    // The outbox sender stays quiet, so the query counter sees only the jobs.
    let app = TestApp::spawn_configured(SmtpSink::running().await, fresh_database_url().await, |c| {
        c.outbox_interval_ms = 3_600_000
    })
    .await;
    let s = app.organisation_with_people("Eerste Stichting", "hq").await;
    let op = app.login_as("operator@example.org").await.api_token("orgs").await;
    let advisor_id = s.advisor.get_json("/me").await["id"].clone();
    // On the Day of Carers most jobs have a period due for every organisation.
    app.clock.set(utc(2026, 11, 10, 12, 0));
    let settled_heartbeat = || async {
        for job in Job::ALL {
            run_job(&app, job).await;
        }
        let before = app.state.query_count();
        for job in Job::ALL {
            let r = run_job(&app, job).await;
            assert_eq!((r.done, r.failed), (0, 0), "{job:?} had work left");
        }
        app.state.query_count() - before
    };
    let one = settled_heartbeat().await;
    for i in 0..6 {
        let o = op.post("/organisations", json!({ "name": format!("Extra {i}") })).await.json::<Value>().await.unwrap();
        op.post(&format!("/organisations/{}/advisors", o["id"]), json!({ "advisor_id": advisor_id })).await;
    }
    let seven = settled_heartbeat().await;
    assert_eq!(one, seven, "queries of a settled heartbeat grow with the organisations");
}
