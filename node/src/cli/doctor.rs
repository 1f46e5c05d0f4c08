//! `confer doctor`: checks what an operator would otherwise find out the hard way, and
//! says what to fix — the data directory and its key files' permissions, the body key
//! kept in plaintext on the node, whether the node runs and its ports (or, when it does
//! not run, whether the default ones are free), each remembered peer (the node's own
//! view, and a plain TCP connection from here to each address), free disk, and each
//! connected peer's clock against this machine's (what it said over `/confer/time/1`,
//! [`crate::net::clock`]: a warning past ten seconds, a failure past an hour, when dates
//! may differ by a day; whether an entry counts never depends on a clock).
//!
//! Exit status 0 when nothing failed (warnings allowed), 1 otherwise.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::client::Client;
use super::peers::dial_error;
use super::print_json;
use super::render::text;
use crate::i18n::Lang;
use crate::views::StatusView;

/// Longest a TCP connection to a remembered peer's address may take here.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Free space under which the data directory's file system is a warning.
const LOW_DISK_BYTES: u64 = 1 << 30;

/// One check and its verdict.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// `data_dir`, `key_files`, `body_key`, `node`, `port`, `peer`, `disk`, `clock`.
    pub check: &'static str,
    /// `ok`, `warn`, `fail`, or `skipped`.
    pub status: &'static str,
    pub detail: String,
    /// What to do, if anything.
    pub fix: Option<String>,
}

fn check(check: &'static str, status: &'static str, detail: String, fix: Option<String>) -> Check {
    Check {
        check,
        status,
        detail,
        fix,
    }
}

/// The permission bits group and others hold on `path`.
fn open_bits(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o077)
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files_under(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// The checks on the data directory itself, without the node.
pub fn local_checks(data: &Path, lang: Lang) -> Vec<Check> {
    let mut out = Vec::new();
    let dir = data.display().to_string();
    if !data.is_dir() {
        out.push(check(
            "data_dir",
            "fail",
            super::data_dir::missing(lang, data),
            None,
        ));
        return out;
    }
    if !crate::identity::initialised(data) {
        out.push(check(
            "data_dir",
            "fail",
            super::data_dir::not_initialised(lang, data),
            None,
        ));
        return out;
    }
    match open_bits(data) {
        Some(bits) if bits & 0o022 != 0 => out.push(check(
            "data_dir",
            "warn",
            match lang {
                Lang::En => format!("{dir} can be written by group or others"),
                Lang::Zh => format!("{dir} 可被同组或其他用户写入"),
            },
            Some(format!("chmod go-w {dir}")),
        )),
        _ => out.push(check(
            "data_dir",
            "ok",
            match lang {
                Lang::En => format!("{dir} holds this body's identity"),
                Lang::Zh => format!("{dir} 中有本机构的身份"),
            },
            None,
        )),
    }
    let keys = crate::identity::keys_dir(data);
    let mut files = Vec::new();
    files_under(&keys, &mut files);
    files.sort();
    let open: Vec<String> = files
        .iter()
        .filter(|f| open_bits(f).is_some_and(|b| b != 0))
        .map(|f| f.display().to_string())
        .collect();
    if open.is_empty() {
        out.push(check(
            "key_files",
            "ok",
            match lang {
                Lang::En => format!("{} key files, readable by their owner only", files.len()),
                Lang::Zh => format!("{} 个密钥文件，仅所有者可读", files.len()),
            },
            None,
        ));
    } else {
        out.push(check(
            "key_files",
            "fail",
            match lang {
                Lang::En => format!(
                    "group or others can read {} (`confer run` refuses to start)",
                    open.join(", ")
                ),
                Lang::Zh => format!(
                    "同组或其他用户可读取 {}（`confer run` 会拒绝启动）",
                    open.join("、")
                ),
            },
            Some(format!("chmod 600 {}", open.join(" "))),
        ));
    }
    if keys.join("body.key").exists() {
        out.push(check(
            "body_key",
            "warn",
            lang.pick(
                "the body key is kept in plaintext on the node (keys/body.key): whoever copies it can act for the body",
                "机构密钥以明文保存在节点上（keys/body.key）：复制到它的人即可代表本机构",
            )
            .to_owned(),
            Some(lang.pick(
                "`confer body-key encrypt`, or copy it offline and `confer body-key remove`",
                "运行 `confer body-key encrypt`，或离线备份后运行 `confer body-key remove`",
            ).to_owned()),
        ));
    } else {
        out.push(check(
            "body_key",
            "ok",
            lang.pick(
                "the body key is encrypted or kept offline",
                "机构密钥已加密或离线保存",
            )
            .to_owned(),
            None,
        ));
    }
    out.push(disk(data, lang));
    out
}

fn disk(data: &Path, lang: Lang) -> Check {
    match nix::sys::statvfs::statvfs(data) {
        Ok(stat) => {
            // 32-bit on some platforms.
            #[allow(clippy::useless_conversion)]
            let free = u64::from(stat.blocks_available()) * u64::from(stat.fragment_size());
            let mib = free / (1 << 20);
            if free < LOW_DISK_BYTES {
                check(
                    "disk",
                    "warn",
                    match lang {
                        Lang::En => format!("only {mib} MiB free where the data directory is; a full disk stops the node"),
                        Lang::Zh => format!("数据目录所在磁盘仅剩 {mib} MiB；磁盘写满会使节点停止"),
                    },
                    Some(lang.pick("free space or move the data directory", "请清理磁盘或迁移数据目录").to_owned()),
                )
            } else {
                check(
                    "disk",
                    "ok",
                    match lang {
                        Lang::En => format!("{mib} MiB free where the data directory is"),
                        Lang::Zh => format!("数据目录所在磁盘剩余 {mib} MiB"),
                    },
                    None,
                )
            }
        }
        Err(e) => check(
            "disk",
            "skipped",
            match lang {
                Lang::En => format!("cannot read the file system's free space: {e}"),
                Lang::Zh => "无法读取磁盘剩余空间".to_owned(),
            },
            None,
        ),
    }
}

/// Whether a TCP port on this machine is free to listen on (no SO_REUSEPORT).
fn port_free(addr: SocketAddr) -> bool {
    std::net::TcpListener::bind(addr).is_ok()
}

/// The IP and TCP port of a peer address (`/ip4|ip6/…/tcp/PORT/…`).
fn tcp_target(addr: &str) -> Option<SocketAddr> {
    let addr: libp2p::Multiaddr = addr.parse().ok()?;
    let mut ip = None;
    for p in addr.iter() {
        match p {
            libp2p::multiaddr::Protocol::Ip4(a) => ip = Some(std::net::IpAddr::from(a)),
            libp2p::multiaddr::Protocol::Ip6(a) => ip = Some(std::net::IpAddr::from(a)),
            libp2p::multiaddr::Protocol::Tcp(port) => {
                return ip.map(|ip| SocketAddr::new(ip, port))
            }
            _ => {}
        }
    }
    None
}

/// The checks that need the running node (or, if it does not run, the default ports).
async fn node_checks(data: &Path, lang: Lang) -> Vec<Check> {
    let mut out = Vec::new();
    let status = match Client::from_data_dir(data) {
        Ok(client) => client
            .get::<StatusView>("/v1/status")
            .await
            .map_err(|e| e.explain(lang, data)),
        Err(e) => Err(e.explain(lang, data)),
    };
    let status = match status {
        Ok(status) => status,
        Err(why) => {
            out.push(check("node", "warn", why, None));
            for (what, addr) in [("p2p", "0.0.0.0:4646"), ("api", "127.0.0.1:4647")] {
                let Ok(addr) = addr.parse::<SocketAddr>() else {
                    continue;
                };
                let free = port_free(addr);
                out.push(check(
                    "port",
                    if free { "ok" } else { "fail" },
                    match (free, lang) {
                        (true, Lang::En) => format!("the default {what} port {addr} is free for `confer run`"),
                        (true, Lang::Zh) => format!("`confer run` 的默认端口 {addr} 空闲"),
                        (false, Lang::En) => format!("another process holds the default {what} port {addr}"),
                        (false, Lang::Zh) => format!("默认端口 {addr} 已被另一进程占用"),
                    },
                    (!free).then(|| lang.pick("stop that process, or start the node with --listen / --api on another port", "请停止该进程，或用 --listen / --api 另选端口启动节点").to_owned()),
                ));
            }
            out.push(check(
                "clock",
                "skipped",
                lang.pick(
                    "clocks not compared: the node does not run (it asks each connected peer's clock); keep this machine's clock synchronised (NTP)",
                    "未比较时钟：节点未运行（节点运行时会询问每个已连接节点的时钟）；请保持本机时间同步（NTP）",
                )
                .to_owned(),
                None,
            ));
            return out;
        }
    };
    out.push(check(
        "node",
        "ok",
        match lang {
            Lang::En => format!("running, listening on {}", status.listen.join(", ")),
            Lang::Zh => format!("正在运行，监听 {}", status.listen.join("、")),
        },
        None,
    ));
    if status.remembered_peers.is_empty() {
        out.push(check(
            "peer",
            "warn",
            lang.pick(
                "no remembered peers: this node syncs with nobody",
                "没有已记录的节点：本节点不与任何节点同步",
            )
            .to_owned(),
            Some(
                lang.pick(
                    "`confer peer add ADDRESS` with the address the other committee sent",
                    "用对方政协提供的地址运行 `confer peer add 地址`",
                )
                .to_owned(),
            ),
        ));
    }
    for p in &status.remembered_peers {
        let name = status
            .peers
            .iter()
            .find(|c| c.peer_id == p.peer_id)
            .and_then(|c| c.body.as_ref())
            .and_then(|b| b.name.clone())
            .map(|n| format!(" ({})", text(&n)))
            .unwrap_or_default();
        if p.state == "connected" {
            out.push(check(
                "peer",
                "ok",
                match lang {
                    Lang::En => format!("{}{name}: connected", p.peer_id),
                    Lang::Zh => format!("{}{name}：已连接", p.peer_id),
                },
                None,
            ));
            continue;
        }
        let tcp: Vec<String> = p
            .addresses
            .iter()
            .filter_map(|a| tcp_target(a))
            .map(|target| {
                let reached = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).is_ok();
                match (reached, lang) {
                    (true, Lang::En) => format!("{target} accepts TCP connections from here"),
                    (true, Lang::Zh) => format!("从本机可以连接 {target}"),
                    (false, Lang::En) => {
                        format!("{target} does not accept TCP connections from here")
                    }
                    (false, Lang::Zh) => format!("从本机无法连接 {target}"),
                }
            })
            .collect();
        let last = p
            .last_error
            .as_ref()
            .map(|e| dial_error(e, lang))
            .unwrap_or_default();
        out.push(check(
            "peer",
            "fail",
            match lang {
                Lang::En => format!("{}{name}: not connected; last error {last}; {}", p.peer_id, tcp.join("; ")),
                Lang::Zh => format!("{}{name}：未连接；最近一次错误 {last}；{}", p.peer_id, tcp.join("；")),
            },
            Some(lang.pick(
                "check the address and peer id with the other committee, and that its node runs and its firewall lets this node in; `confer peer add ADDRESS --replace` fixes a wrong address",
                "请与对方政协核对地址和节点编号，确认其节点在运行、防火墙允许本节点连接；地址有误时用 `confer peer add 地址 --replace` 更正",
            ).to_owned()),
        ));
    }
    out.extend(clock_checks(&status.peers, lang));
    out
}

/// Each connected peer's clock against this machine's, as the node last heard it.
pub fn clock_checks(peers: &[crate::views::PeerView], lang: Lang) -> Vec<Check> {
    use crate::net::clock::{FAILING_SKEW_MS, NOTABLE_SKEW_MS};
    let fix = || {
        lang.pick(
            "synchronise the clocks of both machines with NTP (e.g. `timedatectl set-ntp true`, or chrony with the organisation's time server)",
            "请用 NTP 同步两台机器的时钟（例如 `timedatectl set-ntp true`，或用 chrony 对接本单位的时间服务器）",
        )
        .to_owned()
    };
    let proven: Vec<_> = peers.iter().filter(|p| p.body.is_some()).collect();
    if proven.is_empty() {
        return vec![check(
            "clock",
            "skipped",
            lang.pick(
                "clocks not compared: no peer is connected; keep this machine's clock synchronised (NTP)",
                "未比较时钟：没有已连接的节点；请保持本机时间同步（NTP）",
            )
            .to_owned(),
            None,
        )];
    }
    proven
        .into_iter()
        .map(|p| {
            let name = p
                .body
                .as_ref()
                .and_then(|b| b.name.as_deref())
                .map(|n| format!(" ({})", text(n)))
                .unwrap_or_default();
            let Some(c) = &p.clock else {
                return check(
                    "clock",
                    "skipped",
                    match lang {
                        Lang::En => format!("{}{name}: its clock is not known (its release does not tell it, or it has not answered yet)", p.peer_id),
                        Lang::Zh => format!("{}{name}：其时钟未知（其版本不提供时间，或尚未回答）", p.peer_id),
                    },
                    None,
                );
            };
            let skew = c.skew_ms.unsigned_abs();
            let seconds = skew as f64 / 1000.0;
            let margin = c.round_trip_ms as f64 / 2000.0;
            let (ahead_en, ahead_zh) = if c.skew_ms >= 0 { ("ahead of", "快") } else { ("behind", "慢") };
            let status = if skew > FAILING_SKEW_MS {
                "fail"
            } else if skew > NOTABLE_SKEW_MS {
                "warn"
            } else {
                "ok"
            };
            check(
                "clock",
                status,
                match lang {
                    Lang::En => format!("{}{name}: its clock is {seconds:.1} s {ahead_en} this machine's (±{margin:.1} s)", p.peer_id),
                    Lang::Zh => format!("{}{name}：其时钟比本机{ahead_zh} {seconds:.1} 秒（误差 ±{margin:.1} 秒）", p.peer_id),
                },
                (status != "ok").then(fix),
            )
        })
        .collect()
}

/// `confer doctor`.
pub async fn run(data: &Path, json: bool, lang: Lang) -> Result<(), String> {
    let mut checks = local_checks(data, lang);
    let usable = checks
        .iter()
        .all(|c| c.check != "data_dir" || c.status != "fail");
    if usable {
        checks.extend(node_checks(data, lang).await);
    }
    let failed = checks.iter().filter(|c| c.status == "fail").count();
    if json {
        print_json(&serde_json::json!({ "ok": failed == 0, "checks": checks }))?;
    } else {
        for c in &checks {
            let mark = match (c.status, lang) {
                ("ok", Lang::En) => "OK  ",
                ("ok", Lang::Zh) => "正常",
                ("warn", Lang::En) => "WARN",
                ("warn", Lang::Zh) => "注意",
                ("fail", Lang::En) => "FAIL",
                ("fail", Lang::Zh) => "问题",
                (_, Lang::En) => "SKIP",
                (_, Lang::Zh) => "未查",
            };
            println!("{mark}  {}", c.detail);
            if let Some(fix) = &c.fix {
                println!("      {} {fix}", lang.pick("fix:", "处理："));
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(match lang {
            Lang::En => format!("{n} checks failed (see above)"),
            Lang::Zh => format!("{n} 项检查未通过（见上）"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{BodyView, ClockView, PeerView};

    fn peer(clock: Option<ClockView>) -> PeerView {
        PeerView {
            peer_id: "12D3KooWpeer".into(),
            addresses: vec![],
            body: Some(BodyView {
                id: "ab".repeat(32),
                name: Some("金山区政协".into()),
            }),
            trusted: true,
            software: None,
            last_sync: None,
            clock,
        }
    }

    #[test]
    fn a_peers_clock_is_ok_near_ours_a_warning_past_ten_seconds_and_a_failure_past_an_hour() {
        let at = |skew_ms: i64| {
            let c = clock_checks(
                &[peer(Some(ClockView {
                    skew_ms,
                    round_trip_ms: 4,
                }))],
                Lang::En,
            );
            (c[0].status, c[0].detail.clone(), c[0].fix.clone())
        };
        let (status, detail, fix) = at(250);
        assert_eq!(status, "ok", "{detail}");
        assert!(
            detail.contains("0.2 s ahead of") || detail.contains("0.3 s ahead of"),
            "{detail}"
        );
        assert!(fix.is_none());
        let (status, detail, fix) = at(-42_000);
        assert_eq!(status, "warn");
        assert!(
            detail.contains("42.0 s behind") && detail.contains("金山区政协"),
            "{detail}"
        );
        assert!(fix.is_some_and(|f| f.contains("NTP")));
        assert_eq!(at(2 * 3600 * 1000).0, "fail");

        let zh = clock_checks(
            &[peer(Some(ClockView {
                skew_ms: -42_000,
                round_trip_ms: 4,
            }))],
            Lang::Zh,
        );
        assert!(zh[0].detail.contains("慢 42.0 秒"), "{}", zh[0].detail);
        let unknown = clock_checks(&[peer(None)], Lang::En);
        assert_eq!(unknown[0].status, "skipped");
        let none = clock_checks(&[], Lang::Zh);
        assert_eq!(none[0].status, "skipped");
        assert!(none[0].detail.contains("NTP"));
    }
}
