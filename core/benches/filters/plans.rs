//! The statements the engine runs, rebuilt with the calls it makes, and their plans.

#[allow(unused_imports)]
use super::*;

/// The statement `Core::count_query` runs for a filter without residuals (sea-orm's
/// `count` wraps the select in a subquery), or for one with residuals the candidates'
/// statement of its walk: when they are all on `location`, the one streamed statement of
/// ids and coordinates, else the first chunk by id.
/// Built with the calls `core/src/filter/{query,walk}.rs` make; the count of the first
/// kind is checked against the engine's.
pub(crate) fn engine_count_statement(backend: DbBackend, actor: &Actor, prepared: &Prepared) -> Statement {
    let base = contacts::Entity::find()
        .filter(visibility::condition(actor, Access::Read))
        .filter(prepared.condition(backend));
    if prepared.has_residual() {
        let by_location = prepared
            .plan
            .predicate
            .residuals()
            .iter()
            .all(|r| r.field == "location");
        return if by_location {
            base.select_only()
                .column(contacts::Column::Id)
                .column(contacts::Column::Latitude)
                .column(contacts::Column::Longitude)
                .build(backend)
        } else {
            base.find_also_related(contact_types::Entity)
                .filter(contacts::Column::Id.gt(i64::MIN))
                .order_by_asc(contacts::Column::Id)
                .limit(2_000)
                .build(backend)
        };
    }
    let count = Query::select()
        .expr(Expr::cust("COUNT(*) AS num_items"))
        .from_subquery(base.into_query(), "sub_query")
        .to_owned();
    backend.build(&count)
}

/// The first statement of `Core::query_contacts`' first page by name (`list_contacts_where`).
pub(crate) fn engine_page_statement(backend: DbBackend, actor: &Actor, prepared: &Prepared) -> Statement {
    // With residuals, the walk's first round: `2 × limit + 1` candidates.
    let limit = if prepared.has_residual() { 2 * PAGE + 1 } else { PAGE };
    contacts::Entity::find()
        .find_also_related(contact_types::Entity)
        .filter(visibility::condition(actor, Access::Read))
        .filter(prepared.condition(backend))
        .order_by_asc(contacts::Column::NameSort)
        .order_by_asc(contacts::Column::Id)
        .limit(limit + 1)
        .build(backend)
}

/// The plan of `stmt`, one line per node.
pub(crate) async fn plan(db: &DatabaseConnection, stmt: &Statement) -> Res<Vec<String>> {
    let backend = db.get_database_backend();
    let prefix = if backend == DbBackend::Postgres {
        "EXPLAIN "
    } else {
        "EXPLAIN QUERY PLAN "
    };
    let explain = Statement::from_sql_and_values(
        backend,
        format!("{prefix}{}", stmt.sql),
        stmt.values.as_ref().map(|v| v.0.clone()).unwrap_or_default(),
    );
    let rows = db.query_all_raw(explain).await?;
    let mut lines = Vec::with_capacity(rows.len());
    if backend == DbBackend::Postgres {
        for row in rows {
            lines.push(row.try_get_by_index::<String>(0)?);
        }
    } else {
        // (id, parent, notused, detail): indent by depth.
        let mut depth: Vec<(i64, usize)> = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let parent: i64 = row.try_get("", "parent")?;
            let detail: String = row.try_get("", "detail")?;
            let level = depth.iter().find(|(i, _)| *i == parent).map_or(0, |(_, l)| l + 1);
            depth.push((id, level));
            lines.push(format!("{}{detail}", "  ".repeat(level)));
        }
    }
    Ok(lines)
}

/// `sql` with the engine's long select list (every column, by name) shortened.
pub(crate) fn shortened(sql: &str) -> String {
    let start = "SELECT \"contacts\".\"id\"";
    let Some(from) = sql.find(start) else {
        return sql.to_owned();
    };
    let columns = from + "SELECT ".len();
    let Some(end) = sql.get(columns..).and_then(|rest| rest.find(" FROM \"contacts\"")) else {
        return sql.to_owned();
    };
    let list = sql.get(columns..columns + end).unwrap_or_default();
    if list.matches(", ").count() < 8 {
        return sql.to_owned();
    }
    let what = if list.contains("\"contact_types\".") {
        "<every column of contacts and contact_types>"
    } else {
        "<every column of contacts>"
    };
    format!(
        "{}{what}{}",
        sql.get(..columns).unwrap_or_default(),
        sql.get(columns + end..).unwrap_or_default()
    )
}

pub(crate) fn print_statement(title: &str, stmt: &Statement, lines: &[String]) {
    println!("{title}:\n");
    println!("```sql\n{}\n```\n", shortened(&stmt.sql));
    if let Some(values) = &stmt.values {
        let shown: Vec<String> = values.0.iter().map(|v| format!("{v:?}")).collect();
        println!("parameters: {}\n", shown.join(", "));
    }
    println!("```text\n{}\n```\n", lines.join("\n"));
}
