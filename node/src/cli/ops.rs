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
