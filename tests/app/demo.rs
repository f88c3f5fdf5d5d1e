//! The demo data: a log-in for each of the six roles, each landing on its own work, and the
//! manager's team page shows the carer whose passport both confirmed.
use carer_friendly::demo::{DEMO_PASSWORD, load_showcase};
use reqwest::StatusCode;

use super::helpers::*;

#[tokio::test]
async fn the_demo_has_a_login_for_every_role_and_the_manager_sees_the_carers_passport() {
    let app = TestApp::spawn().await;
    let printed = load_showcase(&app.state).await.expect("demo data");
    let logins = [
        ("operator@demo.example", "operator"),
        ("adviseur@demo.example", "advisor"),
        ("hr@rivierstad.demo", "hr_lead"),
        ("directie@rivierstad.demo", "director"),
        ("leidinggevende@rivierstad.demo", "manager"),
        ("medewerker@rivierstad.demo", "employee"),
    ];
    for (email, role) in logins {
        assert!(printed.contains(&format!("({role})")) && printed.contains(email), "{printed}");
        let b = app.browser();
        b.login(email, DEMO_PASSWORD).await;
        let r = b.get("/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(!r.headers()["location"].to_str().unwrap().starts_with("/login"), "{email} is logged in");
    }
    let manager = app.browser();
    manager.login("leidinggevende@rivierstad.demo", DEMO_PASSWORD).await;
    let team = manager.get_html("/passport").await;
    assert!(team.contains("Sanne Visser"), "{team}");
    // Loading again changes nothing and still lists every log-in.
    let again = load_showcase(&app.state).await.expect("demo data again");
    assert!(again.contains("already loaded") && again.contains("medewerker@rivierstad.demo"), "{again}");
}
