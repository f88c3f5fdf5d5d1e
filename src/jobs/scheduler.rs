//! tokio-cron-scheduler as a heartbeat: it wakes every job on the configured cron (UTC), and
//! the job itself decides what is due and claims it. On start every job runs once, which
//! catches up whatever came due while no instance was running.
use tokio_cron_scheduler::{Job as CronJob, JobScheduler};

use super::{Job, run, run_all};
use crate::state::AppState;

/// Starts the scheduler unless the heartbeat is "off". Returns it, so it lives as long as the caller keeps it.
pub async fn start(state: AppState) -> anyhow::Result<Option<JobScheduler>> {
    let heartbeat = state.config.jobs_heartbeat.trim().to_string();
    if heartbeat.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let scheduler = JobScheduler::new().await?;
    for job in Job::ALL {
        let state = state.clone();
        let cron = CronJob::new_async(heartbeat.as_str(), move |_id, _lock| {
            let state = state.clone();
            let tracker = state.jobs_in_flight.clone();
            Box::pin(tracker.track_future(async move {
                if let Err(e) = run(&state, job).await {
                    tracing::error!(job = job.name(), error = %e, "job failed");
                }
            }))
        })
        .map_err(|e| anyhow::anyhow!("JOBS_HEARTBEAT \"{heartbeat}\" is not a six-field cron expression: {e}"))?;
        scheduler.add(cron).await?;
    }
    scheduler.start().await?;
    let catch_up = state.clone();
    tokio::spawn(state.jobs_in_flight.track_future(async move {
        run_all(&catch_up).await;
    }));
    tracing::info!(heartbeat = %heartbeat, "scheduler started");
    Ok(Some(scheduler))
}
