//! Catch-up progress: how far this node has received a space from a peer that holds much
//! more of it than this node does (an initial sync, a node back after long offline or
//! restored from a backup). A pull answered in batches (`SyncResponse` with `more`) says
//! with each answer what the peer holds (its vector); what this node still lacks of that
//! is Σ max(theirs − ours) over the authors, so each answer gives `received` (entries
//! that answer added here) and `total` = received so far + still lacking. A catch-up
//! starts with an answer that leaves this node lacking something, and ends `done` when
//! nothing is lacking, or `stopped` when the peer says it has nothing more to send while
//! its vector still lists entries this node lacks (held pending, or refused). `status`
//! shows each one ([`crate::views::ProgressView`]); a catch-up of at least
//! [`LOGGED_FROM`] entries is logged at `info` every [`LOG_EVERY_ENTRIES`] entries or
//! [`LOG_EVERY`], and when it ends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use confer_protocol::text::display_line;
use confer_protocol::{BodyId, Message, PeerKey, Replica, SpaceId, Vector};

use super::EventLoop;
use crate::views::ProgressView;

/// A catch-up smaller than this is shown in `status` but not logged.
pub const LOGGED_FROM: u64 = 500;
/// A progress line at least every this many entries…
pub const LOG_EVERY_ENTRIES: u64 = 1000;
/// …or this often, whichever comes first.
pub const LOG_EVERY: Duration = Duration::from_secs(5);

/// Entries `theirs` lists that `ours` lacks.
pub fn lacking(theirs: &Vector, ours: &Vector) -> u64 {
    theirs
        .0
        .iter()
        .map(|(author, seq)| seq.saturating_sub(ours.get(author)))
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Receiving,
    Done,
    Stopped,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Receiving => "receiving",
            State::Done => "done",
            State::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone)]
struct Receiving {
    body: Option<BodyId>,
    received: u64,
    total: u64,
    state: State,
    started: Instant,
    ended: Option<Instant>,
    logged_at: Instant,
    logged_received: u64,
}

/// What the log should say about a catch-up after an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub space: SpaceId,
    pub body: Option<BodyId>,
    pub received: u64,
    pub total: u64,
    pub state: State,
    pub seconds: f64,
}

/// Every catch-up since start, by space and peer (the latest one of each pair).
#[derive(Debug, Default)]
pub struct Progress {
    by_pair: BTreeMap<(SpaceId, PeerKey), Receiving>,
}

impl Progress {
    /// Takes one answer to a pull of `space` from `peer`: it added `received` entries here,
    /// this node still lacks `lacking` of what the peer holds, and the peer has `more` to
    /// send. Returns a line to log, if one is due.
    #[allow(clippy::too_many_arguments)]
    pub fn answer(
        &mut self,
        space: SpaceId,
        peer: PeerKey,
        body: Option<BodyId>,
        received: u64,
        lacking: u64,
        more: bool,
        now: Instant,
    ) -> Option<LogLine> {
        let key = (space, peer);
        let active = self
            .by_pair
            .get(&key)
            .is_some_and(|r| r.state == State::Receiving);
        if !active {
            if lacking == 0 {
                // Everything arrived in one answer (or nothing was missing): no catch-up.
                return None;
            }
            self.by_pair.insert(
                key,
                Receiving {
                    body,
                    received: 0,
                    total: 0,
                    state: State::Receiving,
                    started: now,
                    ended: None,
                    logged_at: now,
                    logged_received: 0,
                },
            );
        }
        let r = self.by_pair.get_mut(&key)?;
        r.body = body.or(r.body);
        r.received += received;
        r.total = r.received + lacking;
        if lacking == 0 {
            r.state = State::Done;
        } else if !more || received == 0 {
            // The peer sends nothing more now (or nothing it sent could be applied): the
            // next anti-entropy round starts a new catch-up for what is still lacking.
            r.state = State::Stopped;
        }
        if r.state != State::Receiving {
            r.ended = Some(now);
        }
        let due = r.state != State::Receiving
            || r.received - r.logged_received >= LOG_EVERY_ENTRIES
            || now.duration_since(r.logged_at) >= LOG_EVERY;
        if r.total < LOGGED_FROM || !due {
            return None;
        }
        r.logged_at = now;
        r.logged_received = r.received;
        Some(LogLine {
            space,
            body: r.body,
            received: r.received,
            total: r.total,
            state: r.state,
            seconds: now.duration_since(r.started).as_secs_f64(),
        })
    }

    /// A catch-up whose peer disconnected stops where it was.
    pub fn peer_gone(&mut self, peer: &PeerKey, now: Instant) {
        for ((_, p), r) in self.by_pair.iter_mut() {
            if p == peer && r.state == State::Receiving {
                r.state = State::Stopped;
                r.ended = Some(now);
            }
        }
    }

    /// Every catch-up, for `status`; `peer_label` and `body_view` name them.
    pub fn views(
        &self,
        now: Instant,
        peer_label: impl Fn(&PeerKey) -> String,
        body_view: impl Fn(&BodyId) -> crate::views::BodyView,
    ) -> Vec<ProgressView> {
        self.by_pair
            .iter()
            .map(|((space, peer), r)| ProgressView {
                space: space.to_string(),
                peer_id: peer_label(peer),
                body: r.body.as_ref().map(&body_view),
                received: r.received,
                total: r.total,
                state: r.state.name().to_owned(),
                seconds: r
                    .ended
                    .unwrap_or(now)
                    .duration_since(r.started)
                    .as_secs_f64(),
            })
            .collect()
    }
}

/// A pull's answer, taken before the replica handles it: what the peer holds and whether
/// it has more, and how many entries this node held before.
pub(super) struct Answer {
    space: SpaceId,
    theirs: Vector,
    more: bool,
    held_before: u64,
}

impl Answer {
    pub(super) fn of(message: &Message, replica: &Replica) -> Option<Answer> {
        let Message::SyncResponse {
            space,
            vector,
            more,
            ..
        } = message
        else {
            return None;
        };
        Some(Answer {
            space: *space,
            theirs: vector.clone(),
            more: *more,
            held_before: replica.space(space).map_or(0, |s| s.vector().total()),
        })
    }
}

impl EventLoop {
    /// After the replica took a pull's answer from `peer`: count it, log if due.
    pub(super) fn sync_answered(&mut self, peer: PeerKey, answer: Answer) {
        let Some(ours) = self.replica.space(&answer.space).map(|s| s.vector()) else {
            return;
        };
        let received = ours.total().saturating_sub(answer.held_before);
        let body = self.replica.peer_body(&peer);
        let line = self.progress.answer(
            answer.space,
            peer,
            body,
            received,
            lacking(&answer.theirs, &ours),
            answer.more,
            Instant::now(),
        );
        let Some(line) = line else { return };
        let from = line
            .body
            .map(|b| {
                let view = self.body_view(&b);
                display_line(view.name.as_deref().unwrap_or(&view.id)).into_owned()
            })
            .unwrap_or_else(|| self.peer_label(&peer));
        let title = self
            .replica
            .space(&line.space)
            .map(|s| {
                display_line(&confer_protocol::model::read_title(s, self.replica.certs()))
                    .into_owned()
            })
            .unwrap_or_default();
        let space = line.space.fmt_short();
        let (received, total, seconds) = (line.received, line.total, line.seconds);
        match line.state {
            State::Receiving => tracing::info!(
                %space, %title, %from, received, total,
                "catching up {space} ({title}) from {from}: {received}/{total} entries"
            ),
            State::Done => tracing::info!(
                %space, %title, %from, received, total, seconds,
                "caught up {space} ({title}) from {from}: {received}/{total} entries in {seconds:.1} s"
            ),
            State::Stopped => tracing::info!(
                %space, %title, %from, received, total,
                "catch-up of {space} ({title}) from {from} paused at {received}/{total} entries; the next sync round goes on"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confer_protocol::SecretKey;

    fn key(n: u8) -> confer_protocol::PublicKey {
        SecretKey::from_seed([n; 32]).public()
    }

    fn vector(pairs: &[(u8, u64)]) -> Vector {
        Vector(pairs.iter().map(|(k, s)| (key(*k), *s)).collect())
    }

    #[test]
    fn lacking_counts_what_the_peer_holds_beyond_us() {
        let theirs = vector(&[(1, 100), (2, 50), (3, 7)]);
        let ours = vector(&[(1, 40), (2, 60), (4, 9)]);
        // 60 of author 1, none of 2 (we are ahead), 7 of 3; author 4 is ours alone.
        assert_eq!(lacking(&theirs, &ours), 67);
        assert_eq!(lacking(&ours, &ours), 0);
    }

    #[test]
    fn a_catch_up_counts_up_to_its_total_and_logs_along_the_way() {
        let mut p = Progress::default();
        let space = SpaceId([7; 32]);
        let peer = key(9);
        let t0 = Instant::now();
        // One answer with everything: no catch-up.
        assert_eq!(p.answer(space, peer, None, 10, 0, false, t0), None);
        assert!(p
            .views(t0, |_| String::new(), |_| unreachable!())
            .is_empty());

        // 4,400 entries in batches of 1,100.
        let mut lines = Vec::new();
        for i in 1..=4u64 {
            let at = t0 + Duration::from_millis(100 * i);
            lines.extend(p.answer(space, peer, None, 1100, 4400 - 1100 * i, i < 4, at));
            let v = &p.views(at, |_| "peer".into(), |_| unreachable!())[0];
            assert_eq!((v.received, v.total), (1100 * i, 4400), "after answer {i}");
            assert_eq!(v.state, if i < 4 { "receiving" } else { "done" });
        }
        let shown: Vec<(u64, State)> = lines.iter().map(|l| (l.received, l.state)).collect();
        assert_eq!(
            shown,
            vec![
                (1100, State::Receiving),
                (2200, State::Receiving),
                (3300, State::Receiving),
                (4400, State::Done)
            ]
        );

        // A new catch-up of the same pair starts from zero; one the peer stops sending
        // (nothing more while we still lack some) ends `stopped`; a small one is not logged.
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(p.answer(space, peer, None, 20, 30, true, t1), None);
        assert_eq!(p.answer(space, peer, None, 10, 20, false, t1), None);
        let v = &p.views(t1, |_| "peer".into(), |_| unreachable!())[0];
        assert_eq!((v.received, v.total, v.state.as_str()), (30, 50, "stopped"));
    }

    #[test]
    fn a_slow_catch_up_is_logged_every_few_seconds_and_stops_when_the_peer_goes() {
        let mut p = Progress::default();
        let space = SpaceId([1; 32]);
        let peer = key(2);
        let t0 = Instant::now();
        assert!(
            p.answer(space, peer, None, 100, 900, true, t0).is_none(),
            "just started"
        );
        let later = t0 + LOG_EVERY;
        let line = p
            .answer(space, peer, None, 100, 800, true, later)
            .expect("due");
        assert_eq!((line.received, line.total), (200, 1000));
        p.peer_gone(&peer, later);
        let v = &p.views(later, |_| "peer".into(), |_| unreachable!())[0];
        assert_eq!(v.state, "stopped");
    }
}
