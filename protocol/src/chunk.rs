//! A bounded pre-check of an automerge change chunk, run before automerge parses any of it.
//!
//! automerge decodes a change's ops from run-length encoded columns and validates every op it
//! decodes (about 150 ns each). Run counts are not capped, so a chunk of a few hundred bytes
//! can declare 2^40 ops and hold a node for days; and automerge's `Change::from_bytes` does
//! not check the chunk's checksum. [`precheck_change`] reads the chunk's headers and only the
//! *run headers* of its columns — it never expands a run and allocates nothing in proportion
//! to a run count — and returns an upper bound on what automerge will decode, or refuses the
//! chunk. It is deliberately stricter than automerge: anything it accepts automerge may still
//! refuse, but apart from the op cap nothing it refuses is a change automerge's own encoder
//! writes (the tests check this on random real changes).
//!
//! # What it accepts
//!
//! Exactly one uncompressed change chunk (type 1): magic bytes, a 4-byte checksum, the type,
//! a LEB128 length equal to the number of bytes that follow, then the change: dependencies,
//! actor, sequence number (not 0), start op (1 to `u32::MAX`, as automerge requires), time,
//! a UTF-8 message, other actors, column metadata, column data, and any extra bytes (which
//! automerge keeps but never decodes). Every LEB128 number must be in its shortest form — for
//! those, automerge's decoders and this one read the same value, so a count cannot be read
//! one way here and another way there. Columns must be in strictly increasing order of
//! specification, none deflate-compressed, and a raw value column must directly follow its
//! metadata column. Errors are reported in reading order, except the checksum (the first 4
//! bytes of SHA-256 over the chunk type, the LEB128 length and the change, as automerge's
//! `storage/chunk.rs` computes it), which is verified last: the structural walk is itself
//! bounded by the chunk's length and refuses most garbage before the whole chunk is hashed
//! (and a sequence number of 0 is reported as such even when the checksum is also wrong).
//!
//! # The bound, and why it holds (automerge 0.12)
//!
//! `Change::from_bytes` counts the ops that `ChangeOpsIter` (`storage/change/
//! change_op_columns.rs`) yields. The iterator stops when the *action* column's decoder is
//! done (its bytes consumed and no run pending); each op it yields takes one row from the
//! action column (a missing or null row is an error that ends the iteration), and one from
//! each of the key, insert, value and pred-count columns, and the object, expand and mark-name
//! columns when present. So the ops decoded are at most the rows of the action column.
//! [`ChunkShape::ops`] is the largest row count of *any* top-level column — for an honest
//! change every column has one row per op, so this costs nothing, and it stays sound should
//! automerge ever end iteration on another column.
//!
//! Row counts come from run headers alone: an RLE run `n > 0` is `n` rows and one value, a
//! literal run `-n` is `n` rows and `n` values, a null run `0, n` is `n` rows; a boolean column
//! is alternating run lengths; a delta column is an RLE column of deltas; a raw value column
//! has as many rows as its metadata column (each row's length is in the metadata and is
//! checked against the raw column by automerge before it reads). Values that are skipped are
//! still read, so a string's length must fit in its column — automerge would otherwise
//! allocate that length (up to a gigabyte) before noticing the bytes are missing. automerge
//! turns run lengths into `isize` unchecked (`count.abs()`, `as isize`), so a literal run of
//! `i64::MIN` or a null run past `isize::MAX` would run for ever; the first is refused here
//! (longer than its column), the second is far over any cap.
//!
//! Per op automerge also walks the pred group: the op's count from the group column, then
//! that many rows of the group's actor and counter columns. One op with a count of 2^40 costs
//! as much as 2^40 ops, so [`ChunkShape::group_entries`] bounds those too: per group column,
//! the larger of the sum of its counts (a run `n` of count `c` is `n * c` entries) and the
//! row count of its member columns, summed over groups. Both bounds are compared with the
//! same `max_ops`. Everything else automerge does per op is constant or paid for in bytes
//! of the chunk, and all arithmetic here saturates.
//!
//! # Actor indices
//!
//! Actor columns hold indices into the change's actors (its own, then the other actors).
//! automerge parses an index past that list, then panics applying the change (an `unwrap`
//! in `apply_changes`, in release builds too), so such an index is refused here. What this
//! check cannot see is whether each *other actor* is known to the document the change is
//! applied to — automerge panics on an unknown one as well; that needs the document.

use sha2::{Digest, Sha256};

/// The most ops (and the most pred entries) a change may carry, received or created.
///
/// At about 150 ns to validate each op it decodes, a change at the cap costs automerge about
/// 15 ms to parse (applying it costs more, in proportion). A human edit never approaches it: a
/// keystroke, a field or a paragraph is a handful of ops; pasting text is one op per
/// character, so a 100,000-character paste still fits; deleting it is one op and one pred
/// entry per character.
pub const MAX_CHANGE_OPS: u64 = 100_000;

/// automerge's chunk magic bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type of an uncompressed change.
const CHUNK_CHANGE: u8 = 1;
/// The chunk type of a deflate-compressed change.
const CHUNK_COMPRESSED: u8 = 2;

// Column types: the low three bits of a column specification.
const COL_GROUP: u32 = 0;
const COL_ACTOR: u32 = 1;
const COL_INTEGER: u32 = 2;
const COL_DELTA: u32 = 3;
const COL_BOOLEAN: u32 = 4;
const COL_STRING: u32 = 5;
const COL_VALUE_META: u32 = 6;
const COL_VALUE: u32 = 7;
/// The bit of a column specification that marks its data as deflate-compressed.
const COL_DEFLATE: u32 = 0b1000;

/// What the pre-check learned from a change chunk's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkShape {
    /// Upper bound on the ops automerge decodes: the largest row count of any column outside
    /// a group.
    pub ops: u64,
    /// Upper bound on the entries of all group columns (in a change: the preds of all ops).
    pub group_entries: u64,
    /// The change's sequence number (never 0).
    pub seq: u64,
    /// The counter of the change's first op.
    pub start_op: u64,
    /// Length of the change's actor id in bytes.
    pub actor_len: usize,
    /// Number of dependencies.
    pub deps: usize,
    /// Number of other actors listed (the ops refer to actors by index into them).
    pub other_actors: usize,
    /// Bytes after the column data, which automerge keeps but does not decode.
    pub extra_bytes: usize,
}

/// Why a change chunk was refused before automerge saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("not an automerge chunk (bad magic bytes)")]
    BadMagic,
    #[error("automerge chunk of type {chunk_type} is not a change")]
    NotAChange { chunk_type: u8 },
    #[error("compressed change chunks are refused")]
    Compressed,
    #[error("chunk header declares {declared} bytes but {actual} follow it")]
    LengthMismatch { declared: u64, actual: usize },
    #[error("change chunk checksum does not match its contents")]
    BadChecksum,
    #[error("change has sequence number 0 (sequence numbers start at 1)")]
    SeqZero,
    #[error("malformed change chunk: {0}")]
    Malformed(&'static str),
    #[error("change may decode to {ops} ops, more than the {max} allowed")]
    TooManyOps { ops: u64, max: u64 },
    #[error("change may decode to {entries} pred entries, more than the {max} allowed")]
    TooManyGroupEntries { entries: u64, max: u64 },
}

/// Checks that `raw` is one well-formed, uncompressed automerge change chunk with a valid
/// checksum whose ops (and pred entries) automerge would decode number at most `max_ops`,
/// without expanding any run. Pure; its time and memory are linear in `raw.len()`.
pub fn precheck_change(raw: &[u8], max_ops: u64) -> Result<ChunkShape, ChunkError> {
    let mut r = Reader::new(raw);
    let magic = r.take(4, "chunk header ends early")?;
    if magic != MAGIC {
        return Err(ChunkError::BadMagic);
    }
    let checksum = r.take(4, "chunk header ends early")?;
    let hashed_from = r.at;
    match r.byte("chunk header ends early")? {
        CHUNK_CHANGE => {}
        CHUNK_COMPRESSED => return Err(ChunkError::Compressed),
        chunk_type => return Err(ChunkError::NotAChange { chunk_type }),
    }
    let declared = r.uleb("chunk length is not a shortest-form LEB128 number")?;
    if usize::try_from(declared).ok() != Some(r.remaining()) {
        return Err(ChunkError::LengthMismatch {
            declared,
            actual: r.remaining(),
        });
    }

    // The change header (automerge's `Change::parse_following_header`).
    let deps = r.uleb("bad dependency count")?;
    let deps = usize::try_from(deps)
        .ok()
        .filter(|&n| n <= r.remaining() / 32)
        .ok_or(ChunkError::Malformed(
            "more dependencies than the chunk holds",
        ))?;
    r.take(deps.saturating_mul(32), "dependencies end early")?;
    let actor_len = r.length("bad actor length")?;
    r.take(actor_len, "actor id ends early")?;
    let seq = r.uleb("bad sequence number")?;
    if seq == 0 {
        return Err(ChunkError::SeqZero);
    }
    let start_op = r.uleb("bad start op")?;
    if start_op == 0 || start_op > u64::from(u32::MAX) {
        return Err(ChunkError::Malformed(
            "start op is 0 or does not fit in 32 bits",
        ));
    }
    r.sleb("bad timestamp")?;
    let message_len = r.length("bad message length")?;
    let message = r.take(message_len, "message ends early")?;
    if std::str::from_utf8(message).is_err() {
        return Err(ChunkError::Malformed("message is not UTF-8"));
    }
    // Each other actor takes at least its length byte.
    let other_actors = r.uleb("bad other-actor count")?;
    let other_actors = usize::try_from(other_actors)
        .ok()
        .filter(|&n| n <= r.remaining())
        .ok_or(ChunkError::Malformed(
            "more other actors than the chunk holds",
        ))?;
    for _ in 0..other_actors {
        let len = r.length("bad other-actor length")?;
        r.take(len, "other actor ends early")?;
    }

    // Column metadata: (specification, length) pairs; the data follows all of them.
    let num_columns = r.uleb("bad column count")?;
    if num_columns > (r.remaining() / 2) as u64 {
        return Err(ChunkError::Malformed("more columns than the chunk holds"));
    }
    let mut columns: Vec<(u32, usize)> = Vec::new();
    let mut data_len = 0usize;
    for _ in 0..num_columns {
        let spec = u32::try_from(r.uleb("bad column specification")?)
            .map_err(|_| ChunkError::Malformed("column specification exceeds 32 bits"))?;
        let len = r.length("bad column length")?;
        data_len = data_len
            .checked_add(len)
            .filter(|&total| total <= r.remaining())
            .ok_or(ChunkError::Malformed(
                "column data runs past the end of the chunk",
            ))?;
        columns.push((spec, len));
    }
    let column_data = r.take(data_len, "column data runs past the end of the chunk")?;
    let extra_bytes = r.remaining();

    let (ops, group_entries) = bound_columns(&columns, column_data, other_actors)?;
    if ops > max_ops {
        return Err(ChunkError::TooManyOps { ops, max: max_ops });
    }
    if group_entries > max_ops {
        return Err(ChunkError::TooManyGroupEntries {
            entries: group_entries,
            max: max_ops,
        });
    }

    // The length was checked to be in shortest form and to match, so the bytes after the
    // checksum are exactly what automerge hashes: type, LEB128 length, change.
    let hashed = raw
        .get(hashed_from..)
        .ok_or(ChunkError::Malformed("chunk header ends early"))?;
    let digest = Sha256::digest(hashed);
    if digest.get(..4) != Some(checksum) {
        return Err(ChunkError::BadChecksum);
    }

    Ok(ChunkShape {
        ops,
        group_entries,
        seq,
        start_op,
        actor_len,
        deps,
        other_actors,
        extra_bytes,
    })
}

/// A group column being walked: its id, the sum of its counts, and the most rows any of its
/// member columns has.
struct Group {
    id: u32,
    counts: u64,
    member_rows: u64,
}

impl Group {
    fn entries(&self) -> u64 {
        self.counts.max(self.member_rows)
    }
}

/// Walks every column's run headers; returns (ops bound, group entries bound). Actor columns
/// hold indices into the change's actors (itself, then `other_actors`), which must exist.
fn bound_columns(
    columns: &[(u32, usize)],
    data: &[u8],
    other_actors: usize,
) -> Result<(u64, u64), ChunkError> {
    let mut r = Reader::new(data);
    let mut ops = 0u64;
    let mut entries = 0u64;
    let mut group: Option<Group> = None;
    let mut previous: Option<u32> = None;
    for &(spec, len) in columns {
        let col = r.take(len, "column data runs past the end of the chunk")?;
        if spec & COL_DEFLATE != 0 {
            return Err(ChunkError::Malformed("a column is deflate-compressed"));
        }
        if previous.is_some_and(|p| spec <= p) {
            return Err(ChunkError::Malformed(
                "columns are out of order or repeated",
            ));
        }
        let (id, col_type) = (spec >> 4, spec & 0b111);
        if col_type == COL_VALUE && previous != Some(spec - 1) {
            // `spec - 1` is the same id with type ValueMetadata; spec & 7 == 7 so no underflow.
            return Err(ChunkError::Malformed(
                "a raw value column does not follow its metadata column",
            ));
        }
        previous = Some(spec);
        if group.as_ref().is_some_and(|g| g.id != id) {
            if let Some(done) = group.take() {
                entries = entries.saturating_add(done.entries());
            }
        }
        let rows = match col_type {
            COL_GROUP => {
                let runs = walk_rle(col, Value::Unsigned)?;
                group = Some(Group {
                    id,
                    counts: runs.sum,
                    member_rows: 0,
                });
                runs.rows
            }
            COL_ACTOR => {
                let runs = walk_rle(col, Value::Unsigned)?;
                if runs.max > other_actors as u64 {
                    return Err(ChunkError::Malformed(
                        "an actor index is beyond the change's actors",
                    ));
                }
                runs.rows
            }
            COL_INTEGER | COL_VALUE_META => walk_rle(col, Value::Unsigned)?.rows,
            COL_DELTA => walk_rle(col, Value::Signed)?.rows,
            COL_STRING => walk_rle(col, Value::String)?.rows,
            COL_BOOLEAN => walk_boolean(col)?,
            // COL_VALUE: as many rows as its metadata column, already counted.
            _ => 0,
        };
        match group.as_mut() {
            Some(g) if col_type != COL_GROUP && g.id == id => {
                g.member_rows = g.member_rows.max(rows);
            }
            _ => ops = ops.max(rows),
        }
    }
    if let Some(done) = group {
        entries = entries.saturating_add(done.entries());
    }
    Ok((ops, entries))
}

/// How a column's values are encoded.
#[derive(Clone, Copy)]
enum Value {
    /// Unsigned LEB128 (actor indices, integers, value metadata, group counts).
    Unsigned,
    /// Signed LEB128 (the deltas of a delta column).
    Signed,
    /// A LEB128 length and that many bytes of UTF-8.
    String,
}

/// What an RLE column's run headers add up to.
struct Runs {
    /// Rows the column decodes to.
    rows: u64,
    /// Sum of its values over all rows (unsigned columns only; nulls count 0).
    sum: u64,
    /// Largest value (unsigned columns only; 0 if none).
    max: u64,
}

/// Reads an RLE column as automerge's `RleDecoder` does, adding up run lengths: `n > 0`
/// then one value is `n` rows; `-n` then `n` values is `n` rows; `0` then `n` is `n` nulls.
fn walk_rle(col: &[u8], value: Value) -> Result<Runs, ChunkError> {
    let mut r = Reader::new(col);
    let mut runs = Runs {
        rows: 0,
        sum: 0,
        max: 0,
    };
    while r.remaining() > 0 {
        let header = r.sleb("bad run header")?;
        let n = header.unsigned_abs();
        if header > 0 {
            let v = r.value(value)?;
            runs.rows = runs.rows.saturating_add(n);
            runs.sum = runs.sum.saturating_add(n.saturating_mul(v));
            runs.max = runs.max.max(v);
        } else if header < 0 {
            // Every value takes at least one byte: a longer run cannot be there.
            if n > r.remaining() as u64 {
                return Err(ChunkError::Malformed(
                    "literal run is longer than its column",
                ));
            }
            for _ in 0..n {
                let v = r.value(value)?;
                runs.sum = runs.sum.saturating_add(v);
                runs.max = runs.max.max(v);
            }
            runs.rows = runs.rows.saturating_add(n);
        } else {
            let nulls = r.uleb("bad null run length")?;
            runs.rows = runs.rows.saturating_add(nulls);
        }
    }
    Ok(runs)
}

/// Reads a boolean column: run lengths of alternating values, starting with `false`.
fn walk_boolean(col: &[u8]) -> Result<u64, ChunkError> {
    let mut r = Reader::new(col);
    let mut rows = 0u64;
    while r.remaining() > 0 {
        rows = rows.saturating_add(r.uleb("bad boolean run length")?);
    }
    Ok(rows)
}

/// A cursor over bytes that refuses, rather than panics, at every malformation.
struct Reader<'a> {
    bytes: &'a [u8],
    /// Always `<= bytes.len()`.
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.at)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ChunkError> {
        let end = self.at.checked_add(n).ok_or(ChunkError::Malformed(what))?;
        let taken = self
            .bytes
            .get(self.at..end)
            .ok_or(ChunkError::Malformed(what))?;
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, ChunkError> {
        let b = *self.bytes.get(self.at).ok_or(ChunkError::Malformed(what))?;
        self.at += 1;
        Ok(b)
    }

    /// An unsigned LEB128 number in shortest form.
    fn uleb(&mut self, what: &'static str) -> Result<u64, ChunkError> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte(what)?;
            if i == 9 && b > 1 {
                return Err(ChunkError::Malformed(what)); // more than 64 bits
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    return Err(ChunkError::Malformed(what)); // not the shortest form
                }
                return Ok(value);
            }
        }
        Err(ChunkError::Malformed(what))
    }

    /// A signed LEB128 number in shortest form.
    fn sleb(&mut self, what: &'static str) -> Result<i64, ChunkError> {
        let mut value = 0i64;
        let mut shift = 0u32;
        let mut previous = 0u8;
        for i in 0..10 {
            let b = self.byte(what)?;
            if i == 9 && b != 0x00 && b != 0x7f {
                return Err(ChunkError::Malformed(what)); // more than 64 bits
            }
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                let redundant =
                    (b == 0x00 && previous & 0x40 == 0) || (b == 0x7f && previous & 0x40 != 0);
                if i > 0 && redundant {
                    return Err(ChunkError::Malformed(what)); // not the shortest form
                }
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            previous = b;
        }
        Err(ChunkError::Malformed(what))
    }

    /// An unsigned LEB128 length, which must fit in what is left.
    fn length(&mut self, what: &'static str) -> Result<usize, ChunkError> {
        let len = self.uleb(what)?;
        usize::try_from(len)
            .ok()
            .filter(|&len| len <= self.remaining())
            .ok_or(ChunkError::Malformed(what))
    }

    /// Skips one value of a column; returns it if it is unsigned, else 0.
    fn value(&mut self, value: Value) -> Result<u64, ChunkError> {
        match value {
            Value::Unsigned => self.uleb("bad value in a column"),
            Value::Signed => self.sleb("bad value in a column").map(|_| 0),
            Value::String => {
                let len = self.length("string runs past the end of its column")?;
                let s = self.take(len, "string runs past the end of its column")?;
                if std::str::from_utf8(s).is_err() {
                    return Err(ChunkError::Malformed("string in a column is not UTF-8"));
                }
                Ok(0)
            }
        }
    }
}
