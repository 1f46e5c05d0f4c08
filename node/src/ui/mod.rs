//! The web UI: server-rendered pages (maud) for committee staff, in Chinese by default and
//! English on request, served by the node itself when `confer run --ui HOST:PORT` asks.
//!
//! Every asset is embedded in the binary (`assets/`: one stylesheet, one small script for
//! live refresh); no CDN, no web fonts. Each person logs in with an account bound to one
//! of this body's member keys ([`accounts`]); what they do is a [`NodeHandle`] model action
//! written as that member — the same actions and views the HTTP API uses, no second path.
//! Sessions, CSRF and login limits are in [`session`]; partner changes reach open pages
//! through server-sent events ([`live`]).
//!
//! Handlers are thin: the [`Viewer`] extractor (session, account, member, language), one or
//! two calls into the node, a page out. Form mistakes are shown next to the field in the
//! person's language and nothing is saved.

// A handler's early exit is the whole page to answer with, as axum's own rejections are.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::handle::{NodeError, NodeHandle};
use crate::i18n::Lang;
use crate::views::{BodyView, MemberView};

pub mod accounts;
mod forms;
mod layout;
mod live;
mod pages;
mod search;
pub mod session;
pub mod tls;

use accounts::Account;
use session::{LoginLimiter, Session, Sessions};

/// How the UI listens.
#[derive(Debug, Clone)]
pub struct UiConfig {
    pub addr: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// What the handlers share.
pub(crate) struct UiState {
    pub(crate) node: NodeHandle,
    pub(crate) dir: PathBuf,
    pub(crate) body: BodyView,
    pub(crate) sessions: Sessions,
    pub(crate) limiter: LoginLimiter,
    /// Serialises read-modify-write of the accounts file within this process.
    pub(crate) accounts_lock: tokio::sync::Mutex<()>,
    /// Cookies get `Secure` (HTTPS).
    pub(crate) secure: bool,
    pub(crate) search: search::SearchIndex,
}

pub(crate) type Shared = Arc<UiState>;

/// A running UI server.
pub struct UiServer {
    pub addr: SocketAddr,
    pub https: bool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    /// Keeps the search index current.
    indexing: JoinHandle<()>,
}

impl UiServer {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.indexing.abort();
        let _ = self.indexing.await;
    }
}

/// Binds the UI and serves until stopped. `dir` is the node's data directory (accounts).
pub async fn serve(config: &UiConfig, node: NodeHandle, dir: PathBuf) -> std::io::Result<UiServer> {
    let status = node.status().await.map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    let search = search::SearchIndex::default();
    let indexing = search.keep_current(node.clone());
    let state = Arc::new(UiState {
        search,
        node,
        dir,
        body: status.body,
        sessions: Sessions::default(),
        limiter: LoginLimiter::default(),
        accounts_lock: tokio::sync::Mutex::new(()),
        secure: tls.is_some(),
    });
    let https = tls.is_some();
    let app = router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = match tls {
        None => tokio::spawn(async move {
            let server = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "web UI server failed");
            }
        }),
        Some(acceptor) => tokio::spawn(tls::serve(listener, acceptor, app, stopped)),
    };
    tracing::info!(%addr, https, "web UI listening");
    Ok(UiServer {
        addr,
        https,
        stop,
        task,
        indexing,
    })
}

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(pages::dashboard::show))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route(
            "/password",
            get(pages::password::form).post(pages::password::submit),
        )
        .route("/lang", get(pages::login::switch_language))
        .route(
            "/agendas",
            get(pages::agendas::list).post(pages::agendas::create),
        )
        .route("/agendas/{id}", get(pages::agenda::show))
        .route(
            "/agendas/{id}/suggestions/{sid}",
            get(pages::agenda::show_suggestion),
        )
        .route("/agendas/{id}/{action}", post(pages::agenda::act))
        .route("/ledger", get(pages::ledger::show).post(pages::ledger::add))
        .route("/ledger/topics/{id}", get(pages::ledger::topic::show))
        .route(
            "/ledger/topics/{id}/{action}",
            post(pages::ledger::topic::act),
        )
        .route(
            "/plan",
            get(pages::ledger::plan::show).post(pages::ledger::plan::add),
        )
        .route(
            "/experts",
            get(pages::ledger::experts::show).post(pages::ledger::experts::add),
        )
        .route("/experts/share", post(pages::ledger::experts::share))
        .route("/overdue", get(pages::overdue::show))
        .route("/network", get(pages::network::show))
        .route("/members", get(pages::members::show))
        .route("/report", get(pages::report::show))
        .route("/search", get(pages::search::show))
        .route("/admin", get(pages::admin::show).post(pages::admin::act))
        .route("/events", get(live::events))
        .route("/assets/ui.css", get(layout::css))
        .route("/assets/ui.js", get(layout::js))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Every answer: no framing (clickjacking), scripts and forms from this site only, no
/// content sniffing, no referrer leaving the site, pages not cached.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, header::HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

async fn not_found(lang: UiLang) -> Response {
    layout::message(
        lang.0,
        StatusCode::NOT_FOUND,
        lang.0.pick("Not found", "页面不存在"),
        lang.0.pick("There is no such page.", "没有这个页面。"),
    )
}

/// The person's language: the `confer_lang` cookie, Chinese by default.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UiLang(pub Lang);

pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    match session::cookie(headers, session::LANG_COOKIE) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.headers)))
    }
}

/// The logged-in person: their session, account, member key and language. A request
/// without a live session is sent to the login page; one whose password is one-time, to
/// the password page.
pub(crate) struct Viewer {
    pub(crate) token: String,
    pub(crate) session: Session,
    pub(crate) account: Account,
    pub(crate) member: MemberView,
    pub(crate) lang: Lang,
    pub(crate) path: String,
}

impl Viewer {
    pub(crate) fn t<'a>(&self, en: &'a str, zh: &'a str) -> &'a str {
        self.lang.pick(en, zh)
    }

    /// The member key to write as.
    pub(crate) fn author(&self) -> Option<confer_protocol::PublicKey> {
        self.member.key.parse().ok()
    }

    /// Refuses (403, nothing changed) a form whose `_csrf` is not this session's token.
    pub(crate) fn check_csrf(&self, form: &forms::Fields) -> Result<(), Response> {
        if session::same_token(form.get("_csrf"), &self.session.csrf) {
            Ok(())
        } else {
            Err(forbidden(self.lang))
        }
    }
}

pub(crate) fn forbidden(lang: Lang) -> Response {
    layout::message(
        lang,
        StatusCode::FORBIDDEN,
        lang.pick("Form expired", "表单已失效"),
        lang.pick(
            "This form is out of date or did not come from this site (its security token does not match). Nothing was changed. Go back, reload the page and try again.",
            "该表单已过期或并非来自本站（安全令牌不符），未作任何修改。请返回、刷新页面后重试。",
        ),
    )
}

impl FromRequestParts<Shared> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let to_login = || Redirect::to("/login").into_response();
        let token = session::cookie(&parts.headers, session::SESSION_COOKIE)
            .ok_or_else(to_login)?
            .to_owned();
        let session = state.sessions.get(&token).ok_or_else(to_login)?;
        let account = accounts::load(&state.dir)
            .map_err(|e| server_error(lang, &e.say(lang)))?
            .into_iter()
            .find(|a| a.name == session.account)
            .ok_or_else(|| {
                state.sessions.close(&token);
                to_login()
            })?;
        if !session::same_token(&account.password.salt, &session.password_salt) {
            // The password changed since this session began.
            state.sessions.close(&token);
            return Err(to_login());
        }
        let path = parts.uri.path().to_owned();
        if account.must_change && path != "/password" && path != "/logout" {
            return Err(Redirect::to("/password").into_response());
        }
        let members = state
            .node
            .members()
            .await
            .map_err(|e| node_failure(lang, &e))?;
        let member = members
            .into_iter()
            .find(|m| m.key == account.member && !m.revoked)
            .ok_or_else(|| {
                layout::message(
                    lang,
                    StatusCode::FORBIDDEN,
                    lang.pick("Member key unavailable", "成员密钥不可用"),
                    lang.pick(
                        "The member key this account signs with is not on this node, or it was revoked. Ask the administrator to bind the account to another member.",
                        "该账户用于签名的成员密钥不在本节点上，或已被撤销。请联系管理员为账户绑定其他成员。",
                    ),
                )
            })?;
        Ok(Viewer {
            token,
            session,
            account,
            member,
            lang,
            path,
        })
    }
}

pub(crate) fn server_error(lang: Lang, detail: &str) -> Response {
    layout::message(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        lang.pick("Something went wrong", "出现错误"),
        detail,
    )
}

/// A node error as a page.
pub(crate) fn node_failure(lang: Lang, e: &NodeError) -> Response {
    let status = match e {
        NodeError::UnknownAgenda(_) | NodeError::NotInvited(_) => StatusCode::NOT_FOUND,
        NodeError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        NodeError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    layout::message(
        lang,
        status,
        lang.pick("Not done", "未能完成"),
        &crate::i18n::node_error(lang, e),
    )
}

/// A rendered page as a response.
pub(crate) fn html(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// Redirect after a successful POST (303: the browser then GETs).
pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}
