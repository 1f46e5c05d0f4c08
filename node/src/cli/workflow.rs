//! The agenda's workflow on the command line: `confer round|meeting|suggestion|outcome|
//! handling|finding …` and `confer agenda host|preselect|confirm`. Each command is one record
//! write through `POST /v1/agendas/{id}/records` ([`records::Ctx::save`]); records are
//! named by their id or a unique prefix of 8+ hex characters of it, a round also by its
//! number, a body by its name. Dates are `YYYY-MM-DD` ([`dates`]). The commands'
//! arguments are in [`commands`].
//!
//! Everything the CLI can check (dates and their order, choices, references, a unit that
//! was assigned, a reason for "not adopted") is checked before anything is written; the
//! model's rules decide again on the node.

mod commands;

use clap::ValueEnum;

use commands::Adoption;
pub use commands::{
    DecisionArgs, FindingCommand, HandlingCommand, HostArgs, MeetingCommand, OutcomeCommand,
    RoundCommand, SuggestionCommand,
};

use super::dates::{self, Date};
use super::print_json;
use super::records::{self, Ctx, Fields, Found, Write};
use super::render_workflow::{self as say, Earlier};
use crate::i18n::Lang;
use crate::views::{AgendaView, RecordView};

/// A value enum as the document stores it (its kebab-case name).
fn stored(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

/// `date` given with `flag`, checked, as `YYYY-MM-DD`.
fn date(lang: Lang, flag: &str, value: &str) -> Result<String, String> {
    dates::parse(lang, flag, value).map(dates::format)
}

/// `value` given with `flag`, if any, checked.
fn date_opt(lang: Lang, flag: &str, value: Option<String>) -> Result<Option<String>, String> {
    value.map(|v| date(lang, flag, &v)).transpose()
}

/// Refuses `date` (given with `flag`) before the handling record's date of assignment or
/// deadline (`earlier`), if it has one.
fn not_before(
    lang: Lang,
    flag: &str,
    date: Date,
    handling: &RecordView,
    earlier: Earlier,
) -> Result<(), String> {
    let field = match earlier {
        Earlier::Due => "due",
        Earlier::Assigned | Earlier::Submitted => "assigned",
    };
    let on = handling.get(field);
    match Date::parse(on) {
        Some(e) if date < e => Err(say::date_before(
            lang,
            flag,
            &dates::format(date),
            earlier,
            on,
        )),
        _ => Ok(()),
    }
}

/// The id of the record of `collection` `input` names in `view`, if given.
fn pick_opt(
    lang: Lang,
    view: &AgendaView,
    collection: &'static str,
    input: Option<String>,
) -> Result<Option<String>, String> {
    input
        .map(|i| records::pick(lang, view, collection, &i).map(|r| r.id.clone()))
        .transpose()
}

/// The collections a command reads: `always`, and each of `when` whose condition holds.
fn with(always: &[&'static str], when: &[(&'static str, bool)]) -> Vec<&'static str> {
    let mut out = always.to_vec();
    out.extend(when.iter().filter(|(_, wanted)| *wanted).map(|(c, _)| *c));
    out
}

pub async fn round(ctx: &Ctx<'_>, command: RoundCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        RoundCommand::New {
            agenda,
            from,
            host,
            writer,
        } => {
            let only = with(&["round"], &[("outcome", from.is_some())]);
            let view = ctx.agenda(&agenda, &only).await?;
            let number = view.records("round").len() + 1;
            let from = pick_opt(lang, &view, "outcome", from)?;
            let host = host
                .map(|b| records::member_body(lang, &view, &b))
                .transpose()?;
            let fields = Fields::new()
                .set("number", number.to_string())
                .opt("from_outcome", from)
                .opt("host", host);
            ctx.save(Write::new(&view, "round", fields), &writer).await
        }
        RoundCommand::Plan {
            round,
            agenda,
            research,
            participants,
            form,
            date: day,
            place,
            notice,
            writer,
        } => {
            let view = ctx.agenda(&agenda, &["round"]).await?;
            let round = records::round(lang, &view, Some(&round))?;
            let fields = Fields::new()
                .opt("research", research)
                .opt("participants", participants)
                .opt("form", form.map(stored))
                .opt("date", date_opt(lang, "--date", day)?)
                .opt("place", place)
                .opt("notice", notice);
            if fields.is_empty() {
                let flags = "--research, --participants, --form, --date, --place, --notice";
                return Err(say::nothing_to_change(lang, flags));
            }
            ctx.save(Write::edit(&view, round, fields), &writer).await
        }
    }
}

/// `agenda host`: the round's host.
pub async fn host(ctx: &Ctx<'_>, args: HostArgs) -> Result<(), String> {
    let view = ctx.agenda(&args.agenda, &["round"]).await?;
    let round = records::round(ctx.lang, &view, args.round.as_deref())?;
    let body = records::member_body(ctx.lang, &view, &args.body)?;
    ctx.save(
        Write::edit(&view, round, Fields::new().set("host", body)),
        &args.writer,
    )
    .await
}

/// `agenda preselect` (this body's chair meeting, a preselection in its area) and
/// `agenda confirm` (the joint secretaries-general meeting, on the round itself).
pub async fn decide(ctx: &Ctx<'_>, args: DecisionArgs, confirm: bool) -> Result<(), String> {
    let view = ctx.agenda(&args.agenda, &["round"]).await?;
    let round = records::round(ctx.lang, &view, args.round.as_deref())?;
    let day = date(ctx.lang, "--date", &args.date)?;
    let write = if confirm {
        let fields = Fields::new()
            .set("confirmed_on", day)
            .set("confirmation", args.text);
        Write::edit(&view, round, fields)
    } else {
        let fields = Fields::new()
            .set("round", round.id.clone())
            .set("date", day)
            .set("text", args.text);
        Write::new(&view, "preselection", fields)
    };
    ctx.save(write, &args.writer).await
}

pub async fn meeting(ctx: &Ctx<'_>, command: MeetingCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        MeetingCommand::Add {
            agenda,
            date: day,
            round,
            place,
            form,
            attendance,
            writer,
        } => {
            let day = date(lang, "--date", &day)?;
            let view = ctx.agenda(&agenda, &["round"]).await?;
            let round = records::round(lang, &view, round.as_deref())?;
            let fields = Fields::new()
                .set("round", round.id.clone())
                .set("date", day)
                .opt("place", place)
                .opt("form", form.map(stored))
                .opt("attendance", attendance);
            ctx.save(Write::new(&view, "meeting", fields), &writer)
                .await
        }
        MeetingCommand::Minutes {
            meeting,
            text_file,
            writer,
        } => {
            let text = records::read_text(lang, &text_file)?;
            let Found { view, record } = ctx.find("meeting", &meeting).await?;
            ctx.save(
                Write::edit(&view, &record, Fields::new().set("minutes", text)),
                &writer,
            )
            .await
        }
    }
}

pub async fn suggestion(ctx: &Ctx<'_>, command: SuggestionCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        SuggestionCommand::Add {
            agenda,
            text,
            round,
            meeting,
            proposer,
            bodies,
            date: day,
            from,
            writer,
        } => {
            let day = match day {
                Some(day) => dates::parse(lang, "--date", &day)?,
                None => dates::today(),
            };
            let only = with(
                &["round"],
                &[
                    ("meeting", meeting.is_some()),
                    ("suggestion", from.is_some()),
                ],
            );
            let view = ctx.agenda(&agenda, &only).await?;
            let round = records::round(lang, &view, round.as_deref())?;
            let meeting = pick_opt(lang, &view, "meeting", meeting)?;
            let bodies = if bodies.is_empty() {
                view.members.iter().map(|b| b.id.clone()).collect()
            } else {
                bodies
                    .iter()
                    .map(|b| records::member_body(lang, &view, b))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let fields = Fields::new()
                .set("round", round.id.clone())
                .opt("meeting", meeting)
                .set("text", text)
                .opt("proposer", proposer)
                .set("bodies", bodies.join(","))
                .set("date", dates::format(day))
                .opt(
                    "from_suggestion",
                    pick_opt(lang, &view, "suggestion", from)?,
                );
            ctx.save(Write::new(&view, "suggestion", fields), &writer)
                .await
        }
        SuggestionCommand::List { agenda } => {
            let view = ctx.agenda(&agenda, &["suggestion"]).await?;
            if ctx.json {
                print_json(&view.records("suggestion"))
            } else {
                print!("{}", say::suggestion_list(&view, lang));
                Ok(())
            }
        }
        SuggestionCommand::Show { id, on } => super::followup::trail(ctx, &id, on.as_deref()).await,
        SuggestionCommand::Dispute {
            id,
            decision,
            date: day,
            writer,
        } => {
            let day = date(lang, "--date", &day)?;
            let Found { view, record } = ctx.find("suggestion", &id).await?;
            let fields = Fields::new()
                .set("disputed", "yes")
                .set("decision", decision)
                .set("decided_on", day);
            ctx.save(Write::edit(&view, &record, fields), &writer).await
        }
    }
}

pub async fn outcome(ctx: &Ctx<'_>, command: OutcomeCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        OutcomeCommand::New {
            agenda,
            kind,
            title,
            text_file,
            suggestions,
            round,
            writer,
        } => {
            let text = records::read_text(lang, &text_file)?;
            let only = with(&["round"], &[("suggestion", !suggestions.is_empty())]);
            let view = ctx.agenda(&agenda, &only).await?;
            let round = records::round(lang, &view, round.as_deref())?;
            let suggestions = suggestions
                .iter()
                .map(|s| records::pick(lang, &view, "suggestion", s).map(|r| r.id.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let fields = Fields::new()
                .set("round", round.id.clone())
                .set("kind", stored(kind))
                .set("title", title)
                .set("text", text)
                .opt(
                    "suggestions",
                    (!suggestions.is_empty()).then(|| suggestions.join(",")),
                );
            ctx.save(Write::new(&view, "outcome", fields), &writer)
                .await
        }
        OutcomeCommand::Assess {
            id,
            text,
            rating,
            expert,
            date: day,
            writer,
        } => {
            let Found { view, record } = ctx.find("outcome", &id).await?;
            let day = match day {
                Some(day) => dates::parse(lang, "--date", &day)?,
                None => dates::today(),
            };
            let experts = match &expert {
                Some(_) => Some(ctx.listing(&view.id, &["expert"], None).await?),
                None => None,
            };
            let expert = match (&experts, expert) {
                (Some(experts), Some(e)) => pick_opt(lang, experts, "expert", Some(e))?,
                _ => None,
            };
            let fields = Fields::new()
                .set("outcome", record.id.clone())
                .opt("expert", expert)
                .set("text", text)
                .set("rating", stored(rating))
                .set("date", dates::format(day));
            ctx.save(Write::new(&view, "assessment", fields), &writer)
                .await
        }
        OutcomeCommand::Sign { id, writer } => super::followup::sign(ctx, &id, &writer).await,
        OutcomeCommand::Show { id } => super::followup::show(ctx, &id).await,
        OutcomeCommand::Export { id, out } => super::followup::export(ctx, &id, &out).await,
        OutcomeCommand::Edit {
            id,
            text_file,
            title,
            writer,
        } => {
            let text = records::read_text(lang, &text_file)?;
            let Found { view, record } = ctx.find("outcome", &id).await?;
            let fields = Fields::new().set("text", text).opt("title", title);
            ctx.save(Write::edit(&view, &record, fields), &writer).await
        }
    }
}

/// The suggestion `input` names, its agenda, and this body's active handling record of it
/// for `unit` (an error saying the unit was not assigned if there is none).
async fn assigned(ctx: &Ctx<'_>, input: &str, unit: &str) -> Result<(Found, RecordView), String> {
    let found = ctx.find("suggestion", input).await?;
    let body = ctx.own_body().await?;
    let units = ctx.naming(&found, &["handling"]).await?;
    let handling = records::active_handling(&units, &body, &found.record.id, unit)
        .cloned()
        .ok_or_else(|| say::not_assigned(ctx.lang, &found.record.id, unit))?;
    Ok((found, handling))
}

pub async fn handling(ctx: &Ctx<'_>, command: HandlingCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        HandlingCommand::Submit {
            suggestion,
            to,
            date: day,
            text,
            writer,
        } => {
            let day = date(lang, "--date", &day)?;
            let Found { view, record } = ctx.find("suggestion", &suggestion).await?;
            let fields = Fields::new()
                .set("suggestion", record.id)
                .set("to", to)
                .set("date", day)
                .opt("text", text);
            ctx.save(Write::new(&view, "submission", fields), &writer)
                .await
        }
        HandlingCommand::Instruct {
            suggestion,
            leader,
            date: day,
            text,
            copied_to,
            writer,
        } => {
            let day = date(lang, "--date", &day)?;
            let Found { view, record } = ctx.find("suggestion", &suggestion).await?;
            let fields = Fields::new()
                .set("suggestion", record.id)
                .set("leader", leader)
                .set("date", day)
                .set("text", text)
                .opt("copied_to", copied_to);
            ctx.save(Write::new(&view, "instruction", fields), &writer)
                .await
        }
        HandlingCommand::Assign {
            suggestion,
            unit,
            co,
            due,
            assigned,
            writer,
        } => {
            let on = match assigned {
                Some(a) => dates::parse(lang, "--assigned", &a)?,
                None => dates::today(),
            };
            let (due, computed) = match due {
                Some(d) => (dates::parse(lang, "--due", &d)?, false),
                None => (dates::months_on(on, 3), true),
            };
            if due < on {
                return Err(say::date_before(
                    lang,
                    "--due",
                    &dates::format(due),
                    Earlier::Assigned,
                    &dates::format(on),
                ));
            }
            let found = ctx.find("suggestion", &suggestion).await?;
            let body = ctx.own_body().await?;
            let named = ctx.naming(&found, &["handling", "submission"]).await?;
            let Found { view, record } = found;
            if let Some(h) = records::active_handling(&named, &body, &record.id, &unit) {
                return Err(say::already_assigned(lang, &record.id, &unit, &h.id));
            }
            if let Some(submitted) = records::submitted_on(&named, &body, &record.id) {
                if dates::format(due) < submitted {
                    return Err(say::date_before(
                        lang,
                        "--due",
                        &dates::format(due),
                        Earlier::Submitted,
                        &submitted,
                    ));
                }
            }
            let fields = Fields::new()
                .set("suggestion", record.id)
                .set("unit", unit.trim())
                .set("role", if co { "co" } else { "lead" })
                .set("assigned", dates::format(on))
                .set("due", dates::format(due));
            let mut write = Write::new(&view, "handling", fields);
            write.note = Some(say::due_note(lang, &dates::format(due), computed));
            ctx.save(write, &writer).await
        }
        HandlingCommand::Receive {
            suggestion,
            unit,
            date: day,
            writer,
        } => {
            let on = dates::parse(lang, "--date", &day)?;
            let (found, handling) = assigned(ctx, &suggestion, &unit).await?;
            not_before(lang, "--date", on, &handling, Earlier::Assigned)?;
            let fields = Fields::new().set("received", dates::format(on));
            ctx.save(Write::edit(&found.view, &handling, fields), &writer)
                .await
        }
        HandlingCommand::HandBack {
            suggestion,
            unit,
            date: day,
            reason,
            writer,
        } => {
            let on = dates::parse(lang, "--date", &day)?;
            let (found, handling) = assigned(ctx, &suggestion, &unit).await?;
            not_before(lang, "--date", on, &handling, Earlier::Assigned)?;
            let fields = Fields::new()
                .set("handed_back", dates::format(on))
                .set("handed_back_reason", reason);
            ctx.save(Write::edit(&found.view, &handling, fields), &writer)
                .await
        }
        HandlingCommand::Extend {
            suggestion,
            unit,
            to,
            reason,
            writer,
        } => {
            let to = dates::parse(lang, "--to", &to)?;
            let (found, handling) = assigned(ctx, &suggestion, &unit).await?;
            not_before(lang, "--to", to, &handling, Earlier::Due)?;
            let fields = Fields::new()
                .set("extended_to", dates::format(to))
                .set("extension_reason", reason);
            ctx.save(Write::edit(&found.view, &handling, fields), &writer)
                .await
        }
        HandlingCommand::Feedback {
            suggestion,
            unit,
            result,
            text,
            reason,
            date: day,
            writer,
        } => {
            if result == Adoption::NotAdopted
                && reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(say::reason_needed(lang));
            }
            let day = match day {
                Some(d) => date(lang, "--date", &d)?,
                None => dates::format(dates::today()),
            };
            let (found, handling) = assigned(ctx, &suggestion, &unit).await?;
            let fields = Fields::new()
                .set("handling", handling.id)
                .set("result", stored(result))
                .set("text", text)
                .opt("reason", reason)
                .set("date", day);
            ctx.save(Write::new(&found.view, "feedback", fields), &writer)
                .await
        }
        HandlingCommand::Evaluate {
            suggestion,
            satisfaction,
            text,
            date: day,
            writer,
        } => {
            let day = match day {
                Some(d) => date(lang, "--date", &d)?,
                None => dates::format(dates::today()),
            };
            let Found { view, record } = ctx.find("suggestion", &suggestion).await?;
            let fields = Fields::new()
                .set("suggestion", record.id)
                .set("satisfaction", stored(satisfaction))
                .opt("text", text)
                .set("date", day);
            ctx.save(Write::new(&view, "evaluation", fields), &writer)
                .await
        }
        HandlingCommand::Carry {
            suggestion,
            year,
            note,
            writer,
        } => {
            let Found { view, record } = ctx.find("suggestion", &suggestion).await?;
            let fields = Fields::new()
                .set("suggestion", record.id)
                .set("year", year.to_string())
                .opt("note", note);
            ctx.save(Write::new(&view, "carry", fields), &writer).await
        }
    }
}

pub async fn finding(ctx: &Ctx<'_>, command: FindingCommand) -> Result<(), String> {
    let lang = ctx.lang;
    match command {
        FindingCommand::Add {
            agenda,
            suggestion,
            outcome,
            text,
            severity,
            visit,
            attach,
            date: day,
            writer,
        } => {
            let day = date_opt(lang, "--date", day)?;
            let only = with(
                &[],
                &[
                    ("suggestion", suggestion.is_some()),
                    ("outcome", outcome.is_some()),
                ],
            );
            let view = ctx.agenda(&agenda, &only).await?;
            let mut attachments = Vec::new();
            for file in &attach {
                attachments.push(super::attachments::upload(ctx, &view, file).await?);
            }
            let fields = Fields::new()
                .opt(
                    "suggestion",
                    pick_opt(lang, &view, "suggestion", suggestion)?,
                )
                .opt("outcome", pick_opt(lang, &view, "outcome", outcome)?)
                .set("text", text)
                .opt("severity", severity.map(stored))
                .opt("visit", visit.map(stored))
                .opt(
                    "attachments",
                    (!attachments.is_empty()).then(|| attachments.join(",")),
                )
                .opt("date", day);
            ctx.save(Write::new(&view, "finding", fields), &writer)
                .await
        }
        FindingCommand::Respond { id, text, writer } => {
            let Found { view, record } = ctx.find("finding", &id).await?;
            ctx.save(
                Write::edit(&view, &record, Fields::new().set("response", text)),
                &writer,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::commands::{FollowUp, Form, Kind, Satisfaction, Severity};
    use super::*;
    use confer_protocol::model::agenda::{
        FORMS, OUTCOME_KINDS, RESULTS, SATISFACTION, SEVERITIES, VISITS,
    };

    /// Every value a flag offers is one the schema accepts, and every value the schema
    /// accepts is offered.
    #[test]
    fn value_flags_are_the_schemas_choices() {
        fn names<E: ValueEnum>() -> Vec<String> {
            E::value_variants().iter().cloned().map(stored).collect()
        }
        assert_eq!(names::<Form>(), FORMS);
        assert_eq!(names::<Kind>(), OUTCOME_KINDS);
        assert_eq!(names::<Adoption>(), RESULTS);
        assert_eq!(names::<Satisfaction>(), SATISFACTION);
        assert_eq!(names::<Severity>(), SEVERITIES);
        assert_eq!(names::<FollowUp>(), VISITS);
    }
}
