//! 成员: this body's members on this node — name, role, whether each may sign outcomes,
//! whether it was revoked, and the accounts that sign as it — and how IT staff add one.
//! Adding or revoking a member needs the body key, which the web UI never holds: the page
//! says which command does it.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::labels::{self, label};
use crate::ui::{accounts, html, layout, node_failure, server_error, Shared, Viewer};

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let members = match state.node.members().await {
        Ok(m) => m,
        Err(e) => return node_failure(lang, &e),
    };
    let all = match accounts::load(&state.dir) {
        Ok(a) => a,
        Err(e) => return server_error(lang, &e.say(lang)),
    };
    let accounts_of = |key: &str| -> Vec<&str> {
        all.iter()
            .filter(|a| a.member == key)
            .map(|a| a.name.as_str())
            .collect()
    };
    html(layout::page(
        &viewer,
        &state.body,
        viewer.t("Members", "成员"),
        html! {
            p.muted { (viewer.t(
                "The members of this body whose keys this node holds. Everything a person does in this interface is signed with the member key their account is bound to.",
                "本节点持有密钥的本机构成员。每个人在本界面所做的操作，均以其账户绑定的成员密钥签名。")) }
            table {
                thead { tr {
                    th { (viewer.t("Member", "成员")) }
                    th { (viewer.t("Role", "职务")) }
                    th { (viewer.t("May sign outcomes", "可签署成果")) }
                    th { (viewer.t("Accounts", "账户")) }
                    th { (viewer.t("Key", "密钥")) }
                } }
                tbody { @for m in &members {
                    tr {
                        td { (m.name) @if m.revoked { " " span.badge.bad { (viewer.t("revoked", "已撤销")) } } }
                        td { (label(lang, labels::MEMBER_ROLES, &m.role)) }
                        td { @if m.can_sign { span.badge.sign { (viewer.t("yes", "是")) } } @else { (viewer.t("no", "否")) } }
                        td {
                            @let names = accounts_of(&m.key);
                            @if names.is_empty() { span.muted { (viewer.t("none", "无")) } }
                            @else { (names.join(lang.pick(", ", "、"))) }
                        }
                        td { code title=(m.key) { (layout::short(&m.key)) "…" } }
                    }
                } }
            }
            h2 { (viewer.t("Adding a member", "添加成员")) }
            p { (viewer.t(
                "A member is certified with the body key, which stays with IT staff (often offline). On the node's machine:",
                "成员须以本机构密钥认证，该密钥由信息技术人员保管（通常离线）。在节点所在的机器上执行：")) }
            pre { code { "confer member add \"" (viewer.t("Name", "姓名")) "\" --role secretary-general --can-sign" } }
            p { (viewer.t(
                "Then bind an account to the new member's key (",
                "然后为新成员的密钥绑定账户（"))
                @if viewer.account.admin { a href="/admin" { (viewer.t("Accounts", "账户管理")) } }
                @else { (viewer.t("an administrator does this under Accounts", "由管理员在“账户管理”中操作")) }
                (viewer.t(", or `confer account add NAME --member KEY`).", "，或执行 `confer account add 账户名 --member 密钥`）。")) }
        },
    ))
}
