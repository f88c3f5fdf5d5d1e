use reqwest::StatusCode;

use super::helpers::*;
use super::smtp::SmtpSink;

#[tokio::test]
async fn a_changed_checklist_keeps_the_answers_of_a_removed_item_and_adds_the_new_one() {
    let app = TestApp::spawn().await;
    let s = app.organisation_with_people("Versie BV", "v").await;
    let sheet = s.hr_api.get_json(&format!("/organisations/{}/checklists/bespreken", s.org_id)).await;
    let removed = sheet["items"].as_array().unwrap().iter().find(|i| i["key"] == "works-council").unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(s.hr_api.add_note(removed, "OR-agenda", "Op de agenda van 4 maart.").await.status(), StatusCode::OK);

    // A new version of Bespreken: the works-council item is gone, another one is new.
    let dir = std::env::temp_dir().join(format!("cf-checklists-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/checklists")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let path = dir.join("bespreken.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("key = \"works-council\"").unwrap();
    let block_start = text[..start].rfind("[[items]]").unwrap();
    let block_end = text[start..].find("[[items]]").map(|e| start + e).unwrap_or(text.len());
    let new_item = "[[items]]\nkey = \"buddy-system\"\ntext = { nl = \"Er is een maatjessysteem.\", en = \"There is a buddy system.\" }\n\
                    guidance = { nl = \"g\", en = \"g\" }\nevidence = { nl = \"e\", en = \"e\" }\n\n";
    let changed = format!("{}{}{}", &text[..block_start], new_item, &text[block_end..])
        .replace("version = \"2026.1\"", "version = \"2026.2\"");
    std::fs::write(&path, changed).unwrap();

    let dir_s = dir.display().to_string();
    let second = TestApp::spawn_configured(SmtpSink::running().await, app.database_url.clone(), |c| {
        c.checklists_dir = Some(dir_s)
    })
    .await;
    let api = ApiClient {
        client: reqwest::Client::new(),
        base: format!("{}/api/v1", second.address),
        token: s.hr_api.token.clone(),
    };
    let sheet = api.get_json(&format!("/organisations/{}/checklists/bespreken", s.org_id)).await;
    let keys: Vec<_> =
        sheet["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap().to_string()).collect();
    assert!(keys.contains(&"buddy-system".to_string()) && !keys.contains(&"works-council".to_string()));
    assert_eq!(sheet["checklist"]["version"], "2026.2");
    assert_eq!(sheet["archived"][0]["id"], removed);
    assert_eq!(sheet["archived"][0]["evidence_count"], 1);
    let archived = api.get_json(&format!("/items/{removed}")).await;
    assert_eq!(archived["evidence"][0]["note"], "Op de agenda van 4 maart.");
    assert_eq!(sheet["checklist"]["progress"]["total"], 6, "archived items do not count");
}

#[tokio::test]
async fn a_malformed_checklist_stops_the_start_with_file_line_and_problem() {
    let dir = std::env::temp_dir().join(format!("cf-bad-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/checklists")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let path = dir.join("borgen.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n[[items]]\nkey = \"broken\nrecurrence = \"yearly\"\n");
    let lines = text.lines().count();
    std::fs::write(&path, text).unwrap();
    let mut config = carer_friendly::config::Config::for_database(&fresh_database_url().await);
    config.checklists_dir = Some(dir.display().to_string());
    let clock = std::sync::Arc::new(carer_friendly::clock::SystemClock);
    let err = match carer_friendly::startup::Application::build(config, clock, "127.0.0.1:0").await {
        Ok(_) => panic!("a broken checklist must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("borgen.toml"), "{err}");
    assert!(err.contains(&format!(":{}:", lines - 1)), "names the line: {err}");
}
