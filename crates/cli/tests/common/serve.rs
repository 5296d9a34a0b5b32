//! `greenwatch serve` as the end-to-end tests run it, and plain HTTP requests to it.

use super::sensors::wait_until;
use super::Env;
use std::io::{Read, Write};
use std::time::Duration;

/// `greenwatch serve` over plain HTTP on loopback, killed when dropped.
pub struct ServeProcess(std::process::Child);

impl ServeProcess {
    pub fn start(env: &Env, port: u16) -> ServeProcess {
        let child = env
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the portal", Duration::from_secs(60), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        ServeProcess(child)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` from the portal on `port`: (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}
