//! The consultation model on top of automerge: what a space's document holds, the actions
//! that change it, the views that read it, and the rules every change obeys. One module per
//! kind of document ([`agenda`]); this module dispatches by [`SpaceKind`] so that the node
//! and the validation pipeline stay generic.
//!
//! - [`ModelAction`]: what a person asks to do to a space, as a value. It is validated
//!   ([`ModelAction::validate`]) before it becomes a change and written into an automerge
//!   transaction ([`ModelAction::apply`]); the node has one path for every action.
//! - [`check_change`]: the document's rules, run by [`Space`] on every entry, local or
//!   remote, before it is applied — so a remote change cannot write what a local action
//!   could not.
//! - [`read_view`] / [`ModelView`]: the document as a person sees it, every value
//!   attributed to the member key that wrote it and the body it writes for.
//!
//! Invariant: whatever `validate` accepts and `apply` writes passes `check_change` for the
//! action's kind of space.

pub mod agenda;
pub mod bundle;
pub mod date;
pub mod history;
pub mod ledger;
pub mod outcome;
pub mod record_book;
pub mod schema;

use automerge::transaction::Transaction;
use automerge::{Automerge, AutomergeError, Change, ObjId, Value};

use crate::cert::{BodyId, Certificates};
use crate::keys::PublicKey;
use crate::space::{Space, SpaceKind};

pub use agenda::{
    read_agenda, AgendaAction, AgendaEdit, AgendaView, AGENDA_FIELDS, AGENDA_SCHEMA,
    MAX_SUMMARY_BYTES, MAX_TITLE_BYTES,
};
pub use ledger::{read_ledger, LedgerAction, LedgerView, LEDGER_SCHEMA};
pub use schema::{
    find_record, Author, Made, RecordId, RecordKey, RecordView, RecordWrite, ShardKey,
};

/// Why an action was refused before it became a change, or a change was refused before it
/// was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the change writes outside the document's layout ({0})")]
    OutsideModel(String),
    #[error("not a record id (16 lowercase hex characters): {0}")]
    BadId(String),
    #[error("{field} {why}")]
    BadValue { field: &'static str, why: String },
    #[error("{field} is required")]
    MissingField { field: &'static str },
    #[error("only the members of the body whose area it is may write a {collection} there")]
    OtherBody { collection: &'static str },
    #[error("only a key that may sign for its body (can-sign) may sign an outcome")]
    NotSigner,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("nothing to write")]
    NothingToWrite,
    #[error("no {what} {id} in this space")]
    Unknown { what: &'static str, id: String },
    #[error("{what} {id} exists already")]
    Exists { what: &'static str, id: String },
    #[error("{0} is not a body id")]
    NotABody(String),
    #[error("{0} is not a member body of this agenda")]
    NotAMember(String),
    #[error("{later} ({later_value}) is before {earlier} ({earlier_value})")]
    DateBefore {
        later: &'static str,
        later_value: String,
        earlier: &'static str,
        earlier_value: String,
    },
    #[error("due ({due}) is before the suggestion was submitted ({submitted})")]
    DueBeforeSubmission { due: String, submitted: String },
    #[error("a decision of the joint chairs' meeting needs a disputed suggestion")]
    DecisionNeedsDispute,
    #[error("an outcome is signed with the sign action, not written")]
    SignWithAction,
    #[error("this body has already signed this text of the outcome")]
    AlreadySigned,
    #[error("a topic cannot merge into itself")]
    SelfMerge,
    #[error("the outcome cannot be signed as it is: {0}")]
    OutcomeText(String),
    #[error("this action is for a space of kind {action:?}, not {space:?}")]
    WrongKind { action: SpaceKind, space: SpaceKind },
}

impl ModelError {
    /// The message in Chinese; `label` names a field or collection in Chinese.
    pub fn zh(&self, label: impl Fn(&str) -> String) -> String {
        match self {
            Self::TooLong { field, max } => format!("{}超过 {max} 字节的上限", label(field)),
            Self::EmptyTitle => "标题不能为空".into(),
            Self::OutsideModel(what) => format!("该修改超出文档结构（{what}）"),
            Self::BadId(id) => format!("“{id}”不是记录编号（16 位小写十六进制）"),
            Self::BadValue { field, why } => format!("{}{}", label(field), why_zh(why)),
            Self::MissingField { field } => format!("缺少必填项：{}", label(field)),
            Self::OtherBody { collection } => {
                format!("只有该机构的成员可以在其区域写入{}", label(collection))
            }
            Self::NotSigner => "只有可代表本机构签署的成员（can-sign）才能签署协商成果".into(),
            Self::BadSignature => "签名无法验证".into(),
            Self::NothingToWrite => "没有要写入的内容".into(),
            Self::Unknown { what, id } => format!("本议题中没有{} {id}", label(what)),
            Self::Exists { what, id } => format!("{} {id} 已存在", label(what)),
            Self::NotABody(id) => format!("“{id}”不是机构编号"),
            Self::NotAMember(id) => format!("{id} 不是本议题的成员机构"),
            Self::DateBefore {
                later,
                later_value,
                earlier,
                earlier_value,
            } => format!(
                "{}（{later_value}）早于{}（{earlier_value}）",
                label(later),
                label(earlier)
            ),
            Self::DueBeforeSubmission { due, submitted } => {
                format!("办理期限（{due}）早于该意见建议的报送日期（{submitted}）")
            }
            Self::DecisionNeedsDispute => "只有存在争议的意见建议才能记录主席联席会议的决定".into(),
            Self::SignWithAction => "协商成果须通过签署操作签署，不能直接写入".into(),
            Self::AlreadySigned => "本机构已签署过该成果的这一文本".into(),
            Self::SelfMerge => "选题不能并入自身".into(),
            Self::OutcomeText(why) => format!("该协商成果目前无法签署：{why}"),
            Self::WrongKind { .. } => "该操作不适用于此类空间".into(),
        }
    }
}

/// The Chinese for the reasons [`schema::check_value`] gives.
fn why_zh(why: &str) -> String {
    let known: &[(&str, &str)] = &[
        ("must be one line", "只能是一行文字"),
        (
            "must be a date YYYY-MM-DD",
            "须为 YYYY-MM-DD 格式的有效日期",
        ),
        ("must be a whole number", "须为整数"),
        ("lists too many ids", "列出的编号过多"),
        ("must be a body id", "须为机构编号"),
        ("must list body ids", "须列出机构编号"),
        ("must be base64", "须为 base64 编码"),
        ("is not the SHA-256 of the data", "与内容的 SHA-256 不符"),
        (
            "must list agenda ids (64 hex characters)",
            "须列出议题编号（64 位十六进制）",
        ),
        (
            "an attachment's id is the first 8 bytes of its SHA-256",
            "附件编号须为其 SHA-256 的前 8 字节",
        ),
        ("lists too many bodies", "列出的机构过多"),
    ];
    if let Some((_, zh)) = known.iter().find(|(en, _)| *en == why) {
        return (*zh).to_owned();
    }
    if let Some(values) = why.strip_prefix("must be one of ") {
        return format!("须为以下之一：{values}");
    }
    if let Some(rest) = why.strip_prefix("must be ") {
        if let Some(n) = rest.strip_suffix(" bytes of lowercase hex") {
            return format!("须为 {n} 字节的小写十六进制");
        }
    }
    why.to_owned()
}

/// An action on a space's document, of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelAction {
    Agenda(AgendaAction),
    Ledger(LedgerAction),
}

impl From<AgendaAction> for ModelAction {
    fn from(action: AgendaAction) -> Self {
        Self::Agenda(action)
    }
}

impl From<LedgerAction> for ModelAction {
    fn from(action: LedgerAction) -> Self {
        Self::Ledger(action)
    }
}

impl From<AgendaEdit> for ModelAction {
    fn from(edit: AgendaEdit) -> Self {
        Self::Agenda(AgendaAction::Edit(edit))
    }
}

impl ModelAction {
    /// The kind of space this action applies to.
    pub fn kind(&self) -> SpaceKind {
        match self {
            Self::Agenda(_) => SpaceKind::Agenda,
            Self::Ledger(_) => SpaceKind::Ledger,
        }
    }

    /// Checks the action on its own, before it becomes a change.
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            Self::Agenda(action) => action.validate(),
            Self::Ledger(action) => action.validate(),
        }
    }

    /// Places the action for `body`, the body of the member who makes it: a record write in
    /// a body's area that names no body is for the author's own.
    pub fn placed(mut self, body: &BodyId) -> Self {
        match &mut self {
            Self::Agenda(AgendaAction::Write(write)) => write.place(&AGENDA_SCHEMA, body),
            Self::Agenda(
                AgendaAction::Edit(_) | AgendaAction::Sign { .. } | AgendaAction::LinkTopic(_),
            )
            | Self::Ledger(_) => {}
        }
        self
    }

    /// The action as it is written, made with the author's key where it needs one (an
    /// outcome's signature).
    pub fn resolve(
        self,
        space: &Space,
        certs: &Certificates,
        author: &Author,
        secret: &crate::keys::SecretKey,
    ) -> Result<Self, ModelError> {
        match self {
            Self::Agenda(action) => action
                .resolve(space, certs, author, secret)
                .map(Self::Agenda),
            other => Ok(other),
        }
    }

    /// Checks the action against the space's document as it is now, made by `author`: the
    /// rules that depend on state (references exist, dates in order, …).
    pub fn validate_in(&self, space: &Space, author: &Author) -> Result<(), ModelError> {
        match self {
            Self::Agenda(action) => action.validate_in(space, author),
            Self::Ledger(action) => action.validate_in(space),
        }
    }

    /// Writes the action into a transaction on the space's document.
    pub fn apply(&self, tx: &mut Transaction<'_>) -> Result<(), AutomergeError> {
        match self {
            Self::Agenda(action) => action.apply(tx),
            Self::Ledger(action) => action.apply(tx),
        }
    }
}

/// Checks a change against the rules of the document it is for — the same rules a local
/// action obeys ([`ModelAction::validate`]), so a remote change cannot write what the local
/// interface would refuse. Run on every entry, local or remote, before it is applied.
///
/// `doc` is the document the change applies to (holding its causal history), `made` the
/// records made by changes checked before it in the same batch, `author` who signed it.
pub fn check_change(
    kind: SpaceKind,
    doc: &Automerge,
    made: &mut Made,
    author: &Author,
    change: &Change,
) -> Result<(), ModelError> {
    match kind {
        SpaceKind::Agenda => agenda::check_agenda_change(doc, made, author, change),
        SpaceKind::Ledger => ledger::check_ledger_change(doc, made, author, change),
    }
}

/// A space's document as a person sees it, of any kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelView {
    Agenda(AgendaView),
    Ledger(LedgerView),
}

impl ModelView {
    /// The document's fields, each value attributed.
    pub fn fields(&self) -> &[FieldView] {
        match self {
            Self::Agenda(view) => &view.fields,
            Self::Ledger(_) => &[],
        }
    }

    /// The document's records, by collection.
    pub fn records(&self) -> &std::collections::BTreeMap<&'static str, Vec<RecordView>> {
        match self {
            Self::Agenda(view) => &view.records,
            Self::Ledger(view) => &view.records,
        }
    }

    /// The title lists show ("" if unset).
    pub fn title(&self) -> &str {
        match self {
            Self::Agenda(view) => view.text("title"),
            Self::Ledger(_) => "",
        }
    }
}

/// Reads a space's document by its kind, attributing each value to its author's body and
/// certificate.
pub fn read_view(space: &Space, certs: &Certificates) -> ModelView {
    match space.genesis().kind {
        SpaceKind::Agenda => ModelView::Agenda(read_agenda(space, certs)),
        SpaceKind::Ledger => ModelView::Ledger(read_ledger(space, certs)),
    }
}

/// What [`read_view`] gives, reading again only the records written since `book` last read
/// `space` (the whole document the first time, or when the book cannot be sure).
pub fn read_view_kept(
    space: &Space,
    certs: &Certificates,
    book: &mut record_book::RecordBook,
) -> ModelView {
    match space.genesis().kind {
        SpaceKind::Agenda => ModelView::Agenda(agenda::agenda_with(
            space,
            certs,
            book.records(&AGENDA_SCHEMA, space, certs),
        )),
        SpaceKind::Ledger => ModelView::Ledger(LedgerView {
            records: book.records(&ledger::LEDGER_SCHEMA, space, certs),
        }),
    }
}

/// [`read_view_kept`] listing only the records `keep` keeps (an agenda's outcomes are still
/// worked out from all its outcomes and attestations), with how many records each
/// collection holds in all.
pub fn read_view_kept_where(
    space: &Space,
    certs: &Certificates,
    book: &mut record_book::RecordBook,
    keep: impl Fn(&RecordView) -> bool,
) -> (ModelView, std::collections::BTreeMap<&'static str, usize>) {
    match space.genesis().kind {
        SpaceKind::Agenda => {
            let (signing, counts) = book.records_where(&AGENDA_SCHEMA, space, certs, |r| {
                matches!(r.collection, "outcome" | "attestation")
            });
            let mut view = agenda::agenda_with(space, certs, signing);
            view.records = book.records_where(&AGENDA_SCHEMA, space, certs, keep).0;
            (ModelView::Agenda(view), counts)
        }
        SpaceKind::Ledger => {
            let (records, counts) = book.records_where(&ledger::LEDGER_SCHEMA, space, certs, keep);
            (ModelView::Ledger(LedgerView { records }), counts)
        }
    }
}

/// The title lists show ("" if unset), as [`ModelView::title`] gives it, without reading
/// the whole document.
pub fn read_title(space: &Space, certs: &Certificates) -> String {
    match space.genesis().kind {
        SpaceKind::Agenda => agenda::read_title(space, certs),
        SpaceKind::Ledger => String::new(),
    }
}

/// One value of a field and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attributed {
    pub value: String,
    pub author: PublicKey,
    /// The body the author writes for in this space and the names its certificate gives,
    /// if that certificate is known.
    pub body: Option<BodyId>,
    pub body_name: Option<String>,
    pub member_name: Option<String>,
}

/// A field: the value every replica shows, and any concurrent values that lost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldView {
    pub name: &'static str,
    pub current: Option<Attributed>,
    pub conflicts: Vec<Attributed>,
}

/// Who wrote the values of one read: each author's key, the body it writes for in the space
/// and the names its certificate gives, worked out once per author (an agenda at the
/// workflow issue's size holds about 15,000 values by a handful of keys).
pub(crate) struct Authors<'a> {
    space: &'a Space,
    certs: &'a Certificates,
    /// By actor (`None`: not a member key).
    known: std::collections::HashMap<automerge::ActorId, Option<Writer>>,
}

/// An author as [`Attributed`] names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Writer {
    author: PublicKey,
    body: Option<BodyId>,
    body_name: Option<String>,
    member_name: Option<String>,
}

impl<'a> Authors<'a> {
    pub(crate) fn new(space: &'a Space, certs: &'a Certificates) -> Self {
        Self::with_known(space, certs, std::collections::HashMap::new())
    }

    /// Starts from authors worked out before (by an earlier read of the same space, which
    /// [`Authors::still_hold`] confirms).
    pub(crate) fn with_known(
        space: &'a Space,
        certs: &'a Certificates,
        known: std::collections::HashMap<automerge::ActorId, Option<Writer>>,
    ) -> Self {
        Authors {
            space,
            certs,
            known,
        }
    }

    /// Whether every author worked out so far still writes for the same body under the
    /// same names (membership and certificates change what a read attributes).
    pub(crate) fn still_hold(&self) -> bool {
        self.known
            .iter()
            .all(|(actor, writer)| self.writer(actor) == *writer)
    }

    /// The authors worked out, to start the next read from.
    pub(crate) fn into_known(
        self,
    ) -> std::collections::HashMap<automerge::ActorId, Option<Writer>> {
        self.known
    }

    /// A scalar value of the document, attributed to the member key that wrote it (the
    /// actor of the op `id`) and to the body that key writes for in the space; `None` for
    /// an object.
    pub(crate) fn attribute(&mut self, value: Value<'_>, id: &ObjId) -> Option<Attributed> {
        let text = match value {
            Value::Scalar(s) => match s.as_ref() {
                automerge::ScalarValue::Str(s) => s.to_string(),
                other => other.to_string(),
            },
            Value::Object(_) => return None,
        };
        let ObjId::Id(_, actor, _) = id else {
            return None;
        };
        let writer = match self.known.get(actor) {
            Some(known) => known.clone(),
            None => {
                let writer = self.writer(actor);
                self.known.insert(actor.clone(), writer.clone());
                writer
            }
        }?;
        Some(Attributed {
            value: text,
            author: writer.author,
            body: writer.body,
            body_name: writer.body_name,
            member_name: writer.member_name,
        })
    }

    fn writer(&self, actor: &automerge::ActorId) -> Option<Writer> {
        let key: [u8; 32] = actor.to_bytes().try_into().ok()?;
        let author = PublicKey::from_bytes(key);
        let cert = self.space.author_cert(&author, self.certs);
        Some(Writer {
            author,
            body: self.space.author_body(&author),
            body_name: cert.map(|c| c.body_name.clone()),
            member_name: cert.map(|c| c.subject_name().to_owned()),
        })
    }
}
