//! `confer backup`, `confer restore` and `confer catch-up`: a running node's store and
//! keys into one private file, that file back into an empty data directory, and what a
//! restored node waits for before it takes edits (`docs/backup.md`). `confer sync
//! export|import`: partners with no network path between them exchange signed files and
//! receipts (`docs/sync-files.md`).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use serde::Serialize;

use super::render::body_short;
use super::{body_ids, connect, dates, print_json};
use crate::backup::{self, Archive, BackupSummary, CatchUpSpace, CatchUpView};
use crate::i18n::Lang;
use crate::sync_file::{ImportReport, Receipt};
use confer_protocol::text::display_line;

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Write what a partner body lacks of the agendas it shares with this body (signed
    /// entries, certificates, consents, revocations) to a file, to carry over approved
    /// media where there is no network path (网闸, 内外网).
    Export {
        /// The partner body (its full id, or a unique prefix of a trusted body's id).
        #[arg(long = "for", value_name = "BODY_ID")]
        body: String,
        /// The receipt that body sent back after its last import: the file then holds
        /// only what it lacks beyond it.
        #[arg(long, value_name = "RECEIPT")]
        since: Option<PathBuf>,
        /// The file to write (must not exist yet).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Import a partner's sync file (checked as entries from a peer are) and write the
    /// receipt to carry back.
    Import {
        /// The sync file.
        file: PathBuf,
        /// Where to write the receipt (default: FILE.receipt.json).
        #[arg(long, value_name = "FILE")]
        receipt: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct Written<'a> {
    file: String,
    #[serde(flatten)]
    summary: &'a BackupSummary,
}

fn day(unix: u64) -> String {
    dates::format(dates::Date::from_unix_seconds(unix))
}

/// `confer backup FILE`: asks the running node for an archive, checks it, writes it 0600.
pub(super) async fn backup(data: &Path, file: &Path, json: bool, lang: Lang) -> Result<(), String> {
    if file.exists() {
        return Err(match lang {
            Lang::En => format!(
                "{} already exists; name a new file (nothing was written)",
                file.display()
            ),
            Lang::Zh => format!(
                "{} 已存在；请指定一个新文件（未写入任何内容）",
                file.display()
            ),
        });
    }
    let bytes = connect(data, lang)?
        .get_bytes("/v1/backup")
        .await
        .map_err(|e| e.explain(lang, data))?;
    // The keys are read here, from the data directory: the node never reads the body
    // key. What is kept is read back first: a backup that cannot be restored is worse
    // than none.
    let bytes = backup::with_keys(&bytes, data).map_err(|e| e.explain(lang))?;
    let archive = Archive::decode(&bytes).map_err(|e| e.explain(lang))?;
    backup::write_private_new(file, &bytes).map_err(|e| e.explain(lang))?;
    let summary = archive.summary(bytes.len());
    if json {
        return print_json(&Written {
            file: file.display().to_string(),
            summary: &summary,
        });
    }
    let BackupSummary {
        bytes,
        files,
        entries,
        ..
    } = summary;
    println!(
        "{}",
        match lang {
            Lang::En => format!(
                "Backup written to {} (mode 0600): {entries} entries, {files} key and identity files, {bytes} bytes. It holds this body's keys: keep it as safe as the data directory.",
                file.display()
            ),
            Lang::Zh => format!(
                "备份已写入 {}（权限 0600）：{entries} 条记录，{files} 个密钥和身份文件，共 {bytes} 字节。其中含本机构的密钥：请像保管数据目录一样妥善保管。",
                file.display()
            ),
        }
    );
    Ok(())
}

/// `confer restore FILE`: into an empty or absent data directory only.
pub(super) fn restore(data: &Path, file: &Path, json: bool, lang: Lang) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| match lang {
        Lang::En => format!("cannot read {}: {e}", file.display()),
        Lang::Zh => format!("无法读取 {}：{}", file.display(), backup::io_zh(&e)),
    })?;
    let summary = backup::restore(&bytes, data).map_err(|e| e.explain(lang))?;
    if json {
        return print_json(&Written {
            file: data.display().to_string(),
            summary: &summary,
        });
    }
    let dir = data.display();
    let made = day(summary.created_at);
    let entries = summary.entries;
    println!(
        "{}",
        match lang {
            Lang::En => format!(
                "Restored {dir} from the backup of {made} ({entries} entries). Start the node with `confer run --data {dir}`: it takes no edits in an agenda until it has synced with that agenda's other member bodies, so that it never signs again what it signed after the backup (`confer catch-up` shows what it waits for)."
            ),
            Lang::Zh => format!(
                "已从 {made} 的备份恢复 {dir}（{entries} 条记录）。请用 `confer run --data {dir}` 启动节点：每个议题须先与其他参与机构同步，才能修改，以免重复签署备份之后已签署的内容（`confer catch-up` 显示仍在等待的议题）。"
            ),
        }
    );
    Ok(())
}

/// `confer catch-up [--skip]`.
pub(super) async fn catch_up(
    data: &Path,
    skip: bool,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let client = connect(data, lang)?;
    let view: CatchUpView = if skip {
        client
            .post("/v1/catch-up/skip", &serde_json::json!({}))
            .await
    } else {
        client.get("/v1/catch-up").await
    }
    .map_err(|e| e.explain(lang, data))?;
    if skip {
        eprintln!(
            "{}",
            lang.pick(
                "warning: this node now writes in restored agendas before it has synced them; if it signs a sequence number again that it signed before the loss, partners refuse its member key as an equivocator",
                "警告：本节点现在可以在尚未同步的恢复议题中写入；如果重复签署了丢失前已签署过的序号，伙伴会将该成员密钥视为重复签署而拒绝"
            )
        );
    }
    if json {
        return print_json(&view);
    }
    match (&view.restored_at, view.waiting.is_empty()) {
        (None, _) => println!(
            "{}",
            lang.pick(
                "This store was not restored from a backup; nothing waits.",
                "本节点的数据并非从备份恢复，没有需要等待的议题。"
            )
        ),
        (Some(_), true) => println!(
            "{}",
            lang.pick(
                "Restored from a backup; every agenda has caught up and takes edits.",
                "已从备份恢复；所有议题均已同步，可以修改。"
            )
        ),
        (Some(_), false) => {
            println!(
                "{}",
                lang.pick(
                    "Restored from a backup; these agendas take no edits until they have synced with:",
                    "已从备份恢复；以下议题须先与下列机构同步，才能修改："
                )
            );
            print!("{}", waiting_lines(&view.waiting, lang));
        }
    }
    Ok(())
}

/// A store too new for this program, in `lang`; `None` for any other failure.
pub(super) fn store_failure(lang: Lang, failure: &crate::runtime::NodeFailure) -> Option<String> {
    let crate::runtime::NodeFailure::OpenStore {
        path,
        source:
            crate::store::StoreError::SchemaTooNew {
                found,
                supported,
                written_by,
            },
    } = failure
    else {
        return None;
    };
    let this = crate::store::RELEASE;
    Some(match (lang, written_by) {
        (Lang::En, _) => format!("{path}: {}", failure_source(failure)),
        (Lang::Zh, Some(by)) => format!(
            "{path}：该数据库由 confer {by} 写入（数据库格式 {found}）；本程序为 confer {this}，只能打开格式 {supported} 及更早的数据库：请用 confer {by} 或更新的版本运行此数据目录（未做任何改动）"
        ),
        (Lang::Zh, None) => format!(
            "{path}：该数据库由更新的版本写入（数据库格式 {found}）；本程序为 confer {this}，只能打开格式 {supported} 及更早的数据库：请用那个更新的版本运行此数据目录（未做任何改动）"
        ),
    })
}

fn failure_source(failure: &crate::runtime::NodeFailure) -> String {
    match failure {
        crate::runtime::NodeFailure::OpenStore { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// What `status` says about a peer whose software differs from this node's; `None` when
/// it runs the same release.
pub(super) fn software_line(sw: &crate::versions::SoftwareView, lang: Lang) -> Option<String> {
    if !sw.differs && !sw.incompatible {
        return None;
    }
    let theirs = sw.release.as_deref().map_or_else(
        || super::render::text(&sw.agent).into_owned(),
        |r| format!("confer {}", super::render::text(r)),
    );
    let this = crate::store::RELEASE;
    let ours = confer_protocol::sync::MESSAGE_VERSION;
    let sync = sw.sync.map_or_else(
        || lang.pick("unknown", "未知").to_owned(),
        |v| v.to_string(),
    );
    Some(match (lang, sw.incompatible) {
        (Lang::En, false) => format!("runs {theirs} (sync protocol {sync}); this node runs confer {this} (sync protocol {ours})"),
        (Lang::En, true) => format!("runs {theirs} with sync protocol {sync}; this node runs confer {this} with sync protocol {ours}: they cannot sync until one is upgraded"),
        (Lang::Zh, false) => format!("运行 {theirs}（同步协议 {sync}）；本节点运行 confer {this}（同步协议 {ours}）"),
        (Lang::Zh, true) => format!("运行 {theirs}，同步协议 {sync}；本节点运行 confer {this}，同步协议 {ours}：升级其中一方之前无法同步"),
    })
}

/// `confer sync export|import`.
pub(super) async fn sync(
    data: &Path,
    command: SyncCommand,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let client = connect(data, lang)?;
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| match lang {
            Lang::En => format!("cannot read {}: {e}", path.display()),
            Lang::Zh => format!("无法读取 {}：{}", path.display(), backup::io_zh(&e)),
        })
    };
    match command {
        SyncCommand::Export { body, since, out } => {
            if out.exists() {
                return Err(match lang {
                    Lang::En => format!(
                        "{} already exists; name a new file (nothing was written)",
                        out.display()
                    ),
                    Lang::Zh => format!(
                        "{} 已存在；请指定一个新文件（未写入任何内容）",
                        out.display()
                    ),
                });
            }
            let body = body_ids(&client, vec![body], lang, data).await?.remove(0);
            let since: Option<Receipt> = match since {
                None => None,
                Some(path) => Some(serde_json::from_slice(&read(&path)?).map_err(
                    |e| match lang {
                        Lang::En => format!("{} is not a sync receipt: {e}", path.display()),
                        Lang::Zh => {
                            format!("{} 不是同步回执（无法按回执格式读取）", path.display())
                        }
                    },
                )?),
            };
            let request = crate::api::SyncExport {
                body: body.clone(),
                since,
            };
            let bytes = client
                .post_for_bytes("/v1/sync/export", &request)
                .await
                .map_err(|e| e.explain(lang, data))?;
            backup::write_private_new(&out, &bytes).map_err(|e| e.explain(lang))?;
            if json {
                return print_json(&serde_json::json!({
                    "file": out.display().to_string(),
                    "for": body,
                    "bytes": bytes.len(),
                }));
            }
            let short = super::ids::short(&body);
            let size = bytes.len();
            println!(
                "{}",
                match lang {
                    Lang::En => format!("Sync file for {short} written to {} ({size} bytes, signed by this node). Carry it over, have it imported there with `confer sync import`, and bring the receipt back for the next export (`--since`).", out.display()),
                    Lang::Zh => format!("已将发给 {short} 的同步文件写入 {}（{size} 字节，由本节点签名）。请将其带到对方，用 `confer sync import` 导入，并把回执带回，供下次导出使用（`--since`）。", out.display()),
                }
            );
            Ok(())
        }
        SyncCommand::Import { file, receipt } => {
            let bytes = read(&file)?;
            let report: ImportReport = client
                .post_bytes("/v1/sync/import", bytes)
                .await
                .map_err(|e| e.explain(lang, data))?;
            let receipt_path = receipt.unwrap_or_else(|| {
                let mut name = file.as_os_str().to_owned();
                name.push(".receipt.json");
                PathBuf::from(name)
            });
            let text = serde_json::to_vec_pretty(&report.receipt).map_err(|e| e.to_string())?;
            std::fs::write(&receipt_path, text).map_err(|e| match lang {
                Lang::En => format!(
                    "imported, but cannot write the receipt {}: {e}",
                    receipt_path.display()
                ),
                Lang::Zh => format!(
                    "已导入，但无法写入回执 {}：{}",
                    receipt_path.display(),
                    backup::io_zh(&e)
                ),
            })?;
            if json {
                return print_json(&serde_json::json!({
                    "import": report,
                    "receipt_file": receipt_path.display().to_string(),
                }));
            }
            let from = body_short(&report.from);
            println!(
                "{}",
                match lang {
                    Lang::En => format!("Imported the sync file from {from}:"),
                    Lang::Zh => format!("已导入来自 {from} 的同步文件："),
                }
            );
            for s in &report.spaces {
                let id = super::ids::short(&s.space);
                let (accepted, duplicates, rejected, pending) =
                    (s.accepted, s.duplicates, s.rejected, s.pending);
                println!(
                    "  {}",
                    match lang {
                        Lang::En => format!("agenda {id}: {accepted} new entries, {duplicates} already held, {rejected} refused, {pending} waiting for others"),
                        Lang::Zh => format!("议题 {id}：新增 {accepted} 条，已有 {duplicates} 条，拒收 {rejected} 条，{pending} 条等待其依赖"),
                    }
                );
                match lang {
                    Lang::En => {
                        for why in &s.refusals {
                            println!("    {}", super::render::text(why));
                        }
                    }
                    // The node states its reasons in English only: say where to read them.
                    Lang::Zh if !s.refusals.is_empty() => {
                        println!(
                            "    （拒收原因由节点以英文说明，见 --json 输出或以 LANG=C 重新运行）"
                        )
                    }
                    Lang::Zh => {}
                }
            }
            println!(
                "{}",
                match lang {
                    Lang::En => format!("Receipt written to {}: carry it back to {from} for its next `confer sync export --since`.", receipt_path.display()),
                    Lang::Zh => format!("回执已写入 {}：请带回 {from}，供其下次 `confer sync export --since` 使用。", receipt_path.display()),
                }
            );
            Ok(())
        }
    }
}

/// One line per agenda waiting for catch-up: its id and the bodies it waits for.
fn waiting_lines(waiting: &[CatchUpSpace], lang: Lang) -> String {
    let mut out = String::new();
    for space in waiting {
        let bodies: Vec<String> = space.waiting_for.iter().map(body_short).collect();
        out.push_str(&format!(
            "  {}  {}\n",
            super::ids::short(&space.space),
            bodies.join(lang.pick(", ", "、"))
        ));
    }
    out
}

/// What `status` says of a restored node's agendas that take no edits yet (nothing when
/// none waits).
pub(super) fn catch_up_lines(waiting: &[CatchUpSpace], lang: Lang) -> String {
    if waiting.is_empty() {
        return String::new();
    }
    format!(
        "{}\n{}",
        lang.pick(
            "Restored from a backup; no edits until synced with (confer catch-up):",
            "已从备份恢复；须先与下列机构同步，才能修改（confer catch-up）："
        ),
        waiting_lines(waiting, lang)
    )
}

/// What `status` says of large pulls from peers since start (nothing when there were
/// none): per space and peer, entries received of how many, and whether it goes on.
pub(super) fn progress_lines(
    progress: &[crate::views::ProgressView],
    spaces: &[crate::views::SpaceView],
    lang: Lang,
) -> String {
    if progress.is_empty() {
        return String::new();
    }
    let mut out = lang
        .pick("Catch-up from peers:", "从伙伴节点追赶同步：")
        .to_owned();
    out.push('\n');
    for p in progress {
        let title = spaces
            .iter()
            .find(|s| s.id == p.space)
            .map(|s| display_line(&s.title))
            .unwrap_or_default();
        let short = super::ids::short(&p.space);
        let from = p.body.as_ref().map_or_else(
            || display_line(&p.peer_id),
            |b| display_line(b.name.as_deref().unwrap_or(&b.id)),
        );
        let (received, total, seconds) = (p.received, p.total, p.seconds);
        let line = match (lang, p.state.as_str()) {
            (Lang::En, state) => {
                let state = match state {
                    "receiving" => "receiving",
                    "done" => "done",
                    _ => "paused, the next sync round goes on",
                };
                format!("  {title} ({short}) from {from}: {received}/{total} entries, {state} ({seconds:.1} s)")
            }
            (Lang::Zh, state) => {
                let state = match state {
                    "receiving" => "正在接收",
                    "done" => "已完成",
                    _ => "已暂停，下一轮同步继续",
                };
                format!("  {title}（{short}）来自 {from}：已收到 {received}/{total} 条，{state}（{seconds:.1} 秒）")
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_progress_is_said_in_both_languages() {
        let p = crate::views::ProgressView {
            space: "ab".repeat(32),
            peer_id: "12D3KooWpeer".into(),
            body: Some(crate::views::BodyView {
                id: "cd".repeat(32),
                name: Some("金山区政协".into()),
            }),
            received: 1200,
            total: 4400,
            state: "receiving".into(),
            seconds: 3.24,
        };
        assert_eq!(progress_lines(&[], &[], Lang::En), "");
        let en = progress_lines(std::slice::from_ref(&p), &[], Lang::En);
        assert!(
            en.contains("from 金山区政协: 1200/4400 entries, receiving (3.2 s)"),
            "{en}"
        );
        let zh = progress_lines(&[p], &[], Lang::Zh);
        assert!(
            zh.contains("来自 金山区政协：已收到 1200/4400 条，正在接收"),
            "{zh}"
        );
        assert!(!zh.contains("receiving") && !zh.contains("entries"), "{zh}");
    }

    #[test]
    fn a_peer_on_other_software_is_described_in_both_languages() {
        let same = crate::versions::software(&crate::versions::agent());
        assert_eq!(software_line(&same, Lang::En), None);
        let newer = crate::versions::software("confer/99.0.0 sync/200 store/9");
        let en = software_line(&newer, Lang::En).expect("a line");
        assert!(
            en.contains("confer 99.0.0") && en.contains("cannot sync"),
            "{en}"
        );
        let zh = software_line(&newer, Lang::Zh).expect("a line");
        assert!(
            zh.contains("无法同步") && !zh.contains("sync protocol"),
            "{zh}"
        );
        let older = crate::versions::software("confer/0.0.1");
        let zh = software_line(&older, Lang::Zh).expect("a line");
        assert!(zh.contains("同步协议 未知"), "{zh}");
    }
}
