//! The change-chunk pre-check: the 2^40-op chunk refused in milliseconds (and the same chunk
//! with 5 ops parsed by automerge), the bound checked against automerge on real changes, on
//! hand-built column layouts and on mutated chunks, and one test per refusal.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use automerge::marks::{ExpandMark, Mark};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjType, ReadDoc, ScalarValue, ROOT};
use confer_protocol::chunk::{precheck_change, ChunkError, ChunkShape, MAX_CHANGE_OPS};
use confer_protocol::entry::EntryError;
use confer_protocol::wire::Writer;
use confer_protocol::{Entry, SecretKey, SpaceId};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Building chunks by hand

fn uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Column specifications, `(id << 4) | type`, as automerge 0.12 writes them in a change.
mod spec {
    pub const OBJ_ACTOR: u32 = 1;
    pub const OBJ_CTR: u32 = 2;
    pub const KEY_ACTOR: u32 = 17;
    pub const KEY_CTR: u32 = 19;
    pub const KEY_STR: u32 = 21;
    pub const INSERT: u32 = 52;
    pub const ACTION: u32 = 66;
    pub const VAL_META: u32 = 86;
    pub const VAL_RAW: u32 = 87;
    pub const PRED_GROUP: u32 = 112;
    pub const PRED_ACTOR: u32 = 113;
    pub const PRED_CTR: u32 = 115;
    pub const EXPAND: u32 = 148;
    pub const MARK_NAME: u32 = 165;
}

/// Everything after a change chunk's header.
#[derive(Clone, Debug)]
struct Body {
    deps: Vec<[u8; 32]>,
    actor: Vec<u8>,
    seq: u64,
    start_op: u64,
    time: i64,
    message: Vec<u8>,
    others: Vec<Vec<u8>>,
    columns: Vec<(u32, Vec<u8>)>,
    extra: Vec<u8>,
}

impl Body {
    fn new(columns: Vec<(u32, Vec<u8>)>) -> Body {
        Body {
            deps: Vec::new(),
            actor: vec![7; 32],
            seq: 1,
            start_op: 1,
            time: 0,
            message: Vec::new(),
            others: Vec::new(),
            columns,
            extra: Vec::new(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        uleb(&mut out, self.deps.len() as u64);
        for dep in &self.deps {
            out.extend_from_slice(dep);
        }
        uleb(&mut out, self.actor.len() as u64);
        out.extend_from_slice(&self.actor);
        uleb(&mut out, self.seq);
        uleb(&mut out, self.start_op);
        sleb(&mut out, self.time);
        uleb(&mut out, self.message.len() as u64);
        out.extend_from_slice(&self.message);
        uleb(&mut out, self.others.len() as u64);
        for other in &self.others {
            uleb(&mut out, other.len() as u64);
            out.extend_from_slice(other);
        }
        uleb(&mut out, self.columns.len() as u64);
        for (spec, data) in &self.columns {
            uleb(&mut out, u64::from(*spec));
            uleb(&mut out, data.len() as u64);
        }
        for (_, data) in &self.columns {
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&self.extra);
        out
    }

    fn chunk(&self) -> Vec<u8> {
        seal(&self.encode())
    }
}

/// A change chunk around `body`, with the checksum automerge computes: the first 4 bytes of
/// SHA-256 over type, LEB128 length and body.
fn seal(body: &[u8]) -> Vec<u8> {
    let mut hashed = vec![1u8];
    uleb(&mut hashed, body.len() as u64);
    hashed.extend_from_slice(body);
    let digest = Sha256::digest(&hashed);
    let mut chunk = MAGIC.to_vec();
    chunk.extend_from_slice(&digest[..4]);
    chunk.extend_from_slice(&hashed);
    chunk
}

/// The body of a chunk (after magic, checksum, type and length).
fn body_of(chunk: &[u8]) -> &[u8] {
    let mut at = 9;
    while chunk[at] & 0x80 != 0 {
        at += 1;
    }
    &chunk[at + 1..]
}

/// An entry encoding around `change` (`u8 version | [32] space | [32] body | u32 len, change | [64] sig`);
/// the signature is not checked by decoding.
fn entry_around(change: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(2)
        .raw(&[3; 32])
        .raw(&[4; 32])
        .bytes(change)
        .raw(&[0; 64]);
    w.finish()
}

/// Five columns, each one RLE run of `n` rows: key "a", insert false, action 1 (set), value
/// null, pred count 0. The object columns are left out, so every op is in the root map.
fn runs_of(n: u64) -> Body {
    let n = i64::try_from(n).expect("a run length");
    let mut key = Vec::new();
    sleb(&mut key, n);
    uleb(&mut key, 1);
    key.push(b'a');
    let mut insert = Vec::new();
    uleb(&mut insert, n as u64); // n times false
    let mut action = Vec::new();
    sleb(&mut action, n);
    uleb(&mut action, 1);
    let mut value = Vec::new();
    sleb(&mut value, n);
    uleb(&mut value, 0); // type null, length 0
    let mut pred = Vec::new();
    sleb(&mut pred, n);
    uleb(&mut pred, 0);
    Body::new(vec![
        (spec::KEY_STR, key),
        (spec::INSERT, insert),
        (spec::ACTION, action),
        (spec::VAL_META, value),
        (spec::PRED_GROUP, pred),
    ])
}

// ---------------------------------------------------------------------------------------------
// 1. The attack

#[test]
fn a_chunk_declaring_2_pow_40_ops_is_refused_in_milliseconds() {
    let n = 1u64 << 40;
    let chunk = runs_of(n).chunk();
    let mut bad_checksum = chunk.clone();
    bad_checksum[4] ^= 0xff;
    for (what, chunk) in [("valid", &chunk), ("bad", &bad_checksum)] {
        let entry = entry_around(chunk);
        let started = Instant::now();
        let prechecked = precheck_change(chunk, MAX_CHANGE_OPS);
        let decoded = Entry::decode(entry.clone());
        let took = started.elapsed();
        // The op bound is checked before the checksum, so both are refused for their ops.
        assert_eq!(
            prechecked,
            Err(ChunkError::TooManyOps {
                ops: n,
                max: MAX_CHANGE_OPS
            }),
            "{what} checksum"
        );
        assert!(
            matches!(
                decoded,
                Err(EntryError::Chunk(ChunkError::TooManyOps { ops, .. })) if ops == n
            ),
            "{what} checksum: {decoded:?}"
        );
        // Milliseconds in fact; a second is only a sanity bound for slow machines.
        assert!(
            took < Duration::from_secs(1),
            "{what} checksum: took {took:?}"
        );
    }
    // With no op limit, the bad checksum is still refused.
    assert_eq!(precheck_change(&chunk, u64::MAX).map(|s| s.ops), Ok(n));
    assert_eq!(
        precheck_change(&bad_checksum, u64::MAX),
        Err(ChunkError::BadChecksum)
    );
}

#[test]
fn the_same_chunk_with_5_ops_is_a_change_automerge_parses() {
    let chunk = runs_of(5).chunk();
    let shape = precheck_change(&chunk, MAX_CHANGE_OPS).expect("passes the pre-check");
    assert_eq!(
        shape,
        ChunkShape {
            ops: 5,
            group_entries: 0,
            seq: 1,
            start_op: 1,
            actor_len: 32,
            deps: 0,
            other_actors: 0,
            extra_bytes: 0,
        }
    );
    let change = Change::from_bytes(chunk.clone()).expect("automerge parses it");
    assert_eq!(change.len(), 5);
    assert_eq!(change.raw_bytes(), &chunk[..]);
    assert_eq!(change.seq(), 1);
    // And it decodes as an entry (its signature is another matter).
    let entry = Entry::decode(entry_around(&chunk)).expect("decodes as an entry");
    assert_eq!(entry.seq(), 1);
}

// ---------------------------------------------------------------------------------------------
// 2. Real changes

/// Three actors editing a document with maps, a list, text, counters and marks, committing
/// with messages and times, merging (or not) when switching.
#[derive(Debug, Clone)]
enum Edit {
    Put(u8, ScalarValue),
    PutObject(u8, u8),
    Delete(u8),
    Increment(u8, i64),
    Splice(u16, u8, String),
    Insert(u16, ScalarValue),
    RemoveItem(u16),
    Mark(u16, u8, u8, u8),
    Nested(u8, ScalarValue),
    Commit(Option<String>, i64),
    Switch(u8, bool),
}

fn scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        Just(ScalarValue::Null),
        any::<bool>().prop_map(ScalarValue::Boolean),
        any::<i64>().prop_map(ScalarValue::Int),
        any::<u64>().prop_map(ScalarValue::Uint),
        any::<f64>().prop_map(ScalarValue::F64),
        "\\PC{0,12}".prop_map(|s| ScalarValue::Str(s.into())),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(ScalarValue::Bytes),
        any::<i64>().prop_map(ScalarValue::Timestamp),
        (-1000i64..1000).prop_map(ScalarValue::counter),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<u8>(), scalar()).prop_map(|(k, v)| Edit::Put(k, v)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(k, t)| Edit::PutObject(k, t)),
        1 => any::<u8>().prop_map(Edit::Delete),
        1 => (any::<u8>(), -100i64..100).prop_map(|(k, by)| Edit::Increment(k, by)),
        3 => (any::<u16>(), any::<u8>(), "\\PC{0,30}").prop_map(|(at, del, s)| Edit::Splice(at, del, s)),
        1 => (any::<u16>(), scalar()).prop_map(|(at, v)| Edit::Insert(at, v)),
        1 => any::<u16>().prop_map(Edit::RemoveItem),
        1 => (any::<u16>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(at, len, name, expand)| Edit::Mark(at, len, name, expand)),
        1 => (any::<u8>(), scalar()).prop_map(|(k, v)| Edit::Nested(k, v)),
        // automerge 0.12 stores the times of its change graph as deltas, which overflow
        // (a panic in debug builds) between times more than i64::MAX apart.
        1 => (proptest::option::of("\\PC{0,20}"), -(1i64 << 60)..(1i64 << 60))
            .prop_map(|(m, t)| Edit::Commit(m, t)),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(to, merge)| Edit::Switch(to, merge)),
    ]
}

fn key(k: u8) -> String {
    format!("k{}", k % 6)
}

/// Merges `docs[from]` into `docs[to]`.
fn merge(docs: &mut [AutoCommit], to: usize, from: usize) {
    if to == from {
        return;
    }
    let (low, high) = docs.split_at_mut(to.max(from));
    let (a, b) = if to < from {
        (&mut low[to], &mut high[0])
    } else {
        (&mut high[0], &mut low[from])
    };
    a.merge(b).expect("merge");
}

/// Every change the edits produce, over all actors.
fn changes_of(edits: &[Edit]) -> Vec<Change> {
    let actor = |n: u8| ActorId::from(vec![n; 32]);
    let mut base = AutoCommit::new().with_actor(actor(1));
    let text = base.put_object(ROOT, "text", ObjType::Text).expect("text");
    let list = base.put_object(ROOT, "list", ObjType::List).expect("list");
    let map = base.put_object(ROOT, "map", ObjType::Map).expect("map");
    base.commit();
    let mut docs = vec![
        base.fork().with_actor(actor(2)),
        base.fork().with_actor(actor(3)),
    ];
    docs.insert(0, base);
    let mut at = 0;
    for edit in edits {
        let doc = &mut docs[at];
        // Edits that do not apply (a counter that is not one, ...) are skipped.
        match edit {
            Edit::Put(k, v) => {
                let _ = doc.put(ROOT, key(*k), v.clone());
            }
            Edit::PutObject(k, t) => {
                let kind = [ObjType::Map, ObjType::List, ObjType::Text][usize::from(*t % 3)];
                let _ = doc.put_object(ROOT, key(*k), kind);
            }
            Edit::Delete(k) => {
                let _ = doc.delete(ROOT, key(*k));
            }
            Edit::Increment(k, by) => {
                let _ = doc.increment(ROOT, key(*k), *by);
            }
            Edit::Splice(pos, del, s) => {
                let len = doc.length(&text);
                let pos = usize::from(*pos) % (len + 1);
                let del = usize::from(*del).min(len - pos);
                let _ = doc.splice_text(&text, pos, del as isize, s);
            }
            Edit::Insert(i, v) => {
                let len = doc.length(&list);
                let _ = doc.insert(&list, usize::from(*i) % (len + 1), v.clone());
            }
            Edit::RemoveItem(i) => {
                let len = doc.length(&list);
                if len > 0 {
                    let _ = doc.delete(&list, usize::from(*i) % len);
                }
            }
            Edit::Mark(start, len, name, expand) => {
                let text_len = doc.length(&text);
                if text_len > 0 {
                    let start = usize::from(*start) % text_len;
                    let end = (start + 1 + usize::from(*len)).min(text_len);
                    let expand = [
                        ExpandMark::Before,
                        ExpandMark::After,
                        ExpandMark::Both,
                        ExpandMark::None,
                    ][usize::from(*expand % 4)];
                    let mark = Mark::new(format!("m{}", name % 3), true, start, end);
                    let _ = doc.mark(&text, mark, expand);
                }
            }
            Edit::Nested(k, v) => {
                let _ = doc.put(&map, key(*k), v.clone());
            }
            Edit::Commit(message, time) => {
                let mut options = CommitOptions::default().with_time(*time);
                if let Some(m) = message {
                    options = options.with_message(m.clone());
                }
                doc.commit_with(options);
            }
            Edit::Switch(to, merged) => {
                doc.commit();
                let to = usize::from(*to % 3);
                if *merged {
                    merge(&mut docs, to, at);
                }
                at = to;
            }
        }
    }
    for doc in &mut docs {
        doc.commit();
    }
    merge(&mut docs, 0, 1);
    merge(&mut docs, 0, 2);
    docs[0].get_changes(&[])
}

/// The total number of preds over a change's ops.
fn preds_of(change: &Change) -> u64 {
    change
        .decode()
        .operations
        .iter()
        .map(|op| op.pred.len() as u64)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every change automerge writes passes, and its bounds are exact: every column of an
    /// honest change has one row per op, and the pred group one entry per pred.
    #[test]
    fn real_changes_pass_with_exact_bounds(edits in proptest::collection::vec(edit(), 1..40)) {
        for change in changes_of(&edits) {
            let raw = change.raw_bytes();
            let shape = precheck_change(raw, u64::MAX)
                .map_err(|e| TestCaseError::fail(format!("{e} for {change:?}")))?;
            let parsed = Change::from_bytes(raw.to_vec()).expect("automerge re-parses its own change");
            prop_assert!(shape.ops >= parsed.len() as u64);
            prop_assert_eq!(shape.ops, parsed.len() as u64);
            prop_assert_eq!(shape.group_entries, preds_of(&parsed));
            prop_assert_eq!(shape.seq, change.seq());
            prop_assert_eq!(shape.start_op, change.start_op().get());
            prop_assert_eq!(shape.deps, change.deps().len());
            prop_assert_eq!(shape.other_actors, change.other_actor_ids().len());
            prop_assert_eq!(shape.actor_len, 32);
            prop_assert_eq!(precheck_change(raw, MAX_CHANGE_OPS), Ok(shape));
        }
    }
}

/// A paste of more than 10,000 characters, which automerge encodes row by row rather than
/// column by column.
#[test]
fn a_long_paste_is_bounded_exactly() {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![1; 32]));
    let text = doc.put_object(ROOT, "text", ObjType::Text).expect("text");
    doc.splice_text(&text, 0, 0, &"平湖".repeat(10_000))
        .expect("splice");
    doc.commit();
    let change = doc.get_last_local_change().expect("a change");
    let shape = precheck_change(change.raw_bytes(), MAX_CHANGE_OPS).expect("passes");
    assert_eq!(change.len(), 20_001);
    assert_eq!(shape.ops, 20_001);
}

/// Signing obeys the same cap as decoding: a change one op over it is refused.
#[test]
fn signing_refuses_a_change_over_the_cap() {
    let author = SecretKey::from_seed([9; 32]);
    let mut doc = AutoCommit::new().with_actor(ActorId::from(author.public().as_bytes().to_vec()));
    let text = doc.put_object(ROOT, "text", ObjType::Text).expect("text");
    let over = usize::try_from(MAX_CHANGE_OPS).expect("fits");
    doc.splice_text(&text, 0, 0, &"a".repeat(over))
        .expect("splice");
    doc.commit();
    let change = doc.get_last_local_change().expect("a change");
    assert_eq!(change.len() as u64, MAX_CHANGE_OPS + 1);
    let signed = Entry::sign(
        SpaceId([5; 32]),
        confer_protocol::BodyId(author.public()),
        &change,
        &author,
    );
    assert_eq!(
        signed.err(),
        Some(EntryError::Chunk(ChunkError::TooManyOps {
            ops: MAX_CHANGE_OPS + 1,
            max: MAX_CHANGE_OPS
        }))
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Hand-built layouts and mutated chunks

/// Choices drawn from bytes proptest generates (and shrinks toward zero); zero once used up.
struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A number below `n` (0 if `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        let v = u64::from(u16::from_le_bytes([self.byte(), self.byte()]));
        if n == 0 {
            0
        } else {
            v % n
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One op's fields, as its columns will hold them.
struct Row {
    obj: Option<(u64, u64)>,
    key_actor: Option<u64>,
    key_ctr: Option<i64>,
    key_str: Option<String>,
    insert: bool,
    action: u64,
    /// Value metadata (`length << 4 | type`) and raw bytes.
    value: (u64, Vec<u8>),
    pred: Vec<(u64, i64)>,
    expand: bool,
    mark: Option<String>,
}

fn small_string(c: &mut Choices) -> String {
    [
        "",
        "a",
        "title",
        "长",
        "b",
        "a longer key than twenty-three bytes",
    ][c.below(6) as usize]
        .to_string()
}

fn value(c: &mut Choices) -> (u64, Vec<u8>) {
    let meta = |len: usize, ty: u64| ((len as u64) << 4) | ty;
    match c.below(11) {
        0 => (0, Vec::new()),
        1 => (1, Vec::new()),
        2 => (2, Vec::new()),
        3 | 8 => {
            let mut raw = Vec::new();
            uleb(&mut raw, c.below(1 << 16));
            (meta(raw.len(), if c.chance(50) { 3 } else { 8 }), raw)
        }
        4 | 9 => {
            let mut raw = Vec::new();
            sleb(&mut raw, c.below(1 << 16) as i64 - (1 << 15));
            (meta(raw.len(), [4, 8, 9][c.below(3) as usize]), raw)
        }
        5 => (meta(8, 5), 1.5f64.to_le_bytes().to_vec()),
        6 => {
            let s = small_string(c).into_bytes();
            (meta(s.len(), 6), s)
        }
        7 => {
            let raw = vec![c.byte(); c.below(5) as usize];
            (meta(raw.len(), 7), raw)
        }
        _ => {
            let raw = vec![c.byte(); c.below(3) as usize];
            (meta(raw.len(), 10 + c.below(6)), raw)
        }
    }
}

/// An index into the change's `actors`, now and then one past them.
fn actor(c: &mut Choices, actors: u64) -> u64 {
    if c.chance(2) {
        actors + c.below(3)
    } else {
        c.below(actors)
    }
}

fn row(c: &mut Choices, actors: u64) -> Row {
    let obj = c.chance(50).then(|| (actor(c, actors), 1 + c.below(20)));
    let (key_actor, key_ctr, key_str) = match c.below(3) {
        0 => (None, None, Some(small_string(c))),
        1 => (None, Some(0), None),
        _ => (Some(actor(c, actors)), Some(1 + c.below(20) as i64), None),
    };
    let value = value(c);
    let action = if c.chance(3) {
        8 + c.below(4) // unknown: automerge refuses
    } else {
        [0, 1, 2, 3, 4, 5, 6, 7][c.below(8) as usize]
    };
    let pred = (0..c.below(4))
        .map(|_| (actor(c, actors), 1 + c.below(30) as i64))
        .collect();
    Row {
        obj,
        key_actor,
        key_ctr,
        key_str,
        insert: c.chance(40),
        action,
        value,
        pred,
        expand: c.chance(20),
        mark: c.chance(20).then(|| small_string(c)),
    }
}

/// An RLE column holding `rows`, cut into randomly chosen runs: repeats of one value,
/// literal runs, null runs, and now and then an empty null run.
fn rle<T: PartialEq>(
    c: &mut Choices,
    rows: &[Option<T>],
    put: impl Fn(&mut Vec<u8>, &T),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if c.chance(5) {
            out.extend_from_slice(&[0, 0]);
        }
        let stretch = |same: &dyn Fn(&Option<T>) -> bool| {
            rows[i..].iter().take_while(|r| same(r)).count() as u64
        };
        match &rows[i] {
            None => {
                let n = 1 + c.below(stretch(&|r| r.is_none()));
                sleb(&mut out, 0);
                uleb(&mut out, n);
                i += n as usize;
            }
            Some(v) => {
                if c.chance(50) {
                    let n = 1 + c.below(stretch(&|r| r.as_ref() == Some(v)));
                    sleb(&mut out, n as i64);
                    put(&mut out, v);
                    i += n as usize;
                } else {
                    let n = 1 + c.below(stretch(&|r| r.is_some()));
                    sleb(&mut out, -(n as i64));
                    for v in rows[i..i + n as usize].iter().flatten() {
                        put(&mut out, v);
                    }
                    i += n as usize;
                }
            }
        }
    }
    out
}

fn put_u64(out: &mut Vec<u8>, v: &u64) {
    uleb(out, *v);
}

fn put_i64(out: &mut Vec<u8>, v: &i64) {
    sleb(out, *v);
}

fn put_str(out: &mut Vec<u8>, v: &str) {
    uleb(out, v.len() as u64);
    out.extend_from_slice(v.as_bytes());
}

/// A delta column: an RLE column of the differences between successive non-null values.
fn delta(c: &mut Choices, rows: &[Option<i64>]) -> Vec<u8> {
    let mut last = 0i64;
    let deltas: Vec<Option<i64>> = rows
        .iter()
        .map(|r| {
            r.map(|v| {
                let d = v - last;
                last = v;
                d
            })
        })
        .collect();
    rle(c, &deltas, put_i64)
}

/// A boolean column: alternating run lengths starting with `false`; a run is now and then
/// split in two around an empty run of the other value.
fn booleans(c: &mut Choices, rows: &[bool]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut current = false;
    let mut i = 0;
    while i < rows.len() {
        let n = rows[i..].iter().take_while(|&&b| b == current).count() as u64;
        if n >= 2 && c.chance(20) {
            let first = 1 + c.below(n - 1);
            uleb(&mut out, first);
            uleb(&mut out, 0);
            uleb(&mut out, n - first);
        } else {
            uleb(&mut out, n);
        }
        i += n as usize;
        current = !current;
    }
    out
}

/// Extra rows for a column that then no longer matches the others: a few, or a run far
/// beyond any limit.
fn extra_rows(c: &mut Choices, col_type: u32) -> Vec<u8> {
    let n = if c.chance(30) {
        1u64 << (20 + c.below(40))
    } else {
        1 + c.below(4)
    };
    let mut out = Vec::new();
    match col_type {
        4 => uleb(&mut out, n),
        _ if c.chance(50) => {
            sleb(&mut out, 0);
            uleb(&mut out, n);
        }
        5 => {
            sleb(&mut out, n as i64);
            put_str(&mut out, "x");
        }
        3 => {
            sleb(&mut out, n as i64);
            sleb(&mut out, -1);
        }
        _ => {
            sleb(&mut out, n as i64);
            uleb(&mut out, c.below(3));
        }
    }
    out
}

/// A change chunk with `n` ops laid out in randomly cut runs, then perhaps spoiled: a column
/// left out, given rows the others lack (a few, or a huge run), truncated or followed by a
/// stray byte; unknown columns, groups and value columns added; random deps, actors,
/// message, time, start op and extra bytes.
fn hand_built(choices: &[u8]) -> Vec<u8> {
    let c = &mut Choices {
        bytes: choices,
        at: 0,
    };
    let others: Vec<Vec<u8>> = (0..c.below(3))
        .map(|_| vec![c.byte(); c.below(40) as usize])
        .collect();
    let actors = 1 + others.len() as u64;
    let n = c.below(7) as usize;
    let rows: Vec<Row> = (0..n).map(|_| row(c, actors)).collect();

    let mut columns: Vec<(u32, Vec<u8>)> = Vec::new();
    let obj_actor: Vec<Option<u64>> = rows.iter().map(|r| r.obj.map(|o| o.0)).collect();
    let obj_ctr: Vec<Option<u64>> = rows.iter().map(|r| r.obj.map(|o| o.1)).collect();
    columns.push((spec::OBJ_ACTOR, rle(c, &obj_actor, put_u64)));
    columns.push((spec::OBJ_CTR, rle(c, &obj_ctr, put_u64)));
    let key_actor: Vec<Option<u64>> = rows.iter().map(|r| r.key_actor).collect();
    let key_ctr: Vec<Option<i64>> = rows.iter().map(|r| r.key_ctr).collect();
    let key_str: Vec<Option<String>> = rows.iter().map(|r| r.key_str.clone()).collect();
    columns.push((spec::KEY_ACTOR, rle(c, &key_actor, put_u64)));
    columns.push((spec::KEY_CTR, delta(c, &key_ctr)));
    columns.push((spec::KEY_STR, rle(c, &key_str, |o, s| put_str(o, s))));
    let insert: Vec<bool> = rows.iter().map(|r| r.insert).collect();
    columns.push((spec::INSERT, booleans(c, &insert)));
    let action: Vec<Option<u64>> = rows.iter().map(|r| Some(r.action)).collect();
    columns.push((spec::ACTION, rle(c, &action, put_u64)));
    let meta: Vec<Option<u64>> = rows.iter().map(|r| Some(r.value.0)).collect();
    columns.push((spec::VAL_META, rle(c, &meta, put_u64)));
    let raw: Vec<u8> = rows.iter().flat_map(|r| r.value.1.clone()).collect();
    columns.push((spec::VAL_RAW, raw));
    let counts: Vec<Option<u64>> = rows.iter().map(|r| Some(r.pred.len() as u64)).collect();
    columns.push((spec::PRED_GROUP, rle(c, &counts, put_u64)));
    let pred_actor: Vec<Option<u64>> = rows
        .iter()
        .flat_map(|r| r.pred.iter().map(|p| Some(p.0)))
        .collect();
    let pred_ctr: Vec<Option<i64>> = rows
        .iter()
        .flat_map(|r| r.pred.iter().map(|p| Some(p.1)))
        .collect();
    columns.push((spec::PRED_ACTOR, rle(c, &pred_actor, put_u64)));
    columns.push((spec::PRED_CTR, delta(c, &pred_ctr)));
    let expand: Vec<bool> = rows.iter().map(|r| r.expand).collect();
    columns.push((spec::EXPAND, booleans(c, &expand)));
    let mark: Vec<Option<String>> = rows.iter().map(|r| r.mark.clone()).collect();
    columns.push((spec::MARK_NAME, rle(c, &mark, |o, s| put_str(o, s))));

    // Columns automerge 0.12 does not know: an integer, a group with members, a value.
    if c.chance(20) {
        let ints: Vec<Option<u64>> = (0..c.below(5)).map(|_| Some(c.below(9))).collect();
        columns.push(((11 << 4) | 2, rle(c, &ints, put_u64)));
    }
    if c.chance(20) {
        let counts: Vec<Option<u64>> = (0..c.below(5)).map(|_| Some(c.below(4))).collect();
        let total: u64 = counts.iter().flatten().sum();
        let members: Vec<Option<u64>> = (0..total).map(|_| Some(c.below(3))).collect();
        let flags: Vec<bool> = (0..total).map(|_| c.chance(50)).collect();
        columns.push((12 << 4, rle(c, &counts, put_u64)));
        columns.push(((12 << 4) | 1, rle(c, &members, put_u64)));
        columns.push(((12 << 4) | 4, booleans(c, &flags)));
    }
    if c.chance(20) {
        let values: Vec<(u64, Vec<u8>)> = (0..c.below(5)).map(|_| value(c)).collect();
        let metas: Vec<Option<u64>> = values.iter().map(|v| Some(v.0)).collect();
        columns.push(((13 << 4) | 6, rle(c, &metas, put_u64)));
        columns.push((
            (13 << 4) | 7,
            values.into_iter().flat_map(|v| v.1).collect(),
        ));
    }

    // Spoil some columns.
    for (spec, data) in &mut columns {
        if c.chance(4) {
            data.clear();
        } else if c.chance(4) && *spec & 7 != 7 {
            let more = extra_rows(c, *spec & 7);
            data.extend_from_slice(&more);
        } else if c.chance(2) && !data.is_empty() {
            data.pop();
        } else if c.chance(2) {
            data.push(c.byte());
        }
    }
    // automerge omits empty columns; sometimes so do we.
    if c.chance(50) {
        columns.retain(|(_, data)| !data.is_empty());
    }

    let mut body = Body::new(columns);
    body.deps = (0..c.below(3)).map(|_| [c.byte(); 32]).collect();
    body.actor = vec![c.byte(); [32, 16, 0][c.below(3) as usize]];
    body.seq = 1 + c.below(5);
    body.start_op = 1 + c.below(1000);
    body.time = c.below(1 << 16) as i64 - (1 << 15);
    body.message = small_string(c).into_bytes();
    body.others = others;
    body.extra = vec![c.byte(); c.below(3) as usize];
    body.chunk()
}

/// Above this many ops (or pred entries) a chunk is not handed to automerge: it would take
/// too long, which is the point.
const AUTOMERGE_LIMIT: u64 = 10_000;

/// Checks the pre-check against automerge on one chunk; returns the ops automerge decoded
/// if it accepted the chunk.
fn check_against_automerge(chunk: &[u8]) -> Result<Option<usize>, TestCaseError> {
    let Ok(shape) = precheck_change(chunk, u64::MAX) else {
        return Ok(None);
    };
    // The limit refuses exactly what is over it.
    match precheck_change(chunk, AUTOMERGE_LIMIT) {
        Ok(capped) => {
            prop_assert_eq!(capped, shape);
            prop_assert!(shape.ops <= AUTOMERGE_LIMIT && shape.group_entries <= AUTOMERGE_LIMIT);
        }
        Err(ChunkError::TooManyOps { ops, max }) => {
            prop_assert_eq!((ops, max), (shape.ops, AUTOMERGE_LIMIT));
            prop_assert!(ops > AUTOMERGE_LIMIT);
            return Ok(None);
        }
        Err(ChunkError::TooManyGroupEntries { entries, max }) => {
            prop_assert_eq!((entries, max), (shape.group_entries, AUTOMERGE_LIMIT));
            prop_assert!(shape.ops <= AUTOMERGE_LIMIT && entries > AUTOMERGE_LIMIT);
            return Ok(None);
        }
        Err(e) => return Err(TestCaseError::fail(format!("capped pre-check: {e}"))),
    }
    let Ok(change) = Change::from_bytes(chunk.to_vec()) else {
        return Ok(None);
    };
    prop_assert!(
        shape.ops >= change.len() as u64,
        "bound {} < {} decoded ops",
        shape.ops,
        change.len()
    );
    prop_assert!(shape.group_entries >= preds_of(&change));
    prop_assert_eq!(shape.seq, change.seq());
    Ok(Some(change.len()))
}

/// Real changes to mutate.
static REAL: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let edits = [
        Edit::Put(0, ScalarValue::Str("议题".into())),
        Edit::Splice(0, 0, "跨界河道水环境联防联治".into()),
        Edit::Put(1, ScalarValue::counter(3)),
        Edit::Increment(1, 2),
        Edit::Mark(1, 3, 0, 2),
        Edit::Commit(Some("first".into()), 1_700_000_000),
        Edit::Switch(1, true),
        Edit::Put(0, ScalarValue::Int(-7)),
        Edit::Splice(2, 3, "ab".into()),
        Edit::Insert(0, ScalarValue::F64(2.5)),
        Edit::Nested(3, ScalarValue::Bytes(vec![1, 2, 3])),
        Edit::Switch(0, false),
        Edit::Put(0, ScalarValue::Boolean(true)),
        Edit::Delete(1),
        Edit::Switch(2, true),
        Edit::Put(0, ScalarValue::Null),
        Edit::RemoveItem(0),
    ];
    changes_of(&edits)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
});

fn mutate(bytes: &mut Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) {
    for (at, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(*byte);
            continue;
        }
        let i = at.index(bytes.len());
        match op {
            0 => bytes[i] = *byte,
            1 => bytes[i] ^= 1 << (byte % 8),
            2 => bytes.insert(i, *byte),
            _ => {
                bytes.remove(i);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Hand-built layouts: whenever automerge accepts one, the bounds hold.
    #[test]
    fn hand_built_layouts_are_bounded(choices in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_against_automerge(&hand_built(&choices))?;
    }

    /// Real chunks with bytes overwritten, flipped, inserted or removed — resealed with a
    /// valid checksum (so the changes reach the column walk) or not: the pre-check never
    /// panics, and whenever automerge also accepts the result, the bounds hold.
    #[test]
    fn mutated_real_chunks_are_bounded(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..6),
        reseal in any::<bool>(),
    ) {
        let original = which.get(&REAL);
        let chunk = if reseal {
            let mut body = body_of(original).to_vec();
            mutate(&mut body, &edits);
            seal(&body)
        } else {
            let mut chunk = original.clone();
            mutate(&mut chunk, &edits);
            chunk
        };
        if !reseal && chunk != *original {
            prop_assert!(precheck_change(&chunk, u64::MAX).is_err(), "a changed chunk keeps its checksum");
        }
        check_against_automerge(&chunk)?;
    }
}

/// The hand-built layouts are not vacuous: automerge accepts a good share of them, with
/// and without ops, and the pre-check refuses the ones with huge runs.
#[test]
fn hand_built_layouts_reach_automerge() {
    let mut state = 0x5eed_u64;
    let mut next = || {
        // SplitMix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (mut accepted, mut with_ops, mut too_many) = (0, 0, 0);
    for _ in 0..400 {
        let choices: Vec<u8> = (0..600).map(|_| next() as u8).collect();
        let chunk = hand_built(&choices);
        if let Err(ChunkError::TooManyOps { .. }) = precheck_change(&chunk, AUTOMERGE_LIMIT) {
            too_many += 1;
        }
        match check_against_automerge(&chunk) {
            Ok(Some(ops)) => {
                accepted += 1;
                with_ops += usize::from(ops > 0);
            }
            Ok(None) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(accepted >= 40, "automerge accepted only {accepted} of 400");
    assert!(with_ops >= 20, "only {with_ops} accepted layouts had ops");
    assert!(too_many >= 10, "only {too_many} layouts had too many ops");
}

// ---------------------------------------------------------------------------------------------
// 4. Every refusal

fn refused(chunk: &[u8]) -> ChunkError {
    precheck_change(chunk, MAX_CHANGE_OPS).expect_err("refused")
}

fn with_columns(columns: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    Body::new(columns).chunk()
}

#[test]
fn refuses_what_is_not_an_automerge_chunk() {
    let mut chunk = runs_of(1).chunk();
    chunk[0] = 0x86;
    assert_eq!(refused(&chunk), ChunkError::BadMagic);
    assert!(matches!(refused(&[]), ChunkError::Malformed(_)));
    assert!(matches!(refused(&MAGIC), ChunkError::Malformed(_)));
}

#[test]
fn refuses_other_chunk_types() {
    for chunk_type in [0u8, 3, 4, 255] {
        let mut chunk = runs_of(1).chunk();
        chunk[8] = chunk_type;
        assert_eq!(refused(&chunk), ChunkError::NotAChange { chunk_type });
    }
}

#[test]
fn refuses_compressed_changes() {
    // A real compressed change, as automerge writes one for a change over 256 bytes.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "text", "平湖".repeat(200)).expect("put");
    doc.commit();
    let mut change = doc.get_last_local_change().expect("a change");
    let compressed = change.bytes().to_vec();
    assert_eq!(compressed[8], 2, "automerge compressed it");
    assert_eq!(refused(&compressed), ChunkError::Compressed);
    assert!(precheck_change(change.raw_bytes(), MAX_CHANGE_OPS).is_ok());
}

#[test]
fn refuses_a_length_that_does_not_match() {
    let mut chunk = runs_of(1).chunk();
    chunk.push(0);
    let actual = chunk.len() - 10;
    assert_eq!(
        refused(&chunk),
        ChunkError::LengthMismatch {
            declared: actual as u64 - 1,
            actual
        }
    );
    chunk.truncate(chunk.len() - 2);
    assert_eq!(
        refused(&chunk),
        ChunkError::LengthMismatch {
            declared: actual as u64 - 1,
            actual: actual - 2
        }
    );
    // An overlong length is not the shortest form automerge requires.
    let good = runs_of(1).chunk();
    let mut overlong = good[..9].to_vec();
    overlong.extend_from_slice(&[good[9] | 0x80, 0]);
    overlong.extend_from_slice(&good[10..]);
    assert!(matches!(refused(&overlong), ChunkError::Malformed(_)));
}

#[test]
fn refuses_a_bad_checksum() {
    let mut chunk = runs_of(1).chunk();
    chunk[5] ^= 1;
    assert_eq!(refused(&chunk), ChunkError::BadChecksum);
    // Any change to the body is caught by the checksum, e.g. the time.
    let mut body = runs_of(1);
    body.time = 12;
    let mut chunk = body.chunk();
    chunk[..8].copy_from_slice(&runs_of(1).chunk()[..8]);
    assert_eq!(refused(&chunk), ChunkError::BadChecksum);
}

#[test]
fn refuses_sequence_number_zero() {
    let mut body = runs_of(1);
    body.seq = 0;
    assert_eq!(refused(&body.chunk()), ChunkError::SeqZero);
    let decoded = Entry::decode(entry_around(&body.chunk()));
    assert!(matches!(decoded, Err(EntryError::SeqZero)), "{decoded:?}");
}

#[test]
fn refuses_too_many_ops_in_any_column() {
    let over = MAX_CHANGE_OPS + 1;
    let at_cap = runs_of(MAX_CHANGE_OPS).chunk();
    assert_eq!(
        precheck_change(&at_cap, MAX_CHANGE_OPS).map(|s| s.ops),
        Ok(MAX_CHANGE_OPS)
    );
    let chunk = runs_of(over).chunk();
    assert_eq!(
        refused(&chunk),
        ChunkError::TooManyOps {
            ops: over,
            max: MAX_CHANGE_OPS
        }
    );
    // Not only the action column: each column on its own, even one automerge ignores.
    let long_runs = runs_of(over);
    for (i, (spec, _)) in long_runs.columns.iter().enumerate() {
        let mut body = runs_of(1);
        body.columns[i] = long_runs.columns[i].clone();
        assert_eq!(
            refused(&body.chunk()),
            ChunkError::TooManyOps {
                ops: over,
                max: MAX_CHANGE_OPS
            },
            "column {spec}"
        );
    }
    let mut unknown = Vec::new();
    sleb(&mut unknown, 0);
    uleb(&mut unknown, over);
    let mut body = runs_of(1);
    body.columns.push(((20 << 4) | 2, unknown));
    assert!(matches!(
        refused(&body.chunk()),
        ChunkError::TooManyOps { .. }
    ));
    // Literal runs and boolean runs add up too; counts saturate rather than wrap.
    let mut insert = Vec::new();
    uleb(&mut insert, u64::MAX);
    uleb(&mut insert, u64::MAX);
    let mut body = runs_of(1);
    body.columns[1] = (spec::INSERT, insert);
    assert_eq!(
        refused(&body.chunk()),
        ChunkError::TooManyOps {
            ops: u64::MAX,
            max: MAX_CHANGE_OPS
        }
    );
}

#[test]
fn refuses_too_many_pred_entries() {
    // One op whose pred count is 2^40, over columns of 2^40 pred actors and counters.
    let mut body = runs_of(1);
    let n = 1i64 << 40;
    let mut count = Vec::new();
    sleb(&mut count, 1);
    uleb(&mut count, n as u64);
    let mut actors = Vec::new();
    sleb(&mut actors, n);
    uleb(&mut actors, 0);
    let mut counters = Vec::new();
    sleb(&mut counters, n);
    sleb(&mut counters, 1);
    body.columns[4] = (spec::PRED_GROUP, count);
    body.columns.push((spec::PRED_ACTOR, actors));
    body.columns.push((spec::PRED_CTR, counters));
    assert_eq!(
        refused(&body.chunk()),
        ChunkError::TooManyGroupEntries {
            entries: n as u64,
            max: MAX_CHANGE_OPS
        }
    );
    // Counts times run lengths: 2^20 ops of 2^20 preds each.
    let mut body = runs_of(1 << 20);
    let mut count = Vec::new();
    sleb(&mut count, 1 << 20);
    uleb(&mut count, 1 << 20);
    body.columns[4] = (spec::PRED_GROUP, count);
    assert_eq!(
        precheck_change(&body.chunk(), u64::MAX).map(|s| s.group_entries),
        Ok(1 << 40)
    );
    // Member columns longer than the counts say are bounded too.
    let mut body = runs_of(1);
    let mut actors = Vec::new();
    sleb(&mut actors, n);
    uleb(&mut actors, 0);
    body.columns.push((spec::PRED_ACTOR, actors));
    assert_eq!(
        refused(&body.chunk()),
        ChunkError::TooManyGroupEntries {
            entries: n as u64,
            max: MAX_CHANGE_OPS
        }
    );
}

#[test]
fn refuses_malformed_headers() {
    let malformed = |body: &Body| {
        let e = refused(&body.chunk());
        assert!(matches!(e, ChunkError::Malformed(_)), "{e:?} for {body:?}");
    };
    let mut body = runs_of(1);
    body.start_op = 0;
    malformed(&body);
    body.start_op = u64::from(u32::MAX) + 1;
    malformed(&body);
    let mut body = runs_of(1);
    body.message = vec![0xff, 0xfe];
    malformed(&body);
    // Counts larger than the chunk: deps, other actors, columns.
    for at in [0usize, 1] {
        let good = runs_of(1).encode();
        let mut bad = good.clone();
        if at == 0 {
            bad[0] = 0x7f; // 127 deps
        } else {
            bad.truncate(1);
            bad.extend_from_slice(&[0x20]); // actor of 32 bytes, missing
        }
        let e = refused(&seal(&bad));
        assert!(matches!(e, ChunkError::Malformed(_)), "{e:?}");
    }
    let mut body = runs_of(1);
    body.columns.clear();
    let mut bytes = body.encode();
    // Replace the column count 0 with a huge one.
    let zero = bytes.len() - 1;
    bytes[zero] = 0x7f;
    assert!(matches!(refused(&seal(&bytes)), ChunkError::Malformed(_)));
    // A column length past the end of the chunk.
    let mut body = runs_of(1);
    body.columns.clear();
    let mut bytes = body.encode();
    bytes.pop();
    bytes.extend_from_slice(&[1, 66, 10, 1]);
    assert!(matches!(refused(&seal(&bytes)), ChunkError::Malformed(_)));
    // An overlong timestamp.
    let mut body = runs_of(1);
    body.columns.clear();
    let bytes = body.encode();
    let time_at = 1 + 1 + 32 + 1 + 1;
    assert_eq!(bytes[time_at], 0);
    let mut overlong = bytes[..time_at].to_vec();
    overlong.extend_from_slice(&[0x80, 0x00]);
    overlong.extend_from_slice(&bytes[time_at + 1..]);
    assert!(matches!(
        refused(&seal(&overlong)),
        ChunkError::Malformed(_)
    ));
}

#[test]
fn refuses_malformed_column_layouts() {
    let malformed = |columns: Vec<(u32, Vec<u8>)>, why: &str| {
        let e = refused(&with_columns(columns));
        assert!(matches!(e, ChunkError::Malformed(_)), "{why}: {e:?}");
    };
    let action = || {
        let mut a = Vec::new();
        sleb(&mut a, 1);
        uleb(&mut a, 1);
        a
    };
    malformed(
        vec![(spec::ACTION, action()), (spec::INSERT, vec![1])],
        "out of order",
    );
    malformed(
        vec![(spec::ACTION, action()), (spec::ACTION, action())],
        "repeated",
    );
    malformed(vec![(spec::ACTION | 0b1000, action())], "deflated");
    malformed(vec![(spec::VAL_RAW, vec![1])], "raw value without metadata");
    malformed(
        vec![(spec::VAL_META, vec![1, 0]), ((7 << 4) | 7, vec![1])],
        "raw value after another id's metadata",
    );
    // A specification that does not fit in 32 bits.
    let mut bytes = Body::new(Vec::new()).encode();
    bytes.pop();
    uleb(&mut bytes, 1);
    uleb(&mut bytes, u64::from(u32::MAX) + 1);
    uleb(&mut bytes, 0);
    assert!(matches!(refused(&seal(&bytes)), ChunkError::Malformed(_)));
}

#[test]
fn refuses_malformed_runs() {
    let malformed = |spec: u32, data: Vec<u8>, why: &str| {
        let e = refused(&with_columns(vec![(spec, data)]));
        assert!(matches!(e, ChunkError::Malformed(_)), "{why}: {e:?}");
    };
    // A literal run of 2^40 values with one value there.
    let mut literal = Vec::new();
    sleb(&mut literal, -(1 << 40));
    uleb(&mut literal, 1);
    malformed(spec::ACTION, literal, "literal run longer than its column");
    // A literal run of i64::MIN, whose absolute value automerge computes with overflow.
    let mut literal = Vec::new();
    sleb(&mut literal, i64::MIN);
    malformed(spec::ACTION, literal, "literal run of i64::MIN");
    malformed(spec::ACTION, vec![2], "run without its value");
    malformed(spec::ACTION, vec![0x80], "truncated run header");
    malformed(spec::ACTION, vec![0x81, 0x00, 1], "overlong run header");
    malformed(spec::ACTION, vec![1, 0x81, 0x00], "overlong value");
    malformed(spec::INSERT, vec![0x80], "truncated boolean run");
    malformed(spec::KEY_CTR, vec![1, 0xff, 0x7f], "overlong delta");
    // A string longer than its column: automerge would allocate its length first.
    let mut string = Vec::new();
    sleb(&mut string, 1);
    uleb(&mut string, 999_999_999);
    string.push(b'a');
    malformed(spec::KEY_STR, string, "string longer than its column");
    let mut string = Vec::new();
    sleb(&mut string, 1);
    uleb(&mut string, 1);
    string.push(0xff);
    malformed(spec::KEY_STR, string, "string not UTF-8");
    // An 11-byte LEB128 number.
    let mut long = vec![0x80u8; 10];
    long.push(0);
    malformed(spec::ACTION, long, "too long a number");
    malformed(
        spec::INSERT,
        vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        "a 65-bit number",
    );
}

#[test]
fn reads_the_largest_numbers_rather_than_refusing_them() {
    // The largest counts that fit, in shortest form, are read, not refused.
    let mut insert = Vec::new();
    uleb(&mut insert, u64::MAX);
    assert_eq!(
        precheck_change(&with_columns(vec![(spec::INSERT, insert)]), u64::MAX).map(|s| s.ops),
        Ok(u64::MAX)
    );
    let mut action = Vec::new();
    sleb(&mut action, i64::MAX);
    uleb(&mut action, u64::MAX);
    assert_eq!(
        precheck_change(&with_columns(vec![(spec::ACTION, action)]), u64::MAX).map(|s| s.ops),
        Ok(i64::MAX as u64)
    );
    let mut deltas = Vec::new();
    sleb(&mut deltas, -2);
    sleb(&mut deltas, i64::MIN);
    sleb(&mut deltas, i64::MAX);
    assert_eq!(
        precheck_change(&with_columns(vec![(spec::KEY_CTR, deltas)]), u64::MAX).map(|s| s.ops),
        Ok(2)
    );
    let mut body = runs_of(1);
    body.time = i64::MIN;
    body.start_op = u64::from(u32::MAX);
    assert!(precheck_change(&body.chunk(), MAX_CHANGE_OPS).is_ok());
    body.time = i64::MAX;
    body.extra = vec![1, 2, 3];
    assert_eq!(
        precheck_change(&body.chunk(), MAX_CHANGE_OPS).map(|s| s.extra_bytes),
        Ok(3)
    );
}

#[test]
fn refuses_actor_indices_beyond_the_changes_actors() {
    // One insert after element (actor 2, counter 1): actor 2 is the second other actor.
    let body = |others: usize| {
        let mut key_actor = Vec::new();
        sleb(&mut key_actor, 1);
        uleb(&mut key_actor, 2);
        let mut key_ctr = Vec::new();
        sleb(&mut key_ctr, 1);
        sleb(&mut key_ctr, 1);
        let mut body = Body::new(vec![
            (spec::KEY_ACTOR, key_actor),
            (spec::KEY_CTR, key_ctr),
            (spec::INSERT, vec![0, 1]),
            (spec::ACTION, vec![1, 1]),
            (spec::VAL_META, vec![1, 0]),
            (spec::PRED_GROUP, vec![1, 0]),
        ]);
        body.others = (0..others).map(|n| vec![n as u8; 32]).collect();
        body.chunk()
    };
    assert!(precheck_change(&body(2), MAX_CHANGE_OPS).is_ok());
    let chunk = body(1);
    assert!(matches!(refused(&chunk), ChunkError::Malformed(_)));
    // Why: automerge parses such a change, then panics applying it (in release builds too).
    let change = Change::from_bytes(chunk).expect("automerge parses it");
    let mut doc = automerge::Automerge::new();
    let applied =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes([change])));
    assert!(
        applied.is_err(),
        "automerge 0.12 no longer panics: {applied:?}"
    );
}

/// Fuzzing found automerge 0.12 panicking (an `unwrap` in `OpId::new`) on a change whose
/// predecessor counter does not fit 32 bits. A well-formed chunk with such a counter is
/// refused with an error, whatever part of the stack notices.
#[test]
fn a_predecessor_counter_beyond_32_bits_is_an_error_not_a_panic() {
    for (ctr, actor) in [(1i64 << 33, 0u64), (1, 1u64 << 33)] {
        let mut key = Vec::new();
        sleb(&mut key, 1);
        uleb(&mut key, 1);
        key.push(b'a');
        let mut insert = Vec::new();
        uleb(&mut insert, 1);
        let mut action = Vec::new();
        sleb(&mut action, 1);
        uleb(&mut action, 1);
        let mut value = Vec::new();
        sleb(&mut value, 1);
        uleb(&mut value, 0);
        let mut pred = Vec::new();
        sleb(&mut pred, 1);
        uleb(&mut pred, 1);
        let mut pred_actor = Vec::new();
        sleb(&mut pred_actor, 1);
        uleb(&mut pred_actor, actor);
        let mut pred_ctr = Vec::new();
        sleb(&mut pred_ctr, 1);
        sleb(&mut pred_ctr, ctr);
        let chunk = Body::new(vec![
            (spec::KEY_STR, key),
            (spec::INSERT, insert),
            (spec::ACTION, action),
            (spec::VAL_META, value),
            (spec::PRED_GROUP, pred),
            (spec::PRED_ACTOR, pred_actor),
            (spec::PRED_CTR, pred_ctr),
        ])
        .chunk();
        let decoded = std::panic::catch_unwind(|| Entry::decode(entry_around(&chunk)));
        assert!(
            matches!(decoded, Ok(Err(_))),
            "ctr {ctr} actor {actor}: {:?}",
            decoded.map(|r| r.map(|e| e.seq()))
        );
    }
}
