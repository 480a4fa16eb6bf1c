#![doc = include_str!("../README.md")]

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_users;
mod m20261123_000002_auth_tokens;
mod m20261123_000003_contact_types;
mod m20261123_000004_field_defs;
mod m20261123_000005_contacts;
mod m20261123_000006_activities;
mod m20261123_000007_contact_events;
mod m20261123_000008_grants;
mod m20261123_000009_plugins;
mod m20261123_000010_folded_text;
mod m20261123_000011_filter_indexes;
mod m20261123_000012_segments;
mod m20261123_000013_segment_jobs;
mod m20261203_000014_sort_keys;
mod m20261203_000015_sign_in_limits;
mod m20261203_000016_settings;
mod m20261204_000017_location_index_ids;
mod m20261204_000018_segment_evaluations;
mod m20261204_000019_plugin_limits;
mod m20261204_000020_jobs;
mod m20261205_000021_outbox;
mod m20261205_000022_scoring;
mod m20261206_000023_user_status;
mod m20261206_000024_imports;
mod m20261206_000025_views_layouts;

/// Every migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_users::Migration),
            Box::new(m20261123_000002_auth_tokens::Migration),
            Box::new(m20261123_000003_contact_types::Migration),
            Box::new(m20261123_000004_field_defs::Migration),
            Box::new(m20261123_000005_contacts::Migration),
            Box::new(m20261123_000006_activities::Migration),
            Box::new(m20261123_000007_contact_events::Migration),
            Box::new(m20261123_000008_grants::Migration),
            Box::new(m20261123_000009_plugins::Migration),
            Box::new(m20261123_000010_folded_text::Migration),
            Box::new(m20261123_000011_filter_indexes::Migration),
            Box::new(m20261123_000012_segments::Migration),
            Box::new(m20261123_000013_segment_jobs::Migration),
            Box::new(m20261203_000014_sort_keys::Migration),
            Box::new(m20261203_000015_sign_in_limits::Migration),
            Box::new(m20261203_000016_settings::Migration),
            Box::new(m20261204_000017_location_index_ids::Migration),
            Box::new(m20261204_000018_segment_evaluations::Migration),
            Box::new(m20261204_000019_plugin_limits::Migration),
            Box::new(m20261204_000020_jobs::Migration),
            Box::new(m20261205_000021_outbox::Migration),
            Box::new(m20261205_000022_scoring::Migration),
            Box::new(m20261206_000023_user_status::Migration),
            Box::new(m20261206_000024_imports::Migration),
            Box::new(m20261206_000025_views_layouts::Migration),
        ]
    }
}
