//! The CLI tells the operator the truth (issue 8): a port another process holds, the
//! state of each remembered peer, which member bodies hold an agenda and why not, what an
//! edit reached.

use super::*;

#[test]
fn a_second_node_on_the_same_tcp_port_refuses_to_start() {
    let root = TempDir::new().expect("tempdir");
    let mut a = Node::init(root.path(), "a", "平湖市政协");
    let mut b = Node::init(root.path(), "b", "金山区政协");
    a.start(LOOPBACK);
    let port = tcp_port(&a.tcp_addr());
    let same = format!("/ip4/127.0.0.1/tcp/{port}");
    b.spawn_run(&same);
    let (status, _) = b.wait_exit(START_DEADLINE);
    assert_eq!(status.code(), Some(1), "{}", b.logs());
    let log = b.logs();
    let line = log
        .lines()
        .find(|l| l.starts_with("confer: "))
        .unwrap_or_else(|| panic!("no error line: {log}"));
    assert!(line.contains(&same), "{line}");
    assert!(line.contains("another process"), "{line}");
    assert!(line.contains("--listen"), "{line}");
    assert!(
        !b.api_file().exists(),
        "the refused node never served its API"
    );
    // The first node still runs and answers.
    assert_eq!(tcp_port(&a.tcp_addr()), port);
    // In Chinese too, entirely.
    let out = cli_lang(
        &b.data,
        "zh_CN.UTF-8",
        &["run", "--listen", &same, "--api", "127.0.0.1:0"],
    );
    let line = out.one_line_error();
    assert!(line.contains("已被另一个进程"), "{line}");
}
