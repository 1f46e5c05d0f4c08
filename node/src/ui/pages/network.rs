//! 网络: partner committees, whether connected, when each last synced, trust, what each
//! agenda holds and waits
//! for, alerts (equivocation, refused entries, damaged records, foreign use of keys); this
//! body's members are on their own page (`members`).

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

use crate::ui::{html, layout, node_failure, Shared, Viewer};

pub(crate) async fn show(State(state): State<Shared>, viewer: Viewer) -> Response {
    let lang = viewer.lang;
    let status = match state.node.status().await {
        Ok(s) => s,
        Err(e) => return node_failure(lang, &e),
    };
    let connected = |body: &str| {
        status
            .peers
            .iter()
            .any(|p| p.body.as_ref().is_some_and(|b| b.id == body))
    };
    let rejected = status.traffic.entries.rejected;
    html(layout::page(
        &viewer,
        &state.body,
        viewer.t("Network", "网络"),
        html! {
            section id="network" data-live data-space="*" {
                @if !status.equivocations.is_empty() || !status.foreign_use.is_empty() || !status.damaged.is_empty() || rejected > 0 {
                    div.alert role="alert" {
                        strong { (viewer.t("Alerts", "告警")) }
                        ul {
                            @for e in &status.equivocations {
                                li { (viewer.t("Equivocation: a member key signed two different entries at one position — ", "双重签名：一个成员密钥在同一位置签署了两个不同条目——"))
                                    (e.member_name.as_deref().unwrap_or(layout::short(&e.author)))
                                    @if e.resolved.is_some() { " " span.badge.ok { (viewer.t("resolved", "已处置")) } } }
                            }
                            @for f in &status.foreign_use {
                                li { (viewer.t("An entry signed with one of our keys that this node did not sign: ", "收到以本机构密钥签署、但非本节点签署的条目：")) (layout::short(&f.key)) }
                            }
                            @for d in &status.damaged { li { (d) } }
                            @if rejected > 0 { li { (viewer.t("Entries refused from peers since start: ", "启动以来拒收的条目数：")) (rejected) } }
                        }
                    }
                }
                h2 { (viewer.t("Partner committees", "合作方政协")) }
                table {
                    thead { tr { th { (viewer.t("Committee", "机构")) } th { (viewer.t("Connection", "连接")) } th { (viewer.t("Last sync", "最近同步")) } th { (viewer.t("Body id", "机构编号")) } } }
                    tbody {
                        @for b in &status.trusted {
                            tr {
                                td { (b.name.as_deref().unwrap_or("")) " " span.badge.ok { (viewer.t("trusted", "已信任")) } }
                                td { @if connected(&b.id) { span.badge.ok { (viewer.t("connected", "已连接")) } } @else { span.badge.warn { (viewer.t("not connected", "未连接")) } } }
                                td.last-sync data-body=(b.id) { (last_sync(&viewer, status.last_sync_with(&b.id))) }
                                td { code title=(b.id) { (layout::short(&b.id)) "…" } }
                            }
                        }
                        @for p in status.peers.iter().filter(|p| !p.trusted) {
                            tr {
                                td { (p.body.as_ref().and_then(|b| b.name.as_deref()).unwrap_or(viewer.t("unproven peer", "未验证的节点"))) }
                                td { span.badge.ok { (viewer.t("connected", "已连接")) } }
                                td.last-sync { (last_sync(&viewer, p.last_sync)) }
                                td { code { (layout::short(&p.peer_id)) "…" } }
                            }
                        }
                    }
                }
                h2 { (viewer.t("Agendas held here", "本节点持有的议题")) }
                table {
                    thead { tr { th { (viewer.t("Agenda", "议题")) } th { (viewer.t("Entries", "条目")) } th { (viewer.t("Waiting for dependencies", "等待依赖")) } th { (viewer.t("Member bodies", "参与机构")) } } }
                    tbody { @for s in status.spaces.iter().filter(|s| s.kind == "agenda") {
                        tr {
                            td { a href=(format!("/agendas/{}", s.id)) { (s.title) } }
                            td { (s.entries) }
                            td { @if s.pending > 0 { span.badge.warn { (s.pending) } } @else { "0" } }
                            td { @for b in &s.members { span.badge { (b.name.as_deref().unwrap_or(layout::short(&b.id))) } } }
                        }
                    } }
                }
                p { a href="/members" { (viewer.t("This body's members on this node →", "本机构在本节点上的成员 →")) } }
                p.muted { (viewer.t("This node: ", "本节点：")) code { (status.peer_id) } }
            }
        },
    ))
}

/// When a sync exchange with a partner last completed (Beijing time), or that none did
/// since the node started.
fn last_sync(viewer: &Viewer, at: Option<u64>) -> Markup {
    match at.and_then(|s| i64::try_from(s).ok()) {
        Some(secs) => html! { time { (layout::beijing_time(secs.saturating_mul(1000))) } },
        None => {
            html! { span.muted { (viewer.t("not since this node started", "本节点启动以来尚未同步")) } }
        }
    }
}
