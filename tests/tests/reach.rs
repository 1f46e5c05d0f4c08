//! Reachability: a node behind NAT or a firewall is reached through a relay that sees only
//! encrypted traffic. (On one machine every node could dial every other; here the partner
//! is given only the relayed address, so the connection must go through the relay.)

use confer_node::relay;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reachable_only_through_a_relay_syncs_with_its_partner() {
    let listen: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().expect("addr");
    let relay = relay::start(random_seed(), &[listen])
        .await
        .expect("relay starts");
    let relay_addr = relay.addresses[0].clone();
    let fed = Federation::new();
    let b = fed
        .spawn_with("B 政协", |c| c.relays = vec![relay_addr.clone()])
        .await;
    let circuit = eventually("B listens through the relay", WAIT, || async {
        let s = b.status_now().await;
        s.listen
            .iter()
            .find(|a| a.contains("/p2p-circuit/"))
            .cloned()
            .ok_or_else(|| format!("{:?}", s.listen))
    })
    .await;
    assert!(circuit.starts_with(&relay_addr.to_string()), "{circuit}");
    assert!(circuit.ends_with(b.peer_id()), "{circuit}");

    let a = fed.spawn("A 政协").await;
    // Trust by id (as by official letter), then A adds B by its relayed address only.
    a.handle.trust(b.body).await.expect("trust");
    b.handle.trust(a.body).await.expect("trust");
    a.handle
        .add_peer(circuit.parse().expect("circuit address"))
        .await
        .expect("add peer");
    wait_connected(&a, &b).await;
    let id = a.create_agenda("经中继同步的议题", &[&b]).await;
    wait_view(&b, id, "the agenda arrives through the relay", |v| {
        v.text("title") == "经中继同步的议题"
    })
    .await;
    b.edit(id, None, Some("B 经中继回复")).await;
    wait_view(&a, id, "B's edit comes back", |v| {
        v.text("summary") == "B 经中继回复"
    })
    .await;
    relay.stop().await;
}

/// A relay is not a peer that owes this node a Hello: a node behind NAT keeps its
/// reservation, and its partner the connection to the relay its circuit runs over, for
/// longer than the deadline by which a silent stranger is dropped. When the relay goes, the
/// relayed address goes from `status` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_connections_outlive_the_hello_deadline() {
    let deadline = Duration::from_secs(1);
    let listen: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().expect("addr");
    let relay = relay::start(random_seed(), &[listen])
        .await
        .expect("relay starts");
    let relay_addr = relay.addresses[0].clone();
    let fed = Federation::new();
    let b = fed
        .spawn_with("B 政协", |c| {
            c.relays = vec![relay_addr.clone()];
            c.hello_deadline = deadline;
        })
        .await;
    let circuit = eventually("B listens through the relay", WAIT, || async {
        let s = b.status_now().await;
        s.listen
            .iter()
            .find(|a| a.contains("/p2p-circuit/"))
            .cloned()
            .ok_or_else(|| format!("{:?}", s.listen))
    })
    .await;
    let a = fed
        .spawn_with("A 政协", |c| c.hello_deadline = deadline)
        .await;
    a.handle.trust(b.body).await.expect("trust");
    b.handle.trust(a.body).await.expect("trust");
    a.handle
        .add_peer(circuit.parse().expect("circuit address"))
        .await
        .expect("add peer");
    wait_connected(&a, &b).await;
    // Several deadlines and housekeeping rounds: the relay stays, and so do the circuit
    // and the connection through it.
    always(
        "B keeps its relayed address and A its connection to B through the relay",
        deadline * 5,
        || async {
            let s = b.status_now().await;
            ensure(s.listen.contains(&circuit), || {
                format!("B's listen addresses: {:?}", s.listen)
            })?;
            // On loopback hole punching may add a direct connection beside the relayed
            // one; the relayed one must stay.
            let peers = a.status_now().await.peers;
            ensure(
                peers.iter().any(|p| {
                    p.peer_id == b.peer_id()
                        && p.body.is_some()
                        && p.addresses.iter().any(|x| x == &circuit)
                }),
                || format!("A's connection to B through the relay is gone: {peers:?}"),
            )
        },
    )
    .await;
    let id = a.create_agenda("中继连接保持的议题", &[&b]).await;
    wait_view(&b, id, "the agenda arrives through the relay", |v| {
        v.text("title") == "中继连接保持的议题"
    })
    .await;
    relay.stop().await;
    eventually("B no longer lists its relayed address", WAIT, || async {
        let s = b.status_now().await;
        ensure(!s.listen.contains(&circuit), || format!("{:?}", s.listen))
    })
    .await;
}
