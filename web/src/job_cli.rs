//! `kartoteka job run|list|cancel`: bulk actions from the command line, on the same core
//! services as the pages and the API.
//!
//! `job run` starts the job and works it in this process, like a server's worker (a
//! server sharing the database may take batches too; the lease decides), with an
//! indicatif progress bar over the job's own counters. Interrupted, the job stays where
//! its last batch committed: a running server, or the next `job run`, goes on from there.
//! indicatif was chosen because it draws one bar that redraws in place on a terminal and
//! stays quiet in logs (hidden when standard error is not a terminal).

use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use kartoteka_core::auth::{Actor, Role};
use kartoteka_core::jobs::{ActionRequest, Job, Targets};
use kartoteka_core::{Core, Error};

/// What `job run` targets and does.
#[derive(Debug, Clone)]
pub struct RunArgs {
    pub segment: Option<i64>,
    pub contacts: Vec<i64>,
    pub action: String,
    pub params: Option<String>,
    pub dry_run: bool,
    /// The e-mail of the user the job runs as; by default the first admin.
    pub as_user: Option<String>,
}

/// An error as the command line shows it: each problem on a line, with its path.
pub fn explain(e: Error) -> anyhow::Error {
    explain_as(e, &[])
}

/// The same, with the request's paths named as the options that gave them
/// (`contact_ids[3]` as `--contacts[3]`).
fn explain_as(e: Error, options: &[(&str, &str)]) -> anyhow::Error {
    let problems = e.problems();
    if problems.is_empty() {
        return anyhow::anyhow!("{e}");
    }
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            let path = options
                .iter()
                .find_map(|(field, option)| {
                    p.path
                        .strip_prefix(field)
                        .filter(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
                        .map(|rest| format!("{option}{rest}"))
                })
                .unwrap_or_else(|| p.path.clone());
            format!("{path}: {}", p.message)
        })
        .collect();
    anyhow::anyhow!("{}", lines.join("\n"))
}

/// How `job run`'s options are named in the request.
const RUN_OPTIONS: [(&str, &str); 4] = [
    ("contact_ids", "--contacts"),
    ("params", "--params"),
    ("action", "--action"),
    ("dry_run", "--dry-run"),
];

/// The user the command acts as.
pub(crate) async fn actor(core: &Core, email: Option<&str>) -> anyhow::Result<Actor> {
    let users = core.users().list_users().await.map_err(explain)?;
    let user = match email {
        Some(email) => users.into_iter().find(|u| u.email.eq_ignore_ascii_case(email)),
        None => users.into_iter().find(|u| u.role == Role::Admin),
    };
    match user {
        Some(user) => Ok(user.actor()),
        None if email.is_some() => bail!("no user {}", email.unwrap_or_default()),
        None => bail!("there is no admin yet: create one with `kartoteka user add --email E --role admin`"),
    }
}

/// One line for a job.
pub fn line(job: &Job) -> String {
    format!(
        "{}\t{}\t{}{}\t{}/{} done, {} failed, {} skipped{}",
        job.id,
        job.action,
        job.state.as_str(),
        if job.dry_run { " (dry run)" } else { "" },
        job.done,
        job.total,
        job.failed,
        job.skipped,
        job.reason.as_deref().map(|r| format!("\t{r}")).unwrap_or_default(),
    )
}

/// `job run`.
pub async fn run(core: &Core, args: RunArgs) -> anyhow::Result<()> {
    let actor = actor(core, args.as_user.as_deref()).await?;
    let targets = match (args.segment, args.contacts.is_empty()) {
        (Some(id), true) => Targets::Segment(id),
        (None, false) => Targets::Contacts(args.contacts.clone()),
        _ => bail!("say what to run it on: --segment ID or --contacts ID,ID,..."),
    };
    let params = match &args.params {
        None => None,
        Some(text) => Some(serde_json::from_str(text).map_err(|e| anyhow::anyhow!("--params is not JSON: {e}"))?),
    };
    let request = ActionRequest {
        action: args.action.clone(),
        params,
        dry_run: args.dry_run,
        targets,
    };
    let job = core
        .jobs()
        .start(&actor, request)
        .await
        .map_err(|e| explain_as(e, &RUN_OPTIONS))?;
    eprintln!(
        "Job {} started: {} on {} contacts{}.",
        job.id,
        job.action,
        job.total,
        if job.dry_run {
            " (dry run: nothing is applied)"
        } else {
            ""
        }
    );
    let bar = ProgressBar::new(job.total.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} contacts  {per_sec}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let worker = {
        let jobs = core.jobs().clone();
        let id = job.id;
        tokio::spawn(async move { jobs.work_once(Some(id)).await })
    };
    let job = loop {
        let job = core.jobs().get_job(&actor, job.id).await.map_err(explain)?;
        bar.set_position(job.processed().max(0) as u64);
        bar.set_message(format!("{} failed, {} skipped", job.failed, job.skipped));
        if job.state.finished() || job.state == kartoteka_core::jobs::JobState::Paused {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    bar.finish();
    if let Ok(Err(e)) = worker.await {
        eprintln!("warning: {e}");
    }
    println!("{}", line(&job));
    if job.dry_run {
        let counts: Vec<String> = job.effect_counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!(
            "Would apply {} effects: {}.",
            job.effects,
            if counts.is_empty() {
                "none".into()
            } else {
                counts.join(", ")
            }
        );
        for sample in core
            .jobs()
            .job_samples(&actor, job.id)
            .await
            .map_err(explain)?
            .iter()
            .take(5)
        {
            println!(
                "  contact {} ({}): {}",
                sample.contact_id,
                sample.contact_name.as_deref().unwrap_or("deleted"),
                sample.effect
            );
        }
    }
    if job.failed > 0 {
        println!("Failed targets: kartoteka job outcomes {} (or the job's page).", job.id);
    }
    if !job.dry_run && job.effect_counts.contains_key("send_email") {
        deliver(core, job.id).await?;
    }
    Ok(())
}

/// Hands a sending job's queued messages off in this process, with a progress bar (a
/// server running beside it takes its share; retries wait for their time).
async fn deliver(core: &Core, job: i64) -> anyhow::Result<()> {
    let mail = core.mail();
    eprintln!("Sending to {}.", mail.settings().get().destination());
    let start = mail.campaign(job).await.map_err(explain)?;
    let total = start.queued + start.sent + start.failed + start.skipped;
    let bar = ProgressBar::new(total.max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} messages  {per_sec}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let campaign = loop {
        let handled = match mail.deliver_once().await {
            Ok(n) => n,
            Err(e) => {
                bar.abandon();
                return Err(explain(e));
            }
        };
        let now = mail.campaign(job).await.map_err(explain)?;
        bar.set_position((now.sent + now.failed + now.skipped).max(0) as u64);
        bar.set_message(format!("{} failed, {} skipped", now.failed, now.skipped));
        if now.queued == 0 {
            break now;
        }
        if handled == 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    bar.finish();
    println!(
        "Messages: {} sent, {} failed, {} skipped at sending.",
        campaign.sent, campaign.failed, campaign.skipped
    );
    Ok(())
}

/// `job list`.
pub async fn list(core: &Core, as_user: Option<&str>) -> anyhow::Result<()> {
    let actor = actor(core, as_user).await?;
    for job in core.jobs().list_jobs(&actor, None, 100).await.map_err(explain)? {
        println!("{}", line(&job));
    }
    Ok(())
}

/// `job cancel`.
pub async fn cancel(core: &Core, id: i64, as_user: Option<&str>) -> anyhow::Result<()> {
    let actor = actor(core, as_user).await?;
    let job = core.jobs().cancel_job(&actor, id).await.map_err(explain)?;
    println!("{}", line(&job));
    Ok(())
}

/// `job outcomes`: the failed and skipped targets with their reasons.
pub async fn outcomes(core: &Core, id: i64, as_user: Option<&str>) -> anyhow::Result<()> {
    use kartoteka_core::jobs::OutcomeKind;
    let actor = actor(core, as_user).await?;
    for kind in [OutcomeKind::Failed, OutcomeKind::Skipped] {
        let mut after = None;
        loop {
            let page = core
                .jobs()
                .job_outcomes(&actor, id, kind, after, 500)
                .await
                .map_err(explain)?;
            for o in &page {
                println!(
                    "{}\t{}\t{}\t{}",
                    o.contact_id,
                    o.contact_name.as_deref().unwrap_or("(deleted)"),
                    kind.as_str(),
                    o.reason.as_deref().unwrap_or_default()
                );
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = Some(last.contact_id),
                _ => break,
            }
        }
    }
    Ok(())
}
