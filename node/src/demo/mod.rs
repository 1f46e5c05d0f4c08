//! `confer demo`: the embedded default. Three bodies on loopback — 平湖市政协, 金山区政协,
//! 嘉善县政协 — each a full node with its own identity and redb file in a temporary
//! directory, connected over real libp2p. A joint agenda is created between the first
//! two, edited on both sides at once, and the demo checks — and tells — that it synced,
//! who signed what, that every signature verifies, and that the third body never
//! received it. Any check that fails makes it exit non-zero with the reason.
//!
//! `confer demo --scenario NAME` plays a longer scenario on the same three nodes instead
//! ([`Scenario`]; [`pinghu_jinshan`]).

pub mod pinghu_jinshan;

use std::path::{Path, PathBuf};
use std::time::Duration;

use confer_protocol::model::AgendaEdit;
use confer_protocol::text::display_text;
use confer_protocol::{BodyId, SpaceId};
use serde::Serialize;

use crate::config::Config;
use crate::handle::NodeHandle;
use crate::i18n::Lang;
use crate::runtime::{self, RunningNode};
use crate::views::{AgendaView, StatusView};

const BODIES: [(&str, &str); 3] = [
    ("平湖市政协", "浙江省嘉兴市"),
    ("金山区政协", "上海市"),
    ("嘉善县政协", "浙江省嘉兴市"),
];
const WAIT: Duration = Duration::from_secs(30);

/// The scenarios `confer demo --scenario` plays instead of the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// 平湖市政协 and 金山区政协 (嘉善县政协 looking on): joint supervision of cross-border
    /// pollution, from the ledgers to the year-end report and a re-consultation a year later.
    PinghuJinshan,
}

/// Runs `scenario`, or the default demo without one; `Err` carries the reason a check
/// failed.
pub async fn run_scenario(
    scenario: Option<Scenario>,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    match scenario {
        None => run(json, lang).await,
        Some(Scenario::PinghuJinshan) => pinghu_jinshan::run(json, lang).await,
    }
}

#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    bodies: Vec<ReportBody>,
    agenda: String,
    title: String,
    summary: String,
    title_conflicts: usize,
    entries: usize,
    signatures_verified: usize,
    third_body_has_agenda: bool,
    steps: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ReportBody {
    name: String,
    body: String,
    peer: String,
}

/// Runs the demo; `Err` carries the reason a check failed.
pub async fn run(json: bool, lang: Lang) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("confer-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let mut nodes: Vec<RunningNode> = Vec::new();
    let result = scenario(dir.path(), &mut nodes, json, lang).await;
    for node in nodes {
        let _ = node.shutdown().await;
    }
    result
}

fn say(json: bool, steps: &mut Vec<String>, text: String) {
    if !json {
        println!("{}", display_text(&text));
    }
    steps.push(text);
}

async fn scenario(
    dir: &Path,
    nodes: &mut Vec<RunningNode>,
    json: bool,
    lang: Lang,
) -> Result<(), String> {
    let mut steps = Vec::new();
    let bodies = start_nodes(dir, &BODIES, nodes).await?;
    let handles: Vec<NodeHandle> = nodes.iter().map(|n| n.handle.clone()).collect();
    say(
        json,
        &mut steps,
        lang.pick(
            "Started three committee nodes on loopback, each with its own keys and redb file:",
            "在本机回环地址上启动了三个政协节点，各有独立密钥和 redb 数据文件：",
        )
        .to_owned(),
    );
    for Started {
        name, body, status, ..
    } in &bodies
    {
        say(
            json,
            &mut steps,
            format!(
                "  {name}  {} {}…  {} {}",
                lang.pick("body", "机构"),
                &body.to_string()[..16],
                lang.pick("peer", "节点"),
                status.peer_id
            ),
        );
    }

    connect_all(&handles, &bodies).await?;
    say(json, &mut steps, lang.pick("Connected them over libp2p (TCP + Noise + Yamux); each proved its body with a certificate signed by its committee key.", "节点之间通过 libp2p（TCP + Noise + Yamux）互联，并各自出示由本委员会密钥签发的证书证明身份。").to_owned());

    let (pinghu, jinshan, jiashan) = (&handles[0], &handles[1], &handles[2]);
    let with: Vec<BodyId> = vec![bodies[1].body];
    let title = "跨界河道水环境联防联治";
    let summary = "平湖、金山两地政协就交界河道水污染问题开展联动协商";
    let id: SpaceId = pinghu
        .create_agenda(title, Some(summary), with)
        .await
        .map_err(|e| e.to_string())?;
    say(
        json,
        &mut steps,
        format!(
            "{} {}…: {title}",
            lang.pick(
                "平湖市政协 created a joint agenda with 金山区政协:",
                "平湖市政协与金山区政协创建了联动协商议题"
            ),
            &id.to_string()[..8]
        ),
    );
    wait_until(
        || async { jinshan.show_agenda(id).await.is_ok() },
        "金山区政协 receives the agenda",
    )
    .await?;
    say(
        json,
        &mut steps,
        lang.pick("金山区政协 received it.", "金山区政协已收到该议题。")
            .to_owned(),
    );

    // Concurrent edits on both sides: both change the title at once, 金山 also the summary.
    let a = pinghu.edit_agenda(
        id,
        AgendaEdit {
            title: Some("跨界河道水环境联防联治（平湖稿）".into()),
            summary: None,
        },
    );
    let b = jinshan.edit_agenda(
        id,
        AgendaEdit {
            title: Some("金山—平湖交界河道水污染联防联治".into()),
            summary: Some("建议两地建立交界河道联合巡查和信息通报机制".into()),
        },
    );
    let (ra, rb) = tokio::join!(a, b);
    ra.map_err(|e| e.to_string())?;
    rb.map_err(|e| e.to_string())?;
    say(
        json,
        &mut steps,
        lang.pick(
            "Both sides edited the title at the same moment; 金山区政协 also edited the summary.",
            "双方同时修改了标题，金山区政协还修改了摘要。",
        )
        .to_owned(),
    );

    wait_until(
        || async {
            match (pinghu.show_agenda(id).await, jinshan.show_agenda(id).await) {
                (Ok(x), Ok(y)) => x.vector == y.vector && x.fields == y.fields && x.entries >= 3,
                _ => false,
            }
        },
        "both sides converge to the same agenda",
    )
    .await?;
    let view_a = pinghu.show_agenda(id).await.map_err(|e| e.to_string())?;
    let view_b = jinshan.show_agenda(id).await.map_err(|e| e.to_string())?;
    if !(view_a.all_signatures_verified && view_b.all_signatures_verified) {
        return Err(format!(
            "signature check failed: {:?} {:?}",
            view_a.signatures_failed, view_b.signatures_failed
        ));
    }
    say(
        json,
        &mut steps,
        lang.pick(
            "Both nodes now show the same agenda (same fields, same version vector):",
            "两个节点现在显示相同的议题（字段与版本向量一致）：",
        )
        .to_owned(),
    );
    describe(&view_a, json, &mut steps, lang);
    say(
        json,
        &mut steps,
        format!(
            "{} {} / {}",
            lang.pick(
                "Signatures verified on both nodes:",
                "两个节点上的签名全部验证通过："
            ),
            view_a.signatures_verified,
            view_b.signatures_verified
        ),
    );

    // The third body must never have received it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let third: StatusView = jiashan.status().await.map_err(|e| e.to_string())?;
    let third_has = third.spaces.iter().any(|s| s.id == id.to_string())
        || jiashan.show_agenda(id).await.is_ok();
    if third_has {
        return Err("嘉善县政协 received an agenda it is not a member of".into());
    }
    say(
        json,
        &mut steps,
        lang.pick(
            "嘉善县政协, connected to both but not a member, never received the agenda.",
            "嘉善县政协虽与两节点相连，但不是参与机构，始终没有收到该议题。",
        )
        .to_owned(),
    );

    if json {
        let report = Report {
            ok: true,
            bodies: bodies
                .iter()
                .map(|b| ReportBody {
                    name: b.name.clone(),
                    body: b.body.to_string(),
                    peer: b.status.peer_id.clone(),
                })
                .collect(),
            agenda: id.to_string(),
            title: view_a.text("title").to_owned(),
            summary: view_a.text("summary").to_owned(),
            title_conflicts: view_a
                .fields
                .iter()
                .find(|f| f.name == "title")
                .map_or(0, |f| f.conflicts.len()),
            entries: view_a.entries,
            signatures_verified: view_a.signatures_verified,
            third_body_has_agenda: third_has,
            steps,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{}",
            lang.pick(
                "Demo complete: everything held.",
                "演示完成：各项检查均通过。"
            )
        );
    }
    Ok(())
}

/// A node the demo started, and what it showed right after.
pub(crate) struct Started {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) body: BodyId,
    pub(crate) status: StatusView,
}

/// Makes a body with its first member (秘书处) in `dir/node<i>` for each `(name, region)`
/// and starts its node on loopback; each running node is pushed onto `nodes`, which the
/// caller shuts down whatever happens.
pub(crate) async fn start_nodes(
    dir: &Path,
    bodies: &[(&str, &str)],
    nodes: &mut Vec<RunningNode>,
) -> Result<Vec<Started>, String> {
    let mut started = Vec::new();
    for (i, (name, region)) in bodies.iter().enumerate() {
        let data = dir.join(format!("node{i}"));
        let local = crate::identity::init(&data, name, region, "秘书处", runtime::unix_now())
            .map_err(|e| e.to_string())?;
        let node = runtime::start(Config::loopback(&data))
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        let status = node.handle.status().await.map_err(|e| e.to_string())?;
        started.push(Started {
            name: (*name).to_owned(),
            dir: data,
            body: local.identity.body(),
            status,
        });
        nodes.push(node);
    }
    Ok(started)
}

/// Connects the nodes in a full mesh, both ways: each committee adds the others' nodes,
/// which is what makes it trust them (accept agendas they create). In real use the
/// addresses come by letter. Waits until every node has proved its body to all others.
pub(crate) async fn connect_all(handles: &[NodeHandle], started: &[Started]) -> Result<(), String> {
    for (i, h) in handles.iter().enumerate() {
        for (j, other) in started.iter().enumerate() {
            if i != j {
                let addr = other
                    .status
                    .listen
                    .first()
                    .ok_or("a node has no listen address")?;
                h.add_peer(addr.parse().map_err(|e| format!("{e}"))?)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    let others = handles.len().saturating_sub(1);
    for h in handles {
        wait_until(
            || async {
                h.status()
                    .await
                    .map(|s| s.peers.iter().filter(|p| p.body.is_some()).count() == others)
                    .unwrap_or(false)
            },
            "every node proves its body to the others",
        )
        .await?;
    }
    Ok(())
}

fn describe(view: &AgendaView, json: bool, steps: &mut Vec<String>, lang: Lang) {
    for f in &view.fields {
        if let Some(v) = &f.current {
            let who = format!(
                "{} @ {}",
                v.member_name.as_deref().unwrap_or("?"),
                v.body
                    .as_ref()
                    .and_then(|b| b.name.as_deref())
                    .unwrap_or("?")
            );
            say(
                json,
                steps,
                format!(
                    "  {}: {}  ({} {who})",
                    f.name,
                    v.value,
                    lang.pick("signed by", "签名者")
                ),
            );
        }
        for c in &f.conflicts {
            let who = c
                .body
                .as_ref()
                .and_then(|b| b.name.as_deref())
                .unwrap_or("?");
            say(
                json,
                steps,
                format!(
                    "    {} \"{}\" ({who}) {}",
                    lang.pick(
                        "concurrent edit kept as a visible conflict:",
                        "并发修改作为可见冲突保留："
                    ),
                    c.value,
                    lang.pick("— every node picks the same winner", "——各节点选出同一结果")
                ),
            );
        }
    }
}

pub(crate) async fn wait_until<F, Fut>(check: F, what: &str) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "timed out after {} s waiting until {what}",
        WAIT.as_secs()
    ))
}
