//! The year-end report (年终通报): meetings, suggestions, how each body handled them,
//! adoption and completion rates, overdue and carried-over items, findings — computed from
//! the agendas' records for a year and an "as of" date given as arguments, so the same
//! entries give the same report on every node. Rendered as Markdown or as printable HTML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::followup::units;
use super::AgendaView;
use crate::model::date::Date;
use crate::model::schema::RecordView;

/// One agenda's figures for the year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgendaFigures {
    pub id: String,
    pub title: String,
    pub rounds: usize,
    pub meetings: usize,
    pub suggestions: usize,
    pub outcomes: usize,
    pub findings: BTreeMap<String, usize>,
    /// Per body (by id): how it handled the suggestions.
    pub bodies: BTreeMap<String, BodyFigures>,
}

/// How one body handled the suggestions given to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BodyFigures {
    pub name: Option<String>,
    pub submitted: usize,
    pub instructions: usize,
    /// Handling units assigned.
    pub units: usize,
    /// Units with feedback.
    pub answered: usize,
    /// Feedback by result (adopted, partly-adopted, …).
    pub results: BTreeMap<String, usize>,
    pub overdue: usize,
    pub carried: usize,
    /// Evaluations by satisfaction.
    pub evaluations: BTreeMap<String, usize>,
}

impl BodyFigures {
    /// Adopted or partly adopted, of the units that answered (per cent, one decimal).
    pub fn adoption_rate(&self) -> Option<f64> {
        let adopted = self.results.get("adopted").copied().unwrap_or(0)
            + self.results.get("partly-adopted").copied().unwrap_or(0);
        rate(adopted, self.answered)
    }

    /// Units that answered, of those assigned (per cent, one decimal).
    pub fn completion_rate(&self) -> Option<f64> {
        rate(self.answered, self.units)
    }
}

fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The report for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub year: u32,
    pub as_of: String,
    pub agendas: Vec<AgendaFigures>,
}

/// The date a record of the year counts under: its own date, else its meeting's, else its
/// round's (the meeting date of its plan, or its confirmation).
fn dated<'a>(view: &'a AgendaView, r: &'a RecordView) -> &'a str {
    let own = r.get("date");
    if !own.is_empty() {
        return own;
    }
    if let Some(m) = view.record("meeting", r.get("meeting")) {
        return m.get("date");
    }
    match view.record("round", r.get("round")) {
        Some(round) if !round.get("date").is_empty() => round.get("date"),
        Some(round) => round.get("confirmed_on"),
        None => "",
    }
}

fn in_year(date: &str, year: u32) -> bool {
    Date::parse(date).is_some_and(|d| d.year == year)
}

/// One agenda's figures for `year`, as of `as_of`.
pub fn figures(id: &str, view: &AgendaView, year: u32, as_of: Date) -> AgendaFigures {
    let of_year = |collection: &str| -> Vec<&RecordView> {
        view.records(collection)
            .iter()
            .filter(|r| in_year(dated(view, r), year))
            .collect()
    };
    let suggestions: Vec<&RecordView> = of_year("suggestion");
    let ids: std::collections::BTreeSet<String> =
        suggestions.iter().map(|s| s.id.to_string()).collect();
    let mut out = AgendaFigures {
        id: id.to_owned(),
        title: view.text("title").to_owned(),
        rounds: of_year("round").len(),
        meetings: of_year("meeting").len(),
        suggestions: suggestions.len(),
        outcomes: view
            .records("outcome")
            .iter()
            .filter(|o| in_year(dated(view, o), year))
            .count(),
        ..AgendaFigures::default()
    };
    for f in of_year("finding") {
        let severity = match f.get("severity") {
            "" => "unrated",
            s => s,
        };
        *out.findings.entry(severity.to_owned()).or_default() += 1;
    }
    fn body<'a>(
        bodies: &'a mut BTreeMap<String, BodyFigures>,
        r: &RecordView,
    ) -> Option<&'a mut BodyFigures> {
        let area = r.area?;
        let entry = bodies.entry(area.to_string()).or_default();
        if entry.name.is_none() {
            entry.name = r.created_by.as_ref().and_then(|a| a.body_name.clone());
        }
        Some(entry)
    }
    let of_suggestion = |r: &&RecordView| ids.contains(r.get("suggestion"));
    for r in view.records("submission").iter().filter(of_suggestion) {
        if let Some(b) = body(&mut out.bodies, r) {
            b.submitted += 1;
        }
    }
    for r in view.records("instruction").iter().filter(of_suggestion) {
        if let Some(b) = body(&mut out.bodies, r) {
            b.instructions += 1;
        }
    }
    for r in view.records("evaluation").iter().filter(of_suggestion) {
        if let Some(b) = body(&mut out.bodies, r) {
            *b.evaluations
                .entry(r.get("satisfaction").to_owned())
                .or_default() += 1;
        }
    }
    for r in view.records("carry").iter().filter(of_suggestion) {
        if let Some(b) = body(&mut out.bodies, r) {
            b.carried += 1;
        }
    }
    let handling: BTreeMap<String, &RecordView> = view
        .records("handling")
        .iter()
        .map(|h| (h.id.to_string(), h))
        .collect();
    for unit in units(view, as_of)
        .into_iter()
        .filter(|u| ids.contains(&u.suggestion))
    {
        let Some(h) = handling.get(&unit.id) else {
            continue;
        };
        let Some(b) = body(&mut out.bodies, h) else {
            continue;
        };
        b.units += 1;
        if let Some(fb) = &unit.feedback {
            b.answered += 1;
            *b.results.entry(fb.result.clone()).or_default() += 1;
        }
        if unit.overdue_days > 0 {
            b.overdue += 1;
        }
    }
    out
}

/// The report of `year` over `agendas` (id and view), as of `as_of`.
pub fn report(agendas: &[(String, &AgendaView)], year: u32, as_of: Date) -> Report {
    Report {
        year,
        as_of: as_of.to_string(),
        agendas: agendas
            .iter()
            .map(|(id, view)| figures(id, view, year, as_of))
            .collect(),
    }
}

/// Labels in the report's language.
fn label(zh: bool, key: &str) -> &'static str {
    let pairs: &[(&str, &str, &str)] = &[
        ("title", "Year-end report", "年终通报"),
        ("as_of", "as of", "截至"),
        ("agenda", "Joint agenda", "联动议题"),
        ("rounds", "Rounds", "协商轮次"),
        ("meetings", "Meetings", "协商会议"),
        ("suggestions", "Suggestions", "意见建议"),
        ("outcomes", "Outcomes", "协商成果"),
        ("findings", "Findings", "监督发现"),
        ("body", "Body", "机构"),
        ("submitted", "Submitted", "报送"),
        ("instructions", "Instructions", "批示"),
        ("units", "Units assigned", "交办单位"),
        ("answered", "Answered", "已反馈"),
        ("adoption", "Adoption rate", "采纳率"),
        ("completion", "Completion rate", "办结率"),
        ("overdue", "Overdue", "逾期"),
        ("carried", "Carried over", "转入下年"),
        ("none", "none", "无"),
        (
            "no_agendas",
            "No joint agenda this year.",
            "本年度无联动议题。",
        ),
    ];
    pairs
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or("", |(_, en, zh_text)| if zh { zh_text } else { en })
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%"))
}

fn findings_line(f: &BTreeMap<String, usize>, zh: bool) -> String {
    if f.is_empty() {
        return label(zh, "none").to_owned();
    }
    f.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report as Markdown, in Chinese (`zh`) or English.
pub fn markdown(report: &Report, zh: bool) -> String {
    let l = |k| label(zh, k);
    let mut out = format!(
        "# {} {}\n\n{} {}\n\n",
        report.year,
        l("title"),
        l("as_of"),
        report.as_of
    );
    if report.agendas.is_empty() {
        out.push_str(l("no_agendas"));
        out.push('\n');
    }
    for a in &report.agendas {
        out.push_str(&format!(
            "## {}: {}\n\n- {}: {}\n- {}: {}\n- {}: {}\n- {}: {}\n- {}: {}\n\n",
            l("agenda"),
            escape_md(&a.title),
            l("rounds"),
            a.rounds,
            l("meetings"),
            a.meetings,
            l("suggestions"),
            a.suggestions,
            l("outcomes"),
            a.outcomes,
            l("findings"),
            findings_line(&a.findings, zh)
        ));
        if a.bodies.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|---|---|\n",
            l("body"),
            l("submitted"),
            l("instructions"),
            l("units"),
            l("answered"),
            l("adoption"),
            l("completion"),
            l("overdue"),
            l("carried")
        ));
        for (id, b) in &a.bodies {
            let name = b
                .name
                .clone()
                .unwrap_or_else(|| id.chars().take(16).collect());
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                escape_md(&name),
                b.submitted,
                b.instructions,
                b.units,
                b.answered,
                pct(b.adoption_rate()),
                pct(b.completion_rate()),
                b.overdue,
                b.carried
            ));
        }
        out.push('\n');
    }
    out
}

fn escape_md(s: &str) -> String {
    crate::text::display_line(s)
        .replace('|', "\\|")
        .replace('#', "\\#")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as a standalone printable HTML page (A4, system Chinese fonts).
pub fn html(report: &Report, zh: bool) -> String {
    let l = |k| label(zh, k);
    let mut body = String::new();
    if report.agendas.is_empty() {
        body.push_str(&format!("<p>{}</p>", l("no_agendas")));
    }
    for a in &report.agendas {
        body.push_str(&format!(
            "<section><h2>{}：{}</h2><ul><li>{}：{}</li><li>{}：{}</li><li>{}：{}</li><li>{}：{}</li><li>{}：{}</li></ul>",
            l("agenda"),
            escape_html(&a.title),
            l("rounds"),
            a.rounds,
            l("meetings"),
            a.meetings,
            l("suggestions"),
            a.suggestions,
            l("outcomes"),
            a.outcomes,
            l("findings"),
            escape_html(&findings_line(&a.findings, zh))
        ));
        if !a.bodies.is_empty() {
            body.push_str("<table><thead><tr>");
            for k in [
                "body",
                "submitted",
                "instructions",
                "units",
                "answered",
                "adoption",
                "completion",
                "overdue",
                "carried",
            ] {
                body.push_str(&format!("<th>{}</th>", l(k)));
            }
            body.push_str("</tr></thead><tbody>");
            for (id, b) in &a.bodies {
                let name = b
                    .name
                    .clone()
                    .unwrap_or_else(|| id.chars().take(16).collect());
                body.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape_html(&name),
                    b.submitted,
                    b.instructions,
                    b.units,
                    b.answered,
                    pct(b.adoption_rate()),
                    pct(b.completion_rate()),
                    b.overdue,
                    b.carried
                ));
            }
            body.push_str("</tbody></table>");
        }
        body.push_str("</section>");
    }
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{year} {title}</title><style>\
@page{{size:A4;margin:25mm 20mm}}body{{font-family:\"FangSong\",\"仿宋\",\"SimSun\",\"宋体\",\"Noto Serif CJK SC\",serif;font-size:12pt;line-height:1.6;max-width:170mm;margin:auto}}\
h1{{text-align:center;font-family:\"SimSun\",\"宋体\",\"Noto Serif CJK SC\",serif}}table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #000;padding:2pt 4pt;text-align:center}}section{{break-inside:avoid}}\
</style></head><body><h1>{year} {title}</h1><p>{as_of_label} {as_of}</p>{body}</body></html>\n",
        lang = if zh { "zh-CN" } else { "en" },
        year = report.year,
        title = l("title"),
        as_of_label = l("as_of"),
        as_of = report.as_of,
    )
}
