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
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
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
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{BadRequest, Failures, NotFound};
use super::{parse_member, parse_space, ApiError, ApiState, JsonBody, UrlPath};
use crate::handle::{NodeError, NodeHandle};
use crate::views::Created;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(write_record))
        .routes(routes!(suggestion_trail))
        .routes(routes!(sign_outcome))
        .routes(routes!(outcome_bundle))
        .routes(routes!(space_history))
        .routes(routes!(overdue))
        .routes(routes!(year_report))
}

/// `POST /v1/agendas/{id}/records`: make a record (no `id`) or edit one (`id`: its id) of
/// an agenda. A record of a body's own collection (handling, feedback, …) is written in this
/// node's body's area. A field set to "" is cleared.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct WriteRecord {
    /// The collection: `round`, `meeting`, `suggestion`, `outcome`, `handling`, … for an
    /// agenda; `topic`, `plan_item`, `expert` for the ledger.
    #[schema(schema_with = super::openapi::collection_name)]
    pub collection: String,
    /// The record to edit (16 lowercase hexadecimal characters); none: a new record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub id: Option<String>,
    /// Field name → value; "" clears the field.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The member key to write as (full hex); default: the first member.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub as_member: Option<String>,
}

/// Makes or edits a record of an agenda
///
/// A record of a body's own collection (handling, feedback, …) is written in this node's
/// body's area.
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/records",
    tag = "workflow",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = WriteRecord,
    responses(
        (status = 201, description = "A new record, with its fresh id", body = Created, links(
            ("SuggestionTrail" = (
                operation_id = "suggestion_trail",
                parameters(("id" = "$request.path.id"), ("sid" = "$response.body#/id")),
                description = "The trail of the suggestion made"
            )),
            ("SignOutcome" = (
                operation_id = "sign_outcome",
                parameters(("id" = "$request.path.id"), ("oid" = "$response.body#/id")),
                description = "Sign the outcome made"
            )),
            ("OutcomeBundle" = (
                operation_id = "outcome_bundle",
                parameters(("id" = "$request.path.id"), ("oid" = "$response.body#/id")),
                description = "The bundle of the outcome made"
            )),
        )),
        (status = 200, description = "The record was edited", body = Created),
        BadRequest,
        NotFound,
        Failures,
    )
)]
async fn write_record(
    State(node): State<NodeHandle>,
    UrlPath(space): UrlPath<String>,
    JsonBody(body): JsonBody<WriteRecord>,
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
pub(crate) fn record_write(schema: &Schema, body: &WriteRecord) -> Result<RecordWrite, NodeError> {
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
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnQuery {
    /// A date, YYYY-MM-DD (from 1900); none or empty: today, Beijing time.
    #[serde(default)]
    #[param(pattern = "^(|(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))$")]
    pub on: Option<String>,
}

/// `GET /v1/report`'s query.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The year, 1900–9999.
    #[param(minimum = 1900, maximum = 9999)]
    pub year: u32,
    /// Only this agenda (its id, 64 hexadecimal characters).
    #[serde(default)]
    #[param(pattern = "^[0-9a-fA-F]{64}$")]
    pub agenda: Option<String>,
    /// The date the figures are as of, YYYY-MM-DD (from 1900); none or empty: today,
    /// Beijing time.
    #[serde(default)]
    #[param(pattern = "^(|(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))$")]
    pub as_of: Option<String>,
}

/// An overdue unit and its agenda.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SignOutcome {
    /// The member key to sign with (full hex; a member who may sign); default: the first
    /// member.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub as_member: Option<String>,
}

/// Signs an outcome's current text for this body
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/outcomes/{oid}/sign",
    tag = "workflow",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters"), ("oid" = String, Path, pattern = "^[0-9a-f]{16}$", description = "The outcome: its record id, 16 hexadecimal characters")),
    request_body = SignOutcome,
    responses(
        (status = 201, description = "Signed: the attestation record's id", body = Created),
        BadRequest,
        NotFound,
        Failures,
    )
)]
async fn sign_outcome(
    State(node): State<NodeHandle>,
    UrlPath((space, outcome)): UrlPath<(String, String)>,
    JsonBody(body): JsonBody<SignOutcome>,
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

/// An outcome's self-contained bundle
///
/// Its current text, the attestations over it and the certificates that prove who signed
/// (`docs/outcome-bundle.md`); `confer verify` checks it offline.
#[utoipa::path(
    get,
    path = "/v1/agendas/{id}/outcomes/{oid}/bundle",
    tag = "workflow",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters"), ("oid" = String, Path, pattern = "^[0-9a-f]{16}$", description = "The outcome: its record id, 16 hexadecimal characters")),
    responses(
        (status = 200, description = "The bundle", body = Bundle),
        BadRequest,
        NotFound,
        Failures,
    )
)]
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
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only the writes to this record (its id).
    #[serde(default)]
    pub record: Option<String>,
    /// Only the latest this many writes (still oldest first).
    #[serde(default)]
    #[param(minimum = 1)]
    pub last: Option<usize>,
}

/// Who changed what in an agenda, and when, from its entries
#[utoipa::path(
    get,
    path = "/v1/agendas/{id}/history",
    tag = "workflow",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters"), HistoryQuery),
    responses(
        (status = 200, description = "The writes, oldest first", body = Vec<HistoryItem>),
        BadRequest,
        NotFound,
        Failures,
    )
)]
async fn space_history(
    State(node): State<NodeHandle>,
    UrlPath(space): UrlPath<String>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Vec<HistoryItem>>, ApiError> {
    let q = query(q)?;
    if q.last == Some(0) {
        return Err(NodeError::BadInput("last: expected a number from 1".into()).into());
    }
    let mut items = node.history(parse_space(&space)?, q.record).await?;
    if let Some(last) = q.last {
        items.drain(..items.len().saturating_sub(last));
    }
    Ok(Json(items))
}

/// Every agenda's handling units past their deadline
#[utoipa::path(
    get,
    path = "/v1/overdue",
    tag = "workflow",
    params(OnQuery),
    responses(
        (status = 200, description = "The units overdue on the date, most overdue first", body = Vec<OverdueItem>),
        BadRequest,
        Failures,
    )
)]
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

/// A suggestion's trail (提与落): everything that happened to it
#[utoipa::path(
    get,
    path = "/v1/agendas/{id}/suggestions/{sid}",
    tag = "workflow",
    params(
        ("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters"),
        ("sid" = String, Path, pattern = "^[0-9a-f]{16}$", description = "The suggestion: its record id, 16 hexadecimal characters"),
        OnQuery,
    ),
    responses(
        (status = 200, description = "The trail as of the date", body = Trail),
        BadRequest,
        NotFound,
        Failures,
    )
)]
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

/// The year-end report's figures
#[utoipa::path(
    get,
    path = "/v1/report",
    tag = "workflow",
    params(ReportQuery),
    responses(
        (status = 200, description = "The figures, per agenda and body", body = Report),
        BadRequest,
        NotFound,
        Failures,
    )
)]
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
