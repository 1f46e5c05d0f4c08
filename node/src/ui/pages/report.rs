//! 年终通报: the year-end report's figures per agenda and body (the model's
//! `report::report`, as `GET /v1/report` serves them), with a bar chart drawn as SVG on the
//! server; printable on A4.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup, PreEscaped};

use confer_protocol::model::agenda::report::{self, BodyFigures};
use confer_protocol::model::{AgendaView, ModelView};

use super::agenda::today;
use super::labels::{self, label};
use crate::i18n::Lang;
use crate::ui::{html, layout, node_failure, Shared, Viewer};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct YearQuery {
    #[serde(default)]
    year: Option<u32>,
}

/// Colours of the results, in the order of `labels::RESULTS`.
const COLOURS: &[&str] = &["#1f7a4d", "#58a677", "#3b6fb6", "#b8a03a", "#b42318"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal stacked bar per body: its feedback by result.
fn chart(lang: Lang, bodies: &BTreeMap<String, BodyFigures>) -> Markup {
    let rows: Vec<(&str, &BodyFigures)> = bodies
        .iter()
        .map(|(id, f)| (f.name.as_deref().unwrap_or(layout::short(id)), f))
        .collect();
    let max = rows
        .iter()
        .map(|(_, f)| f.answered)
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (130.0, 420.0, 34.0);
    let height = row_h * rows.len() as f64 + 40.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 600 {height}\" width=\"600\" height=\"{height}\" aria-label=\"{}\">",
        escape(lang.pick("Feedback by result, per body", "各机构办理结果分布"))
    );
    for (i, (name, f)) in rows.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>",
            y + 17.0,
            escape(name)
        ));
        let mut x = label_w;
        for (j, (value, _, _)) in labels::RESULTS.iter().enumerate() {
            let n = f.results.get(*value).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"22\" fill=\"{}\"><title>{}: {n}</title></rect>",
                COLOURS[j % COLOURS.len()],
                escape(label(lang, labels::RESULTS, value))
            ));
            x += w;
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 6.0,
            y + 16.0,
            f.answered
        ));
    }
    let legend_y = height - 12.0;
    let mut lx = 0.0;
    for (j, (value, _, _)) in labels::RESULTS.iter().enumerate() {
        let text = escape(label(lang, labels::RESULTS, value));
        svg.push_str(&format!(
            "<rect x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{legend_y}\" font-size=\"12\">{text}</text>",
            legend_y - 10.0,
            COLOURS[j % COLOURS.len()],
            lx + 16.0
        ));
        lx += 110.0;
    }
    svg.push_str("</svg>");
    html! { figure.chart { (PreEscaped(svg)) } }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%"))
}

pub(crate) async fn show(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Response {
    let lang = viewer.lang;
    let on = today();
    let year = q
        .year
        .filter(|y| (1900..=9999).contains(y))
        .unwrap_or(on.year);
    let agendas = match state.node.list_agendas().await {
        Ok(list) => list,
        Err(e) => return node_failure(lang, &e),
    };
    let mut views: Vec<(String, AgendaView)> = Vec::new();
    for a in agendas.iter().filter(|a| !a.invited) {
        let Ok(space) = a.id.parse() else { continue };
        match state.node.read(space).await {
            Ok(ModelView::Agenda(view)) => views.push((a.id.clone(), view)),
            Ok(ModelView::Ledger(_)) => {}
            Err(e) => return node_failure(lang, &e),
        }
    }
    let refs: Vec<(String, &AgendaView)> = views.iter().map(|(id, v)| (id.clone(), v)).collect();
    let mut figures = report::report(&refs, year, on);
    figures
        .agendas
        .retain(|a| a.rounds + a.meetings + a.suggestions + a.outcomes > 0);
    let mut totals: BTreeMap<String, BodyFigures> = BTreeMap::new();
    for a in &figures.agendas {
        for (id, b) in &a.bodies {
            let t = totals.entry(id.clone()).or_default();
            t.name = t.name.clone().or_else(|| b.name.clone());
            t.units += b.units;
            t.answered += b.answered;
            t.overdue += b.overdue;
            t.carried += b.carried;
            for (k, n) in &b.results {
                *t.results.entry(k.clone()).or_default() += n;
            }
        }
    }
    let title = format!(
        "{year} {}",
        viewer.t("year-end report", "年度联动协商年终通报")
    );
    html(layout::page(
        &viewer,
        &state.body,
        &title,
        html! {
            form.no-print method="get" action="/report" {
                label for="report-year" { (viewer.t("Year ", "年度 ")) }
                input id="report-year" name="year" type="text" value=(year) size="6";
                " " button type="submit" { (viewer.t("Show", "查看")) }
                " " span.muted { (viewer.t("Print with Ctrl+P (A4).", "按 Ctrl+P 打印（A4）。")) }
            }
            p.muted { (viewer.t("As of ", "截至 ")) (figures.as_of) }
            @if figures.agendas.is_empty() {
                p { (viewer.t("No joint agenda has anything in this year.", "本年度没有联动议题的记录。")) }
            } @else {
                section.card {
                    h2 style="margin-top:0" { (viewer.t("Handling results", "办理结果")) }
                    (chart(lang, &totals))
                }
                table {
                    thead { tr {
                        th { (viewer.t("Agenda", "议题")) } th { (viewer.t("Rounds", "轮次")) } th { (viewer.t("Meetings", "会议")) }
                        th { (viewer.t("Suggestions", "意见建议")) } th { (viewer.t("Outcomes", "成果")) }
                    } }
                    tbody { @for a in &figures.agendas {
                        tr { td { (a.title) } td { (a.rounds) } td { (a.meetings) } td { (a.suggestions) } td { (a.outcomes) } }
                    } }
                }
                h2 { (viewer.t("Per body", "各机构")) }
                table {
                    thead { tr {
                        th { (viewer.t("Body", "机构")) } th { (viewer.t("Units", "交办")) } th { (viewer.t("Answered", "已反馈")) }
                        th { (viewer.t("Completion", "办结率")) } th { (viewer.t("Adoption", "采纳率")) }
                        th { (viewer.t("Overdue", "逾期")) } th { (viewer.t("Carried over", "转入下年")) }
                    } }
                    tbody { @for (id, b) in &totals {
                        tr {
                            td { (b.name.as_deref().unwrap_or(layout::short(id))) }
                            td { (b.units) } td { (b.answered) }
                            td { (percent(b.completion_rate())) } td { (percent(b.adoption_rate())) }
                            td { (b.overdue) } td { (b.carried) }
                        }
                    } }
                }
            }
        },
    ))
}
