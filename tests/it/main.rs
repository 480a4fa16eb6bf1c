//! The black-box suite: one binary, one module per area. Storage tests run on SQLite and
//! PostgreSQL (`both!`); see the harness in `kartoteka_tests` for how servers are started.

// This whole crate is tests: a failed unwrap or index is a failed assertion, and helpers
// shared by several tests aren't `#[test]` functions, so clippy's test exemptions miss them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod api_activities;
mod api_contacts;
mod api_contract;
mod api_fields;
mod api_types;
mod auth;
mod browser;
mod bulk_load;
mod cli;
mod default_type;
mod filter_builder;
mod filter_engine;
mod filter_trust;
mod filter_walk;
mod forms;
mod forms_browser;
mod forms_input;
mod freshness;
mod guest_languages;
mod imports;
mod imports_browser;
mod job_crash;
mod job_pages;
mod jobs;
mod mail;
mod mail_crash;
mod ownership;
mod pages;
mod plugin_scaffold;
mod plugins;
mod scoring;
mod scoring_pages;
mod search;
mod segment_explain;
mod segment_lists;
mod segment_pages;
mod segment_preview;
mod segment_recheck;
mod segment_upkeep;
mod segments;
mod service;
mod sign_in_limits;
mod smtp_sink;
mod sorting;
mod task_pages;
mod trust_pages;
mod users;
mod views;
mod views_browser;
mod visibility;
