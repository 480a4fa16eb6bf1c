//! sea-orm entities, one per table, mirroring `migrations/` column for column.
//!
//! These are storage shapes only: no behaviour, no serde, never bound from a request. The
//! domain types and the services that read and write them live beside, in `crate::*`.

pub mod activities;
pub mod auth_tokens;
pub mod card_layouts;
pub mod catalog_generation;
pub mod contact_events;
pub mod contact_scores;
pub mod contact_types;
pub mod contacts;
pub mod email_unsubscribes;
pub mod field_defs;
pub mod grants;
pub mod imports;
pub mod job_outcomes;
pub mod job_samples;
pub mod job_targets;
pub mod jobs;
pub mod outbox;
pub mod plugin_generation;
pub mod plugin_logs;
pub mod plugins;
pub mod score_events;
pub mod scoring_models;
pub mod segment_events;
pub mod segment_members;
pub mod segments;
pub mod settings;
pub mod tasks;
pub mod users;
pub mod view_last_used;
pub mod views;
