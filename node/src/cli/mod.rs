//! The `confer` command line: clap definitions, turned into one validated action each.
//! `init`, `run` and `demo` work on the data directory directly; every other command talks
//! to the running node through its local API ([`client`]). Output is JSON with `--json`,
//! otherwise readable text in the user's language ([`render`]). Wherever a command takes
//! an agenda or body id, a unique prefix of at least 8 hexadecimal characters will do
//! ([`ids`]). `body-key` works on the data directory too ([`body_key`]). The agenda's
//! workflow — rounds, meetings, suggestions, outcomes, handling, findings — is in
//! [`workflow`].

mod account;
mod attachments;
mod body_key;
mod client;
mod data_dir;
mod dates;
mod delivery;
mod doctor;
mod followup;
mod help_zh;
mod help_zh_ops;
mod ids;
mod ledger;
mod member;
mod ops;
mod peers;
mod records;
mod render;
pub(crate) mod render_workflow;
mod run_args;
mod verify;
mod workflow;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;

use crate::api::{BodyRequest, EditAgenda, NewAgenda, PeerRequest};
use crate::config::settings::Settings;
use crate::config::Config;
use crate::i18n::Lang;
use crate::identity::BodyKeyStorage;
use crate::views::{AgendaSummary, AgendaView, Created, StatusView};
use client::{Client, ClientError};
use confer_protocol::text::{display_line, is_clean_name, is_hidden};
use ids::IdKind;
use run_args::RunArgs;

#[derive(Debug, Parser)]
#[command(
    name = "confer",
    version,
    about = "Federated sync of joint consultations between neighbouring committees (政协联动协商)"
)]
pub struct Cli {
    /// Data directory: keys, identity, the redb file, api.json (default:
    /// $XDG_DATA_HOME/confer, else ~/.local/share/confer).
    #[arg(long, global = true, env = "CONFER_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Configuration file (TOML; deploy/confer.toml is the commented example): `run`'s
    /// settings, and the data directory for every command. Flags and environment win over it.
    #[arg(long, global = true, env = "CONFER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create this body's identity: body key, first member key, node key.
    Init {
        /// The body's name, e.g. 平湖市政协.
        #[arg(long)]
        name: String,
        /// Region, e.g. 浙江省嘉兴市.
        #[arg(long, default_value = "")]
        region: String,
        /// The first member's (or role's) name.
        #[arg(long, default_value = "秘书处")]
        member: String,
        /// Store the body key encrypted (keys/body.key.enc) under a passphrase read from
        /// CONFER_PASSPHRASE or the terminal, instead of in plaintext (keys/body.key).
        #[arg(long)]
        encrypt_body_key: bool,
    },
    /// Run the node in the foreground until SIGINT or SIGTERM. Settings come from the flags,
    /// their environment variables, the configuration file (--config) and the defaults, in
    /// that order.
    Run {
        #[command(flatten)]
        flags: RunArgs,
    },
    /// Run a relay for partners behind NAT or firewalls, until SIGINT or SIGTERM. It
    /// carries their encrypted traffic and sees nothing of it; it needs no `init`.
    Relay {
        /// Listen address (repeatable). Default: TCP and QUIC on port 4646, all interfaces.
        #[arg(long, value_name = "MULTIADDR")]
        listen: Vec<Multiaddr>,
    },
    /// Show this node: body, peer id, addresses, peers, spaces.
    Status,
    /// Check this node and say what to fix: data directory and key permissions, ports,
    /// each remembered peer, free disk.
    Doctor,
    /// Manage peers (nodes this node keeps connected to).
    Peer {
        #[command(subcommand)]
        command: PeerCommand,
    },
    /// Trust a body: it may introduce joint agendas here. Give its full id, as its
    /// committee sent it by official letter; needs no connection.
    Trust {
        /// The body id (64 hex characters).
        body: String,
    },
    /// Withdraw trust from a body: it introduces nothing new here; agendas it shares stay.
    Untrust {
        /// The body id (64 hex characters, or a unique prefix of 8+ of a trusted body's).
        body: String,
    },
    /// Joint agendas (联动协商议题).
    Agenda {
        #[command(subcommand)]
        command: AgendaCommand,
    },
    /// Consultation rounds of an agenda (协商轮次, 再协商) and their plans (协商方案).
    Round {
        #[command(subcommand)]
        command: workflow::RoundCommand,
    },
    /// Consultation meetings (协商会议) and their minutes.
    Meeting {
        #[command(subcommand)]
        command: workflow::MeetingCommand,
    },
    /// Suggestions (意见建议) raised in a round.
    Suggestion {
        #[command(subcommand)]
        command: workflow::SuggestionCommand,
    },
    /// Outcome documents (协商成果).
    Outcome {
        #[command(subcommand)]
        command: workflow::OutcomeCommand,
    },
    /// Following a suggestion up: submission, instructions, assignment to units,
    /// feedback, evaluation (建言报送 → 批示抄告 → 意见办理 → 结果反馈).
    Handling {
        #[command(subcommand)]
        command: workflow::HandlingCommand,
    },
    /// Supervision findings (民主监督) and the responses to them.
    Finding {
        #[command(subcommand)]
        command: workflow::FindingCommand,
    },
    /// This body's ledger of candidate topics (台账) and their screening.
    Topic {
        #[command(subcommand)]
        command: ledger::TopicCommand,
    },
    /// This body's annual consultation plan (年度协商计划).
    Plan {
        #[command(subcommand)]
        command: ledger::PlanCommand,
    },
    /// This body's expert pool (第三方专家库), and sharing experts into joint agendas.
    Expert {
        #[command(subcommand)]
        command: ledger::ExpertCommand,
    },
    /// Files attached to findings: write one out, its SHA-256 checked.
    Attachment {
        #[command(subcommand)]
        command: AttachmentCommand,
    },
    /// Who changed what, when, in an agenda, read from its signed entries.
    History {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// Only this record's changes (its id or a unique prefix of 8+ hex characters).
        #[arg(long, value_name = "ID")]
        record: Option<String>,
        /// Every change, not only the latest 100 (`--json` always gives every one).
        #[arg(long)]
        all: bool,
    },
    /// Handling units past their deadline without feedback, in every agenda (督办).
    Overdue {
        /// Count as of this date, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// The year-end report (年终通报): meetings, suggestions, adoption and completion rates,
    /// overdue and carried-over items, findings — per agenda and body.
    Report {
        /// The year reported on.
        #[arg(long)]
        year: u32,
        /// Only this agenda (id or a unique prefix of 8+ hex characters).
        #[arg(long)]
        agenda: Option<String>,
        /// Count overdue items as of this date, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Markdown, or a printable HTML page (A4).
        #[arg(long, value_enum, default_value = "md")]
        format: followup::ReportFormat,
    },
    /// Start three bodies on loopback and show a joint agenda syncing between two of them.
    Demo {
        /// Play a longer scenario instead: `pinghu-jinshan`, the joint supervision of
        /// cross-border pollution from the ledgers to the year-end report.
        #[arg(long, value_enum)]
        scenario: Option<crate::demo::Scenario>,
    },
    /// Keep the body key encrypted or offline (`run` never needs it).
    BodyKey {
        #[command(subcommand)]
        command: body_key::BodyKeyCommand,
    },
    /// Web UI accounts: each person's login, bound to one of this body's member keys.
    Account {
        #[command(subcommand)]
        command: account::AccountCommand,
    },
    /// This body's people: member keys, roles, signing rights, revocation.
    Member {
        #[command(subcommand)]
        command: member::MemberCommand,
    },
    /// This body's nodes: revoke one whose key is lost or stolen.
    Node {
        #[command(subcommand)]
        command: member::NodeCommand,
    },
    /// Check an outcome bundle (协商成果文件包) offline: who signed, whether every listed
    /// body did. Needs no data directory, node or network. Exit status 0: adopted; 3: valid
    /// but a body has not signed; 4: invalid; 1: the file cannot be read.
    Verify {
        /// The bundle file (JSON, `docs/outcome-bundle.md`).
        file: PathBuf,
        /// Also print the text that was signed.
        #[arg(long)]
        text: bool,
    },
    /// Write a backup of the running node — its store, as one consistent moment, and its
    /// keys — to a new file, readable by its owner only (docs/backup.md).
    Backup {
        /// The file to write (must not exist yet).
        file: PathBuf,
    },
    /// Restore a backup into an empty or absent data directory (--data). The restored node
    /// takes no edits in an agenda until it has synced with that agenda's partners.
    Restore {
        /// The backup file (`confer backup`).
        file: PathBuf,
    },
    /// Sync with a partner that has no network path to this node, through files
    /// (docs/sync-files.md).
    Sync {
        #[command(subcommand)]
        command: ops::SyncCommand,
    },
    /// Show what a node restored from a backup waits for before it takes edits.
    CatchUp {
        /// Stop waiting and take edits now in every agenda, at the risk of signing again
        /// what the node signed after the backup (partners then refuse the key).
        #[arg(long)]
        skip: bool,
    },
    /// Sign a request file made by `member add --request` or `member revoke --request`,
    /// on the machine that holds the body key.
    SignRequest {
        /// The request file.
        file: PathBuf,
        /// Where to write the signed answer (take it back and run `confer member import`).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Sign without asking (the request is still shown); without it, a terminal is asked.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AttachmentCommand {
    /// Write an attachment's bytes to a file.
    Get {
        /// The attachment's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The agenda holding it (id or a unique prefix of 8+ hex characters).
        #[arg(long)]
        agenda: String,
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Remember a peer and keep connected to it (address ends in /p2p/<peer id>). A peer
    /// already remembered at another address keeps both; the node dials all of them.
    Add {
        /// Its address, e.g. /ip4/203.0.113.5/tcp/4646/p2p/12D3Koo…
        addr: Multiaddr,
        /// Forget the peer's other addresses: keep only this one.
        #[arg(long)]
        replace: bool,
    },
    /// List remembered and connected peers: state (connected, dialling, the last error
    /// and when), bodies and whether they are trusted.
    List,
    /// Forget a remembered peer and disconnect it (its body stays trusted).
    Remove {
        /// The peer id (12D3Koo…).
        peer: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgendaCommand {
    /// Create a joint agenda with other bodies.
    New {
        /// The agenda's title (default with --from-topic: the topic's).
        #[arg(long, required_unless_present = "from_topic")]
        title: Option<String>,
        /// The ledger topic it comes from (id or a unique prefix of 8+ hex characters);
        /// the topic records the agenda.
        #[arg(long, value_name = "TOPIC")]
        from_topic: Option<String>,
        /// The agenda's summary (default with --from-topic: the topic's).
        #[arg(long)]
        summary: Option<String>,
        /// Body id of a participating body (repeatable); a unique prefix of 8+ hex
        /// characters of a trusted, connected body's id will do.
        #[arg(long = "with", value_name = "BODY_ID", required = true)]
        with: Vec<String>,
        /// Write as this member (name or key; default: the first member).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Change an agenda's title or summary.
    Edit(EditArgs),
    /// List the agendas this node holds, and invitations waiting for acceptance.
    List,
    /// Accept an invitation to an agenda whose member bodies this node does not all trust
    /// (check their ids with their committees first).
    Accept {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
    },
    /// Propose adding a further body to an agenda (every member body must consent, each
    /// with a member who may sign for it); this body consents at once.
    Invite {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The body to add (its full id, or a unique prefix of a trusted body's id).
        #[arg(long, value_name = "BODY_ID")]
        body: String,
        /// Consent as this member (name or key; default: the first who may sign).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Consent, for this body, to a proposed change of an agenda's member bodies (see
    /// `agenda show`).
    Consent {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The change's id (a prefix of 8+ hex characters will do).
        #[arg(long, value_name = "CHANGE")]
        change: String,
        /// Consent as this member (name or key; default: the first who may sign).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Take back this body's consent to a proposed change of an agenda's member bodies that
    /// has not taken effect (see `agenda show`); this body may then consent to another.
    Withdraw {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The change's id (a prefix of 8+ hex characters will do).
        #[arg(long, value_name = "CHANGE")]
        change: String,
        /// Sign as this member (name or key; default: the first who may sign).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Leave an agenda: what this body wrote stays; it writes nothing more and is sent
    /// nothing new.
    Leave {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// Sign as this member (name or key; default: the first who may sign).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Propose removing another body from an agenda (every other member body must
    /// consent); this body consents at once.
    Remove {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The body to remove: its name, its id, or a unique prefix of 8+ hex characters
        /// of it.
        #[arg(long, value_name = "BODY_ID")]
        body: String,
        /// Consent as this member (name or key; default: the first who may sign).
        #[arg(long = "as", value_name = "NAME_OR_KEY")]
        as_member: Option<String>,
    },
    /// Show an agenda: every field and workflow record, who wrote it, whether the
    /// signatures verify.
    Show {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// List only these kinds of record, comma-separated ("suggestion,handling"); ""
        /// lists none. Without it every record is listed, or, above 200, a count of each
        /// kind.
        #[arg(long, value_name = "COLLECTIONS")]
        records: Option<String>,
    },
    /// Set the body hosting a round (轮流承办).
    Host(workflow::HostArgs),
    /// Record this body's chair meeting's preselection of the topic for a round (主席会议预选).
    Preselect(workflow::DecisionArgs),
    /// Record the joint secretaries-general meeting's confirmation of the topic for a
    /// round (秘书长工作会议确定).
    Confirm(workflow::DecisionArgs),
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Agenda id, or a unique prefix of 8+ hex characters of it.
    pub id: String,
    /// The new title (one line).
    #[arg(long)]
    pub title: Option<String>,
    /// The new summary.
    #[arg(long)]
    pub summary: Option<String>,
    /// Write as this member (name or key; default: the first member).
    #[arg(long = "as", value_name = "NAME_OR_KEY")]
    pub as_member: Option<String>,
}

/// A field or collection of the workflow's documents, named in `lang` (what the node says
/// when the model refuses an action).
pub fn field_label(lang: Lang, name: &str) -> String {
    let is_collection = confer_protocol::model::AGENDA_SCHEMA
        .collection(name)
        .is_some()
        || confer_protocol::model::LEDGER_SCHEMA
            .collection(name)
            .is_some();
    if is_collection {
        render_workflow::collection(lang, name).to_owned()
    } else {
        render_workflow::field(lang, name)
    }
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> ExitCode {
    let lang = Lang::from_env();
    let cli = parse(lang);
    if let Command::Verify { file, text } = &cli.command {
        // Offline and synchronous: no runtime, no data directory, its own exit statuses.
        return verify::run(file, *text, cli.json, lang);
    }
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("confer: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli, lang)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line, whatever a peer-chosen string inside it tried.
            eprintln!("confer: {}", display_line(&message));
            ExitCode::FAILURE
        }
    }
}

/// The command line, its `--help` in the locale's language.
fn parse(lang: Lang) -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    if lang == Lang::Zh {
        command = help_zh::localize(command);
    }
    let matches = command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    match matches {
        Ok(cli) => cli,
        Err(e) => match (lang, help_zh::error_zh(&e)) {
            (Lang::Zh, Some(text)) => {
                eprintln!("confer: {text}");
                std::process::exit(2)
            }
            _ => e.exit(),
        },
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints `value` as JSON in which no control, bidi or zero-width character appears raw.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), String> {
    let text = render::json(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

async fn execute(cli: Cli, lang: Lang) -> Result<(), String> {
    let file = match &cli.config {
        Some(path) => crate::config::file::load(path).map_err(|e| e.say(lang))?,
        None => crate::config::settings::Settings::default(),
    };
    let data = cli
        .data
        .clone()
        .or_else(|| file.data.clone())
        .unwrap_or_else(data_dir::default_data_dir);
    let json = cli.json;
    match cli.command {
        Command::Init {
            name,
            region,
            member,
            encrypt_body_key,
        } => init(&data, &name, &region, &member, encrypt_body_key, json, lang),
        Command::BodyKey { command } => {
            let rotated = matches!(command, body_key::BodyKeyCommand::Rotate { .. });
            body_key::execute(&data, command, json, lang)?;
            if rotated {
                // A running node here sends the new key to its peers at once.
                member::reload_chain(&data).await;
            }
            Ok(())
        }
        Command::Run { flags } => run(data, flags.settings().over(file), lang).await,
        Command::Relay { listen } => relay(&data, listen, json, lang).await,
        Command::Doctor => doctor::run(&data, json, lang).await,
        Command::Demo { scenario } => crate::demo::run_scenario(scenario, json, lang).await,
        Command::Status => {
            let status: StatusView = connect(&data, lang)?
                .get("/v1/status")
                .await
                .map_err(|e| e.explain(lang, &data))?;
            if json {
                print_json(&status)
            } else {
                print!("{}", render::status(&status, lang));
                Ok(())
            }
        }
        Command::Peer {
            command: PeerCommand::Add { addr, replace },
        } => peers::add(&connect(&data, lang)?, &addr, replace, json, (lang, &data)).await,
        Command::Peer {
            command: PeerCommand::List,
        } => {
            let client = connect(&data, lang)?;
            let status: StatusView = client
                .get("/v1/status")
                .await
                .map_err(|e| e.explain(lang, &data))?;
            let list = peers::peer_rows(&status);
            if json {
                print_json(&list)
            } else {
                print!("{}", peers::peer_list(&list, lang));
                Ok(())
            }
        }
        Command::Peer {
            command: PeerCommand::Remove { peer },
        } => {
            let client = connect(&data, lang)?;
            client
                .post_empty("/v1/peers/remove", &PeerRequest { peer: peer.clone() })
                .await
                .map_err(|e| e.explain(lang, &data))?;
            if json {
                print_json(&serde_json::json!({ "removed": peer }))
            } else {
                println!(
                    "{} {peer}",
                    lang.pick(
                        "Forgot and disconnected peer (its body stays trusted):",
                        "已移除并断开该节点（其所属机构仍受信任）："
                    )
                );
                Ok(())
            }
        }
        Command::Backup { file } => ops::backup(&data, &file, json, lang).await,
        Command::Restore { file } => ops::restore(&data, &file, json, lang),
        Command::CatchUp { skip } => ops::catch_up(&data, skip, json, lang).await,
        Command::Sync { command } => ops::sync(&data, command, json, lang).await,
        Command::Trust { body } => trust(&data, &body, true, json, lang).await,
        Command::Untrust { body } => trust(&data, &body, false, json, lang).await,
        Command::Agenda { command } => agenda(&data, command, json, lang).await,
        Command::Round { command } => {
            workflow::round(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Meeting { command } => {
            workflow::meeting(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Suggestion { command } => {
            workflow::suggestion(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Outcome { command } => {
            workflow::outcome(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Handling { command } => {
            workflow::handling(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Finding { command } => {
            workflow::finding(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Topic { command } => {
            ledger::topic(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Plan { command } => {
            ledger::plan(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Expert { command } => {
            ledger::expert(&records::Ctx::connect(&data, json, lang)?, command).await
        }
        Command::Attachment {
            command: AttachmentCommand::Get { id, agenda, out },
        } => {
            let ctx = records::Ctx::connect(&data, json, lang)?;
            attachments::get(&ctx, &id, &agenda, &out).await
        }
        Command::History {
            agenda,
            record,
            all,
        } => {
            let ctx = records::Ctx::connect(&data, json, lang)?;
            followup::history(&ctx, &agenda, record.as_deref(), all).await
        }
        Command::Overdue { on } => {
            followup::overdue(&records::Ctx::connect(&data, json, lang)?, on.as_deref()).await
        }
        Command::Report {
            year,
            agenda,
            as_of,
            format,
        } => {
            let ctx = records::Ctx::connect(&data, json, lang)?;
            followup::year_report(&ctx, year, agenda.as_deref(), as_of.as_deref(), format).await
        }
        Command::Account { command } => account::execute(&data, command, json, lang),
        Command::Member { command } => member::execute(&data, command, json, lang).await,
        Command::Node { command } => member::execute_node(&data, command, json, lang).await,
        Command::Verify { .. } => {
            unreachable!("`main` runs `verify` before it starts the runtime")
        }
        Command::SignRequest { file, out, yes } => {
            member::sign_request(&data, &file, &out, yes, json, lang)
        }
    }
}

/// `confer trust` (`grant`) and `confer untrust`: one full body id, one request.
async fn trust(data: &Path, body: &str, grant: bool, json: bool, lang: Lang) -> Result<(), String> {
    let client = connect(data, lang)?;
    let mut body = body.trim().to_ascii_lowercase();
    if !grant && !ids::is_full(&body) {
        // Withdrawing trust: a unique prefix of a trusted body's id will do.
        let status: StatusView = client
            .get("/v1/status")
            .await
            .map_err(|e| e.explain(lang, data))?;
        body = ids::resolve_prefix(&body, status.trusted.iter().map(|b| b.id.as_str()))
            .map(str::to_owned)
            .map_err(|e| e.explain(lang, IdKind::TrustedBody, &body))?;
    }
    if !ids::is_full(&body) {
        return Err(lang
            .pick(
                "give the body's full id (64 hex characters), exactly as its committee sent it by official letter (see also `confer status`)",
                "请给出机构的完整编号（64 位十六进制），与对方政协正式来函中的编号一致（亦见 `confer status`）",
            )
            .to_owned());
    }
    let path = if grant { "/v1/trust" } else { "/v1/untrust" };
    client
        .post_empty(path, &BodyRequest { body: body.clone() })
        .await
        .map_err(|e| e.explain(lang, data))?;
    if json {
        let key = if grant { "body" } else { "untrusted" };
        return print_json(&serde_json::json!({ key: body }));
    }
    let said = if grant {
        lang.pick(
            "Trusted; this body may now introduce joint agendas here:",
            "已信任该机构，其可在本节点发起联动议题：",
        )
    } else {
        lang.pick(
            "No longer trusted: it introduces nothing new here; joint agendas it already shares with this body stay and keep syncing:",
            "已取消信任：该机构不能再在本节点发起新议题；已共享的联动议题保留并继续同步：",
        )
    };
    println!("{said} {body}");
    Ok(())
}

fn init(
    data: &Path,
    name: &str,
    region: &str,
    member: &str,
    encrypt_body_key: bool,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let (name, region, member) = (name.trim(), region.trim(), member.trim());
    if name.is_empty() {
        return Err(lang
            .pick("--name must not be empty", "--name 不能为空")
            .to_owned());
    }
    // Peers show these names to their operators; refuse what could disguise them.
    for (flag, value) in [("--name", name), ("--member", member)] {
        if !is_clean_name(value) {
            return Err(unclean(lang, flag, value));
        }
    }
    if region.chars().any(is_hidden) {
        return Err(unclean(lang, "--region", region));
    }
    // Asked before anything is created; not asked at all where init would be refused.
    let passphrase = match encrypt_body_key {
        true if !crate::identity::initialised(data) => Some(body_key::new_passphrase(lang)?),
        _ => None,
    };
    let storage = passphrase
        .as_ref()
        .map_or(BodyKeyStorage::Plain, BodyKeyStorage::Encrypted);
    let now = crate::runtime::unix_now();
    let local = crate::identity::init_with(data, name, region, member, now, storage).map_err(
        |e| match e {
            crate::identity::IdentityError::AlreadyInitialised { .. } => match lang {
                Lang::En => format!(
                    "{} already holds an identity; use another --data directory",
                    data.display()
                ),
                Lang::Zh => format!("{} 中已有身份，请换一个 --data 目录", data.display()),
            },
            other => body_key::explain(lang, &other),
        },
    )?;
    let keypair = crate::net::keypair_from_seed(local.node_seed).map_err(|e| e.to_string())?;
    let peer = keypair.public().to_peer_id();
    let store =
        crate::store::Store::open(&Config::new(data).store_path()).map_err(|e| e.to_string())?;
    drop(store);
    let body = local.identity.body();
    let enc = crate::identity::body_key_enc_path(data);
    if json {
        let mut out = serde_json::json!({ "body": body.to_string(), "peer": peer.to_string() });
        if passphrase.is_some() {
            out["body_key_encrypted"] = enc.display().to_string().into();
        }
        print_json(&out)
    } else {
        print!(
            "{}",
            render::initialised(name, &body.to_string(), &peer.to_string(), data, lang)
        );
        if passphrase.is_some() {
            let enc = enc.display();
            println!("{}", match lang {
                Lang::En => format!("The body key is encrypted in {enc} (not keys/body.key); back that file up offline and keep the passphrase apart from it. `confer run` needs neither."),
                Lang::Zh => format!("机构密钥已加密保存为 {enc}（而非 keys/body.key）；请离线备份该文件，并将口令与其分开保管。`confer run` 两者都不需要。"),
            });
        }
        Ok(())
    }
}

/// Why `value` given with `flag` cannot be a name.
fn unclean(lang: Lang, flag: &str, value: &str) -> String {
    let shown = display_line(value);
    match lang {
        Lang::En => format!("{flag} \"{shown}\" contains control, bidi or invisible characters (or is empty); peers would show it to their operators, so give plain text"),
        Lang::Zh => format!("{flag} “{shown}”含有控制字符、双向文本控制符或不可见字符（或为空）；对方节点会向其操作员显示该名称，请只使用普通文字"),
    }
}

async fn run(data: PathBuf, settings: Settings, lang: Lang) -> Result<(), String> {
    let config = settings
        .into_config(data)
        .map_err(|e| crate::i18n::config_error(lang, &e))?;
    let data = config.data_dir.as_path();
    if !data.exists() {
        return Err(data_dir::missing(lang, data));
    }
    if !crate::identity::initialised(data) {
        return Err(data_dir::not_initialised(lang, data));
    }
    let shutdown = shutdown_signal()?;
    crate::runtime::run(config, shutdown)
        .await
        .map_err(|e| match e {
            crate::runtime::NodeFailure::Identity(e) => body_key::explain(lang, &e),
            crate::runtime::NodeFailure::PortTaken { addr, .. } if lang == Lang::Zh => format!(
                "无法监听 {addr}：该端口已被另一个进程（可能是另一个 `confer run`）占用；请先停止该进程，或用 --listen 另选端口"
            ),
            crate::runtime::NodeFailure::Metrics { addr, source } if lang == Lang::Zh => {
                let why = match source.kind() {
                    std::io::ErrorKind::AddrInUse => "该端口已被另一个进程占用",
                    std::io::ErrorKind::AddrNotAvailable => "本机没有这个地址",
                    std::io::ErrorKind::PermissionDenied => "没有权限监听该端口",
                    _ => "系统拒绝了监听",
                };
                format!("无法在 {addr} 上提供监控指标（--metrics）：{why}")
            }
            e => ops::store_failure(lang, &e).unwrap_or_else(|| e.to_string()),
        })
}

async fn relay(data: &Path, listen: Vec<Multiaddr>, json: bool, lang: Lang) -> Result<(), String> {
    let listen = if listen.is_empty() {
        Config::new(data).listen
    } else {
        listen
    };
    let shutdown = shutdown_signal()?;
    crate::relay::run(data, &listen, shutdown, |relay| {
        let addresses: Vec<String> = relay.addresses.iter().map(ToString::to_string).collect();
        if json {
            let _ = print_json(&serde_json::json!({
                "peer": relay.peer_id.to_string(),
                "listen": addresses,
            }));
        } else {
            println!(
                "{}",
                lang.pick(
                    "Relay running. Nodes behind NAT start with `confer run --relay ADDRESS`, and their partners add `ADDRESS/p2p-circuit/p2p/THEIR_PEER_ID`:",
                    "中继已运行。位于 NAT 之后的节点以 `confer run --relay 地址` 启动，其合作方添加 `地址/p2p-circuit/p2p/该节点ID`："
                )
            );
            for a in &addresses {
                println!("  {a}");
            }
        }
    })
    .await
    .map_err(|e| e.to_string())
}

/// Registers SIGINT and SIGTERM handlers *now* (so a signal during start-up is held, not
/// fatal) and returns a future that resolves on the first of them.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
        let mut interrupt =
            signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn connect(data: &Path, lang: Lang) -> Result<Client, String> {
    Client::from_data_dir(data).map_err(|e| e.explain(lang, data))
}

/// The full id of the agenda `input` names: a full id as given, or the one agenda id on
/// this node that `input` is a prefix of.
async fn agenda_id(
    client: &Client,
    input: &str,
    lang: Lang,
    data: &Path,
) -> Result<String, String> {
    let input = input.trim();
    if ids::is_full(input) {
        return Ok(input.to_ascii_lowercase());
    }
    let explain = |e: ids::PrefixError| e.explain(lang, IdKind::Agenda, input);
    ids::check_prefix(input).map_err(explain)?;
    let list: Vec<AgendaSummary> = client
        .get("/v1/agendas")
        .await
        .map_err(|e| e.explain(lang, data))?;
    ids::resolve_prefix(input, list.iter().map(|a| a.id.as_str()))
        .map(str::to_owned)
        .map_err(explain)
}

/// The full body ids `inputs` name: full ids as given (the node checks that they are
/// trusted), prefixes resolved among the trusted bodies of the connected peers.
async fn body_ids(
    client: &Client,
    inputs: Vec<String>,
    lang: Lang,
    data: &Path,
) -> Result<Vec<String>, String> {
    let mut status: Option<StatusView> = None;
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let input = input.trim();
        if ids::is_full(input) {
            out.push(input.to_ascii_lowercase());
            continue;
        }
        let explain = |e: ids::PrefixError| e.explain(lang, IdKind::TrustedBody, input);
        ids::check_prefix(input).map_err(explain)?;
        if status.is_none() {
            status = Some(
                client
                    .get("/v1/status")
                    .await
                    .map_err(|e| e.explain(lang, data))?,
            );
        }
        let candidates = status
            .iter()
            .flat_map(|s| &s.trusted)
            .map(|b| b.id.as_str());
        out.push(
            ids::resolve_prefix(input, candidates)
                .map(str::to_owned)
                .map_err(explain)?,
        );
    }
    Ok(out)
}

async fn agenda(data: &Path, command: AgendaCommand, json: bool, lang: Lang) -> Result<(), String> {
    let client = connect(data, lang)?;
    let explain = |e: ClientError| e.explain(lang, data);
    match command {
        AgendaCommand::New {
            title,
            from_topic,
            summary,
            with,
            as_member,
        } => {
            let ctx = records::Ctx::new(connect(data, lang)?, data, json, lang);
            let topic = match &from_topic {
                Some(t) => Some(ledger::topic_for_agenda(&ctx, t).await?),
                None => None,
            };
            let title = match (title, &topic) {
                (Some(title), _) => title,
                (None, Some(topic)) => topic.get("title").to_owned(),
                (None, None) => return Err(lang.pick("give --title", "请给出 --title").to_owned()),
            };
            let summary = summary.or_else(|| {
                topic
                    .as_ref()
                    .map(|t| t.get("summary").to_owned())
                    .filter(|s| !s.is_empty())
            });
            let with = body_ids(&client, with, lang, data).await?;
            let as_member = match as_member {
                Some(m) => Some(member::resolve(&client, &m, lang, data).await?),
                None => None,
            };
            let created: Created = client
                .post(
                    "/v1/agendas",
                    &NewAgenda {
                        title,
                        summary,
                        with,
                        topic: topic.as_ref().map(|t| t.id.clone()),
                        as_member,
                    },
                )
                .await
                .map_err(explain)?;
            if let Some(topic) = &topic {
                ledger::link_topic(&ctx, &topic.id, &created.id).await?;
            }
            let reached = delivery::settle(&client, &created.id)
                .await
                .map_err(explain)?;
            if json {
                print_json(&serde_json::json!({ "id": created.id, "delivery": reached }))
            } else {
                let first = format!(
                    "{} {}",
                    lang.pick(
                        "Created joint agenda (saved):",
                        "已创建联动协商议题（已保存）："
                    ),
                    created.id
                );
                print!("{}", delivery::after_write(&first, &reached, lang));
                Ok(())
            }
        }
        AgendaCommand::Edit(EditArgs {
            id,
            title,
            summary,
            as_member,
        }) => {
            if title.is_none() && summary.is_none() {
                return Err(lang
                    .pick(
                        "nothing to change: give --title or --summary",
                        "没有要修改的内容：请给出 --title 或 --summary",
                    )
                    .to_owned());
            }
            let id = agenda_id(&client, &id, lang, data).await?;
            let as_member = match as_member {
                Some(m) => Some(member::resolve(&client, &m, lang, data).await?),
                None => None,
            };
            client
                .patch(
                    &format!("/v1/agendas/{id}"),
                    &EditAgenda {
                        title,
                        summary,
                        as_member,
                    },
                )
                .await
                .map_err(explain)?;
            let reached = delivery::settle(&client, &id).await.map_err(explain)?;
            if json {
                print_json(&serde_json::json!({ "id": id, "saved": true, "delivery": reached }))
            } else {
                let first = format!(
                    "{} {id}",
                    lang.pick("Saved (durable):", "已保存（已落盘）：")
                );
                print!("{}", delivery::after_write(&first, &reached, lang));
                Ok(())
            }
        }
        AgendaCommand::List => {
            let list: Vec<AgendaSummary> = client.get("/v1/agendas").await.map_err(explain)?;
            if json {
                print_json(&list)
            } else {
                print!("{}", render::agenda_list(&list, lang));
                Ok(())
            }
        }
        AgendaCommand::Accept { id } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            client
                .post_empty(&format!("/v1/agendas/{id}/accept"), &serde_json::json!({}))
                .await
                .map_err(explain)?;
            if json {
                print_json(&serde_json::json!({ "id": id, "accepted": true }))
            } else {
                println!(
                    "{} {id}",
                    lang.pick(
                        "Accepted; syncing with the participating bodies:",
                        "已接受邀请，正在与参与机构同步："
                    )
                );
                Ok(())
            }
        }
        AgendaCommand::Invite {
            id,
            body,
            as_member,
        } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            let body = body_ids(&client, vec![body], lang, data)
                .await?
                .pop()
                .unwrap_or_default();
            membership(
                &client,
                &id,
                "invite",
                Some(body),
                None,
                as_member,
                json,
                lang,
                data,
            )
            .await
        }
        AgendaCommand::Consent {
            id,
            change,
            as_member,
        } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            membership(
                &client,
                &id,
                "consent",
                None,
                Some(change),
                as_member,
                json,
                lang,
                data,
            )
            .await
        }
        AgendaCommand::Withdraw {
            id,
            change,
            as_member,
        } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            membership(
                &client,
                &id,
                "withdraw",
                None,
                Some(change),
                as_member,
                json,
                lang,
                data,
            )
            .await
        }
        AgendaCommand::Remove {
            id,
            body,
            as_member,
        } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            // A member body by name, full id or unique prefix of 8+ hex characters.
            let view: AgendaView = client
                .get(&format!("/v1/agendas/{id}?records="))
                .await
                .map_err(explain)?;
            let body = records::member_body(lang, &view, &body)?;
            membership(
                &client,
                &id,
                "remove",
                Some(body),
                None,
                as_member,
                json,
                lang,
                data,
            )
            .await
        }
        AgendaCommand::Leave { id, as_member } => {
            let id = agenda_id(&client, &id, lang, data).await?;
            membership(
                &client, &id, "leave", None, None, as_member, json, lang, data,
            )
            .await
        }
        AgendaCommand::Show { id, records } => {
            let listed = records
                .as_deref()
                .map(|list| render_workflow::record_collections(lang, list))
                .transpose()?;
            let id = agenda_id(&client, &id, lang, data).await?;
            // Checked above: the list holds only collection names.
            let path = |list: Option<&[&str]>| match list {
                None => format!("/v1/agendas/{id}"),
                Some(list) => format!("/v1/agendas/{id}?records={}", list.join(",")),
            };
            if json {
                let view: AgendaView = client
                    .get(&path(listed.as_deref()))
                    .await
                    .map_err(explain)?;
                return print_json(&view);
            }
            let view: AgendaView = match &listed {
                Some(list) => client.get(&path(Some(list))).await.map_err(explain)?,
                None => {
                    // The counts first: an agenda of thousands of records is not listed.
                    let counted: AgendaView =
                        client.get(&path(Some(&[]))).await.map_err(explain)?;
                    let total: usize = counted.record_counts.values().sum();
                    if total <= render_workflow::LIST_ALL_UP_TO {
                        client.get(&path(None)).await.map_err(explain)?
                    } else {
                        counted
                    }
                }
            };
            print!("{}", render::agenda(&view, lang));
            print!("{}", render_workflow::records(&view, lang));
            if listed.is_none() && view.records_listed.is_some() {
                print!("{}", render_workflow::record_counts(&view, lang));
            }
            Ok(())
        }
        AgendaCommand::Host(args) => {
            let ctx = records::Ctx::new(client, data, json, lang);
            workflow::host(&ctx, args).await
        }
        AgendaCommand::Preselect(args) => {
            let ctx = records::Ctx::new(client, data, json, lang);
            workflow::decide(&ctx, args, false).await
        }
        AgendaCommand::Confirm(args) => {
            let ctx = records::Ctx::new(client, data, json, lang);
            workflow::decide(&ctx, args, true).await
        }
    }
}

/// `agenda invite|consent|withdraw|remove|leave`: one request, the change's id back.
#[allow(clippy::too_many_arguments)]
async fn membership(
    client: &Client,
    id: &str,
    what: &str,
    body: Option<String>,
    change: Option<String>,
    as_member: Option<String>,
    json: bool,
    lang: Lang,
    data: &Path,
) -> Result<(), String> {
    let as_member = match as_member {
        Some(m) => Some(member::resolve(client, &m, lang, data).await?),
        None => None,
    };
    let answer: crate::api::ChangeId = client
        .post(
            &format!("/v1/agendas/{id}/{what}"),
            &crate::api::MembershipRequest {
                body,
                change,
                as_member,
            },
        )
        .await
        .map_err(|e| e.explain(lang, data))?;
    if json {
        return print_json(&answer);
    }
    let said = match what {
        "invite" => lang.pick(
            "Proposed, with this body's consent; it takes effect when every member body consents (`confer agenda show` lists who still must). Change:",
            "已提出并代表本机构同意；待所有成员机构同意后生效（`confer agenda show` 列出尚待同意的机构）。变更编号：",
        ),
        "consent" => lang.pick("Consented for this body to change", "已代表本机构同意变更"),
        "withdraw" => lang.pick(
            "Took back this body's consent (it may now consent to another change) to change",
            "已撤回本机构的同意（此后可同意其他变更），变更编号：",
        ),
        "remove" => lang.pick(
            "Proposed, with this body's consent; the body is removed when every other member body consents. Change:",
            "已提出并代表本机构同意；其他所有成员机构同意后，该机构即被移除。变更编号：",
        ),
        _ => lang.pick(
            "This body has left the agenda; what it wrote stays, and it is sent nothing new. Change:",
            "本机构已退出该议题；已写入的内容保留，此后不再收到新内容。变更编号：",
        ),
    };
    println!("{said} {}", answer.change);
    Ok(())
}
