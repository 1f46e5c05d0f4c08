//! Outcomes (协商成果): the text a joint agenda's member bodies adopt together, in the one
//! canonical rendering every body signs, and the attestations ([`attestation`]) that sign
//! it.
//!
//! An outcome is adopted when a signer of every member body it lists (a member key whose
//! certificate from that body has `can_sign`) has attested the same rendering. What is
//! signed is the SHA-256 [`digest`] of [`render`]'s output: human-readable UTF-8, a header
//! of `key: value` lines, a blank line, the text. The rendering is canonical:
//! [`parse`] accepts exactly the strings [`render`] makes, so `render(parse(r)) == r` for
//! every `r` that parses, and `parse(render(t)) == t`. The grammar and limits are specified
//! in `docs/outcome-bundle.md`.
//!
//! Invariants of an [`OutcomeText`] (checked by [`OutcomeText::new`], the only way to make
//! one): the title is a clean name (no control, bidi or invisible characters, no whitespace
//! at either end, not empty) of at most [`MAX_OUTCOME_TITLE_BYTES`]; the text has LF line
//! ends, no trailing whitespace at its very end, is not empty, holds no hidden character
//! but `\n` and `\t`, and is at most [`MAX_OUTCOME_TEXT_BYTES`]; the bodies are 1 to
//! [`MAX_MEMBERS`], sorted by id and without repeats. Text is compared byte for byte: no
//! Unicode normalisation is applied.

pub mod attestation;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::cert::BodyId;
use crate::keys::PublicKey;
use crate::space::{SpaceId, MAX_MEMBERS};
use crate::text::{is_clean_name, is_hidden};

pub use attestation::{Attestation, AttestationError, ATTESTATION_DOMAIN, ATTESTATION_HEX_LEN};

/// The first header line's value: what the rendering is.
pub const RENDERING_FORMAT: &str = "confer-outcome";
/// The rendering's version (second header line).
pub const RENDERING_VERSION: u32 = 1;
/// Longest title, in bytes (as an agenda's).
pub const MAX_OUTCOME_TITLE_BYTES: usize = 1024;
/// Longest text, in bytes, after line ends are normalised.
pub const MAX_OUTCOME_TEXT_BYTES: usize = 256 * 1024;
/// Longest rendering: the longest text plus the longest header (64 bodies, longest kind and
/// title). Anything longer is refused before it is parsed.
pub const MAX_RENDERING_BYTES: usize = MAX_OUTCOME_TEXT_BYTES + 8 * 1024;

/// The kind of outcome document, with the names the committees use for them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// 会议决议: a resolution of the joint meeting.
    Resolution,
    /// 联合协商意见: a joint consultation opinion.
    JointOpinion,
    /// 联合协商情况反映: a joint report on the situation.
    JointReport,
    /// 建议案: a proposal (the committees' formal proposal to party and government).
    Proposal,
    /// 民主监督建议书: a supervision proposal.
    SupervisionProposal,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::Resolution,
        OutcomeKind::JointOpinion,
        OutcomeKind::JointReport,
        OutcomeKind::Proposal,
        OutcomeKind::SupervisionProposal,
    ];

    /// The name in the rendering, on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Resolution => "resolution",
            OutcomeKind::JointOpinion => "joint-opinion",
            OutcomeKind::JointReport => "joint-report",
            OutcomeKind::Proposal => "proposal",
            OutcomeKind::SupervisionProposal => "supervision-proposal",
        }
    }

    /// The Chinese name, as the committees write it (docs: `/work/shared/DOMAIN.md`).
    pub fn zh(self) -> &'static str {
        match self {
            OutcomeKind::Resolution => "会议决议",
            OutcomeKind::JointOpinion => "联合协商意见",
            OutcomeKind::JointReport => "联合协商情况反映",
            OutcomeKind::Proposal => "建议案",
            OutcomeKind::SupervisionProposal => "民主监督建议书",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutcomeKind {
    type Err = OutcomeError;
    /// Exactly one of the [`OutcomeKind::as_str`] names (no trimming, no other case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutcomeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(OutcomeError::Malformed("unknown outcome kind"))
    }
}

/// An outcome's id within its space: 8 bytes, shown as 16 lowercase hexadecimal digits.
/// The model chooses it (e.g. at random) when the outcome is drafted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutcomeId(pub [u8; 8]);

impl fmt::Display for OutcomeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for OutcomeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutcomeId({self})")
    }
}

impl FromStr for OutcomeId {
    type Err = OutcomeError;
    /// Exactly 16 lowercase hexadecimal digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        lower_hex(s).map(OutcomeId).ok_or(OutcomeError::Malformed(
            "an outcome id is 16 lowercase hex digits",
        ))
    }
}

impl serde::Serialize for OutcomeId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// `s` as `N` bytes if it is exactly `2 * N` lowercase hexadecimal digits.
pub(crate) fn lower_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// Why an outcome text was refused, or a rendering did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("the title must not be empty, start or end with spaces, or hold line breaks, control or invisible characters")]
    UncleanTitle,
    #[error("the title is longer than {MAX_OUTCOME_TITLE_BYTES} bytes")]
    TitleTooLong,
    #[error("the text is empty")]
    EmptyText,
    #[error("the text is longer than {MAX_OUTCOME_TEXT_BYTES} bytes")]
    TextTooLong,
    #[error("the text holds a control or invisible character (U+{code:04X}) at byte {at}")]
    HiddenCharacter { code: u32, at: usize },
    #[error("an outcome needs between 1 and {MAX_MEMBERS} bodies")]
    BodyCount,
    #[error("the rendering is longer than {MAX_RENDERING_BYTES} bytes")]
    RenderingTooLong,
    #[error("malformed rendering: {0}")]
    Malformed(&'static str),
    #[error("the rendering is not canonical (render would not give back the same bytes)")]
    NotCanonical,
}

/// The text of an outcome and what it is: the space (joint agenda) it belongs to, its id
/// there, its kind and title, and the member bodies that must sign it. Valid by
/// construction ([`OutcomeText::new`]); see the module documentation for the invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeText {
    space: SpaceId,
    outcome: OutcomeId,
    kind: OutcomeKind,
    title: String,
    text: String,
    bodies: Vec<BodyId>,
}

impl OutcomeText {
    /// Checks and normalises an outcome: `text`'s line ends become LF (CRLF and a lone CR
    /// alike) and whitespace at its very end is dropped; `bodies` are sorted and repeats
    /// dropped. The title is taken as it is (it must already be clean).
    pub fn new(
        space: SpaceId,
        outcome: OutcomeId,
        kind: OutcomeKind,
        title: impl Into<String>,
        text: &str,
        bodies: impl IntoIterator<Item = BodyId>,
    ) -> Result<Self, OutcomeError> {
        let title = title.into();
        if !is_clean_name(&title) {
            return Err(OutcomeError::UncleanTitle);
        }
        if title.len() > MAX_OUTCOME_TITLE_BYTES {
            return Err(OutcomeError::TitleTooLong);
        }
        let text = normalise_text(text);
        if text.is_empty() {
            return Err(OutcomeError::EmptyText);
        }
        if text.len() > MAX_OUTCOME_TEXT_BYTES {
            return Err(OutcomeError::TextTooLong);
        }
        if let Some((at, c)) = text
            .char_indices()
            .find(|&(_, c)| is_hidden(c) && c != '\n' && c != '\t')
        {
            return Err(OutcomeError::HiddenCharacter {
                code: u32::from(c),
                at,
            });
        }
        let mut bodies: Vec<BodyId> = bodies.into_iter().collect();
        bodies.sort();
        bodies.dedup();
        if bodies.is_empty() || bodies.len() > MAX_MEMBERS {
            return Err(OutcomeError::BodyCount);
        }
        Ok(Self {
            space,
            outcome,
            kind,
            title,
            text,
            bodies,
        })
    }

    pub fn space(&self) -> SpaceId {
        self.space
    }

    pub fn outcome(&self) -> OutcomeId {
        self.outcome
    }

    pub fn kind(&self) -> OutcomeKind {
        self.kind
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    /// The text, normalised (LF line ends, no trailing whitespace at the end).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The bodies that must sign, sorted by id.
    pub fn bodies(&self) -> &[BodyId] {
        &self.bodies
    }

    /// The canonical rendering ([`render`]).
    pub fn render(&self) -> String {
        render(self)
    }

    /// The digest every attestation signs: [`digest`] of the rendering.
    pub fn digest(&self) -> [u8; 32] {
        digest(&self.render())
    }
}

/// `text` with CRLF and lone CR turned into LF and whitespace at its very end removed.
pub fn normalise_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.trim_end().to_owned()
}

/// The canonical rendering of an outcome: the header lines `format: confer-outcome`,
/// `version: 1`, `space: <64 hex>`, `outcome: <16 hex>`, `kind: <kind>`, one
/// `body: <64 hex>` per body in ascending order, `title: <title>`, each ending in LF; an
/// empty line; the text (no final line end).
pub fn render(outcome: &OutcomeText) -> String {
    let mut out = String::with_capacity(256 + 72 * outcome.bodies.len() + outcome.text.len());
    out.push_str(&format!(
        "format: {RENDERING_FORMAT}\nversion: {RENDERING_VERSION}\nspace: {}\noutcome: {}\nkind: {}\n",
        outcome.space, outcome.outcome, outcome.kind
    ));
    for body in &outcome.bodies {
        out.push_str(&format!("body: {body}\n"));
    }
    out.push_str("title: ");
    out.push_str(&outcome.title);
    out.push_str("\n\n");
    out.push_str(&outcome.text);
    out
}

/// SHA-256 of the rendering's UTF-8 bytes: what an attestation signs.
pub fn digest(rendering: &str) -> [u8; 32] {
    Sha256::digest(rendering.as_bytes()).into()
}

/// Parses a canonical rendering. Refuses anything [`render`] would not have made, so
/// `render(&parse(r)?) == r`.
pub fn parse(rendering: &str) -> Result<OutcomeText, OutcomeError> {
    use OutcomeError::Malformed;
    if rendering.len() > MAX_RENDERING_BYTES {
        return Err(OutcomeError::RenderingTooLong);
    }
    // A header value never holds a line break and is never empty, so the first blank line
    // ends the header.
    let (header, text) = rendering
        .split_once("\n\n")
        .ok_or(Malformed("no blank line after the header"))?;
    let mut lines = header.split('\n').peekable();
    let mut field = |name: &'static str, missing: &'static str| {
        lines
            .next()
            .and_then(|line| line.strip_prefix(name))
            .and_then(|line| line.strip_prefix(": "))
            .ok_or(Malformed(missing))
    };
    if field("format", "the first line is not `format: confer-outcome`")? != RENDERING_FORMAT {
        return Err(Malformed("the first line is not `format: confer-outcome`"));
    }
    if field("version", "the second line is not `version: 1`")? != "1" {
        return Err(Malformed("the second line is not `version: 1`"));
    }
    let space = field("space", "the third line is not `space: <64 hex>`")?;
    let space =
        SpaceId(lower_hex(space).ok_or(Malformed("a space id is 64 lowercase hex digits"))?);
    let outcome: OutcomeId =
        field("outcome", "the fourth line is not `outcome: <16 hex>`")?.parse()?;
    let kind: OutcomeKind = field("kind", "the fifth line is not `kind: <kind>`")?.parse()?;
    let mut bodies: Vec<BodyId> = Vec::new();
    while let Some(body) = lines.peek().and_then(|l| l.strip_prefix("body: ")) {
        let id = lower_hex(body).ok_or(Malformed("a body id is 64 lowercase hex digits"))?;
        let id = BodyId(PublicKey::from_bytes(id));
        if bodies.last().is_some_and(|last| *last >= id) {
            return Err(Malformed(
                "body lines must be in ascending order, without repeats",
            ));
        }
        if bodies.len() == MAX_MEMBERS {
            return Err(OutcomeError::BodyCount);
        }
        bodies.push(id);
        lines.next();
    }
    let title = lines
        .next()
        .and_then(|l| l.strip_prefix("title: "))
        .ok_or(Malformed("expected `body: <64 hex>` or `title: <title>`"))?;
    if lines.next().is_some() {
        return Err(Malformed("the header goes on after the title"));
    }
    let outcome = OutcomeText::new(space, outcome, kind, title, text, bodies)?;
    if render(&outcome) != rendering {
        return Err(OutcomeError::NotCanonical);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: u8) -> BodyId {
        BodyId(PublicKey::from_bytes([n; 32]))
    }

    fn sample(text: &str) -> Result<OutcomeText, OutcomeError> {
        OutcomeText::new(
            SpaceId([7; 32]),
            OutcomeId([1, 2, 3, 4, 5, 6, 7, 8]),
            OutcomeKind::JointOpinion,
            "关于跨界河道水环境联防联治的联合协商意见",
            text,
            [body(2), body(1), body(2)],
        )
    }

    #[test]
    fn renders_the_documented_layout_and_parses_back() {
        let outcome = sample("一、建立联合监测机制。\r\n二、联合执法。\r\n\r\n").unwrap();
        let expected = format!(
            "format: confer-outcome\nversion: 1\nspace: {}\noutcome: 0102030405060708\nkind: joint-opinion\nbody: {}\nbody: {}\ntitle: 关于跨界河道水环境联防联治的联合协商意见\n\n一、建立联合监测机制。\n二、联合执法。",
            "07".repeat(32),
            "01".repeat(32),
            "02".repeat(32),
        );
        assert_eq!(outcome.render(), expected);
        assert_eq!(parse(&expected), Ok(outcome.clone()));
        assert_eq!(outcome.digest(), digest(&expected));
    }

    #[test]
    fn refuses_what_cannot_be_signed() {
        assert_eq!(sample(" \n\t\r\n").unwrap_err(), OutcomeError::EmptyText);
        assert_eq!(
            sample(&"字".repeat(MAX_OUTCOME_TEXT_BYTES / 3 + 1)).unwrap_err(),
            OutcomeError::TextTooLong
        );
        assert!(sample(&"字".repeat(MAX_OUTCOME_TEXT_BYTES / 3)).is_ok());
        assert_eq!(
            sample("a\u{202e}b").unwrap_err(),
            OutcomeError::HiddenCharacter {
                code: 0x202e,
                at: 1
            }
        );
        assert!(sample("a\tb\nc").is_ok());
        let with_title = |title: &str| {
            OutcomeText::new(
                SpaceId([0; 32]),
                OutcomeId([0; 8]),
                OutcomeKind::Resolution,
                title,
                "x",
                [body(1)],
            )
        };
        for bad in ["two\nlines", "", " padded", "cr\r"] {
            assert_eq!(with_title(bad).unwrap_err(), OutcomeError::UncleanTitle);
        }
        assert_eq!(
            with_title(&"题".repeat(342)).unwrap_err(),
            OutcomeError::TitleTooLong
        );
        let bodies = |n: u8| {
            OutcomeText::new(
                SpaceId([0; 32]),
                OutcomeId([0; 8]),
                OutcomeKind::Resolution,
                "t",
                "x",
                (0..n).map(body),
            )
        };
        assert_eq!(bodies(0).unwrap_err(), OutcomeError::BodyCount);
        assert!(bodies(64).is_ok());
        assert_eq!(bodies(65).unwrap_err(), OutcomeError::BodyCount);
    }

    #[test]
    fn the_longest_outcome_fits_the_rendering_limit() {
        let outcome = OutcomeText::new(
            SpaceId([0xff; 32]),
            OutcomeId([0xff; 8]),
            OutcomeKind::SupervisionProposal,
            "题".repeat(MAX_OUTCOME_TITLE_BYTES / 3),
            &"x".repeat(MAX_OUTCOME_TEXT_BYTES),
            (0..64).map(body),
        )
        .unwrap();
        let rendering = outcome.render();
        assert!(
            rendering.len() <= MAX_RENDERING_BYTES,
            "{}",
            rendering.len()
        );
        assert_eq!(parse(&rendering), Ok(outcome));
    }

    #[test]
    fn refuses_non_canonical_renderings() {
        let good = sample("正文").unwrap().render();
        let variants = [
            {
                let (b1, b2) = (
                    format!("body: {}\n", "01".repeat(32)),
                    format!("body: {}\n", "02".repeat(32)),
                );
                good.replace(&format!("{b1}{b2}"), &format!("{b2}{b1}"))
            },
            good.replace("kind: joint-opinion", "kind: Joint-Opinion"),
            good.replace("outcome: 0102030405060708", "outcome: 0102030405060708 "),
            good.replace("space: 0707", "space: 0A07"),
            format!("{good}\n"),
            format!("{good} "),
            good.replace("\n\n", "\r\n\r\n"),
            good.replace("正文", "正\r文"),
            good.replace("version: 1", "version: 2"),
            good.replace("title: ", "title:  "),
            good.replacen("body: ", "bodies: ", 1),
            good.replace("format: confer-outcome\n", ""),
        ];
        for bad in variants {
            assert_ne!(bad, good);
            assert!(parse(&bad).is_err(), "accepted {bad:?}");
        }
        // Repeated body lines are refused too.
        let first_body = format!("body: {}\n", "01".repeat(32));
        let repeated = good.replace(&first_body, &format!("{first_body}{first_body}"));
        assert!(parse(&repeated).is_err());
    }

    #[test]
    fn kinds_and_ids_round_trip() {
        for kind in OutcomeKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert!(!kind.zh().is_empty());
        }
        assert!("Resolution".parse::<OutcomeKind>().is_err());
        let id: OutcomeId = "00ff00ff00ff00ff".parse().unwrap();
        assert_eq!(id.to_string(), "00ff00ff00ff00ff");
        for bad in [
            "00FF00FF00FF00FF",
            "00ff",
            " 00ff00ff00ff00ff",
            "00ff00ff00ff00fg",
        ] {
            assert!(bad.parse::<OutcomeId>().is_err(), "{bad}");
        }
    }
}
