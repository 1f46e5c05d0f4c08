//! The workflow issue's large agenda, written through a node's real write path: 5 rounds,
//! 500 suggestions, 2,000 handling units, feedback for four in five of them and 200
//! findings (4,306 entries with the genesis' first change). The benchmarks that measure
//! latency and rendering at that size share it.
//!
//! Record ids are fixed (`rid`): suggestion `s` is `rid(100 + s)`, handling `h` is
//! `rid(10_000 + h)`, its feedback `rid(50_000 + h)`, finding `f` `rid(90_000 + f)`, round
//! `r` (1–5) `rid(r)`.

use confer_protocol::model::{AgendaAction, ModelAction, RecordId, RecordKey, RecordWrite};
use confer_protocol::SpaceId;

use crate::TestNode;

/// Suggestions in the agenda.
pub const SUGGESTIONS: u64 = 500;
/// Handling units in the agenda (four per suggestion).
pub const HANDLING: u64 = 2_000;
/// Findings in the agenda.
pub const FINDINGS: u64 = 200;

/// Record `n`'s id: spread over the id space (an odd multiplier is a bijection on u64), as
/// the random ids the node makes are, so records fall into all 16 shards.
pub fn rid(n: u64) -> RecordId {
    RecordId::from_bytes(n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes())
}

/// A write of record `rid(n)` of `collection` (made if `create`); a body-area collection
/// goes to the author's body.
pub fn write(
    collection: &'static str,
    n: u64,
    create: bool,
    fields: Vec<(&'static str, String)>,
) -> ModelAction {
    AgendaAction::Write(RecordWrite {
        key: RecordKey {
            collection,
            body: None,
            id: rid(n),
        },
        create,
        fields,
    })
    .into()
}

/// Writes the workflow issue's agenda into `space` on `node`, as its first member; panics
/// on a refused write.
pub async fn fill(node: &TestNode, space: SpaceId) {
    let apply = |action: ModelAction| async move {
        node.handle
            .apply(space, action, None)
            .await
            .unwrap_or_else(|e| panic!("apply on {}: {e}", node.name));
    };
    for r in 1..=5u64 {
        apply(write(
            "round",
            r,
            true,
            vec![("number", r.to_string()), ("date", "2026-03-01".into())],
        ))
        .await;
    }
    for s in 0..SUGGESTIONS {
        apply(write(
            "suggestion",
            100 + s,
            true,
            vec![
                ("round", rid(1 + s % 5).to_string()),
                (
                    "text",
                    format!("建议 {s}：交界河道联合治理的具体举措之一，由两地共同推进落实。"),
                ),
                ("date", "2026-03-01".into()),
            ],
        ))
        .await;
    }
    for h in 0..HANDLING {
        apply(write(
            "handling",
            10_000 + h,
            true,
            vec![
                ("suggestion", rid(100 + h % SUGGESTIONS).to_string()),
                ("unit", format!("单位 {}", h % 17)),
                ("role", "lead".into()),
                ("assigned", "2026-03-10".into()),
                ("due", "2026-06-10".into()),
            ],
        ))
        .await;
        if h % 5 != 0 {
            apply(write(
                "feedback",
                50_000 + h,
                true,
                vec![
                    ("handling", rid(10_000 + h).to_string()),
                    ("result", "adopted".into()),
                    ("text", "已办理。".into()),
                    ("date", "2026-05-30".into()),
                ],
            ))
            .await;
        }
    }
    for f in 0..FINDINGS {
        apply(write(
            "finding",
            90_000 + f,
            true,
            vec![
                ("suggestion", rid(100 + f % SUGGESTIONS).to_string()),
                ("text", format!("回头看发现 {f}")),
                ("severity", "medium".into()),
            ],
        ))
        .await;
    }
}
