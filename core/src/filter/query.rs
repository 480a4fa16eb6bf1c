//! Reading contacts with a filter, a search and a page: [`ContactQuery`], answered by
//! [`FilterEngine::query_contacts`] (a page and the next cursor) and [`FilterEngine::count_query`] (how
//! many).
//!
//! Every reader of "the contacts that match" (the contacts table, `GET /api/v1/contacts`
//! and its count, the filter builder's live count, a segment's members) states what it
//! wants as one value and gets the answer from one place, which chooses the engine path:
//!
//! - no filter: the contacts table's keyset query with the search's condition
//!   (`contacts::ContactReader::list_contacts_where`), or one `COUNT(*)`;
//! - a filter exact in SQL: the same query with the filter's condition added;
//! - a filter with residuals: the candidate walk ([`super::walk`]) over the same query,
//!   in the table's order for a page (stopping when the page is full), by id for a count.
//!
//! The filter runs as the reader sees the base ([`Prepared::seen_by`]); visibility is
//! always part of the query, never a post-filter.
//!
//! ## Why one query value, not a function per combination
//!
//! Callers used to pick between the filtered and the unfiltered function and AND the
//! search's condition themselves, so each handler held a copy of the choice and built
//! sea-query conditions. A value with optional parts keeps that choice here and lets a
//! handler stay "extract, call, render"; the validated [`SearchQuery`] (not text) keeps
//! the order in which a bad search and a bad filter are reported with the caller.

use sea_orm::sea_query::Condition;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};

use super::FilterEngine;
use super::run::Prepared;
use super::walk::Walk;
use crate::Result;
use crate::auth::Actor;
use crate::contacts::visibility::{self, Access};
use crate::contacts::{Contact, Cursor, ListQuery, MAX_PAGE, Page, SearchQuery};
use crate::entities::contacts;

/// What to read of the contacts an actor sees.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// The filter, checked and lowered; `None`: every contact.
    pub filter: Option<Prepared>,
    /// The global search; `None`: no narrowing.
    pub search: Option<SearchQuery>,
    /// Order, page size and cursor (a count ignores them).
    pub page: ListQuery,
}

impl ContactQuery {
    /// The search's condition, ANDed (every contact without one).
    fn narrowing(&self, backend: sea_orm::DbBackend) -> Condition {
        let mut narrow = Condition::all();
        if let Some(search) = &self.search {
            narrow = narrow.add(search.condition(backend));
        }
        narrow
    }
}

impl FilterEngine {
    /// A page of the contacts `actor` sees that match `query`'s filter and search, in
    /// its order from its cursor, with the cursor of the next page.
    ///
    /// Errors: a bad cursor at `after`; [`crate::Error::Plugin`] when a residual's
    /// plugin fails.
    pub async fn query_contacts(&self, actor: &Actor, query: &ContactQuery) -> Result<Page<Contact>> {
        self.query_contacts_within(actor, query, Condition::all()).await
    }

    /// How many contacts `actor` sees that match `query`'s filter and search.
    pub async fn count_query(&self, actor: &Actor, query: &ContactQuery) -> Result<u64> {
        let narrow = query.narrowing(self.base.db.get_database_backend());
        match &query.filter {
            Some(prepared) => self.count_contacts_matching(actor, prepared, narrow).await,
            None => self.contacts.count_contacts_where(actor, narrow).await,
        }
    }

    /// [`FilterEngine::query_contacts`] among the contacts of `scope` (a segment's members).
    pub(crate) async fn query_contacts_within(
        &self,
        actor: &Actor,
        query: &ContactQuery,
        scope: Condition,
    ) -> Result<Page<Contact>> {
        let narrow = scope.add(query.narrowing(self.base.db.get_database_backend()));
        match &query.filter {
            Some(prepared) => self.find_contacts(actor, prepared, narrow, &query.page).await,
            None => self.contacts.list_contacts_where(actor, &query.page, narrow).await,
        }
    }

    /// A page of the contacts `actor` sees that match `prepared` and `extra`.
    async fn find_contacts(
        &self,
        actor: &Actor,
        prepared: &Prepared,
        extra: Condition,
        query: &ListQuery,
    ) -> Result<Page<Contact>> {
        let prepared = &prepared.seen_by(actor);
        let backend = self.base.db.get_database_backend();
        let condition = prepared.condition(backend).add(extra);
        if !prepared.has_residual() {
            return self.contacts.list_contacts_where(actor, query, condition).await;
        }
        let limit = usize::try_from(query.limit.clamp(1, MAX_PAGE)).unwrap_or(1);
        let mut items = Vec::new();
        let mut walk = Walk::in_order(self, prepared, actor, condition, query);
        while let Some(chunk) = walk.next().await? {
            for (contact, keep) in chunk.into_contacts() {
                if !keep {
                    continue;
                }
                items.push(contact);
                if items.len() == limit {
                    let next = match items.last() {
                        Some(c) => {
                            let score = crate::contacts::score_of(&self.base.db, query.sort.key, c.id).await?;
                            Some(Cursor::after_contact(query.sort, c).with_score(score).encode())
                        }
                        None => None,
                    };
                    return Ok(Page { items, next });
                }
            }
        }
        Ok(Page { items, next: None })
    }

    /// How many contacts `actor` sees that match `prepared` and `extra`.
    async fn count_contacts_matching(&self, actor: &Actor, prepared: &Prepared, extra: Condition) -> Result<u64> {
        let prepared = &prepared.seen_by(actor);
        let backend = self.base.db.get_database_backend();
        let condition = prepared.condition(backend).add(extra);
        if !prepared.has_residual() {
            return Ok(contacts::Entity::find()
                .filter(visibility::condition(actor, Access::Read))
                .filter(condition)
                .count(&self.base.db)
                .await?);
        }
        let candidates = Condition::all()
            .add(visibility::condition(actor, Access::Read))
            .add(condition);
        let mut walk = Walk::by_id(self, prepared, candidates).ids_only();
        let mut count = 0;
        while let Some(chunk) = walk.next().await? {
            count += chunk.count();
        }
        Ok(count)
    }
}
