//! Reconnecting to the live socket: `resume` replays exactly what was missed,
//! across a server restart too; tickets and the `Origin` check guard the socket.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_exactly_what_was_missed_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut ws = greeted(&server.base).await;
    server
        .store
        .upsert(&crate::helpers::findings(30, 73))
        .await
        .unwrap();
    let seen = finding_positions(&mut ws, 30, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 30);
    let last = *seen.last().unwrap();
    drop(ws);
    // Missed while disconnected; then the server restarts.
    server
        .store
        .upsert(&crate::helpers::findings(20, 74))
        .await
        .unwrap();
    server.stop().await;
    let server = start(dir.path(), None).await;
    server
        .store
        .upsert(&crate::helpers::findings(5, 75))
        .await
        .unwrap();
    let mut ws = hello_only(&server.base).await;
    let resume = serde_json::json!({"v": 1, "type": "resume", "after": last.to_string()});
    ws.send(Message::Text(resume.to_string().into()))
        .await
        .unwrap();
    let got = finding_positions(&mut ws, 25, Duration::from_secs(10)).await;
    let want: Vec<u64> = (last + 1..=last + 25).collect();
    // The replay runs up to the position in `hello`; changes the restarted
    // server dispatches after this client connected wait for its `resume`, so
    // they follow the replay: every missed change, once, in order.
    assert_eq!(got, want, "exactly the missed changes, once each, in order");
    // Nothing more is replayed; a new change still arrives.
    server
        .store
        .upsert(&crate::helpers::findings(1, 76))
        .await
        .unwrap();
    let next = finding_positions(&mut ws, 1, Duration::from_secs(10)).await;
    assert_eq!(next, vec![last + 26]);
    // A position older than the replay window asks for a resync.
    let mut ws2 = hello_only(&server.base).await;
    ws2.send(Message::Text(
        r#"{"v":1,"type":"resume","after":"not-a-position"}"#.into(),
    ))
    .await
    .unwrap();
    let f = next_frame(&mut ws2, Duration::from_secs(5)).await.unwrap();
    assert!(matches!(f.msg, ServerMessage::Resync { .. }));
    server.stop().await;
}

async fn new_ticket(client: &reqwest::Client, base: &str, token: &str) -> serde_json::Value {
    let r = client
        .post(format!("http://{base}/live/ticket"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_and_the_origin_guard_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef0123";
    let server = start(dir.path(), Some(token)).await;
    let url = format!("ws://{}/live", server.base);
    // No ticket: refused.
    let err = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    // A ticket from the API (with the bearer token) opens it once.
    let client = reqwest::Client::new();
    let ticket = new_ticket(&client, &server.base, token).await;
    assert_eq!(ticket["expires_in"], 30);
    let t = ticket["ticket"].as_str().unwrap();
    let with_ticket = format!("{url}?ticket={t}");
    let (mut ws, _) = tokio_tungstenite::connect_async(&with_ticket)
        .await
        .unwrap();
    assert!(next_frame(&mut ws, Duration::from_secs(5)).await.is_some());
    let err = tokio_tungstenite::connect_async(&with_ticket)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "a used ticket: {err}");
    // Without the bearer token there is no ticket.
    let r = client
        .post(format!("http://{}/live/ticket", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Another site's page may not open it, even with a fresh ticket.
    let ticket = new_ticket(&client, &server.base, token).await;
    let mut req = format!("{url}?ticket={}", ticket["ticket"].as_str().unwrap())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    server.stop().await;
}
