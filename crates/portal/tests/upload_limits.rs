//! An upload's form fields other than the file are small: an oversized one is refused (400,
//! naming the field) without being read whole, so memory stays bounded. Sent over a real
//! connection, streamed, so that only the server could hold the field. One test in its own
//! binary, so that the process's peak resident size (VmHWM) is this test's alone.

mod common;

use common::*;
use greenwatch_model::access::Role;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOUNDARY: &str = "----greenwatch-test-boundary";

/// Bytes of the oversized field: far more than the memory allowed below.
const OVERSIZED: usize = 300 << 20;

/// The status line and body of the answer to a multipart POST whose `kind` field is
/// `OVERSIZED` bytes long, written in 64 KiB pieces while the answer is read.
async fn post_oversized_field(addr: SocketAddr, cookie: &str, csrf: &str) -> (String, String) {
    let head = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n");
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let length = head.len() + OVERSIZED + tail.len();
    let request = format!(
        "POST /api/v1/uploads HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut from_server, mut to_server) = stream.into_split();
    let writer = tokio::spawn(async move {
        // The server may stop reading once it has refused the field: write errors end this.
        let piece = vec![b'a'; 1 << 16];
        let mut write = async || -> std::io::Result<()> {
            to_server.write_all(request.as_bytes()).await?;
            to_server.write_all(head.as_bytes()).await?;
            for _ in 0..OVERSIZED / piece.len() {
                to_server.write_all(&piece).await?;
            }
            to_server.write_all(tail.as_bytes()).await
        };
        let _ = write().await;
    });
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match from_server.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    writer.abort();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    (status, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_form_field_is_refused_without_being_read_whole() {
    let mut f = fixture();
    let (cookie, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = f.app.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });

    reset_peak();
    let before = peak_rss();
    let (status, body) = post_oversized_field(addr, &cookie, &csrf).await;
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "the oversized field raised the peak resident size by {grown} bytes"
    );
    assert_eq!(status, "HTTP/1.1 400 Bad Request", "{body}");
    assert!(
        body.contains("form field kind is longer than 4096 bytes"),
        "{body}"
    );
}
