//! The state every handler shares.

use std::sync::Arc;

use kartoteka_core::Core;

use crate::config::Config;

/// What handlers reach: the domain services and the configuration. Cloned per request
/// (reference-counted handles).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The domain services; handlers call these and nothing else for data.
    pub core: Core,
    /// Server settings.
    pub config: Arc<Config>,
    /// The scoring editor's drafts of what-ifs still running.
    pub what_if_drafts: Arc<crate::pages::scoring_form::WhatIfDrafts>,
}
