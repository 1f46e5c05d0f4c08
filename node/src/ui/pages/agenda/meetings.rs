//! The agenda page's meetings: each meeting of a round (date, place, form, attendance) with
//! its minutes, the form that adds a meeting to a round and the one that records a
//! meeting's minutes. Both write a `meeting` record as the person's member.

use maud::{html, Markup};

use confer_protocol::model::RecordView;
use confer_protocol::SpaceId;

use super::super::labels::{self, label};
use super::actions::{ensure_round, finish};
use super::cards::record_byline;
use super::{save, Loaded};
use crate::ui::forms::{self, FormState};
use crate::ui::{Shared, Viewer};

/// Choices of the rounds of the agenda (id, "Round N"), the latest first.
fn round_options(viewer: &Viewer, loaded: &Loaded) -> Vec<(String, String)> {
    let mut rounds: Vec<&RecordView> = loaded.view.records("round").iter().collect();
    rounds.sort_by_key(|r| std::cmp::Reverse(r.get("number").parse::<u64>().unwrap_or(0)));
    let mut options: Vec<(String, String)> = rounds
        .iter()
        .map(|r| {
            (
                r.id.to_string(),
                format!(
                    "{}{}{}",
                    viewer.t("Round ", "第 "),
                    r.get("number"),
                    viewer.t("", " 轮")
                ),
            )
        })
        .collect();
    if options.is_empty() {
        options.push((
            String::new(),
            viewer
                .t(
                    "Round 1 (started with this meeting)",
                    "第 1 轮（随本次会议开启）",
                )
                .to_owned(),
        ));
    }
    options
}

/// "2026-04-01 · 平湖 · 座谈会" for a meeting.
fn meeting_name(viewer: &Viewer, m: &RecordView) -> String {
    let mut parts = vec![m.get("date").to_owned()];
    if !m.get("place").is_empty() {
        parts.push(m.get("place").to_owned());
    }
    if !m.get("form").is_empty() {
        parts.push(label(viewer.lang, labels::FORMS, m.get("form")).to_owned());
    }
    parts.join(" · ")
}

/// The meetings, the minutes of each, and the two forms.
pub(super) fn section(viewer: &Viewer, loaded: &Loaded, form: Option<&FormState>) -> Markup {
    let lang = viewer.lang;
    let sid = loaded.space.to_string();
    let meetings = loaded.view.records("meeting");
    let meeting_form = FormState::for_form(form, "meeting");
    let minutes_form = FormState::for_form(form, "minutes");
    let form_options: Vec<(String, String)> = std::iter::once((
        String::new(),
        viewer.t("— not stated —", "— 未注明 —").to_owned(),
    ))
    .chain(labels::options(lang, labels::FORMS))
    .collect();
    let meeting_options: Vec<(String, String)> = std::iter::once((
        String::new(),
        viewer.t("— choose —", "— 请选择 —").to_owned(),
    ))
    .chain(
        meetings
            .iter()
            .map(|m| (m.id.to_string(), meeting_name(viewer, m))),
    )
    .collect();
    html! {
        h2 { (viewer.t("Meetings", "协商会议")) }
        section id="meetings" data-live data-space=(sid) {
            @if meetings.is_empty() { p.muted { (viewer.t("No meeting yet.", "尚无协商会议。")) } }
            @for m in meetings {
                article.card id=(format!("m-{}", m.id)) {
                    h3 { (meeting_name(viewer, m)) }
                    p.muted {
                        @if let Some(r) = loaded.view.record("round", m.get("round")) {
                            (viewer.t("Round ", "第 ")) (r.get("number")) (viewer.t("", " 轮")) " · "
                        }
                        (record_byline(lang, m))
                    }
                    @if !m.get("attendance").is_empty() {
                        p { strong { (viewer.t("Attendance: ", "出席：")) } (m.get("attendance")) }
                    }
                    @if m.get("minutes").is_empty() {
                        p.muted { (viewer.t("No minutes recorded yet.", "尚未记录会议纪要。")) }
                    } @else {
                        h4 { (viewer.t("Minutes", "会议纪要")) }
                        p.suggestion-text.minutes { (m.get("minutes")) }
                    }
                }
            }
        }
        details.form open[!meeting_form.ok()] {
            summary { (viewer.t("Add a meeting", "添加协商会议")) }
            form method="post" action=(format!("/agendas/{sid}/meeting")) novalidate {
                (forms::csrf(&viewer.session.csrf))
                (forms::general(&meeting_form))
                (forms::select(&meeting_form, "round", lang.pick("Round", "协商轮次"), &round_options(viewer, loaded)))
                (forms::input(&meeting_form, "date", lang.pick("Date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"), "text", true))
                (forms::input(&meeting_form, "place", lang.pick("Place", "地点"), "text", false))
                (forms::select(&meeting_form, "form", lang.pick("Form", "协商形式"), &form_options))
                (forms::textarea(&meeting_form, "attendance", lang.pick("Attendance (who took part)", "出席情况（参加人员）"), false))
                button type="submit" { (viewer.t("Add meeting", "添加会议")) }
            }
        }
        @if !meetings.is_empty() {
            details.form open[!minutes_form.ok()] {
                summary { (viewer.t("Record the minutes of a meeting", "记录会议纪要")) }
                form method="post" action=(format!("/agendas/{sid}/minutes")) novalidate {
                    (forms::csrf(&viewer.session.csrf))
                    (forms::general(&minutes_form))
                    (forms::select(&minutes_form, "meeting", lang.pick("Meeting", "会议"), &meeting_options))
                    (forms::textarea(&minutes_form, "minutes", lang.pick("Minutes", "会议纪要"), true))
                    button type="submit" { (viewer.t("Save minutes", "保存纪要")) }
                }
            }
        }
    }
}

/// Adds a meeting to a round (the latest, or round 1 made now if there is none).
pub(super) async fn add_meeting(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "date");
    form.date(lang, "date");
    let kind = form.value("form");
    if !kind.is_empty() && !labels::valid(labels::FORMS, kind) {
        form.error("form", lang.pick("Choose a form.", "请选择协商形式。"));
    }
    if !form.ok() {
        return None;
    }
    let result = async {
        let round = match form.value("round") {
            "" => ensure_round(state, viewer, space).await?,
            chosen => chosen.to_owned(),
        };
        let mut fields = vec![("round", round), ("date", form.value("date").to_owned())];
        fields.extend(form.given(&["place", "form", "attendance"]));
        save(state, viewer, space, "meeting", None, fields).await
    }
    .await;
    finish(result, lang, form, |id| format!("/agendas/{space}#m-{id}")).await
}

/// Records (or replaces) a meeting's minutes.
pub(super) async fn record_minutes(
    state: &Shared,
    viewer: &Viewer,
    space: SpaceId,
    form: &mut FormState,
) -> Option<String> {
    let lang = viewer.lang;
    form.require(lang, "meeting");
    form.require(lang, "minutes");
    if !form.ok() {
        return None;
    }
    let meeting = form.value("meeting").to_owned();
    let fields = vec![("minutes", form.value("minutes").to_owned())];
    let result = save(state, viewer, space, "meeting", Some(meeting), fields).await;
    finish(result, lang, form, |id| format!("/agendas/{space}#m-{id}")).await
}
