//! Each plugin's log (`plugin_logs`): what it printed on stdout and stderr, and the host's
//! lines (how a call failed, who installed or enabled it), the last [`LOG_KEEP`] kept.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{CallContext, Registry};
use crate::Result;
use crate::entities::plugin_logs;
use crate::plugin::engine::{CallError, Called};

/// Log lines kept per plugin.
pub const LOG_KEEP: u64 = 500;
/// Log lines kept from one call.
const LOG_LINES_PER_CALL: usize = 40;
/// Longest log line kept.
const LOG_LINE_MAX: usize = 1_000;

/// One line of a plugin's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    /// `stdout`, `stderr` or `host`.
    pub stream: String,
    pub line: String,
}

/// Appends host lines to a plugin's log.
pub(crate) async fn log_host(db: &impl ConnectionTrait, plugin: &str, at: DateTime<Utc>, line: &str) -> Result<()> {
    plugin_logs::ActiveModel {
        plugin: Set(plugin.to_owned()),
        at: Set(at),
        stream: Set("host".into()),
        line: Set(line.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

impl Registry {
    /// The last `limit` lines of a plugin's log, oldest first.
    pub async fn logs(&self, name: &str, limit: u64) -> Result<Vec<LogLine>> {
        let mut rows = plugin_logs::Entity::find()
            .filter(plugin_logs::Column::Plugin.eq(name))
            .order_by_desc(plugin_logs::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.reverse();
        Ok(rows
            .into_iter()
            .map(|r| LogLine {
                at: r.at,
                stream: r.stream,
                line: r.line,
            })
            .collect())
    }

    /// Copies what a call printed, and its failure, to the plugin's log. Best effort: a
    /// log that can't be written is itself logged, never fails the call.
    ///
    /// Inside a write ([`CallContext::Write`]) the lines are written by a task of their
    /// own once the transaction lets them (on SQLite it is the one writer).
    pub(crate) async fn record<T>(&self, plugin: &str, what: &str, called: &Called<T>, ctx: CallContext) {
        let now = self.now();
        let mut lines: Vec<(&str, String)> = Vec::new();
        for (stream, text) in [("stdout", &called.stdout), ("stderr", &called.stderr)] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                lines.push((stream, line.chars().take(LOG_LINE_MAX).collect()));
            }
        }
        if let Err(e) = &called.result
            && !matches!(e, CallError::Refused { .. })
        {
            lines.push((
                "host",
                format!("{what} failed after {} ms: {e}", called.elapsed.as_millis()),
            ));
            tracing::warn!(plugin, call = what, error = %e, "plugin call failed");
        }
        if lines.is_empty() {
            return;
        }
        if lines.len() > LOG_LINES_PER_CALL {
            let cut = lines.len() - LOG_LINES_PER_CALL;
            lines.drain(..cut);
            lines.insert(0, ("host", format!("[{cut} earlier lines of this call dropped]")));
        }
        if ctx == CallContext::Write {
            // Inside a write transaction (on SQLite, the one writer): the log waits for it.
            let db = self.db.clone();
            let plugin = plugin.to_owned();
            let lines: Vec<(String, String)> = lines.into_iter().map(|(s, l)| (s.to_owned(), l)).collect();
            tokio::spawn(async move {
                let lines = lines.iter().map(|(s, l)| (s.as_str(), l.clone())).collect();
                if let Err(e) = append_log(&db, &plugin, now, lines).await {
                    tracing::warn!(plugin, error = %e, "can't write the plugin's log");
                }
            });
            return;
        }
        if let Err(e) = append_log(&self.db, plugin, now, lines).await {
            tracing::warn!(plugin, error = %e, "can't write the plugin's log");
        }
    }
}

async fn append_log(
    db: &DatabaseConnection,
    plugin: &str,
    at: DateTime<Utc>,
    lines: Vec<(&str, String)>,
) -> Result<()> {
    let models = lines.into_iter().map(|(stream, line)| plugin_logs::ActiveModel {
        plugin: Set(plugin.to_owned()),
        at: Set(at),
        stream: Set(stream.to_owned()),
        line: Set(line),
        ..Default::default()
    });
    plugin_logs::Entity::insert_many(models).exec(db).await?;
    let cutoff = plugin_logs::Entity::find()
        .filter(plugin_logs::Column::Plugin.eq(plugin))
        .order_by_desc(plugin_logs::Column::Id)
        .offset(LOG_KEEP)
        .one(db)
        .await?;
    if let Some(cutoff) = cutoff {
        plugin_logs::Entity::delete_many()
            .filter(plugin_logs::Column::Plugin.eq(plugin))
            .filter(plugin_logs::Column::Id.lte(cutoff.id))
            .exec(db)
            .await?;
    }
    Ok(())
}
