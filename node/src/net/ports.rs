//! Refusing a TCP listen port another process holds.
//!
//! libp2p-tcp binds every listening socket with `SO_REUSEPORT` (it has no option to turn
//! that off), so on Linux a second `confer run` on the same port binds it too and the
//! kernel then spreads incoming connections over both processes. Before the swarm listens,
//! [`check_tcp_ports_free`] binds each concrete TCP listen address once *without*
//! `SO_REUSEPORT` and closes it again: that bind fails while any other socket listens on
//! the port (whether or not that socket allowed reuse), so the node refuses to start
//! instead of sharing the port. Port 0 (any free port) needs no check; QUIC's UDP sockets
//! are bound without reuse and fail by themselves.

use std::net::{IpAddr, SocketAddr, TcpListener};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// A TCP listen address whose port is taken.
#[derive(Debug)]
pub struct PortTaken {
    pub addr: Multiaddr,
    pub error: std::io::Error,
}

/// The IP address and TCP port `addr` listens on, if it is a plain `/ip4|ip6/…/tcp/PORT`
/// address with a port other than 0.
pub fn tcp_socket_addr(addr: &Multiaddr) -> Option<SocketAddr> {
    let mut ip: Option<IpAddr> = None;
    for part in addr.iter() {
        match part {
            Protocol::Ip4(a) => ip = Some(a.into()),
            Protocol::Ip6(a) => ip = Some(a.into()),
            Protocol::Tcp(port) if port != 0 => return ip.map(|ip| SocketAddr::new(ip, port)),
            _ => {}
        }
    }
    None
}

/// Fails with the first listen address whose TCP port another socket holds.
pub fn check_tcp_ports_free(listen: &[Multiaddr]) -> Result<(), PortTaken> {
    for addr in listen {
        let Some(socket) = tcp_socket_addr(addr) else {
            continue;
        };
        // std binds without SO_REUSEPORT; the listener closes when dropped.
        if let Err(error) = TcpListener::bind(socket) {
            return Err(PortTaken {
                addr: addr.clone(),
                error,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_held_with_reuse_port_is_refused_and_a_free_one_passes() {
        // Hold a port the way libp2p-tcp does: SO_REUSEADDR and SO_REUSEPORT.
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .expect("socket");
        socket.set_reuse_address(true).expect("reuse address");
        socket.set_reuse_port(true).expect("reuse port");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
        socket.bind(&any.into()).expect("bind");
        socket.listen(8).expect("listen");
        let port = socket
            .local_addr()
            .expect("local address")
            .as_socket()
            .expect("inet")
            .port();
        let held: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}")
            .parse()
            .expect("multiaddr");
        let taken = check_tcp_ports_free(std::slice::from_ref(&held)).expect_err("held");
        assert_eq!(taken.addr, held);
        assert_eq!(taken.error.kind(), std::io::ErrorKind::AddrInUse);
        drop(socket);
        check_tcp_ports_free(&[held]).expect("free once closed");
        // Port 0 and QUIC are not checked here.
        let others: Vec<Multiaddr> = ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/1/quic-v1"]
            .iter()
            .map(|a| a.parse().expect("multiaddr"))
            .collect();
        check_tcp_ports_free(&others).expect("nothing to check");
    }
}
