//! Logging in and out, and the language switch.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::html;

use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::session::{self, cookie, set_cookie};
use crate::ui::{accounts, forbidden, layout, see_other, server_error, Shared, UiLang, Viewer};

fn login_page(
    lang: Lang,
    token: &str,
    state: &FormState,
    status: StatusCode,
    secure: bool,
) -> Response {
    let markup = layout::bare(
        lang,
        lang.pick("Log in", "登录"),
        "/login",
        html! {
            form method="post" action="/login" novalidate {
                (forms::csrf(token))
                (forms::general(state))
                (forms::input(state, "name", lang.pick("Account name", "账户名"), "text", true))
                (forms::input(state, "password", lang.pick("Password", "密码"), "password", true))
                button type="submit" { (lang.pick("Log in", "登录")) }
            }
            p.muted { (lang.pick(
                "Accounts are made by this node's administrator (confer account add). A new account's one-time password must be changed at the first login.",
                "账户由本节点管理员创建（confer account add）。新账户的一次性密码须在首次登录时修改。"
            )) }
        },
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (
                header::SET_COOKIE,
                set_cookie(session::LOGIN_COOKIE, token, secure, Some(3600)),
            ),
        ],
        markup.into_string(),
    )
        .into_response()
}

pub(crate) async fn form(
    State(state): State<Shared>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie(&headers, session::SESSION_COOKIE) {
        if state.sessions.get(token).is_some() {
            return see_other("/");
        }
    }
    let token = session::random_token();
    login_page(
        lang,
        &token,
        &FormState::of("login", Fields::default()),
        StatusCode::OK,
        state.secure,
    )
}

pub(crate) async fn submit(
    State(state): State<Shared>,
    UiLang(lang): UiLang,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let expected = cookie(&headers, session::LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !session::same_token(fields.get("_csrf"), expected) {
        return forbidden(lang);
    }
    let fresh = session::random_token();
    let name = fields.get("name").to_owned();
    // The password is not trimmed.
    let password = fields
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut form = FormState::of("login", Fields(vec![("name".into(), name.clone())]));
    if name.is_empty() {
        form.error(
            "name",
            lang.pick("Enter your account name.", "请填写账户名。"),
        );
    }
    if password.is_empty() {
        form.error(
            "password",
            lang.pick("Enter your password.", "请填写密码。"),
        );
    }
    if !form.ok() {
        return login_page(lang, &fresh, &form, StatusCode::BAD_REQUEST, state.secure);
    }
    let ip = remote.ip();
    if !state.limiter.allowed(&name, ip) {
        form.general = Some(
            lang.pick(
                "Too many failed attempts for this account or from this computer. Wait 15 minutes and try again, or ask the administrator.",
                "该账户或本机登录失败次数过多。请 15 分钟后再试，或联系管理员。",
            )
            .to_owned(),
        );
        return login_page(
            lang,
            &fresh,
            &form,
            StatusCode::TOO_MANY_REQUESTS,
            state.secure,
        );
    }
    let account = match accounts::load(&state.dir) {
        Ok(all) => all.into_iter().find(|a| a.name == name),
        Err(e) => return server_error(lang, &e.say(lang)),
    };
    let check = account.as_ref().map(|a| a.password.clone());
    let verified = tokio::task::spawn_blocking(move || match check {
        Some(hash) => accounts::verify_password(&hash, &password),
        None => {
            // The same work for an unknown name, so timing does not tell names apart.
            let _ = accounts::hash_password(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(account) = account.filter(|_| verified) else {
        state.limiter.failed(&name, ip);
        tracing::info!(account = %confer_protocol::text::display_line(&name), %ip, "web UI: failed login");
        form.general = Some(
            lang.pick(
                "The account name or the password is wrong.",
                "账户名或密码错误。",
            )
            .to_owned(),
        );
        return login_page(lang, &fresh, &form, StatusCode::UNAUTHORIZED, state.secure);
    };
    state.limiter.succeeded(&name);
    let since = {
        let _guard = state.accounts_lock.lock().await;
        accounts::visited(&state.dir, &account.name, crate::runtime::unix_now_ms()).unwrap_or(0)
    };
    let token = state
        .sessions
        .open(&account.name, since, &account.password.salt);
    let to = if account.must_change {
        "/password"
    } else {
        "/"
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_owned()),
            (
                header::SET_COOKIE,
                set_cookie(session::SESSION_COOKIE, &token, state.secure, None),
            ),
        ],
    )
        .into_response()
}

pub(crate) async fn logout(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    state.sessions.close(&viewer.token);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                set_cookie(session::SESSION_COOKIE, "", state.secure, Some(0)),
            ),
        ],
    )
        .into_response()
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct LangQuery {
    #[serde(default)]
    to: String,
    #[serde(default)]
    back: String,
}

/// Sets the language cookie and goes back to the page (a path on this site only).
pub(crate) async fn switch_language(
    State(state): State<Shared>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = if q.to == "en" { "en" } else { "zh" };
    let back = if q.back.starts_with('/') && !q.back.starts_with("//") && !q.back.contains('\\') {
        q.back
    } else {
        "/".to_owned()
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, back),
            (
                header::SET_COOKIE,
                set_cookie(session::LANG_COOKIE, lang, state.secure, Some(365 * 86_400)),
            ),
        ],
    )
        .into_response()
}
