//! The one layout every page shares (header, navigation, language switch), the message
//! page, and the embedded assets.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{forms, Viewer};
use crate::i18n::Lang;
use crate::views::BodyView;

const CSS: &str = include_str!("assets/ui.css");
const JS: &str = include_str!("assets/ui.js");

pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

pub(crate) async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

fn html_lang(lang: Lang) -> &'static str {
    lang.pick("en", "zh-CN")
}

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (lang.pick("confer joint consultation", "confer 政协联动协商")) }
            link rel="stylesheet" href="/assets/ui.css";
            script src="/assets/ui.js" defer {}
        }
    }
}

/// The navigation entries: (path, English, Chinese).
const NAV: &[(&str, &str, &str)] = &[
    ("/", "Dashboard", "工作台"),
    ("/agendas", "Joint agendas", "联动议题"),
    ("/ledger", "Topic ledger", "台账"),
    ("/plan", "Annual plan", "年度计划"),
    ("/experts", "Expert pool", "专家库"),
    ("/members", "Members", "成员"),
    ("/overdue", "Overdue", "督办"),
    ("/report", "Year-end report", "年终通报"),
    ("/network", "Network", "网络"),
    ("/search", "Search", "搜索"),
];

fn language_switch(lang: Lang, path: &str) -> Markup {
    let (to, label) = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    html! {
        a.lang-switch href=(format!("/lang?to={to}&back={}", urlencode(path))) lang=(if to == "en" { "en" } else { "zh-CN" }) { (label) }
    }
}

/// Percent-encodes a path for a query value.
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A full page for a logged-in person.
pub(crate) fn page(viewer: &Viewer, body: &BodyView, title: &str, content: Markup) -> Markup {
    let lang = viewer.lang;
    let active = |path: &str| {
        if path == "/" {
            viewer.path == "/"
        } else {
            viewer.path.starts_with(path)
        }
    };
    html! {
        (DOCTYPE)
        html lang=(html_lang(lang)) {
            (head(lang, title))
            body {
                a.skip href="#main" { (lang.pick("Skip to content", "跳到正文")) }
                header.top {
                    div.brand {
                        span.logo aria-hidden="true" { "协" }
                        div {
                            strong { (body.name.as_deref().unwrap_or("")) }
                            span.sub { (lang.pick("Joint consultation", "政协联动协商")) }
                        }
                    }
                    nav aria-label=(lang.pick("Main", "主导航")) {
                        ul {
                            @for (path, en, zh) in NAV {
                                li { a href=(path) aria-current=[active(path).then_some("page")] { (lang.pick(en, zh)) } }
                            }
                            @if viewer.account.admin {
                                li { a href="/admin" aria-current=[active("/admin").then_some("page")] { (lang.pick("Accounts", "账户管理")) } }
                            }
                        }
                    }
                    div.who {
                        span.person title=(viewer.member.key) {
                            (viewer.account.name) " · " (viewer.member.name)
                            @if viewer.member.can_sign { span.badge.sign { (lang.pick("signer", "可签署")) } }
                        }
                        (language_switch(lang, &viewer.path))
                        a href="/password" { (lang.pick("Password", "修改密码")) }
                        form method="post" action="/logout" class="inline" {
                            (forms::csrf(&viewer.session.csrf))
                            button.link type="submit" { (lang.pick("Log out", "退出")) }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.bottom {
                    (lang.pick("Every change is signed by the member who made it and checked by every partner node.", "每项修改均由其作者成员签名，并由每个合作方节点验证。"))
                }
            }
        }
    }
}

/// A page for someone not logged in (login), with the language switch.
pub(crate) fn bare(lang: Lang, title: &str, path: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(html_lang(lang)) {
            (head(lang, title))
            body.bare {
                main id="main" {
                    div.card.narrow {
                        div.brand.center {
                            span.logo aria-hidden="true" { "协" }
                            strong { (lang.pick("Joint consultation", "政协联动协商")) }
                        }
                        h1 { (title) }
                        (content)
                        p.center { (language_switch(lang, path)) }
                    }
                }
            }
        }
    }
}

/// A short page saying what happened, with a way back.
pub(crate) fn message(lang: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let markup = bare(
        lang,
        title,
        "/",
        html! {
            p { (text) }
            p { a.button href="/" { (lang.pick("Back to the dashboard", "返回工作台")) } }
        },
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// A short fingerprint of a key or id for people: the first 8 hex characters.
pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A body as people know it: its name, or the start of its id.
pub(crate) fn body_name(b: &BodyView) -> &str {
    b.name.as_deref().unwrap_or(short(&b.id))
}

/// "written by BODY · PERSON ✓ signature verified".
pub(crate) fn byline(lang: Lang, body: Option<&str>, person: Option<&str>, key: &str) -> Markup {
    html! {
        span.byline {
            span.body-name { (body.unwrap_or(lang.pick("unknown body", "未知机构"))) }
            " · "
            span.person-name title=(key) { (person.unwrap_or(short(key))) }
            " "
            span.verified title=(lang.pick("The entry's Ed25519 signature was checked against the member's certificate", "该条目的 Ed25519 签名已按成员证书核验")) {
                "✓ " (lang.pick("signature verified", "签名已验证"))
            }
        }
    }
}

/// Time in Beijing, from unix milliseconds: "2026-03-15 09:30".
pub(crate) fn beijing_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = confer_protocol::model::date::Date::from_days(days);
    format!("{date} {:02}:{:02}", rem / 3600, (rem % 3600) / 60)
}
