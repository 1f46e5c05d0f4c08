//! The body's own ledger from the command line: `topic add|screen|merge|list|show` (台账:
//! candidate topics and their screening), `plan add|list` (年度协商计划) and
//! `expert add|list|share` (第三方专家库, shared into a joint agenda). The ledger is a space
//! whose only member is this body, made by the node on the first write
//! (`POST /v1/ledger/records`); nothing in it reaches a partner until an expert is shared.

use clap::{Subcommand, ValueEnum};
use confer_protocol::model::ledger::LEDGER_SCHEMA;
use confer_protocol::model::schema::check_value;
use confer_protocol::text::display_line;

use super::ids;
use super::records::{Ctx, Fields, Scope, Write, Writer};
use super::render_workflow as say;
use super::{member, print_json};
use crate::api::WriteRecord;
use crate::i18n::Lang;
use crate::views::{Created, LedgerView, RecordView};

/// Where a topic came from.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    /// 委员
    Member,
    /// 委员联络站
    LiaisonStation,
    /// 基层走访
    GrassrootsVisit,
    /// 网络征集
    Online,
    /// 党政出题
    PartyGovernment,
    /// 委员荐题
    MemberRecommended,
}

/// How urgent a topic is.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Urgency {
    /// Fast track (应急).
    Emergency,
    Routine,
}

/// Topic and plan categories.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Category {
    Planning,
    MajorDecision,
    Livelihood,
    Legislation,
}

/// Why a topic is screened out.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Reason {
    /// 涉法涉诉
    Litigation,
    /// 纳入信访
    Petition,
    /// 不具有代表性
    Unrepresentative,
    /// Another reason, given with --text.
    Other,
}

fn value<T: ValueEnum>(v: T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Put a candidate topic in this body's ledger (台账).
    Add {
        /// The topic.
        #[arg(long)]
        title: String,
        /// More about it.
        #[arg(long)]
        summary: Option<String>,
        /// Where it came from.
        #[arg(long, value_enum)]
        source: Source,
        /// Who or which station proposed it.
        #[arg(long, value_name = "TEXT")]
        source_detail: Option<String>,
        /// Emergency topics take the fast track.
        #[arg(long, value_enum, default_value = "routine")]
        urgency: Urgency,
        /// The topic's field.
        #[arg(long, value_enum)]
        category: Category,
        /// The day it came in, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record the screening: accept a topic, or screen it out with a reason.
    Screen {
        /// The topic's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// Accept it (default: screen it out, which needs --reason).
        #[arg(long)]
        accept: bool,
        /// Why it is screened out.
        #[arg(long, value_enum)]
        reason: Option<Reason>,
        /// The reason in words (required with --reason other).
        #[arg(long)]
        text: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Merge a topic into a similar one; both keep their own origin.
    Merge {
        /// The topic merged away.
        id: String,
        /// The topic it merges into.
        #[arg(long, value_name = "ID")]
        into: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// List the ledger's topics.
    List,
    /// Show a topic, its screening, what was merged into it and its joint agenda.
    Show {
        /// The topic's id, or a unique prefix of 8+ hex characters of it.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Add an item to the annual consultation plan (年度协商计划).
    Add {
        /// The plan's year.
        #[arg(long)]
        year: u32,
        /// The item's field.
        #[arg(long, value_enum)]
        category: Category,
        /// The item's title.
        #[arg(long)]
        title: String,
        /// A topic of the ledger it takes up (repeatable).
        #[arg(long = "topic", value_name = "ID")]
        topics: Vec<String>,
        /// A joint agenda it is carried out in (repeatable).
        #[arg(long = "agenda", value_name = "ID")]
        agendas: Vec<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// List the plan's items, by year and category.
    List {
        /// Only this year.
        #[arg(long)]
        year: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExpertCommand {
    /// Add an expert to this body's pool (第三方专家库).
    Add {
        /// The expert's name.
        #[arg(long)]
        name: String,
        /// Field of expertise.
        #[arg(long)]
        field: Option<String>,
        /// Where the expert works.
        #[arg(long)]
        affiliation: Option<String>,
        /// How to reach the expert (kept in this body's ledger only).
        #[arg(long)]
        contact: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// List the pool.
    List,
    /// Share an expert into a joint agenda (name, field and affiliation; not the contact).
    Share {
        /// The expert's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The agenda (id or a unique prefix of 8+ hex characters).
        #[arg(long)]
        agenda: String,
        #[command(flatten)]
        writer: Writer,
    },
}

async fn ledger(ctx: &Ctx<'_>) -> Result<LedgerView, String> {
    ctx.client
        .get("/v1/ledger")
        .await
        .map_err(|e| e.explain(ctx.lang, ctx.data))
}

/// The record of `collection` in the ledger whose id `input` is or starts.
fn pick<'v>(
    lang: Lang,
    view: &'v LedgerView,
    collection: &'static str,
    input: &str,
) -> Result<&'v RecordView, String> {
    let records = view.records(collection);
    let id = ids::resolve_prefix(input.trim(), records.iter().map(|r| r.id.as_str()))
        .map_err(|e| say::prefix_error(lang, &e, collection, input, Scope::Node))?;
    records.iter().find(|r| r.id == id).ok_or_else(|| {
        say::prefix_error(
            lang,
            &ids::PrefixError::NoMatch,
            collection,
            input,
            Scope::Node,
        )
    })
}

/// Checks the fields against the ledger's schema and posts one write.
async fn save(
    ctx: &Ctx<'_>,
    collection: &'static str,
    id: Option<String>,
    fields: Fields,
    writer: &Writer,
) -> Result<String, String> {
    let fields = fields.into_vec();
    let schema = LEDGER_SCHEMA
        .collection(collection)
        .ok_or_else(|| format!("no collection {collection}"))?;
    for (name, v) in &fields {
        let field = schema
            .field(name)
            .ok_or_else(|| format!("a {collection} has no field {name}"))?;
        if v.trim().is_empty() {
            return Err(say::blank(ctx.lang, name));
        }
        check_value(field, v).map_err(|e| say::bad_value(ctx.lang, name, &e))?;
    }
    let as_member = match &writer.as_member {
        Some(m) => Some(member::resolve(&ctx.client, m, ctx.lang, ctx.data).await?),
        None => None,
    };
    let request = WriteRecord {
        collection: collection.to_owned(),
        id,
        fields: fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
        as_member,
    };
    let created: Created = ctx
        .client
        .post("/v1/ledger/records", &request)
        .await
        .map_err(|e| e.explain(ctx.lang, ctx.data))?;
    Ok(created.id)
}

fn done(ctx: &Ctx<'_>, id: &str, en: &str, zh: &str) -> Result<(), String> {
    if ctx.json {
        print_json(&Created { id: id.to_owned() })
    } else {
        println!("{} {id}", ctx.lang.pick(en, zh));
        Ok(())
    }
}

fn today_or(lang: Lang, date: Option<String>) -> Result<String, String> {
    Ok(match date {
        Some(d) => super::dates::parse(lang, "--date", &d)?.to_string(),
        None => super::dates::today().to_string(),
    })
}

pub async fn topic(ctx: &Ctx<'_>, command: TopicCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        TopicCommand::Add {
            title,
            summary,
            source,
            source_detail,
            urgency,
            category,
            date,
            writer,
        } => {
            let fields = Fields::new()
                .set("title", title)
                .opt("summary", summary)
                .set("source", value(source))
                .opt("source_detail", source_detail)
                .set("urgency", value(urgency))
                .set("category", value(category))
                .set("date", today_or(lang, date)?);
            let id = save(ctx, "topic", None, fields, &writer).await?;
            done(ctx, &id, "Added topic", "已登记台账选题")
        }
        TopicCommand::Screen {
            id,
            accept,
            reason,
            text,
            writer,
        } => {
            let view = ledger(ctx).await?;
            let topic = pick(lang, &view, "topic", &id)?;
            let fields = if accept {
                Fields::new().set("screening", "accepted")
            } else {
                let reason = reason.ok_or_else(|| {
                    lang.pick(
                        "give --accept, or --reason litigation|petition|unrepresentative|other to screen it out",
                        "请给出 --accept，或以 --reason litigation|petition|unrepresentative|other 说明不予采用的理由",
                    )
                    .to_owned()
                })?;
                if matches!(reason, Reason::Other)
                    && text.as_deref().is_none_or(|t| t.trim().is_empty())
                {
                    return Err(lang
                        .pick(
                            "--reason other needs --text saying why",
                            "--reason other 需用 --text 写明理由",
                        )
                        .to_owned());
                }
                Fields::new()
                    .set("screening", "rejected")
                    .set("screening_reason", value(reason))
                    .opt("screening_text", text)
            };
            let fields = fields.set("screened_on", super::dates::today().to_string());
            let id = save(ctx, "topic", Some(topic.id.clone()), fields, &writer).await?;
            done(
                ctx,
                &id,
                "Recorded the screening of topic",
                "已记录选题筛选结果：",
            )
        }
        TopicCommand::Merge { id, into, writer } => {
            let view = ledger(ctx).await?;
            let from = pick(lang, &view, "topic", &id)?;
            let to = pick(lang, &view, "topic", &into)?;
            let fields = Fields::new().set("merged_into", to.id.clone());
            let id = save(ctx, "topic", Some(from.id.clone()), fields, &writer).await?;
            done(
                ctx,
                &id,
                "Merged (both origins are kept): topic",
                "已合并（双方来源均保留）：选题",
            )
        }
        TopicCommand::List => {
            let view = ledger(ctx).await?;
            if ctx.json {
                return print_json(&view.records("topic"));
            }
            for t in view.records("topic") {
                let state = match (t.get("screening"), t.get("merged_into")) {
                    (_, m) if !m.is_empty() => format!(
                        "{} {}",
                        lang.pick("merged into", "已并入"),
                        &m[..8.min(m.len())]
                    ),
                    ("accepted", _) => lang.pick("accepted", "已采用").to_owned(),
                    ("rejected", _) => format!(
                        "{} ({})",
                        lang.pick("screened out", "不予采用"),
                        t.get("screening_reason")
                    ),
                    _ => lang.pick("not screened", "待筛选").to_owned(),
                };
                println!(
                    "{}  {}  [{} · {} · {}]  {state}",
                    t.id,
                    display_line(t.get("title")),
                    t.get("source"),
                    t.get("urgency"),
                    t.get("category")
                );
            }
            Ok(())
        }
        TopicCommand::Show { id } => {
            let view = ledger(ctx).await?;
            let topic = pick(lang, &view, "topic", &id)?;
            let merged: Vec<&RecordView> = view
                .records("topic")
                .iter()
                .filter(|t| t.get("merged_into") == topic.id)
                .collect();
            if ctx.json {
                return print_json(&serde_json::json!({ "topic": topic, "merged": merged }));
            }
            println!("{}  {}", topic.id, display_line(topic.get("title")));
            for field in &topic.fields {
                if let Some(v) = &field.current {
                    println!("  {}: {}", field.name, display_line(&v.value));
                }
            }
            for m in merged {
                println!(
                    "  {} {}  {} ({})",
                    lang.pick("merged in:", "并入："),
                    m.id,
                    display_line(m.get("title")),
                    m.get("source")
                );
            }
            Ok(())
        }
    }
}

pub async fn plan(ctx: &Ctx<'_>, command: PlanCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        PlanCommand::Add {
            year,
            category,
            title,
            topics,
            agendas,
            writer,
        } => {
            let view = ledger(ctx).await?;
            let topics = topics
                .iter()
                .map(|t| pick(lang, &view, "topic", t).map(|r| r.id.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let mut ids_of_agendas = Vec::new();
            for a in &agendas {
                ids_of_agendas.push(super::agenda_id(&ctx.client, a, lang, ctx.data).await?);
            }
            let fields = Fields::new()
                .set("year", year.to_string())
                .set("category", value(category))
                .set("title", title)
                .opt("topics", (!topics.is_empty()).then(|| topics.join(",")))
                .opt(
                    "agendas",
                    (!ids_of_agendas.is_empty()).then(|| ids_of_agendas.join(",")),
                );
            let id = save(ctx, "plan_item", None, fields, &writer).await?;
            done(ctx, &id, "Added plan item", "已加入年度协商计划：")
        }
        PlanCommand::List { year } => {
            let view = ledger(ctx).await?;
            let mut items: Vec<&RecordView> = view
                .records("plan_item")
                .iter()
                .filter(|p| year.is_none_or(|y| p.get("year") == y.to_string()))
                .collect();
            items.sort_by(|a, b| {
                (a.get("year"), a.get("category")).cmp(&(b.get("year"), b.get("category")))
            });
            if ctx.json {
                return print_json(&items);
            }
            for p in items {
                println!(
                    "{}  {} · {} · {}",
                    p.id,
                    p.get("year"),
                    p.get("category"),
                    display_line(p.get("title"))
                );
            }
            Ok(())
        }
    }
}

pub async fn expert(ctx: &Ctx<'_>, command: ExpertCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        ExpertCommand::Add {
            name,
            field,
            affiliation,
            contact,
            writer,
        } => {
            let fields = Fields::new()
                .set("name", name)
                .opt("field", field)
                .opt("affiliation", affiliation)
                .opt("contact", contact);
            let id = save(ctx, "expert", None, fields, &writer).await?;
            done(ctx, &id, "Added expert", "已加入专家库：")
        }
        ExpertCommand::List => {
            let view = ledger(ctx).await?;
            if ctx.json {
                return print_json(&view.records("expert"));
            }
            for e in view.records("expert") {
                println!(
                    "{}  {} · {} · {}",
                    e.id,
                    display_line(e.get("name")),
                    display_line(e.get("field")),
                    display_line(e.get("affiliation"))
                );
            }
            Ok(())
        }
        ExpertCommand::Share { id, agenda, writer } => {
            let pool = ledger(ctx).await?;
            let expert = pick(lang, &pool, "expert", &id)?;
            let view = ctx.agenda(&agenda, &[]).await?;
            let fields = Fields::new()
                .set("name", expert.get("name"))
                .opt(
                    "field",
                    Some(expert.get("field").to_owned()).filter(|v| !v.is_empty()),
                )
                .opt(
                    "affiliation",
                    Some(expert.get("affiliation").to_owned()).filter(|v| !v.is_empty()),
                )
                .set("pool_id", expert.id.clone());
            ctx.save(Write::new(&view, "expert", fields), &writer).await
        }
    }
}

/// Links a new agenda to the topic it came from: the topic records the agenda.
pub async fn link_topic(ctx: &Ctx<'_>, topic: &str, agenda: &str) -> Result<(), String> {
    let fields = Fields::new().set("agenda", agenda.to_owned());
    save(
        ctx,
        "topic",
        Some(topic.to_owned()),
        fields,
        &Writer { as_member: None },
    )
    .await
    .map(|_| ())
}

/// The topic `input` names in this body's ledger, for `agenda new --from-topic`.
pub async fn topic_for_agenda(ctx: &Ctx<'_>, input: &str) -> Result<RecordView, String> {
    let view = ledger(ctx).await?;
    pick(ctx.lang, &view, "topic", input).cloned()
}
