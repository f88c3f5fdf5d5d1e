//! Recurring attention. Each job is one variant of `Job` with one run function, called by the
//! scheduler's heartbeat, by `carer-friendly run-job NAME` and by tests. A job works out which
//! periods are due now in each organisation's time zone, claims each (job, period, scope) once
//! (see `claims`), and does its work in the same transaction that marks the claim finished.
//! Missed periods are caught up by the next run: only the latest one of each scope, so a week
//! of downtime brings one reminder, not seven.
pub mod claims;
pub mod scheduler;
mod work;

use serde::Serialize;

use crate::error::AppResult;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    /// Dag van de Mantelzorg (10 November): HR leads four weeks and one week ahead; on the day
    /// the yearly-attention item becomes due for fresh evidence.
    DayOfCarers,
    /// In the organisation's appraisal month: managers and HR put care on the agenda.
    AppraisalCycle,
    /// Every two years (configurable) per manager: tell the team what is possible.
    ManagerBriefing,
    /// Yearly: is the information on the intranet and in the handbook still current?
    HandbookCheck,
    /// Evidence nearing its valid-until (30, 7, 1 days); on the day the item falls back to due.
    EvidenceLapsing,
    /// A recognition nearing its end (90, 30, 7 days): renewal reminders.
    RecognitionExpiry,
    /// Monday morning: what waits for each advisor's review, and for how long.
    AdvisorDigest,
    /// The organisations' own attention moments.
    CustomMoments,
    /// Working Carers Passports whose review date nears: carer and manager (each review once).
    PassportReviews,
    /// The employee pulse: rounds past their closing date close (their result becomes evidence),
    /// and six weeks before the Dag van de Mantelzorg HR is asked to open this year's round.
    Pulse,
    /// Daily: removes expired sessions and links, sent mail, old job runs and read-log entries
    /// past their retention (see the RETENTION_* settings).
    Housekeeping,
}

impl Job {
    pub const ALL: [Job; 11] = [
        Job::DayOfCarers,
        Job::AppraisalCycle,
        Job::ManagerBriefing,
        Job::HandbookCheck,
        Job::EvidenceLapsing,
        Job::RecognitionExpiry,
        Job::AdvisorDigest,
        Job::CustomMoments,
        Job::PassportReviews,
        Job::Pulse,
        Job::Housekeeping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::DayOfCarers => "day-of-carers",
            Job::AppraisalCycle => "appraisal-cycle",
            Job::ManagerBriefing => "manager-briefing",
            Job::HandbookCheck => "handbook-check",
            Job::EvidenceLapsing => "evidence-lapsing",
            Job::RecognitionExpiry => "recognition-expiry",
            Job::AdvisorDigest => "advisor-digest",
            Job::CustomMoments => "custom-moments",
            Job::PassportReviews => "passport-reviews",
            Job::Pulse => "pulse",
            Job::Housekeeping => "housekeeping",
        }
    }

    pub fn parse(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|j| j.name() == name.trim())
    }

    pub fn names() -> String {
        Job::ALL.map(Job::name).join(", ")
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub job: &'static str,
    /// Periods claimed and done by this run.
    pub done: usize,
    /// Reminders stored (in-app) by this run; the e-mails follow through the outbox.
    pub notices: usize,
    /// Periods whose work failed; they are retried by the next run.
    pub failed: usize,
}

pub async fn run(state: &AppState, job: Job) -> AppResult<Report> {
    let result = run_job(state, job).await;
    state.metrics.job_run(job.name(), result.as_ref().is_ok_and(|r| r.failed == 0));
    result
}

async fn run_job(state: &AppState, job: Job) -> AppResult<Report> {
    let mut report = Report { job: job.name(), ..Default::default() };
    match job {
        Job::DayOfCarers => work::day_of_carers(state, &mut report).await?,
        Job::AppraisalCycle => work::appraisal_cycle(state, &mut report).await?,
        Job::ManagerBriefing => work::manager_briefing(state, &mut report).await?,
        Job::HandbookCheck => work::handbook_check(state, &mut report).await?,
        Job::EvidenceLapsing => work::evidence_lapsing(state, &mut report).await?,
        Job::RecognitionExpiry => {
            work::recognition_expiry(state, &mut report).await?;
            // Standing changes (lapsed, expired) are recorded here, not when a page is read.
            crate::services::recognition::record_standings(state).await?;
        }
        Job::AdvisorDigest => work::advisor_digest(state, &mut report).await?,
        Job::CustomMoments => work::custom_moments(state, &mut report).await?,
        Job::Pulse => work::pulse(state, &mut report).await?,
        Job::Housekeeping => work::housekeeping(state, &mut report).await?,
        // Claims each (passport, review date) in its own table.
        Job::PassportReviews => {
            report.notices = crate::services::passport::send_review_reminders(state).await?;
            report.done = usize::from(report.notices > 0);
        }
    }
    if report.done > 0 || report.failed > 0 {
        tracing::info!(
            job = job.name(),
            done = report.done,
            notices = report.notices,
            failed = report.failed,
            "job ran"
        );
    }
    Ok(report)
}

/// Runs every job once (at start, to catch up, and on each heartbeat).
pub async fn run_all(state: &AppState) -> Vec<Report> {
    let mut out = vec![];
    for job in Job::ALL {
        match run(state, job).await {
            Ok(r) => out.push(r),
            Err(e) => tracing::error!(job = job.name(), error = %e, "job failed"),
        }
    }
    out
}
