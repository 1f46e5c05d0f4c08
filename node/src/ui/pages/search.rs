//! 搜索: the search page over every agenda this node holds ([`crate::ui::search`]).

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;

use super::labels::{self, label};
use crate::ui::{html, layout, Shared, Viewer};

/// Results shown at most.
const SHOWN: usize = 100;

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(crate) async fn show(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(q): Query<SearchQuery>,
) -> Response {
    let lang = viewer.lang;
    let query = q.q.trim().chars().take(200).collect::<String>();
    let hits = state.search.find(&query, SHOWN);
    html(layout::page(
        &viewer,
        &state.body,
        viewer.t("Search", "搜索"),
        html! {
            form method="get" action="/search" role="search" {
                div.field {
                    label for="search-q" { (viewer.t("Titles, summaries, suggestions, outcomes, feedback and findings of every agenda", "在所有议题的标题、简介、意见建议、协商成果、办理反馈和监督发现中搜索")) }
                    input id="search-q" name="q" type="text" value=(query);
                }
                button type="submit" { (viewer.t("Search", "搜索")) }
            }
            @if !query.is_empty() {
                p.muted { (hits.len()) (viewer.t(" found", " 条结果")) }
                ul.results {
                    @for d in &hits {
                        @let href = if !d.suggestion.is_empty() {
                            format!("/agendas/{}/suggestions/{}", d.space, d.suggestion)
                        } else {
                            format!("/agendas/{}", d.space)
                        };
                        li.card {
                            span.badge { (label(lang, labels::COLLECTIONS, if d.collection == "agenda" { "title" } else { d.collection })) }
                            " " a href=(href) { (d.agenda_title) }
                            p.suggestion-text { (d.text.chars().take(240).collect::<String>()) }
                        }
                    }
                }
            }
        },
    ))
}
