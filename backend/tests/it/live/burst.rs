//! Bursts on the live socket: 1,000 clients get every change in order; a client
//! too slow for a burst is told to resync and dropped, one that stops reading is
//! dropped, and the others keep up.

use super::*;

/// A text frame, read only as far as these tests look.
#[derive(Debug, PartialEq)]
enum Got {
    Finding(u64),
    Resync,
    /// Summaries, pings.
    Other,
}

/// A first connect (as [`greeted`]) over a socket whose receive buffer is fixed
/// at 64 KiB. Linux grows a loopback receive buffer to megabytes and reopens a
/// closed window only after half of it is read: a reader taking one frame per
/// 10 ms would leave the server's send blocked for tens of seconds, past its
/// send timeout. A fixed small buffer reopens every ~32 KiB, so a slow reader
/// stays slow rather than stopped.
async fn greeted_small_buffer(base: &str) -> Ws {
    let addr: std::net::SocketAddr = base.parse().expect("an ip:port base");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{base}/live"), stream)
        .await
        .expect("websocket");
    let hello = next_frame(&mut ws, Duration::from_secs(5)).await;
    assert!(hello.is_some(), "no hello frame");
    ws.send(Message::Text(r#"{"v":1,"type":"pong"}"#.into()))
        .await
        .unwrap();
    ws
}

/// Reads `ws` until the server closes it, sleeping 10 ms after each frame while
/// `slow()` holds. Returns the text frames and whether the stream ended (false:
/// 30 seconds passed without a frame).
async fn read_until_closed(ws: &mut Ws, mut slow: impl FnMut() -> bool) -> (Vec<Got>, bool) {
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => got.push(if t.contains("\"type\":\"finding\"") {
                Got::Finding(position_of(&t))
            } else if t.contains("\"type\":\"resync\"") {
                Got::Resync
            } else {
                Got::Other
            }),
            // The server drops the socket without a close frame; a frame cut
            // short by the drop reads as an error.
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return (got, true),
            Ok(Some(Ok(_))) => {}
            Err(_) => return (got, false),
        }
        if slow() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// How many changes `got` holds, after checking they are exactly the first ones
/// after `first`, in order, each once.
fn in_order_prefix(got: &[Got], first: u64, who: &str) -> u64 {
    let positions: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Finding(p) => Some(*p),
            _ => None,
        })
        .collect();
    let k = positions.len() as u64;
    let bad = positions
        .iter()
        .zip(first + 1..)
        .position(|(p, want)| *p != want);
    assert!(
        bad.is_none(),
        "{who}: changes out of order or missing at frame {bad:?}"
    );
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_get_a_burst_of_a_thousand_changes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut clients = Vec::new();
    for _ in 0..1000 {
        let mut ws = connect(&server.base).await;
        let hello = next_frame(&mut ws, Duration::from_secs(10)).await.unwrap();
        assert!(matches!(hello.msg, ServerMessage::Hello { .. }));
        clients.push(ws);
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let got = finding_positions(&mut ws, 1000, Duration::from_secs(300)).await;
                (got, Instant::now())
            })
        })
        .collect();
    let fs = crate::helpers::findings(1000, 71);
    let written = Instant::now();
    for chunk in fs.chunks(100) {
        server.store.upsert(chunk).await.unwrap();
    }
    let mut done = Vec::new();
    for r in readers {
        let (got, at) = r.await.unwrap();
        assert_eq!(got.len(), 1000, "a client missed changes");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order");
        done.push(at - written);
    }
    done.sort();
    eprintln!(
        "1,000 clients x 1,000 changes: last client complete after {:?} (p50 {:?})",
        done[999], done[500]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_the_others_keep_up() {
    // 20,000 frames of ~700 bytes: far more than a socket buffers (a few MB on
    // loopback) plus the channel bound (`CHANNEL_BOUND` frames).
    const BURST: u64 = 20_000;
    const READERS: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut stopped = greeted(&server.base).await;
    let mut slow = greeted_small_buffer(&server.base).await;
    let mut readers = Vec::new();
    for _ in 0..READERS {
        readers.push(greeted(&server.base).await);
    }
    // Nothing changed since the hellos: every client starts here.
    let first = server.hub.position();
    let end = first + BURST;
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let got =
                    finding_positions(&mut ws, BURST as usize, Duration::from_secs(120)).await;
                // The socket comes back so it stays open: the connection count
                // below must only fall for the clients the server drops.
                (got, Instant::now(), ws)
            })
        })
        .collect();
    // The slow client takes a frame every 10 ms while the burst is published:
    // far slower than the burst is published, but never still for long, so the
    // server's sends to it always complete and it sees the channel overtake it.
    let hub = server.hub.clone();
    let slow =
        tokio::spawn(async move { read_until_closed(&mut slow, || hub.position() < end).await });
    let fs = crate::helpers::findings(BURST as usize, 72);
    let burst_at = Instant::now();
    for chunk in fs.chunks(2_500) {
        server.store.upsert(chunk).await.unwrap();
    }

    // Every reading client gets every change, once, in order, while the stopped
    // client has not read a byte and the slow one crawls.
    let want: Vec<u64> = (first + 1..=end).collect();
    let mut open = Vec::new();
    for r in readers {
        let (got, at, ws) = r.await.unwrap();
        assert!(
            got == want,
            "a reading client got {} of {BURST} changes, or out of order (first difference at {:?})",
            got.len(),
            got.iter().zip(&want).position(|(g, w)| g != w)
        );
        eprintln!(
            "a reading client had the whole burst after {:?}",
            at - burst_at
        );
        open.push(ws);
    }

    // The slow client got the changes in order until it fell a whole channel
    // behind, and the server closed it: with `resync` as the very last frame
    // when the send could still be written. On a loaded machine the burst is
    // published slowly enough that the server's send buffer (autotuned to
    // megabytes, writable again only once half of it drains) fills before the
    // channel laps the client; then a send outlasts SEND_TIMEOUT and the
    // client is dropped like the stopped one, without a resync. Either way:
    // dropped, never a duplicate or a gap, a resync only as the last frame.
    let (got, closed) = slow.await.unwrap();
    assert!(closed, "the slow client was not dropped");
    let resyncs = got.iter().filter(|g| **g == Got::Resync).count();
    assert!(resyncs <= 1, "{resyncs} resync frames");
    if resyncs == 1 {
        assert_eq!(
            got.last(),
            Some(&Got::Resync),
            "the slow client's last frame"
        );
    }
    let k = in_order_prefix(&got, first, "the slow client");
    assert!(
        k < BURST,
        "the slow client got the whole burst yet was dropped"
    );
    eprintln!(
        "slow client: {k} changes, then {}",
        if resyncs == 1 {
            "resync"
        } else {
            "dropped at a send timeout"
        }
    );

    // The stopped client cannot be told anything: its socket is full, so the
    // send in progress never completes and the server gives it up after
    // SEND_TIMEOUT (10 s, http/live.rs) and drops the connection without a
    // `resync` (which could not be written either). The server lets go of it
    // while it still reads nothing: the hub's connection count falls to the
    // reading clients alone (the slow one is gone already).
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.hub.connections() > READERS {
        assert!(
            Instant::now() < deadline,
            "the stopped client is still held {:?} after the burst ({} connections)",
            burst_at.elapsed(),
            server.hub.connections()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Read now, it holds what the kernel had buffered: changes in order, no
    // resync (a resync here would mean its connection fell a whole channel
    // behind before its socket filled, i.e. was starved like no reader was),
    // then the end of the stream.
    let (got, closed) = read_until_closed(&mut stopped, || false).await;
    assert!(closed, "the stopped client's stream did not end");
    assert!(
        !got.contains(&Got::Resync),
        "a resync reached a client whose socket was full"
    );
    let k = in_order_prefix(&got, first, "the stopped client");
    assert!(
        k < BURST,
        "the whole burst fit in the stopped client's socket: make it bigger"
    );
    eprintln!("stopped client: {k} changes buffered before the server let it go");
    drop(open);
    server.stop().await;
}
