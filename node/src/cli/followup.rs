//! The commands that read the closed loop and sign its results: `outcome sign|show|export`,
//! `suggestion show` (提与落: one suggestion across rounds, bodies and units), `overdue`
//! and `report` (年终通报). Each asks the node's API and prints JSON with `--json` or text
//! in the user's language.

use std::path::Path;

use confer_protocol::model::agenda::followup::{Trail, TrailItem, UnitStatus};
use confer_protocol::model::agenda::outcomes::OutcomeStatus;
use confer_protocol::model::agenda::report::{self, Report};
use confer_protocol::model::bundle::Bundle;
use confer_protocol::text::{display_line, display_text};

use super::dates;
use super::print_json;
use super::records::{Ctx, Writer};
use crate::api::{OverdueItem, SignOutcome};
use crate::i18n::Lang;
use crate::views::{AgendaView, Created};

fn result_zh(result: &str) -> &str {
    match result {
        "adopted" => "采纳",
        "partly-adopted" => "部分采纳",
        "planned" => "列入计划",
        "for-reference" => "留作参考",
        "not-adopted" => "未采纳",
        "satisfied" => "满意",
        "basically-satisfied" => "基本满意",
        "unsatisfied" => "不满意",
        "lead" => "主办",
        "co" => "协办",
        other => other,
    }
}

fn word(lang: Lang, value: &str) -> &str {
    match lang {
        Lang::En => value,
        Lang::Zh => result_zh(value),
    }
}

fn status_of<'v>(lang: Lang, view: &'v AgendaView, id: &str) -> Result<&'v OutcomeStatus, String> {
    view.outcomes
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| match lang {
            Lang::En => format!("no outcome {id} in this agenda"),
            Lang::Zh => format!("该议题中没有协商成果 {id}"),
        })
}

/// `confer outcome sign ID [--as SIGNER]`: this body's signature on the outcome's current
/// text, by a member who may sign (`--can-sign`).
pub async fn sign(ctx: &Ctx<'_>, id: &str, writer: &Writer) -> Result<(), String> {
    let found = ctx.find("outcome", id).await?;
    let as_member = match &writer.as_member {
        Some(m) => Some(super::member::resolve(&ctx.client, m, ctx.lang, ctx.data).await?),
        None => None,
    };
    let created: Created = ctx
        .client
        .post(
            &format!(
                "/v1/agendas/{}/outcomes/{}/sign",
                found.view.id, found.record.id
            ),
            &SignOutcome { as_member },
        )
        .await
        .map_err(|e| e.explain(ctx.lang, ctx.data))?;
    if ctx.json {
        return print_json(&created);
    }
    println!(
        "{} {}",
        ctx.lang.pick(
            "Signed the outcome's current text for this body; attestation",
            "已代表本机构签署该协商成果的当前文本；签署记录"
        ),
        created.id
    );
    Ok(())
}

/// `confer outcome show ID`: the outcome, whether it is adopted, and each member body's
/// signature against the current text.
pub async fn show(ctx: &Ctx<'_>, id: &str) -> Result<(), String> {
    let found = ctx.find("outcome", id).await?;
    let status = status_of(ctx.lang, &found.view, &found.record.id)?;
    if ctx.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            agenda: &'a str,
            text: &'a str,
            #[serde(flatten)]
            status: &'a OutcomeStatus,
        }
        return print_json(&Shown {
            agenda: &found.view.id,
            text: found.record.get("text"),
            status,
        });
    }
    let lang = ctx.lang;
    println!("{}  {}", display_line(&status.title), status.id);
    println!(
        "{}: {}",
        lang.pick("Adopted", "是否通过"),
        match (status.adopted, lang) {
            (true, Lang::En) => "yes — every member body signed this text",
            (false, Lang::En) => "not yet",
            (true, Lang::Zh) => "已通过——各成员机构均已签署此文本",
            (false, Lang::Zh) => "尚未通过",
        }
    );
    if let Some(problem) = &status.problem {
        println!(
            "  {}{}",
            lang.pick("Cannot be signed yet: ", "尚不能签署："),
            display_line(problem)
        );
    }
    for body in &status.bodies {
        let name = body.body_name.clone().unwrap_or_else(|| body.body.clone());
        let state = match (body.signed, body.matches) {
            (_, true) => lang.pick("signed this text", "已签署当前文本"),
            (true, false) => lang.pick(
                "signed an earlier text (does not match the current one)",
                "签署的是此前的文本（与当前文本不一致）",
            ),
            (false, _) => lang.pick("not signed", "未签署"),
        };
        let by = body
            .signer_name
            .as_deref()
            .map(|n| format!(" ({})", display_line(n)))
            .unwrap_or_default();
        println!("  {}: {state}{by}", display_line(&name));
    }
    println!();
    println!("{}", display_text(found.record.get("text")));
    Ok(())
}

/// `confer outcome export ID --out FILE`: the self-contained bundle anyone can check with
/// `confer verify FILE`, written with mode 0644 (it holds nothing secret).
pub async fn export(ctx: &Ctx<'_>, id: &str, out: &Path) -> Result<(), String> {
    let found = ctx.find("outcome", id).await?;
    let bundle: Bundle = ctx
        .client
        .get(&format!(
            "/v1/agendas/{}/outcomes/{}/bundle",
            found.view.id, found.record.id
        ))
        .await
        .map_err(|e| e.explain(ctx.lang, ctx.data))?;
    let adopted = status_of(ctx.lang, &found.view, &found.record.id)?.adopted;
    std::fs::write(out, bundle.to_json() + "\n").map_err(|e| match ctx.lang {
        Lang::En => format!("cannot write {}: {e}", out.display()),
        Lang::Zh => format!("无法写入 {}：{e}", out.display()),
    })?;
    if ctx.json {
        return print_json(&serde_json::json!({
            "out": out.display().to_string(),
            "attestations": bundle.attestations.len(),
            "adopted": adopted,
        }));
    }
    println!(
        "{} {} ({} {}; {})",
        ctx.lang
            .pick("Wrote the outcome bundle to", "已导出协商成果文件包："),
        out.display(),
        bundle.attestations.len(),
        ctx.lang.pick("signatures", "个签署"),
        if adopted {
            ctx.lang.pick("adopted", "已通过")
        } else {
            ctx.lang.pick("not adopted yet", "尚未通过")
        }
    );
    println!(
        "  {}",
        ctx.lang.pick(
            "Anyone can check it offline: confer verify FILE",
            "任何人均可离线核验：confer verify 文件"
        )
    );
    Ok(())
}

fn on_query(lang: Lang, on: Option<&str>) -> Result<String, String> {
    Ok(match on {
        Some(on) => format!("?on={}", dates::parse(lang, "--on", on)?),
        None => String::new(),
    })
}

fn unit_line(lang: Lang, u: &UnitStatus) -> String {
    let body = u
        .body_name
        .clone()
        .unwrap_or_else(|| u.body.chars().take(16).collect());
    let state = match (&u.feedback, u.overdue_days) {
        (Some(fb), _) => match lang {
            Lang::En => format!("answered {}: {}", fb.date, fb.result),
            Lang::Zh => format!("{} 已反馈：{}", fb.date, result_zh(&fb.result)),
        },
        (None, 0) if !u.handed_back.is_empty() => lang.pick("handed back", "已退回").to_owned(),
        (None, 0) => match lang {
            Lang::En => format!("due {}", u.due),
            Lang::Zh => format!("办理期限 {}", u.due),
        },
        (None, days) => match lang {
            Lang::En => format!("OVERDUE by {days} days (due {})", u.due),
            Lang::Zh => format!("已逾期 {days} 天（期限 {}）", u.due),
        },
    };
    format!(
        "{} · {} ({}) · {state}",
        display_line(&body),
        display_line(&u.unit),
        word(lang, &u.role)
    )
}

fn item_line(lang: Lang, item: &TrailItem, fields: &[&str]) -> String {
    let who = item
        .body_name
        .clone()
        .or_else(|| item.body.clone())
        .unwrap_or_default();
    let values: Vec<String> = fields
        .iter()
        .map(|f| item.get(f))
        .filter(|v| !v.is_empty())
        .map(|v| display_line(word(lang, v)).into_owned())
        .collect();
    format!("{} · {}", display_line(&who), values.join(" · "))
}

/// `confer suggestion show ID [--on DATE]`: 提与落 — the suggestion, what continues it, the
/// outcomes that took it up, and per body its submission, instructions, units with their
/// feedback, evaluations, carry-overs and findings.
pub async fn trail(ctx: &Ctx<'_>, id: &str, on: Option<&str>) -> Result<(), String> {
    let lang = ctx.lang;
    let found = ctx.find("suggestion", id).await?;
    let trail: Trail = ctx
        .client
        .get(&format!(
            "/v1/agendas/{}/suggestions/{}{}",
            found.view.id,
            found.record.id,
            on_query(lang, on)?
        ))
        .await
        .map_err(|e| e.explain(lang, ctx.data))?;
    if ctx.json {
        return print_json(&trail);
    }
    println!(
        "{} {} · {} {}",
        lang.pick("Suggestion", "意见建议"),
        trail.suggestion.id,
        lang.pick("round", "第"),
        match lang {
            Lang::En => trail.round.clone(),
            Lang::Zh => format!("{} 轮", trail.round),
        }
    );
    println!("  {}", display_text(trail.suggestion.get("text")));
    let section = |en: &str, zh: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            println!("{}", lang.pick(en, zh));
            for line in lines {
                println!("  {line}");
            }
        }
    };
    section(
        "Continues",
        "延续自",
        trail
            .earlier
            .iter()
            .map(|s| format!("{} · {}", s.id, display_line(s.get("text"))))
            .collect(),
    );
    section(
        "Continued by",
        "后续协商",
        trail
            .later
            .iter()
            .map(|s| format!("{} · {}", s.id, display_line(s.get("text"))))
            .collect(),
    );
    section(
        "Outcomes",
        "协商成果",
        trail
            .outcomes
            .iter()
            .map(|o| format!("{} · {}", o.id, display_line(o.get("title"))))
            .collect(),
    );
    section(
        "Submitted (建言报送)",
        "建言报送",
        trail
            .submissions
            .iter()
            .map(|i| item_line(lang, i, &["date", "to"]))
            .collect(),
    );
    section(
        "Instructions (批示)",
        "领导批示",
        trail
            .instructions
            .iter()
            .map(|i| item_line(lang, i, &["date", "leader", "text"]))
            .collect(),
    );
    section(
        "Handling and feedback",
        "办理与反馈",
        trail.units.iter().map(|u| unit_line(lang, u)).collect(),
    );
    section(
        "Evaluations",
        "办理评价",
        trail
            .evaluations
            .iter()
            .map(|i| item_line(lang, i, &["satisfaction", "text"]))
            .collect(),
    );
    section(
        "Carried into next year",
        "转入下年",
        trail
            .carried
            .iter()
            .map(|i| item_line(lang, i, &["year", "note"]))
            .collect(),
    );
    section(
        "Findings",
        "监督发现",
        trail
            .findings
            .iter()
            .map(|i| item_line(lang, i, &["date", "severity", "text"]))
            .collect(),
    );
    Ok(())
}

/// `confer overdue [--on DATE]`: every handling unit past its deadline without feedback,
/// in every agenda, most overdue first.
pub async fn overdue(ctx: &Ctx<'_>, on: Option<&str>) -> Result<(), String> {
    let lang = ctx.lang;
    let items: Vec<OverdueItem> = ctx
        .client
        .get(&format!("/v1/overdue{}", on_query(lang, on)?))
        .await
        .map_err(|e| e.explain(lang, ctx.data))?;
    if ctx.json {
        return print_json(&items);
    }
    if items.is_empty() {
        println!(
            "{}",
            lang.pick("Nothing is overdue.", "没有逾期未办结的事项。")
        );
        return Ok(());
    }
    println!(
        "{}",
        match lang {
            Lang::En => format!("{} overdue:", items.len()),
            Lang::Zh => format!("逾期未办结 {} 项：", items.len()),
        }
    );
    for item in &items {
        println!(
            "  {} · {} · {}",
            display_line(&item.agenda_title),
            item.unit.suggestion,
            unit_line(lang, &item.unit)
        );
    }
    Ok(())
}

/// The formats `confer report` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Html,
}

/// `confer report --year Y [--agenda ID] [--as-of DATE] [--format md|html]`: the
/// year-end report, the same from the same entries on every node.
pub async fn year_report(
    ctx: &Ctx<'_>,
    year: u32,
    agenda: Option<&str>,
    as_of: Option<&str>,
    format: ReportFormat,
) -> Result<(), String> {
    let lang = ctx.lang;
    let mut query = format!("/v1/report?year={year}");
    if let Some(agenda) = agenda {
        let id = super::agenda_id(&ctx.client, agenda, lang, ctx.data).await?;
        query.push_str(&format!("&agenda={id}"));
    }
    if let Some(as_of) = as_of {
        query.push_str(&format!("&as_of={}", dates::parse(lang, "--as-of", as_of)?));
    }
    let report: Report = ctx
        .client
        .get(&query)
        .await
        .map_err(|e| e.explain(lang, ctx.data))?;
    if ctx.json {
        return print_json(&report);
    }
    let zh = lang == Lang::Zh;
    match format {
        ReportFormat::Md => print!("{}", report::markdown(&report, zh)),
        ReportFormat::Html => print!("{}", report::html(&report, zh)),
    }
    Ok(())
}

/// How many changes `confer history` shows without `--all`.
const HISTORY_SHOWN: usize = 100;

/// `confer history AGENDA [--record ID]`: who changed what, when, read from the signed
/// entries (one record's writes with `--record`).
pub async fn history(
    ctx: &Ctx<'_>,
    agenda: &str,
    record: Option<&str>,
    all: bool,
) -> Result<(), String> {
    let lang = ctx.lang;
    let view = ctx.agenda(agenda, &[]).await?;
    let record = match record {
        Some(input) => {
            // Every kind of record whose id the prefix could be.
            let prefix = input.trim().to_ascii_lowercase();
            let narrow = (!prefix.is_empty()
                && prefix.len() <= confer_protocol::model::schema::ID_HEX_LEN
                && prefix.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(("id_prefix", prefix.as_str()));
            let kinds: Vec<&str> = confer_protocol::model::AGENDA_SCHEMA
                .collections
                .iter()
                .map(|c| c.name)
                .collect();
            let candidates = ctx.listing(&view.id, &kinds, narrow).await?;
            let all = candidates.records.values().flatten().map(|r| r.id.as_str());
            let id = super::ids::resolve_prefix(input.trim(), all).map_err(|e| {
                super::render_workflow::prefix_error(
                    lang,
                    &e,
                    "record",
                    input,
                    super::records::Scope::Agenda(&view.id),
                )
            })?;
            Some(id.to_owned())
        }
        None => None,
    };
    // People see the latest changes (one more asked for, to know whether there are more);
    // `--json` and `--all` every one.
    let whole = ctx.json || all;
    let mut query = Vec::new();
    if let Some(id) = &record {
        query.push(format!("record={id}"));
    }
    if !whole {
        query.push(format!("last={}", HISTORY_SHOWN + 1));
    }
    let mut path = format!("/v1/agendas/{}/history", view.id);
    if !query.is_empty() {
        path.push_str(&format!("?{}", query.join("&")));
    }
    let mut items: Vec<confer_protocol::model::history::HistoryItem> = ctx
        .client
        .get(&path)
        .await
        .map_err(|e| e.explain(lang, ctx.data))?;
    if ctx.json {
        return print_json(&items);
    }
    if !whole && items.len() > HISTORY_SHOWN {
        items.remove(0);
        println!(
            "{}",
            match lang {
                Lang::En => format!(
                    "(the latest {HISTORY_SHOWN} changes, oldest first; --all shows every one)"
                ),
                Lang::Zh => format!("（最近 {HISTORY_SHOWN} 项修改，按时间先后；--all 显示全部）"),
            }
        );
    }
    for item in &items {
        let when = dates::Date::from_unix_seconds(u64::try_from(item.time_ms / 1000).unwrap_or(0));
        let who = format!(
            "{} {}",
            item.body_name
                .as_deref()
                .unwrap_or(&item.body[..16.min(item.body.len())]),
            item.member_name
                .as_deref()
                .unwrap_or(&item.author[..16.min(item.author.len())])
        );
        let what = if item.made {
            lang.pick("made", "新建")
        } else {
            lang.pick("changed", "修改")
        };
        let fields: Vec<String> = item
            .fields
            .iter()
            .map(|(f, v)| {
                let v: String = v.chars().take(40).collect();
                format!("{f}={}", display_line(&v))
            })
            .collect();
        println!(
            "{when}  {}  {what} {}  {}",
            display_line(&who),
            display_line(&item.target),
            fields.join(" ")
        );
    }
    Ok(())
}
