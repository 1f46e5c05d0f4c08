//! Changing one's password (required after a one-time password).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::html;

use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{accounts, html, layout, see_other, server_error, Shared, Viewer};

fn page(state: &Shared, viewer: &Viewer, form: &FormState) -> maud::Markup {
    let lang = viewer.lang;
    layout::page(
        viewer,
        &state.body,
        viewer.t("Change password", "修改密码"),
        html! {
            @if viewer.account.must_change {
                p.notice { (viewer.t(
                    "You logged in with a one-time password. Choose your own password to continue.",
                    "您使用的是一次性密码登录，请先设置自己的密码。"
                )) }
            }
            div.card style="max-width: 520px" {
                form method="post" action="/password" novalidate {
                    (forms::csrf(&viewer.session.csrf))
                    (forms::general(form))
                    (forms::input(form, "current", lang.pick("Current password", "当前密码"), "password", true))
                    (forms::input(form, "new", &format!("{} ({})", lang.pick("New password", "新密码"), lang.pick("at least 10 characters", "至少 10 个字符")), "password", true))
                    (forms::input(form, "repeat", lang.pick("New password again", "再次输入新密码"), "password", true))
                    button type="submit" { (viewer.t("Save password", "保存密码")) }
                }
            }
        },
    )
}

pub(crate) async fn form(State(state): State<Shared>, viewer: Viewer) -> Response {
    html(page(
        &state,
        &viewer,
        &FormState::of("password", Fields::default()),
    ))
}

fn raw(fields: &Fields, name: &str) -> String {
    fields
        .0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub(crate) async fn submit(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    let (current, new, repeat) = (
        raw(&fields, "current"),
        raw(&fields, "new"),
        raw(&fields, "repeat"),
    );
    let mut form = FormState::of("password", Fields::default());
    if current.is_empty() {
        form.error(
            "current",
            lang.pick("Enter your current password.", "请填写当前密码。"),
        );
    }
    if new.chars().count() < accounts::MIN_PASSWORD {
        form.error(
            "new",
            lang.pick(
                "The new password needs at least 10 characters.",
                "新密码至少需要 10 个字符。",
            ),
        );
    } else if new == current {
        form.error(
            "new",
            lang.pick(
                "Choose a password other than the current one.",
                "新密码不能与当前密码相同。",
            ),
        );
    }
    if repeat != new {
        form.error(
            "repeat",
            lang.pick("The two new passwords differ.", "两次输入的新密码不一致。"),
        );
    }
    if form.ok() {
        let hash = viewer.account.password.clone();
        let ok = tokio::task::spawn_blocking(move || accounts::verify_password(&hash, &current))
            .await
            .unwrap_or(false);
        if !ok {
            form.error(
                "current",
                lang.pick("The current password is wrong.", "当前密码错误。"),
            );
        }
    }
    if !form.ok() {
        return (StatusCode::BAD_REQUEST, html(page(&state, &viewer, &form))).into_response();
    }
    let result = {
        let _guard = state.accounts_lock.lock().await;
        let dir = state.dir.clone();
        let name = viewer.account.name.clone();
        tokio::task::spawn_blocking(move || accounts::set_password(&dir, &name, &new)).await
    };
    match result {
        Ok(Ok(salt)) => {
            state.sessions.set_password_salt(&viewer.token, &salt);
            state
                .sessions
                .close_account(&viewer.account.name, Some(&viewer.token));
            see_other("/")
        }
        Ok(Err(e)) => server_error(lang, &e.say(lang)),
        Err(e) => server_error(lang, &e.to_string()),
    }
}
