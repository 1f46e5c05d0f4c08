//! `GET /metrics` on the local API: the node's Prometheus metrics ([`crate::metrics`]),
//! behind the API token like every route here. A monitoring server scrapes the separate
//! `confer run --metrics HOST:PORT` listener instead, which needs no token.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Failures;
use super::{ApiError, ApiState};
use crate::handle::NodeHandle;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// This node's metrics, in the Prometheus text exposition format (0.0.4)
///
/// Spaces and entries, peers connected, sync lag per member body, refused entries by
/// reason, store commit latency: the list is in the README ("Monitoring").
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String),
        Failures,
    )
)]
async fn metrics(State(node): State<NodeHandle>) -> Result<Response, ApiError> {
    let status = node.status().await?;
    Ok((
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        crate::metrics::render(&status),
    )
        .into_response())
}
