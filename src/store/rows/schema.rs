//! A [`Table`] checked against the live schema its migrations made: every
//! column it names exists, its key is the table's primary key (the conflict
//! target of its upserts), its version and guard columns are integers.

use sqlx::Row;

use super::Table;
use crate::store::{Backend, Store};

/// Where a [`Table`] disagrees with the database.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database has no such table.
    #[error("{table}: no such table in the database")]
    NoTable {
        /// The table.
        table: &'static str,
    },
    /// A column the `Table` names that the database table lacks.
    #[error("{table}: no column {column} in the database")]
    NoColumn {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// The key is not the primary key.
    #[error("{table}: key ({key}) is not the primary key ({primary})")]
    Key {
        /// The table.
        table: &'static str,
        /// The `Table`'s key.
        key: String,
        /// The database's primary key.
        primary: String,
    },
    /// A version or guard column that is not an integer.
    #[error("{table}: version column {column} is {kind}, not an integer")]
    NotInteger {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// Its type.
        kind: String,
    },
    /// The catalog could not be read.
    #[error("{table}: {source}")]
    Sql {
        /// The table.
        table: &'static str,
        /// Why.
        source: sqlx::Error,
    },
}

/// Checks `table` against the database of `store`.
pub async fn check(store: &Store, table: &'static Table) -> Result<(), SchemaError> {
    let sql = |source| SchemaError::Sql {
        table: table.name,
        source,
    };
    let (columns_sql, primary_sql) = match store.backend() {
        Backend::Postgres => (
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1::regclass AND i.indisprimary",
        ),
        Backend::Sqlite => (
            "SELECT name, type FROM pragma_table_info($1)",
            "SELECT name FROM pragma_table_info($1) WHERE pk > 0",
        ),
    };
    let rows = (sqlx::query(columns_sql).bind(table.name))
        .fetch_all(store.pool())
        .await
        .map_err(sql)?;
    if rows.is_empty() {
        return Err(SchemaError::NoTable { table: table.name });
    }
    let mut present = Vec::with_capacity(rows.len());
    for r in &rows {
        present.push((
            r.try_get::<String, _>(0).map_err(sql)?,
            r.try_get::<String, _>(1).map_err(sql)?,
        ));
    }
    let kind_of = |c: &str| present.iter().find(|(n, _)| n == c).map(|(_, k)| k.clone());
    let guards: Vec<&'static str> = std::iter::once(table.version)
        .chain(table.patchable.iter().filter_map(|p| p.guard))
        .collect();
    let named = (table
        .columns
        .iter()
        .chain(table.key)
        .chain(table.on_conflict_update))
    .copied()
    .chain(table.patchable.iter().map(|p| p.column))
    .chain(guards.iter().copied());
    for column in named {
        if kind_of(column).is_none() {
            return Err(SchemaError::NoColumn {
                table: table.name,
                column,
            });
        }
    }
    for column in guards {
        let kind = kind_of(column).unwrap_or_default();
        if !kind.to_ascii_lowercase().contains("int") {
            return Err(SchemaError::NotInteger {
                table: table.name,
                column,
                kind,
            });
        }
    }
    let primary = (sqlx::query(primary_sql).bind(table.name))
        .fetch_all(store.pool())
        .await
        .map_err(sql)?;
    let mut primary: Vec<String> = (primary.iter())
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    let mut key: Vec<String> = table.key.iter().map(|k| k.to_string()).collect();
    primary.sort();
    key.sort();
    if primary != key {
        return Err(SchemaError::Key {
            table: table.name,
            key: key.join(", "),
            primary: primary.join(", "),
        });
    }
    Ok(())
}
