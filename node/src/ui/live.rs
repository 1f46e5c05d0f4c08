//! Server-sent events: `GET /events` streams `event: change` with the id of each space
//! whose stored state changed (a partner's entries, a local write, membership), fed by the
//! node's own change notifications. Pages re-fetch their live regions (`assets/ui.js`).
//! Only for a logged-in person; a reader that falls behind gets one `change` with `*`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream;
use tokio::sync::broadcast::error::RecvError;

use super::{node_failure, Shared, Viewer};

pub(crate) async fn events(State(state): State<Shared>, viewer: Viewer) -> Response {
    let receiver = match state.node.subscribe_changes().await {
        Ok(r) => r,
        Err(e) => return node_failure(viewer.lang, &e),
    };
    let events = stream::unfold(receiver, |mut receiver| async move {
        let data = match receiver.recv().await {
            Ok(space) => space.to_string(),
            Err(RecvError::Lagged(_)) => "*".to_owned(),
            Err(RecvError::Closed) => return None,
        };
        Some((
            Ok::<Event, Infallible>(Event::default().event("change").data(data)),
            receiver,
        ))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}
