//! The workflow routes: writing an agenda's records, and the views computed from them —
//! overdue handling, a suggestion's trail (提与落), the year-end report.
//!
//! - `POST /v1/agendas/{id}/records {collection, id?, fields, as?}` → `{"id"}`
//! - `GET /v1/overdue?on=DATE` → every agenda's units past their deadline on DATE
//!   (default: today, Beijing time)
//! - `GET /v1/agendas/{id}/suggestions/{sid}?on=DATE` → the suggestion's trail
//! - `GET /v1/report?year=Y&agenda=ID&as_of=DATE` → the year-end report's figures

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use confer_protocol::model::agenda::followup::{self, Trail, UnitStatus};
use confer_protocol::model::agenda::outcomes;
use confer_protocol::model::agenda::report::{self, Report};
use confer_protocol::model::bundle::Bundle;
use confer_protocol::model::date::Date;
use confer_protocol::model::history::HistoryItem;
use confer_protocol::model::schema::Schema;
use confer_protocol::model::{
    AgendaAction, AgendaView, ModelView, RecordId, RecordKey, RecordWrite,
};
use confer_protocol::SpaceId;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{parse_member, parse_space, ApiError};
use crate::handle::{NodeError, NodeHandle};
use crate::views::Created;

pub(super) fn routes() -> Router<NodeHandle> {
    Router::new()
        .route("/v1/agendas/{id}/records", post(write_record))
        .route("/v1/agendas/{id}/suggestions/{sid}", get(suggestion_trail))
        .route("/v1/agendas/{id}/outcomes/{oid}/sign", post(sign_outcome))
        .route(
            "/v1/agendas/{id}/outcomes/{oid}/bundle",
            get(outcome_bundle),
        )
        .route("/v1/agendas/{id}/history", get(space_history))
        .route("/v1/overdue", get(overdue))
        .route("/v1/report", get(year_report))
}

/// `POST /v1/agendas/{id}/records`: make a record (no `id`) or edit one (`id`: its id) of
/// an agenda. A record of a body's own collection (handling, feedback, …) is written in this
/// node's body's area. A field set to "" is cleared.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WriteRecord {
    pub collection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_member: Option<String>,
}

async fn write_record(
    State(node): State<NodeHandle>,
    UrlPath(space): UrlPath<String>,
    Json(body): Json<WriteRecord>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let space = parse_space(&space)?;
    let author = parse_member(body.as_member.as_deref())?;
    let write = record_write(&confer_protocol::model::AGENDA_SCHEMA, &body)?;
    let created = write.create;
    let id = write.key.id;
    node.apply(space, AgendaAction::Write(write).into(), author)
        .await?;
    Ok(created_or_ok(created, id))
}

/// The answer to a record write: 201 for a new record, 200 for an edit, with its id.
pub(super) fn created_or_ok(created: bool, id: RecordId) -> (StatusCode, Json<Created>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(Created { id: id.to_string() }))
}

/// A record write from its request: a known collection and fields of `schema`, a fresh
/// random id for a new record.
pub(super) fn record_write(schema: &Schema, body: &WriteRecord) -> Result<RecordWrite, NodeError> {
    let collection = schema.collection(&body.collection).ok_or_else(|| {
        NodeError::BadInput(format!(
            "unknown collection {:?}; one of: {}",
            body.collection,
            schema
                .collections
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let fields = body
        .fields
        .iter()
        .map(|(name, value)| {
            let field = collection.field(name).ok_or_else(|| {
                NodeError::BadInput(format!(
                    "a {} has no field {name:?}; its fields: {}",
                    collection.name,
                    collection
                        .fields
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            Ok((field.name, value.clone()))
        })
        .collect::<Result<Vec<_>, NodeError>>()?;
    let (id, create) = match &body.id {
        Some(id) => (
            id.parse::<RecordId>()
                .map_err(|e| NodeError::BadInput(e.to_string()))?,
            false,
        ),
        // An attachment is content-addressed: its id is the first 8 bytes of its SHA-256.
        None if collection.name == "attachment" => {
            let sha = body.fields.get("sha256").map(String::as_str).unwrap_or("");
            let id = sha
                .get(..16)
                .and_then(|prefix| prefix.parse::<RecordId>().ok())
                .ok_or_else(|| {
                    NodeError::BadInput(
                        "an attachment needs its sha256 (64 lowercase hex characters)".into(),
                    )
                })?;
            (id, true)
        }
        None => (RecordId::from_bytes(rand::rng().random()), true),
    };
    Ok(RecordWrite {
        key: RecordKey {
            collection: collection.name,
            body: None,
            id,
        },
        create,
        fields,
    })
}

/// `?on=DATE` or `?as_of=DATE`; default today (Beijing time).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OnQuery {
    #[serde(default)]
    pub on: Option<String>,
}

/// `GET /v1/report`'s query.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ReportQuery {
    pub year: u32,
    #[serde(default)]
    pub agenda: Option<String>,
    #[serde(default)]
    pub as_of: Option<String>,
}

/// An overdue unit and its agenda.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OverdueItem {
    pub agenda: String,
    pub agenda_title: String,
    #[serde(flatten)]
    pub unit: UnitStatus,
}

fn date_or_today(value: Option<&str>, what: &str) -> Result<Date, NodeError> {
    match value {
        None | Some("") => Ok(Date::from_unix_seconds(crate::runtime::unix_now())),
        Some(v) => Date::parse(v.trim()).ok_or_else(|| {
            NodeError::BadInput(format!("{what}: expected a date YYYY-MM-DD, got {v:?}"))
        }),
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, NodeError> {
    q.map(|Query(q)| q)
        .map_err(|e| NodeError::BadInput(e.body_text()))
}

/// Every agenda this node holds (not invitations), with its model view.
async fn agendas(node: &NodeHandle) -> Result<Vec<(SpaceId, AgendaView)>, NodeError> {
    let mut out = Vec::new();
    for summary in node.list_agendas().await? {
        if summary.invited {
            continue;
        }
        let id = parse_space(&summary.id)?;
        out.push((id, agenda(node, id).await?));
    }
    Ok(out)
}

async fn agenda(node: &NodeHandle, id: SpaceId) -> Result<AgendaView, NodeError> {
    match node.read(id).await? {
        ModelView::Agenda(view) => Ok(view),
        ModelView::Ledger(_) => Err(NodeError::UnknownAgenda(id.to_string())),
    }
}

/// `POST /v1/agendas/{id}/outcomes/{oid}/sign {as?}`: this body's signature on the
/// outcome's current text, by a member who may sign (`can_sign`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SignOutcome {
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_member: Option<String>,
}

async fn sign_outcome(
    State(node): State<NodeHandle>,
    UrlPath((space, outcome)): UrlPath<(String, String)>,
    Json(body): Json<SignOutcome>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let space = parse_space(&space)?;
    let author = parse_member(body.as_member.as_deref())?;
    let outcome: RecordId = outcome
        .parse()
        .map_err(|e: confer_protocol::model::ModelError| NodeError::BadInput(e.to_string()))?;
    let id = RecordId::from_bytes(rand::rng().random());
    node.apply(space, AgendaAction::Sign { outcome, id }.into(), author)
        .await?;
    Ok(created_or_ok(true, id))
}

/// `GET /v1/agendas/{id}/outcomes/{oid}/bundle`: the outcome's self-contained bundle
/// (`docs/outcome-bundle.md`) — its current text, the attestations over it and the
/// certificates that prove who signed.
async fn outcome_bundle(
    State(node): State<NodeHandle>,
    UrlPath((space, outcome)): UrlPath<(String, String)>,
) -> Result<Json<Bundle>, ApiError> {
    let view = agenda(&node, parse_space(&space)?).await?;
    let text =
        outcomes::outcome_text(&view, &outcome).map_err(|e| NodeError::BadInput(e.to_string()))?;
    let certs = node.certificates().await?;
    Ok(Json(Bundle::build(
        &text,
        &outcomes::attestations(&view, &outcome),
        &certs,
    )))
}

/// `?record=ID`: only that record's writes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    pub record: Option<String>,
}

/// `GET /v1/agendas/{id}/history?record=ID`: who changed what, when, from the entries.
async fn space_history(
    State(node): State<NodeHandle>,
    UrlPath(space): UrlPath<String>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<HistoryItem>>, ApiError> {
    let q = query(q)?;
    Ok(Json(node.history(parse_space(&space)?, q.record).await?))
}

async fn overdue(
    State(node): State<NodeHandle>,
    q: Result<Query<OnQuery>, QueryRejection>,
) -> Result<Json<Vec<OverdueItem>>, ApiError> {
    let q = query(q)?;
    let on = date_or_today(q.on.as_deref(), "on")?;
    let mut out = Vec::new();
    for (id, view) in agendas(&node).await? {
        for unit in followup::overdue(&view, on) {
            out.push(OverdueItem {
                agenda: id.to_string(),
                agenda_title: view.text("title").to_owned(),
                unit,
            });
        }
    }
    out.sort_by_key(|item| std::cmp::Reverse(item.unit.overdue_days));
    Ok(Json(out))
}

async fn suggestion_trail(
    State(node): State<NodeHandle>,
    UrlPath((space, suggestion)): UrlPath<(String, String)>,
    q: Result<Query<OnQuery>, QueryRejection>,
) -> Result<Json<Trail>, ApiError> {
    let q = query(q)?;
    let on = date_or_today(q.on.as_deref(), "on")?;
    let view = agenda(&node, parse_space(&space)?).await?;
    let trail = followup::trail(&view, &suggestion, on)
        .ok_or_else(|| NodeError::BadInput(format!("no suggestion {suggestion} in this agenda")))?;
    Ok(Json(trail))
}

async fn year_report(
    State(node): State<NodeHandle>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let q = query(q)?;
    if !(1900..=9999).contains(&q.year) {
        return Err(
            NodeError::BadInput(format!("year: expected 1900–9999, got {}", q.year)).into(),
        );
    }
    let as_of = date_or_today(q.as_of.as_deref(), "as_of")?;
    let mut views = agendas(&node).await?;
    if let Some(agenda) = &q.agenda {
        let id = parse_space(agenda)?;
        views.retain(|(space, _)| *space == id);
        if views.is_empty() {
            return Err(NodeError::UnknownAgenda(agenda.clone()).into());
        }
    }
    let refs: Vec<(String, &AgendaView)> =
        views.iter().map(|(id, v)| (id.to_string(), v)).collect();
    let mut report = report::report(&refs, q.year, as_of);
    // A report over every agenda lists those with something in that year.
    if q.agenda.is_none() {
        report
            .agendas
            .retain(|a| a.rounds + a.meetings + a.suggestions + a.outcomes > 0);
    }
    Ok(Json(report))
}
