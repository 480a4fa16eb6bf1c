//! The "Scores" section of a contact's card: its score and band under each model of its
//! kind, each with the explanation (every parameter's value, points, weight, share and
//! what it added); and its band changes as entries of the card's change log.

use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::scoring::{ContactScore, ScoreChange};

use super::contact_history::ShownEvent;
use crate::app::AppState;

/// How many band changes the change log shows.
const HISTORY: u64 = 50;

/// One parameter of a score's explanation.
#[derive(Debug, Clone)]
pub struct ShownParameter {
    pub label: String,
    pub criterion: String,
    pub value: String,
    pub points: String,
    pub weight: i64,
    pub enabled: bool,
    pub share: String,
    pub contribution: String,
}

/// A contact's score under one model.
#[derive(Debug, Clone)]
pub struct ShownScore {
    pub key: String,
    pub name: String,
    /// One decimal; empty when not scored yet.
    pub score: String,
    pub band: String,
    /// The model's status in words when it is not ready.
    pub status: Option<String>,
    pub computed: String,
    pub parameters: Vec<ShownParameter>,
}

fn shown(s: ContactScore) -> ShownScore {
    ShownScore {
        key: s.model_key,
        name: s.model_name,
        score: s.score.map(|v| format!("{v:.1}")).unwrap_or_default(),
        band: s.band.unwrap_or_default(),
        status: match s.model_status.as_str() {
            kartoteka_core::scoring::READY => None,
            other => Some(other.replace('_', " ")),
        },
        computed: s
            .computed_at
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        parameters: s
            .parameters
            .into_iter()
            .map(|p| ShownParameter {
                label: p.label,
                criterion: p.criterion,
                value: if p.value.is_empty() { "—".into() } else { p.value },
                points: p.points.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into()),
                weight: p.weight,
                enabled: p.enabled,
                share: format!("{:.1}", p.share),
                contribution: format!("{:.2}", p.contribution),
            })
            .collect(),
    }
}

/// Contact `id`'s scores, as `actor` may see the contact.
pub async fn section(state: &AppState, actor: &Actor, id: i64) -> Result<Vec<ShownScore>, Error> {
    Ok(state
        .core
        .scoring()
        .contact_scores(actor, id)
        .await?
        .into_iter()
        .map(shown)
        .collect())
}

/// A band change in words: "Fit: Medium → Ideal (score 84.5)".
fn change_text(c: &ScoreChange) -> String {
    let from = c.from.as_deref().unwrap_or("—");
    let to = c.to.as_deref().unwrap_or("—");
    let score = c.score.map(|s| format!(" (score {s:.1})")).unwrap_or_default();
    format!("{}: {from} → {to}{score}", c.model_name)
}

/// `events` (newest first) with contact `id`'s band changes merged in, in time order.
pub async fn with_band_changes(
    state: &AppState,
    actor: &Actor,
    id: i64,
    events: Vec<ShownEvent>,
) -> Result<Vec<ShownEvent>, Error> {
    let changes = state.core.scoring().score_history(actor, id, HISTORY).await?;
    Ok(merge(events, &changes))
}

fn merge(events: Vec<ShownEvent>, changes: &[ScoreChange]) -> Vec<ShownEvent> {
    let mut bands: Vec<ShownEvent> = changes
        .iter()
        .map(|c| ShownEvent {
            at: c.at.format("%Y-%m-%d %H:%M").to_string(),
            when: c.at,
            who: "scoring".into(),
            action: change_text(c),
            changes: Vec::new(),
            band_change: true,
        })
        .collect();
    let mut out = Vec::with_capacity(events.len() + bands.len());
    let mut events = events.into_iter().peekable();
    bands.reverse();
    // Both lists are newest first; a band change recorded with the write that caused it
    // comes after (above) it.
    while let Some(next) = bands.last() {
        match events.peek() {
            Some(e) if e.when > next.when => out.extend(events.next()),
            _ => out.extend(bands.pop()),
        }
    }
    out.extend(events);
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn event(minute: u32) -> ShownEvent {
        let when = Utc.with_ymd_and_hms(2026, 1, 1, 10, minute, 0).unwrap();
        ShownEvent {
            at: when.format("%Y-%m-%d %H:%M").to_string(),
            when,
            who: "a@example.com".into(),
            action: format!("updated {minute}"),
            changes: Vec::new(),
            band_change: false,
        }
    }

    #[test]
    fn band_changes_merge_in_time_order() {
        let change = |minute, from: Option<&str>, to: &str| ScoreChange {
            model_id: 1,
            model_name: "Fit".into(),
            from: from.map(str::to_owned),
            to: Some(to.into()),
            score: Some(84.5),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 10, minute, 0).unwrap(),
        };
        let merged = merge(
            vec![event(30), event(20), event(10)],
            &[change(25, Some("Medium"), "Ideal"), change(10, None, "Medium")],
        );
        let actions: Vec<&str> = merged.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "updated 30",
                "Fit: Medium → Ideal (score 84.5)",
                "updated 20",
                "Fit: — → Medium (score 84.5)",
                "updated 10"
            ]
        );
    }
}
