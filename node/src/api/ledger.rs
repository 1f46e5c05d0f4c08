//! The body's own ledger (台账, 年度协商计划, 专家库), a space whose only member is this
//! body, made on the first write:
//!
//! - `GET /v1/ledger` → its records by collection (empty before the first write)
//! - `POST /v1/ledger/records {collection, id?, fields, as?}` → `{"id"}`

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use confer_protocol::model::{LedgerAction, RecordId, LEDGER_SCHEMA};
use confer_protocol::{PublicKey, SpaceKind};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{BadRequest, Failures};
use super::workflow::{created_or_ok, record_write, WriteRecord};
use super::{parse_member, ApiError, ApiState, JsonBody};
use crate::handle::{NodeError, NodeHandle};
use crate::views::{Created, LedgerView};

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(write))
}

/// This body's ledger: its records by collection
#[utoipa::path(
    get,
    path = "/v1/ledger",
    tag = "ledger",
    responses(
        (status = 200, description = "The ledger (no id and no records before its first write)", body = LedgerView),
        Failures,
    )
)]
async fn show(State(node): State<NodeHandle>) -> Result<Json<LedgerView>, ApiError> {
    Ok(Json(node.show_ledger().await?))
}

/// Makes or edits a record of this body's ledger (made on the first write)
#[utoipa::path(
    post,
    path = "/v1/ledger/records",
    tag = "ledger",
    request_body = WriteRecord,
    responses(
        (status = 201, description = "A new record, with its fresh id", body = Created),
        (status = 200, description = "The record was edited", body = Created),
        BadRequest,
        Failures,
    )
)]
async fn write(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<WriteRecord>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let author = parse_member(body.as_member.as_deref())?;
    let (created, id) = write_ledger(&node, &body, author).await?;
    Ok(created_or_ok(created, id))
}

/// Writes one record of this body's ledger as `author` (the API's and the web UI's one
/// way in): checked on its own before the ledger is made, so a mistaken first write makes
/// nothing, then applied as a [`LedgerAction::Write`]. Answers whether the record is new,
/// and its id.
pub(crate) async fn write_ledger(
    node: &NodeHandle,
    body: &WriteRecord,
    author: Option<PublicKey>,
) -> Result<(bool, RecordId), NodeError> {
    let write = record_write(&LEDGER_SCHEMA, body)?;
    LedgerAction::Write(write.clone())
        .validate()
        .map_err(|e| NodeError::BadInput(e.to_string()))?;
    let space = node
        .own_space(SpaceKind::Ledger, true)
        .await?
        .ok_or_else(|| NodeError::Storage("the ledger could not be made".into()))?;
    let (created, id) = (write.create, write.key.id);
    node.apply(space, LedgerAction::Write(write).into(), author)
        .await?;
    Ok((created, id))
}
