//! What reached whom: the member bodies of an agenda and how far each holds it, in
//! words — for `agenda new` and `agenda edit` (which wait a few seconds for the connected
//! bodies to confirm), `agenda show` and `status`.

use std::time::{Duration, Instant};

use super::client::{Client, ClientError};
use super::render::{body_short, utc};
use crate::i18n::Lang;
use crate::views::{DeliveryView, StatusView};

/// How long `agenda new` and `agenda edit` wait for connected bodies to confirm.
const CONFIRM_WAIT: Duration = Duration::from_secs(5);

/// How far one body holds the agenda, in a line (without indentation).
pub fn line(d: &DeliveryView, lang: Lang) -> String {
    let name = body_short(&d.body);
    match (d.state.as_str(), lang) {
        ("current", Lang::En) => format!("{name}: holds every change this node holds"),
        ("current", Lang::Zh) => format!("{name}：已收到本节点的全部内容"),
        ("behind", Lang::En) => format!("{name}: connected, catching up ({} changes to go)", d.missing),
        ("behind", Lang::Zh) => format!("{name}：已连接，正在同步（还差 {} 条）", d.missing),
        ("waiting", Lang::En) => format!("{name}: connected, has not confirmed yet"),
        ("waiting", Lang::Zh) => format!("{name}：已连接，尚未确认收到"),
        ("offline", Lang::En) => format!("{name}: no node of it is connected; it gets the agenda and every change when one connects"),
        ("offline", Lang::Zh) => format!("{name}：其节点均未连接；一旦连接即会收到该议题和全部修改"),
        (_, _) => refused(d, &name, lang),
    }
}

fn refused(d: &DeliveryView, name: &str, lang: Lang) -> String {
    let at = d.at.map(utc).unwrap_or_default();
    match (d.reason.as_deref(), lang) {
        (Some("not_trusted"), Lang::En) => format!("{name} has not added this node yet: its node refused the agenda ({at}). Ask it to add this node (`confer peer add ADDRESS`, the address from this node's `confer status`); it then gets the agenda"),
        (Some("not_trusted"), Lang::Zh) => format!("{name} 尚未添加本节点：其节点拒绝了该议题（{at}）。请对方添加本节点（`confer peer add 地址`，地址见本节点的 `confer status`），之后即可收到"),
        (Some("not_accepted"), Lang::En) => format!("{name} has not accepted the invitation yet (the agenda names a body it does not trust; its operator runs `confer agenda accept`) ({at})"),
        (Some("not_accepted"), Lang::Zh) => format!("{name} 尚未接受邀请（议题中有其未信任的机构，需由其操作员运行 `confer agenda accept`）（{at}）"),
        (Some("not_member"), Lang::En) => format!("{name}'s node refused the agenda: it does not count this body or itself as a member ({at})"),
        (Some("not_member"), Lang::Zh) => format!("{name} 的节点拒绝了该议题：其认为本机构或其自身不是成员（{at}）"),
        (_, Lang::En) => format!("{name}'s node refused the agenda ({at}): {}", d.detail.as_deref().map(super::render::text).unwrap_or_default()),
        (_, Lang::Zh) => format!("{name} 的节点拒绝了该议题（{at}）；以 LANG=C 运行 `confer agenda show` 可看到其英文原文"),
    }
}

/// The delivery of `space` in a status view.
fn of(status: &StatusView, space: &str) -> Vec<DeliveryView> {
    status
        .spaces
        .iter()
        .find(|s| s.id == space)
        .map(|s| s.delivery.clone())
        .unwrap_or_default()
}

/// Waits up to a few seconds until no connected body of `space` is still to confirm,
/// then returns how far each holds it.
pub async fn settle(client: &Client, space: &str) -> Result<Vec<DeliveryView>, ClientError> {
    let started = Instant::now();
    // A connected partner confirms within milliseconds: ask again soon, then less often.
    let mut pause = Duration::from_millis(2);
    loop {
        let status: StatusView = client.get("/v1/status").await?;
        let delivery = of(&status, space);
        let open = delivery
            .iter()
            .any(|d| d.state == "waiting" || d.state == "behind");
        if !open || started.elapsed() > CONFIRM_WAIT {
            return Ok(delivery);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Lines after a write: saved; delivered to …; each other body's state.
pub fn after_write(first: &str, delivery: &[DeliveryView], lang: Lang) -> String {
    let mut out = format!("{first}\n");
    let delivered: Vec<String> = delivery
        .iter()
        .filter(|d| d.state == "current")
        .map(|d| body_short(&d.body))
        .collect();
    if !delivered.is_empty() {
        out.push_str(&format!(
            "{} {}\n",
            lang.pick("Delivered to", "已送达："),
            delivered.join(lang.pick(", ", "、"))
        ));
    }
    for d in delivery.iter().filter(|d| d.state != "current") {
        let text = match (d.state.as_str(), lang) {
            ("offline", Lang::En) => format!(
                "Will reach {} when one of its nodes connects",
                body_short(&d.body)
            ),
            ("offline", Lang::Zh) => {
                format!("{} 的节点连接后即会收到", body_short(&d.body))
            }
            _ => line(d, lang),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}
