//! The closed loop per suggestion, read from an agenda's records (建言报送 → 批示抄告 →
//! 意见办理 → 结果反馈 → 评价): each handling unit's state and whether it is overdue, and a
//! suggestion's whole trail across rounds and bodies (提与落). Pure functions of the view
//! and an "as of" date, so every node holding the same entries shows the same thing.
//!
//! Where concurrent writes left two records for one thing (two feedback records for one
//! handling unit), the one with the latest date wins, ties broken by the larger id — the
//! same choice on every node.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::AgendaView;
use crate::cert::BodyId;
use crate::model::date::Date;
use crate::model::schema::{split_list, RecordView};

/// One handling unit of one body for one suggestion, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitStatus {
    /// The handling record.
    pub id: String,
    /// The body that assigned it (its id).
    pub body: String,
    pub body_name: Option<String>,
    pub suggestion: String,
    pub unit: String,
    /// "lead" or "co".
    pub role: String,
    pub assigned: String,
    pub received: String,
    /// The deadline in force: the extension's if there is one.
    pub due: String,
    pub extended: bool,
    pub handed_back: String,
    /// The feedback that stands, if any.
    pub feedback: Option<FeedbackStatus>,
    /// Days past the deadline without feedback, as of the date asked (0: not overdue).
    pub overdue_days: i64,
}

/// A unit's feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackStatus {
    pub id: String,
    pub result: String,
    pub text: String,
    pub reason: String,
    pub date: String,
}

fn latest<'a>(records: impl Iterator<Item = &'a RecordView>) -> Option<&'a RecordView> {
    records.max_by(|a, b| (a.get("date"), a.id).cmp(&(b.get("date"), b.id)))
}

/// Every handling unit of the agenda, with its feedback and how overdue it is on `as_of`.
pub fn units(view: &AgendaView, as_of: Date) -> Vec<UnitStatus> {
    // Each unit's feedback records, found once: (area, handling id) → records.
    let mut feedback: HashMap<(Option<BodyId>, &str), Vec<&RecordView>> = HashMap::new();
    for f in view.records("feedback") {
        feedback
            .entry((f.area, f.get("handling")))
            .or_default()
            .push(f);
    }
    view.records("handling")
        .iter()
        .map(|h| {
            let id = h.id.to_string();
            let fb = latest(
                feedback
                    .get(&(h.area, id.as_str()))
                    .into_iter()
                    .flatten()
                    .copied(),
            );
            let extended = Date::parse(h.get("extended_to")).is_some();
            let due = if extended {
                h.get("extended_to")
            } else {
                h.get("due")
            };
            let open = fb.is_none() && h.get("handed_back").is_empty();
            let overdue_days = match Date::parse(due) {
                Some(due) if open => (as_of.days() - due.days()).max(0),
                _ => 0,
            };
            let area = h.area.map(|b| b.to_string()).unwrap_or_default();
            UnitStatus {
                id,
                body_name: h.created_by.as_ref().and_then(|a| a.body_name.clone()),
                body: area,
                suggestion: h.get("suggestion").to_owned(),
                unit: h.get("unit").to_owned(),
                role: h.get("role").to_owned(),
                assigned: h.get("assigned").to_owned(),
                received: h.get("received").to_owned(),
                due: due.to_owned(),
                extended,
                handed_back: h.get("handed_back").to_owned(),
                feedback: fb.map(|f| FeedbackStatus {
                    id: f.id.to_string(),
                    result: f.get("result").to_owned(),
                    text: f.get("text").to_owned(),
                    reason: f.get("reason").to_owned(),
                    date: f.get("date").to_owned(),
                }),
                overdue_days,
            }
        })
        .collect()
}

/// The units past their deadline without feedback on `as_of`, most overdue first.
pub fn overdue(view: &AgendaView, as_of: Date) -> Vec<UnitStatus> {
    let mut out: Vec<UnitStatus> = units(view, as_of)
        .into_iter()
        .filter(|u| u.overdue_days > 0)
        .collect();
    out.sort_by(|a, b| b.overdue_days.cmp(&a.overdue_days).then(a.id.cmp(&b.id)));
    out
}

/// A record as the trail shows it: id, the body whose area holds it, and its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailItem {
    pub id: String,
    pub body: Option<String>,
    pub body_name: Option<String>,
    pub member_name: Option<String>,
    pub fields: Vec<(String, String)>,
}

impl TrailItem {
    fn of(r: &RecordView) -> Self {
        TrailItem {
            id: r.id.to_string(),
            body: r.area.map(|b| b.to_string()),
            body_name: r.created_by.as_ref().and_then(|a| a.body_name.clone()),
            member_name: r.created_by.as_ref().and_then(|a| a.member_name.clone()),
            fields: r
                .fields
                .iter()
                .filter_map(|f| {
                    f.current
                        .as_ref()
                        .map(|v| (f.name.to_owned(), v.value.clone()))
                })
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// 提与落: everything that happened to one suggestion, side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trail {
    pub suggestion: TrailItem,
    /// The round's number ("" if the round is unknown).
    pub round: String,
    /// Suggestions it continues (再协商), oldest first, and those that continue it.
    pub earlier: Vec<TrailItem>,
    pub later: Vec<TrailItem>,
    pub outcomes: Vec<TrailItem>,
    pub submissions: Vec<TrailItem>,
    pub instructions: Vec<TrailItem>,
    pub units: Vec<UnitStatus>,
    pub evaluations: Vec<TrailItem>,
    pub carried: Vec<TrailItem>,
    pub findings: Vec<TrailItem>,
}

/// The trail of suggestion `id` on `as_of`, if the agenda has it.
pub fn trail(view: &AgendaView, id: &str, as_of: Date) -> Option<Trail> {
    let suggestion = view.record("suggestion", id)?;
    let about = |collection: &str| -> Vec<TrailItem> {
        view.records(collection)
            .iter()
            .filter(|r| r.get("suggestion") == id)
            .map(TrailItem::of)
            .collect()
    };
    let mut earlier = Vec::new();
    let mut at = suggestion.get("from_suggestion").to_owned();
    while let Some(prev) = view.record("suggestion", &at) {
        if earlier.len() >= 64 {
            break;
        }
        earlier.insert(0, TrailItem::of(prev));
        at = prev.get("from_suggestion").to_owned();
    }
    let later = view
        .records("suggestion")
        .iter()
        .filter(|s| s.get("from_suggestion") == id)
        .map(TrailItem::of)
        .collect();
    Some(Trail {
        suggestion: TrailItem::of(suggestion),
        round: view
            .record("round", suggestion.get("round"))
            .map(|r| r.get("number").to_owned())
            .unwrap_or_default(),
        earlier,
        later,
        outcomes: view
            .records("outcome")
            .iter()
            .filter(|o| split_list(o.get("suggestions")).contains(&id))
            .map(TrailItem::of)
            .collect(),
        submissions: about("submission"),
        instructions: about("instruction"),
        units: units(view, as_of)
            .into_iter()
            .filter(|u| u.suggestion == id)
            .collect(),
        evaluations: about("evaluation"),
        carried: about("carry"),
        findings: about("finding"),
    })
}
