//! The web UI over plain HTTP, without a browser (these run everywhere): logins refused
//! and rate-limited, a POST without this session's CSRF token answered 403 with nothing
//! written, the agenda's meeting, minutes and membership forms (invite and consent across
//! nodes, refused for a member who may not sign), the ledger and members pages, when each
//! partner last synced, and every page of an agenda of the workflow issue's size (500
//! suggestions, 2,000 handling units, 200 findings) under 300 KB.

use std::time::Instant;

use confer_node::ui::{accounts, serve, UiConfig};
use confer_protocol::model::{ModelView, RecordView};
use confer_protocol::Role;
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

/// Gives `node`'s body a member who may sign for it (loaded by the node) and an account
/// bound to it; returns the account's one-time password.
async fn signer_account(node: &TestNode, account: &str, name: &str) -> String {
    let cert = confer_node::identity::members::add_member(
        &node.dir,
        &node.body_secret(),
        name,
        Role::SecretaryGeneral,
        true,
        unix_now(),
    )
    .expect("member add");
    node.handle.reload_members().await.expect("reload");
    accounts::add(&node.dir, account, &cert.key.to_string(), false).expect("account")
}

/// The records of one collection of agenda `id` on `node`.
async fn records_of(node: &TestNode, id: SpaceId, collection: &str) -> Vec<RecordView> {
    match node.handle.read(id).await.expect("read") {
        ModelView::Agenda(view) => view.records(collection).to_vec(),
        ModelView::Ledger(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meetings_and_minutes_are_saved_from_the_agenda_page_and_a_missing_field_saves_nothing() {
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
    assert!(
        page.body.contains("添加协商会议"),
        "the meeting form is offered"
    );
    assert!(
        !page.body.contains("记录会议纪要"),
        "no minutes form before any meeting"
    );
    let token = csrf_of(&page.body);
    let meeting_path = format!("/agendas/{id}/meeting");

    // No date: refused next to the field, nothing written (not even round 1).
    let missing = http
        .post(
            &meeting_path,
            &[("_csrf", &token), ("round", ""), ("place", "平湖")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("meeting-date-error"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("此项为必填项"));
    // A date that is no date, and a form that is none of the choices: refused too.
    let bad = http
        .post(
            &meeting_path,
            &[
                ("_csrf", &token),
                ("date", "2026-02-30"),
                ("form", "banquet"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("meeting-date-error") && bad.body.contains("meeting-form-error"));
    assert!(records_of(&pinghu, id, "meeting").await.is_empty());
    assert!(records_of(&pinghu, id, "round").await.is_empty());

    // A complete meeting: saved in round 1 (made with it), every field as typed.
    let made = http
        .post(
            &meeting_path,
            &[
                ("_csrf", &token),
                ("round", ""),
                ("date", "2026-04-01"),
                ("place", "平湖市政协三楼会议室"),
                ("form", "symposium"),
                ("attendance", "两地政协委员 12 人，水利部门负责人 4 人"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let meetings = records_of(&pinghu, id, "meeting").await;
    assert_eq!(meetings.len(), 1);
    let meeting = &meetings[0];
    let rounds = records_of(&pinghu, id, "round").await;
    assert_eq!(rounds.len(), 1);
    assert_eq!(meeting.get("round"), rounds[0].id.to_string());
    assert_eq!(meeting.get("date"), "2026-04-01");
    assert_eq!(meeting.get("place"), "平湖市政协三楼会议室");
    assert_eq!(meeting.get("form"), "symposium");
    assert_eq!(
        meeting.get("attendance"),
        "两地政协委员 12 人，水利部门负责人 4 人"
    );
    assert!(made.location.ends_with(&format!("#m-{}", meeting.id)));
    let page = http.get(&format!("/agendas/{id}")).await;
    assert!(page.body.contains("平湖市政协三楼会议室") && page.body.contains("尚未记录会议纪要"));

    // Minutes: none typed is refused by the field; typed, they are kept on the meeting.
    let minutes_path = format!("/agendas/{id}/minutes");
    let meeting_id = meeting.id.to_string();
    let empty = http
        .post(
            &minutes_path,
            &[
                ("_csrf", &token),
                ("meeting", &meeting_id),
                ("minutes", " "),
            ],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("minutes-minutes-error"),
        "{}",
        empty.body
    );
    let no_meeting = http
        .post(
            &minutes_path,
            &[("_csrf", &token), ("minutes", "会议议定三项工作")],
        )
        .await;
    assert_eq!(no_meeting.status, StatusCode::BAD_REQUEST);
    assert!(no_meeting.body.contains("minutes-meeting-error"));
    assert_eq!(
        records_of(&pinghu, id, "meeting").await[0].get("minutes"),
        ""
    );
    let saved = http
        .post(
            &minutes_path,
            &[
                ("_csrf", &token),
                ("meeting", &meeting_id),
                (
                    "minutes",
                    "会议议定：一、建立联合巡河制度；二、每月通报水质。",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        records_of(&pinghu, id, "meeting").await[0].get("minutes"),
        "会议议定：一、建立联合巡河制度；二、每月通报水质。"
    );
    // The partner sees the meeting and its minutes, signed by Pinghu's member.
    let on_jinshan = eventually("Jinshan holds the minutes", WAIT, || async {
        let m = records_of(&jinshan, id, "meeting").await;
        ensure(
            m.first().is_some_and(|m| !m.get("minutes").is_empty()),
            || format!("{m:?}"),
        )?;
        Ok(m)
    })
    .await;
    assert_eq!(
        on_jinshan[0]
            .created_by
            .as_ref()
            .map(|a| a.author.to_string()),
        Some(pinghu.member_key().to_owned())
    );
    ui.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committee_is_invited_and_consented_in_through_the_ui_and_a_member_who_may_not_sign_is_refused(
) {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    let jiashan = fed.spawn("嘉善县政协").await;
    connect(&pinghu, &jinshan).await;
    connect(&pinghu, &jiashan).await;
    connect(&jinshan, &jiashan).await;
    let id = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    wait_has_agenda(&jinshan, id).await;
    let staff = accounts::add(&pinghu.dir, "li", pinghu.member_key(), false).expect("account");
    let chair_p = signer_account(&pinghu, "wang", "平湖秘书长").await;
    let chair_j = signer_account(&jinshan, "zhao", "金山秘书长").await;
    let ui_p = ui_for(&pinghu).await;
    let ui_j = ui_for(&jinshan).await;
    let page_path = format!("/agendas/{id}");
    let jiashan_id = jiashan.body.to_string();
    let pending = |node: &TestNode| {
        let handle = node.handle.clone();
        async move { handle.membership(id).await.expect("membership").pending }
    };

    // A member who may not sign is told so on the page and refused inline: nothing sent.
    let mut http = Http::new(&ui_p);
    http.login("li", &staff, "li-password-1").await;
    let page = http.get(&page_path).await;
    assert!(page
        .body
        .contains("只有可代表本机构签署的成员才能邀请、同意、退出或移出"));
    let token = csrf_of(&page.body);
    let refused = http
        .post(
            &format!("/agendas/{id}/invite"),
            &[("_csrf", &token), ("body", &jiashan_id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("该成员不能代表本机构签署"),
        "{}",
        refused.body
    );
    assert!(pending(&pinghu).await.is_empty());

    // Pinghu's secretary-general: no committee chosen is a mistake by the field.
    let mut http = Http::new(&ui_p);
    http.login("wang", &chair_p, "wang-password-1").await;
    let page = http.get(&page_path).await;
    assert!(!page.body.contains("只有可代表本机构签署的成员"));
    assert!(
        page.body.contains("嘉善县政协"),
        "the trusted body is offered"
    );
    let token = csrf_of(&page.body);
    let invite = format!("/agendas/{id}/invite");
    let missing = http.post(&invite, &[("_csrf", &token), ("body", "")]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("invite-body-error"),
        "{}",
        missing.body
    );
    assert!(pending(&pinghu).await.is_empty());
    let invited = http
        .post(&invite, &[("_csrf", &token), ("body", &jiashan_id)])
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let change = match pending(&pinghu).await.as_slice() {
        [p] => {
            assert_eq!(
                (p.op.as_str(), p.body.id.as_str()),
                ("add", jiashan_id.as_str())
            );
            assert_eq!(p.consented.len(), 1);
            assert_eq!(p.missing.len(), 1);
            assert_eq!(p.missing[0].id, jinshan.body.to_string());
            p.id.clone()
        }
        other => panic!("one pending invitation on Pinghu, got {other:?}"),
    };
    // Pinghu's page shows who consented and who is missing; no consent button for it.
    let page = http.get(&page_path).await;
    assert!(page.body.contains("邀请嘉善县政协加入") && page.body.contains("尚待同意"));
    assert!(!page.body.contains("代表平湖市政协同意"));

    // Jinshan's page shows the change waiting for it, with a consent button.
    let mut partner = Http::new(&ui_j);
    partner.login("zhao", &chair_j, "zhao-password-1").await;
    let page = eventually("Jinshan's page shows the invitation", WAIT, || {
        let (path, change, mut client) = (page_path.clone(), change.clone(), partner.clone());
        async move {
            let page = client.get(&path).await;
            ensure(
                page.body.contains(&format!("data-change=\"{change}\"")),
                || "not yet".to_owned(),
            )?;
            Ok(page)
        }
    })
    .await;
    assert!(page.body.contains("代表金山区政协同意"), "a consent button");
    let token = csrf_of(&page.body);
    let consent = format!("/agendas/{id}/consent");
    let missing = partner.post(&consent, &[("_csrf", &token)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("请选择要同意的成员变更"),
        "{}",
        missing.body
    );
    assert_eq!(pending(&jinshan).await.len(), 1);
    assert_eq!(pending(&jinshan).await[0].consented.len(), 1);
    let done = partner
        .post(&consent, &[("_csrf", &token), ("change", &change)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Every member consented: Jiashan is a member on both nodes; nothing is pending.
    for node in [&pinghu, &jinshan] {
        wait_view(node, id, "Jiashan is a member", |v| {
            v.members.iter().any(|m| m.id == jiashan_id) && v.membership.pending.is_empty()
        })
        .await;
    }
    let page = http.get(&page_path).await;
    assert!(page.body.contains(&format!("data-body=\"{jiashan_id}\"")));

    // Remove and leave: a missing choice or an unticked box is refused inline; a complete
    // form proposes the change, which waits for the others.
    let remove = format!("/agendas/{id}/remove");
    let token = csrf_of(&page.body);
    let missing = http.post(&remove, &[("_csrf", &token)]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("remove-body-error"));
    let leave = format!("/agendas/{id}/leave");
    let unticked = http.post(&leave, &[("_csrf", &token)]).await;
    assert_eq!(unticked.status, StatusCode::BAD_REQUEST);
    assert!(
        unticked.body.contains("leave-confirm-error"),
        "{}",
        unticked.body
    );
    assert!(pending(&pinghu).await.is_empty());
    let proposed = http
        .post(&remove, &[("_csrf", &token), ("body", &jiashan_id)])
        .await;
    assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{}", proposed.body);
    match pending(&pinghu).await.as_slice() {
        [p] => {
            assert_eq!(
                (p.op.as_str(), p.body.id.as_str()),
                ("remove", jiashan_id.as_str())
            );
        }
        other => panic!("one pending removal, got {other:?}"),
    }
    // Pinghu takes its consent back: the page offers it, a missing change is refused, and
    // afterwards the removal waits for Pinghu too.
    let pinghu_id = pinghu.body.to_string();
    let page = http.get(&page_path).await;
    assert!(page.body.contains("撤回本机构的同意"), "{}", page.body);
    let withdraw = format!("/agendas/{id}/withdraw");
    let token = csrf_of(&page.body);
    let change = match pending(&pinghu).await.as_slice() {
        [p] => {
            assert!(p.consented.iter().any(|b| b.id == pinghu_id), "{p:?}");
            p.id.clone()
        }
        other => panic!("one pending removal, got {other:?}"),
    };
    let no_change = http.post(&withdraw, &[("_csrf", &token)]).await;
    assert_eq!(no_change.status, StatusCode::BAD_REQUEST);
    assert!(
        no_change.body.contains("请选择要撤回同意的成员变更"),
        "{}",
        no_change.body
    );
    let withdrawn = http
        .post(&withdraw, &[("_csrf", &token), ("change", &change)])
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.body
    );
    match pending(&pinghu).await.as_slice() {
        [p] => assert!(
            p.missing.iter().any(|b| b.id == pinghu_id)
                && !p.consented.iter().any(|b| b.id == pinghu_id),
            "{p:?}"
        ),
        other => panic!("the one removal, waiting, got {other:?}"),
    }
    // Jinshan leaves: its own consent is all a leaving body needs, so it takes effect at
    // once, and the page says so.
    let page = partner.get(&page_path).await;
    let token = csrf_of(&page.body);
    let left = partner
        .post(&leave, &[("_csrf", &token), ("confirm", "yes")])
        .await;
    assert_eq!(left.status, StatusCode::SEE_OTHER, "{}", left.body);
    let jinshan_id = jinshan.body.to_string();
    let removed = jinshan
        .handle
        .membership(id)
        .await
        .expect("membership")
        .removed;
    assert!(removed.iter().any(|b| b.id == jinshan_id), "{removed:?}");
    let page = partner.get(&page_path).await;
    assert!(page.body.contains("已退出或被移出"), "{}", page.body);
    ui_p.stop().await;
    ui_j.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_the_network_page_show_when_each_partner_last_synced() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    let jinshan_id = jinshan.body.to_string();
    let before = unix_now();
    let status = pinghu.status_now().await;
    assert!(status.last_sync.is_empty(), "{:?}", status.last_sync);
    // Connected and trusted, but no agenda shared: no sync exchange yet.
    connect(&pinghu, &jinshan).await;
    let status = pinghu.status_now().await;
    assert_eq!(status.last_sync_with(&jinshan_id), None);
    assert!(status.peers.iter().all(|p| p.last_sync.is_none()));
    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), false).expect("account");
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;
    let network = http.get("/network").await;
    assert!(
        network.body.contains("本节点启动以来尚未同步"),
        "{}",
        network.body
    );

    // An agenda shared: once Jinshan holds it, both sides recorded the exchange.
    let id = pinghu
        .create_agenda("跨界河道水环境联防联治", &[&jinshan])
        .await;
    wait_has_agenda(&jinshan, id).await;
    let status = eventually("Pinghu recorded a sync with Jinshan", WAIT, || async {
        let s = pinghu.status_now().await;
        ensure(s.last_sync_with(&jinshan_id).is_some(), || {
            format!("{:?}", s.last_sync)
        })?;
        Ok(s)
    })
    .await;
    let after = unix_now();
    let record = status
        .last_sync
        .iter()
        .find(|l| l.body.id == jinshan_id)
        .expect("listed");
    assert!(
        (before..=after).contains(&record.at),
        "{} not in {before}..={after}",
        record.at
    );
    assert_eq!(record.peer, jinshan.peer_id());
    assert_eq!(record.body.name.as_deref(), Some("金山区政协"));
    let peer = status
        .peers
        .iter()
        .find(|p| p.peer_id == jinshan.peer_id())
        .expect("connected");
    assert!(peer
        .last_sync
        .is_some_and(|t| (before..=after).contains(&t)));
    let remembered = status
        .remembered_peers
        .iter()
        .find(|p| p.peer_id == jinshan.peer_id())
        .expect("remembered");
    assert_eq!(remembered.last_sync, peer.last_sync);
    eventually("Jinshan recorded a sync with Pinghu", WAIT, || async {
        let s = jinshan.status_now().await;
        ensure(s.last_sync_with(&pinghu.body.to_string()).is_some(), || {
            format!("{:?}", s.last_sync)
        })
    })
    .await;
    // The network page shows it, in Beijing time.
    let network = http.get("/network").await;
    let cell = format!("<td class=\"last-sync\" data-body=\"{jinshan_id}\"><time>");
    assert!(network.body.contains(&cell), "{}", network.body);
    ui.stop().await;
}

/// This body's ledger as the node holds it.
async fn ledger_of(node: &TestNode) -> confer_node::views::LedgerView {
    node.handle.show_ledger().await.expect("the ledger")
}

/// The ledger record `id` of `collection`.
async fn ledger_record(
    node: &TestNode,
    collection: &str,
    id: &str,
) -> confer_node::views::RecordView {
    ledger_of(node)
        .await
        .records(collection)
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {collection} {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_pages_screen_merge_plan_and_share_experts_saving_only_valid_forms() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let jinshan = fed.spawn("金山区政协").await;
    connect(&pinghu, &jinshan).await;
    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), false).expect("account");
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;
    let token = csrf_of(&http.get("/ledger").await.body);

    // Three topics: one to screen out, one to merge into the third, the third an agenda.
    for (title, source) in [
        ("涉诉的拆迁纠纷", "online"),
        ("河道保洁经费", "grassroots-visit"),
        ("跨界河道联防联治", "member"),
    ] {
        let made = http
            .post(
                "/ledger",
                &[
                    ("_csrf", &token),
                    ("title", title),
                    ("source", source),
                    ("urgency", "routine"),
                    ("category", "livelihood"),
                ],
            )
            .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    }
    let topics = ledger_of(&pinghu).await.records("topic").to_vec();
    let id_of = |title: &str| {
        topics
            .iter()
            .find(|t| t.get("title") == title)
            .map(|t| t.id.clone())
            .expect("the topic")
    };
    let (litigation, funds, river) = (
        id_of("涉诉的拆迁纠纷"),
        id_of("河道保洁经费"),
        id_of("跨界河道联防联治"),
    );
    let list = http.get("/ledger").await;
    assert!(list.body.contains(&format!("/ledger/topics/{river}")));

    // Every new form refuses a POST without the session's token and writes nothing.
    let agendas_before = pinghu.handle.list_agendas().await.expect("list").len();
    for path in [
        format!("/ledger/topics/{litigation}/screen"),
        format!("/ledger/topics/{funds}/merge"),
        format!("/ledger/topics/{river}/agenda"),
        "/plan".to_owned(),
        "/experts".to_owned(),
        "/experts/share".to_owned(),
    ] {
        let refused = http
            .post(
                &path,
                &[
                    ("_csrf", "0"),
                    ("screening", "accepted"),
                    ("merged_into", &river),
                    ("title", "不应保存"),
                    ("with", &jinshan.body.to_string()),
                    ("year", "2027"),
                    ("category", "livelihood"),
                    ("name", "不应保存"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    let ledger = ledger_of(&pinghu).await;
    assert_eq!(ledger.records("topic").to_vec(), topics, "no topic changed");
    assert!(ledger.records("plan_item").is_empty() && ledger.records("expert").is_empty());
    assert_eq!(
        pinghu.handle.list_agendas().await.expect("list").len(),
        agendas_before
    );

    // Screening: screened out without a reason, or "other" without words, is refused
    // next to the field; a reason is kept and shown.
    let screen = format!("/ledger/topics/{litigation}/screen");
    let no_reason = http
        .post(&screen, &[("_csrf", &token), ("screening", "rejected")])
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(no_reason.body.contains("screen-screening_reason-error"));
    let no_words = http
        .post(
            &screen,
            &[
                ("_csrf", &token),
                ("screening", "rejected"),
                ("screening_reason", "other"),
            ],
        )
        .await;
    assert_eq!(no_words.status, StatusCode::BAD_REQUEST);
    assert!(no_words.body.contains("screen-screening_text-error"));
    assert_eq!(
        ledger_record(&pinghu, "topic", &litigation)
            .await
            .get("screening"),
        "",
        "nothing saved"
    );
    let screened = http
        .post(
            &screen,
            &[
                ("_csrf", &token),
                ("screening", "rejected"),
                ("screening_reason", "litigation"),
            ],
        )
        .await;
    assert_eq!(screened.status, StatusCode::SEE_OTHER, "{}", screened.body);
    let t = ledger_record(&pinghu, "topic", &litigation).await;
    assert_eq!(
        (t.get("screening"), t.get("screening_reason")),
        ("rejected", "litigation")
    );
    assert!(!t.get("screened_on").is_empty());
    let page = http.get(&format!("/ledger/topics/{litigation}")).await;
    assert!(page.body.contains("涉法涉诉"), "the reason is shown");

    // Merging: a topic to merge into is required; both origins stay and are shown.
    let merge = format!("/ledger/topics/{funds}/merge");
    let blank = http.post(&merge, &[("_csrf", &token)]).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    assert!(blank.body.contains("merge-merged_into-error"));
    assert_eq!(
        ledger_record(&pinghu, "topic", &funds)
            .await
            .get("merged_into"),
        ""
    );
    let merged = http
        .post(&merge, &[("_csrf", &token), ("merged_into", &river)])
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let t = ledger_record(&pinghu, "topic", &funds).await;
    assert_eq!(
        (t.get("merged_into"), t.get("source")),
        (river.as_str(), "grassroots-visit")
    );
    let page = http.get(&format!("/ledger/topics/{river}")).await;
    assert!(
        page.body.contains("河道保洁经费")
            && page.body.contains("基层走访")
            && page.body.contains("委员"),
        "the merged topic is listed with its own origin beside this one's"
    );

    // A joint agenda from a topic: partners are required; made once, linked both ways.
    let to_agenda = format!("/ledger/topics/{river}/agenda");
    let alone = http
        .post(
            &to_agenda,
            &[("_csrf", &token), ("title", "跨界河道联防联治")],
        )
        .await;
    assert_eq!(alone.status, StatusCode::BAD_REQUEST);
    assert!(alone.body.contains("agenda-with-error"));
    assert_eq!(
        pinghu.handle.list_agendas().await.expect("list").len(),
        agendas_before
    );
    let jinshan_id = jinshan.body.to_string();
    let made = http
        .post(
            &to_agenda,
            &[
                ("_csrf", &token),
                ("title", "跨界河道联防联治"),
                ("with", &jinshan_id),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let agenda: SpaceId = made
        .location
        .strip_prefix("/agendas/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("to the agenda: {}", made.location));
    assert_eq!(
        ledger_record(&pinghu, "topic", &river).await.get("agenda"),
        agenda.to_string()
    );
    let history = pinghu.handle.history(agenda, None).await.expect("history");
    assert!(
        history
            .iter()
            .any(|h| h.fields.iter().any(|(f, v)| f == "topic" && *v == river)),
        "the agenda records its topic: {history:?}"
    );
    let page = http.get(&format!("/ledger/topics/{river}")).await;
    assert!(page.body.contains(&format!("/agendas/{agenda}")));
    assert!(!page.body.contains(&format!("action=\"{to_agenda}\"")));
    let again = http
        .post(
            &to_agenda,
            &[
                ("_csrf", &token),
                ("title", "再来一次"),
                ("with", &jinshan_id),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::BAD_REQUEST,
        "one agenda per topic"
    );
    assert_eq!(
        pinghu.handle.list_agendas().await.expect("list").len(),
        agendas_before + 1
    );

    // The annual plan: a title is required, a year is four digits; an item links its
    // topics and agendas and is listed under its year.
    let item = [
        ("_csrf", token.as_str()),
        ("year", "2027"),
        ("category", "livelihood"),
        ("topics", river.as_str()),
    ];
    let untitled = http.post("/plan", &item).await;
    assert_eq!(untitled.status, StatusCode::BAD_REQUEST);
    assert!(untitled.body.contains("plan-title-error"));
    let mut bad_year = item.to_vec();
    bad_year[1] = ("year", "27");
    bad_year.push(("title", "跨界水环境治理"));
    let bad = http.post("/plan", &bad_year).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("plan-year-error"));
    assert!(ledger_of(&pinghu).await.records("plan_item").is_empty());
    let agenda_text = agenda.to_string();
    let mut full = item.to_vec();
    full.push(("title", "跨界水环境治理"));
    full.push(("agendas", &agenda_text));
    let added = http.post("/plan", &full).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let plan = ledger_of(&pinghu).await.records("plan_item").to_vec();
    assert_eq!(plan.len(), 1);
    assert_eq!(
        (
            plan[0].get("year"),
            plan[0].get("topics"),
            plan[0].get("agendas")
        ),
        ("2027", river.as_str(), agenda_text.as_str())
    );
    let page = http.get("/plan?year=2027").await;
    assert!(
        page.body.contains("跨界水环境治理")
            && page.body.contains(&format!("/ledger/topics/{river}"))
    );
    assert!(page.body.contains(&format!("/agendas/{agenda}")));
    let other_year = http.get("/plan?year=2026").await;
    assert!(
        !other_year.body.contains("跨界水环境治理"),
        "listed by year"
    );

    // The expert pool: a name is required; the contact stays in the ledger.
    let nameless = http
        .post("/experts", &[("_csrf", &token), ("field", "水环境")])
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(nameless.body.contains("expert-name-error"));
    assert!(ledger_of(&pinghu).await.records("expert").is_empty());
    let added = http
        .post(
            "/experts",
            &[
                ("_csrf", &token),
                ("name", "王建华"),
                ("field", "水环境治理"),
                ("affiliation", "河海大学"),
                ("contact", "13800000000"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let expert = ledger_of(&pinghu).await.records("expert")[0].id.clone();
    assert!(http.get("/experts").await.body.contains("河海大学"));

    // Sharing into the agenda: the agenda is required; shared once; the partner gets the
    // name, field and affiliation, never the contact.
    let share = "/experts/share";
    let nowhere = http
        .post(share, &[("_csrf", &token), ("expert", &expert)])
        .await;
    assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
    assert!(nowhere.body.contains("share-agenda-error"));
    let experts_in = |node: &TestNode| {
        let handle = node.handle.clone();
        async move {
            match handle.read(agenda).await {
                Ok(ModelView::Agenda(view)) => view.records("expert").to_vec(),
                _ => Vec::new(),
            }
        }
    };
    assert!(experts_in(&pinghu).await.is_empty());
    let shared = http
        .post(
            share,
            &[
                ("_csrf", &token),
                ("expert", &expert),
                ("agenda", &agenda_text),
            ],
        )
        .await;
    assert_eq!(shared.status, StatusCode::SEE_OTHER, "{}", shared.body);
    let twice = http
        .post(
            share,
            &[
                ("_csrf", &token),
                ("expert", &expert),
                ("agenda", &agenda_text),
            ],
        )
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert!(twice.body.contains("share-agenda-error"));
    assert_eq!(experts_in(&pinghu).await.len(), 1, "shared once");
    let page = http.get(&format!("/agendas/{agenda}")).await;
    let section = &page.body[page
        .body
        .find("id=\"experts\"")
        .expect("the experts section")..];
    assert!(section.contains("王建华") && section.contains("河海大学"));
    let on_jinshan = eventually("金山 holds the shared expert", WAIT, || async {
        let experts = experts_in(&jinshan).await;
        ensure(!experts.is_empty(), || "not yet".into()).map(|()| experts)
    })
    .await;
    let e = &on_jinshan[0];
    assert_eq!(
        (
            e.get("name"),
            e.get("affiliation"),
            e.get("pool_id"),
            e.get("contact")
        ),
        ("王建华", "河海大学", expert.as_str(), "")
    );
    assert_eq!(e.area, Some(pinghu.body), "in 平湖's own area");

    // The pages in English too.
    http.get("/lang?to=en&back=/plan").await;
    let english = http.get("/plan").await;
    assert!(english.body.contains("Annual plan") && english.body.contains("Expert pool"));
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
        "/members".to_owned(),
        "/report".to_owned(),
        "/ledger".to_owned(),
        "/plan".to_owned(),
        "/experts".to_owned(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_page_lists_each_member_its_role_signing_right_and_accounts() {
    let fed = Federation::new();
    let pinghu = fed.spawn("平湖市政协").await;
    let once = accounts::add(&pinghu.dir, "zhang", pinghu.member_key(), false).expect("account");
    // A second member, a chair who may sign, with an account of her own.
    signer_account(&pinghu, "li", "李主席").await;
    let ui = ui_for(&pinghu).await;
    let mut http = Http::new(&ui);
    http.login("zhang", &once, "zhang-password-1").await;
    let page = http.get("/members").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = |name: &str| {
        page.body
            .split("<tr>")
            .skip(1)
            .find(|r| r.contains(name))
            .unwrap_or_else(|| panic!("no row for {name}: {}", page.body))
            .to_owned()
    };
    let chair = row("李主席");
    assert!(
        chair.contains("秘书长") && chair.contains(">是<") && chair.contains("<td>li</td>"),
        "{chair}"
    );
    let staff = row(pinghu.member_key().get(..16).expect("hex"));
    assert!(
        staff.contains("<td>zhang</td>") && staff.contains("否"),
        "{staff}"
    );
    assert!(
        page.body.contains("confer member add"),
        "says how a member is added"
    );
    assert!(
        page.body.contains(r#"href="/members" aria-current="page""#),
        "in the navigation"
    );
    // The network page links here instead of listing them.
    let network = http.get("/network").await;
    assert!(network.body.contains(r#"href="/members""#));
    assert!(
        !network.body.contains("李主席"),
        "members are on their own page"
    );
    http.get("/lang?to=en&back=/members").await;
    let en = http.get("/members").await;
    assert!(en.body.contains("Secretary-general") && en.body.contains("May sign outcomes"));
    ui.stop().await;
}
