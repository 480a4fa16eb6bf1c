//! Reading contacts: one by id, pages in a sort order (keyset), counts, companies for
//! the pickers, names, a company's people and the change log; always as `actor` sees
//! them ([`super::visibility`]).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::ContactReader;
use super::{
    Access, CompanyChoice, Condition, Contact, ContactEvent, ContactKind, Cursor, ListQuery, MAX_PAGE, Page,
    search_condition, to_contact, visibility,
};
use crate::auth::Actor;
use crate::entities::{contact_events, contact_types, contacts};
use crate::{Error, Result};

impl ContactReader {
    /// Reads one contact visible to `actor` at `level`.
    pub(super) async fn find_contact(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        id: i64,
        level: Access,
    ) -> Result<contacts::Model> {
        contacts::Entity::find_by_id(id)
            .filter(visibility::condition(actor, level))
            .one(db)
            .await?
            .ok_or(Error::NotFound { what: "contact" })
    }

    /// A contact with its type, visible to `actor` at `level`.
    pub(super) async fn read_contact(&self, actor: &Actor, id: i64, level: Access) -> Result<Contact> {
        let joined = contacts::Entity::find_by_id(id)
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, level))
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "contact" })?;
        to_contact(joined)
    }

    /// One contact.
    pub async fn get_contact(&self, actor: &Actor, id: i64) -> Result<Contact> {
        self.read_contact(actor, id, Access::Read).await
    }

    /// Whether `actor` may change contact `id`.
    pub async fn can_write_contact(&self, actor: &Actor, id: i64) -> Result<bool> {
        Ok(self.find_contact(&self.base.db, actor, id, Access::Write).await.is_ok())
    }

    /// A page of the contacts visible to `actor`, in `query.sort` order.
    pub async fn list_contacts(&self, actor: &Actor, query: &ListQuery) -> Result<Page<Contact>> {
        self.list_contacts_where(actor, query, Condition::all()).await
    }

    /// A page of visible contacts that also satisfy `extra`.
    pub async fn list_contacts_where(
        &self,
        actor: &Actor,
        query: &ListQuery,
        extra: Condition,
    ) -> Result<Page<Contact>> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let select = self.page_select(actor, query, extra)?;
        let mut rows = select.all(&self.base.db).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = match (more, rows.last().map(|(m, _)| m)) {
            (true, Some(last)) => {
                let score = score_of(&self.base.db, query.sort.key, last.id).await?;
                Some(Cursor::after_row(query.sort, last).with_score(score).encode())
            }
            _ => None,
        };
        let items = rows.into_iter().map(to_contact).collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// The query of a page of [`ContactReader::list_contacts_where`]: the visible contacts that
    /// satisfy `extra`, after the cursor, in `query.sort` order, one row more than the page
    /// (to tell whether there is a next one). Public so that a test can ask the database
    /// for its plan (see [`cursor`]).
    pub fn page_select(
        &self,
        actor: &Actor,
        query: &ListQuery,
        extra: Condition,
    ) -> Result<sea_orm::SelectTwo<contacts::Entity, contact_types::Entity>> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let sort = query.sort;
        let after = query
            .after
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(|a| Cursor::decode(a, sort))
            .transpose()?;
        let key = sort.key.expr();
        let mut select = contacts::Entity::find()
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, Access::Read))
            .filter(extra);
        if let Some(cursor) = &after {
            let left = Expr::tuple([key.clone(), Expr::col((contacts::Entity, contacts::Column::Id))]);
            let right = Expr::tuple([Expr::val(cursor.value()), Expr::val(cursor.id)]);
            select = select.filter(if sort.descending {
                left.lt(right)
            } else {
                left.gt(right)
            });
        }
        select = if sort.descending {
            select.order_by_desc(key).order_by_desc(contacts::Column::Id)
        } else {
            select.order_by_asc(key).order_by_asc(contacts::Column::Id)
        };
        Ok(select.limit(limit + 1))
    }

    /// How many contacts `actor` sees.
    pub async fn count_contacts(&self, actor: &Actor) -> Result<u64> {
        self.count_contacts_where(actor, Condition::all()).await
    }

    /// How many contacts `actor` sees that also satisfy `extra`.
    pub async fn count_contacts_where(&self, actor: &Actor, extra: Condition) -> Result<u64> {
        Ok(contacts::Entity::find()
            .filter(visibility::condition(actor, Access::Read))
            .filter(extra)
            .count(&self.base.db)
            .await?)
    }

    /// The condition of global search `q` on this database, to AND into
    /// [`ContactReader::list_contacts_where`] or [`ContactReader::count_contacts_where`]; `None` when `q`
    /// has no words. See [`search`].
    pub fn search_condition(&self, q: &str) -> Result<Option<Condition>> {
        search_condition(self.base.db.get_database_backend(), q)
    }

    /// Companies visible to `actor`, by name: id and name, at most `limit`.
    pub async fn list_companies(&self, actor: &Actor, limit: u64) -> Result<Vec<(i64, String)>> {
        Ok(contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .order_by_asc(contacts::Column::NameSort)
            .order_by_asc(contacts::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.base.db)
            .await?)
    }

    /// Companies visible to `actor` matching global search `q` (every company when it has
    /// no words), by name: at most `limit`, each with its city, which tells apart
    /// companies of the same name. The forms' company picker reads this.
    pub async fn search_companies(&self, actor: &Actor, q: &str, limit: u64) -> Result<Vec<CompanyChoice>> {
        let mut select = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .column(contacts::Column::City)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()));
        if let Some(search) = self.search_condition(q)? {
            select = select.filter(search);
        }
        let rows: Vec<(i64, String, Option<String>)> = select
            .order_by_asc(contacts::Column::Name)
            .order_by_asc(contacts::Column::Id)
            .limit(limit.clamp(1, MAX_PAGE))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, city)| CompanyChoice { id, name, city })
            .collect())
    }

    /// Company `id` as a picker shows it, if `actor` sees it.
    pub async fn company_choice(&self, actor: &Actor, id: i64) -> Result<Option<CompanyChoice>> {
        let row: Option<(i64, String, Option<String>)> = contacts::Entity::find_by_id(id)
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .column(contacts::Column::City)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .into_tuple()
            .one(&self.base.db)
            .await?;
        Ok(row.map(|(id, name, city)| CompanyChoice { id, name, city }))
    }

    /// The contacts among `ids` that `actor` may read, by id (one query; ids it can't see
    /// or that don't exist are not in the answer).
    pub async fn get_contacts(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        contacts::Entity::find()
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(contacts::Column::Id)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(to_contact)
            .collect()
    }

    /// The names of the visible contacts among `ids`.
    pub async fn contact_names(&self, actor: &Actor, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(i64, String)> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The people of a company, visible to `actor`, by name (at most 200).
    pub async fn company_members(&self, actor: &Actor, company_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::CompanyId.eq(company_id))
            .order_by_asc(contacts::Column::NameSort)
            .order_by_asc(contacts::Column::Id)
            .limit(200)
            .into_tuple()
            .all(&self.base.db)
            .await?)
    }

    /// A visible contact's audit trail, newest first.
    pub async fn contact_history(&self, actor: &Actor, id: i64) -> Result<Vec<ContactEvent>> {
        self.find_contact(&self.base.db, actor, id, Access::Read).await?;
        let events = contact_events::Entity::find()
            .filter(contact_events::Column::ContactId.eq(id))
            .order_by_desc(contact_events::Column::Id)
            .limit(200)
            .all(&self.base.db)
            .await?;
        // Named as the actor may see them: no e-mail addresses for managers and agents.
        let users: std::collections::HashMap<i64, String> = self.people(actor).await?.into_iter().collect();
        Ok(events
            .into_iter()
            .map(|e| ContactEvent {
                id: e.id,
                at: e.at,
                user_email: e.user_id.and_then(|u| users.get(&u).cloned()),
                action: e.action,
                changes: e.changes,
            })
            .collect())
    }
}

/// Contact `id`'s score under the model of a score order (`None` for other orders, or
/// without a score), for the next page's cursor.
pub(crate) async fn score_of(db: &impl ConnectionTrait, key: super::SortKey, id: i64) -> Result<Option<f64>> {
    use crate::entities::contact_scores;
    let super::SortKey::Score(model) = key else {
        return Ok(None);
    };
    Ok(contact_scores::Entity::find()
        .select_only()
        .column(contact_scores::Column::Score)
        .filter(contact_scores::Column::ModelId.eq(model))
        .filter(contact_scores::Column::ContactId.eq(id))
        .into_tuple::<f64>()
        .one(db)
        .await?)
}
