//! The local HTTP API (JSON) through which the CLI — and later the web UI — talks to a
//! running node.
//!
//! It binds to 127.0.0.1 unless configured otherwise (another address needs
//! `--api-insecure`, see [`crate::config::Config::validate`], and is logged as a warning)
//! and refuses every request that does not carry `Authorization: Bearer <token>`. The
//! token is fresh for each `run` and is written, with the bound address, to `DIR/api.json`
//! (mode 0600), which only the node's user can read.
//!
//! The routes and their bodies are described by an OpenAPI 3.1 document generated from the
//! handlers (`GET /v1/openapi.json`, [`openapi`]); its test checks that it lists exactly the
//! routes the router serves.
//!
//! Routes (all under `/v1`): `GET status`, `POST peers {addr}`, `GET agendas`,
//! `POST agendas {title, summary?, with[]}`, `GET agendas/{id}`,
//! `PATCH agendas/{id} {title?, summary?}`, `POST agendas/{id}/accept`,
//! `GET agendas/{id}/equivocations` (the equivocation evidence held for that agenda, each
//! signed entry's bytes in hex, so anyone can check both signatures offline with
//! `confer_protocol::Entry::decode` and `Entry::verify`), `POST peers/remove {peer}`,
//! `POST trust {body}`, `POST untrust {body}`, `GET members`, `POST members/reload`,
//! `POST members/freeze {key}` (answers a [`Reach`]), `POST revocations {revocations:
//! [hex]}`, `POST body/chain` (read the body-key chain in `identity.json` again), `GET openapi.json`;
//! and `GET /metrics` (Prometheus text, [`crate::metrics`]; with the token here, without
//! it on the separate `--metrics` listener).
//! Writing requests take `"as": KEY` (a member key of this body on this node; default: the
//! first member). Errors are `{"code", "detail", "message"}`, refusals of the HTTP layer
//! (no token, no such route or method, a body that is not the JSON asked for) too: every
//! answer that is not a success is a JSON object with a `code`.
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
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) mod ledger;
mod metrics;
pub mod openapi;
mod ops;
pub use ops::SyncExport;
pub(crate) mod workflow;

pub use openapi::{RefusalBody, RefusalCode};
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
    AgendaSummary, AgendaView, Created, EquivocationView, MemberView, Reach, RecordFilter,
    StatusView,
};

/// What `DIR/api.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiFile {
    pub addr: SocketAddr,
    pub token: String,
}

/// `POST /v1/peers`: a peer to connect to and keep connected.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AddPeer {
    /// A multiaddr ending in `/p2p/<peer id>`, e.g. `/ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…`.
    #[schema(pattern = "^/.+/p2p/[1-9A-HJ-NP-Za-km-z]+$")]
    pub addr: String,
    /// Forget the peer's other addresses (default: keep them; the node dials them all).
    #[serde(default)]
    pub replace: bool,
}

/// `POST /v1/agendas`: a new joint agenda.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewAgenda {
    /// One line, not blank, at most 1,024 bytes.
    #[schema(min_length = 1, max_length = 1024)]
    pub title: String,
    #[serde(default)]
    pub summary: Option<String>,
    /// The other member bodies (ids, 64 hexadecimal characters), each trusted here.
    #[serde(default)]
    #[schema(schema_with = openapi::hex64_list)]
    pub with: Vec<String>,
    /// The ledger topic (its id) the agenda comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub topic: Option<String>,
    /// The member key to write as (full hex); default: the first member.
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub as_member: Option<String>,
}

/// `PATCH /v1/agendas/{id}`: a new title, summary or both.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct EditAgenda {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub as_member: Option<String>,
}

/// `POST /v1/agendas/{id}/invite`, `/consent`, `/leave`: the body to add, or the change
/// to consent to (its id or a prefix of 8+ hex characters), and the member to sign as.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct MembershipRequest {
    /// The body to invite or remove (its id, 64 hexadecimal characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub body: Option<String>,
    /// The change to consent to: its id or a prefix of it (8 or more hexadecimal
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{8,}$")]
    pub change: Option<String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub as_member: Option<String>,
}

/// The answer of a membership request: the change's id.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeId {
    pub change: String,
}

/// `POST /v1/members/freeze`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyRequest {
    /// The member key, 64 hexadecimal characters.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub key: String,
}

/// `POST /v1/revocations`: revocations signed by a body key, hex.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevocationsRequest {
    /// Each revocation's bytes, hex (`confer member revoke` writes them).
    #[schema(schema_with = openapi::hex_list)]
    pub revocations: Vec<String>,
}

/// The query of `GET /v1/prove`.
#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProveQuery {
    /// 32 random bytes, 64 hexadecimal characters.
    #[param(pattern = "^[0-9a-fA-F]{64}$")]
    pub nonce: String,
}

/// The answer of `GET /v1/prove`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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

/// A refusal by the node: `{"code", "detail"?, "message"}`, `message` in plain English;
/// `detail` is a string, or `{"en", "zh"}` for a refusal by the document's rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
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

/// A JSON request body: an object. A body that is not the JSON asked for (no
/// `Content-Type: application/json`, malformed, not an object, a field missing or of the
/// wrong type) is refused as `bad_input` with the reason, like every other refusal.
///
/// An object only: serde's derived `Deserialize` also takes a struct from a JSON array of
/// its fields in order (`[["…"]]` for `{"revocations": ["…"]}`), which the document does
/// not allow and no client means.
pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bad = |why: String| ApiError(NodeError::BadInput(format!("request body: {why}")));
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(|e| bad(e.body_text()))?;
        if !value.is_object() {
            return Err(bad("expected a JSON object".into()));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| bad(e.to_string()))
    }
}

/// The path's parameters; one that does not decode (not UTF-8 after percent-decoding) is
/// refused as `bad_input`.
pub(crate) struct UrlPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for UrlPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(UrlPath(value)),
            Err(e) => Err(NodeError::BadInput(format!("path: {}", e.body_text())).into()),
        }
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

/// What the handlers share: the node, the token (for `GET /v1/prove`) and the document.
#[derive(Clone)]
pub(crate) struct ApiState {
    node: NodeHandle,
    token: ApiToken,
    document: openapi::Document,
}

/// The API token, as `DIR/api.json` holds it.
#[derive(Clone)]
pub(crate) struct ApiToken(Arc<str>);

impl FromRef<ApiState> for NodeHandle {
    fn from_ref(state: &ApiState) -> Self {
        state.node.clone()
    }
}

impl FromRef<ApiState> for ApiToken {
    fn from_ref(state: &ApiState) -> Self {
        state.token.clone()
    }
}

pub(crate) fn router(node: NodeHandle, token: String) -> Router {
    let token = ApiToken(Arc::from(token));
    let (router, document) = routes(token.clone()).split_for_parts();
    let document = openapi::Document(Arc::from(
        document
            .to_pretty_json()
            .expect("the document is built from this crate's own types"),
    ));
    router
        // After the token layer: a path or method no route has is refused alike with or
        // without the token.
        .fallback(openapi::no_route)
        .method_not_allowed_fallback(openapi::method_not_allowed)
        .with_state(ApiState {
            node,
            token,
            document,
        })
}

/// The API's OpenAPI document, as `GET /v1/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    // The router built alongside is dropped; its token is never used, so a random one.
    let token = ApiToken(Arc::from(hex::encode(rand::rng().random::<[u8; 32]>())));
    routes(token).into_openapi()
}

/// Every route, each registered with its description (`routes!`), so the router and the
/// document come from this one list.
fn routes(token: ApiToken) -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(status))
        .routes(routes!(openapi::document))
        .routes(routes!(add_peer))
        .routes(routes!(remove_peer))
        .routes(routes!(trust))
        .routes(routes!(untrust))
        .routes(routes!(list_agendas, new_agenda))
        .routes(routes!(show_agenda, edit_agenda))
        .routes(routes!(accept_agenda))
        .routes(routes!(invite))
        .routes(routes!(consent))
        .routes(routes!(withdraw))
        .routes(routes!(leave))
        .routes(routes!(remove_body))
        .routes(routes!(agenda_equivocations))
        .routes(routes!(members))
        .routes(routes!(reload_members))
        .routes(routes!(freeze_member))
        .routes(routes!(revoke))
        .routes(routes!(reload_body_chain))
        .merge(workflow::routes())
        .merge(ledger::routes())
        .merge(ops::routes())
        .merge(metrics::routes())
        .layer(middleware::from_fn_with_state(token, require_token))
        // Added after the token layer, so it is the one route that needs no token.
        .routes(routes!(prove))
}

/// Proves that this server knows the token, without the token
///
/// The CLI asks it with a fresh random nonce before it sends the token anywhere: only a
/// process that knows the token can answer, and the answer reveals nothing about it.
/// `proof = blake3::keyed_hash(blake3::derive_key("confer api proof v1", token), nonce)`.
#[utoipa::path(
    get,
    path = "/v1/prove",
    tag = "node",
    params(ProveQuery),
    security(()),
    responses(
        (status = 200, description = "The proof", body = Proof),
        openapi::BadRequest,
    )
)]
async fn prove(
    State(token): State<ApiToken>,
    query: Result<Query<ProveQuery>, QueryRejection>,
) -> Result<Json<Proof>, ApiError> {
    let bad = || NodeError::BadInput("nonce: expected 64 hexadecimal characters".into());
    let Query(query) = query.map_err(|_| bad())?;
    let mut nonce = [0u8; 32];
    hex::decode_to_slice(&query.nonce, &mut nonce).map_err(|_| bad())?;
    Ok(Json(Proof {
        proof: proof(&token.0, &nonce).to_hex().to_string(),
    }))
}

async fn require_token(State(token): State<ApiToken>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare hashes so the time taken does not depend on where the strings differ.
    if blake3::hash(given.as_bytes()) == blake3::hash(token.0.as_bytes()) {
        next.run(request).await
    } else {
        openapi::refusal(
            RefusalCode::Unauthorized,
            "missing or wrong API token (see api.json in the data directory)",
        )
    }
}

/// This node: its body, member, peers, spaces, traffic, damage found at start-up
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "node",
    responses((status = 200, description = "This node's state", body = StatusView), openapi::Failures)
)]
async fn status(State(node): State<NodeHandle>) -> Result<Json<StatusView>, ApiError> {
    Ok(Json(node.status().await?))
}

/// Adds a peer (its multiaddr), kept connected
#[utoipa::path(
    post,
    path = "/v1/peers",
    tag = "node",
    request_body = AddPeer,
    responses(
        (status = 204, description = "Remembered; the node dials it and keeps it connected"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn add_peer(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<AddPeer>,
) -> Result<StatusCode, ApiError> {
    let addr = body
        .addr
        .parse()
        .map_err(|e| NodeError::BadAddress(format!("{}: {e}", body.addr)))?;
    node.add_peer_replacing(addr, body.replace).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A body, as `POST /v1/trust` and `POST /v1/untrust` take it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BodyRequest {
    /// The body's id, 64 hexadecimal characters.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub body: String,
}

/// A peer id, as `POST /v1/peers/remove` takes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PeerRequest {
    /// The peer id (`12D3Koo…`).
    #[schema(pattern = "^[1-9A-HJ-NP-Za-km-z]+$")]
    pub peer: String,
}

fn parse_body(id: &str) -> Result<BodyId, NodeError> {
    id.trim().parse::<BodyId>().map_err(|_| {
        NodeError::BadInput(format!(
            "{id} is not a body id (64 hexadecimal characters, as the other committee sent it by official letter)"
        ))
    })
}

/// Trusts a body by its id (as its committee sent it by official letter)
#[utoipa::path(
    post,
    path = "/v1/trust",
    tag = "node",
    request_body = BodyRequest,
    responses(
        (status = 204, description = "The body is trusted"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn trust(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<BodyRequest>,
) -> Result<StatusCode, ApiError> {
    node.trust(parse_body(&body.body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops trusting a body
#[utoipa::path(
    post,
    path = "/v1/untrust",
    tag = "node",
    request_body = BodyRequest,
    responses(
        (status = 204, description = "The body is no longer trusted"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn untrust(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<BodyRequest>,
) -> Result<StatusCode, ApiError> {
    node.untrust(parse_body(&body.body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets a peer added with `POST /v1/peers` and disconnects it
#[utoipa::path(
    post,
    path = "/v1/peers/remove",
    tag = "node",
    request_body = PeerRequest,
    responses(
        (status = 204, description = "Forgotten and disconnected"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn remove_peer(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<PeerRequest>,
) -> Result<StatusCode, ApiError> {
    let peer = body
        .peer
        .trim()
        .parse()
        .map_err(|e| NodeError::BadAddress(format!("{}: {e}", body.peer)))?;
    node.remove_peer(peer).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The agendas this node holds, and the invitations waiting
#[utoipa::path(
    get,
    path = "/v1/agendas",
    tag = "agendas",
    responses(
        (status = 200, description = "The agendas and invitations held", body = Vec<AgendaSummary>),
        openapi::Failures,
    )
)]
async fn list_agendas(
    State(node): State<NodeHandle>,
) -> Result<Json<Vec<AgendaSummary>>, ApiError> {
    Ok(Json(node.list_agendas().await?))
}

pub(crate) fn parse_space(id: &str) -> Result<SpaceId, NodeError> {
    id.parse()
        .map_err(|_| NodeError::UnknownAgenda(id.to_owned()))
}

/// Creates a joint agenda with the bodies named
#[utoipa::path(
    post,
    path = "/v1/agendas",
    tag = "agendas",
    request_body = NewAgenda,
    responses(
        (status = 201, description = "Created", body = Created),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn new_agenda(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<NewAgenda>,
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

/// `GET /v1/agendas/{id}`'s query.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// Only these collections' records, comma-separated (`suggestion,outcome`); empty:
    /// none; absent: every record. `record_counts` counts every collection all the same.
    #[serde(default)]
    #[param(pattern = "^[a-z_,]*$")]
    pub records: Option<String>,
    /// With `records`: only the records whose id starts with this (1–16 lowercase hex
    /// characters).
    #[serde(default)]
    #[param(pattern = "^[0-9a-f]{1,16}$")]
    pub id_prefix: Option<String>,
    /// With `records`: only the record with this id (16 lowercase hex characters) and the
    /// records that name it in a field (a suggestion's handling units, submissions, …).
    #[serde(default)]
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub naming: Option<String>,
}

impl ShowQuery {
    /// The filter the query asks for (`None`: every record), each part checked.
    fn filter(self) -> Result<Option<RecordFilter>, NodeError> {
        let hex = |what: &str, v: &str, max: usize, exact: bool| {
            let ok = !v.is_empty()
                && v.len() <= max
                && (!exact || v.len() == max)
                && v.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if ok {
                Ok(v.to_owned())
            } else {
                Err(NodeError::BadInput(format!(
                    "{what}: expected {} lowercase hexadecimal characters, got {:?}",
                    if exact {
                        "16".to_owned()
                    } else {
                        format!("1 to {max}")
                    },
                    confer_protocol::text::display_line(&v.chars().take(40).collect::<String>())
                )))
            }
        };
        let id_prefix = self
            .id_prefix
            .map(|v| hex("id_prefix", &v, 16, false))
            .transpose()?;
        let naming = self
            .naming
            .map(|v| hex("naming", &v, 16, true))
            .transpose()?;
        match self.records {
            None if id_prefix.is_some() || naming.is_some() => Err(NodeError::BadInput(
                "id_prefix and naming filter the collections `records` names: give records too"
                    .into(),
            )),
            None => Ok(None),
            Some(list) => Ok(Some(RecordFilter {
                collections: collections(&list)?,
                id_prefix,
                naming,
            })),
        }
    }
}

/// An agenda: its fields, members, records, outcomes, signatures checked again
#[utoipa::path(
    get,
    path = "/v1/agendas/{id}",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters"), ShowQuery),
    responses(
        (status = 200, description = "The agenda", body = AgendaView),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn show_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    q: Result<Query<ShowQuery>, QueryRejection>,
) -> Result<Json<AgendaView>, ApiError> {
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| NodeError::BadInput(e.body_text()))?;
    let id = parse_space(&id)?;
    Ok(Json(match q.filter()? {
        None => node.show_agenda(id).await?,
        Some(filter) => node.show_agenda_listing(id, filter).await?,
    }))
}

/// The collections a `records=` list names, each checked against the agenda's layout.
fn collections(list: &str) -> Result<Vec<String>, NodeError> {
    let known = || {
        confer_protocol::model::AGENDA_SCHEMA
            .collections
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    list.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(
            |c| match confer_protocol::model::AGENDA_SCHEMA.collection(c) {
                Some(collection) => Ok(collection.name.to_owned()),
                None => Err(NodeError::BadInput(format!(
                    "records: {} is not a collection of an agenda (known: {})",
                    confer_protocol::text::display_line(&c.chars().take(40).collect::<String>()),
                    known()
                ))),
            },
        )
        .collect()
}

/// The equivocation evidence held for an agenda
#[utoipa::path(
    get,
    path = "/v1/agendas/{id}/equivocations",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    responses(
        (status = 200, description = "The evidence, each signed entry in hex", body = Vec<EquivocationView>),
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn agenda_equivocations(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Vec<EquivocationView>>, ApiError> {
    Ok(Json(node.equivocations(parse_space(&id)?).await?))
}

/// Accepts an invitation to an agenda
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/accept",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    responses(
        (status = 204, description = "Accepted: the agenda is received and sent from now on"),
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn accept_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
) -> Result<StatusCode, ApiError> {
    node.accept_agenda(parse_space(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes an agenda's title or summary
#[utoipa::path(
    patch,
    path = "/v1/agendas/{id}",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = EditAgenda,
    responses(
        (status = 204, description = "Changed"),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn edit_agenda(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<EditAgenda>,
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

/// Proposes adding a body to an agenda (`body`), consenting for this body
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/invite",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The change proposed", body = ChangeId),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn invite(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let who = parse_body(body.body.as_deref().unwrap_or_default())?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.invite(parse_space(&id)?, who, author).await?;
    Ok(Json(ChangeId { change }))
}

/// Consents to a proposed change of an agenda's member bodies (`change`)
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/consent",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The change consented to", body = ChangeId),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn consent(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<MembershipRequest>,
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

/// Takes back this body's consent to a pending change of an agenda's member bodies
/// (`change`: its id or a prefix of 8+ hex characters); this body may then consent to
/// another change on that state.
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/withdraw",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The change whose consent this body took back", body = ChangeId),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn withdraw(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let change = body
        .change
        .filter(|c| c.len() >= 8 && c.chars().all(|x| x.is_ascii_hexdigit()))
        .ok_or_else(|| {
            NodeError::BadInput("change: give its id (at least 8 hexadecimal characters)".into())
        })?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node
        .withdraw_consent(parse_space(&id)?, change, author)
        .await?;
    Ok(Json(ChangeId { change }))
}

/// Proposes that this body leave an agenda
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/leave",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The change proposed", body = ChangeId),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn leave(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.leave(parse_space(&id)?, author).await?;
    Ok(Json(ChangeId { change }))
}

/// Proposes removing a body from an agenda (`body`)
#[utoipa::path(
    post,
    path = "/v1/agendas/{id}/remove",
    tag = "agendas",
    params(("id" = String, Path, pattern = "^[0-9a-fA-F]{64}$", description = "The agenda: its id, 64 hexadecimal characters")),
    request_body = MembershipRequest,
    responses(
        (status = 200, description = "The change proposed", body = ChangeId),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Failures,
    )
)]
async fn remove_body(
    State(node): State<NodeHandle>,
    UrlPath(id): UrlPath<String>,
    JsonBody(body): JsonBody<MembershipRequest>,
) -> Result<Json<ChangeId>, ApiError> {
    let who = parse_body(body.body.as_deref().unwrap_or_default())?;
    let author = parse_member(body.as_member.as_deref())?;
    let change = node.remove_body(parse_space(&id)?, who, author).await?;
    Ok(Json(ChangeId { change }))
}

/// This body's member keys held on this node
#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "members",
    responses((status = 200, description = "This body's member keys on this node", body = Vec<MemberView>), openapi::Failures)
)]
async fn members(State(node): State<NodeHandle>) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(node.members().await?))
}

/// Reads the member keys and certificates in the data directory again
#[utoipa::path(
    post,
    path = "/v1/members/reload",
    tag = "members",
    responses(
        (status = 200, description = "The member keys now", body = Vec<MemberView>),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn reload_members(State(node): State<NodeHandle>) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(node.reload_members().await?))
}

/// Stops a member key writing on this node, answering how far it wrote
#[utoipa::path(
    post,
    path = "/v1/members/freeze",
    tag = "members",
    request_body = KeyRequest,
    responses(
        (status = 200, description = "How far the key wrote: what its revocations state", body = Reach),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn freeze_member(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<KeyRequest>,
) -> Result<Json<Reach>, ApiError> {
    let key = parse_member(Some(&body.key))?.ok_or_else(|| NodeError::BadInput("no key".into()))?;
    Ok(Json(node.freeze_member(key).await?))
}

/// Reads the body-key chain in `identity.json` again
#[utoipa::path(
    post,
    path = "/v1/body/chain",
    tag = "members",
    responses(
        (status = 204, description = "Read again"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn reload_body_chain(State(node): State<NodeHandle>) -> Result<StatusCode, ApiError> {
    node.reload_body_chain().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies revocations signed by the body key
#[utoipa::path(
    post,
    path = "/v1/revocations",
    tag = "members",
    request_body = RevocationsRequest,
    responses(
        (status = 204, description = "Applied and offered to member peers"),
        openapi::BadRequest,
        openapi::Failures,
    )
)]
async fn revoke(
    State(node): State<NodeHandle>,
    JsonBody(body): JsonBody<RevocationsRequest>,
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

        // A body that is not a JSON object is refused as bad input, as JSON, before the
        // node is asked anything (serde alone would take `[[]]` as `{"revocations": []}`).
        for (content_type, body) in [
            ("application/json", "[[]]"),
            ("application/json", "\"x\""),
            ("application/json", "{"),
            ("text/plain", "{}"),
        ] {
            let response = http
                .post(format!("http://{addr}/v1/revocations"))
                .bearer_auth(&token)
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .expect("post");
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
            let error: ErrorBody = response.json().await.expect("error body");
            assert!(matches!(error.error, NodeError::BadInput(_)), "{body}");
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
