//! The cloneable handle through which the API, the CLI's demo and tests talk to a running
//! node's event loop, over a bounded channel; and the errors those requests can return.

pub use crate::event_loop::Added;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use confer_protocol::model::{AgendaEdit, ModelAction, ModelView};
use confer_protocol::{BodyId, PublicKey, SpaceId, SpaceKind};
use libp2p::Multiaddr;

use std::collections::BTreeMap;

use crate::views::{
    AgendaSummary, AgendaView, EquivocationView, LedgerView, MemberView, MembershipView, Reach,
    RecordView, StatusView,
};
use confer_protocol::revocation::Revocation;

pub(crate) mod ops;

/// Why a request to the node failed. Serialised in API error bodies as
/// `{"code": "...", "detail": "..."}` (`stopped` has no detail; `refused` says why in both
/// languages, `"detail": {"en": "...", "zh": "..."}`).
#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum NodeError {
    #[error("no agenda with id {0}")]
    UnknownAgenda(String),
    #[error("no invitation to agenda {0} is waiting")]
    NotInvited(String),
    #[error("body {0} is not trusted here: add one of its nodes first (confer peer add)")]
    UnknownBody(String),
    #[error("{0}")]
    BadInput(String),
    /// An action the document's rules refuse, said in both languages.
    #[error("{en}")]
    Refused { en: String, zh: String },
    #[error("bad peer address: {0}")]
    BadAddress(String),
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("the node is shutting down")]
    Stopped,
}

type Reply<T> = oneshot::Sender<Result<T, NodeError>>;

/// What the event loop can be asked to do.
#[derive(Debug)]
pub(crate) enum Command {
    Status(Reply<StatusView>),
    /// Remember a peer's address (`true`: instead of its other addresses).
    AddPeer(Multiaddr, bool, Reply<Added>),
    CreateAgenda {
        edit: AgendaEdit,
        with: Vec<BodyId>,
        /// The member key to write as (`None`: the first member).
        author: Option<PublicKey>,
        reply: Reply<SpaceId>,
    },
    /// The id of this body's own space of a kind (its only member is this body), made
    /// first if `create` and there is none.
    OwnSpace {
        kind: SpaceKind,
        create: bool,
        reply: Reply<Option<SpaceId>>,
    },
    /// Applies a model action to a space: the one write path for every kind of document.
    Apply {
        space: SpaceId,
        action: ModelAction,
        author: Option<PublicKey>,
        reply: Reply<()>,
    },
    /// Reads a space's document as the model shows it: the one read path.
    Read(SpaceId, Reply<ModelView>),
    Members(MemberCommand),
    Membership(MembershipCommand),
    Ops(ops::OpsCommand),
    ListAgendas(Reply<Vec<AgendaSummary>>),
    AcceptAgenda(SpaceId, Reply<()>),
    Trust(BodyId, Reply<()>),
    Untrust(BodyId, Reply<()>),
    RemovePeer(libp2p::PeerId, Reply<()>),
    /// An agenda; with a list, only those collections' records.
    ShowAgenda(
        SpaceId,
        Option<crate::views::RecordFilter>,
        Reply<AgendaView>,
    ),
    /// An agenda's membership part alone (bodies removed, changes waiting for consents).
    MembershipOf(SpaceId, Reply<MembershipView>),
    /// The certificates this node knows (for documents exported with their chains).
    Certificates(Reply<confer_protocol::Certificates>),
    /// Who changed what, when, in a space (any kind), read from its entries; only one
    /// record's writes with `Some(id)`.
    History(
        SpaceId,
        Option<String>,
        Reply<Vec<confer_protocol::model::history::HistoryItem>>,
    ),
    /// A space's records as people see them (any kind of space).
    ShowRecords(SpaceId, Reply<BTreeMap<String, Vec<RecordView>>>),
    Equivocations(SpaceId, Reply<Vec<EquivocationView>>),
    /// A receiver of the ids of spaces whose stored state changes (the web UI's live pages).
    Subscribe(Reply<tokio::sync::broadcast::Receiver<SpaceId>>),
    WaitFor {
        space: SpaceId,
        author: PublicKey,
        seq: u64,
        reply: Reply<()>,
    },
    Shutdown,
}

/// Member keys and revocations.
#[derive(Debug)]
pub(crate) enum MemberCommand {
    List(Reply<Vec<MemberView>>),
    /// Reads `members.json` again (after `confer member add`).
    Reload(Reply<Vec<MemberView>>),
    /// Stops writing with a key and says how far it wrote in each space.
    Freeze(PublicKey, Reply<Reach>),
    Revoke(Vec<Revocation>, Reply<()>),
    /// Reads the body-key chain in `identity.json` again (after `confer body-key rotate`).
    ReloadChain(Reply<()>),
}

/// Changes to an agenda's member bodies; each answers the change's id.
#[derive(Debug)]
pub(crate) enum MembershipCommand {
    Invite {
        space: SpaceId,
        body: BodyId,
        author: Option<PublicKey>,
        reply: Reply<String>,
    },
    Consent {
        space: SpaceId,
        change: String,
        author: Option<PublicKey>,
        /// Take this body's consent back instead.
        withdraw: bool,
        reply: Reply<String>,
    },
    Leave {
        space: SpaceId,
        author: Option<PublicKey>,
        reply: Reply<String>,
    },
    Remove {
        space: SpaceId,
        body: BodyId,
        author: Option<PublicKey>,
        reply: Reply<String>,
    },
}

/// A handle to a running node.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(crate) tx: mpsc::Sender<Command>,
}

impl NodeHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, NodeError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| NodeError::Stopped)?;
        rx.await.map_err(|_| NodeError::Stopped)?
    }

    pub async fn status(&self) -> Result<StatusView, NodeError> {
        self.ask(Command::Status).await
    }

    /// Remembers a peer (durably) and keeps a connection to it.
    pub async fn add_peer(&self, addr: Multiaddr) -> Result<(), NodeError> {
        self.add_peer_replacing(addr, false).await.map(|_| ())
    }

    /// Remembers a peer's address; `replace`: forget its other addresses.
    pub async fn add_peer_replacing(
        &self,
        addr: Multiaddr,
        replace: bool,
    ) -> Result<Added, NodeError> {
        self.ask(|r| Command::AddPeer(addr, replace, r)).await
    }

    /// Creates a joint agenda with `with` (this body is added); durable when it returns.
    pub async fn create_agenda(
        &self,
        title: &str,
        summary: Option<&str>,
        with: Vec<BodyId>,
    ) -> Result<SpaceId, NodeError> {
        self.create_agenda_as(title, summary, with, None).await
    }

    /// [`Self::create_agenda`] as the member key `author` (`None`: the first member).
    pub async fn create_agenda_as(
        &self,
        title: &str,
        summary: Option<&str>,
        with: Vec<BodyId>,
        author: Option<PublicKey>,
    ) -> Result<SpaceId, NodeError> {
        let edit = AgendaEdit {
            title: Some(title.to_owned()),
            summary: summary.map(str::to_owned),
        };
        self.ask(|reply| Command::CreateAgenda {
            edit,
            with,
            author,
            reply,
        })
        .await
    }

    /// Edits an agenda; durable when it returns.
    pub async fn edit_agenda(&self, id: SpaceId, edit: AgendaEdit) -> Result<(), NodeError> {
        self.edit_agenda_as(id, edit, None).await
    }

    /// [`Self::edit_agenda`] as the member key `author` (`None`: the first member).
    pub async fn edit_agenda_as(
        &self,
        id: SpaceId,
        edit: AgendaEdit,
        author: Option<PublicKey>,
    ) -> Result<(), NodeError> {
        self.apply(id, edit.into(), author).await
    }

    /// Applies a model action to `space` as the member key `author` (`None`: the first
    /// member); durable when it returns. A refused action changes nothing.
    pub async fn apply(
        &self,
        space: SpaceId,
        action: ModelAction,
        author: Option<PublicKey>,
    ) -> Result<(), NodeError> {
        self.ask(|reply| Command::Apply {
            space,
            action,
            author,
            reply,
        })
        .await
    }

    /// This body's own space of `kind` (the ledger), made first if `create` and there is
    /// none yet.
    pub async fn own_space(
        &self,
        kind: SpaceKind,
        create: bool,
    ) -> Result<Option<SpaceId>, NodeError> {
        self.ask(|reply| Command::OwnSpace {
            kind,
            create,
            reply,
        })
        .await
    }

    /// The certificates this node knows: what an exported document carries to prove who
    /// signed it.
    pub async fn certificates(&self) -> Result<confer_protocol::Certificates, NodeError> {
        self.ask(Command::Certificates).await
    }

    /// Who changed what, when, in `space` (only the record `record`, if given).
    pub async fn history(
        &self,
        space: SpaceId,
        record: Option<String>,
    ) -> Result<Vec<confer_protocol::model::history::HistoryItem>, NodeError> {
        self.ask(|r| Command::History(space, record, r)).await
    }

    /// This body's ledger (empty before its first record).
    pub async fn show_ledger(&self) -> Result<LedgerView, NodeError> {
        let Some(id) = self.own_space(SpaceKind::Ledger, false).await? else {
            return Ok(LedgerView::default());
        };
        let records = self.ask(|r| Command::ShowRecords(id, r)).await?;
        Ok(LedgerView {
            id: Some(id.to_string()),
            records,
        })
    }

    /// Reads `space`'s document as the model shows it, every value attributed.
    pub async fn read(&self, space: SpaceId) -> Result<ModelView, NodeError> {
        self.ask(|reply| Command::Read(space, reply)).await
    }

    /// This body's member keys on this node, with their state.
    pub async fn members(&self) -> Result<Vec<MemberView>, NodeError> {
        self.ask(|r| Command::Members(MemberCommand::List(r))).await
    }

    /// Reads the data directory's members again (after `confer member add`).
    pub async fn reload_members(&self) -> Result<Vec<MemberView>, NodeError> {
        self.ask(|r| Command::Members(MemberCommand::Reload(r)))
            .await
    }

    /// Stops writing with `key` (durably) and says how far it wrote in each space: what
    /// its revocation must state.
    pub async fn freeze_member(&self, key: PublicKey) -> Result<Reach, NodeError> {
        self.ask(|r| Command::Members(MemberCommand::Freeze(key, r)))
            .await
    }

    /// Reads this body's key chain again and sends it to the connected peers.
    pub async fn reload_body_chain(&self) -> Result<(), NodeError> {
        self.ask(|r| Command::Members(MemberCommand::ReloadChain(r)))
            .await
    }

    /// Proposes adding `body` to an agenda, with this body's consent; answers the change id.
    pub async fn invite(
        &self,
        space: SpaceId,
        body: BodyId,
        author: Option<PublicKey>,
    ) -> Result<String, NodeError> {
        self.ask(|reply| {
            Command::Membership(MembershipCommand::Invite {
                space,
                body,
                author,
                reply,
            })
        })
        .await
    }

    /// Consents, for this body, to a pending change of an agenda's member bodies (its id,
    /// or a prefix of it).
    pub async fn consent(
        &self,
        space: SpaceId,
        change: String,
        author: Option<PublicKey>,
    ) -> Result<String, NodeError> {
        self.ask(|reply| {
            Command::Membership(MembershipCommand::Consent {
                space,
                change,
                author,
                withdraw: false,
                reply,
            })
        })
        .await
    }

    /// Takes back this body's consent to a pending change of an agenda's member bodies (its
    /// id, or a prefix of it): it counts nowhere once the withdrawal has spread, and this
    /// body may consent to another change on that state.
    pub async fn withdraw_consent(
        &self,
        space: SpaceId,
        change: String,
        author: Option<PublicKey>,
    ) -> Result<String, NodeError> {
        self.ask(|reply| {
            Command::Membership(MembershipCommand::Consent {
                space,
                change,
                author,
                withdraw: true,
                reply,
            })
        })
        .await
    }

    /// This body leaves an agenda: what it wrote stays; it is sent nothing new.
    pub async fn leave(
        &self,
        space: SpaceId,
        author: Option<PublicKey>,
    ) -> Result<String, NodeError> {
        self.ask(|reply| {
            Command::Membership(MembershipCommand::Leave {
                space,
                author,
                reply,
            })
        })
        .await
    }

    /// Proposes removing another body from an agenda, with this body's consent.
    pub async fn remove_body(
        &self,
        space: SpaceId,
        body: BodyId,
        author: Option<PublicKey>,
    ) -> Result<String, NodeError> {
        self.ask(|reply| {
            Command::Membership(MembershipCommand::Remove {
                space,
                body,
                author,
                reply,
            })
        })
        .await
    }

    /// Adds revocations signed by a body key; applied and sent when it returns.
    pub async fn revoke(&self, revocations: Vec<Revocation>) -> Result<(), NodeError> {
        self.ask(|r| Command::Members(MemberCommand::Revoke(revocations, r)))
            .await
    }

    /// Trusts a body (the full id its committee sent by official letter); durable when it
    /// returns. Needs no connection.
    pub async fn trust(&self, body: BodyId) -> Result<(), NodeError> {
        self.ask(|r| Command::Trust(body, r)).await
    }

    /// Withdraws trust: the body introduces no new space here; shared spaces stay.
    pub async fn untrust(&self, body: BodyId) -> Result<(), NodeError> {
        self.ask(|r| Command::Untrust(body, r)).await
    }

    /// Forgets a remembered peer and disconnects it (its body stays trusted).
    pub async fn remove_peer(&self, peer: libp2p::PeerId) -> Result<(), NodeError> {
        self.ask(|r| Command::RemovePeer(peer, r)).await
    }

    /// Accepts an invitation to a space with bodies this node does not trust; durable
    /// when it returns.
    pub async fn accept_agenda(&self, id: SpaceId) -> Result<(), NodeError> {
        self.ask(|r| Command::AcceptAgenda(id, r)).await
    }

    pub async fn list_agendas(&self) -> Result<Vec<AgendaSummary>, NodeError> {
        self.ask(Command::ListAgendas).await
    }

    pub async fn show_agenda(&self, id: SpaceId) -> Result<AgendaView, NodeError> {
        self.ask(|r| Command::ShowAgenda(id, None, r)).await
    }

    /// [`NodeHandle::show_agenda`] listing only the records `filter` keeps (every
    /// collection still counted in `record_counts`).
    pub async fn show_agenda_listing(
        &self,
        id: SpaceId,
        filter: crate::views::RecordFilter,
    ) -> Result<AgendaView, NodeError> {
        self.ask(|r| Command::ShowAgenda(id, Some(filter), r)).await
    }

    /// An agenda's member bodies removed and the changes waiting for consents (who
    /// consented, who is missing): the membership part of [`NodeHandle::show_agenda`],
    /// without checking the entries' signatures again.
    pub async fn membership(&self, id: SpaceId) -> Result<MembershipView, NodeError> {
        self.ask(|r| Command::MembershipOf(id, r)).await
    }

    /// The equivocation evidence this node holds for an agenda, with both signed entries'
    /// bytes and the author's member certificate, for anyone to check offline.
    pub async fn equivocations(&self, id: SpaceId) -> Result<Vec<EquivocationView>, NodeError> {
        self.ask(|r| Command::Equivocations(id, r)).await
    }

    /// Resolves once this node holds `author`'s entries up to `seq` in `space` (at once if
    /// it already does). Replaces polling in tests and benchmarks.
    pub async fn wait_for(
        &self,
        space: SpaceId,
        author: PublicKey,
        seq: u64,
    ) -> Result<(), NodeError> {
        self.ask(|reply| Command::WaitFor {
            space,
            author,
            seq,
            reply,
        })
        .await
    }

    /// Asks the node to stop; see [`crate::runtime::RunningNode::shutdown`] to wait for it.
    /// The ids of spaces as their stored state changes (local writes, partners' entries,
    /// membership); a slow reader misses some (`RecvError::Lagged`) and should re-read.
    pub async fn subscribe_changes(
        &self,
    ) -> Result<tokio::sync::broadcast::Receiver<SpaceId>, NodeError> {
        self.ask(Command::Subscribe).await
    }

    pub async fn request_shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown).await;
    }
}
