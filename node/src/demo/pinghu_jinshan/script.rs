//! The scenario's writes, step by step, each on the node of the body that does it, through
//! [`NodeHandle::apply`]; and [`expected`]: the figures those writes must show.
//!
//! A write that names a record written on the other node waits until that node holds it
//! (the rules refuse a reference to a record not there yet). Record ids are random, as an
//! operator's would be.

use std::collections::BTreeMap;

use confer_protocol::model::date::Date;
use confer_protocol::model::{
    AgendaAction, LedgerAction, ModelAction, ModelView, RecordId, RecordKey, RecordWrite,
};
use confer_protocol::{PublicKey, Role, SpaceId, SpaceKind};
use rand::RngExt;

use super::account::{
    pct, BodyFigures, Figures, LedgerFigures, OverdueFigure, RoundTwoFigures, SignatureFigure,
};
use super::texts::{self, Concern, Ledger, Side, CHOSEN, SUGGESTIONS, UNITS};
use super::{Narration, Parties, Party, AS_OF};
use crate::demo::wait_until;
use crate::i18n::Lang;

/// What the script wrote that the account needs to find it again.
pub(super) struct Written {
    pub(super) agenda: SpaceId,
    pub(super) ledgers: [SpaceId; 2],
    pub(super) round_one: RecordId,
    pub(super) round_two: RecordId,
    pub(super) outcome: RecordId,
}

fn new_id() -> RecordId {
    RecordId::from_bytes(rand::rng().random())
}

fn fields(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn record(
    collection: &'static str,
    id: RecordId,
    create: bool,
    pairs: &[(&'static str, &str)],
) -> RecordWrite {
    RecordWrite {
        key: RecordKey {
            collection,
            // A body-area collection goes to the author's body's area (`ModelAction::placed`).
            body: None,
            id,
        },
        create,
        fields: fields(pairs),
    }
}

async fn apply(
    party: &Party,
    space: SpaceId,
    action: ModelAction,
    author: Option<PublicKey>,
    what: &str,
) -> Result<(), String> {
    party
        .handle
        .apply(space, action, author)
        .await
        .map_err(|e| format!("{} could not write {what}: {e}", party.name))
}

/// Makes an agenda record as `party`'s first member; answers its new id.
async fn make(
    party: &Party,
    space: SpaceId,
    collection: &'static str,
    pairs: &[(&'static str, &str)],
) -> Result<RecordId, String> {
    let id = new_id();
    let action = AgendaAction::Write(record(collection, id, true, pairs)).into();
    apply(party, space, action, None, collection).await?;
    Ok(id)
}

/// Stores a small note as an attachment of the agenda (content-addressed: its id is the
/// first 8 bytes of its SHA-256) and answers its id.
async fn attach(party: &Party, space: SpaceId, note: &str) -> Result<RecordId, String> {
    use base64::Engine;
    use sha2::Digest;
    let bytes = note.as_bytes();
    let digest: [u8; 32] = sha2::Sha256::digest(bytes).into();
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    let id = RecordId::from_bytes(id);
    let sha = hex::encode(digest);
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let name = format!("{note}.txt");
    let pairs = [
        ("name", name.as_str()),
        ("media_type", "text/plain"),
        ("sha256", sha.as_str()),
        ("data", data.as_str()),
    ];
    let action = AgendaAction::Write(record("attachment", id, true, &pairs)).into();
    apply(party, space, action, None, "attachment").await?;
    Ok(id)
}

/// Edits an agenda record (in the shared part or `party`'s own area).
async fn edit(
    party: &Party,
    space: SpaceId,
    collection: &'static str,
    id: RecordId,
    pairs: &[(&'static str, &str)],
) -> Result<(), String> {
    let action = AgendaAction::Write(record(collection, id, false, pairs)).into();
    apply(party, space, action, None, collection).await
}

/// Makes (`id` none) or edits a record of `party`'s ledger; answers its id.
async fn ledger(
    party: &Party,
    space: SpaceId,
    collection: &'static str,
    id: Option<RecordId>,
    pairs: &[(&'static str, &str)],
) -> Result<RecordId, String> {
    let (id, create) = id.map_or_else(|| (new_id(), true), |id| (id, false));
    let action = LedgerAction::Write(record(collection, id, create, pairs)).into();
    apply(party, space, action, None, collection).await?;
    Ok(id)
}

/// Waits until `party`'s node holds every record in `wanted` in `space`.
async fn holds(
    party: &Party,
    space: SpaceId,
    wanted: &[(&str, RecordId)],
    what: &str,
) -> Result<(), String> {
    wait_until(
        || async {
            match party.handle.read(space).await {
                Ok(ModelView::Agenda(view)) => wanted
                    .iter()
                    .all(|(c, id)| view.record(c, &id.to_string()).is_some()),
                _ => false,
            }
        },
        &format!("{} holds {what}", party.name),
    )
    .await
}

/// The name of a body's signer (its chair, who may sign joint outcomes).
pub(super) fn signer_name(party: &Party) -> String {
    format!("{}主席", party.name)
}

/// Makes the body's signer as `confer member add --role chair --can-sign` does (the body
/// key is in the data directory here), then has the running node read its members again.
async fn add_signer(party: &Party) -> Result<PublicKey, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", party.name);
    let body_key = crate::identity::load_body_key(&party.dir, None).map_err(|e| fail(&e))?;
    let cert = crate::identity::members::add_member(
        &party.dir,
        &body_key,
        &signer_name(party),
        Role::Chair,
        true,
        crate::runtime::unix_now(),
    )
    .map_err(|e| fail(&e))?;
    let members = party.handle.reload_members().await.map_err(|e| fail(&e))?;
    if !members
        .iter()
        .any(|m| m.key == cert.key.to_string() && m.can_sign)
    {
        return Err(fail(&"the node does not list its new signer"));
    }
    Ok(cert.key)
}

fn side(parties: &Parties, side: Side) -> &Party {
    match side {
        Side::Pinghu => &parties.pinghu,
        Side::Jinshan => &parties.jinshan,
    }
}

fn concerned(parties: &Parties, concern: Concern) -> String {
    match concern {
        Concern::Both => format!("{},{}", parties.pinghu.body, parties.jinshan.body),
        Concern::Only(s) => side(parties, s).body.to_string(),
    }
}

/// Step 1: a body's ledger — three candidate topics, one screened out with its reason, one
/// merged into a similar one. Answers the ledger and the topic kept.
async fn fill_ledger(party: &Party, book: &Ledger) -> Result<(SpaceId, RecordId), String> {
    let space = party
        .handle
        .own_space(SpaceKind::Ledger, true)
        .await
        .map_err(|e| format!("{}: {e}", party.name))?
        .ok_or_else(|| format!("{} made no ledger", party.name))?;
    let mut ids = Vec::new();
    for t in [&book.kept, &book.merged, &book.rejected] {
        let id = ledger(
            party,
            space,
            "topic",
            None,
            &[
                ("title", t.title),
                ("summary", t.summary),
                ("source", t.source),
                ("source_detail", t.source_detail),
                ("urgency", t.urgency),
                ("category", t.category),
                ("date", t.date),
            ],
        )
        .await?;
        ids.push(id);
    }
    let (kept, merged, rejected) = (ids[0], ids[1], ids[2]);
    let on = book.screened_on;
    let accepted = [("screening", "accepted"), ("screened_on", on)];
    ledger(party, space, "topic", Some(kept), &accepted).await?;
    let screened_out = [
        ("screening", "rejected"),
        ("screening_reason", book.reason),
        ("screening_text", book.reason_text),
        ("screened_on", on),
    ];
    ledger(party, space, "topic", Some(rejected), &screened_out).await?;
    let into = kept.to_string();
    ledger(
        party,
        space,
        "topic",
        Some(merged),
        &[("merged_into", &into)],
    )
    .await?;
    Ok((space, kept))
}

/// Links a ledger's topic to the agenda, and puts it in the year's plan.
async fn link_topic(
    party: &Party,
    space: SpaceId,
    topic: RecordId,
    agenda: SpaceId,
    category: &str,
) -> Result<(), String> {
    let agenda = agenda.to_string();
    ledger(party, space, "topic", Some(topic), &[("agenda", &agenda)]).await?;
    let topic = topic.to_string();
    ledger(
        party,
        space,
        "plan_item",
        None,
        &[
            ("year", "2025"),
            ("category", category),
            ("title", texts::AGENDA_TITLE),
            ("topics", &topic),
            ("agendas", &agenda),
        ],
    )
    .await?;
    Ok(())
}

/// Runs steps 1 to 7, telling each.
pub(super) async fn write(
    parties: &Parties,
    lang: Lang,
    say: &mut Narration,
) -> Result<Written, String> {
    let (p, j) = (&parties.pinghu, &parties.jinshan);
    let signers = [add_signer(p).await?, add_signer(j).await?];
    say.say(match lang {
        Lang::En => format!(
            "Each body made its signer (role chair, may sign joint outcomes) as `confer member add --role chair --can-sign` does: {}, {}.",
            signer_name(p),
            signer_name(j)
        ),
        Lang::Zh => format!(
            "两地各自生成签署人（角色：主席，可代表本机构签署协商成果），做法与 `confer member add --role chair --can-sign` 相同：{}、{}。",
            signer_name(p),
            signer_name(j)
        ),
    });

    // 1. The ledgers.
    let (p_ledger, p_topic) = fill_ledger(p, &texts::PINGHU_LEDGER).await?;
    let (j_ledger, j_topic) = fill_ledger(j, &texts::JINSHAN_LEDGER).await?;
    say.say(lang.pick(
        "1. Ledgers (台账): each body recorded three candidate topics with their source and urgency, screened one out with its reason (平湖: 涉法涉诉 litigation; 金山: 纳入信访 petition) and merged two similar ones.",
        "1. 台账：两地各录入 3 个候选议题（来源、紧急程度、类别），各筛除 1 个并注明理由（平湖：涉法涉诉；金山：已纳入信访），各将 1 个相近议题合并。",
    ));

    // 2. Selection: the agenda, each chair meeting's preselection, the confirmation.
    let agenda = p
        .handle
        .create_agenda(
            texts::AGENDA_TITLE,
            Some(texts::AGENDA_SUMMARY),
            vec![j.body],
        )
        .await
        .map_err(|e| format!("{}: {e}", p.name))?;
    wait_until(
        || async {
            j.handle
                .show_agenda(agenda)
                .await
                .is_ok_and(|v| v.entries >= 1)
        },
        "金山区政协 receives the agenda",
    )
    .await?;
    link_topic(p, p_ledger, p_topic, agenda, "livelihood").await?;
    // The agenda records the creating body's topic it came from (`agenda new --from-topic`).
    p.handle
        .apply(
            agenda,
            confer_protocol::model::AgendaAction::LinkTopic(p_topic).into(),
            None,
        )
        .await
        .map_err(|e| format!("{}: {e}", p.name))?;
    link_topic(j, j_ledger, j_topic, agenda, "major-decision").await?;
    let round_one = make(p, agenda, "round", &[("number", "1")]).await?;
    holds(j, agenda, &[("round", round_one)], "round 1").await?;
    let r1 = round_one.to_string();
    for (party, book) in [(p, &texts::PINGHU_LEDGER), (j, &texts::JINSHAN_LEDGER)] {
        let (date, text) = book.preselection;
        make(
            party,
            agenda,
            "preselection",
            &[("round", &r1), ("date", date), ("text", text)],
        )
        .await?;
    }
    let host = p.body.to_string();
    let mut confirmed = vec![("host", host.as_str())];
    confirmed.extend_from_slice(&texts::ROUND_ONE[..2]);
    edit(p, agenda, "round", round_one, &confirmed).await?;
    say.say(lang.pick(
        "2. Selection: 平湖市政协 opened the joint agenda from its ledger topic (both ledgers link the topic to it and list it in the 2025 plan); each chair meeting preselected it in its own area (2025-02-20, 2025-02-25); the joint secretaries-general meeting confirmed it on 2025-03-05, round 1 hosted by 平湖市政协.",
        "2. 选题：平湖市政协由台账议题发起联动协商议题（两地台账均链接该议题并列入 2025 年协商计划）；两地主席会议各自在本机构区域内预选（2025-02-20、2025-02-25）；两地政协秘书长工作会议于 2025-03-05 确认，第一轮由平湖市政协承办。",
    ));

    // 3. The plan, the meeting, 43 suggestions, one disputed and decided.
    edit(p, agenda, "round", round_one, &texts::ROUND_ONE[2..]).await?;
    let mut meeting = vec![("round", r1.as_str())];
    meeting.extend_from_slice(&texts::MEETING_ONE);
    let meeting_one = make(p, agenda, "meeting", &meeting).await?;
    holds(j, agenda, &[("meeting", meeting_one)], "the meeting").await?;
    let m1 = meeting_one.to_string();
    let mut suggestions = Vec::new();
    for (i, s) in SUGGESTIONS.iter().enumerate() {
        let bodies = concerned(parties, s.concern);
        let mut pairs = vec![
            ("round", r1.as_str()),
            ("meeting", m1.as_str()),
            ("text", s.text),
            ("proposer", s.proposer),
            ("bodies", bodies.as_str()),
            ("date", "2025-04-22"),
        ];
        if i == texts::VETO {
            pairs.push(("disputed", "yes"));
        }
        suggestions.push(make(side(parties, s.side), agenda, "suggestion", &pairs).await?);
    }
    let veto = (texts::VETO, suggestions[texts::VETO]);
    edit(
        side(parties, SUGGESTIONS[veto.0].side),
        agenda,
        "suggestion",
        veto.1,
        &[
            ("decision", texts::DECISION),
            ("decided_on", texts::DECIDED_ON),
        ],
    )
    .await?;
    let all: Vec<(&str, RecordId)> = suggestions.iter().map(|&id| ("suggestion", id)).collect();
    holds(p, agenda, &all, "every suggestion").await?;
    holds(j, agenda, &all, "every suggestion").await?;
    say.say(match lang {
        Lang::En => format!(
            "3. Consultation: the plan (research, participants, form: hearing, 2025-04-22, 平湖市独山港镇, notice in advance), the meeting with minutes and attendance, and {} suggestions, each written by its proposer's side; one (a veto on new chemical projects) disputed and decided by the joint chairs' meeting on {}.",
            SUGGESTIONS.len(),
            texts::DECIDED_ON
        ),
        Lang::Zh => format!(
            "3. 协商：协商方案（调研、参加人员、形式：民主评议会、2025-04-22、平湖市独山港镇、提前通知），协商会议（纪要、出席情况），{} 条意见建议由提出方所在政协分别录入；其中 1 条（新建化工项目“一票否决”）存在争议，经两地政协主席联席会议于 {} 决定。",
            SUGGESTIONS.len(),
            texts::DECIDED_ON
        ),
    });

    // 4. The joint opinion, signed by both bodies' signers.
    let chosen: Vec<String> = CHOSEN.iter().map(|&i| suggestions[i].to_string()).collect();
    let chosen = chosen.join(",");
    let text = texts::outcome_text(SUGGESTIONS.len());
    let outcome = make(
        p,
        agenda,
        "outcome",
        &[
            ("round", &r1),
            ("kind", "joint-opinion"),
            ("title", texts::OUTCOME_TITLE),
            ("text", &text),
            ("suggestions", &chosen),
        ],
    )
    .await?;
    holds(j, agenda, &[("outcome", outcome)], "the joint opinion").await?;
    for (party, signer) in [(p, signers[0]), (j, signers[1])] {
        let sign = AgendaAction::Sign {
            outcome,
            id: new_id(),
        };
        apply(party, agenda, sign.into(), Some(signer), "its signature").await?;
    }
    say.say(match lang {
        Lang::En => format!(
            "4. Outcome: the joint opinion 《{}》 takes up {} suggestions; 平湖市政协主席 signed it on 平湖's node, 金山区政协主席 on 金山's.",
            texts::OUTCOME_TITLE,
            CHOSEN.len()
        ),
        Lang::Zh => format!(
            "4. 成果：联合协商意见《{}》汇总 {} 条建议，平湖市政协主席、金山区政协主席分别在本方节点上签署。",
            texts::OUTCOME_TITLE,
            CHOSEN.len()
        ),
    });

    // 5. The closed loop on both sides, each in its own area.
    follow_up(parties, agenda, &suggestions).await?;
    say.say(lang.pick(
        "5. Follow-up (建言报送 → 批示抄告 → 意见办理 → 结果反馈): each body submitted the 12 suggestions to its party committee and government, recorded its leaders' instructions, assigned lead and co-handling units with deadlines and their receipts, one extension, feedback with results (adopted, partly adopted, planned, for reference, not adopted with a reason), and members' evaluations. One unit of 平湖 (due 2025-11-30) never answered.",
        "5. 跟踪落实（建言报送 → 批示抄告 → 意见办理 → 结果反馈）：两地各自向本地党委、政府报送 12 条建议，记录领导批示，交办主办、协办单位并设定办理时限、登记签收，1 个单位申请延期，各单位反馈办理结果（采纳、部分采纳、列入计划、留作参考、未采纳并说明理由），委员作出评价。平湖方面 1 个单位（时限 2025-11-30）始终未反馈。",
    ));

    // 6. Findings of the look-back visit, each answered by the side whose unit handles it.
    for (i, visit, date, text, severity, attachment, response) in texts::FINDINGS {
        let s = suggestions[i].to_string();
        let o = outcome.to_string();
        let attachments = match attachment {
            "" => String::new(),
            note => attach(p, agenda, note).await?.to_string(),
        };
        let finding = make(
            p,
            agenda,
            "finding",
            &[
                ("suggestion", s.as_str()),
                ("outcome", &o),
                ("visit", visit),
                ("date", date),
                ("text", text),
                ("severity", severity),
            ]
            .into_iter()
            .chain((!attachments.is_empty()).then_some(("attachments", attachments.as_str())))
            .collect::<Vec<_>>(),
        )
        .await?;
        let answering = if i == texts::PETITIONS { j } else { p };
        holds(answering, agenda, &[("finding", finding)], "the finding").await?;
        edit(
            answering,
            agenda,
            "finding",
            finding,
            &[("response", response)],
        )
        .await?;
    }
    say.say(lang.pick(
        "6. Supervision: the look-back visit (回头看, 2025-11-12/13) recorded three findings linked to suggestions, rated high, medium and low, each with the response of the side concerned.",
        "6. 民主监督：回头看（2025-11-12/13）记录 3 项监督发现，分别关联相应建议，严重程度高、中、低各 1 项，均有相关方的整改回应。",
    ));

    // 7. A year later: round 2 from the outcome, suggestions continuing earlier ones, the
    //    item not adopted carried into next year's plan.
    let round_two = re_consult(parties, agenda, outcome, &suggestions).await?;
    let buffer = suggestions[texts::BUFFER].to_string();
    make(
        j,
        agenda,
        "carry",
        &[
            ("suggestion", &buffer),
            ("year", "2026"),
            ("note", texts::CARRY_NOTE),
        ],
    )
    .await?;
    let topic = j_topic.to_string();
    ledger(
        j,
        j_ledger,
        "plan_item",
        None,
        &[
            ("year", "2026"),
            ("category", "planning"),
            ("title", texts::PLAN_2026_TITLE),
            ("topics", &topic),
            ("note", texts::CARRY_NOTE),
        ],
    )
    .await?;
    say.say(lang.pick(
        "7. Re-consultation (再协商) in 2026, hosted by 金山区政协: round 2 from the joint opinion, a meeting, five suggestions of which three continue earlier ones (提与落); the item not adopted (the buffer zone) carried into 金山's 2026 inspection plan.",
        "7. 再协商（2026 年，金山区政协承办）：第二轮以联合协商意见为基础，召开会议，提出 5 条建议，其中 3 条延续上一轮建议（提与落）；未采纳事项（生态隔离带）列入金山区政协 2026 年专题视察计划。",
    ));

    converge(parties, agenda).await?;
    Ok(Written {
        agenda,
        ledgers: [p_ledger, j_ledger],
        round_one,
        round_two,
        outcome,
    })
}

/// Step 5 on both sides: submissions, instructions, units (receipts, an extension),
/// feedback, evaluations.
async fn follow_up(parties: &Parties, agenda: SpaceId, ids: &[RecordId]) -> Result<(), String> {
    for (s, to, date) in texts::SUBMITTED_TO {
        let party = side(parties, s);
        for &i in &CHOSEN {
            let id = ids[i].to_string();
            make(
                party,
                agenda,
                "submission",
                &[("suggestion", &id), ("to", to), ("date", date)],
            )
            .await?;
        }
    }
    for (s, i, leader, date, text, copied_to) in texts::INSTRUCTIONS {
        let id = ids[i].to_string();
        let pairs = [
            ("suggestion", id.as_str()),
            ("leader", leader),
            ("date", date),
            ("text", text),
            ("copied_to", copied_to),
        ];
        make(side(parties, s), agenda, "instruction", &pairs).await?;
    }
    for u in &UNITS {
        let party = side(parties, u.side);
        let id = ids[u.suggestion].to_string();
        let unit = make(
            party,
            agenda,
            "handling",
            &[
                ("suggestion", &id),
                ("unit", u.unit),
                ("role", u.role),
                ("assigned", u.assigned),
                ("due", u.due),
            ],
        )
        .await?;
        edit(party, agenda, "handling", unit, &[("received", u.received)]).await?;
        if let Some((to, reason)) = u.extension {
            let pairs = [("extended_to", to), ("extension_reason", reason)];
            edit(party, agenda, "handling", unit, &pairs).await?;
        }
        if let Some((result, text, reason, date)) = u.feedback {
            let h = unit.to_string();
            let mut pairs = vec![
                ("handling", h.as_str()),
                ("result", result),
                ("text", text),
                ("date", date),
            ];
            if !reason.is_empty() {
                pairs.push(("reason", reason));
            }
            make(party, agenda, "feedback", &pairs).await?;
        }
    }
    for (s, i, satisfaction, text, date) in texts::EVALUATIONS {
        let id = ids[i].to_string();
        let pairs = [
            ("suggestion", id.as_str()),
            ("satisfaction", satisfaction),
            ("text", text),
            ("date", date),
        ];
        make(side(parties, s), agenda, "evaluation", &pairs).await?;
    }
    Ok(())
}

/// Step 7's round: 金山区政协 hosts round 2 from the outcome; each side writes its
/// proposers' suggestions, three continuing suggestions of round 1.
async fn re_consult(
    parties: &Parties,
    agenda: SpaceId,
    outcome: RecordId,
    ids: &[RecordId],
) -> Result<RecordId, String> {
    let (p, j) = (&parties.pinghu, &parties.jinshan);
    let (o, host) = (outcome.to_string(), j.body.to_string());
    let mut plan = vec![
        ("number", "2"),
        ("from_outcome", o.as_str()),
        ("host", host.as_str()),
    ];
    plan.extend_from_slice(&texts::ROUND_TWO_PLAN);
    let round = make(j, agenda, "round", &plan).await?;
    let r2 = round.to_string();
    let mut meeting = vec![("round", r2.as_str())];
    meeting.extend_from_slice(&texts::MEETING_TWO);
    let meeting = make(j, agenda, "meeting", &meeting).await?;
    holds(
        p,
        agenda,
        &[("round", round), ("meeting", meeting)],
        "round 2",
    )
    .await?;
    let m2 = meeting.to_string();
    for (text, proposer, s, from) in texts::ROUND_TWO {
        let from = from.map(|i| ids[i].to_string()).unwrap_or_default();
        let mut pairs = vec![
            ("round", r2.as_str()),
            ("meeting", m2.as_str()),
            ("text", text),
            ("proposer", proposer),
            ("date", "2026-04-23"),
        ];
        if !from.is_empty() {
            pairs.push(("from_suggestion", &from));
        }
        make(side(parties, s), agenda, "suggestion", &pairs).await?;
    }
    Ok(round)
}

/// Waits until both nodes hold the same entries of the agenda.
async fn converge(parties: &Parties, agenda: SpaceId) -> Result<(), String> {
    let (p, j) = (&parties.pinghu.handle, &parties.jinshan.handle);
    wait_until(
        || async {
            match (p.show_agenda(agenda).await, j.show_agenda(agenda).await) {
                (Ok(a), Ok(b)) => a.vector == b.vector,
                _ => false,
            }
        },
        "both nodes hold every entry of the agenda",
    )
    .await
}

/// The figures the account must read, from what [`write`] wrote.
pub(super) fn expected(parties: &Parties) -> Figures {
    let (p, j) = (&parties.pinghu, &parties.jinshan);
    let name = |s: Side| side(parties, s).name.clone();
    let as_of = Date::parse(AS_OF).map_or(0, |d| d.days());
    let ledger = |book: &Ledger, plans: usize| LedgerFigures {
        topics: 3,
        accepted: 1,
        rejected: BTreeMap::from([(book.reason.to_owned(), 1)]),
        merged: 1,
        linked_to_agenda: 1,
        plan_items: plans,
    };
    let mut bodies = BTreeMap::new();
    let mut overdue = Vec::new();
    for s in [Side::Pinghu, Side::Jinshan] {
        let units: Vec<&texts::Unit> = UNITS.iter().filter(|u| u.side == s).collect();
        let mut results: BTreeMap<String, usize> = BTreeMap::new();
        for (result, ..) in units.iter().filter_map(|u| u.feedback) {
            *results.entry(result.to_owned()).or_default() += 1;
        }
        let answered = units.iter().filter(|u| u.feedback.is_some()).count();
        let adopted = results.get("adopted").copied().unwrap_or(0)
            + results.get("partly-adopted").copied().unwrap_or(0);
        let late: Vec<OverdueFigure> = units
            .iter()
            .filter(|u| u.feedback.is_none())
            .filter_map(|u| {
                let due = u.extension.map_or(u.due, |(to, _)| to);
                let days = as_of - Date::parse(due)?.days();
                (days > 0).then(|| OverdueFigure {
                    unit: u.unit.to_owned(),
                    body: name(s),
                    due: due.to_owned(),
                    days,
                })
            })
            .collect();
        bodies.insert(
            name(s),
            BodyFigures {
                submitted: CHOSEN.len(),
                instructions: texts::INSTRUCTIONS.iter().filter(|x| x.0 == s).count(),
                units: units.len(),
                received: units.iter().filter(|u| !u.received.is_empty()).count(),
                extended: units.iter().filter(|u| u.extension.is_some()).count(),
                answered,
                results,
                overdue: late.len(),
                carried: usize::from(s == Side::Jinshan),
                evaluations: texts::EVALUATIONS.iter().filter(|x| x.0 == s).count(),
                adoption_rate: pct(adopted, answered),
                completion_rate: pct(answered, units.len()),
            },
        );
        overdue.extend(late);
    }
    let mut findings = BTreeMap::new();
    for f in &texts::FINDINGS {
        *findings.entry(f.4.to_owned()).or_default() += 1;
    }
    let signature = |party: &Party| SignatureFigure {
        signer: signer_name(party),
        matches: true,
    };
    Figures {
        ledgers: BTreeMap::from([
            (p.name.clone(), ledger(&texts::PINGHU_LEDGER, 1)),
            (j.name.clone(), ledger(&texts::JINSHAN_LEDGER, 2)),
        ]),
        ledgers_private: true,
        preselections: BTreeMap::from([(p.name.clone(), 1), (j.name.clone(), 1)]),
        host: p.name.clone(),
        confirmed_on: texts::ROUND_ONE[0].1.to_owned(),
        form: "hearing".to_owned(),
        meetings: 1,
        suggestions: SUGGESTIONS.len(),
        disputed: 1,
        decided: 1,
        outcome_kind: "joint-opinion".to_owned(),
        outcome_suggestions: CHOSEN.len(),
        adopted: true,
        signatures: BTreeMap::from([
            (p.name.clone(), signature(p)),
            (j.name.clone(), signature(j)),
        ]),
        bundle_valid: true,
        bundle_adopted: true,
        bodies,
        overdue,
        findings,
        findings_answered: texts::FINDINGS.len(),
        round_two: RoundTwoFigures {
            host: j.name.clone(),
            from_outcome: true,
            meetings: 1,
            suggestions: texts::ROUND_TWO.len(),
            continuing: texts::ROUND_TWO.iter().filter(|s| s.3.is_some()).count(),
        },
        report_same_on_both: true,
        third_body_has_agenda: parties.jiashan.as_ref().map(|_| false),
    }
}
