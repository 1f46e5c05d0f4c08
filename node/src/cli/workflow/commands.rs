//! The workflow commands' arguments (clap): one enum of subcommands per kind of record,
//! the value enums whose names are the schema's choices, and the argument structs of
//! `agenda host|preselect|confirm`. Every command and option has its help line here.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::cli::records::Writer;

/// The form a consultation takes (协商形式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Form {
    /// 座谈会、百姓说事会: broad public matters.
    Symposium,
    /// 听证会、民主评议会 with experts: technical matters.
    Hearing,
    /// 面对面协商: small matters.
    FaceToFace,
    /// 开放空间会议.
    OpenSpace,
    /// 网络协商 ("cloud" consultation).
    Online,
}

/// The kind of an outcome document (协商成果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// 会议决议.
    Resolution,
    /// 联合协商意见.
    JointOpinion,
    /// 联合协商情况反映.
    JointReport,
    /// 建议案.
    Proposal,
    /// 民主监督建议书.
    SupervisionProposal,
}

/// What became of a suggestion (办理结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Adoption {
    /// 采纳.
    Adopted,
    /// 部分采纳.
    PartlyAdopted,
    /// 列入计划.
    Planned,
    /// 留作参考.
    ForReference,
    /// 未予采纳 (needs --reason).
    NotAdopted,
}

/// How satisfied the members are with the handling (满意程度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Satisfaction {
    /// 满意.
    Satisfied,
    /// 基本满意.
    BasicallySatisfied,
    /// 不满意.
    Unsatisfied,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Severity {
    /// 低.
    Low,
    /// 中.
    Medium,
    /// 高.
    High,
}

/// The kind of follow-up visit a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FollowUp {
    /// 回头看.
    LookBack,
    /// 回访督查.
    ReturnVisit,
    /// 明察暗访.
    Unannounced,
}

#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// Start a round of consultation on an agenda; a further round (再协商) follows up
    /// the last one's outcome (--from).
    New {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// The outcome this round follows up (its id, or a unique prefix of 8+ hex
        /// characters).
        #[arg(long = "from", value_name = "OUTCOME")]
        from: Option<String>,
        /// The body hosting this round (轮流承办): its name, or a unique prefix of 8+ hex
        /// characters of its id.
        #[arg(long, value_name = "BODY")]
        host: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Write a round's consultation plan (协商方案); only the parts given change.
    Plan {
        /// The round: its number, or its id (a unique prefix of 8+ hex characters).
        round: String,
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        #[arg(long)]
        agenda: String,
        /// The research done beforehand (调研).
        #[arg(long, value_name = "TEXT")]
        research: Option<String>,
        /// Who takes part: members, officials, the public, third-party experts.
        #[arg(long, value_name = "TEXT")]
        participants: Option<String>,
        /// The form of the consultation.
        #[arg(long)]
        form: Option<Form>,
        /// The date of the consultation, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// Where it takes place.
        #[arg(long)]
        place: Option<String>,
        /// The notice sent to all participants in advance.
        #[arg(long, value_name = "TEXT")]
        notice: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
}

/// `agenda host`: which body hosts a round.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// Agenda id, or a unique prefix of 8+ hex characters of it.
    pub agenda: String,
    /// The round: its number or id (default: the latest).
    #[arg(long)]
    pub round: Option<String>,
    /// The hosting body: its name, or a unique prefix of 8+ hex characters of its id.
    #[arg(long)]
    pub body: String,
    #[command(flatten)]
    pub writer: Writer,
}

/// `agenda preselect` and `agenda confirm`: a meeting's decision on a round's topic.
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// Agenda id, or a unique prefix of 8+ hex characters of it.
    pub agenda: String,
    /// The round: its number or id (default: the latest).
    #[arg(long)]
    pub round: Option<String>,
    /// The meeting's date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub date: String,
    /// What the meeting decided.
    #[arg(long)]
    pub text: String,
    #[command(flatten)]
    pub writer: Writer,
}

#[derive(Debug, Subcommand)]
pub enum MeetingCommand {
    /// Record a consultation meeting (协商会议) of a round.
    Add {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// The meeting's date, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// The round: its number or id (default: the latest).
        #[arg(long)]
        round: Option<String>,
        /// Where it took place.
        #[arg(long)]
        place: Option<String>,
        /// The form it took.
        #[arg(long)]
        form: Option<Form>,
        /// Who attended.
        #[arg(long, value_name = "TEXT")]
        attendance: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Write a meeting's minutes from a UTF-8 text file.
    Minutes {
        /// The meeting's id, or a unique prefix of 8+ hex characters of it.
        meeting: String,
        /// The minutes, a UTF-8 text file.
        #[arg(long, value_name = "FILE")]
        text_file: PathBuf,
        #[command(flatten)]
        writer: Writer,
    },
}

#[derive(Debug, Subcommand)]
pub enum SuggestionCommand {
    /// Record a suggestion (意见建议) raised in a round.
    Add {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// The suggestion.
        #[arg(long)]
        text: String,
        /// The round: its number or id (default: the latest).
        #[arg(long)]
        round: Option<String>,
        /// The meeting it was raised at (its id, or a unique prefix of 8+ hex characters).
        #[arg(long)]
        meeting: Option<String>,
        /// Who proposed it.
        #[arg(long)]
        proposer: Option<String>,
        /// A body it concerns (repeatable; its name or a unique prefix of 8+ hex
        /// characters of its id). Default: every member body of the agenda.
        #[arg(long = "body", value_name = "BODY")]
        bodies: Vec<String>,
        /// The day it was raised, YYYY-MM-DD (default: today); the year-end report counts
        /// it in that year.
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        /// The earlier suggestion it takes up again (再协商; id or a unique prefix of 8+ hex
        /// characters, in the same agenda).
        #[arg(long = "from", value_name = "SUGGESTION")]
        from: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// List an agenda's suggestions: id, proposer, first line, who entered it.
    List {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
    },
    /// Mark a suggestion disputed, with the joint chairs' meeting's decision (主席联席会议).
    Dispute {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// What the joint chairs' meeting decided.
        #[arg(long)]
        decision: String,
        /// The date of the decision, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// 提与落: one suggestion across rounds and bodies — submissions, instructions, each
    /// unit's handling and feedback, evaluations, findings.
    Show {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// Count overdue days as of this date, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutcomeCommand {
    /// Write a round's outcome document (协商成果) from a UTF-8 text file.
    New {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// The kind of document.
        #[arg(long)]
        kind: Kind,
        /// Its title.
        #[arg(long)]
        title: String,
        /// Its text, a UTF-8 text file.
        #[arg(long, value_name = "FILE")]
        text_file: PathBuf,
        /// A suggestion it contains (repeatable; id or unique prefix of 8+ hex characters).
        #[arg(long = "suggestion", value_name = "ID")]
        suggestions: Vec<String>,
        /// The round: its number or id (default: the latest).
        #[arg(long)]
        round: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Assess how an outcome was carried out (an expert's view, or this body's as the
    /// neighbouring third party).
    Assess {
        /// The outcome's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The assessment.
        #[arg(long)]
        text: String,
        /// How well the outcome was carried out.
        #[arg(long, value_enum)]
        rating: Satisfaction,
        /// The expert giving it (an expert shared into the agenda; default: this body).
        #[arg(long, value_name = "EXPERT")]
        expert: Option<String>,
        /// The day, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Sign the outcome's current text for this body (needs a member who may sign:
    /// `member add --can-sign`).
    Sign {
        /// The outcome's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// Show an outcome: whether it is adopted, and each member body's signature against
    /// the current text.
    Show {
        /// The outcome's id, or a unique prefix of 8+ hex characters of it.
        id: String,
    },
    /// Write the outcome's self-contained bundle (text, signatures, certificate chains)
    /// for anyone to check offline with `confer verify`.
    Export {
        /// The outcome's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// Where to write the bundle (JSON).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace an outcome's text (and title) before it is signed.
    Edit {
        /// The outcome's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The new text, a UTF-8 text file.
        #[arg(long, value_name = "FILE")]
        text_file: PathBuf,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
}

#[derive(Debug, Subcommand)]
pub enum HandlingCommand {
    /// Record that this body submitted a suggestion (建言报送) to a party committee or
    /// government.
    Submit {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// To whom it was submitted.
        #[arg(long)]
        to: String,
        /// The date of submission, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// A covering note.
        #[arg(long)]
        text: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record a leader's written instruction (批示) on a suggestion.
    Instruct {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The leader who gave it.
        #[arg(long)]
        leader: String,
        /// The date of the instruction, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// The instruction.
        #[arg(long)]
        text: String,
        /// The units it was copied to (抄告).
        #[arg(long, value_name = "TEXT")]
        copied_to: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Assign a suggestion to a unit (承办单位) with a deadline.
    Assign {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The unit that must act on it.
        #[arg(long)]
        unit: String,
        /// The unit co-handles it (协办) rather than leading (主办).
        #[arg(long)]
        co: bool,
        /// The deadline, YYYY-MM-DD (default: three calendar months after --assigned, on
        /// the month's last day where it is shorter).
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// The date of assignment, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        assigned: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record the date a unit received its assignment (签收).
    Receive {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The unit, as it was assigned.
        #[arg(long)]
        unit: String,
        /// The date of receipt, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record that a unit handed its assignment back (退回), and why.
    HandBack {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The unit, as it was assigned.
        #[arg(long)]
        unit: String,
        /// The date it was handed back, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// Extend a unit's deadline (延期), with the reason.
    Extend {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The unit, as it was assigned.
        #[arg(long)]
        unit: String,
        /// The new deadline, YYYY-MM-DD (not before the current one).
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record a unit's feedback (办理反馈) on a suggestion this body assigned to it.
    Feedback {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The unit, as it was assigned.
        #[arg(long)]
        unit: String,
        /// What became of the suggestion.
        #[arg(long)]
        result: Adoption,
        /// What the unit did.
        #[arg(long)]
        text: String,
        /// Why (required with --result not-adopted).
        #[arg(long)]
        reason: Option<String>,
        /// The date of the feedback, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record the members' evaluation of how a suggestion was handled.
    Evaluate {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// How satisfied they are.
        #[arg(long)]
        satisfaction: Satisfaction,
        /// Comments.
        #[arg(long)]
        text: Option<String>,
        /// The date of the evaluation, YYYY-MM-DD (default: today).
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Carry a suggestion not yet adopted into a year's inspection plan (列为专题视察计划).
    Carry {
        /// The suggestion's id, or a unique prefix of 8+ hex characters of it.
        suggestion: String,
        /// The year of the inspection plan.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1900..=9999))]
        year: u16,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
}

#[derive(Debug, Subcommand)]
pub enum FindingCommand {
    /// Record what members found when checking how suggestions were carried out (监督发现).
    Add {
        /// Agenda id, or a unique prefix of 8+ hex characters of it.
        agenda: String,
        /// The suggestion it concerns (id or unique prefix of 8+ hex characters).
        #[arg(long)]
        suggestion: Option<String>,
        /// The outcome it concerns (id or unique prefix of 8+ hex characters).
        #[arg(long)]
        outcome: Option<String>,
        /// What was found.
        #[arg(long)]
        text: String,
        /// How serious it is.
        #[arg(long)]
        severity: Option<Severity>,
        /// The kind of visit it comes from.
        #[arg(long)]
        visit: Option<FollowUp>,
        /// A file to attach (repeatable; at most 512 KiB each): stored in the agenda by its
        /// SHA-256 and synced with it.
        #[arg(long = "attach", value_name = "FILE")]
        attach: Vec<PathBuf>,
        /// The date of the visit, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: Option<String>,
        #[command(flatten)]
        writer: Writer,
    },
    /// Record the response to a finding.
    Respond {
        /// The finding's id, or a unique prefix of 8+ hex characters of it.
        id: String,
        /// The response.
        #[arg(long)]
        text: String,
        #[command(flatten)]
        writer: Writer,
    },
}
