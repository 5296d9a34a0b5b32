//! Moving an embedded deployment to PostgreSQL (`greenwatch migrate --from sqlite:… --to
//! postgres://…`): every row of every table the two schemas share is copied, in one
//! PostgreSQL transaction, parents before children, ids kept (sessions, cursors and links stay
//! valid), identity counters moved past the copied ids, and the data generation moved on so
//! every cache keyed by it starts over. The target must be empty: nothing stored there is
//! overwritten or lost. Only this crate knows both backends, so the copy lives here.

use greenwatch_store::StoreError;
use greenwatch_store_postgres::PostgresStore;
use postgres::types::ToSql;
use rusqlite::types::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Tables that are the backends' own bookkeeping, not the deployment's data.
const BOOKKEEPING: [&str; 5] = [
    "migrations",
    "schema_version",
    "data_generation",
    "job_leases",
    "sqlite_sequence",
];

/// Rows copied per table.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    pub tables: BTreeMap<String, u64>,
}

/// Copies the SQLite store at `from` into the (empty) PostgreSQL store at `to`, calling
/// `progress(table, rows so far)` as it goes.
pub fn copy_sqlite_to_postgres(
    from: &Path,
    to: &str,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<CopyReport, StoreError> {
    if !from.is_file() {
        return Err(StoreError::Conflict(format!(
            "no embedded store at {}",
            from.display()
        )));
    }
    // Brings the source up to this binary's schema first (the same as opening it would).
    drop(greenwatch_store_sqlite::SqliteStore::open(from)?);
    drop(PostgresStore::open(to)?);
    let source = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut target = postgres::Client::connect(to, postgres::NoTls).map_err(pg)?;
    let mut tx = target.transaction().map_err(pg)?;
    let columns = target_columns(&mut tx)?;
    let order = parents_first(&mut tx, columns.keys().cloned().collect())?;
    let source_tables: BTreeSet<String> = source
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if let Some(lost) = source_tables
        .iter()
        .find(|t| !columns.contains_key(*t) && !BOOKKEEPING.contains(&t.as_str()))
    {
        return Err(StoreError::Conflict(format!(
            "table {lost} of the embedded store has no place in the PostgreSQL schema: \
             nothing was copied"
        )));
    }
    let mut report = CopyReport::default();
    for table in order.iter().filter(|t| source_tables.contains(*t)) {
        let target_columns = &columns[table];
        let rows: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .map_err(pg)?
            .get(0);
        if rows > 0 {
            return Err(StoreError::Conflict(format!(
                "the PostgreSQL store already holds data (table {table}): migrate into an \
                 empty database, nothing was copied"
            )));
        }
        let copied = copy_table(&source, &mut tx, table, target_columns, progress)?;
        report.tables.insert(table.clone(), copied);
    }
    let generation: i64 = source
        .query_row("SELECT value FROM data_generation WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap_or(0);
    tx.execute(
        "UPDATE data_generation SET value = $1::BIGINT + 1 WHERE id = 1",
        &[&generation],
    )
    .map_err(pg)?;
    tx.commit().map_err(pg)?;
    Ok(report)
}

fn pg(e: postgres::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// A PostgreSQL column: its name, type and whether the database generates it.
struct Column {
    name: String,
    data_type: String,
    identity: bool,
}

/// The tables of the store's schema (the search path's first schema) and their columns.
fn target_columns(
    tx: &mut postgres::Transaction<'_>,
) -> Result<BTreeMap<String, Vec<Column>>, StoreError> {
    let rows = tx
        .query(
            "SELECT table_name::TEXT, column_name::TEXT, data_type::TEXT, is_identity::TEXT
             FROM information_schema.columns WHERE table_schema = current_schema()
             ORDER BY table_name, ordinal_position",
            &[],
        )
        .map_err(pg)?;
    let mut tables: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    for row in rows {
        let table: String = row.get(0);
        if BOOKKEEPING.contains(&table.as_str()) {
            continue;
        }
        tables.entry(table).or_default().push(Column {
            name: row.get(1),
            data_type: row.get(2),
            identity: row.get::<_, String>(3) == "YES",
        });
    }
    Ok(tables)
}

/// `tables` ordered so that every table comes after those its foreign keys refer to.
fn parents_first(
    tx: &mut postgres::Transaction<'_>,
    tables: BTreeSet<String>,
) -> Result<Vec<String>, StoreError> {
    let mut parents: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .map(|t| (t.clone(), BTreeSet::new()))
        .collect();
    for row in tx
        .query(
            "SELECT conrelid::regclass::TEXT, confrelid::regclass::TEXT FROM pg_constraint
             WHERE contype = 'f' AND connamespace = current_schema()::regnamespace",
            &[],
        )
        .map_err(pg)?
    {
        let (child, parent): (String, String) = (row.get(0), row.get(1));
        if child != parent {
            if let Some(p) = parents.get_mut(&child) {
                p.insert(parent);
            }
        }
    }
    let mut order = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(_, p)| p.iter().all(|p| !parents.contains_key(p)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Corrupt(
                "the PostgreSQL schema's foreign keys form a cycle".into(),
            ));
        }
        for t in ready {
            parents.remove(&t);
            order.push(t);
        }
    }
    Ok(order)
}

/// One SQLite value as the PostgreSQL column's type wants it.
fn convert(
    table: &str,
    column: &Column,
    value: Value,
) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let wrong = |v: &Value| {
        StoreError::Corrupt(format!(
            "{table}.{}: {v:?} does not fit PostgreSQL type {}",
            column.name, column.data_type
        ))
    };
    Ok(match (column.data_type.as_str(), value) {
        ("bigint", Value::Integer(i)) => Box::new(i),
        ("bigint", Value::Null) => Box::new(None::<i64>),
        ("integer", Value::Integer(i)) => {
            Box::new(i32::try_from(i).map_err(|_| wrong(&Value::Integer(i)))?)
        }
        ("integer", Value::Null) => Box::new(None::<i32>),
        ("boolean", Value::Integer(i)) => Box::new(i != 0),
        ("boolean", Value::Null) => Box::new(None::<bool>),
        ("double precision", Value::Real(f)) => Box::new(f),
        ("double precision", Value::Integer(i)) => Box::new(i as f64),
        ("double precision", Value::Null) => Box::new(None::<f64>),
        ("text", Value::Text(s)) => Box::new(s),
        ("text", Value::Null) => Box::new(None::<String>),
        ("bytea", Value::Blob(b)) => Box::new(b),
        ("bytea", Value::Null) => Box::new(None::<Vec<u8>>),
        (_, other) => return Err(wrong(&other)),
    })
}

fn copy_table(
    source: &rusqlite::Connection,
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    target: &[Column],
    progress: &mut dyn FnMut(&str, u64),
) -> Result<u64, StoreError> {
    let source_columns: Vec<String> = source
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if let Some(lost) = source_columns
        .iter()
        .find(|c| !target.iter().any(|t| &t.name == *c))
    {
        return Err(StoreError::Conflict(format!(
            "column {table}.{lost} of the embedded store has no place in the PostgreSQL \
             schema: nothing was copied"
        )));
    }
    // Columns only the target has keep their defaults.
    let shared: Vec<&Column> = target
        .iter()
        .filter(|t| source_columns.contains(&t.name))
        .collect();
    let names: Vec<&str> = shared.iter().map(|c| c.name.as_str()).collect();
    let placeholders: Vec<String> = (1..=shared.len()).map(|i| format!("${i}")).collect();
    let overriding = if shared.iter().any(|c| c.identity) {
        "OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} ({}) {overriding} VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        ))
        .map_err(pg)?;
    let mut select = source.prepare(&format!(
        "SELECT {} FROM {table} ORDER BY rowid",
        names.join(", ")
    ))?;
    let mut rows = select.query([])?;
    let mut copied = 0u64;
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(shared.len());
        for (i, column) in shared.iter().enumerate() {
            values.push(convert(table, column, row.get::<_, Value>(i)?)?);
        }
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        tx.execute(&insert, &params).map_err(pg)?;
        copied += 1;
        if copied.is_multiple_of(1000) {
            progress(table, copied);
        }
    }
    progress(table, copied);
    for column in shared.iter().filter(|c| c.identity) {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{name}'),
                     GREATEST((SELECT MAX({name}) FROM {table}), 1))",
                name = column.name
            ),
            &[],
        )
        .map_err(pg)?;
    }
    Ok(copied)
}
