//! Files attached to supervision findings: stored in the agenda as records addressed by
//! their SHA-256 (`attachment/<first 8 bytes>`), at most 512 KiB each, and synced with the
//! agenda like everything else. `finding add --attach FILE` uploads; `confer attachment get`
//! writes one back out, after checking its digest.

use std::path::Path;

use base64::Engine;
use confer_protocol::model::agenda::MAX_ATTACHMENT_BYTES;
use sha2::Digest;

use super::records::Ctx;
use super::{print_json, records};
use crate::api::WriteRecord;
use crate::i18n::Lang;
use crate::views::{AgendaView, Created};

fn media_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xls" | "xlsx") => "application/vnd.ms-excel",
        _ => "application/octet-stream",
    }
}

/// Stores `file` in the agenda (unless the same bytes are there already) and returns its id.
pub async fn upload(ctx: &Ctx<'_>, view: &AgendaView, file: &Path) -> Result<String, String> {
    let lang = ctx.lang;
    let bytes = std::fs::read(file).map_err(|e| match lang {
        Lang::En => format!("cannot read {}: {e}", file.display()),
        Lang::Zh => format!("无法读取 {}：{e}", file.display()),
    })?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(match lang {
            Lang::En => format!(
                "{} is {} KiB; an attachment may be at most {} KiB",
                file.display(),
                bytes.len() / 1024,
                MAX_ATTACHMENT_BYTES / 1024
            ),
            Lang::Zh => format!(
                "{} 大小为 {} KiB；附件不能超过 {} KiB",
                file.display(),
                bytes.len() / 1024,
                MAX_ATTACHMENT_BYTES / 1024
            ),
        });
    }
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let id = hex::encode(&digest[..8]);
    let held = ctx
        .listing(&view.id, &["attachment"], Some(("id_prefix", &id)))
        .await?;
    if held.records("attachment").iter().any(|r| r.id == id) {
        return Ok(id);
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(200).collect::<String>())
        .unwrap_or_else(|| "attachment".into());
    let request = WriteRecord {
        collection: "attachment".into(),
        id: None,
        fields: [
            ("name", name),
            ("media_type", media_type(file).to_owned()),
            ("sha256", hex::encode(digest)),
            (
                "data",
                base64::engine::general_purpose::STANDARD.encode(&bytes),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        as_member: None,
    };
    let created: Created = ctx
        .client
        .post(&format!("/v1/agendas/{}/records", view.id), &request)
        .await
        .map_err(|e| e.explain(lang, ctx.data))?;
    Ok(created.id)
}

/// `confer attachment get ID --agenda AGENDA --out FILE`: the attachment's bytes, checked
/// against its SHA-256 before they are written.
pub async fn get(ctx: &Ctx<'_>, id: &str, agenda: &str, out: &Path) -> Result<(), String> {
    let lang = ctx.lang;
    let view = ctx.agenda(agenda, &[]).await?;
    // Only the attachments the prefix could name: each holds its bytes.
    let prefix = id.trim().to_ascii_lowercase();
    let narrow = (prefix.len() <= confer_protocol::model::schema::ID_HEX_LEN
        && prefix.bytes().all(|b| b.is_ascii_hexdigit()))
    .then_some(("id_prefix", prefix.as_str()));
    let view = ctx.listing(&view.id, &["attachment"], narrow).await?;
    let record = records::pick(lang, &view, "attachment", id)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(record.get("data"))
        .map_err(|e| e.to_string())?;
    let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    if hex::encode(digest) != record.get("sha256") {
        return Err(lang
            .pick(
                "the attachment's bytes do not match its SHA-256",
                "附件内容与其 SHA-256 不符",
            )
            .to_owned());
    }
    std::fs::write(out, &bytes).map_err(|e| match lang {
        Lang::En => format!("cannot write {}: {e}", out.display()),
        Lang::Zh => format!("无法写入 {}：{e}", out.display()),
    })?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "out": out.display().to_string(),
            "name": record.get("name"),
            "bytes": bytes.len(),
            "sha256": record.get("sha256"),
        }));
    }
    println!(
        "{} {} ({}, {} {})",
        lang.pick("Wrote", "已写出"),
        out.display(),
        record.get("name"),
        bytes.len(),
        lang.pick("bytes, SHA-256 checked", "字节，SHA-256 已核对")
    );
    Ok(())
}
