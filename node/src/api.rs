//! The local HTTP API (JSON) through which the CLI — and later the web UI — talks to a
//! running node.
//!
//! It binds to 127.0.0.1 unless configured otherwise and refuses every request that does
//! not carry `Authorization: Bearer <token>`. The token is fresh for each `run` and is
//! written, with the bound address, to `DIR/api.json` (mode 0600), which only the node's
//! user can read.
//!
//! Routes (all under `/v1`): `GET status`, `POST peers {addr}`, `GET agendas`,
//! `POST agendas {title, summary?, with[]}`, `GET agendas/{id}`,
//! `PATCH agendas/{id} {title?, summary?}`. Errors are `{"code", "detail", "message"}`.

use std::net::SocketAddr;
use std::path::Path;

use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use confer_protocol::model::AgendaEdit;
use confer_protocol::{BodyId, SpaceId};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::handle::{NodeError, NodeHandle};
use crate::identity::write_private;
use crate::views::{AgendaSummary, AgendaView, Created, StatusView};

/// What `DIR/api.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiFile {
    pub addr: SocketAddr,
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AddPeer {
    pub addr: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NewAgenda {
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub with: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EditAgenda {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// An error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(flatten)]
    pub error: NodeError,
    pub message: String,
}

struct ApiError(NodeError);

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            NodeError::UnknownAgenda(_) | NodeError::NotInvited(_) => StatusCode::NOT_FOUND,
            NodeError::UnknownBody(_) | NodeError::BadInput(_) | NodeError::BadAddress(_) => {
                StatusCode::BAD_REQUEST
            }
            NodeError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            NodeError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        };
        let message = self.0.to_string();
        (
            status,
            Json(ErrorBody {
                error: self.0,
                message,
            }),
        )
            .into_response()
    }
}

/// A running API server.
pub struct ApiServer {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ApiServer {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Binds the API on `addr`, writes `api_file`, and serves until stopped.
pub async fn serve(
    addr: SocketAddr,
    node: NodeHandle,
    api_file: &Path,
) -> std::io::Result<ApiServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let token = hex::encode(rand::rng().random::<[u8; 32]>());
    let file = ApiFile {
        addr,
        token: token.clone(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    write_private(api_file, &json).map_err(std::io::Error::other)?;
    let app = router(node, token);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "API server failed");
        }
    });
    tracing::info!(%addr, "local API listening");
    Ok(ApiServer { addr, stop, task })
}

fn router(node: NodeHandle, token: String) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/peers", axum::routing::post(add_peer))
        .route("/v1/peers/remove", axum::routing::post(remove_peer))
        .route("/v1/trust", axum::routing::post(trust))
        .route("/v1/untrust", axum::routing::post(untrust))
        .route("/v1/agendas", get(list_agendas).post(new_agenda))
        .route("/v1/agendas/{id}", get(show_agenda).patch(edit_agenda))
        .route(
            "/v1/agendas/{id}/accept",
            axum::routing::post(accept_agenda),
        )
        .layer(middleware::from_fn_with_state(token, require_token))
        .with_state(node)
}

async fn require_token(State(token): State<String>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare hashes so the time taken does not depend on where the strings differ.
    if blake3::hash(given.as_bytes()) == blake3::hash(token.as_bytes()) {
        next.run(request).await
    } else {
        let body = serde_json::json!({"code": "unauthorized", "message": "missing or wrong API token (see api.json in the data directory)"});
        (StatusCode::UNAUTHORIZED, Json(body)).into_response()
    }
}

async fn status(State(node): State<NodeHandle>) -> Result<Json<StatusView>, ApiError> {
    Ok(Json(node.status().await?))
}

async fn add_peer(
    State(node): State<NodeHandle>,
    Json(body): Json<AddPeer>,
) -> Result<StatusCode, ApiError> {
    let addr = body
        .addr
        .parse()
        .map_err(|e| NodeError::BadAddress(format!("{}: {e}", body.addr)))?;
    node.add_peer(addr).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A body, as `POST /v1/trust` and `POST /v1/untrust` take it.
#[derive(Debug, Serialize, Deserialize)]
pub struct BodyRequest {
    pub body: String,
}

/// A peer id, as `POST /v1/peers/remove` takes it.
#[derive(Debug, Serialize, Deserialize)]
pub struct PeerRequest {
    pub peer: String,
}

fn parse_body(id: &str) -> Result<BodyId, NodeError> {
    id.trim().parse::<BodyId>().map_err(|_| {
        NodeError::BadInput(format!(
            "{id} is not a body id (64 hexadecimal characters, as the other committee sent it by official letter)"
        ))
    })
}

async fn trust(
    State(node): State<NodeHandle>,
    Json(body): Json<BodyRequest>,
) -> Result<StatusCode, ApiError> {
    node.trust(parse_body(&body.body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn untrust(
    State(node): State<NodeHandle>,
    Json(body): Json<BodyRequest>,
) -> Result<StatusCode, ApiError> {
    node.untrust(parse_body(&body.body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_peer(
    State(node): State<NodeHandle>,
    Json(body): Json<PeerRequest>,
) -> Result<StatusCode, ApiError> {
    let peer = body
        .peer
        .trim()
        .parse()
        .map_err(|e| NodeError::BadAddress(format!("{}: {e}", body.peer)))?;
    node.remove_peer(peer).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_agendas(
    State(node): State<NodeHandle>,
) -> Result<Json<Vec<AgendaSummary>>, ApiError> {
    Ok(Json(node.list_agendas().await?))
}

fn parse_space(id: &str) -> Result<SpaceId, NodeError> {
    id.parse()
        .map_err(|_| NodeError::UnknownAgenda(id.to_owned()))
}

async fn new_agenda(
    State(node): State<NodeHandle>,
    Json(body): Json<NewAgenda>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let with = body
        .with
        .iter()
        .map(|b| b.parse::<BodyId>().map_err(|_| NodeError::BadInput(format!("{b} is not a body id (64 hexadecimal characters, see `confer status` on that body's node)"))))
        .collect::<Result<Vec<_>, _>>()?;
    let id = node
        .create_agenda(&body.title, body.summary.as_deref(), with)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

async fn show_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<AgendaView>, ApiError> {
    Ok(Json(node.show_agenda(parse_space(&id)?).await?))
}

async fn accept_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    node.accept_agenda(parse_space(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn edit_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<EditAgenda>,
) -> Result<StatusCode, ApiError> {
    if body.title.is_none() && body.summary.is_none() {
        return Err(
            NodeError::BadInput("nothing to change: give a title or a summary".into()).into(),
        );
    }
    let edit = AgendaEdit {
        title: body.title,
        summary: body.summary,
    };
    node.edit_agenda(parse_space(&id)?, edit).await?;
    Ok(StatusCode::NO_CONTENT)
}
