//! `confer member add|list|revoke|import` and `confer sign-request`: this body's people,
//! their keys and certificates, and the request files that let a body key kept on another
//! machine certify or revoke them (format in `docs/request-files.md`).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use confer_protocol::revocation::{Revocation, Scope};
use confer_protocol::text::{display_line, is_clean_name};
use confer_protocol::{BodyId, Certificate, PublicKey, Role, SecretKey};

use super::client::Client;
use super::{body_key, connect, ids, print_json, render};
use crate::api::{KeyRequest, RevocationsRequest};
use crate::i18n::Lang;
use crate::identity::members::{self, MemberError, Request, RequestFile, Signed, SignedFile};
use crate::identity::{self as id, IdentityError};
use crate::views::{MemberView, Reach};

const REQUEST_VERSION: u32 = 1;

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Give a person of this body a member key and certificate on this node.
    Add {
        /// The person's name (unique within the body), e.g. 张三.
        #[arg(long)]
        name: String,
        /// member (委员), staff (工作人员), secretary-general (秘书长), chair (主席) or
        /// vice-chair (副主席).
        #[arg(long)]
        role: Role,
        /// The key may sign joint outcomes for the body.
        #[arg(long)]
        can_sign: bool,
        /// The body key is on another machine: write what it must sign to FILE (then run
        /// `confer sign-request FILE` there and `confer member import` here).
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
    },
    /// List this body's member keys on this node, with role, signing right and state.
    List,
    /// Revoke a member key: its entries so far stay, nothing later counts, on every node.
    Revoke {
        /// The member's name, or its key (a unique prefix of 8+ hex characters will do).
        member: String,
        /// The body key is on another machine: write what it must sign to FILE. The key
        /// stops writing on this node at once.
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
    },
    /// Resolve a fork: a member key of this body signed two different entries at one seq
    /// in an agenda (see `confer status`); name the one that stands. Every member node
    /// then keeps that side; the key writes nothing more there.
    ResolveFork {
        /// The member's name, or its key (a unique prefix of 8+ hex characters will do).
        member: String,
        /// The agenda (id, or a unique prefix of 8+ hex characters).
        #[arg(long)]
        agenda: String,
        /// The change hash of the entry that stands (as `confer status` lists it; a unique
        /// prefix of 8+ hex characters will do).
        #[arg(long, value_name = "CHANGE_HASH")]
        keep: String,
        /// The body key is on another machine: write what it must sign to FILE.
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
    },
    /// Import what `confer sign-request` signed (a member certificate or revocations).
    Import {
        /// The signed file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Revoke one of this body's nodes (its key lost or stolen): partners refuse it and
    /// disconnect it. Run it on another node of the body.
    Revoke {
        /// The node's peer id (12D3Koo…).
        peer: String,
        /// The body key is on another machine: write what it must sign to FILE.
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
    },
}

pub async fn execute_node(
    data: &Path,
    command: NodeCommand,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let NodeCommand::Revoke { peer, request } = command;
    let client = connect(data, lang)?;
    let peer_id: libp2p::PeerId = peer.trim().parse().map_err(|e| match lang {
        Lang::En => format!("{peer} is not a peer id: {e}"),
        Lang::Zh => {
            let _ = e;
            format!("{peer} 不是节点编号（应形如 12D3KooW…，见 `confer status`）")
        }
    })?;
    let key = crate::net::peer_ed25519_key(&peer_id)
        .map(PublicKey::from_bytes)
        .ok_or_else(|| {
            lang.pick(
                "that peer id holds no Ed25519 key",
                "该节点编号中没有 Ed25519 密钥",
            )
            .to_owned()
        })?;
    let status: crate::views::StatusView = client
        .get("/v1/status")
        .await
        .map_err(|e| e.explain(lang, data))?;
    if status.peer_id == peer_id.to_string() {
        return Err(lang
            .pick(
                "that is this node: revoke it from another node of the body",
                "这是本节点：请在本机构的另一个节点上撤销它",
            )
            .to_owned());
    }
    let agendas: Vec<crate::views::AgendaSummary> = client
        .get("/v1/agendas")
        .await
        .map_err(|e| e.explain(lang, data))?;
    // A node key writes nothing: every space of the body gets a cutoff of 0 (it reaches
    // the space's members with it), and spaces created later are covered too.
    let reach = Reach {
        body: status.body.id.clone(),
        key: key.to_string(),
        spaces: agendas.iter().map(|a| (a.id.clone(), 0)).collect(),
        since: crate::runtime::unix_now(),
    };
    let unsigned = reach.revocations()?;
    if let Some(path) = request {
        let body: BodyId = reach.body.parse().map_err(|e| format!("{e}"))?;
        write_request(
            &path,
            Request::Revocation {
                body,
                key,
                revocations: unsigned.iter().map(|r| hex::encode(r.encode())).collect(),
            },
            lang,
        )?;
        return if json {
            print_json(&serde_json::json!({ "request": path.display().to_string() }))
        } else {
            println!(
                "{} {}",
                lang.pick(
                    "Node revocation request written; sign it where the body key is (`confer sign-request FILE`), then `confer member import` the answer here:",
                    "节点撤销请求已写入；请在保存机构密钥的电脑上签署（`confer sign-request FILE`），再在本机 `confer member import` 导入签署结果：",
                ),
                path.display()
            );
            Ok(())
        };
    }
    let secret = body_secret(data, lang)?;
    let signed = unsigned
        .into_iter()
        .map(|r| r.sign(&secret).map(|r| hex::encode(r.encode())))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    send_revocations(&client, signed, lang, data).await?;
    if json {
        print_json(&serde_json::json!({ "revoked_node": peer_id.to_string() }))
    } else {
        println!(
            "{} {peer_id}",
            lang.pick(
                "Revoked node; partners that hear of it refuse and disconnect it:",
                "已撤销该节点；收到撤销声明的合作机构将拒绝并断开它：",
            )
        );
        Ok(())
    }
}

/// Resolves `--as NAME_OR_KEY` (or `member revoke`'s argument) to a full member key.
pub async fn resolve(
    client: &Client,
    input: &str,
    lang: Lang,
    data: &Path,
) -> Result<String, String> {
    let list: Vec<MemberView> = client
        .get("/v1/members")
        .await
        .map_err(|e| e.explain(lang, data))?;
    let input = input.trim();
    if let Some(m) = list.iter().find(|m| m.name == input) {
        return Ok(m.key.clone());
    }
    ids::resolve_prefix(input, list.iter().map(|m| m.key.as_str()))
        .map(str::to_owned)
        .map_err(|e| {
            // Not a key at all: most likely a name that no member has.
            let e = match e {
                ids::PrefixError::NotHex => ids::PrefixError::NoMatch,
                other => other,
            };
            e.explain(lang, ids::IdKind::Member, input)
        })
}

pub async fn execute(
    data: &Path,
    command: MemberCommand,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    match command {
        MemberCommand::Add {
            name,
            role,
            can_sign,
            request,
        } => add(data, name.trim(), role, can_sign, request, json, lang).await,
        MemberCommand::List => {
            let client = connect(data, lang)?;
            let list: Vec<MemberView> = client
                .get("/v1/members")
                .await
                .map_err(|e| e.explain(lang, data))?;
            if json {
                print_json(&list)
            } else {
                print!("{}", render::member_list(&list, lang));
                Ok(())
            }
        }
        MemberCommand::Revoke { member, request } => {
            revoke(data, &member, request, json, lang).await
        }
        MemberCommand::Import { file } => import(data, &file, json, lang).await,
        MemberCommand::ResolveFork {
            member,
            agenda,
            keep,
            request,
        } => resolve_fork(data, &member, &agenda, &keep, request, json, lang).await,
    }
}

fn member_error(lang: Lang, e: MemberError) -> String {
    match (e, lang) {
        (MemberError::NameTaken(n), Lang::Zh) => {
            format!(
                "本机构已有名为 {} 的成员；成员姓名在本机构内必须唯一",
                display_line(&n)
            )
        }
        (MemberError::NoPendingKey(k), Lang::Zh) => format!(
            "本节点上没有为 {k} 生成的密钥（请先在本节点运行 `confer member add --request`）"
        ),
        (MemberError::NotOurs, Lang::Zh) => "该证书不属于本机构，或不是成员证书".to_owned(),
        (MemberError::TooMany(n), Lang::Zh) => format!(
            "本机构在本节点已有 {n} 个成员密钥，这是一个机构在一个议题中可使用的上限（已撤销的密钥也计算在内）"
        ),
        (MemberError::NotAsked, Lang::Zh) => {
            "该证书与为此密钥提出的请求不符（姓名、职务、签署权或机构名称不同）；未作安装".to_owned()
        }
        (MemberError::Identity(e), _) => body_key::explain(lang, &e),
        (e, Lang::En) => e.to_string(),
    }
}

/// The body key, for signing here: plaintext, or sealed under a passphrase.
fn body_secret(data: &Path, lang: Lang) -> Result<SecretKey, String> {
    let here = id::body_key_here(data);
    let passphrase = if !here.plain && here.encrypted {
        Some(body_key::passphrase(lang, &id::body_key_enc_path(data))?)
    } else {
        None
    };
    id::load_body_key(data, passphrase.as_ref()).map_err(|e| match e {
        IdentityError::BodyKeyOffline { .. } => lang
            .pick(
                "the body key is not on this machine: add --request FILE, sign FILE with `confer sign-request` where the body key is, and bring the answer back with `confer member import`",
                "本机没有机构密钥：请加 --request FILE，在保存机构密钥的电脑上用 `confer sign-request` 签署 FILE，再用 `confer member import` 导入签署结果",
            )
            .to_owned(),
        other => body_key::explain(lang, &other),
    })
}

/// Tells a running node to read the body-key chain in `identity.json` again (and its
/// peers, with a fresh hello); fine if no node runs.
pub async fn reload_chain(data: &Path) {
    if let Ok(client) = Client::from_data_dir(data) {
        let _ = client
            .post_empty("/v1/body/chain", &serde_json::json!({}))
            .await;
    }
}

/// Tells a running node to read `members.json` again; fine if no node runs.
async fn reload(data: &Path) {
    if let Ok(client) = Client::from_data_dir(data) {
        let _: Result<Vec<MemberView>, _> = client
            .post("/v1/members/reload", &serde_json::json!({}))
            .await;
    }
}

fn write_file<T: serde::Serialize>(path: &Path, value: &T, lang: Lang) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| match lang {
        Lang::En => format!("cannot write {}: {e}", path.display()),
        Lang::Zh => format!("无法写入 {}：{e}", path.display()),
    })
}

/// Writes a request file (what the body key must sign) for `confer sign-request`.
fn write_request(path: &Path, request: Request, lang: Lang) -> Result<(), String> {
    write_file(
        path,
        &RequestFile {
            confer: "request".into(),
            version: REQUEST_VERSION,
            request,
        },
        lang,
    )
}

fn read_file<T: serde::de::DeserializeOwned>(path: &Path, lang: Lang) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| match lang {
        Lang::En => format!("cannot read {}: {e}", path.display()),
        Lang::Zh => format!("无法读取 {}：{e}", path.display()),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| match lang {
        Lang::En => format!(
            "{} is not a confer request or answer file: {e}",
            path.display()
        ),
        Lang::Zh => format!("{} 不是 confer 请求或签署结果文件：{e}", path.display()),
    })
}

async fn add(
    data: &Path,
    name: &str,
    role: Role,
    can_sign: bool,
    request: Option<PathBuf>,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    if !is_clean_name(name) {
        return Err(super::unclean(lang, "--name", name));
    }
    let now = crate::runtime::unix_now();
    if let Some(path) = request {
        let req = members::new_member_request(data, name, role, can_sign, now)
            .map_err(|e| member_error(lang, e))?;
        let key = req.key;
        write_request(&path, Request::Member(req), lang)?;
        return if json {
            print_json(
                &serde_json::json!({ "key": key.to_string(), "request": path.display().to_string() }),
            )
        } else {
            println!(
                "{} {}\n{} {key}",
                lang.pick(
                    "Request written; sign it where the body key is (`confer sign-request FILE`), then `confer member import` the answer here:",
                    "请求已写入；请在保存机构密钥的电脑上签署（`confer sign-request FILE`），再在本机 `confer member import` 导入签署结果：",
                ),
                path.display(),
                lang.pick("New member key:", "新成员密钥："),
            );
            Ok(())
        };
    }
    let secret = body_secret(data, lang)?;
    let cert = members::add_member(data, &secret, name, role, can_sign, now)
        .map_err(|e| member_error(lang, e))?;
    reload(data).await;
    added(&cert, json, lang)
}

fn added(cert: &Certificate, json: bool, lang: Lang) -> Result<(), String> {
    if json {
        return print_json(&serde_json::json!({ "key": cert.key.to_string() }));
    }
    println!(
        "{} {}{}{}{} {}",
        lang.pick("Added member", "已添加成员"),
        display_line(cert.subject_name()),
        lang.pick(" (", "（"),
        cert.role()
            .map(|r| render::role_name(r, lang))
            .unwrap_or_default(),
        lang.pick(")", "）"),
        cert.key
    );
    Ok(())
}

async fn revoke(
    data: &Path,
    member: &str,
    request: Option<PathBuf>,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let client = connect(data, lang)?;
    let key = resolve(&client, member, lang, data).await?;
    // Ask for the body key before the member is stopped, so a wrong passphrase changes
    // nothing.
    let secret = match request {
        None => Some(body_secret(data, lang)?),
        Some(_) => None,
    };
    let reach: Reach = client
        .post("/v1/members/freeze", &KeyRequest { key: key.clone() })
        .await
        .map_err(|e| e.explain(lang, data))?;
    let unsigned = reach.revocations()?;
    match (secret, request) {
        (Some(secret), _) => {
            let signed = unsigned
                .into_iter()
                .map(|r| r.sign(&secret).map(|r| hex::encode(r.encode())))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            send_revocations(&client, signed, lang, data).await?;
            if json {
                print_json(&serde_json::json!({ "revoked": key, "spaces": reach.spaces }))
            } else {
                println!(
                    "{} {key}\n{}",
                    lang.pick("Revoked member key", "已撤销成员密钥"),
                    lang.pick(
                        "Its entries so far stay; nothing it signs from now on counts on any node. The revocation is sent to every participating body.",
                        "其此前的条目保留；此后它签署的任何内容在所有节点上均不再有效。撤销声明已发送给各参与机构。",
                    )
                );
                Ok(())
            }
        }
        (None, Some(path)) => {
            let body: BodyId = reach.body.parse().map_err(|e| format!("{e}"))?;
            let key: PublicKey = reach.key.parse().map_err(|e| format!("{e}"))?;
            write_request(
                &path,
                Request::Revocation {
                    body,
                    key,
                    revocations: unsigned.iter().map(|r| hex::encode(r.encode())).collect(),
                },
                lang,
            )?;
            if json {
                print_json(
                    &serde_json::json!({ "stopped": key.to_string(), "request": path.display().to_string() }),
                )
            } else {
                println!(
                    "{} {key}\n{} {}",
                    lang.pick(
                        "This node no longer writes with member key",
                        "本节点已停止使用成员密钥",
                    ),
                    lang.pick(
                        "Revocation request written; sign it where the body key is (`confer sign-request FILE`), then `confer member import` the answer here:",
                        "撤销请求已写入；请在保存机构密钥的电脑上签署（`confer sign-request FILE`），再在本机 `confer member import` 导入签署结果：",
                    ),
                    path.display()
                );
                Ok(())
            }
        }
        (None, None) => unreachable!("a body key or a request file"),
    }
}

#[allow(clippy::too_many_arguments)]
async fn resolve_fork(
    data: &Path,
    member: &str,
    agenda: &str,
    keep: &str,
    request: Option<PathBuf>,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let client = connect(data, lang)?;
    let key = resolve(&client, member, lang, data).await?;
    let space = super::agenda_id(&client, agenda, lang, data).await?;
    let status: crate::views::StatusView = client
        .get("/v1/status")
        .await
        .map_err(|e| e.explain(lang, data))?;
    let Some(fork) = status
        .equivocations
        .iter()
        .find(|e| e.space == space && e.author == key)
    else {
        return Err(match lang {
            Lang::En => format!("this node holds no evidence that member key {key} forked in agenda {space} (see `confer status`)"),
            Lang::Zh => format!("本节点没有成员密钥 {key} 在议题 {space} 中分叉的证据（见 `confer status`）"),
        });
    };
    let stands = ids::resolve_prefix(keep, fork.entries.iter().map(|e| e.change_hash.as_str()))
        .map_err(|_| match lang {
            Lang::En => format!(
                "--keep must name one of the two entries at seq {}: {}",
                fork.seq,
                fork.entries
                    .iter()
                    .map(|e| e.change_hash.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Lang::Zh => format!(
                "--keep 必须是序号 {} 上两条条目之一：{}",
                fork.seq,
                fork.entries
                    .iter()
                    .map(|e| e.change_hash.as_str())
                    .collect::<Vec<_>>()
                    .join(" 或 ")
            ),
        })?;
    let mut hash = [0u8; 32];
    hex::decode_to_slice(stands, &mut hash).map_err(|e| e.to_string())?;
    let body: BodyId = status.body.id.parse().map_err(|e| format!("{e}"))?;
    let decision = Revocation::unsigned(
        body,
        key.parse::<PublicKey>().map_err(|e| format!("{e}"))?,
        crate::runtime::unix_now(),
        Scope::Fork {
            space: space.parse()?,
            seq: fork.seq,
            stands: hash,
        },
    );
    if let Some(path) = request {
        write_request(
            &path,
            Request::Revocation {
                body,
                key: decision.key,
                revocations: vec![hex::encode(decision.encode())],
            },
            lang,
        )?;
        return if json {
            print_json(&serde_json::json!({ "request": path.display().to_string() }))
        } else {
            println!(
                "{} {}",
                lang.pick(
                    "Fork resolution request written; sign it where the body key is (`confer sign-request FILE`), then `confer member import` the answer here:",
                    "分叉处理请求已写入；请在保存机构密钥的电脑上签署（`confer sign-request FILE`），再在本机 `confer member import` 导入签署结果：",
                ),
                path.display()
            );
            Ok(())
        };
    }
    let secret = body_secret(data, lang)?;
    let signed = decision.sign(&secret).map_err(|e| e.to_string())?;
    send_revocations(&client, vec![hex::encode(signed.encode())], lang, data).await?;
    if json {
        print_json(
            &serde_json::json!({ "space": space, "key": key, "seq": fork.seq, "stands": stands }),
        )
    } else {
        println!(
            "{} {stands}
{}",
            lang.pick("Fork resolved; the entry that stands:", "分叉已处理，保留的条目："),
            lang.pick(
                "Every participating body keeps this side; the key writes nothing more in this agenda.",
                "各参与机构均保留这一条；该密钥在本议题中不能再写入。",
            )
        );
        Ok(())
    }
}

async fn send_revocations(
    client: &Client,
    revocations: Vec<String>,
    lang: Lang,
    data: &Path,
) -> Result<(), String> {
    client
        .post_empty("/v1/revocations", &RevocationsRequest { revocations })
        .await
        .map_err(|e| e.explain(lang, data))
}

async fn import(data: &Path, file: &Path, json: bool, lang: Lang) -> Result<(), String> {
    let signed: SignedFile = read_file(file, lang)?;
    if signed.confer != "signed" || signed.version != REQUEST_VERSION {
        return Err(match lang {
            Lang::En => format!(
                "{} is not an answer of `confer sign-request` (version {REQUEST_VERSION})",
                file.display()
            ),
            Lang::Zh => format!(
                "{} 不是 `confer sign-request` 的签署结果（版本 {REQUEST_VERSION}）",
                file.display()
            ),
        });
    }
    match signed.signed {
        Signed::Member { certificate } => {
            let raw = hex::decode(certificate.trim()).map_err(|e| e.to_string())?;
            let cert = Certificate::decode(&raw).map_err(|e| e.to_string())?;
            members::install_member(data, cert.clone()).map_err(|e| member_error(lang, e))?;
            reload(data).await;
            added(&cert, json, lang)
        }
        Signed::BodyKey { certificate } => {
            let raw = hex::decode(certificate.trim()).map_err(|e| e.to_string())?;
            let cert = Certificate::decode(&raw).map_err(|e| e.to_string())?;
            id::append_body_key(data, &cert).map_err(|e| body_key::explain(lang, &e))?;
            reload_chain(data).await;
            if json {
                print_json(&serde_json::json!({ "body_key": cert.key.to_string() }))
            } else {
                println!(
                    "{} {}",
                    lang.pick(
                        "Recorded the body's new key; partners honour it from this node's next hello:",
                        "已记录本机构的新机构密钥；各合作机构从本节点下一次握手起予以认可：",
                    ),
                    cert.key
                );
                Ok(())
            }
        }
        Signed::Revocation { revocations } => {
            let client = connect(data, lang)?;
            let count = revocations.len();
            send_revocations(&client, revocations, lang, data).await?;
            if json {
                print_json(&serde_json::json!({ "revocations": count }))
            } else {
                println!(
                    "{}",
                    lang.pick(
                        "Revocation imported and sent to every participating body.",
                        "撤销声明已导入，并已发送给各参与机构。",
                    )
                );
                Ok(())
            }
        }
    }
}

/// `confer sign-request FILE --out ANSWER`: on the machine with the body key.
pub fn sign_request(
    data: &Path,
    file: &Path,
    out: &Path,
    yes: bool,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let request: RequestFile = read_file(file, lang)?;
    if request.confer != "request" || request.version != REQUEST_VERSION {
        return Err(match lang {
            Lang::En => format!(
                "{} is not a confer request file (version {REQUEST_VERSION})",
                file.display()
            ),
            Lang::Zh => format!(
                "{} 不是 confer 请求文件（版本 {REQUEST_VERSION}）",
                file.display()
            ),
        });
    }
    // The request must be for the body whose key is here.
    let here_body = crate::identity::body_of(data).map_err(|e| body_key::explain(lang, &e))?;
    let asked_body = match &request.request {
        Request::Member(m) => m.body,
        Request::Revocation { body, .. } => *body,
    };
    if asked_body != here_body {
        return Err(match lang {
            Lang::En => format!("{} asks for body {asked_body}, but the body key here is body {here_body}'s; nothing signed", file.display()),
            Lang::Zh => format!("{} 是机构 {asked_body} 的请求，而本机的机构密钥属于机构 {here_body}；未签署", file.display()),
        });
    }
    // Show everything that will be signed, before the body key is opened.
    let what = describe_request(&request.request, lang)?;
    eprintln!(
        "{}\n{what}",
        lang.pick("The body key is asked to sign:", "将用机构密钥签署：")
    );
    if !yes {
        if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Err(lang
                .pick(
                    "nothing signed: check what is shown above and run again with --yes (or in a terminal, to be asked)",
                    "未签署：请核对上面列出的内容，再加 --yes 重新运行（或在终端中运行，以便确认）",
                )
                .to_owned());
        }
        eprint!("{}", lang.pick("Sign this? [y/N] ", "确认签署？[y/N] "));
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| e.to_string())?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "是") {
            return Err(lang.pick("nothing signed", "未签署").to_owned());
        }
    }
    let secret = body_secret(data, lang)?;
    let signed = members::sign_request(&request.request, &secret)?;
    write_file(
        out,
        &SignedFile {
            confer: "signed".into(),
            version: REQUEST_VERSION,
            signed,
        },
        lang,
    )?;
    if json {
        print_json(&serde_json::json!({ "signed": out.display().to_string() }))
    } else {
        println!(
            "{} {what}\n→ {}",
            lang.pick("Signed", "已签署"),
            out.display()
        );
        Ok(())
    }
}

/// Every statement a request asks the body key to sign, one line each, for people.
fn describe_request(request: &Request, lang: Lang) -> Result<String, String> {
    let mut out = String::new();
    match request {
        Request::Member(m) => {
            let (open, close, sep) = (
                lang.pick(" (", "（"),
                lang.pick(")", "）"),
                lang.pick(", ", "，"),
            );
            out.push_str(&format!(
                "  {} {}{open}{}{}{close}{sep}{} {}{sep}{} {}",
                lang.pick("member certificate for", "成员证书："),
                display_line(&m.name),
                render::role_name(m.role, lang),
                if m.can_sign {
                    lang.pick(", may sign outcomes", "，可代表本机构签署成果")
                } else {
                    ""
                },
                lang.pick("key", "密钥"),
                m.key,
                lang.pick("body", "机构"),
                m.body
            ));
        }
        Request::Revocation {
            key, revocations, ..
        } => {
            for h in revocations {
                let raw = hex::decode(h.trim()).map_err(|e| e.to_string())?;
                let r = Revocation::decode_unverified(&raw).map_err(|e| e.to_string())?;
                let line = match (r.scope, lang) {
                    (Scope::Space { space, up_to }, Lang::En) => format!(
                        "revoke member key {key} in agenda {space}: its entries up to seq {up_to} stay, nothing later counts"
                    ),
                    (Scope::Space { space, up_to }, Lang::Zh) => format!(
                        "撤销成员密钥 {key}（议题 {space}）：序号 {up_to} 及以前的条目保留，此后一概无效"
                    ),
                    (Scope::Later, Lang::En) => format!(
                        "revoke member key {key} in every agenda created after {} (Unix seconds)",
                        r.issued_at
                    ),
                    (Scope::Later, Lang::Zh) => format!(
                        "撤销成员密钥 {key}：在 {}（Unix 秒）之后创建的所有议题中无效",
                        r.issued_at
                    ),
                    (Scope::Fork { space, seq, stands }, Lang::En) => format!(
                        "resolve the fork of member key {key} in agenda {space} at seq {seq}: the entry with change hash {} stands; the key writes nothing more there",
                        hex::encode(stands)
                    ),
                    (Scope::Fork { space, seq, stands }, Lang::Zh) => format!(
                        "处理成员密钥 {key} 在议题 {space} 序号 {seq} 上的分叉：保留变更哈希为 {} 的条目；该密钥在该议题中不能再写入",
                        hex::encode(stands)
                    ),
                };
                out.push_str("  ");
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    Ok(out.trim_end().to_owned())
}
