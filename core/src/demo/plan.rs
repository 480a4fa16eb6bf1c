//! The plan: everything read from the database before generation starts — the contact types,
//! which types companies and people get (and with what weight), the category of each type
//! (which decides the mix of activities) and which demo fields apply to it.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::fields::LiveField;
use crate::contacts::derived::FoldSchema;

pub(super) struct TypeRow {
    id: i64,
    key: String,
    parent_id: Option<i64>,
}

pub(super) async fn read_types(db: &DatabaseConnection) -> Result<Vec<TypeRow>, DbErr> {
    let select = Query::select()
        .columns([Alias::new("id"), Alias::new("key"), Alias::new("parent_id")])
        .from(Alias::new("contact_types"))
        .order_by(Alias::new("id"), Order::Asc)
        .to_owned();
    let rows = db.query_all(&select).await?;
    rows.iter()
        .map(|r| {
            Ok(TypeRow {
                id: r.try_get_by_index::<i64>(0)?,
                key: r.try_get_by_index::<String>(1)?,
                parent_id: r.try_get_by_index::<Option<i64>>(2)?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Category {
    #[default]
    Lead,
    Refused,
    Client,
    Partner,
    Employee,
}

/// Everything derived from the database before generation starts.
pub(super) struct Plan {
    pub(super) company_types: Vec<(i64, u32)>,
    /// For people at a company, by the company's type.
    pub(super) person_types_at: HashMap<i64, Vec<(i64, u32)>>,
    /// For people on their own.
    pub(super) person_types_free: Vec<(i64, u32)>,
    pub(super) categories: HashMap<i64, Category>,
    /// Bit `i` set: `FIELD_SPECS[i]` is usable and applies to the type.
    pub(super) field_masks: HashMap<i64, u32>,
    pub(super) fields: Vec<Option<LiveField>>,
    /// The field definitions as the derived columns see them.
    pub(super) fold: FoldSchema,
}

impl Plan {
    pub(super) fn new(types: &[TypeRow], fields: Vec<Option<LiveField>>, fold: FoldSchema) -> Result<Self, DbErr> {
        if types.is_empty() {
            return Err(DbErr::Custom(
                "demo: there are no contact types; seed them first".into(),
            ));
        }
        let by_id: HashMap<i64, &TypeRow> = types.iter().map(|t| (t.id, t)).collect();
        let lineage = |id: i64| -> Vec<&str> {
            let mut keys = Vec::new();
            let mut current = by_id.get(&id);
            while let Some(t) = current {
                keys.push(t.key.as_str());
                if keys.len() > 32 {
                    break;
                }
                current = t.parent_id.and_then(|p| by_id.get(&p));
            }
            keys
        };
        let id_of = |key: &str| types.iter().find(|t| t.key == key).map(|t| t.id);
        let resolve = |weights: &[(&str, u32)]| -> Vec<(i64, u32)> {
            weights
                .iter()
                .filter_map(|(key, w)| id_of(key).map(|id| (id, *w)))
                .collect()
        };
        // Leaves only, when some are missing: fall back to any type at all.
        let all: Vec<(i64, u32)> = types.iter().map(|t| (t.id, 1)).collect();
        let or_all = |v: Vec<(i64, u32)>| if v.is_empty() { all.clone() } else { v };

        let company_types = or_all(resolve(&[
            ("client", 45),
            ("supplier", 15),
            ("contractor", 12),
            ("cold", 12),
            ("warm", 9),
            ("hot", 5),
            ("refused", 2),
        ]));
        let person_types_free = or_all(resolve(&[
            ("staff", 18),
            ("freelance", 9),
            ("temporary", 5),
            ("remote", 8),
            ("cold", 15),
            ("warm", 12),
            ("hot", 6),
            ("refused", 5),
            ("client", 15),
            ("contractor", 5),
            ("supplier", 2),
        ]));

        let mut categories = HashMap::new();
        let mut field_masks = HashMap::new();
        for t in types {
            let keys = lineage(t.id);
            let has = |k: &str| keys.contains(&k);
            let category = if has("employee") {
                Category::Employee
            } else if has("refused") {
                Category::Refused
            } else if has("client") {
                Category::Client
            } else if has("supplier") || has("contractor") {
                Category::Partner
            } else {
                Category::Lead
            };
            categories.insert(t.id, category);
            let mut mask = 0u32;
            for (bit, field) in fields.iter().enumerate() {
                if let Some(field) = field
                    && (field.applies_to.is_empty() || field.applies_to.iter().any(|a| has(a)))
                {
                    mask |= 1 << bit;
                }
            }
            field_masks.insert(t.id, mask);
        }

        let mut person_types_at = HashMap::new();
        for (company_type, _) in &company_types {
            let key = by_id.get(company_type).map(|t| t.key.as_str()).unwrap_or_default();
            let weights: Vec<(&str, u32)> = match key {
                "client" => vec![("client", 88), ("hot", 6), ("warm", 6)],
                "supplier" => vec![("supplier", 95), ("contractor", 5)],
                "contractor" => vec![("contractor", 95), ("supplier", 5)],
                "cold" | "warm" | "hot" | "refused" => {
                    let mut w = vec![("cold", 6), ("warm", 6), ("hot", 4), ("refused", 4)];
                    w.push((key, 80));
                    w
                }
                _ => vec![(key, 1)],
            };
            let mut dist = resolve(&weights);
            if dist.is_empty() {
                dist.clone_from(&person_types_free);
            }
            person_types_at.insert(*company_type, dist);
        }

        Ok(Plan {
            company_types,
            person_types_at,
            person_types_free,
            categories,
            field_masks,
            fields,
            fold,
        })
    }
}
