//! The web UI over plain HTTP, without a browser (these run everywhere): logins refused
//! and rate-limited, a POST without this session's CSRF token answered 403 with nothing
//! written, and every page of an agenda of the workflow issue's size (500 suggestions, 2,000
//! handling units, 200 findings) under 300 KB.

use std::time::Instant;

use confer_node::ui::{accounts, serve, UiConfig};
use confer_protocol::model::ModelView;
use reqwest::StatusCode;

use crate::support::*;
use confer_tests::ui_client::{csrf_of, ui_for, Http};
use confer_tests::workflow_agenda;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_refused_on_a_wrong_password_and_limited_after_five_failures() {
    let fed = Federation::new();
    let node = fed.spawn("平湖市政协").await;
    let once = accounts::add(&node.dir, "zhang", node.member_key(), false).expect("account");
    let ui = ui_for(&node).await;
    let mut http = Http::new(&ui);

    // Pages may not be framed by another site, and run only this site's scripts.
    let response = http
        .client
        .get(format!("{}/login", http.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        response
            .headers()
            .get("x-frame-options")
            .map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
        "{csp}"
    );

    // Without the login form's own token: 403.
    let refused = http
        .post("/login", &[("name", "zhang"), ("password", &once)])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let page = http.get("/login").await;
    let mut token = csrf_of(&page.body);
    for _ in 0..confer_node::ui::session::MAX_FAILURES_PER_ACCOUNT {
        let wrong = http
            .post(
                "/login",
                &[
                    ("_csrf", &token),
                    ("name", "zhang"),
                    ("password", "wrong-one"),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("账户名或密码错误"), "{}", wrong.body);
        assert!(!http.cookies.iter().any(|(k, _)| k == "confer_session"));
        // Each login page carries a fresh token (and its cookie).
        token = csrf_of(&wrong.body);
    }
    // Locked: even the right password is not checked now.
    let locked = http
        .post(
            "/login",
            &[("_csrf", &token), ("name", "zhang"), ("password", &once)],
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!http.cookies.iter().any(|(k, _)| k == "confer_session"));
    // A page needing a session sends the visitor to the login page.
    let home = http.get("/").await;
    assert_eq!(
        (home.status, home.location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_the_sessions_csrf_token_is_refused_and_writes_nothing() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;
    let id = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), false).expect("account");
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;
    let page = http.get(&format!("/agendas/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = csrf_of(&page.body);
    let path = format!("/agendas/{id}/suggestion");

    let entries = |node: &TestNode| {
        let handle = node.handle.clone();
        async move { handle.show_agenda(id).await.expect("show").entries }
    };
    let before = entries(&pinghu).await;
    for bad in ["", "00", &"0".repeat(64), &token[1..]] {
        let answer = http
            .post(&path, &[("_csrf", bad), ("text", "不应保存")])
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "token {bad:?}");
    }
    let answer = http.post(&path, &[("text", "不应保存")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "no token");
    assert_eq!(entries(&pinghu).await, before, "nothing was written");

    // A missing field: shown next to the field, nothing written.
    let answer = http.post(&path, &[("_csrf", &token), ("text", "  ")]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains("suggestion-text-error"),
        "the error sits by the field"
    );
    assert_eq!(entries(&pinghu).await, before);

    let answer = http
        .post(&path, &[("_csrf", &token), ("text", "建立联合巡河制度")])
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(entries(&pinghu).await > before);

    // A new round (re-consultation): numbered after the last; a bad date is refused.
    let rounds = |node: &TestNode| {
        let handle = node.handle.clone();
        async move {
            match handle.read(id).await.expect("read") {
                ModelView::Agenda(view) => view
                    .records("round")
                    .iter()
                    .map(|r| r.get("number").to_owned())
                    .collect::<Vec<_>>(),
                ModelView::Ledger(_) => Vec::new(),
            }
        }
    };
    let round_path = format!("/agendas/{id}/round");
    let bad = http
        .post(
            &round_path,
            &[
                ("_csrf", &token),
                ("form", "symposium"),
                ("date", "2026-13-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("round-date-error"));
    let before_rounds = rounds(&pinghu).await;
    let made = http
        .post(
            &round_path,
            &[
                ("_csrf", &token),
                ("form", "symposium"),
                ("date", "2026-04-01"),
                ("place", "平湖"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let after_rounds = rounds(&pinghu).await;
    assert_eq!(after_rounds.len(), before_rounds.len() + 1);
    assert!(
        after_rounds.contains(&(before_rounds.len() + 1).to_string()),
        "{after_rounds:?}"
    );

    // The ledger: a topic missing its title is refused inline; a complete one is kept.
    let ledger = "/ledger";
    let topic = [
        ("_csrf", token.as_str()),
        ("source", "member"),
        ("urgency", "routine"),
        ("category", "livelihood"),
    ];
    let answer = http.post(ledger, &topic).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("topic-title-error"));
    assert!(pinghu
        .handle
        .show_ledger()
        .await
        .expect("ledger")
        .records("topic")
        .is_empty());
    let mut full = topic.to_vec();
    full.push(("title", "跨界河道水环境治理"));
    let answer = http.post(ledger, &full).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let page = http.get("/ledger?source=member").await;
    assert!(page.body.contains("跨界河道水环境治理"));
    let page = http.get("/ledger?source=online").await;
    assert!(
        !page.body.contains("跨界河道水环境治理"),
        "the filter leaves it out"
    );

    // After logging out, the old token is stale.
    let out = http.post("/logout", &[("_csrf", &token)]).await;
    assert_eq!(out.location, "/login");
    http.login("zhang", "zhang-password-1", "").await;
    let now = entries(&pinghu).await;
    let stale = http
        .post(&path, &[("_csrf", &token), ("text", "不应保存")])
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(entries(&pinghu).await, now);
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_the_workflow_size_agenda_stays_under_300_kb() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;
    let id = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    // The workflow issue's agenda: 500 suggestions, each with four handling units, most with
    // feedback, and 200 findings.
    workflow_agenda::fill(&pinghu, id).await;
    let ModelView::Agenda(view) = pinghu.handle.read(id).await.expect("read") else {
        panic!("an agenda");
    };
    let suggestions = view.records("suggestion");
    let first = suggestions[0].id.to_string();
    let last_text = suggestions[suggestions.len() - 1].get("text").to_owned();
    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), true).expect("account");
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;
    for path in [
        "/".to_owned(),
        "/agendas".to_owned(),
        format!("/agendas/{id}"),
        format!("/agendas/{id}?page=10"),
        format!("/agendas/{id}/suggestions/{first}"),
        "/overdue".to_owned(),
        "/network".to_owned(),
        "/report".to_owned(),
        "/ledger".to_owned(),
        "/search?q=%E8%81%94%E5%90%88".to_owned(),
        "/admin".to_owned(),
        "/assets/ui.css".to_owned(),
        "/assets/ui.js".to_owned(),
    ] {
        let started = Instant::now();
        let page = http.get(&path).await;
        let took = started.elapsed();
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            page.body.len() < 300 * 1024,
            "{path}: {} bytes",
            page.body.len()
        );
        println!(
            "{path}: {} bytes in {took:?} (debug build)",
            page.body.len()
        );
    }
    let page = http.get(&format!("/agendas/{id}?page=10")).await;
    assert!(
        page.body.contains(&last_text),
        "the last page shows the last suggestions"
    );
    let page = http.get(&format!("/agendas/{id}")).await;
    assert!(!page.body.contains(&last_text), "the first page does not");
    ui.stop().await;
}

/// A command-line tool, if installed.
fn tool(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_serves_https_with_secure_cookies_and_names_a_bad_key_file() {
    let (Some(openssl), Some(curl)) = (tool("openssl"), tool("curl")) else {
        println!("HTTPS test did not run: openssl or curl not found");
        return;
    };
    let fed = Federation::new();
    let node = fed.spawn("平湖市政协").await;
    let (cert, key) = (fed.path().join("cert.pem"), fed.path().join("key.pem"));
    let made = std::process::Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    // A key file that is not a key: refused at start, naming the file.
    let bad = fed.path().join("bad.pem");
    std::fs::write(&bad, "not a key").expect("write");
    let refused = serve(
        &UiConfig {
            addr: "127.0.0.1:0".parse().expect("address"),
            tls: Some((cert.clone(), bad.clone())),
        },
        node.handle.clone(),
        node.dir.clone(),
    )
    .await;
    let Err(e) = refused else {
        panic!("a bad key file must not start the UI");
    };
    assert!(e.to_string().contains("bad.pem"), "{e}");

    let ui = serve(
        &UiConfig {
            addr: "127.0.0.1:0".parse().expect("address"),
            tls: Some((cert, key)),
        },
        node.handle.clone(),
        node.dir.clone(),
    )
    .await
    .expect("the UI serves HTTPS");
    assert!(ui.https);
    let out = tokio::process::Command::new(curl)
        .args(["-sk", "-i", &format!("https://{}/login", ui.addr)])
        .output()
        .await
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/2 200"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("set-cookie:") && l.contains("; Secure")),
        "cookies are Secure under HTTPS: {text}"
    );
    assert!(text.contains("登录"));
    ui.stop().await;
}
