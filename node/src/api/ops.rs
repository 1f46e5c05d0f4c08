//! Operating a node through its API:
//!
//! - `GET /v1/backup` → a backup archive (`docs/backup.md`), `application/octet-stream`
//! - `GET /v1/catch-up` → what a restored store still waits for before it takes edits
//! - `POST /v1/catch-up/skip` → stop waiting (the operator's override), then the same view

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Failures;
use super::{ApiError, ApiState};
use crate::backup::CatchUpView;
use crate::handle::NodeHandle;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(backup))
        .routes(routes!(catch_up))
        .routes(routes!(skip_catch_up))
}

/// A backup archive of the store (one read transaction) and the keys
#[utoipa::path(
    get,
    path = "/v1/backup",
    tag = "node",
    responses(
        (status = 200, description = "The archive (docs/backup.md); it holds the keys: keep it private", content_type = "application/octet-stream", body = Vec<u8>),
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
