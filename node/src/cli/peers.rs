//! `confer peer add` and `peer list`, and the remembered peers' lines of `status`: each
//! remembered peer with every address it was added at and its state — connected since
//! when, dialling, or waiting to dial again after the last error (what and when).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use super::client::Client;
use super::render::{text, utc};
use super::{ids, print_json};
use crate::api::AddPeer;
use crate::i18n::Lang;
use crate::views::{BodyView, DialErrorView, RememberedPeerView, StatusView};

/// When a sync exchange with a peer or body last completed, in words.
pub fn last_sync_words(at: Option<u64>, lang: Lang) -> String {
    match at {
        Some(at) => format!("{}{}", lang.pick("last sync: ", "最近同步："), utc(at)),
        None => lang
            .pick(
                "last sync: none since this node started",
                "最近同步：本节点启动以来尚未同步",
            )
            .to_owned(),
    }
}

/// How long `peer add` waits to say whether the first dial connected.
const FIRST_DIAL_WAIT: Duration = Duration::from_secs(5);

macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// One peer as `confer peer list` shows it.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct PeerRow {
    pub peer_id: String,
    /// The addresses it was added with (`peer add`), if remembered.
    pub addresses: Vec<String>,
    pub connected: bool,
    /// For a remembered peer: `connected`, `dialing` or `waiting`.
    pub state: Option<String>,
    pub last_error: Option<DialErrorView>,
    pub next_dial_in: Option<u64>,
    pub body: Option<BodyView>,
    pub trusted: bool,
    /// Unix seconds when a sync exchange with it last completed (since the node started).
    pub last_sync: Option<u64>,
}

/// Remembered and connected peers, from a status view.
pub fn peer_rows(status: &StatusView) -> Vec<PeerRow> {
    let mut rows: Vec<PeerRow> = status
        .peers
        .iter()
        .map(|p| PeerRow {
            peer_id: p.peer_id.clone(),
            addresses: Vec::new(),
            connected: true,
            state: None,
            last_error: None,
            next_dial_in: None,
            body: p.body.clone(),
            trusted: p.trusted,
            last_sync: p.last_sync,
        })
        .collect();
    for r in &status.remembered_peers {
        let row = match rows.iter().position(|row| row.peer_id == r.peer_id) {
            Some(at) => &mut rows[at],
            None => {
                rows.push(PeerRow {
                    peer_id: r.peer_id.clone(),
                    addresses: Vec::new(),
                    connected: false,
                    state: None,
                    last_error: None,
                    next_dial_in: None,
                    body: None,
                    trusted: false,
                    last_sync: None,
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        row.addresses = r.addresses.clone();
        row.state = Some(r.state.clone());
        row.last_error = r.last_error.clone();
        row.next_dial_in = r.next_dial_in;
        row.last_sync = row.last_sync.or(r.last_sync);
    }
    rows.sort_by(|a, b| a.peer_id.cmp(&b.peer_id));
    rows
}

/// A dial error in the operator's language (libp2p's English words only in English).
pub fn dial_error(e: &DialErrorView, lang: Lang) -> String {
    let when = utc(e.at);
    match lang {
        Lang::En => format!("{when}: {}", text(&e.detail)),
        Lang::Zh => {
            let what = match e.kind.as_str() {
                "wrong_peer_id" => "该地址上是另一个节点，节点编号不符：请核对地址末尾的节点编号",
                "refused" => {
                    "连接被拒绝：该端口上没有节点在监听（请核对端口，或对方节点是否在运行）"
                }
                "timeout" => "连接超时：对方不可达（请核对地址和防火墙）",
                "denied" => "本节点的连接限制拒绝了这次连接",
                _ => "无法连接到该地址（请核对地址、网络和对方节点是否在运行）",
            };
            format!("{when}：{what}")
        }
    }
}

/// The state of a remembered peer, in words.
fn state_words(state: &str, next_dial_in: Option<u64>, lang: Lang) -> String {
    match (state, lang) {
        ("connected", _) => lang.pick("connected", "已连接").to_owned(),
        ("dialing", _) => lang.pick("dialling", "正在连接").to_owned(),
        (_, Lang::En) => format!(
            "not connected, next try in {} s",
            next_dial_in.unwrap_or_default()
        ),
        (_, Lang::Zh) => format!("未连接，{} 秒后重试", next_dial_in.unwrap_or_default()),
    }
}

pub fn peer_list(rows: &[PeerRow], lang: Lang) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        put!(
            out,
            "{}",
            lang.pick(
                "No peers. Add one with `confer peer add <address>`.",
                "暂无节点。可用 `confer peer add <地址>` 添加。"
            )
        );
        return out;
    }
    for r in rows {
        let mut state = match &r.state {
            Some(state) => state_words(state, r.next_dial_in, lang),
            None => lang
                .pick("connected (it dialled this node)", "已连接（由对方发起）")
                .to_owned(),
        };
        if r.connected {
            state.push_str(if r.trusted {
                lang.pick(", trusted", "，受信任")
            } else if r.body.is_some() {
                lang.pick(", not trusted", "，未信任")
            } else {
                lang.pick(", not yet identified", "，尚未验证")
            });
        }
        put!(out, "{}  {state}", text(&r.peer_id));
        if let Some(body) = &r.body {
            put!(
                out,
                "    {} {}  {}",
                lang.pick("body:", "机构："),
                ids::full(&body.id),
                body.name.as_deref().map(text).unwrap_or_default()
            );
        }
        for addr in &r.addresses {
            put!(
                out,
                "    {} {}",
                lang.pick("added as:", "添加地址："),
                text(addr)
            );
        }
        if let (false, Some(e)) = (r.connected, &r.last_error) {
            put!(
                out,
                "    {} {}",
                lang.pick("last error:", "最近一次错误："),
                dial_error(e, lang)
            );
        }
        put!(out, "    {}", last_sync_words(r.last_sync, lang));
    }
    out
}

/// The remembered peers' lines of `status`.
pub fn status_lines(peers: &[RememberedPeerView], lang: Lang) -> String {
    let mut out = String::new();
    if peers.is_empty() {
        return out;
    }
    put!(out, "{}", lang.pick("Remembered peers:", "已记录节点："));
    for p in peers {
        put!(
            out,
            "  {}  {}",
            text(&p.peer_id),
            state_words(&p.state, p.next_dial_in, lang)
        );
        for a in &p.addresses {
            put!(out, "      {} {}", lang.pick("at", "地址："), text(a));
        }
        if let (true, Some(e)) = (p.state != "connected", &p.last_error) {
            put!(
                out,
                "      {} {}",
                lang.pick("last error:", "最近一次错误："),
                dial_error(e, lang)
            );
        }
        put!(out, "      {}", last_sync_words(p.last_sync, lang));
    }
    out
}

/// `confer peer add ADDR [--replace]`: remembers it, then says whether the first dial
/// connected (waiting a few seconds) and which other addresses the peer keeps.
pub async fn add(
    client: &Client,
    addr: &libp2p::Multiaddr,
    replace: bool,
    json: bool,
    (lang, data): (Lang, &Path),
) -> Result<(), String> {
    let explain = |e: super::client::ClientError| e.explain(lang, data);
    let peer_id = match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(id)) => id.to_string(),
        _ => String::new(),
    };
    client
        .post_empty(
            "/v1/peers",
            &AddPeer {
                addr: addr.to_string(),
                replace,
            },
        )
        .await
        .map_err(explain)?;
    let started = Instant::now();
    let view = loop {
        let status: StatusView = client.get("/v1/status").await.map_err(explain)?;
        let view = status
            .remembered_peers
            .into_iter()
            .find(|p| p.peer_id == peer_id);
        let settled = view.as_ref().is_none_or(|p| {
            p.state == "connected" || (p.state == "waiting" && p.last_error.is_some())
        });
        if settled || started.elapsed() > FIRST_DIAL_WAIT {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if json {
        return print_json(&serde_json::json!({
            "added": addr.to_string(),
            "peer": view,
        }));
    }
    let addr = addr.to_string();
    println!(
        "{} {}",
        lang.pick(
            "Remembered peer; the node keeps connected to it:",
            "已记录该节点，将保持连接："
        ),
        text(&addr)
    );
    let Some(view) = view else {
        return Ok(());
    };
    let others: Vec<&String> = view.addresses.iter().filter(|a| **a != addr).collect();
    if !others.is_empty() {
        println!(
            "{}",
            lang.pick(
                "It is remembered at these addresses too, and the node dials all of them (`peer add ADDRESS --replace` keeps only ADDRESS):",
                "该节点还记录了以下地址，本节点会同时尝试全部地址（`peer add 地址 --replace` 只保留该地址）："
            )
        );
        for a in others {
            println!("  {}", text(a));
        }
    }
    match (view.state.as_str(), &view.last_error) {
        ("connected", _) => println!("{}", lang.pick("Connected.", "已连接。")),
        (_, Some(e)) => println!(
            "{} {}\n{}",
            lang.pick("Not connected:", "未能连接："),
            dial_error(e, lang),
            lang.pick(
                "The node keeps trying; `confer peer list` shows each try. Check the address and peer id with the other committee.",
                "本节点会继续重试；`confer peer list` 显示每次结果。请与对方政协核对地址和节点编号。"
            )
        ),
        _ => println!(
            "{}",
            lang.pick(
                "Not connected yet; the node keeps trying (`confer peer list` shows how it goes).",
                "尚未连接；本节点会继续尝试（`confer peer list` 显示进展）。"
            )
        ),
    }
    Ok(())
}
