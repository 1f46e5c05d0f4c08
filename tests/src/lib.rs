//! Fixtures for confer's multi-node tests and benchmarks: real nodes (each with its own body,
//! keys and redb file in a temporary directory) talking real libp2p on loopback, a polling
//! helper that fails with a useful message, and a "rogue" peer that speaks the sync protocol
//! by hand to probe what an honest node accepts.
//!
//! Nothing here asserts on timing: conditions are polled until a generous deadline
//! ([`WAIT`]), so the tests hold on a busy machine.

pub mod ui_client;
pub mod workflow_agenda;

use std::fmt::Debug;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc, ROOT};
use confer_node::handle::{NodeError, NodeHandle};
use confer_node::net::{self, Behaviour, BehaviourEvent, NetConfig};
use confer_node::views::{AgendaView, SpaceView, StatusView};
use confer_node::{Config, NodeFailure, RunningNode};
use confer_protocol::model::AgendaEdit;
use confer_protocol::wire::Writer;
use confer_protocol::{
    BodyId, Certificate, Entry, Message, PublicKey, SecretKey, SpaceId, Subject,
};
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use rand::RngExt;

/// How long a test waits for a condition before it fails. Generous: the machine may be busy.
pub const WAIT: Duration = Duration::from_secs(60);
/// Pause between two checks of a condition.
pub const POLL: Duration = Duration::from_millis(100);

/// Logs to the test output if `RUST_LOG` is set (e.g. `RUST_LOG=confer_node=debug`), and
/// keeps warnings for [`warnings_naming`] once [`record_warnings`] was called.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let output = tracing_subscriber::fmt::layer()
        .with_test_writer()
        .with_filter(tracing_subscriber::EnvFilter::from_default_env());
    let _ = tracing_subscriber::registry()
        .with(output)
        .with(WarningLog.with_filter(tracing_subscriber::filter::LevelFilter::WARN))
        .try_init();
}

/// Warnings (and errors) logged in this process since [`record_warnings`], one line each:
/// the message and every field as `name=value`.
static WARNINGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Most warnings kept: a test that floods a node must not grow this without bound.
const MAX_WARNINGS: usize = 100_000;

/// Starts keeping the warnings every node in this process logs (tests run in parallel in
/// one process: find a test's own by a peer id only it uses, with [`warnings_naming`]).
pub fn record_warnings() {
    init_tracing();
    RECORDING.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// The warnings kept so far that contain `needle` (e.g. a rogue's peer id).
pub fn warnings_naming(needle: &str) -> Vec<String> {
    WARNINGS
        .lock()
        .map(|w| w.iter().filter(|l| l.contains(needle)).cloned().collect())
        .unwrap_or_default()
}

struct WarningLog;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarningLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if !RECORDING.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut LineVisitor(&mut line));
        if let Ok(mut kept) = WARNINGS.lock() {
            if kept.len() < MAX_WARNINGS {
                kept.push(line);
            }
        }
    }
}

struct LineVisitor<'a>(&'a mut String);

impl tracing::field::Visit for LineVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, " {}={value:?}", field.name());
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        use std::fmt::Write;
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn random_seed() -> [u8; 32] {
    rand::rng().random()
}

// ---- polling ---------------------------------------------------------------------------

/// Polls `check` until it returns `Ok`, and returns that value. Panics after `limit` with
/// `what` and the last `Err` the check gave, so a failure says what was observed.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = tokio::time::Instant::now();
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(observed) => observed,
        };
        if start.elapsed() >= limit {
            panic!(
                "timed out after {} s waiting until {what}; last observed: {last}",
                limit.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Checks `check` repeatedly for `period` and panics the first time it fails: for "this
/// never happens" properties (it can only fail, never prove; make `period` span several
/// anti-entropy rounds).
pub async fn always<F, Fut>(what: &str, period: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Err(observed) = check().await {
            panic!(
                "expected {what} to hold throughout {} s, but after {:?}: {observed}",
                period.as_secs(),
                start.elapsed()
            );
        }
        if start.elapsed() >= period {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `Ok(())` if `cond`, else `Err` with the message: for building `eventually` checks.
pub fn ensure(cond: bool, observed: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(observed())
    }
}

// ---- identities on disk -----------------------------------------------------------------

/// Reads a 32-byte hex seed file (`keys/*.key`).
pub fn read_seed(path: &Path) -> [u8; 32] {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let raw =
        hex::decode(text.trim()).unwrap_or_else(|e| panic!("{} is not hex: {e}", path.display()));
    raw.try_into()
        .unwrap_or_else(|_| panic!("{} is not a 32-byte seed", path.display()))
}

/// The body secret key stored in a data directory (`keys/body.key`).
pub fn body_secret(dir: &Path) -> SecretKey {
    SecretKey::from_seed(read_seed(&dir.join("keys").join("body.key")))
}

/// The member secret key stored in a data directory (`keys/member.key`).
pub fn member_secret(dir: &Path) -> SecretKey {
    SecretKey::from_seed(read_seed(&dir.join("keys").join("member.key")))
}

/// The node certificate in a data directory's `identity.json` (public: every peer sees it).
pub fn node_cert(dir: &Path) -> Certificate {
    let text = std::fs::read_to_string(dir.join("identity.json")).expect("read identity.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("identity.json is JSON");
    let hex_text = json["node_cert"]
        .as_str()
        .expect("identity.json has node_cert");
    Certificate::decode(&hex::decode(hex_text).expect("node_cert is hex"))
        .expect("node_cert decodes")
}

/// Makes `dst` a second node of the body in `src` that holds the *same member key* (the
/// "one key on two nodes" accident) but its own node key: copies `keys/` and
/// `identity.json`, gives it a fresh `keys/node.key` and a node certificate for it issued
/// with the body key. `src` must not have started yet (no redb file is copied either way).
pub fn clone_member_to_new_node(src: &Path, dst: &Path) {
    let keys = dst.join("keys");
    std::fs::create_dir_all(&keys).expect("create the clone's keys dir");
    for name in ["body.key", "member.key"] {
        std::fs::copy(src.join("keys").join(name), keys.join(name)).expect("copy a key file");
    }
    let node = SecretKey::from_seed(random_seed());
    confer_node::identity::write_private(
        &keys.join("node.key"),
        format!("{}\n", hex::encode(node.seed())).as_bytes(),
    )
    .expect("write node.key");
    let text = std::fs::read_to_string(src.join("identity.json")).expect("read identity.json");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("identity.json is JSON");
    let body_name = json["body_name"]
        .as_str()
        .expect("identity.json has body_name")
        .to_owned();
    let cert = Certificate::issue(
        &body_secret(src),
        &body_name,
        node.public(),
        Subject::Node,
        unix_now(),
    )
    .expect("issue node cert");
    json["node_cert"] = serde_json::Value::String(hex::encode(cert.encode()));
    let out = serde_json::to_vec_pretty(&json).expect("serialise identity.json");
    confer_node::identity::write_private(&dst.join("identity.json"), &out)
        .expect("write identity.json");
}

// ---- nodes ------------------------------------------------------------------------------

/// A temporary directory holding the data directories of a set of test nodes.
#[derive(Debug)]
pub struct Federation {
    root: tempfile::TempDir,
}

impl Default for Federation {
    fn default() -> Self {
        Self::new()
    }
}

impl Federation {
    pub fn new() -> Federation {
        init_tracing();
        Federation {
            root: tempfile::Builder::new()
                .prefix("confer-tests-")
                .tempdir()
                .expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// A data directory for `name` (not created).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// Creates a new body named `name` with one member and a node identity; does not start it.
    pub fn init(&self, name: &str) -> PathBuf {
        let dir = self.dir(name);
        confer_node::identity::init(
            &dir,
            name,
            "测试地区",
            &format!("{name} 秘书处"),
            unix_now(),
        )
        .unwrap_or_else(|e| panic!("init {name}: {e}"));
        dir
    }

    /// A new body's node, started on loopback.
    pub async fn spawn(&self, name: &str) -> TestNode {
        self.spawn_with(name, |_| {}).await
    }

    /// A new body's node, started on loopback with `tweak` applied to its config.
    pub async fn spawn_with(&self, name: &str, tweak: impl FnOnce(&mut Config)) -> TestNode {
        let dir = self.init(name);
        let mut config = Config::loopback(&dir);
        tweak(&mut config);
        TestNode::start(name, config).await
    }
}

/// Starts a new body's node named `name` in `fed`.
pub async fn spawn_node(fed: &Federation, name: &str) -> TestNode {
    fed.spawn(name).await
}

/// One node running in this process, and what a test needs to know about it.
#[derive(Debug)]
pub struct TestNode {
    pub name: String,
    pub dir: PathBuf,
    /// The config it was last started with.
    pub config: Config,
    node: Option<RunningNode>,
    pub handle: NodeHandle,
    pub body: BodyId,
    /// Its status right after it last started (listen addresses, keys).
    pub status: StatusView,
}

impl TestNode {
    /// Starts a node from an initialised data directory; panics if it cannot.
    pub async fn start(name: &str, config: Config) -> TestNode {
        Self::try_start(name, config)
            .await
            .unwrap_or_else(|e| panic!("start {name}: {e}"))
    }

    pub async fn try_start(name: &str, config: Config) -> Result<TestNode, NodeFailure> {
        let node = confer_node::start(config.clone()).await?;
        let handle = node.handle.clone();
        let status = handle
            .status()
            .await
            .unwrap_or_else(|e| panic!("status of {name}: {e}"));
        let body: BodyId = status.body.id.parse().expect("status body id parses");
        Ok(TestNode {
            name: name.to_owned(),
            dir: config.data_dir.clone(),
            config,
            node: Some(node),
            handle,
            body,
            status,
        })
    }

    /// Its full listen address (`.../p2p/<peer id>`), for `add_peer`.
    pub fn addr(&self) -> Multiaddr {
        self.status
            .listen
            .first()
            .unwrap_or_else(|| panic!("{} has no listen address", self.name))
            .parse()
            .expect("listen address parses")
    }

    /// Its listen address without `/p2p/…`, for restarting on the same port.
    pub fn listen_addr(&self) -> Multiaddr {
        self.addr()
            .into_iter()
            .filter(|p| !matches!(p, Protocol::P2p(_)))
            .collect()
    }

    pub fn peer_id(&self) -> &str {
        &self.status.peer_id
    }

    /// Its member key, hex (as in vectors and `equivocators`).
    pub fn member_key(&self) -> &str {
        &self.status.member.key
    }

    pub fn member_public(&self) -> PublicKey {
        self.member_key().parse().expect("member key parses")
    }

    pub fn body_secret(&self) -> SecretKey {
        body_secret(&self.dir)
    }

    pub fn is_running(&self) -> bool {
        self.node.is_some()
    }

    fn take(&mut self) -> RunningNode {
        self.node
            .take()
            .unwrap_or_else(|| panic!("{} is not running", self.name))
    }

    /// Stops the node cleanly and waits for it; panics if it stopped with an error.
    pub async fn shutdown(&mut self) {
        let node = self.take();
        node.shutdown()
            .await
            .unwrap_or_else(|e| panic!("{} failed to shut down cleanly: {e}", self.name));
    }

    /// Kills the node without its shutdown path (a crash, as far as the redb file goes).
    pub async fn abort(&mut self) {
        self.take().abort().await;
    }

    /// Starts it again from its data directory, on a new port.
    pub async fn restart(&mut self) {
        let mut config = self.config.clone();
        config.listen = Config::loopback(&self.dir).listen;
        self.restart_with(config)
            .await
            .unwrap_or_else(|e| panic!("restart {}: {e}", self.name));
    }

    /// Starts it again from its data directory with `config`.
    pub async fn restart_with(&mut self, config: Config) -> Result<(), NodeFailure> {
        assert!(self.node.is_none(), "{} is still running", self.name);
        let fresh = Self::try_start(&self.name, config).await?;
        *self = fresh;
        Ok(())
    }

    /// Starts it again on the port it listened on before (so peers that remember its
    /// address redial it). Errors if the port cannot be bound again.
    pub async fn restart_on_same_port(&mut self) -> Result<(), NodeFailure> {
        let mut config = self.config.clone();
        config.listen = vec![self.listen_addr()];
        let name = self.name.clone();
        self.restart_with(config)
            .await
            .inspect_err(|e| tracing::warn!(%name, error = %e, "cannot restart on the same port"))
    }

    pub async fn status_now(&self) -> StatusView {
        self.handle
            .status()
            .await
            .unwrap_or_else(|e| panic!("status of {}: {e}", self.name))
    }

    /// What its status says about `id`, if it holds that space.
    pub async fn space(&self, id: SpaceId) -> Option<SpaceView> {
        let id = id.to_string();
        self.status_now()
            .await
            .spaces
            .into_iter()
            .find(|s| s.id == id)
    }

    pub async fn try_show(&self, id: SpaceId) -> Result<AgendaView, NodeError> {
        self.handle.show_agenda(id).await
    }

    pub async fn show(&self, id: SpaceId) -> AgendaView {
        self.try_show(id)
            .await
            .unwrap_or_else(|e| panic!("show agenda on {}: {e}", self.name))
    }

    /// Creates an agenda with the bodies of `with` (their certificates must be known).
    pub async fn create_agenda(&self, title: &str, with: &[&TestNode]) -> SpaceId {
        let bodies = with.iter().map(|n| n.body).collect();
        self.handle
            .create_agenda(title, None, bodies)
            .await
            .unwrap_or_else(|e| panic!("create agenda on {}: {e}", self.name))
    }

    /// Edits an agenda; durable once this returns.
    pub async fn edit(&self, id: SpaceId, title: Option<&str>, summary: Option<&str>) {
        let edit = AgendaEdit {
            title: title.map(str::to_owned),
            summary: summary.map(str::to_owned),
        };
        self.handle
            .edit_agenda(id, edit)
            .await
            .unwrap_or_else(|e| panic!("edit agenda on {}: {e}", self.name))
    }

    /// Waits for an invitation to `id` (a space with a member body this node does not
    /// trust) and accepts it, as its operator would after checking the ids.
    pub async fn accept_invitation(&self, id: SpaceId) {
        let want = id.to_string();
        eventually(
            &format!("{} is invited to {want}", self.name),
            WAIT,
            || async {
                let list = self
                    .handle
                    .list_agendas()
                    .await
                    .map_err(|e| e.to_string())?;
                ensure(list.iter().any(|s| s.id == want && s.invited), || {
                    format!("{list:?}")
                })
            },
        )
        .await;
        self.handle
            .accept_agenda(id)
            .await
            .unwrap_or_else(|e| panic!("{} accepts {want}: {e}", self.name));
    }

    /// True if its status lists a connected peer with this peer id whose body is proven.
    pub async fn has_proven_peer(&self, peer_id: &str) -> bool {
        self.status_now()
            .await
            .peers
            .iter()
            .any(|p| p.peer_id == peer_id && p.body.is_some())
    }
}

/// Waits until `a` and `b` are connected and each has proven its body to the other.
pub async fn wait_connected(a: &TestNode, b: &TestNode) {
    eventually(
        &format!(
            "{} and {} are connected and proved their bodies",
            a.name, b.name
        ),
        WAIT,
        || async {
            let ab = a.has_proven_peer(b.peer_id()).await;
            let ba = b.has_proven_peer(a.peer_id()).await;
            ensure(ab && ba, || {
                format!(
                    "{} sees {}: {ab}; {} sees {}: {ba}",
                    a.name, b.name, b.name, a.name
                )
            })
        },
    )
    .await
}

/// `a` remembers `b`'s address and dials it; waits until both proved their bodies.
pub async fn connect(a: &TestNode, b: &TestNode) {
    a.handle
        .add_peer(b.addr())
        .await
        .unwrap_or_else(|e| panic!("{} add_peer {}: {e}", a.name, b.name));
    wait_connected(a, b).await;
    // Both operators add each other, as the README's procedure has it: that is what makes
    // each trust the other's body.
    b.handle
        .add_peer(a.addr())
        .await
        .unwrap_or_else(|e| panic!("{} add_peer {}: {e}", b.name, a.name));
    wait_trusted(a, b).await;
    wait_trusted(b, a).await;
}

/// Waits until `a` lists `b` as a connected peer whose body it trusts.
pub async fn wait_trusted(a: &TestNode, b: &TestNode) {
    let want = b.body.to_string();
    eventually(&format!("{} trusts {}", a.name, b.name), WAIT, || async {
        let s = a.handle.status().await.map_err(|e| e.to_string())?;
        let ok = s
            .peers
            .iter()
            .any(|p| p.trusted && p.body.as_ref().is_some_and(|x| x.id == want));
        ensure(ok, || format!("peers: {:?}", s.peers))
    })
    .await;
}

/// The parts of an agenda view that must be identical on every node holding the same entries.
pub fn same_state(x: &AgendaView, y: &AgendaView) -> bool {
    x.fields == y.fields && x.vector == y.vector && x.entries == y.entries
}

/// Waits until every node in `nodes` shows agenda `id` with identical fields and vector,
/// every signature verified and `ready` true of it; returns the first node's view.
pub async fn converged(
    nodes: &[&TestNode],
    id: SpaceId,
    what: &str,
    ready: impl Fn(&AgendaView) -> bool,
) -> AgendaView {
    eventually(what, WAIT, || async {
        let mut views = Vec::new();
        for n in nodes {
            match n.try_show(id).await {
                Ok(v) => views.push(v),
                Err(e) => return Err(format!("{}: {e}", n.name)),
            }
        }
        let first = &views[0];
        for (n, v) in nodes.iter().zip(&views) {
            if !v.all_signatures_verified {
                return Err(format!(
                    "{}: signatures failed: {:?}",
                    n.name, v.signatures_failed
                ));
            }
            if !ready(v) {
                return Err(format!("{} not there yet: {}", n.name, describe(v)));
            }
            if !same_state(first, v) {
                return Err(format!(
                    "{} differs from {}: {} vs {}",
                    n.name,
                    nodes[0].name,
                    describe(v),
                    describe(first)
                ));
            }
        }
        Ok(first.clone())
    })
    .await
}

/// A one-line summary of an agenda view for failure messages.
pub fn describe(v: &AgendaView) -> String {
    let fields: Vec<String> = v
        .fields
        .iter()
        .map(|f| {
            let current = f.current.as_ref().map_or("∅", |c| c.value.as_str());
            let conflicts: Vec<&str> = f.conflicts.iter().map(|c| c.value.as_str()).collect();
            format!(
                "{}={current:?}{}",
                f.name,
                if conflicts.is_empty() {
                    String::new()
                } else {
                    format!(" (conflicts {conflicts:?})")
                }
            )
        })
        .collect();
    let vector: Vec<String> = v
        .vector
        .iter()
        .map(|(a, n)| format!("{}:{n}", &a[..8.min(a.len())]))
        .collect();
    format!(
        "[{}] entries={} vector={{{}}}",
        fields.join(", "),
        v.entries,
        vector.join(", ")
    )
}

/// Every value (current and conflicting) a field holds.
pub fn field_values(v: &AgendaView, field: &str) -> Vec<String> {
    v.fields
        .iter()
        .filter(|f| f.name == field)
        .flat_map(|f| f.current.iter().chain(&f.conflicts))
        .map(|x| x.value.clone())
        .collect()
}

// ---- hand-made entries ------------------------------------------------------------------

/// The automerge document that `entries` (in log order) make up.
pub fn doc_from_entries(entries: &[Entry]) -> Automerge {
    let mut doc = Automerge::new();
    let changes = entries
        .iter()
        .map(|e| e.clone().take_change().expect("entry holds a change"))
        .collect::<Vec<_>>();
    doc.apply_changes(changes).expect("entries apply");
    doc
}

/// An automerge change on top of `doc` whose actor is `actor`, setting the given root fields.
pub fn change_as(
    doc: &mut Automerge,
    actor: &PublicKey,
    fields: &[(&str, &str)],
) -> automerge::Change {
    doc.set_actor(ActorId::from(actor.as_bytes().as_slice()));
    let mut tx = doc.transaction();
    for (k, v) in fields {
        tx.put(ROOT, *k, *v).expect("put");
    }
    let (hash, _) = tx.commit();
    let hash = hash.expect("the change is not empty");
    doc.get_change_by_hash(&hash)
        .expect("committed change")
        .clone()
}

/// The bytes of an entry carrying `change` for `space`, written for `body`, with a
/// signature made by `signer`, whoever the change's actor is (so it may claim another
/// author). Layout as in `confer_protocol::entry`.
pub fn forged_entry(
    space: SpaceId,
    body: BodyId,
    change: &automerge::Change,
    signer: &SecretKey,
) -> Entry {
    let raw = change.raw_bytes();
    let mut payload = space.as_bytes().to_vec();
    payload.extend_from_slice(body.0.as_bytes());
    payload.extend_from_slice(raw);
    let sig = signer.sign(Entry::domain(), &payload);
    let mut w = Writer::new();
    w.u8(2)
        .raw(space.as_bytes())
        .raw(body.0.as_bytes())
        .bytes(raw)
        .raw(&sig.0);
    Entry::decode(w.finish()).expect("a forged entry still decodes (signatures are checked later)")
}

// ---- a rogue peer -------------------------------------------------------------------------

/// A peer driven by hand: its own libp2p swarm, a node key and a node certificate from some
/// body, speaking the sync protocol message by message to one honest node.
pub struct Rogue {
    pub swarm: Swarm<Behaviour>,
    pub node_key: SecretKey,
    /// Its node certificate (sent in Hello / HelloAck).
    pub cert: Certificate,
    pub target: PeerId,
    /// Answer the honest node's requests (Hello → HelloAck, anything else → Refused). When
    /// false they are recorded and dropped unanswered, so the honest node never learns our
    /// body from its own Hello.
    pub answer_requests: bool,
    /// If set, every request but Hello is answered with these bytes instead (a response
    /// of the rogue's own making, malformed or not).
    pub respond_with: Option<Vec<u8>>,
    /// Every request the honest node sent us, decoded (or the decode error).
    pub inbound: Vec<Result<Message, String>>,
}

impl Debug for Rogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rogue")
            .field("peer", self.swarm.local_peer_id())
            .field("body", &self.cert.body)
            .finish()
    }
}

impl Rogue {
    /// A rogue whose node key (and peer id) comes from `seed`, certified as a node of the
    /// body whose secret is `body` (called `body_name`). Must run inside tokio.
    pub fn new(seed: [u8; 32], body: &SecretKey, body_name: &str) -> Rogue {
        let node_key = SecretKey::from_seed(seed);
        let cert = Certificate::issue(
            body,
            body_name,
            node_key.public(),
            Subject::Node,
            unix_now(),
        )
        .expect("issue the rogue's node cert");
        let keypair = net::keypair_from_seed(seed).expect("keypair from seed");
        let config = NetConfig {
            request_timeout: Duration::from_secs(30),
            ..NetConfig::default()
        };
        let swarm = net::build_swarm(keypair, &config).expect("build the rogue's swarm");
        Rogue {
            swarm,
            node_key,
            cert,
            target: PeerId::random(),
            answer_requests: true,
            respond_with: None,
            inbound: Vec::new(),
        }
    }

    /// Dials `addr` (ending in `/p2p/<id>`) and waits until connected.
    pub async fn dial(&mut self, addr: &Multiaddr) {
        let Some(Protocol::P2p(target)) = addr.iter().last() else {
            panic!("{addr} does not end in /p2p/<id>")
        };
        self.target = target;
        // The rogue reads whatever the node it probes answers, at full size.
        self.swarm.behaviour().sync.gate().open(target);
        self.swarm.dial(addr.clone()).expect("dial");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .expect("rogue connects within the deadline");
            match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == target => return,
                SwarmEvent::OutgoingConnectionError { error, .. } => {
                    panic!("rogue could not dial {addr}: {error}")
                }
                other => self.on_event(other),
            }
        }
    }

    /// Sends raw bytes as a sync request. `Ok(response bytes)`, or `Err` if the request
    /// failed (the node dropped it, closed the stream or the connection, or timed out).
    pub async fn request_bytes(&mut self, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        let id = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&self.target, bytes);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.swarm.select_next_some())
                .await
                .map_err(|_| "no answer within the deadline".to_owned())?;
            match event {
                SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                    message:
                        request_response::Message::Response {
                            request_id,
                            response,
                        },
                    ..
                })) if request_id == id => return Ok(response),
                SwarmEvent::Behaviour(BehaviourEvent::Sync(
                    request_response::Event::OutboundFailure {
                        request_id, error, ..
                    },
                )) if request_id == id => return Err(error.to_string()),
                other => self.on_event(other),
            }
        }
    }

    /// Sends a message; `Ok(decoded response)`, or `Err` if the request failed or the
    /// response does not decode.
    pub async fn request(&mut self, msg: &Message) -> Result<Message, String> {
        let bytes = self.request_bytes(msg.encode()).await?;
        Message::decode(&bytes).map_err(|e| format!("response does not decode: {e}"))
    }

    /// Sends Hello with our node certificate; returns the certificate in the HelloAck.
    pub async fn hello(&mut self) -> Certificate {
        match self
            .request(&Message::Hello {
                node: self.cert.clone(),
                chain: vec![],
            })
            .await
        {
            Ok(Message::HelloAck { node, .. }) => node,
            other => panic!("expected HelloAck to our Hello, got {other:?}"),
        }
    }

    /// Drives the swarm for `period`, handling the honest node's requests.
    pub async fn pump(&mut self, period: Duration) {
        let deadline = tokio::time::Instant::now() + period;
        while let Ok(event) = tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await
        {
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        })) = event
        else {
            return;
        };
        let decoded = Message::decode(&request).map_err(|e| e.to_string());
        if self.answer_requests {
            let response = match (&decoded, &self.respond_with) {
                (Ok(Message::Hello { .. }), _) => Message::HelloAck {
                    node: self.cert.clone(),
                    chain: vec![],
                }
                .encode(),
                (_, Some(own)) => own.clone(),
                (Ok(other), None) => Message::Refused {
                    space: other.space(),
                    reason: confer_protocol::Refusal::UnknownSpace,
                    detail: "rogue".into(),
                }
                .encode(),
                (Err(e), None) => Message::Refused {
                    space: None,
                    reason: confer_protocol::Refusal::Invalid,
                    detail: e.clone(),
                }
                .encode(),
            };
            let _ = self
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, response);
        }
        self.inbound.push(decoded);
    }
}
