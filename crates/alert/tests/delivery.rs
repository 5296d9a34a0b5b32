//! Webhook and SMTP delivery end to end on loopback: a receiver the test starts, the store
//! recording what was delivered, retries, signatures and TLP.

use greenwatch_alert::{
    deliver_pending, signature, Due, Outcome, Persistence, Retry, Smtp, SmtpCredentials,
    SmtpSecurity, Webhook, SIGNATURE_HEADER,
};
use greenwatch_model::access::{Label, Role, Tlp, Viewer};
use greenwatch_model::alert::{NewAlert, Severity};
use greenwatch_model::anonymise::CryptoPan;
use greenwatch_model::Timestamp;
use greenwatch_store::{Store, StoreLocation};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn new_alert(title: &str, tlp: Tlp) -> NewAlert {
    NewAlert {
        key: Some(format!("test:{title}")),
        severity: Severity::High,
        title: title.into(),
        summary:
            "port 5555/tcp: 125 packets observed, 23 expected (interval 4-61)\n.a line with a dot"
                .into(),
        affected: vec!["port 5555/tcp packets".into()],
        first_seen: Timestamp::from_secs(1_791_158_400),
        last_seen: Timestamp::from_secs(1_791_162_000),
        author: "detector".into(),
        label: Label {
            owner: "cert-x".into(),
            tlp,
        },
        evidence: None,
        created_at: Timestamp::from_secs(1_791_165_600),
    }
}

fn store_with(alerts: &[NewAlert]) -> (tempfile::TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    for a in alerts {
        store.raise_alert(a).unwrap();
    }
    (dir, store)
}

fn pan() -> CryptoPan {
    CryptoPan::new(b"the delivery tests' key, 32 byte")
}

fn quick_retry() -> Retry {
    Retry {
        attempts: 3,
        first_backoff: Duration::from_millis(20),
    }
}

fn now() -> Timestamp {
    Timestamp::from_secs(1_791_170_000)
}

/// One HTTP/1.1 request as the receiver saw it.
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// One round of `subscription`'s deliveries, one attempt per alert, recorded in `store`.
fn deliver_once(
    store: &mut dyn Store,
    subscription: &greenwatch_model::alert::Subscription,
    outbound: &greenwatch_alert::Outbound,
) -> Vec<Outcome> {
    let persistence = Persistence {
        retry: Retry {
            attempts: 1,
            first_backoff: Duration::ZERO,
        },
        give_up_after: 10,
        round_budget: Duration::from_secs(60),
    };
    let due = Due::of(&*store, subscription, &pan(), outbound, &persistence).unwrap();
    let mut outcomes = Vec::new();
    due.send(&persistence, now, |o| outcomes.push(o));
    for outcome in &outcomes {
        outcome.record(store).unwrap();
    }
    outcomes
}

/// Reads one HTTP/1.1 POST to `/hook` from `stream`.
/// cert-y (made here) subscribed to `url` from the lowest severity, and a CLEAR alert raised
/// after the subscription, so it is due.
fn subscribed_webhook(store: &mut dyn Store, url: String) -> greenwatch_model::alert::Subscription {
    use greenwatch_model::account::Organisation;
    use greenwatch_model::alert::{NewSubscription, SubscriptionChannel};
    let org = Organisation {
        slug: "cert-y".into(),
        name: "CERT Y".into(),
        created_at: now(),
    };
    store.create_org(&org, "test").unwrap();
    let subscription = store
        .subscribe(&NewSubscription {
            org: "cert-y".into(),
            channel: SubscriptionChannel::Webhook {
                url,
                secret: "k".into(),
            },
            min_severity: Severity::Low,
            created_by: "analyst".into(),
            created_at: now(),
        })
        .unwrap();
    store
        .raise_alert(&new_alert("after the subscription", Tlp::Clear))
        .unwrap();
    subscription
}

fn read_request(stream: &std::net::TcpStream) -> Received {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("POST /hook HTTP/1.1"), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let Some((k, v)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    Received { headers, body }
}

/// Serves `statuses.len()` requests on loopback, answering each with the next status.
fn webhook_receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for status in statuses {
            let (mut stream, _) = listener.accept().unwrap();
            let received = read_request(&stream);
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            tx.send(received).unwrap();
        }
    });
    (url, rx)
}

#[test]
fn webhook_is_signed_retried_after_a_failure_and_delivered_once() {
    let (_dir, mut store) = store_with(&[new_alert("Surge on port 5555/tcp", Tlp::Green)]);
    let (url, received) = webhook_receiver(vec![503, 200]);
    let hook = Webhook {
        url,
        secret: "shared-secret".into(),
    };
    let subscriber = Viewer::User {
        org: "cert-y".into(),
        role: Role::Member,
    };
    let outcomes =
        deliver_pending(&mut *store, &subscriber, &pan(), &hook, &quick_retry(), now).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1.attempts, 2);
    assert_eq!(outcomes[0].1.outcome, Ok(now()));

    let _failed = received.recv().unwrap();
    let ok = received.recv().unwrap();
    let header = |name: &str| {
        ok.headers
            .iter()
            .find(|(k, _)| k == &name.to_ascii_lowercase())
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header(SIGNATURE_HEADER),
        Some(signature(b"shared-secret", &ok.body))
    );
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(json["title"], "Surge on port 5555/tcp");
    assert_eq!(json["label"]["tlp"], "GREEN");

    // Delivered: the next round sends nothing.
    let again =
        deliver_pending(&mut *store, &subscriber, &pan(), &hook, &quick_retry(), now).unwrap();
    assert!(again.is_empty());
}

#[test]
fn a_webhook_that_stays_down_is_retried_next_round_and_its_secret_never_shows() {
    let (_dir, mut store) = store_with(&[new_alert("a", Tlp::Clear)]);
    let (url, _received) = webhook_receiver(vec![500, 500, 500]);
    let hook = Webhook {
        url,
        secret: "do-not-print-me".into(),
    };
    let outcomes = deliver_pending(
        &mut *store,
        &Viewer::Anonymous,
        &pan(),
        &hook,
        &quick_retry(),
        now,
    )
    .unwrap();
    let error = outcomes[0].1.outcome.clone().unwrap_err();
    assert_eq!(outcomes[0].1.attempts, 3);
    assert!(error.contains("500"), "{error}");
    assert!(!error.contains("do-not-print-me"));
    assert_eq!(
        store
            .undelivered(&Viewer::Anonymous, &greenwatch_alert::Channel::name(&hook))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn subscribers_receive_only_alerts_their_organisation_may_see() {
    let (_dir, mut store) = store_with(&[
        new_alert("clear", Tlp::Clear),
        new_alert("green", Tlp::Green),
        new_alert("amber", Tlp::Amber),
        new_alert("red", Tlp::Red),
    ]);
    let (url, received) = webhook_receiver(vec![200; 6]);
    let hook = Webhook {
        url,
        secret: "k".into(),
    };
    let titles = |rx: &mpsc::Receiver<Received>, n: usize| -> Vec<String> {
        (0..n)
            .map(|_| {
                let r = rx.recv().unwrap();
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["title"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let public = deliver_pending(
        &mut *store,
        &Viewer::Anonymous,
        &pan(),
        &hook,
        &quick_retry(),
        now,
    )
    .unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(titles(&received, 1), ["clear"]);
    let peer = Viewer::User {
        org: "cert-y".into(),
        role: Role::Analyst,
    };
    assert_eq!(
        deliver_pending(&mut *store, &peer, &pan(), &hook, &quick_retry(), now)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(titles(&received, 1), ["green"]);
    let owner = Viewer::User {
        org: "cert-x".into(),
        role: Role::Member,
    };
    assert_eq!(
        deliver_pending(&mut *store, &owner, &pan(), &hook, &quick_retry(), now)
            .unwrap()
            .len(),
        2
    );
    let mut got = titles(&received, 2);
    got.sort();
    assert_eq!(got, ["amber", "red"]);
}

#[test]
fn an_outsider_receives_a_detector_alert_with_its_sources_anonymised_and_the_owner_the_real_ones() {
    use greenwatch_model::alert::{Contributor, Evidence, Explanation};
    let mut alert = new_alert("Surge on port 5555/tcp from 203.0.113.7", Tlp::Clear);
    alert.key = Some("detect:port 5555/tcp packets:surge:1791158400".into());
    alert.summary = "top sources: 203.0.113.7 (80 %)".into();
    alert.evidence = Some(Evidence {
        series: vec![],
        explanation: Explanation {
            sources: vec![Contributor {
                name: "203.0.113.7".into(),
                packets: 100,
                share: 0.8,
                first_seen: None,
            }],
            ..Explanation::default()
        },
    });
    let (_dir, mut store) = store_with(&[alert]);
    // Deliveries are recorded per channel, so each subscriber has a receiver of its own.
    let hook = || {
        let (url, received) = webhook_receiver(vec![200]);
        let hook = Webhook {
            url,
            secret: "k".into(),
        };
        (hook, received)
    };
    let body = |rx: &mpsc::Receiver<Received>| -> serde_json::Value {
        let received = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a delivery");
        serde_json::from_slice(&received.body).unwrap()
    };
    let image = pan().anonymise("203.0.113.7".parse().unwrap()).to_string();
    let peer = Viewer::User {
        org: "cert-y".into(),
        role: Role::Member,
    };
    let (peer_hook, peer_received) = hook();
    deliver_pending(&mut *store, &peer, &pan(), &peer_hook, &quick_retry(), now).unwrap();
    let got = body(&peer_received);
    assert_eq!(got["title"], format!("Surge on port 5555/tcp from {image}"));
    assert_eq!(got["summary"], format!("top sources: {image} (80 %)"));
    assert!(!got.to_string().contains("203.0.113.7"), "{got}");
    let owner = Viewer::User {
        org: "cert-x".into(),
        role: Role::Member,
    };
    let (owner_hook, owner_received) = hook();
    deliver_pending(
        &mut *store,
        &owner,
        &pan(),
        &owner_hook,
        &quick_retry(),
        now,
    )
    .unwrap();
    assert_eq!(
        body(&owner_received)["summary"],
        "top sources: 203.0.113.7 (80 %)"
    );
}

#[test]
fn a_subscription_webhook_to_an_internal_address_is_refused_unless_the_deployment_allows_it() {
    use greenwatch_alert::Outbound;
    let (_dir, mut store) = store_with(&[]);
    let (url, received) = webhook_receiver(vec![200]);
    let subscription = subscribed_webhook(&mut *store, url);
    let refused = deliver_once(&mut *store, &subscription, &Outbound::default());
    assert_eq!(refused.len(), 1);
    let reason = refused[0].delivery.outcome.clone().unwrap_err();
    assert!(reason.contains("internal address 127.0.0.1"), "{reason}");
    assert!(
        received.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing was POSTed"
    );
    let allowed = Outbound {
        webhooks_to_internal: true,
        ..Outbound::default()
    };
    let delivered = deliver_once(&mut *store, &subscription, &allowed);
    assert!(delivered[0].delivery.outcome.is_ok(), "{delivered:?}");
    assert!(received.recv_timeout(Duration::from_secs(10)).is_ok());
}

#[test]
fn a_webhook_redirect_is_not_followed_and_the_delivery_fails_naming_it() {
    use greenwatch_alert::Outbound;
    let (_dir, mut store) = store_with(&[]);
    // Where the redirect points: it must never be connected to.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let location = format!("http://{}/hook", target.local_addr().unwrap());
    let redirector = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", redirector.local_addr().unwrap());
    let answering = location.clone();
    let (tx, asked) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = redirector.accept().unwrap();
        read_request(&stream);
        write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {answering}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        tx.send(()).unwrap();
    });
    let subscription = subscribed_webhook(&mut *store, url);
    let internal = Outbound {
        webhooks_to_internal: true,
        ..Outbound::default()
    };
    let outcomes = deliver_once(&mut *store, &subscription, &internal);
    asked.recv().unwrap();
    let reason = outcomes[0].delivery.outcome.clone().unwrap_err();
    assert!(
        reason.contains("302") && reason.contains(&location),
        "{reason}"
    );
    assert_eq!(
        store
            .undelivered(
                &Viewer::User {
                    org: "cert-y".into(),
                    role: Role::Member
                },
                &subscription.channel_name()
            )
            .unwrap()
            .len(),
        1,
        "recorded as not delivered"
    );
    // The delivery is over: a connection to the redirect's target would be waiting by now.
    target.set_nonblocking(true).unwrap();
    assert_eq!(
        target.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the redirect's target was never connected to"
    );
}

/// What an SMTP sink saw: the commands (`-- TLS --` where the conversation moved to TLS)
/// and the message data.
type Seen = (Vec<String>, String);

/// A minimal SMTP sink: accepts one message and reports what it saw. With `tls`, it offers
/// STARTTLS and continues over TLS with that server configuration.
fn smtp_sink(
    accept_auth: bool,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut plain = BufReader::new(stream);
        let mut seen = (Vec::new(), String::new());
        plain.get_mut().write_all(b"220 sink ESMTP\r\n").unwrap();
        if converse(&mut plain, accept_auth, tls.is_some(), &mut seen) {
            let connection = rustls::ServerConnection::new(tls.unwrap()).unwrap();
            let stream = rustls::StreamOwned::new(connection, plain.into_inner());
            seen.0.push("-- TLS --".into());
            converse(&mut BufReader::new(stream), accept_auth, false, &mut seen);
        }
        tx.send(seen).unwrap();
    });
    (relay, rx)
}

/// Answers commands until QUIT, the end of the stream, or an accepted STARTTLS (returns true).
fn converse<S: Read + Write>(
    stream: &mut BufReader<S>,
    accept_auth: bool,
    offer_tls: bool,
    (commands, data): &mut Seen,
) -> bool {
    let mut line = String::new();
    while stream.read_line(&mut line).unwrap_or(0) > 0 {
        let cmd = line.trim_end().to_string();
        line.clear();
        commands.push(cmd.clone());
        let answer: &[u8] = match cmd.split(' ').next().unwrap() {
            "EHLO" if offer_tls => b"250-sink\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
            "EHLO" => b"250-sink\r\n250 AUTH PLAIN\r\n",
            "STARTTLS" if offer_tls => {
                reply(stream, b"220 go ahead\r\n");
                return true;
            }
            "AUTH" if accept_auth => b"235 ok\r\n",
            "AUTH" => b"535 authentication failed\r\n",
            "MAIL" | "RCPT" => b"250 ok\r\n",
            "DATA" => {
                reply(stream, b"354 go on\r\n");
                loop {
                    let mut l = String::new();
                    stream.read_line(&mut l).unwrap();
                    if l == ".\r\n" {
                        break;
                    }
                    // Undo dot-stuffing as a real server does.
                    *data += l.strip_prefix('.').unwrap_or(&l);
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                reply(stream, b"221 bye\r\n");
                return false;
            }
            _ => b"500 what\r\n",
        };
        reply(stream, answer);
    }
    false
}

fn reply<S: Read + Write>(stream: &mut BufReader<S>, bytes: &[u8]) {
    let out = stream.get_mut();
    out.write_all(bytes).unwrap();
    out.flush().unwrap();
}

/// A self-signed certificate for 127.0.0.1: the sink's TLS configuration, and the PEM file the
/// client is told to trust.
fn self_signed(dir: &std::path::Path) -> (Arc<rustls::ServerConfig>, std::path::PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let ca = dir.join("relay.pem");
    std::fs::write(&ca, made.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![made.cert.der().clone()], key)
    .unwrap();
    (Arc::new(config), ca)
}

#[test]
fn with_starttls_the_login_and_the_message_travel_only_over_tls() {
    let (dir, mut store) = store_with(&[new_alert("Surge on port 5555/tcp", Tlp::Clear)]);
    let (server, ca) = self_signed(dir.path());
    let (relay, sink) = smtp_sink(true, Some(server));
    let smtp = Smtp {
        relay,
        from: "greenwatch@cert.example".into(),
        to: vec!["soc@isp.example".into()],
        credentials: Some(SmtpCredentials {
            user: "gw".into(),
            password: "pw".into(),
        }),
        security: SmtpSecurity::start_tls(Some(&ca)).unwrap(),
    };
    let outcomes = deliver_pending(
        &mut *store,
        &Viewer::Anonymous,
        &pan(),
        &smtp,
        &quick_retry(),
        now,
    )
    .unwrap();
    assert_eq!(outcomes[0].1.outcome, Ok(now()));
    let (commands, data) = sink.recv().unwrap();
    let upgraded = commands.iter().position(|c| c == "-- TLS --").unwrap();
    assert_eq!(commands[..upgraded], ["EHLO greenwatch", "STARTTLS"]);
    assert_eq!(commands[upgraded + 1], "EHLO greenwatch");
    assert!(commands[upgraded..].contains(&"AUTH PLAIN AGd3AHB3".to_string()));
    assert!(data.contains("Subject: [TLP:CLEAR] [high] Surge on port 5555/tcp"));
}

#[test]
fn a_relay_without_starttls_or_with_an_untrusted_certificate_gets_no_login() {
    let (dir, mut store) = store_with(&[new_alert("a", Tlp::Clear)]);
    let (_, ca) = self_signed(dir.path());
    let once = Retry {
        attempts: 1,
        first_backoff: Duration::ZERO,
    };
    let other_dir = tempfile::tempdir().unwrap();
    let (stranger, _) = self_signed(other_dir.path());
    for (offered, expected) in [(None, "STARTTLS"), (Some(stranger), "certificate")] {
        let (relay, sink) = smtp_sink(true, offered);
        let smtp = Smtp {
            relay,
            from: "gw@x".into(),
            to: vec!["soc@x".into()],
            credentials: Some(SmtpCredentials {
                user: "gw".into(),
                password: "hunter2-secret".into(),
            }),
            security: SmtpSecurity::start_tls(Some(&ca)).unwrap(),
        };
        let outcomes =
            deliver_pending(&mut *store, &Viewer::Anonymous, &pan(), &smtp, &once, now).unwrap();
        let error = outcomes[0].1.outcome.clone().unwrap_err();
        assert!(error.contains(expected), "{error}");
        let (commands, _) = sink.recv().unwrap();
        assert!(
            !commands
                .iter()
                .any(|c| c.starts_with("AUTH") || c.starts_with("MAIL")),
            "{commands:?}"
        );
    }
}

#[test]
fn email_goes_through_an_smtp_relay_with_auth_and_dot_stuffing() {
    let (_dir, mut store) = store_with(&[new_alert("Surge on port 5555/tcp", Tlp::Green)]);
    let (relay, sink) = smtp_sink(true, None);
    let smtp = Smtp {
        relay,
        from: "greenwatch@cert.example".into(),
        to: vec!["soc@isp.example".into(), "noc@isp.example".into()],
        credentials: Some(SmtpCredentials {
            user: "gw".into(),
            password: "pw".into(),
        }),
        security: SmtpSecurity::Plain,
    };
    let peer = Viewer::User {
        org: "cert-y".into(),
        role: Role::Member,
    };
    let outcomes = deliver_pending(&mut *store, &peer, &pan(), &smtp, &quick_retry(), now).unwrap();
    assert_eq!(outcomes[0].1.outcome, Ok(now()));
    let (commands, data) = sink.recv().unwrap();
    // AUTH PLAIN of "\0gw\0pw".
    assert!(
        commands.contains(&"AUTH PLAIN AGd3AHB3".to_string()),
        "{commands:?}"
    );
    assert!(commands.contains(&"MAIL FROM:<greenwatch@cert.example>".to_string()));
    assert!(commands.contains(&"RCPT TO:<soc@isp.example>".to_string()));
    assert!(commands.contains(&"RCPT TO:<noc@isp.example>".to_string()));
    assert!(
        data.contains("Subject: [TLP:GREEN] [high] Surge on port 5555/tcp\r\n"),
        "{data}"
    );
    assert!(data.contains("\r\n.a line with a dot\r\n"), "{data}");
    assert!(data.contains("Affected: port 5555/tcp packets"));
}

#[test]
fn a_refused_login_is_reported_without_the_password() {
    let (_dir, mut store) = store_with(&[new_alert("a", Tlp::Clear)]);
    let (relay, _sink) = smtp_sink(false, None);
    let smtp = Smtp {
        relay,
        from: "gw@x".into(),
        to: vec!["soc@x".into()],
        credentials: Some(SmtpCredentials {
            user: "gw".into(),
            password: "hunter2-secret".into(),
        }),
        security: SmtpSecurity::Plain,
    };
    let retry = Retry {
        attempts: 1,
        first_backoff: Duration::ZERO,
    };
    let outcomes =
        deliver_pending(&mut *store, &Viewer::Anonymous, &pan(), &smtp, &retry, now).unwrap();
    let error = outcomes[0].1.outcome.clone().unwrap_err();
    assert!(error.contains("535"), "{error}");
    assert!(
        !error.contains("hunter2") && !error.contains("AGd3"),
        "{error}"
    );
}
