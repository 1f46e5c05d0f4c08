//! Every table of the redb file as rows of bytes, read in one read transaction and written
//! back in one write transaction: what a backup archive holds of the store.
//!
//! Rows are the bytes redb itself keeps for each key and value (`redb::Key::as_bytes`),
//! so a table's rows come back exactly as they were. Before a row from an archive is
//! given to redb it is checked to have the shape its table's types need (a fixed width,
//! or UTF-8 for text keys): redb assumes its own bytes, and a damaged archive must be an
//! error, not a panic.

use redb::{
    Key, ReadTransaction, ReadableTable, TableDefinition, TableHandle, Value, WriteTransaction,
};

use crate::store::{tables, StoreError};

/// One table's rows, in key order: (key bytes, value bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    pub name: String,
    pub rows: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Why rows could not be written back.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    #[error("table {0} is not one this program knows (the backup was made by a newer release)")]
    UnknownTable(String),
    #[error("table {table}: row {row} does not have the shape the table needs")]
    BadRow { table: String, row: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<redb::StorageError> for RowsError {
    fn from(e: redb::StorageError) -> Self {
        RowsError::Store(e.into())
    }
}

impl From<redb::TableError> for RowsError {
    fn from(e: redb::TableError) -> Self {
        RowsError::Store(e.into())
    }
}

/// What a variable-width column must hold.
#[derive(Clone, Copy)]
enum Shape {
    Bytes,
    Text,
}

fn fits<T: Value>(data: &[u8], shape: Shape) -> bool {
    match T::fixed_width() {
        Some(width) => data.len() == width,
        None => match shape {
            Shape::Bytes => true,
            Shape::Text => std::str::from_utf8(data).is_ok(),
        },
    }
}

fn dump_table<K: Key + 'static, V: Value + 'static>(
    txn: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<TableRows, StoreError> {
    let table = txn.open_table(def)?;
    let mut rows = Vec::new();
    for item in table.iter()? {
        let (k, v) = item?;
        rows.push((
            K::as_bytes(&k.value()).as_ref().to_vec(),
            V::as_bytes(&v.value()).as_ref().to_vec(),
        ));
    }
    Ok(TableRows {
        name: def.name().to_owned(),
        rows,
    })
}

fn load_table<K: Key + 'static, V: Value + 'static>(
    txn: &WriteTransaction,
    def: TableDefinition<K, V>,
    rows: &TableRows,
    shapes: (Shape, Shape),
) -> Result<(), RowsError> {
    let mut table = txn.open_table(def)?;
    for (i, (k, v)) in rows.rows.iter().enumerate() {
        if !fits::<K>(k, shapes.0) || !fits::<V>(v, shapes.1) {
            return Err(RowsError::BadRow {
                table: rows.name.clone(),
                row: i,
            });
        }
        table.insert(K::from_bytes(k), V::from_bytes(v))?;
    }
    Ok(())
}

/// Calls `$each!(definition, key shape, value shape)` for every table of the store.
macro_rules! every_table {
    ($each:ident) => {
        $each!(tables::META, Shape::Text, Shape::Bytes);
        $each!(tables::SPACES, Shape::Bytes, Shape::Bytes);
        $each!(tables::LOG, Shape::Bytes, Shape::Bytes);
        $each!(tables::ENTRY_INDEX, Shape::Bytes, Shape::Bytes);
        $each!(tables::LOG_LEN, Shape::Bytes, Shape::Bytes);
        $each!(tables::CERTS, Shape::Bytes, Shape::Bytes);
        $each!(tables::EVIDENCE, Shape::Bytes, Shape::Bytes);
        $each!(tables::EVIDENCE_SEEN, Shape::Bytes, Shape::Bytes);
        $each!(tables::SNAPSHOTS, Shape::Bytes, Shape::Bytes);
        $each!(tables::PEERS, Shape::Text, Shape::Bytes);
        $each!(tables::INVITED, Shape::Bytes, Shape::Bytes);
        $each!(tables::TRUSTED, Shape::Bytes, Shape::Bytes);
        $each!(tables::REVOCATIONS, Shape::Bytes, Shape::Bytes);
        $each!(tables::WITHDRAWN, Shape::Bytes, Shape::Bytes);
        $each!(tables::OWN_TIPS, Shape::Bytes, Shape::Bytes);
        $each!(tables::CONSENTS, Shape::Bytes, Shape::Bytes);
    };
}

/// Every table's rows as `txn` sees them: one consistent state of the file.
pub fn dump(txn: &ReadTransaction) -> Result<Vec<TableRows>, StoreError> {
    let mut out = Vec::new();
    macro_rules! each {
        ($def:expr, $k:expr, $v:expr) => {
            out.push(dump_table(txn, $def)?);
        };
    }
    every_table!(each);
    Ok(out)
}

/// Writes `tables` into `txn` (a new, empty file's), checking every row first.
pub fn load(txn: &WriteTransaction, tables: &[TableRows]) -> Result<(), RowsError> {
    for rows in tables {
        let mut known = false;
        macro_rules! each {
            ($def:expr, $k:expr, $v:expr) => {
                if !known && rows.name == $def.name() {
                    known = true;
                    load_table(txn, $def, rows, ($k, $v))?;
                }
            };
        }
        every_table!(each);
        if !known {
            return Err(RowsError::UnknownTable(rows.name.clone()));
        }
    }
    Ok(())
}
