//! The test harness's own promises: what it reports about a port's sockets
//! and how a refused connect ends.

mod util;

use util::{free_port, sockets_on_port, try_connect_stream, ServerProcess};

#[test]
fn a_ports_sockets_are_reported_with_their_states() {
    let server = ServerProcess::shoal(&["--threads", "1"]);
    let mut client = server.connect();
    client.send(&[b"PING"]);
    let _ = client.read_reply();
    let sockets = sockets_on_port(server.port);
    assert!(sockets.contains("LISTEN"), "{sockets}");
    assert!(sockets.contains("ESTABLISHED"), "{sockets}");
}

#[test]
fn a_connect_refused_every_time_is_an_error() {
    // A reserved port nothing listens on.
    let port = free_port();
    assert_eq!(sockets_on_port(port), "none");
    let error = try_connect_stream(port).expect_err("nothing listens there");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
}
