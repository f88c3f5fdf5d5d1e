//! Demo data: three showcase organisations at different stages, or N organisations with
//! realistic evidence for measuring speed. Written straight into the tables (with the same
//! history rows the workflow writes), because the services would send invitation mails; the
//! passport goes through its service, which encrypts it.
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::db::entities::{
    carer_consent, evidence, item, item_transition, organisation, passport, reporting_line, user,
};
use crate::db::write_txn;
use crate::domain::checklist::Recurrence;
use crate::domain::passport::{Arrangement, Content};
use crate::domain::policy::Actor;
use crate::domain::role::Role;
use crate::domain::workflow::ItemStatus;
use crate::services::accounts::assign_advisor_in;
use crate::services::assessment::add_items;
use crate::services::crypto::{hash_password, sha256_hex};
use crate::services::passport::{self as passports, ConsentChoice, Draft};
use crate::state::AppState;

pub const DEMO_PASSWORD: &str = "mantelzorg-demo";

/// The half-way organisation's HR lead, and the manager and carer added to that organisation.
const TEAM_HR: &str = "hr@rivierstad.demo";
const TEAM: [(&str, &str, Role); 2] = [
    ("leidinggevende@rivierstad.demo", "Mehmet Yilmaz (leidinggevende)", Role::Manager),
    ("medewerker@rivierstad.demo", "Sanne Visser (mantelzorger)", Role::Employee),
];

async fn add_user(
    txn: &DatabaseTransaction,
    email: &str,
    name: &str,
    role: Role,
    org: Option<i64>,
    hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let u = user::ActiveModel {
        email: Set(email.into()),
        name: Set(name.into()),
        role: Set(role.as_str().into()),
        organisation_id: Set(org),
        password_hash: Set(Some(hash.into())),
        locale: Set("nl".into()),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(u.id)
}

async fn add_organisation(
    txn: &DatabaseTransaction,
    state: &AppState,
    name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let org = organisation::ActiveModel {
        name: Set(name.into()),
        timezone: Set(crate::services::organisations::DEFAULT_TIMEZONE.into()),
        appraisal_month: Set(Some(3)),
        manager_briefing_years: Set(2),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    // Progress is counted once the items have their demo statuses (`store`).
    add_items(txn, &state.checklists, &[org.id], now).await?;
    Ok(org.id)
}

/// The steps that lead from open to `target`, with who takes them.
fn path_to(target: ItemStatus) -> Vec<(ItemStatus, ItemStatus, bool)> {
    use ItemStatus as S;
    // (from, to, by the advisor)
    let start = (S::Open, S::InProgress, false);
    let submit = (S::InProgress, S::Submitted, false);
    match target {
        S::Open => vec![],
        S::InProgress => vec![start],
        S::Submitted => vec![start, submit],
        S::ChangesRequested => vec![start, submit, (S::Submitted, S::ChangesRequested, true)],
        S::Accepted => vec![start, submit, (S::Submitted, S::Accepted, true)],
        S::NotApplicableProposed => vec![(S::Open, S::NotApplicableProposed, false)],
        S::NotApplicable => {
            vec![(S::Open, S::NotApplicableProposed, false), (S::NotApplicableProposed, S::NotApplicable, true)]
        }
        S::Due => vec![start, submit, (S::Submitted, S::Accepted, true), (S::Accepted, S::Due, false)],
    }
}

const NOTES: [&str; 6] = [
    "Besproken in het managementoverleg; verslag staat op het intranet.",
    "Toegelicht in het teamoverleg van alle afdelingen.",
    "Opgenomen in het personeelshandboek, hoofdstuk Verlof en mantelzorg.",
    "Peiling onder medewerkers: 22% combineert werk en mantelzorg (alleen totalen).",
    "Training gesprekstechniek voor leidinggevenden gegeven door HR.",
    "Aandacht op de Dag van de Mantelzorg: attentie en lunchbijeenkomst.",
];

/// The organisation and the people who move its items.
#[derive(Clone, Copy)]
struct Cast {
    org: i64,
    hr: i64,
    advisor: i64,
}

struct Population {
    org: i64,
    owner: i64,
    /// (item, status, since when)
    items: Vec<(i64, ItemStatus, DateTime<Utc>)>,
    transitions: Vec<item_transition::ActiveModel>,
    evidence: Vec<evidence::ActiveModel>,
}

/// Gives an organisation's items the statuses `plan` chooses, with evidence and history.
async fn populate(
    txn: &DatabaseTransaction,
    state: &AppState,
    who: Cast,
    now: DateTime<Utc>,
    rng: &mut StdRng,
    plan: &mut dyn FnMut(&str, usize, &mut StdRng) -> ItemStatus,
) -> anyhow::Result<Population> {
    let Cast { org, hr, advisor } = who;
    let rows = item::Entity::find().filter(item::Column::OrganisationId.eq(org)).all(txn).await?;
    let mut p = Population { org, owner: hr, items: vec![], transitions: vec![], evidence: vec![] };
    for row in rows {
        let Some(list) = state.checklists.get(&row.checklist_key) else { continue };
        let Some(index) = list.items.iter().position(|i| i.key == row.item_key) else { continue };
        let target = plan(&list.key, index, rng);
        let steps = path_to(target);
        if steps.is_empty() {
            continue;
        }
        // The yearly-attention item shows this year's evidence (recent), so the Day of Carers job
        // does not ask for it again right after the demo is loaded.
        let back = if row.item_key == "yearly-attention" { rng.random_range(3..6) } else { rng.random_range(20..120) };
        let mut t = now - Duration::days(back) - Duration::minutes(rng.random_range(0..600));
        let recurring = list.items[index].recurrence.is_some_and(|r| r != Recurrence::AppraisalCycle);
        if steps[0].1 == ItemStatus::InProgress {
            let note = NOTES[rng.random_range(0..NOTES.len())];
            p.evidence.push(evidence::ActiveModel {
                item_id: Set(row.id),
                kind: Set("note".into()),
                title: Set("Toelichting".into()),
                note: Set(Some(note.into())),
                url: Set(None),
                file_id: Set(None),
                sha256: Set(sha256_hex(note.as_bytes())),
                valid_from: Set(Some(t.date_naive())),
                valid_until: Set(recurring.then(|| (t + Duration::days(365)).date_naive())),
                created_by: Set(hr),
                created_at: Set(t),
                replaces_id: Set(None),
                superseded_at: Set(None),
                ..Default::default()
            });
        }
        for (from, to, by_advisor) in &steps {
            t += Duration::days(rng.random_range(1..12));
            if t > now {
                t = now - Duration::hours(1);
            }
            let reason = match to {
                ItemStatus::ChangesRequested => Some("Graag een verslag of document als bewijs toevoegen.".to_string()),
                ItemStatus::NotApplicableProposed => Some("Past niet bij onze kleine organisatie.".to_string()),
                _ => None,
            };
            p.transitions.push(item_transition::ActiveModel {
                item_id: Set(row.id),
                from_status: Set(from.as_str().into()),
                to_status: Set(to.as_str().into()),
                actor_id: Set(Some(if *by_advisor { advisor } else { hr })),
                reason: Set(reason),
                created_at: Set(t),
                ..Default::default()
            });
        }
        p.items.push((row.id, target, t));
    }
    Ok(p)
}

async fn store(txn: &DatabaseTransaction, state: &AppState, p: Population) -> anyhow::Result<()> {
    // All the organisation's items in one UPDATE (`CASE id WHEN …`): one statement per item
    // made most of the load's time at 10,000 organisations; deleting and inserting them again
    // made PostgreSQL check every table referring to items.
    if !p.items.is_empty() {
        let (mut status, mut since) = (CaseStatement::new(), CaseStatement::new());
        for (id, s, t) in &p.items {
            status = status.case(item::Column::Id.eq(*id), Expr::val(s.as_str()));
            since = since.case(item::Column::Id.eq(*id), Expr::val(*t));
        }
        item::Entity::update_many()
            .col_expr(item::Column::Status, status.finally(Expr::col(item::Column::Status)).into())
            .col_expr(item::Column::StatusChangedAt, since.finally(Expr::col(item::Column::StatusChangedAt)).into())
            .col_expr(item::Column::OwnerId, Expr::val(p.owner))
            .filter(item::Column::Id.is_in(p.items.iter().map(|(id, _, _)| *id)))
            .exec(txn)
            .await?;
    }
    for chunk in p.transitions.chunks(500) {
        item_transition::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    for chunk in p.evidence.chunks(300) {
        evidence::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    crate::services::progress::refresh(txn, &state.checklists, &[p.org]).await?;
    Ok(())
}

/// PostgreSQL plans from table statistics that autovacuum gathers only some time after a bulk
/// load; until then it estimated `item_transitions` at half its rows and scanned it whole for
/// every director's dashboard (21 ms instead of 0.3 ms at 1,000 organisations). Only after the
/// bulk load: statistics of nearly empty tables, taken before it, made every query of the load
/// scan whole tables. SQLite plans well without statistics here (and worse for the review queue
/// with them), so it gets none.
async fn refresh_statistics(state: &AppState) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    if state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    Ok(())
}

async fn already_loaded(state: &AppState, email: &str) -> anyhow::Result<bool> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email)).count(&state.db).await? > 0)
}

pub async fn load_showcase(state: &AppState) -> anyhow::Result<String> {
    let accounts = [
        ("operator@demo.example", "Olga Operator", Role::Operator, None),
        ("adviseur@demo.example", "Ada Adviseur", Role::Advisor, None),
        ("hr@korenschoof.demo", "Karin de Bakker (HR)", Role::HrLead, Some(0)),
        ("hr@rivierstad.demo", "Ruben Veldman (HR)", Role::HrLead, Some(1)),
        ("directie@rivierstad.demo", "Dineke Rijpma (directie)", Role::Director, Some(1)),
        ("hr@lindehof.demo", "Lotte Jansen (HR)", Role::HrLead, Some(2)),
        ("directie@lindehof.demo", "Daan Hofman (directie)", Role::Director, Some(2)),
    ];
    let mut out = String::new();
    if already_loaded(state, accounts[0].0).await? {
        out.push_str("The demo data is already loaded.\n");
    } else {
        let now = state.now();
        let hash = hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
        let txn = write_txn(&state.db).await?;
        let names = ["Bakkerij De Korenschoof", "Gemeente Rivierstad", "Zorggroep Lindehof"];
        let mut orgs = vec![];
        for n in names {
            orgs.push(add_organisation(&txn, state, n, now - Duration::days(150)).await?);
        }
        let mut ids = vec![];
        for (email, name, role, org) in &accounts {
            ids.push(add_user(&txn, email, name, *role, org.map(|i| orgs[i]), &hash, now - Duration::days(150)).await?);
        }
        let advisor = ids[1];
        for &org in &orgs {
            assign_advisor_in(&txn, advisor, org, now).await?;
        }
        let mut rng = StdRng::seed_from_u64(2026);
        use ItemStatus as S;
        // Just started: a few items in progress.
        let p = populate(&txn, state, Cast { org: orgs[0], hr: ids[2], advisor }, now, &mut rng, &mut |list, i, _| {
            if list == "bespreken" && i < 3 { S::InProgress } else { S::Open }
        })
        .await?;
        store(&txn, state, p).await?;
        // Half-way: Bespreken done, Beschrijven waiting for review, Bekwamen under way.
        let p = populate(&txn, state, Cast { org: orgs[1], hr: ids[3], advisor }, now, &mut rng, &mut |list, i, _| {
            match list {
                "bespreken" => S::Accepted,
                "beschrijven" if i < 2 => S::Accepted,
                "beschrijven" => S::Submitted,
                "bekwamen" if i == 0 => S::ChangesRequested,
                "bekwamen" if i < 3 => S::InProgress,
                "borgen" if i == 0 => S::NotApplicableProposed,
                _ => S::Open,
            }
        })
        .await?;
        store(&txn, state, p).await?;
        // All four pillars complete; Going-Ahead under way.
        let p = populate(&txn, state, Cast { org: orgs[2], hr: ids[5], advisor }, now, &mut rng, &mut |list, i, _| {
            match list {
                "going-ahead" if i < 6 => S::Accepted,
                "going-ahead" if i < 9 => S::Submitted,
                "going-ahead" => S::Open,
                _ => S::Accepted,
            }
        })
        .await?;
        store(&txn, state, p).await?;
        txn.commit().await?;
        out.push_str("Demo data loaded: three organisations (just started, half-way, all pillars complete).\n");
    }
    ensure_team(state).await?;
    ensure_pulse(state).await?;
    out.push_str(&format!("\nLog in at {}/login with password \"{DEMO_PASSWORD}\":\n", state.public_url()));
    let team = TEAM.iter().map(|(email, name, role)| (*email, *name, *role));
    for (email, name, role) in accounts.iter().map(|(e, n, r, _)| (*e, *n, *r)).chain(team) {
        out.push_str(&format!("  {email:<32} {name} ({})\n", role.as_str()));
    }
    Ok(out)
}

/// A manager and a carer on their line, whose passport both have confirmed, in the half-way
/// organisation: so every role has a demo login with something to show. Each step is taken
/// only when missing, so demo data loaded before the team existed gets it too.
async fn ensure_team(state: &AppState) -> anyhow::Result<()> {
    let Some(hr) = user::Entity::find().filter(user::Column::Email.eq(TEAM_HR)).one(&state.db).await? else {
        return Ok(());
    };
    let Some(org) = hr.organisation_id else { return Ok(()) };
    let now = state.now();
    let mut ids = vec![];
    for (email, name, role) in TEAM {
        let id = match user::Entity::find().filter(user::Column::Email.eq(email)).one(&state.db).await? {
            Some(u) => u.id,
            None => {
                let hash = hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
                let txn = write_txn(&state.db).await?;
                let id = add_user(&txn, email, name, role, Some(org), &hash, now - Duration::days(120)).await?;
                txn.commit().await?;
                id
            }
        };
        ids.push(id);
    }
    let actor = |user_id, role| Actor { user_id, role, organisation_id: Some(org), assigned: Default::default() };
    let (manager, carer) = (actor(ids[0], Role::Manager), actor(ids[1], Role::Employee));
    let on_line = reporting_line::Entity::find().filter(reporting_line::Column::UserId.eq(carer.user_id));
    if on_line.one(&state.db).await?.is_none() {
        let hr = actor(hr.id, Role::HrLead);
        passports::set_reporting_line(
            state,
            &hr,
            org,
            carer.user_id,
            Some(manager.user_id),
            Some("Publiekszaken".into()),
        )
        .await?;
    }
    let consent = carer_consent::Entity::find().filter(carer_consent::Column::UserId.eq(carer.user_id));
    if consent.one(&state.db).await?.is_none() {
        passports::give_consent(state, &carer, ConsentChoice { hr_copy: false, statistics: true }).await?;
    }
    let existing = passport::Entity::find().filter(passport::Column::CarerId.eq(carer.user_id));
    if existing.one(&state.db).await?.is_none() {
        let content = Content {
            situation: "Mijn vader woont alleen en heeft sinds kort hulp nodig bij de boodschappen en doktersbezoek."
                .into(),
            arrangements: vec![
                Arrangement {
                    kind: "phone".into(),
                    details: "Telefoon aan tijdens het werk voor de thuiszorg.".into(),
                },
                Arrangement {
                    kind: "flexible_start".into(),
                    details: "Op dinsdag beginnen tussen 9 en 10 uur.".into(),
                },
            ],
            support: "Steunpunt Mantelzorg Rivierstad".into(),
        };
        let id = passports::create(state, &carer, None, Draft { content, review_date: None }).await?;
        passports::confirm(state, &carer, id, 1).await?;
        passports::confirm(state, &manager, id, 1).await?;
    }
    Ok(())
}

/// A closed employee pulse in the half-way organisation, answered through its open link by
/// fourteen colleagues (through the pulse's own services, as people would), so its figures,
/// trend and evidence can be shown. Only when the organisation has no round yet.
async fn ensure_pulse(state: &AppState) -> anyhow::Result<()> {
    use crate::services::pulse::{self, Access, NewRound};
    let Some(hr) = user::Entity::find().filter(user::Column::Email.eq(TEAM_HR)).one(&state.db).await? else {
        return Ok(());
    };
    let Some(org) = hr.organisation_id else { return Ok(()) };
    let actor = Actor { user_id: hr.id, role: Role::HrLead, organisation_id: Some(org), assigned: Default::default() };
    if !pulse::overview(state, &actor, org).await?.rounds.is_empty() {
        return Ok(());
    }
    let today = state.now().date_naive();
    let new = NewRound {
        closes_on: Some(today + Duration::days(14)),
        by_department: false,
        free_text: true,
        invite: false,
        open_link: true,
    };
    let round = pulse::open(state, &actor, org, new).await?;
    let link = round.open_link.unwrap_or_default();
    let token = link.rsplit('/').next().unwrap_or_default().to_string();
    let cares = ["now", "now", "past", "no", "now", "no", "now", "past", "no", "now", "no", "now", "no", "now"];
    let helps = ["flexible-hours", "leave", "conversation", "information", "remote-work", "network"];
    for (i, c) in cares.iter().enumerate() {
        let mut fields: Vec<(String, String)> = vec![("cares".into(), c.to_string())];
        let mut add = |k: &str, v: &str| fields.push((k.into(), v.into()));
        add("knows-arrangements", ["yes", "partly", "no"][i % 3]);
        add("supported", ["4", "3", "5", "2", "4", "3", "4"][i % 7]);
        if *c == "now" {
            add("hours", ["under-4", "4-8", "8-16"][i % 3]);
            add("manager-knows", ["yes", "partly", "no"][i % 3]);
            add("would-help", helps[i % helps.len()]);
            add("would-help", helps[(i + 2) % helps.len()]);
        } else {
            add("would-help", "nothing");
        }
        if i % 4 == 0 {
            add(
                "comment",
                [
                    "Fijn dat hiernaar gevraagd wordt.",
                    "Meer uitleg over zorgverlof graag.",
                    "Mijn leidinggevende denkt goed mee.",
                    "Een lotgenotengroep zou helpen.",
                ][i / 4],
            );
        }
        let form = crate::services::crypto::random_token();
        let access = Access::Link { token: &token, already: false, form: Some(&form) };
        if let Err(refusal) = pulse::answer(state, &access, &fields).await? {
            anyhow::bail!("a demo answer was refused: {refusal:?}");
        }
    }
    pulse::close(state, Some(&actor), round.round.id, "nl").await?;
    Ok(())
}

/// `n` organisations with a spread of progress, all assigned to one advisor, for benchmarks.
pub async fn load_many(state: &AppState, n: usize) -> anyhow::Result<String> {
    let advisor_email = "portefeuille@demo.example";
    let now = state.now();
    let hash = hash_password(DEMO_PASSWORD).map_err(anyhow::Error::msg)?;
    let existing = organisation::Entity::find().count(&state.db).await? as usize;
    let txn = write_txn(&state.db).await?;
    let advisor = match user::Entity::find().filter(user::Column::Email.eq(advisor_email)).one(&txn).await? {
        Some(u) => u.id,
        None => add_user(&txn, advisor_email, "Pim Portefeuille", Role::Advisor, None, &hash, now).await?,
    };
    txn.commit().await?;
    let mut rng = StdRng::seed_from_u64(n as u64);
    let started = std::time::Instant::now();
    let mut first_director = None;
    for chunk_start in (0..n).step_by(50) {
        let txn = write_txn(&state.db).await?;
        for i in chunk_start..(chunk_start + 50).min(n) {
            let k = existing + i + 1;
            let org = add_organisation(&txn, state, &format!("Organisatie {k:04}"), now - Duration::days(200)).await?;
            let hr =
                add_user(&txn, &format!("hr{k}@org{k}.demo"), &format!("HR {k}"), Role::HrLead, Some(org), &hash, now)
                    .await?;
            add_user(
                &txn,
                &format!("directie{k}@org{k}.demo"),
                &format!("Directie {k}"),
                Role::Director,
                Some(org),
                &hash,
                now,
            )
            .await?;
            first_director.get_or_insert(format!("directie{k}@org{k}.demo"));
            assign_advisor_in(&txn, advisor, org, now).await?;
            // Each organisation is somewhere on its way: the further, the more items accepted.
            let stage: f64 = rng.random_range(0.0..1.0);
            let p = populate(&txn, state, Cast { org, hr, advisor }, now, &mut rng, &mut |_, _, r| {
                let x: f64 = r.random_range(0.0..1.0);
                if x < stage * 0.8 {
                    ItemStatus::Accepted
                } else if x < stage * 0.8 + 0.08 {
                    ItemStatus::Submitted
                } else if x < stage * 0.8 + 0.12 {
                    ItemStatus::ChangesRequested
                } else if x < stage * 0.8 + 0.25 {
                    ItemStatus::InProgress
                } else {
                    ItemStatus::Open
                }
            })
            .await?;
            store(&txn, state, p).await?;
        }
        txn.commit().await?;
    }
    refresh_statistics(state).await?;
    Ok(format!(
        "Created {n} organisations in {:.1} s, all assigned to {advisor_email}.\n\
         Log in at {}/login with password \"{DEMO_PASSWORD}\" as {advisor_email} (portfolio)\n\
         or as {} (a director).\n",
        started.elapsed().as_secs_f64(),
        state.public_url(),
        first_director.unwrap_or_default()
    ))
}
