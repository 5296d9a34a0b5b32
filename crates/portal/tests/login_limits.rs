//! Login limits against a live server: concurrent guesses, the bound on password checks and
//! their memory, the client address behind trusted proxies, guesses that slow down only the
//! guesser.

mod common;

use common::{ensure_org, form_value, password_hash, PASSWORD};
use greenwatch_feeds::Catalogue;
use greenwatch_model::access::Role;
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use greenwatch_portal::{router, trusted_proxy, AppState, TrustedProxies};
use greenwatch_store::{NewUser, Store, StoreLocation};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The double-submit CSRF token every login below sends (as cookie and form field alike).
const CSRF: &str = "0123456789abcdef";

/// A data directory with user `alice` (password [`PASSWORD`]) and a portal over it listening
/// on a loopback port.
struct Server {
    _dir: tempfile::TempDir,
    store: Box<dyn Store>,
    address: SocketAddr,
}

async fn start() -> Server {
    start_behind(&[]).await
}

/// [`start`] believing `X-Forwarded-For` from `proxies`.
async fn start_behind(proxies: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("greenwatch.sqlite")))
            .unwrap();
    ensure_org(&mut *store, "cert-a");
    let alice = NewUser {
        login: "alice".into(),
        org: "cert-a".into(),
        role: Role::Member,
        password_hash: password_hash(),
    };
    store.create_user(&alice, "test", Timestamp(1)).unwrap();
    // The deployment's anonymisation key exists, as after a first request: the bursts below
    // exercise logins, not the making of the key.
    std::fs::write(dir.path().join("anonymisation.key"), "ab".repeat(32)).unwrap();
    let state = AppState::new(
        dir.path().to_path_buf(),
        NetDb::from_snapshots(Vec::new()),
        Catalogue::shipped(),
    )
    .with_trusted_proxies(TrustedProxies::new(
        proxies.iter().map(|p| trusted_proxy(p).unwrap()).collect(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        _dir: dir,
        store,
        address,
    }
}

/// A login answer: its status and its whole text (headers and body).
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    /// Whether the password was checked and found wrong (the only answer a check gives a
    /// wrong password).
    fn checked_wrong(&self) -> bool {
        self.status == 401 && self.text.contains("Wrong login or password")
    }

    fn header(&self, name: &str) -> Option<&str> {
        let (head, _) = self.text.split_once("\r\n\r\n")?;
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// POSTs the login form over a connection of its own, as a browser would.
async fn post_login(server: SocketAddr, login: &str, password: &str) -> Answer {
    post_login_forwarded(server, login, password, None).await
}

/// [`post_login`] with an `X-Forwarded-For` header.
async fn post_login_forwarded(
    server: SocketAddr,
    login: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Answer {
    let body = format!(
        "login={}&password={}&csrf={CSRF}",
        form_value(login),
        form_value(password)
    );
    let forwarded = forwarded_for.map_or(String::new(), |f| format!("X-Forwarded-For: {f}\r\n"));
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nCookie: gw_login_csrf={CSRF}\r\n\
         {forwarded}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(server).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text}"));
    Answer { status, text }
}

/// Sends every `(login, password)` at once, each on its own connection.
async fn all_at_once(server: SocketAddr, attempts: Vec<(String, String)>) -> Vec<Answer> {
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(login, password)| {
            tokio::spawn(async move { post_login(server, &login, &password).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Statuses a refused or checked login may get: checked and wrong, too many attempts, busy.
fn assert_refused(answers: &[Answer]) {
    for answer in answers {
        assert!(
            [401, 429, 503].contains(&answer.status),
            "unexpected answer: {}",
            answer.text
        );
    }
}

fn audited_failures(store: &dyn Store) -> usize {
    store
        .audit_log(1000)
        .unwrap()
        .iter()
        .filter(|e| e.action == "login.failure")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_for_one_login_are_checked_at_most_five_times() {
    let server = start().await;
    let guesses = (0..25)
        .map(|i| ("alice".to_string(), format!("wrong password {i}")))
        .collect();
    let answers = all_at_once(server.address, guesses).await;
    assert_refused(&answers);
    let checked = answers.iter().filter(|a| a.checked_wrong()).count();
    assert!(
        checked <= 5,
        "{checked} of 25 concurrent guesses were checked"
    );
    assert_eq!(audited_failures(&*server.store), checked);
    // The limit holds once they are done, for the right password too.
    assert_eq!(
        post_login(server.address, "alice", PASSWORD).await.status,
        429
    );
}

/// VmHWM of this process: the most memory it has held resident, in bytes.
#[cfg(target_os = "linux")]
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_logins_from_one_address_check_at_most_twenty_in_bounded_memory() {
    let server = start().await;
    let before = peak_resident_bytes();
    let guesses = (0..100)
        .map(|i| (format!("user{i}"), "wrong password".to_string()))
        .collect();
    let answers = all_at_once(server.address, guesses).await;
    assert_refused(&answers);
    let checked = answers.iter().filter(|a| a.checked_wrong()).count();
    assert!(
        checked <= 20,
        "{checked} of 100 concurrent guesses were checked"
    );
    // Each argon2id check holds 19 MiB: 4 at once is 76 MiB; 20 at once would be 380 MiB.
    let grown = peak_resident_bytes().saturating_sub(before);
    assert!(grown < 256 << 20, "peak memory grew by {} MiB", grown >> 20);
}

/// Where the audit log says the login failures came from, oldest first.
fn failures_from(store: &dyn Store) -> Vec<String> {
    let mut from: Vec<String> = store
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "login.failure")
        .map(|e| e.detail)
        .collect();
    from.reverse();
    from
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_for_alice_from_one_address_do_not_keep_her_out_from_another() {
    let server = start_behind(&["127.0.0.1"]).await;
    let from = |client| Some(client);
    for i in 0..5 {
        let guess = format!("wrong password {i}");
        let answer =
            post_login_forwarded(server.address, "alice", &guess, from("198.51.100.7")).await;
        assert!(answer.checked_wrong(), "{}", answer.text);
    }
    // The guesser waits a minute, even with the right password...
    let guesser = post_login_forwarded(server.address, "alice", PASSWORD, from("198.51.100.7"));
    let guesser = guesser.await;
    assert_eq!(guesser.status, 429, "{}", guesser.text);
    let retry: u64 = guesser.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 60, "{retry}");
    // ...while alice, elsewhere, logs in at once.
    let alice = post_login_forwarded(server.address, "alice", PASSWORD, from("203.0.113.5")).await;
    assert_eq!(alice.status, 303, "{}", alice.text);
    assert!(alice
        .header("set-cookie")
        .unwrap()
        .starts_with("gw_session="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let server = start().await;
    // Each guess claims another address; all come from the one peer, which is limited.
    for i in 0..20 {
        let (login, spoofed) = (format!("user{i}"), format!("198.51.100.{i}"));
        let answer = post_login_forwarded(server.address, &login, "wrong", Some(&spoofed)).await;
        assert!(answer.checked_wrong());
    }
    let next = post_login_forwarded(server.address, "alice", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(next.status, 429, "{}", next.text);
    let from = failures_from(&*server.store);
    assert_eq!(from.len(), 20);
    assert!(from.iter().all(|f| f == "from 127.0.0.1"), "{from:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_from_a_peer_that_is_no_trusted_proxy_is_ignored() {
    let server = start_behind(&["10.0.0.0/8"]).await;
    let answer = post_login_forwarded(server.address, "alice", "wrong", Some("198.51.100.7")).await;
    assert!(answer.checked_wrong());
    assert_eq!(failures_from(&*server.store), ["from 127.0.0.1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxys_forwarded_for_names_the_client_whatever_the_client_prepends() {
    let server = start_behind(&["127.0.0.1"]).await;
    // The client writes the left entries itself; the proxy appends the address it saw.
    for i in 0..20 {
        let (login, forwarded) = (format!("user{i}"), format!("203.0.113.{i}, 198.51.100.7"));
        let answer = post_login_forwarded(server.address, &login, "wrong", Some(&forwarded)).await;
        assert!(answer.checked_wrong());
    }
    let from = failures_from(&*server.store);
    assert!(from.iter().all(|f| f == "from 198.51.100.7"), "{from:?}");
    let again = post_login_forwarded(
        server.address,
        "alice",
        "wrong",
        Some("10.9.9.9, 198.51.100.7"),
    );
    assert_eq!(again.await.status, 429, "that client is limited");
    let other = post_login_forwarded(server.address, "alice", PASSWORD, Some("198.51.100.8"));
    assert_eq!(
        other.await.status,
        303,
        "another client behind the proxy is not"
    );
}
