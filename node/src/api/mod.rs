//! The local HTTP API (JSON) through which the CLI — and later the web UI — talks to a
//! running node.
//!
//! It binds to 127.0.0.1 unless configured otherwise (another address needs
//! `--api-insecure`, see [`crate::config::Config::validate`], and is logged as a warning)
//! and refuses every request that does not carry `Authorization: Bearer <token>`. The
//! token is fresh for each `run` and is written, with the bound address, to `DIR/api.json`
//! (mode 0600), which only the node's user can read.
//!
//! Routes (all under `/v1`): `GET status`, `POST peers {addr}`, `GET agendas`,
//! `POST agendas {title, summary?, with[]}`, `GET agendas/{id}`,
//! `PATCH agendas/{id} {title?, summary?}`, `POST agendas/{id}/accept`,
//! `GET agendas/{id}/equivocations` (the equivocation evidence held for that agenda, each
//! signed entry's bytes in hex, so anyone can check both signatures offline with
//! `confer_protocol::Entry::decode` and `Entry::verify`), `POST peers/remove {peer}`,
//! `POST trust {body}`, `POST untrust {body}`, `GET members`, `POST members/reload`,
//! `POST members/freeze {key}` (answers a [`Reach`]), `POST revocations {revocations:
//! [hex]}`, `POST body/chain` (read the body-key chain in `identity.json` again). Writing requests take `"as": KEY` (a member key of this body on this node;
//! default: the first member). Errors are `{"code", "detail", "message"}`.
//!
//! One route needs no token: `GET /v1/prove?nonce=<64 hex>` answers
//! `{"proof": "<64 hex>"}`, where the proof is [`proof`]`(token, nonce)`:
//! `blake3::keyed_hash(blake3::derive_key("confer api proof v1", token), nonce)`, the token
//! taken as the UTF-8 bytes of its hex string in `api.json` and the nonce as its 32 bytes.
//! Only a process that knows the token can answer a fresh nonce, and the answer reveals
//! nothing about the token. The CLI asks it with a random nonce before it sends the token
//! anywhere, so a stale `api.json` (the node died, another program now holds its port)
//! does not hand the token to that program ([`crate::cli`]'s client).

use std::net::SocketAddr;
use std::path::Path;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
mod ledger;
mod workflow;

pub use workflow::{OnQuery, OverdueItem, ReportQuery, SignOutcome, WriteRecord};

use confer_protocol::model::{AgendaAction, AgendaEdit};
use confer_protocol::revocation::Revocation;
use confer_protocol::{BodyId, PublicKey, SpaceId};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::handle::{NodeError, NodeHandle};
use crate::identity::write_private;
use crate::views::{
    AgendaSummary, AgendaView, Created, EquivocationView, MemberView, Reach, StatusView,
};

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
    /// The ledger topic (its id) the agenda comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The member key to write as (full hex); default: the first member.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_member: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EditAgenda {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_member: Option<String>,
}

/// `POST /v1/agendas/{id}/invite`, `/consent`, `/leave`: the body to add, or the change
/// to consent to (its id or a prefix of 8+ hex characters), and the member to sign as.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MembershipRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_member: Option<String>,
}

/// The answer of a membership request: the change's id.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChangeId {
    pub change: String,
}

/// `POST /v1/members/freeze`.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyRequest {
    pub key: String,
}

/// `POST /v1/revocations`: revocations signed by a body key, hex.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevocationsRequest {
    pub revocations: Vec<String>,
}

/// The query of `GET /v1/prove`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProveQuery {
    /// 32 random bytes, 64 hexadecimal characters.
    pub nonce: String,
}

/// The answer of `GET /v1/prove`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Proof {
    /// [`proof`] of the token and the nonce, 64 hexadecimal characters.
    pub proof: String,
}

/// Domain separation of the proof key, so the proof can never serve as anything else.
const PROOF_CONTEXT: &str = "confer api proof v1";

/// The answer to `nonce` that only a holder of `token` can give (see the module docs).
/// Compare results as `blake3::Hash`, whose equality is constant-time.
pub fn proof(token: &str, nonce: &[u8; 32]) -> blake3::Hash {
    let key = blake3::derive_key(PROOF_CONTEXT, token.as_bytes());
    blake3::keyed_hash(&key, nonce)
}

/// An error body.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(flatten)]
    pub error: NodeError,
    pub message: String,
}

pub(crate) struct ApiError(NodeError);

impl From<NodeError> for ApiError {
    fn from(e: NodeError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            NodeError::UnknownAgenda(_) | NodeError::NotInvited(_) => StatusCode::NOT_FOUND,
            NodeError::UnknownBody(_)
            | NodeError::BadInput(_)
            | NodeError::Refused { .. }
            | NodeError::BadAddress(_) => StatusCode::BAD_REQUEST,
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
    if !crate::config::is_loopback(addr.ip()) {
        tracing::warn!(
            %addr,
            "the local API listens on an address other than loopback (--api-insecure): it speaks plain HTTP, so its bearer token and all agenda data travel in clear over the network"
        );
    }
    tracing::info!(%addr, "local API listening");
    Ok(ApiServer { addr, stop, task })
}

pub(crate) fn router(node: NodeHandle, token: String) -> Router {
    let prove_token = token.clone();
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
        .route("/v1/agendas/{id}/invite", axum::routing::post(invite))
        .route("/v1/agendas/{id}/consent", axum::routing::post(consent))
        .route("/v1/agendas/{id}/leave", axum::routing::post(leave))
        .route("/v1/agendas/{id}/remove", axum::routing::post(remove_body))
        .route("/v1/members", get(members))
        .route("/v1/members/reload", axum::routing::post(reload_members))
        .route("/v1/members/freeze", axum::routing::post(freeze_member))
        .route("/v1/revocations", axum::routing::post(revoke))
        .route("/v1/body/chain", axum::routing::post(reload_body_chain))
        .route("/v1/agendas/{id}/equivocations", get(agenda_equivocations))
        .merge(workflow::routes())
        .merge(ledger::routes())
        .layer(middleware::from_fn_with_state(token, require_token))
        // Added after the token layer, so it is the one route that needs no token.
        .route(
            "/v1/prove",
            get(move |query| prove(prove_token.clone(), query)),
        )
        .with_state(node)
}

/// `GET /v1/prove?nonce=<64 hex>`, without a token: proves that this server knows it.
async fn prove(
    token: String,
    query: Result<Query<ProveQuery>, QueryRejection>,
) -> Result<Json<Proof>, ApiError> {
    let bad = || NodeError::BadInput("nonce: expected 64 hexadecimal characters".into());
    let Query(query) = query.map_err(|_| bad())?;
    let mut nonce = [0u8; 32];
    hex::decode_to_slice(&query.nonce, &mut nonce).map_err(|_| bad())?;
    Ok(Json(Proof {
        proof: proof(&token, &nonce).to_hex().to_string(),
    }))
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

pub(crate) fn parse_space(id: &str) -> Result<SpaceId, NodeError> {
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
    let author = parse_member(body.as_member.as_deref())?;
    let topic = body
        .topic
        .as_deref()
        .map(|t| {
            t.parse::<confer_protocol::model::RecordId>()
                .map_err(|e| NodeError::BadInput(e.to_string()))
        })
        .transpose()?;
    let id = node
        .create_agenda_as(&body.title, body.summary.as_deref(), with, author)
        .await?;
    if let Some(topic) = topic {
        node.apply(id, AgendaAction::LinkTopic(topic).into(), author)
            .await?;
    }
    Ok((StatusCode::CREATED, Json(Created { id: id.to_string() })))
}

async fn show_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<AgendaView>, ApiError> {
    Ok(Json(node.show_agenda(parse_space(&id)?).await?))
}

async fn agenda_equivocations(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Vec<EquivocationView>>, ApiError> {
    Ok(Json(node.equivocations(parse_space(&id)?).await?))
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
    let author = parse_member(body.as_member.as_deref())?;
    node.edit_agenda_as(parse_space(&id)?, edit, author).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn parse_member(key: Option<&str>) -> Result<Option<PublicKey>, NodeError> {
    key.map(|k| {
        k.trim().parse::<PublicKey>().map_err(|_| {
            NodeError::BadInput(format!(
                "{k} is not a member key (64 hexadecimal characters)"
            ))
        })
    })
    .transpose()
}

async fn invite(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let who = parse_body(body.body.as_deref().unwrap_or_default())?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.invite(parse_space(&id)?, who, author).await?;
    Ok(Json(ChangeId { change }))
}

async fn consent(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let change = body
        .change
        .filter(|c| c.len() >= 8 && c.chars().all(|x| x.is_ascii_hexdigit()))
        .ok_or_else(|| {
            NodeError::BadInput("change: give its id (at least 8 hexadecimal characters)".into())
        })?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.consent(parse_space(&id)?, change, author).await?;
    Ok(Json(ChangeId { change }))
}

async fn leave(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.leave(parse_space(&id)?, author).await?;
    Ok(Json(ChangeId { change }))
}

async fn remove_body(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    Json(body): Json<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let who = parse_body(body.body.as_deref().unwrap_or_default())?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.remove_body(parse_space(&id)?, who, author).await?;
    Ok(Json(ChangeId { change }))
}

async fn members(State(node): State<NodeHandle>) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(node.members().await?))
}

async fn reload_members(State(node): State<NodeHandle>) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(node.reload_members().await?))
}

async fn freeze_member(
    State(node): State<NodeHandle>,
    Json(body): Json<KeyRequest>,
) -> Result<Json<Reach>, ApiError> {
    let key = parse_member(Some(&body.key))?.ok_or_else(|| NodeError::BadInput("no key".into()))?;
    Ok(Json(node.freeze_member(key).await?))
}

async fn reload_body_chain(State(node): State<NodeHandle>) -> Result<StatusCode, ApiError> {
    node.reload_body_chain().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(
    State(node): State<NodeHandle>,
    Json(body): Json<RevocationsRequest>,
) -> Result<StatusCode, ApiError> {
    let revocations = body
        .revocations
        .iter()
        .map(|h| {
            let raw = hex::decode(h.trim())
                .map_err(|_| NodeError::BadInput("a revocation is not hexadecimal".into()))?;
            Revocation::decode(&raw).map_err(|e| NodeError::BadInput(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    node.revoke(revocations).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn proof_is_keyed_by_the_token_and_bound_to_the_nonce() {
        let token = "ab".repeat(32);
        let nonce = [7u8; 32];
        let key = blake3::derive_key("confer api proof v1", token.as_bytes());
        assert_eq!(proof(&token, &nonce), blake3::keyed_hash(&key, &nonce));
        assert_ne!(proof(&token, &nonce), proof(&"cd".repeat(32), &nonce));
        assert_ne!(proof(&token, &nonce), proof(&token, &[8u8; 32]));
        assert_ne!(proof(&token, &nonce), blake3::hash(token.as_bytes()));
        // A CLI and a node of different builds must agree: the scheme is pinned.
        assert_eq!(
            proof(&token, &nonce).to_hex().as_str(),
            PINNED_PROOF,
            "the proof scheme changed; bump the context string and the route"
        );
    }

    const PINNED_PROOF: &str = "fc88c4bd81577769383351d69d1869273277dc08356126c2c3b441f053b7c80e";

    /// The real router on a loopback port, in front of a stopped node: enough for the
    /// routes that never reach the event loop.
    pub(crate) async fn serve_router(token: &str) -> SocketAddr {
        let (tx, _) = tokio::sync::mpsc::channel(1);
        let app = router(NodeHandle { tx }, token.to_owned());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    #[tokio::test]
    async fn prove_answers_without_the_token_and_checks_the_nonce() {
        let token = "12".repeat(32);
        let addr = serve_router(&token).await;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        let nonce = [0x5au8; 32];
        let url = format!("http://{addr}/v1/prove?nonce={}", hex::encode(nonce));
        let response = http.get(url).send().await.expect("prove");
        assert_eq!(response.status(), StatusCode::OK);
        let answer: Proof = response.json().await.expect("proof JSON");
        assert_eq!(answer.proof, proof(&token, &nonce).to_hex().as_str());

        for query in ["", "?nonce=", "?nonce=zz", "?nonce=abcd", "?other=1"] {
            let response = http
                .get(format!("http://{addr}/v1/prove{query}"))
                .send()
                .await
                .expect("prove");
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
            let body: ErrorBody = response.json().await.expect("error body");
            assert!(matches!(body.error, NodeError::BadInput(_)), "{query}");
        }

        // Every other route still needs the token.
        let space = "ab".repeat(32);
        for path in [
            "/v1/status".to_owned(),
            format!("/v1/agendas/{space}"),
            format!("/v1/agendas/{space}/equivocations"),
        ] {
            let response = http
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .expect("get");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
    }
}
