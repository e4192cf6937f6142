//! A real IMAP server for the tests: Debian's dovecot (package dovecot-imapd), started in the
//! foreground with a configuration of its own in a temporary directory (plain IMAP on a free
//! loopback port, one user with a static password, a maildir), stopped when dropped. Without
//! dovecot the tests that need it are skipped, unless ANCHORA_REQUIRE_IMAP=1 (CI).
//!
//! As root (CI), dovecot refuses to give mail to uid 0 ("userdb returned 0 as uid"): the mail,
//! login and internal processes then run as `nobody`, who owns the maildir. As another user they
//! run as that user, without chroot.

use anchora_web::bounces::BounceMailbox;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A dovecot for one test, stopped when dropped.
pub struct ImapServer {
    pub port: u16,
    pub user: String,
    pub password: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its own processes (auth, log, imap); then make sure.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(5) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dovecot_binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .or_else(|| {
            Command::new("dovecot")
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
                .then(|| PathBuf::from("dovecot"))
        })
}

/// `id` with arguments, its answer trimmed.
fn id(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().unwrap();
    assert!(out.status.success(), "id {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

impl ImapServer {
    /// Starts dovecot, or `None` (with a note) when it is not installed.
    pub fn start() -> Option<ImapServer> {
        let Some(dovecot) = dovecot_binary() else {
            assert!(
                std::env::var("ANCHORA_REQUIRE_IMAP").is_err(),
                "ANCHORA_REQUIRE_IMAP is set but dovecot is missing (apt install dovecot-imapd)"
            );
            eprintln!("note: skipping the IMAP test: install dovecot-imapd to run it");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // The processes dovecot starts run as this account: never root for mail.
        let account = if id(&["-u"]) == "0" {
            "nobody".to_string()
        } else {
            id(&["-un"])
        };
        let (uid, gid, group) = (id(&["-u", &account]), id(&["-g", &account]), id(&["-gn", &account]));
        for sub in ["base", "state", "mail"] {
            std::fs::create_dir(root.join(sub)).unwrap();
        }
        if account == "nobody" {
            // Let nobody through the temporary directory (0700) to the maildir it owns.
            let status = Command::new("chmod").arg("0755").arg(root).status().unwrap();
            assert!(status.success());
            let status = Command::new("chown")
                .arg(format!("{uid}:{gid}"))
                .arg(root.join("mail"))
                .status()
                .unwrap();
            assert!(status.success());
        }
        let config = root.join("dovecot.conf");
        let password = "bounce-box-password";
        std::fs::write(
            &config,
            configuration(root, port, password, [&account, &group, &uid, &gid]),
        )
        .unwrap();
        let child = Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = ImapServer {
            port,
            user: "bounces".into(),
            password: password.into(),
            child,
            dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("dovecot stopped ({status}):\n{}", server.log());
            }
            assert!(
                started.elapsed().as_secs() < 20,
                "dovecot did not start:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// The bounce mailbox's URL: `imap://bounces:…@127.0.0.1:<port>/INBOX`.
    pub fn url(&self) -> String {
        format!("imap://{}:{}@127.0.0.1:{}/INBOX", self.user, self.password, self.port)
    }

    /// What dovecot logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().expect("a greeting");
        client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Puts a message into INBOX (IMAP APPEND).
    pub async fn append(&self, raw: &[u8]) {
        let mut session = self.session().await;
        session.append("INBOX", None, None, raw).await.unwrap();
        session.logout().await.unwrap();
    }

    /// How many messages in INBOX match an IMAP search (`ALL`, `SEEN`, `DELETED`).
    pub async fn count(&self, search: &str) -> usize {
        let mut session = self.session().await;
        session.select("INBOX").await.unwrap();
        let found = session.search(search).await.unwrap().len();
        session.logout().await.unwrap();
        found
    }
}

/// IMAP only, no TLS, plaintext LOGIN, one static user; sockets, state, log and mail under the
/// temporary directory.
fn configuration(root: &Path, port: u16, password: &str, [account, group, uid, gid]: [&str; 4]) -> String {
    let root = root.display();
    format!(
        r#"protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {account}
default_internal_group = {group}
default_login_user = {account}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"#
    )
}

const NEWSLETTER_REPLY: &[u8] = include_bytes!("../../src/bounces/fixtures/reply.eml");
const HARD_BOUNCE: &[u8] = include_bytes!("../../src/bounces/fixtures/postfix_failed.eml");
const DELAYED: &[u8] = include_bytes!("../../src/bounces/fixtures/postfix_delayed.eml");

#[tokio::test]
async fn bounces_are_taken_once_from_a_real_imap_server() {
    let Some(server) = ImapServer::start() else {
        return;
    };
    server.append(HARD_BOUNCE).await;
    server.append(DELAYED).await;
    server.append(NEWSLETTER_REPLY).await;
    let mailbox = BounceMailbox::from_url(&server.url()).unwrap();

    let bounces = mailbox.take_bounces(10).await.unwrap();
    assert_eq!(bounces.len(), 2, "{bounces:?}");
    let hard = bounces.iter().find(|b| b.permanent).expect("the hard bounce");
    assert_eq!(hard.verp, "m3f2a9c-r91bc04");
    assert_eq!(hard.status, "5.1.1");
    assert_eq!(hard.recipient.as_deref(), Some("jane.doe@example.net"));
    let delayed = bounces.iter().find(|b| !b.permanent).expect("the delay");
    assert_eq!(delayed.verp, "m3f2a9c-r77aa10");
    assert_eq!(delayed.status, "4.4.1");

    // Read once: the bounces are gone, the reply stays, seen.
    assert_eq!(mailbox.take_bounces(10).await.unwrap(), Vec::new());
    assert_eq!(server.count("ALL").await, 1);
    assert_eq!(server.count("SEEN").await, 1);

    // At most `max` a run, oldest first.
    server.append(HARD_BOUNCE).await;
    server.append(DELAYED).await;
    let first = mailbox.take_bounces(1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(first[0].permanent);
    let second = mailbox.take_bounces(1).await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(!second[0].permanent);
    assert_eq!(mailbox.take_bounces(1).await.unwrap(), Vec::new());
    assert_eq!(server.count("ALL").await, 1);
}

#[tokio::test]
async fn a_wrong_password_is_an_error_that_does_not_repeat_it() {
    let Some(server) = ImapServer::start() else {
        return;
    };
    let mut mailbox = BounceMailbox::from_url(&server.url()).unwrap();
    mailbox.password = "not-the-bounce-box-password".into();
    let error = mailbox.take_bounces(10).await.unwrap_err();
    assert!(error.contains("logging in as bounces failed"), "{error}");
    assert!(!error.contains("not-the-bounce-box-password"), "{error}");
    // A mailbox that does not exist.
    let mut mailbox = BounceMailbox::from_url(&server.url()).unwrap();
    mailbox.mailbox = "Nowhere".into();
    let error = mailbox.take_bounces(10).await.unwrap_err();
    assert!(error.contains("SELECT failed"), "{error}");
}
