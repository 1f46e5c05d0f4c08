//! Operating a node through its API:
//!
//! - `GET /v1/backup` → an archive of the store (`docs/backup.md`), without the key files
//!   (the CLI adds them from the data directory), `application/octet-stream`
//! - `GET /v1/catch-up` → what a restored store still waits for before it takes edits
//! - `POST /v1/catch-up/skip` → stop waiting (the operator's override), then the same view
//! - `POST /v1/sync/export {body, since?}` → a signed sync file (`docs/sync-files.md`) of
//!   what that body lacks, `application/octet-stream`
//! - `POST /v1/sync/import` (the file's bytes, `application/octet-stream`, at most
//!   [`MAX_SYNC_FILE`]) → what was taken per agenda and the receipt to carry back

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{BadRequest, Failures};
use super::{parse_body, ApiError, ApiState, JsonBody};
use crate::backup::CatchUpView;
use crate::handle::NodeHandle;
use crate::sync_file::{ImportReport, Receipt};

/// Largest sync file the API takes (a committee's agendas are far smaller).
pub const MAX_SYNC_FILE: usize = 1 << 30;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(backup))
        .routes(routes!(catch_up))
        .routes(routes!(skip_catch_up))
        .routes(routes!(sync_export))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(sync_import))
                .layer(DefaultBodyLimit::max(MAX_SYNC_FILE)),
        )
}

/// `POST /v1/sync/export`: the body the file is for, and its last receipt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncExport {
    /// The body id (64 hexadecimal characters).
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub body: String,
    /// The receipt that body sent back after its last import: only what it lacks beyond
    /// it goes into the file. Absent: every shared agenda whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Receipt>,
}

/// A signed sync file of what a body lacks of the agendas it shares with this one
#[utoipa::path(
    post,
    path = "/v1/sync/export",
    tag = "node",
    request_body = SyncExport,
    responses(
        (status = 200, description = "The sync file (docs/sync-files.md)", content_type = "application/octet-stream", body = Vec<u8>),
        BadRequest,
        Failures,
    )
)]
async fn sync_export(
    State(node): State<NodeHandle>,
    JsonBody(request): JsonBody<SyncExport>,
) -> Result<impl IntoResponse, ApiError> {
    let body = parse_body(&request.body)?;
    let bytes = node.sync_export(body, request.since).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

/// Imports a sync file, through the same checks as entries from a peer
#[utoipa::path(
    post,
    path = "/v1/sync/import",
    tag = "node",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The sync file"),
    responses(
        (status = 200, description = "What each agenda took, and the receipt to carry back", body = ImportReport),
        BadRequest,
        Failures,
    )
)]
async fn sync_import(
    State(node): State<NodeHandle>,
    bytes: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(node.sync_import(bytes.to_vec()).await?))
}

/// An archive of the store (one read transaction), without the keys
#[utoipa::path(
    get,
    path = "/v1/backup",
    tag = "node",
    responses(
        (status = 200, description = "The archive (docs/backup.md) of the store; `confer backup` adds the key and identity files", content_type = "application/octet-stream", body = Vec<u8>),
        Failures,
    )
)]
async fn backup(State(node): State<NodeHandle>) -> Result<impl IntoResponse, ApiError> {
    let bytes = node.backup().await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

/// What a restored store still waits for before it takes local edits
#[utoipa::path(
    get,
    path = "/v1/catch-up",
    tag = "node",
    responses((status = 200, description = "The agendas waiting, each with the member bodies it waits for", body = CatchUpView), Failures)
)]
async fn catch_up(State(node): State<NodeHandle>) -> Result<Json<CatchUpView>, ApiError> {
    Ok(Json(node.catch_up(false).await?))
}

/// Stops waiting for catch-up in every agenda (at the operator's risk)
#[utoipa::path(
    post,
    path = "/v1/catch-up/skip",
    tag = "node",
    responses((status = 200, description = "Nothing waits any more", body = CatchUpView), Failures)
)]
async fn skip_catch_up(State(node): State<NodeHandle>) -> Result<Json<CatchUpView>, ApiError> {
    Ok(Json(node.catch_up(true).await?))
}
