//! 账户管理 (administrators only): the accounts of this node, each bound to a member key;
//! add one (its one-time password is shown once), reset a password, remove an account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};

use crate::i18n::Lang;
use crate::ui::forms::{self, Fields, FormState};
use crate::ui::{accounts, html, layout, node_failure, server_error, Shared, Viewer};

fn not_admin(lang: Lang) -> Response {
    layout::message(
        lang,
        StatusCode::FORBIDDEN,
        lang.pick("Administrators only", "仅限管理员"),
        lang.pick(
            "Only an administrator account may manage accounts.",
            "只有管理员账户才能管理账户。",
        ),
    )
}

async fn page(
    state: &Shared,
    viewer: &Viewer,
    form: &FormState,
    notice: Option<Markup>,
) -> Result<Markup, Response> {
    let lang = viewer.lang;
    let members = state
        .node
        .members()
        .await
        .map_err(|e| node_failure(lang, &e))?;
    let all = accounts::load(&state.dir).map_err(|e| server_error(lang, &e.say(lang)))?;
    let member_name = |key: &str| {
        members
            .iter()
            .find(|m| m.key == key)
            .map_or_else(|| layout::short(key).to_owned(), |m| m.name.clone())
    };
    let options: Vec<(String, String)> = members
        .iter()
        .filter(|m| !m.revoked)
        .map(|m| {
            let sign = if m.can_sign {
                lang.pick(" (may sign)", "（可签署）")
            } else {
                ""
            };
            (
                m.key.clone(),
                format!("{}{sign} · {}", m.name, layout::short(&m.key)),
            )
        })
        .collect();
    Ok(layout::page(
        viewer,
        &state.body,
        viewer.t("Accounts", "账户管理"),
        html! {
            @if let Some(n) = notice { (n) }
            div.cols {
                table {
                    thead { tr { th { (viewer.t("Account", "账户")) } th { (viewer.t("Signs as member", "签名成员")) } th { (viewer.t("State", "状态")) } th {} } }
                    tbody { @for a in &all {
                        tr {
                            td { (a.name) @if a.admin { span.badge.sign { (viewer.t("admin", "管理员")) } } }
                            td { (member_name(&a.member)) }
                            td { @if a.must_change { span.badge.warn { (viewer.t("one-time password", "一次性密码")) } } @else { span.badge.ok { (viewer.t("active", "正常")) } } }
                            td {
                                form.inline method="post" action="/admin" {
                                    (forms::csrf(&viewer.session.csrf))
                                    input type="hidden" name="op" value="reset";
                                    input type="hidden" name="name" value=(a.name);
                                    button.secondary type="submit" { (viewer.t("Reset password", "重置密码")) }
                                }
                                " "
                                @if a.name != viewer.account.name {
                                    form.inline method="post" action="/admin" {
                                        (forms::csrf(&viewer.session.csrf))
                                        input type="hidden" name="op" value="remove";
                                        input type="hidden" name="name" value=(a.name);
                                        button.secondary type="submit" { (viewer.t("Remove", "删除")) }
                                    }
                                }
                            }
                        }
                    } }
                }
                section.card {
                    h2 style="margin-top:0" { (viewer.t("New account", "新建账户")) }
                    form method="post" action="/admin" novalidate {
                        (forms::csrf(&viewer.session.csrf))
                        input type="hidden" name="op" value="add";
                        (forms::general(form))
                        (forms::input(form, "name", lang.pick("Account name", "账户名"), "text", true))
                        (forms::select(form, "member", lang.pick("Member key (add members with confer member add)", "成员密钥（用 confer member add 添加成员）"), &options))
                        label.check { input type="checkbox" name="admin" value="yes" checked[form.value("admin") == "yes"]; " " (viewer.t("Administrator", "管理员")) }
                        p {}
                        button type="submit" { (viewer.t("Create account", "创建账户")) }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    if !viewer.account.admin {
        return not_admin(viewer.lang);
    }
    match page(
        &state,
        &viewer,
        &FormState::of("account", Fields::default()),
        None,
    )
    .await
    {
        Ok(m) => html(m),
        Err(r) => r,
    }
}

fn password_notice(lang: Lang, name: &str, password: &str) -> Markup {
    html! {
        div.notice role="status" {
            (lang.pick("One-time password for ", "账户 ")) strong { (name) } (lang.pick(" (shown once; it must be changed at the first login): ", " 的一次性密码（仅显示一次，首次登录时须修改）："))
            " " span.secret data-password { (password) }
        }
    }
}

pub(crate) async fn act(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(refused) = viewer.check_csrf(&fields) {
        return refused;
    }
    let lang = viewer.lang;
    if !viewer.account.admin {
        return not_admin(lang);
    }
    let mut form = FormState::of("account", fields.clone());
    let name = fields.get("name").to_owned();
    let dir = state.dir.clone();
    let _guard = state.accounts_lock.lock().await;
    let notice = match fields.get("op") {
        "add" => {
            form.require(lang, "name");
            form.require(lang, "member");
            if form.ok() {
                let member = fields.get("member").to_owned();
                let admin = fields.get("admin") == "yes";
                let n = name.clone();
                match tokio::task::spawn_blocking(move || accounts::add(&dir, &n, &member, admin))
                    .await
                {
                    Ok(Ok(password)) => {
                        form = FormState::of("account", Fields::default());
                        Some(password_notice(lang, &name, &password))
                    }
                    Ok(Err(e @ accounts::AccountError::NotAMember(_))) => {
                        form.error("member", e.say(lang));
                        None
                    }
                    Ok(Err(
                        e @ (accounts::AccountError::BadName | accounts::AccountError::Exists(_)),
                    )) => {
                        form.error("name", e.say(lang));
                        None
                    }
                    Ok(Err(e)) => return server_error(lang, &e.say(lang)),
                    Err(e) => return server_error(lang, &e.to_string()),
                }
            } else {
                None
            }
        }
        "reset" => match tokio::task::spawn_blocking({
            let n = name.clone();
            move || accounts::reset(&dir, &n)
        })
        .await
        {
            Ok(Ok(password)) => {
                state.sessions.close_account(&name, None);
                Some(password_notice(lang, &name, &password))
            }
            Ok(Err(e)) => return server_error(lang, &e.say(lang)),
            Err(e) => return server_error(lang, &e.to_string()),
        },
        "remove" if name != viewer.account.name => match accounts::remove(&dir, &name) {
            Ok(()) => {
                state.sessions.close_account(&name, None);
                None
            }
            Err(e) => return server_error(lang, &e.say(lang)),
        },
        _ => return server_error(lang, lang.pick("Unknown request.", "未知请求。")),
    };
    let status = if form.ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    match page(&state, &viewer, &form, notice).await {
        Ok(m) => (status, html(m)).into_response(),
        Err(r) => r,
    }
}
