//! An agenda's workflow records as the workflow commands ([`super::workflow`]) find and
//! write them: one helper that checks and posts one record write and prints the result
//! ([`Ctx::save`]), and the resolvers from what a person types to a record — a record id
//! or a unique prefix of 8+ hex characters of it, in one agenda ([`pick`]) or in every
//! agenda on this node ([`Ctx::find`]); a round by its number or as the latest
//! ([`round`]); a member body by name or id prefix ([`member_body`]); this body's
//! handling record of a suggestion for a unit ([`active_handling`]).
//!
//! Everything a command can check here is checked before anything is written, so a
//! refused command writes nothing and explains itself in the user's language; the model's
//! own rules (`confer_protocol::model`) still decide on the node.

use std::path::Path;

use confer_protocol::model::schema::check_value;
use confer_protocol::model::AGENDA_SCHEMA;
use serde::Serialize;

use super::client::{Client, ClientError};
use super::ids::{self, PrefixError};
use super::render_workflow as say;
use super::{connect, member, print_json};
use crate::api::WriteRecord;
use crate::i18n::Lang;
use crate::views::{AgendaSummary, AgendaView, Created, RecordView, StatusView};

/// Most bytes a `--text-file` may hold: the largest text field (minutes, an outcome).
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// `--as`: who writes, shared by every workflow command that writes.
#[derive(Debug, clap::Args)]
pub struct Writer {
    /// Write as this member (name or key; default: the first member).
    #[arg(long = "as", value_name = "NAME_OR_KEY")]
    pub as_member: Option<String>,
}

/// The fields one write sets, in the order given.
#[derive(Debug, Default)]
pub struct Fields(Vec<(&'static str, String)>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`.
    pub fn set(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.push((name, value.into()));
        self
    }

    /// Sets `name` to `value` if there is one.
    pub fn opt(self, name: &'static str, value: Option<String>) -> Self {
        match value {
            Some(value) => self.set(name, value),
            None => self,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields, in the order given.
    pub fn into_vec(self) -> Vec<(&'static str, String)> {
        self.0
    }
}

/// One record write: a new record of `collection` (no `id`) or an edit of one.
pub struct Write<'v> {
    pub view: &'v AgendaView,
    pub collection: &'static str,
    pub id: Option<String>,
    pub fields: Fields,
    /// A line printed after the result (e.g. the deadline a command worked out).
    pub note: Option<String>,
}

impl<'v> Write<'v> {
    /// A new record of `collection` in the agenda `view` shows.
    pub fn new(view: &'v AgendaView, collection: &'static str, fields: Fields) -> Self {
        Self {
            view,
            collection,
            id: None,
            fields,
            note: None,
        }
    }

    /// An edit of `record`.
    pub fn edit(view: &'v AgendaView, record: &RecordView, fields: Fields) -> Self {
        let collection = AGENDA_SCHEMA
            .collection(&record.collection)
            .map_or("", |c| c.name);
        Self {
            view,
            collection,
            id: Some(record.id.clone()),
            fields,
            note: None,
        }
    }
}

/// A record found by its id, with the agenda that holds it.
pub struct Found {
    pub view: AgendaView,
    pub record: RecordView,
}

/// Where a record id was looked for, for the error text.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// One agenda (its id).
    Agenda(&'a str),
    /// Every agenda on this node.
    Node,
}

/// What every workflow command needs: the node's API, the data directory, the language and
/// whether to print JSON.
pub struct Ctx<'a> {
    pub client: Client,
    pub data: &'a Path,
    pub lang: Lang,
    pub json: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(client: Client, data: &'a Path, json: bool, lang: Lang) -> Self {
        Self {
            client,
            data,
            lang,
            json,
        }
    }

    pub fn connect(data: &'a Path, json: bool, lang: Lang) -> Result<Self, String> {
        Ok(Self::new(connect(data, lang)?, data, json, lang))
    }

    fn api(&self, e: ClientError) -> String {
        e.explain(self.lang, self.data)
    }

    /// The agenda `input` names (a full id or a unique prefix), as the node shows it now,
    /// listing only the records of `only`: a command asks for what it reads, since at the
    /// workflow's size an agenda holds thousands of records.
    pub async fn agenda(&self, input: &str, only: &[&str]) -> Result<AgendaView, String> {
        let id = super::agenda_id(&self.client, input, self.lang, self.data).await?;
        self.listing(&id, only, None).await
    }

    /// Agenda `id` listing the records of `only`, narrowed by a filter of the API's
    /// (`("id_prefix", PREFIX)` or `("naming", ID)`); ids and names are checked hex and
    /// collection names, so nothing in the query needs escaping.
    pub async fn listing(
        &self,
        id: &str,
        only: &[&str],
        narrow: Option<(&str, &str)>,
    ) -> Result<AgendaView, String> {
        let mut path = format!("/v1/agendas/{id}?records={}", only.join(","));
        if let Some((filter, value)) = narrow {
            path.push_str(&format!("&{filter}={value}"));
        }
        self.client.get(&path).await.map_err(|e| self.api(e))
    }

    /// The records of `only` in `found`'s agenda that name `found`'s record (a
    /// suggestion's handling units, its submissions, …).
    pub async fn naming(&self, found: &Found, only: &[&str]) -> Result<AgendaView, String> {
        self.listing(&found.view.id, only, Some(("naming", &found.record.id)))
            .await
    }

    /// This node's body id.
    pub async fn own_body(&self) -> Result<String, String> {
        let status: StatusView = self
            .client
            .get("/v1/status")
            .await
            .map_err(|e| self.api(e))?;
        Ok(status.body.id)
    }

    /// The record of `collection` whose id `input` is or starts, in whichever agenda on
    /// this node holds it (invitations not accepted hold nothing yet).
    pub async fn find(&self, collection: &'static str, input: &str) -> Result<Found, String> {
        let explain =
            |e: PrefixError| say::prefix_error(self.lang, &e, collection, input, Scope::Node);
        ids::check_prefix(input).map_err(explain)?;
        let list: Vec<AgendaSummary> = self
            .client
            .get("/v1/agendas")
            .await
            .map_err(|e| self.api(e))?;
        // Each agenda lists only the records the prefix could name (an id is 16 hex
        // characters: a longer input names none, and the lookup below says so).
        let prefix = input.trim().to_ascii_lowercase();
        let narrow = (prefix.len() <= confer_protocol::model::schema::ID_HEX_LEN)
            .then_some(("id_prefix", prefix.as_str()));
        let mut views: Vec<AgendaView> = Vec::new();
        for agenda in list.iter().filter(|a| !a.invited) {
            views.push(self.listing(&agenda.id, &[collection], narrow).await?);
        }
        let all = views
            .iter()
            .flat_map(|v| v.records(collection).iter().map(move |r| (v, r)));
        let id = ids::resolve_prefix(input, all.clone().map(|(_, r)| r.id.as_str()))
            .map_err(explain)?
            .to_owned();
        let (view, record) = all
            .clone()
            .find(|(_, r)| r.id == id)
            .map(|(v, r)| (v.clone(), r.clone()))
            .ok_or_else(|| explain(PrefixError::NoMatch))?;
        Ok(Found { view, record })
    }

    /// Checks `write` here (values, no blank text), resolves `--as`, posts it, and prints
    /// the result: `{"id": ID}` for a new record (`"saved": true` added for an edit) with
    /// `--json`, a line in the user's language otherwise.
    pub async fn save(&self, write: Write<'_>, writer: &Writer) -> Result<(), String> {
        check_fields(self.lang, write.collection, &write.fields)?;
        let as_member = match &writer.as_member {
            Some(m) => Some(member::resolve(&self.client, m, self.lang, self.data).await?),
            None => None,
        };
        let request = WriteRecord {
            collection: write.collection.to_owned(),
            id: write.id.clone(),
            fields: write
                .fields
                .0
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            as_member,
        };
        let created: Created = self
            .client
            .post(&format!("/v1/agendas/{}/records", write.view.id), &request)
            .await
            .map_err(|e| self.api(e))?;
        if self.json {
            #[derive(Serialize)]
            struct Saved<'s> {
                id: &'s str,
                saved: bool,
            }
            return match write.id {
                None => print_json(&created),
                Some(_) => print_json(&Saved {
                    id: &created.id,
                    saved: true,
                }),
            };
        }
        let new = write.id.is_none();
        let first = say::written(
            self.lang,
            write.collection,
            &created.id,
            &write.view.id,
            new,
        );
        // What reached whom (the ledger has no other member: nothing to wait for).
        let reached = super::delivery::settle(&self.client, &write.view.id)
            .await
            .map_err(|e| self.api(e))?;
        print!(
            "{}",
            super::delivery::after_write(&first, &reached, self.lang)
        );
        if let Some(note) = write.note {
            println!("  {note}");
        }
        Ok(())
    }
}

/// Checks each value against its field in the agenda's schema, with the model's own rule,
/// and refuses blank text: the CLI never means to clear a field.
fn check_fields(lang: Lang, collection: &'static str, fields: &Fields) -> Result<(), String> {
    let schema = AGENDA_SCHEMA
        .collection(collection)
        .ok_or_else(|| format!("no collection {collection}"))?;
    for (name, value) in &fields.0 {
        let field = schema
            .field(name)
            .ok_or_else(|| format!("a {collection} has no field {name}"))?;
        if value.trim().is_empty() {
            return Err(say::blank(lang, name));
        }
        check_value(field, value).map_err(|e| say::bad_value(lang, name, &e))?;
    }
    Ok(())
}

/// The text of `path`: UTF-8, at most [`MAX_FILE_BYTES`], without the line breaks that end
/// the file; otherwise a message naming the file and what is wrong with it.
pub fn read_text(lang: Lang, path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| say::unreadable(lang, path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(say::file_too_long(lang, path, MAX_FILE_BYTES));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| say::not_utf8(lang, path, e.utf8_error().valid_up_to()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// The record of `collection` in `view` whose id `input` is or starts.
pub fn pick<'v>(
    lang: Lang,
    view: &'v AgendaView,
    collection: &'static str,
    input: &str,
) -> Result<&'v RecordView, String> {
    let explain =
        |e: PrefixError| say::prefix_error(lang, &e, collection, input, Scope::Agenda(&view.id));
    let records = view.records(collection);
    let id = ids::resolve_prefix(input, records.iter().map(|r| r.id.as_str())).map_err(explain)?;
    records
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| explain(PrefixError::NoMatch))
}

/// The round `input` names in `view`: its number (fewer than 8 digits, e.g. `2`) or its id
/// (a unique prefix of 8+ hex characters); without `input`, the latest (highest number).
pub fn round<'v>(
    lang: Lang,
    view: &'v AgendaView,
    input: Option<&str>,
) -> Result<&'v RecordView, String> {
    let rounds = view.records("round");
    if rounds.is_empty() {
        return Err(say::no_round(lang, &view.id));
    }
    let number = |r: &RecordView| r.get("number").parse::<u32>().unwrap_or(0);
    let wanted = match input.map(str::trim) {
        Some(s)
            if !s.is_empty()
                && s.len() < ids::MIN_PREFIX
                && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse::<u32>().unwrap_or(u32::MAX)
        }
        Some(s) => return pick(lang, view, "round", s),
        None => rounds.iter().map(number).max().unwrap_or(0),
    };
    let matching: Vec<&RecordView> = rounds.iter().filter(|r| number(r) == wanted).collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(say::no_round_numbered(lang, &view.id, wanted)),
        many => Err(say::rounds_alike(
            lang,
            &view.id,
            wanted,
            &many.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        )),
    }
}

/// The id of the member body of `view` that `input` names: its name, or its id (a unique
/// prefix of 8+ hex characters).
pub fn member_body(lang: Lang, view: &AgendaView, input: &str) -> Result<String, String> {
    let input = input.trim();
    let named: Vec<&str> = view
        .members
        .iter()
        .filter(|b| b.name.as_deref() == Some(input))
        .map(|b| b.id.as_str())
        .collect();
    match named.as_slice() {
        [one] => return Ok((*one).to_owned()),
        [] => {}
        many => return Err(say::bodies_named_alike(lang, &view.id, input, many)),
    }
    ids::resolve_prefix(input, view.members.iter().map(|b| b.id.as_str()))
        .map(str::to_owned)
        .map_err(|e| match e {
            PrefixError::Ambiguous(all) => say::bodies_named_alike(
                lang,
                &view.id,
                input,
                &all.iter().map(String::as_str).collect::<Vec<_>>(),
            ),
            _ => say::no_member_body(lang, view, input),
        })
}

/// This body's (`body`) handling record of `suggestion` for `unit`, not handed back: the
/// one assigned last if the unit was assigned more than once (by two of the body's nodes at
/// the same time).
pub fn active_handling<'v>(
    view: &'v AgendaView,
    body: &str,
    suggestion: &str,
    unit: &str,
) -> Option<&'v RecordView> {
    view.records("handling")
        .iter()
        .filter(|h| h.area.as_ref().is_some_and(|a| a.id == body))
        .filter(|h| h.get("suggestion") == suggestion && h.get("unit") == unit.trim())
        .filter(|h| h.get("handed_back").is_empty())
        .max_by(|a, b| (a.get("assigned"), &a.id).cmp(&(b.get("assigned"), &b.id)))
}

/// The earliest date this body (`body`) submitted `suggestion`, if it did.
pub fn submitted_on(view: &AgendaView, body: &str, suggestion: &str) -> Option<String> {
    view.records("submission")
        .iter()
        .filter(|s| s.area.as_ref().is_some_and(|a| a.id == body))
        .filter(|s| s.get("suggestion") == suggestion)
        .map(|s| s.get("date").to_owned())
        .filter(|d| confer_protocol::model::date::Date::parse(d).is_some())
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{BodyView, FieldView, ValueView};

    fn record(collection: &str, id: &str, fields: &[(&str, &str)]) -> RecordView {
        RecordView {
            id: id.to_owned(),
            collection: collection.to_owned(),
            area: None,
            created_by: None,
            fields: fields
                .iter()
                .map(|(name, value)| FieldView {
                    name: (*name).to_owned(),
                    current: Some(ValueView {
                        value: (*value).to_owned(),
                        author: "ab".repeat(32),
                        body: None,
                        member_name: None,
                        author_revoked: false,
                    }),
                    conflicts: Vec::new(),
                })
                .collect(),
        }
    }

    fn view(records: Vec<RecordView>) -> AgendaView {
        let body = |id: &str, name: &str| BodyView {
            id: id.repeat(64),
            name: Some(name.to_owned()),
        };
        let mut by_collection = std::collections::BTreeMap::<String, Vec<RecordView>>::new();
        for r in records {
            by_collection
                .entry(r.collection.clone())
                .or_default()
                .push(r);
        }
        AgendaView {
            id: "0123456789abcdef".repeat(4),
            created_by: body("a", "平湖市政协"),
            created_at: 0,
            members: vec![body("a", "平湖市政协"), body("b", "金山区政协")],
            fields: Vec::new(),
            entries: 1,
            signatures_verified: 1,
            signatures_failed: Vec::new(),
            all_signatures_verified: true,
            equivocators: Vec::new(),
            vector: Default::default(),
            equivocations: Vec::new(),
            membership: Default::default(),
            records: by_collection,
            record_counts: Default::default(),
            records_listed: None,
            outcomes: Vec::new(),
            delivery: Vec::new(),
        }
    }

    #[test]
    fn record_prefixes_resolve_or_say_why_not() {
        let v = view(vec![
            record("suggestion", "0011223344556677", &[]),
            record("suggestion", "0011223399999999", &[]),
            record("suggestion", "aabbccddeeff0011", &[]),
        ]);
        let id = |input| pick(Lang::En, &v, "suggestion", input).map(|r| r.id.clone());
        assert_eq!(id("AABBCCDD").as_deref(), Ok("aabbccddeeff0011"));
        assert_eq!(id("001122339").as_deref(), Ok("0011223399999999"));
        for lang in [Lang::En, Lang::Zh] {
            let ambiguous = pick(lang, &v, "suggestion", "00112233")
                .map(|_| ())
                .expect_err("ambiguous");
            assert!(
                ambiguous.contains("0011223344556677") && ambiguous.contains("0011223399999999"),
                "{ambiguous}"
            );
            assert!(
                ambiguous.contains(lang.pick("ambiguous", "不唯一")),
                "{ambiguous}"
            );
            let unknown = pick(lang, &v, "suggestion", "ffffffff")
                .map(|_| ())
                .expect_err("unknown");
            assert!(unknown.contains("ffffffff"), "{unknown}");
            assert!(unknown.contains("confer suggestion list"), "{unknown}");
            let short = pick(lang, &v, "suggestion", "0011")
                .map(|_| ())
                .expect_err("short");
            assert!(short.contains('8'), "{short}");
            // Only the collection asked for counts.
            assert!(pick(lang, &v, "outcome", "aabbccdd").is_err());
        }
    }

    #[test]
    fn rounds_by_number_id_or_the_latest() {
        let none = view(Vec::new());
        let e = round(Lang::Zh, &none, None)
            .map(|_| ())
            .expect_err("no round");
        assert!(e.contains("confer round new") && e.contains("尚无"), "{e}");
        let v = view(vec![
            record("round", "1111111111111111", &[("number", "1")]),
            record("round", "2222222222222222", &[("number", "2")]),
        ]);
        let id = |input| round(Lang::En, &v, input).map(|r| r.id.clone());
        assert_eq!(id(None).as_deref(), Ok("2222222222222222"));
        assert_eq!(id(Some("1")).as_deref(), Ok("1111111111111111"));
        assert_eq!(id(Some("11111111")).as_deref(), Ok("1111111111111111"));
        assert!(id(Some("3")).is_err_and(|e| e.contains("no round 3")));
        let twice = view(vec![
            record("round", "1111111111111111", &[("number", "1")]),
            record("round", "3333333333333333", &[("number", "1")]),
        ]);
        let e = round(Lang::En, &twice, None)
            .map(|_| ())
            .expect_err("two rounds 1");
        assert!(
            e.contains("1111111111111111") && e.contains("3333333333333333"),
            "{e}"
        );
    }

    #[test]
    fn member_bodies_by_name_or_prefix() {
        let v = view(Vec::new());
        assert_eq!(member_body(Lang::En, &v, "金山区政协"), Ok("b".repeat(64)));
        assert_eq!(member_body(Lang::En, &v, "AAAAAAAA"), Ok("a".repeat(64)));
        let e = member_body(Lang::Zh, &v, "嘉善县政协").expect_err("not a member");
        assert!(e.contains("嘉善县政协") && e.contains("金山区政协"), "{e}");
    }

    #[test]
    fn the_active_handling_record_is_this_bodys_not_handed_back() {
        let mine = || {
            Some(BodyView {
                id: "a".repeat(64),
                name: None,
            })
        };
        let mut first = record(
            "handling",
            "1111111111111111",
            &[
                ("suggestion", "s"),
                ("unit", "水利局"),
                ("assigned", "2025-01-01"),
            ],
        );
        first.area = mine();
        let mut back = record(
            "handling",
            "2222222222222222",
            &[
                ("suggestion", "s"),
                ("unit", "水利局"),
                ("assigned", "2025-02-01"),
                ("handed_back", "2025-02-02"),
            ],
        );
        back.area = mine();
        let mut theirs = record(
            "handling",
            "3333333333333333",
            &[
                ("suggestion", "s"),
                ("unit", "水利局"),
                ("assigned", "2025-03-01"),
            ],
        );
        theirs.area = Some(BodyView {
            id: "b".repeat(64),
            name: None,
        });
        let v = view(vec![first, back, theirs]);
        let found = active_handling(&v, &"a".repeat(64), "s", " 水利局 ").map(|h| h.id.as_str());
        assert_eq!(found, Some("1111111111111111"));
        assert!(active_handling(&v, &"a".repeat(64), "s", "交通局").is_none());
    }
}
