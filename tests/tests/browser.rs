//! The web UI in a real browser: headless Chromium driven through chromedriver
//! (fantoccini), in front of two real nodes talking over libp2p on loopback.
//!
//! 平湖市政协's staff log in (a one-time password, changed at once), create a joint agenda
//! with 金山区政协 and add suggestions; 金山's open agenda page shows them without a reload;
//! each body's signer signs the outcome and both open pages show it adopted; two accounts
//! on one node appear on the partner as two different signed members; a wrong password, a
//! missing field and a stale CSRF token are each refused with nothing saved. Screenshots
//! of the main pages go to `$CARGO_TARGET_DIR/ui-screenshots/` (or `target/`).
//!
//! Without chromium and chromedriver the test says so and passes, unless
//! `CONFER_REQUIRE_BROWSER=1` (as in `.ci/run`), where a missing browser fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use confer_node::ui::{accounts, serve, UiConfig, UiServer};
use confer_protocol::cert::Role;
use confer_protocol::model::ModelView;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::*;

const BROWSER_WAIT: Duration = Duration::from_secs(20);

fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshots directory");
    dir
}

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(binary: &Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    eventually("chromedriver listens", BROWSER_WAIT, || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await;
    driver
}

/// One browser window logged in (or not) to one node's UI.
struct Browser {
    client: Client,
    base: String,
    who: &'static str,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn open(driver: &Driver, chromium: &Path, base: &str, who: &'static str) -> Browser {
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1366,768", "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .expect("a chromium session");
        Browser {
            client,
            base: base.to_owned(),
            who,
            _profile: profile,
        }
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("{}: open {path}: {e}", self.who));
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: no field {css}: {e}", self.who));
        field.clear().await.ok();
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{}: type into {css}: {e}", self.who));
    }

    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{}: nothing to click at {css}: {e}", self.who))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {css}: {e}", self.who));
    }

    /// The page's visible text.
    async fn text(&self) -> String {
        self.client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }

    async fn wait_text(&self, needle: &str) -> String {
        let what = format!("{}'s page shows {needle:?}", self.who);
        eventually(&what, BROWSER_WAIT, || async {
            let text = self.text().await;
            ensure(text.contains(needle), || text.chars().take(1500).collect())?;
            Ok(text)
        })
        .await
    }

    async fn wait_path(&self, path: &str) {
        let what = format!("{} is at {path}", self.who);
        eventually(&what, BROWSER_WAIT, || async {
            let now = self.path().await;
            ensure(now == path, || now.clone())
        })
        .await;
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png)
            .expect("write a screenshot");
    }

    /// Scrolls the element `id` to the top of the window.
    async fn scroll_to(&self, id: &str) {
        self.client
            .execute(
                "document.getElementById(arguments[0]).scrollIntoView();",
                vec![serde_json::json!(id)],
            )
            .await
            .expect("scroll");
    }

    /// A value the page's script keeps until the page is loaded again.
    async fn mark(&self) {
        self.client
            .execute("window.__confer_mark = 'kept';", vec![])
            .await
            .expect("set a mark");
    }

    async fn still_marked(&self) -> bool {
        self.client
            .execute("return window.__confer_mark === 'kept';", vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// Logs in with a one-time password and sets `new` as the password.
    async fn first_login(&self, name: &str, once: &str, new: &str) {
        self.goto("/login").await;
        self.fill("#login-name", name).await;
        self.fill("#login-password", once).await;
        self.click("form[action='/login'] button").await;
        self.wait_path("/password").await;
        self.fill("#password-current", once).await;
        self.fill("#password-new", new).await;
        self.fill("#password-repeat", new).await;
        self.click("form[action='/password'] button").await;
        self.wait_path("/").await;
    }

    async fn logout(&self) {
        self.click("form[action='/logout'] button").await;
        self.wait_path("/login").await;
    }
}

/// A UI server in front of a test node, with accounts.
async fn ui_for(node: &TestNode) -> UiServer {
    let config = UiConfig {
        addr: "127.0.0.1:0".parse().expect("address"),
        tls: None,
    };
    serve(&config, node.handle.clone(), node.dir.clone())
        .await
        .expect("the UI listens")
}

/// Adds a member who may sign, as `confer member add --can-sign` does, and tells the node.
async fn add_signer(node: &TestNode, name: &str) -> String {
    let cert = confer_node::identity::members::add_member(
        &node.dir,
        &node.body_secret(),
        name,
        Role::Chair,
        true,
        unix_now(),
    )
    .expect("add a member");
    node.handle.reload_members().await.expect("reload members");
    cert.key.to_string()
}

async fn suggestions(node: &TestNode, id: SpaceId) -> Vec<confer_protocol::model::RecordView> {
    match node.handle.read(id).await.expect("read") {
        ModelView::Agenda(view) => view.records("suggestion").to_vec(),
        ModelView::Ledger(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_of_two_committees_do_a_joint_consultation_in_their_browsers() {
    let chromium = find_binary(
        "CONFER_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = find_binary("CONFER_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        if std::env::var("CONFER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("browser tests need chromium and chromedriver (CONFER_REQUIRE_BROWSER=1)");
        }
        println!("browser tests did not run: chromium/chromedriver not found");
        return;
    };

    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;

    // Two people at 平湖: the secretariat's staff (the first member) and the chair, who
    // may sign; one at 金山, its chair.
    let li_key = add_signer(&pinghu, "李主席").await;
    let wang_key = add_signer(&jinshan, "王主席").await;
    let zhang_once =
        accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), true).expect("account");
    let li_once = accounts::add(&pinghu.dir, "li", &li_key, false).expect("account");
    let wang_once = accounts::add(&jinshan.dir, "wang", &wang_key, false).expect("account");
    let ui_p = ui_for(&pinghu).await;
    let ui_j = ui_for(&jinshan).await;

    let driver = start_driver(&chromedriver).await;
    let p = Browser::open(&driver, &chromium, &format!("http://{}", ui_p.addr), "平湖").await;
    let j = Browser::open(&driver, &chromium, &format!("http://{}", ui_j.addr), "金山").await;

    // A wrong password is refused and logs no one in.
    p.goto("/login").await;
    p.screenshot("01-login").await;
    p.fill("#login-name", "zhang").await;
    p.fill("#login-password", "not-the-password").await;
    p.click("form[action='/login'] button").await;
    p.wait_text("账户名或密码错误").await;
    assert_eq!(p.path().await, "/login");
    p.goto("/").await;
    p.wait_path("/login").await;

    p.first_login("zhang", &zhang_once, "zhang-password-1")
        .await;
    p.wait_text("工作台").await;

    // A missing field: the title is required; the mistake shows next to it and nothing
    // is created.
    p.goto("/agendas").await;
    p.fill("#new-summary", "跨界河道联防联治").await;
    p.click("input[name='with']").await;
    p.click("form[action='/agendas'] button").await;
    p.wait_text("此项为必填项").await;
    let error = p
        .client
        .find(Locator::Css("#new-title-error"))
        .await
        .expect("the title's error sits by the title");
    assert!(error.text().await.unwrap_or_default().contains("必填"));
    p.screenshot("02-agenda-form-error").await;
    assert!(pinghu.handle.list_agendas().await.expect("list").is_empty());

    p.fill("#new-title", "跨界河道水环境联防联治").await;
    p.click("form[action='/agendas'] button").await;
    p.wait_text("添加意见建议").await;
    let path = p.path().await;
    let id: SpaceId = path
        .trim_start_matches("/agendas/")
        .parse()
        .expect("the agenda page's path names the agenda");
    wait_has_agenda(&jinshan, id).await;

    // 金山 opens the agenda page and keeps it open.
    j.first_login("wang", &wang_once, "wang-password-1").await;
    j.goto(&format!("/agendas/{id}")).await;
    j.wait_text("跨界河道水环境联防联治").await;
    j.mark().await;

    // 平湖's staff add a suggestion; 金山's page shows it without a reload.
    p.fill(
        "#suggestion-text",
        "建立跨界河长联合巡河制度，每月联合巡查一次。",
    )
    .await;
    p.fill("#suggestion-proposer", "张委员").await;
    p.click("form[action$='/suggestion'] button").await;
    p.wait_text("建立跨界河长联合巡河制度").await;
    j.wait_text("建立跨界河长联合巡河制度").await;
    assert!(
        j.still_marked().await,
        "金山's page changed without being loaded again"
    );

    // A missing field in the suggestion form: refused inline, nothing saved.
    p.goto(&format!("/agendas/{id}")).await;
    p.click("form[action$='/suggestion'] button").await;
    p.wait_text("此项为必填项").await;
    assert_eq!(suggestions(&pinghu, id).await.len(), 1);

    // A stale CSRF token: zhang's token, sent after zhang logged out and li logged in.
    let stale: String = p
        .client
        .find(Locator::Css(
            "form[action$='/suggestion'] input[name='_csrf']",
        ))
        .await
        .expect("the form's token")
        .attr("value")
        .await
        .ok()
        .flatten()
        .expect("a token value");
    p.logout().await;
    p.first_login("li", &li_once, "li-password-12").await;
    p.goto(&format!("/agendas/{id}")).await;
    p.fill("#suggestion-text", "这条不应被保存").await;
    p.client
        .execute(
            "document.querySelector(\"form[action$='/suggestion'] input[name='_csrf']\").value = arguments[0];",
            vec![json!(stale)],
        )
        .await
        .expect("put the stale token in the form");
    p.click("form[action$='/suggestion'] button").await;
    p.wait_text("表单已失效").await;
    assert_eq!(suggestions(&pinghu, id).await.len(), 1, "nothing was saved");

    // The chair adds the second suggestion: two people of one node.
    p.goto(&format!("/agendas/{id}")).await;
    p.fill("#suggestion-text", "共建水质自动监测站，数据实时共享。")
        .await;
    p.click("form[action$='/suggestion'] button").await;
    p.wait_text("共建水质自动监测站").await;
    let text = j.wait_text("共建水质自动监测站").await;
    assert!(j.still_marked().await);
    assert!(
        text.contains("平湖市政协 秘书处") || text.contains("秘书处"),
        "{text}"
    );
    assert!(text.contains("李主席"), "{text}");
    let on_jinshan = eventually("金山 holds both suggestions", WAIT, || async {
        let s = suggestions(&jinshan, id).await;
        ensure(s.len() == 2, || format!("{} suggestions", s.len()))?;
        Ok(s)
    })
    .await;
    let authors: Vec<(String, Option<String>)> = on_jinshan
        .iter()
        .map(|s| {
            let by = s.created_by.as_ref().expect("attributed");
            (by.author.to_string(), by.member_name.clone())
        })
        .collect();
    assert_ne!(
        authors[0].0, authors[1].0,
        "two different member keys: {authors:?}"
    );
    let names: Vec<&str> = authors.iter().filter_map(|(_, n)| n.as_deref()).collect();
    assert!(
        names.contains(&"李主席") && names.iter().any(|n| n.contains("秘书处")),
        "{names:?}"
    );
    j.screenshot("04-agenda-partner-live").await;

    // An outcome from both suggestions; each body's signer signs it.
    p.fill("#outcome-title", "关于跨界河道联防联治的联合意见")
        .await;
    p.fill(
        "#outcome-text",
        "两地政协建议：一、建立联合巡河制度；二、共建水质监测站。",
    )
    .await;
    for box_ in p
        .client
        .find_all(Locator::Css(
            "form[action$='/outcome'] input[name='suggestions']",
        ))
        .await
        .expect("suggestion boxes")
    {
        box_.click().await.expect("tick a suggestion");
    }
    p.click("form[action$='/outcome'] button").await;
    p.wait_text("关于跨界河道联防联治的联合意见").await;
    p.click("form[action$='/sign'] button").await;
    p.wait_text("已签署").await;
    p.goto(&format!("/agendas/{id}")).await;
    p.mark().await;
    // 金山's open page shows 平湖's signature, then its chair signs there.
    j.wait_text("已签署").await;
    j.click("form[action$='/sign'] button").await;
    j.wait_text("已通过").await;
    p.wait_text("已通过").await;
    assert!(
        p.still_marked().await,
        "平湖's page showed the adoption without a reload"
    );
    p.screenshot("03-agenda").await;
    j.screenshot("05-agenda-adopted-partner").await;

    // The other pages render, in both languages.
    p.goto("/network").await;
    p.wait_text("金山区政协").await;
    p.screenshot("06-network").await;
    j.goto("/").await;
    j.wait_text("工作台").await;
    j.screenshot("07-dashboard-partner").await;
    let first = suggestions(&pinghu, id).await[0].id.to_string();
    p.goto(&format!("/agendas/{id}/suggestions/{first}")).await;
    p.wait_text("交办承办单位").await;
    // 平湖 assigns the suggestion to a unit and records its feedback.
    p.fill("#handling-unit", "平湖市水利局").await;
    p.click("form[action$='/handling'] button").await;
    p.wait_text("平湖市水利局").await;
    p.fill("#feedback-text", "已建立联合巡河制度，每月巡查。")
        .await;
    p.click("form[action$='/feedback'] button").await;
    p.wait_text("已建立联合巡河制度").await;
    p.screenshot("08-suggestion").await;
    j.goto(&format!("/agendas/{id}/suggestions/{first}")).await;
    j.wait_text("已建立联合巡河制度").await;
    // 金山 finds 平湖's suggestion and feedback, Chinese words inside Chinese text.
    j.goto(&format!("/search?q={}", "巡河")).await;
    j.wait_text("建立跨界河长联合巡河制度").await;
    j.wait_text("已建立联合巡河制度").await;
    j.screenshot("11-search").await;
    // 平湖 adds a meeting to the round; the page shows it and the member bodies' part.
    p.goto(&format!("/agendas/{id}")).await;
    p.click("#meetings + details > summary").await;
    p.fill("#meeting-date", "2026-04-01").await;
    p.fill("#meeting-place", "平湖市政协三楼会议室").await;
    p.click("form[action$='/meeting'] button").await;
    p.wait_text("平湖市政协三楼会议室").await;
    p.scroll_to("meetings").await;
    p.screenshot("12-agenda-meetings").await;
    p.scroll_to("membership").await;
    p.screenshot("13-agenda-membership").await;
    p.goto("/report").await;
    p.wait_text("年终通报").await;
    p.screenshot("10-report").await;
    // 台账: a topic added, then its page with the screening, merge and agenda forms.
    p.goto("/ledger").await;
    p.fill("#topic-title", "跨界河道保洁经费分担").await;
    p.click("form[action='/ledger'][method='post'] button")
        .await;
    p.wait_text("1 个选题").await;
    p.click("a[href^='/ledger/topics/']").await;
    p.wait_text("立为联动议题").await;
    p.screenshot("12-ledger-topic").await;
    p.goto(&format!("/lang?to=en&back=/agendas/{id}")).await;
    p.wait_text("Adopted").await;
    p.screenshot("09-agenda-english").await;

    let _ = p.client.close().await;
    let _ = j.client.close().await;
    ui_p.stop().await;
    ui_j.stop().await;
}
