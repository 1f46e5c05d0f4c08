//! `confer backup`, `confer restore` and `confer catch-up`: a running node's store and
//! keys into one private file, that file back into an empty data directory, and what a
//! restored node waits for before it takes edits (`docs/backup.md`).

use std::path::Path;

use serde::Serialize;

use super::render::body_short;
use super::{connect, dates, print_json};
use crate::backup::{self, Archive, BackupSummary, CatchUpView};
use crate::i18n::Lang;

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
            Lang::En => format!("{} already exists; name a new file (nothing was written)", file.display()),
            Lang::Zh => format!("{} 已存在；请指定一个新文件（未写入任何内容）", file.display()),
        });
    }
    let bytes = connect(data, lang)?
        .get_bytes("/v1/backup")
        .await
        .map_err(|e| e.explain(lang, data))?;
    // What the node sent is read back before it is kept: a backup that cannot be
    // restored is worse than none.
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
        bytes, files, entries, ..
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
        Lang::Zh => format!("无法读取 {}：{e}", file.display()),
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
pub(super) async fn catch_up(data: &Path, skip: bool, json: bool, lang: Lang) -> Result<(), String> {
    let client = connect(data, lang)?;
    let view: CatchUpView = if skip {
        client.post("/v1/catch-up/skip", &serde_json::json!({})).await
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
            for space in &view.waiting {
                let bodies: Vec<String> = space.waiting_for.iter().map(body_short).collect();
                println!("  {}  {}", super::ids::short(&space.space), bodies.join(lang.pick(", ", "、")));
            }
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
