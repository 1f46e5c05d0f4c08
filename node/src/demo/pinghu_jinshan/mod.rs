//! `confer demo --scenario pinghu-jinshan`: the joint supervision of cross-border pollution
//! by 平湖市政协 and 金山区政协 (the seeds' example), from each body's ledger to the
//! year-end report and a re-consultation a year later, with 嘉善县政协 connected to both
//! but not taking part.
//!
//! The scenario writes only through a node's real write path ([`NodeHandle::apply`] with
//! model actions, each body's ledger through [`NodeHandle::own_space`]) and reads only
//! through its read path ([`NodeHandle::read`], [`NodeHandle::show_agenda`]) and the pure
//! views of `confer_protocol::model::agenda` (`followup`, `report`, `outcomes`). Each body's
//! signer is a member key made with the library calls `confer member add --role chair
//! --can-sign` uses, in the body's data directory, and announced to the running node with
//! [`NodeHandle::reload_members`].
//!
//! The figures of the account are read on the partner's node (金山区政协's views), never
//! taken from the script, and each is checked against what the script wrote
//! ([`Account::checks`]); the account is `ok` only if every one held. Dates are fixed (the
//! first year is 2025, the report is as of 2025-12-31), so the account is the same on every
//! run but for ids and keys. [`play`] runs it on nodes the caller started and connected
//! (the multi-node test does); [`run`] is the demo, on three fresh nodes on loopback.

mod account;
mod script;
mod texts;

use std::path::PathBuf;

use confer_protocol::text::display_text;
use confer_protocol::BodyId;
use serde::Serialize;

pub use account::{
    BodyFigures, Check, Figures, LedgerFigures, OverdueFigure, RoundTwoFigures, SignatureFigure,
};

use crate::handle::NodeHandle;
use crate::i18n::Lang;
use crate::runtime::RunningNode;

/// The scenario's name on the command line.
pub const NAME: &str = "pinghu-jinshan";
/// The year the report covers, and the date it is as of.
pub const REPORT_YEAR: u32 = 2025;
pub const AS_OF: &str = "2025-12-31";

/// A committee taking part: its running node, and its data directory (where its signer's
/// key is made, as `confer member add` would).
#[derive(Debug, Clone)]
pub struct Party {
    pub name: String,
    pub dir: PathBuf,
    pub handle: NodeHandle,
    pub body: BodyId,
}

/// The committees: the two that consult, and optionally a third, connected to both, that
/// must never receive their agenda.
#[derive(Debug, Clone)]
pub struct Parties {
    pub pinghu: Party,
    pub jinshan: Party,
    pub jiashan: Option<Party>,
}

/// The lines the scenario tells as it goes; printed at once unless quiet.
#[derive(Debug, Default)]
pub struct Narration {
    echo: bool,
    pub steps: Vec<String>,
}

impl Narration {
    /// Prints each line as it comes.
    pub fn printed() -> Self {
        Narration {
            echo: true,
            steps: Vec::new(),
        }
    }

    /// Keeps the lines without printing them (`--json`, tests).
    pub fn quiet() -> Self {
        Narration::default()
    }

    pub(crate) fn say(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.echo {
            println!("{}", display_text(&text));
        }
        self.steps.push(text);
    }
}

/// What the scenario found: the figures read on the partner's node, each checked against
/// what the scenario wrote, and the year-end report.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// Every check held.
    pub ok: bool,
    pub scenario: &'static str,
    pub agenda: String,
    /// The node the figures were read on.
    pub read_on: String,
    pub figures: Figures,
    /// One check per figure: what the scenario wrote, what the partner's views show.
    pub checks: Vec<Check>,
    /// What did not hold, one line each (empty when `ok`).
    pub failed: Vec<String>,
    /// The first year's report, as the partner's node computes it.
    pub report: confer_protocol::model::agenda::report::Report,
    pub report_markdown: String,
    pub steps: Vec<String>,
}

/// Plays the scenario on `parties`' nodes, which must already be connected to each other
/// and trust each other's bodies; tells each step through `narration` (in `lang`). `Err`
/// when a step could not be done; a figure that does not match what was written is a
/// failed check in the account, not an error.
pub async fn play(
    parties: &Parties,
    lang: Lang,
    narration: &mut Narration,
) -> Result<Account, String> {
    let written = script::write(parties, lang, narration).await?;
    let read = account::read(parties, &written).await?;
    let expected = script::expected(parties);
    let (checks, failed) = account::compare(&expected, &read.figures);
    for line in account::lines(&read.figures, &parties.jinshan.name, lang) {
        narration.say(line);
    }
    let held = checks.iter().filter(|c| c.held).count();
    narration.say(match lang {
        Lang::En => format!("{held} of {} checks held.", checks.len()),
        Lang::Zh => format!("共 {} 项核对，{held} 项一致。", checks.len()),
    });
    for line in &failed {
        narration.say(format!(
            "  {} {line}",
            lang.pick("did not hold:", "不一致：")
        ));
    }
    Ok(Account {
        ok: failed.is_empty(),
        scenario: NAME,
        agenda: written.agenda.to_string(),
        read_on: parties.jinshan.name.clone(),
        figures: read.figures,
        checks,
        failed,
        report_markdown: confer_protocol::model::agenda::report::markdown(
            &read.report,
            lang == Lang::Zh,
        ),
        report: read.report,
        steps: std::mem::take(&mut narration.steps),
    })
}

const BODIES: [(&str, &str); 3] = [
    ("平湖市政协", "浙江省嘉兴市"),
    ("金山区政协", "上海市"),
    ("嘉善县政协", "浙江省嘉兴市"),
];

/// The demo: three fresh nodes on loopback in a temporary directory, the scenario, the
/// account (text, or JSON with `json`). `Err` names what did not hold.
pub async fn run(json: bool, lang: Lang) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("confer-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let mut nodes: Vec<RunningNode> = Vec::new();
    let result = start_and_play(dir.path(), &mut nodes, json, lang).await;
    for node in nodes {
        let _ = node.shutdown().await;
    }
    let account = result?;
    if json {
        let text = serde_json::to_string_pretty(&account).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        println!();
        println!("{}", display_text(&account.report_markdown));
    }
    if account.ok {
        if !json {
            println!(
                "{}",
                lang.pick(
                    "Scenario complete: every figure read on the partner's node matches what was written.",
                    "场景演示完成：在合作方节点上读到的各项数字均与写入内容一致。",
                )
            );
        }
        Ok(())
    } else {
        Err(format!(
            "{} {}",
            lang.pick("these figures did not hold:", "以下数字与写入内容不符："),
            account.failed.join("; ")
        ))
    }
}

async fn start_and_play(
    dir: &std::path::Path,
    nodes: &mut Vec<RunningNode>,
    json: bool,
    lang: Lang,
) -> Result<Account, String> {
    let mut narration = if json {
        Narration::quiet()
    } else {
        Narration::printed()
    };
    let started = super::start_nodes(dir, &BODIES, nodes).await?;
    let handles: Vec<NodeHandle> = nodes.iter().map(|n| n.handle.clone()).collect();
    super::connect_all(&handles, &started).await?;
    narration.say(lang.pick(
        "Started three committee nodes on loopback and connected them (each with its own keys and redb file): 平湖市政协 and 金山区政协 consult jointly; 嘉善县政协 is connected to both but takes no part.",
        "在本机启动并互联三个政协节点（各有独立密钥和 redb 数据文件）：平湖市政协与金山区政协开展联动协商，嘉善县政协与两者相连但不参与。",
    ));
    let mut parties = started.into_iter().zip(handles).map(|(s, handle)| Party {
        name: s.name,
        dir: s.dir,
        handle,
        body: s.body,
    });
    let (Some(pinghu), Some(jinshan), jiashan) = (parties.next(), parties.next(), parties.next())
    else {
        return Err("the demo needs three nodes".into());
    };
    let parties = Parties {
        pinghu,
        jinshan,
        jiashan,
    };
    play(&parties, lang, &mut narration).await
}
