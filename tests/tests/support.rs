//! Shared imports and small helpers for the integration tests.

pub use confer_tests::*;

pub use confer_node::handle::NodeError;
pub use confer_protocol::SpaceId;
pub use std::time::Duration;

/// Long enough for several anti-entropy rounds (`Config::loopback` syncs every 2 s).
pub const SEVERAL_ROUNDS: Duration = Duration::from_secs(7);

/// Waits until `node` holds agenda `id`.
pub async fn wait_has_agenda(node: &TestNode, id: SpaceId) -> confer_node::views::AgendaView {
    eventually(
        &format!("{} holds agenda {}", node.name, id.fmt_short()),
        WAIT,
        || async { node.try_show(id).await.map_err(|e| e.to_string()) },
    )
    .await
}

/// Waits until `node`'s view of `id` satisfies `pred`.
pub async fn wait_view(
    node: &TestNode,
    id: SpaceId,
    what: &str,
    pred: impl Fn(&confer_node::views::AgendaView) -> bool,
) -> confer_node::views::AgendaView {
    eventually(&format!("{}: {what}", node.name), WAIT, || async {
        let v = node.try_show(id).await.map_err(|e| e.to_string())?;
        if pred(&v) {
            Ok(v)
        } else {
            Err(describe(&v))
        }
    })
    .await
}
