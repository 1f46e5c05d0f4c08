//! The API's OpenAPI 3.1 document, generated from the code.
//!
//! Every route is registered through `utoipa_axum`'s `routes!` from a handler annotated with
//! `#[utoipa::path]` (method, path, parameters, request body, responses): the same list
//! builds the axum router and the document's paths, so a route cannot be served without
//! being described. The bodies' schemas come from `ToSchema` on the types the handlers take
//! and send (`crate::views`, the request types in `api/`, and the protocol's views through
//! its `openapi` feature). The test below checks both directions against the routing table
//! axum actually built.
//!
//! The document is served at `GET /v1/openapi.json`, with the token like every route but
//! `GET /v1/prove`: it holds nothing secret (it is this source, rendered), but every client
//! that can use it holds the token anyway, and keeping a single unauthenticated route keeps
//! that rule simple to state and to check.
//!
//! Errors: every refusal is JSON. The node's own (`ErrorBody`: `{"code", "detail"?,
//! "message"}`, the codes of [`NodeError`]) and the HTTP layer's (`RefusalBody`: `{"code",
//! "message"}`: `unauthorized`, `no_route`, `method_not_allowed`).

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::{ApiState, ErrorBody};
use crate::handle::NodeError;

/// The document's fixed parts; the paths and their schemas are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "confer node API",
        description = "The local HTTP API of a confer node: what the `confer` CLI uses. \
            Every route needs `Authorization: Bearer <token>` (the token is in `DIR/api.json`, \
            fresh for each `confer run`) except `GET /v1/prove`. Refusals are JSON: \
            `{\"code\", \"detail\", \"message\"}`. The node binds to loopback unless \
            started with `--api-insecure`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    components(schemas(ErrorBody, NodeError, RefusalBody, RefusalCode)),
    tags(
        (name = "node", description = "This node: status, peers, trusted bodies, the document"),
        (name = "members", description = "This body's member keys and revocations"),
        (name = "agendas", description = "Joint agendas and their member bodies"),
        (name = "workflow", description = "An agenda's records and the views computed from them"),
        (name = "ledger", description = "This body's own ledger"),
    )
)]
pub(crate) struct ApiDoc;

/// Adds the bearer scheme every route but `GET /v1/prove` requires.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token in DIR/api.json (64 hexadecimal characters), fresh for each \
                         `confer run`",
                    ))
                    .build(),
            ),
        );
    }
}

/// An array of ids of 64 hexadecimal characters (body ids).
pub(crate) fn hex64_list() -> Array {
    array_of(r"^[0-9a-fA-F]{64}$")
}

/// An array of hexadecimal strings.
pub(crate) fn hex_list() -> Array {
    array_of(r"^[0-9a-fA-F]*$")
}

fn array_of(pattern: &str) -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        )
        .build()
}

/// A record's collection: the name of one in the agenda's schema or the ledger's, from
/// the model's own tables (which of the two a route takes is in its description).
pub(crate) fn collection_name() -> Object {
    let mut names: Vec<&str> = confer_protocol::model::AGENDA_SCHEMA
        .collections
        .iter()
        .chain(confer_protocol::model::LEDGER_SCHEMA.collections)
        .map(|c| c.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// A refusal by the HTTP layer, before any handler: `{"code", "message"}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefusalBody {
    pub code: RefusalCode,
    pub message: String,
}

/// Why the HTTP layer refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// No `Authorization: Bearer <token>`, or not the token in `DIR/api.json` (401).
    Unauthorized,
    /// No route has this path (404).
    NoRoute,
    /// The path has routes, but not for this method (405).
    MethodNotAllowed,
}

impl RefusalCode {
    fn status(self) -> StatusCode {
        match self {
            RefusalCode::Unauthorized => StatusCode::UNAUTHORIZED,
            RefusalCode::NoRoute => StatusCode::NOT_FOUND,
            RefusalCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

pub(super) fn refusal(code: RefusalCode, message: &str) -> Response {
    let body = RefusalBody {
        code,
        message: message.to_owned(),
    };
    (code.status(), Json(body)).into_response()
}

/// The fallback for a path no route has.
pub(super) async fn no_route() -> Response {
    refusal(
        RefusalCode::NoRoute,
        "no such route (the routes are listed in GET /v1/openapi.json)",
    )
}

/// The fallback for a method a path's routes do not take.
pub(super) async fn method_not_allowed() -> Response {
    refusal(
        RefusalCode::MethodNotAllowed,
        "this path does not take this method (see GET /v1/openapi.json)",
    )
}

/// Responses every route that needs the token may give.
#[derive(IntoResponses)]
#[expect(
    dead_code,
    reason = "describes responses in the document; never constructed"
)]
pub(crate) enum Failures {
    /// No `Authorization: Bearer <token>` header, or not the token in `DIR/api.json`
    /// (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(RefusalBody),
    /// The node's storage failed (`storage`); nothing was changed.
    #[response(status = 500)]
    Storage(ErrorBody),
    /// The node is shutting down (`stopped`).
    #[response(status = 503)]
    Stopped(ErrorBody),
}

/// Refused: a malformed body, query or id, or a value the node does not take (`bad_input`,
/// `bad_address`, `unknown_body`); nothing was changed.
#[derive(IntoResponses)]
#[response(status = 400)]
#[expect(
    dead_code,
    reason = "describes a response in the document; never constructed"
)]
pub(crate) struct BadRequest(ErrorBody);

/// No such agenda on this node, or no such invitation (`unknown_agenda`, `not_invited`).
#[derive(IntoResponses)]
#[response(status = 404)]
#[expect(
    dead_code,
    reason = "describes a response in the document; never constructed"
)]
pub(crate) struct NotFound(ErrorBody);

/// The document, rendered once when the router is built.
#[derive(Clone)]
pub(crate) struct Document(pub(crate) Arc<str>);

impl FromRef<ApiState> for Document {
    fn from_ref(state: &ApiState) -> Self {
        state.document.clone()
    }
}

/// This document: the API's routes, parameters, bodies and responses.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "node",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", body = Object),
        Failures,
    )
)]
pub(super) async fn document(State(document): State<Document>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::handle::NodeHandle;

    /// The paths of the routing table axum built, read from its `Debug` form: axum has no
    /// API that lists them, and its `Debug` prints the table's path templates (the same
    /// strings the router matches requests against). If that form changes, the parse finds
    /// nothing and the test fails rather than passing on an empty list.
    fn served_paths(router: &axum::Router) -> BTreeSet<String> {
        let debug = format!("{router:?}");
        // The path router comes first; the fallback router (its catch-all paths) after it.
        let path_router = debug
            .split_once("fallback_router:")
            .map_or(debug.as_str(), |(before, _)| before);
        let table = path_router
            .split_once("paths: {")
            .map(|(_, rest)| rest)
            .expect("axum's Debug of a Router lists `paths: {...}`");
        let mut out = BTreeSet::new();
        let mut rest = table;
        // Entries are `RouteId(N): "PATH"`, separated by ", ", closed by "}".
        while let Some((head, tail)) = rest.split_once('"') {
            if head.contains('}') {
                break;
            }
            let (path, after) = tail.split_once('"').expect("a closing quote");
            out.insert(path.to_owned());
            rest = after;
        }
        out
    }

    fn concrete(template: &str) -> String {
        // Any value will do for a parameter: the routes match on the path's shape.
        let mut out = String::new();
        let mut in_param = false;
        for c in template.chars() {
            match c {
                '{' => in_param = true,
                '}' => {
                    in_param = false;
                    out.push_str(&"ab".repeat(8));
                }
                _ if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    }

    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

    /// Every (method, path) the router answers is in the document, and every operation in
    /// the document is answered: the paths from axum's routing table, the methods by
    /// asking each path with every method (a method no route takes is answered 405).
    #[tokio::test]
    async fn the_document_lists_exactly_the_routes_served() {
        let token = "34".repeat(32);
        let (tx, _) = tokio::sync::mpsc::channel(1);
        let router = super::super::router(NodeHandle { tx }, token.clone());
        let document = super::super::openapi();

        let served = served_paths(&router);
        assert!(
            served.contains("/v1/prove")
                && served.contains("/v1/agendas/{id}")
                && served.len() > 20,
            "the routing table was not read: {served:?}"
        );
        let documented: BTreeSet<String> = document.paths.paths.keys().cloned().collect();
        assert_same("paths", &served, &documented);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");

        let mut answered = BTreeSet::new();
        for path in &served {
            for method in METHODS {
                let response = http
                    .request(
                        method.parse().expect("method"),
                        format!("http://{addr}{}", concrete(path)),
                    )
                    .bearer_auth(&token)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body("{}")
                    .send()
                    .await
                    .expect("request");
                let status = response.status();
                let body: serde_json::Value = response
                    .json()
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({status}): {e}"));
                assert!(
                    status.is_success() || body["code"].is_string(),
                    "{method} {path}: {status} {body}"
                );
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    assert_eq!(body["code"], "method_not_allowed", "{method} {path}");
                    continue;
                }
                assert_ne!(body["code"], "no_route", "{method} {path}");
                answered.insert(format!("{method} {path}"));
            }
        }
        let mut operations = BTreeSet::new();
        for (path, item) in &document.paths.paths {
            let item = serde_json::to_value(item).expect("path item");
            for method in METHODS {
                if item.get(method.to_lowercase()).is_some() {
                    operations.insert(format!("{method} {path}"));
                }
            }
        }
        assert_same("operations", &answered, &operations);
    }

    fn assert_same(what: &str, served: &BTreeSet<String>, documented: &BTreeSet<String>) {
        let undocumented: Vec<_> = served.difference(documented).collect();
        let unserved: Vec<_> = documented.difference(served).collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "{what} served but not in the document: {undocumented:?}; in the document but not served: {unserved:?}"
        );
    }

    /// Every `$ref` in the document names a component it has, and every operation but
    /// `GET /v1/prove` needs the bearer token.
    #[test]
    fn the_document_is_complete() {
        let document = serde_json::to_value(super::super::openapi()).expect("document");
        let mut refs = Vec::new();
        collect_refs(&document, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{r}: not local"));
            assert!(
                document.pointer(pointer).is_some(),
                "{r} is not in the document"
            );
        }
        assert_eq!(document["security"], serde_json::json!([{"bearer": []}]));
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let security = &operation["security"];
                if path == "/v1/prove" {
                    assert_eq!(security, &serde_json::json!([{}]), "{method} {path}");
                } else {
                    assert!(security.is_null(), "{method} {path}: {security}");
                    assert!(
                        operation["responses"]["401"].is_object(),
                        "{method} {path} does not document 401"
                    );
                }
            }
        }
    }

    fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
