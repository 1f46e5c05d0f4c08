//! The agenda page's member bodies and the changes to them: who is a member, who left or
//! was removed, each change waiting for consents (who consented, who is missing) with a
//! consent button for this body; and the forms to invite a body this node trusts, leave,
//! and remove a body. Each is the membership command the API's `/invite`, `/consent`,
//! `/leave` and `/remove` call, signed as the person's member key — which must be one that
//! may sign for the body (`can_sign`): anyone else is told so and refused, nothing sent.

use maud::{html, Markup};

use confer_protocol::{BodyId, SpaceId};

use super::actions::finish;
use super::Loaded;
use crate::i18n::Lang;
use crate::ui::forms::{self, FormState};
use crate::ui::{layout, node_failure, Shared, Viewer};
use crate::views::{BodyView, MembershipView, PendingChangeView};

/// What the membership part of the page needs from the node.
pub(super) struct Membership {
    view: MembershipView,
    /// Bodies this node trusts (the ones it may invite).
    trusted: Vec<BodyView>,
}

pub(super) async fn load(
    state: &Shared,
    lang: Lang,
    space: SpaceId,
) -> Result<Membership, axum::response::Response> {
    let fail = |e| node_failure(lang, &e);
    let view = state.node.membership(space).await.map_err(fail)?;
    let trusted = state.node.status().await.map_err(fail)?.trusted;
    Ok(Membership { view, trusted })
}

/// Only a member who may sign for the body consents for it, in any of these forms.
fn signer_note(viewer: &Viewer) -> String {
    match viewer.lang {
        Lang::En => format!(
            "Only a member who may sign for this committee can invite, consent, leave or remove. Your account signs as {}, who may not sign for it.",
            viewer.member.name
        ),
        Lang::Zh => format!(
            "只有可代表本机构签署的成员才能邀请、同意、退出或移出。您的账户以“{}”的身份签名，该成员不能代表本机构签署。",
            viewer.member.name
        ),
    }
}

/// "invite X" / "X leaves" / "remove X", for people.
fn change_words(viewer: &Viewer, my_body: &str, p: &PendingChangeView) -> String {
    let body = layout::body_name(&p.body);
    match (p.op.as_str(), p.body.id == my_body, viewer.lang) {
        ("add", _, Lang::En) => format!("Invite {body} to join"),
        ("add", _, Lang::Zh) => format!("邀请{body}加入"),
        ("remove", true, Lang::En) => format!("{body} leaves"),
        ("remove", true, Lang::Zh) => format!("{body}退出"),
        (_, _, Lang::En) => format!("Remove {body}"),
        (_, _, Lang::Zh) => format!("移出{body}"),
    }
}

fn badges(bodies: &[BodyView]) -> Markup {
    html! { @for b in bodies { span.badge data-body=(b.id) { (layout::body_name(b)) } " " } }
}

/// The member bodies, the changes waiting, and the forms.
pub(super) fn section(
    viewer: &Viewer,
    loaded: &Loaded,
    membership: &Membership,
    my_body: &str,
    form: Option<&FormState>,
) -> Markup {
    let lang = viewer.lang;
    let sid = loaded.space.to_string();
    let consent_form = FormState::for_form(form, "consent");
    let withdraw_form = FormState::for_form(form, "withdraw");
    let invite_form = FormState::for_form(form, "invite");
    let remove_form = FormState::for_form(form, "remove");
    let leave_form = FormState::for_form(form, "leave");
    let choose = || {
        (
            String::new(),
            viewer.t("— choose —", "— 请选择 —").to_owned(),
        )
    };
    let invitable: Vec<(String, String)> = std::iter::once(choose())
        .chain(
            membership
                .trusted
                .iter()
                .filter(|b| !loaded.members.iter().any(|m| m.id == b.id))
                .map(|b| (b.id.clone(), layout::body_name(b).to_owned())),
        )
        .collect();
    let removable: Vec<(String, String)> = std::iter::once(choose())
        .chain(
            loaded
                .members
                .iter()
                .filter(|b| b.id != my_body)
                .map(|b| (b.id.clone(), layout::body_name(b).to_owned())),
        )
        .collect();
    html! {
        section.card id="membership" data-live data-space=(sid) {
            h2 style="margin-top:0" { (viewer.t("Member bodies", "参与机构")) }
            p { (badges(&loaded.members)) }
            @if !membership.view.removed.is_empty() {
                p.muted { (viewer.t("Left or removed: ", "已退出或被移出：")) (badges(&membership.view.removed)) }
            }
            h3 { (viewer.t("Changes waiting for consent", "待同意的成员变更")) }
            (forms::general(&consent_form))
            (forms::general(&withdraw_form))
            @if membership.view.pending.is_empty() {
                p.muted { (viewer.t("None.", "暂无。")) }
            }
            @for p in &membership.view.pending {
                div.pending data-change=(p.id) {
                    p { strong { (change_words(viewer, my_body, p)) } }
                    p { (viewer.t("Consented: ", "已同意：")) (badges(&p.consented)) }
                    p { (viewer.t("Waiting for: ", "尚待同意：")) (badges(&p.missing)) }
                    @if p.missing.iter().any(|b| b.id == my_body) {
                        form method="post" action=(format!("/agendas/{sid}/consent")) {
                            (forms::csrf(&viewer.session.csrf))
                            input type="hidden" name="change" value=(p.id);
                            button type="submit" { (viewer.t("Consent for ", "代表")) (loaded.body_name(my_body)) (viewer.t("", "同意")) }
                        }
                    }
                    @if p.consented.iter().any(|b| b.id == my_body) {
                        form method="post" action=(format!("/agendas/{sid}/withdraw")) {
                            (forms::csrf(&viewer.session.csrf))
                            input type="hidden" name="change" value=(p.id);
                            button.secondary type="submit" { (viewer.t("Withdraw this committee's consent", "撤回本机构的同意")) }
                        }
                    }
                }
            }
        }
        section.card id="membership-forms" {
            h3 style="margin-top:0" { (viewer.t("Change the member bodies", "变更参与机构")) }
            @if !viewer.member.can_sign { p.muted.signer-note { (signer_note(viewer)) } }
            details.form open[!invite_form.ok()] {
                summary { (viewer.t("Invite a committee", "邀请机构加入")) }
                @if invitable.len() == 1 {
                    p.muted { (viewer.t("Every committee this node trusts is a member already. To invite another, add one of its nodes first (confer peer add).", "本节点信任的机构均已参与。如需邀请其他机构，请先添加其节点（confer peer add）。")) }
                }
                form method="post" action=(format!("/agendas/{sid}/invite")) novalidate {
                    (forms::csrf(&viewer.session.csrf))
                    (forms::general(&invite_form))
                    (forms::select(&invite_form, "body", lang.pick("Committee (trusted by this node)", "机构（本节点已信任）"), &invitable))
                    button type="submit" { (viewer.t("Invite", "邀请")) }
                }
            }
            details.form open[!remove_form.ok()] {
                summary { (viewer.t("Remove a committee", "移出机构")) }
                p.muted { (viewer.t("Every other member body must consent; an agenda of two cannot remove one.", "须经其他所有参与机构同意；只有两个参与机构时不能移出。")) }
                form method="post" action=(format!("/agendas/{sid}/remove")) novalidate {
                    (forms::csrf(&viewer.session.csrf))
                    (forms::general(&remove_form))
                    (forms::select(&remove_form, "body", lang.pick("Committee", "机构"), &removable))
                    button type="submit" { (viewer.t("Propose removal", "提议移出")) }
                }
            }
            details.form open[!leave_form.ok()] {
                summary { (viewer.t("Leave this agenda", "退出本议题")) }
                p.muted { (viewer.t("What this committee wrote stays; it is sent nothing new.", "本机构已写入的内容保留；此后不再收到新内容。")) }
                form method="post" action=(format!("/agendas/{sid}/leave")) novalidate {
                    (forms::csrf(&viewer.session.csrf))
                    (forms::general(&leave_form))
                    (forms::checkbox(&leave_form, "confirm", lang.pick("This committee leaves the agenda", "确认本机构退出该议题")))
                    button type="submit" { (viewer.t("Leave", "退出")) }
                }
            }
        }
    }
}

/// A body id from a form field, or the mistake next to it.
fn body_field(lang: Lang, form: &mut FormState) -> Option<BodyId> {
    form.require(lang, "body");
    let value = form.value("body");
    if value.is_empty() {
        return None;
    }
    let parsed = value.parse::<BodyId>().ok();
    if parsed.is_none() {
        form.error(
            "body",
            lang.pick("Choose a committee from the list.", "请从列表中选择机构。"),
        );
    }
    parsed
}

/// The POST of a membership form (`form.form`: invite, consent, withdraw (a consent this
/// body gave, while the change still waits), leave or remove).
pub(super) async fn act(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    if !viewer.member.can_sign {
        form.general = Some(signer_note(viewer));
        return None;
    }
    let author = viewer.author();
    let node = &state.node;
    let result = match form.form.as_str() {
        "invite" => {
            let body = body_field(lang, form)?;
            node.invite(space, body, author).await
        }
        "remove" => {
            let body = body_field(lang, form)?;
            node.remove_body(space, body, author).await
        }
        "leave" => {
            if form.value("confirm") != "yes" {
                form.error(
                    "confirm",
                    lang.pick(
                        "Tick the box to confirm that this committee leaves.",
                        "请勾选以确认本机构退出。",
                    ),
                );
                return None;
            }
            node.leave(space, author).await
        }
        action => {
            let change = form.value("change").to_owned();
            if change.len() < 8 || !change.chars().all(|c| c.is_ascii_hexdigit()) {
                let words = if action == "withdraw" {
                    lang.pick(
                        "Choose a change to withdraw the consent from.",
                        "请选择要撤回同意的成员变更。",
                    )
                } else {
                    lang.pick("Choose a change to consent to.", "请选择要同意的成员变更。")
                };
                form.general = Some(words.to_owned());
                return None;
            }
            if action == "withdraw" {
                node.withdraw_consent(space, change, author).await
            } else {
                node.consent(space, change, author).await
            }
        }
    };
    finish(result, lang, form, |_| {
        format!("/agendas/{space}#membership")
    })
    .await
}
