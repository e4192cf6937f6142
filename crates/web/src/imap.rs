//! A mailbox Anchora reads over IMAP (the bounce mailbox, the support mailbox): each run takes
//! the unseen messages, reads each with the caller's reader, marks them all `\Seen` and deletes
//! those the reader took, so that each is read once and the others stay for a person. Plain TCP
//! (`imap://`, for tests and a server on the same host) or implicit TLS (`imaps://`, rustls with
//! the Mozilla roots of webpki-roots); no STARTTLS.

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// How long the connection (and the TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one run may take in all.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// A mailbox on an IMAP server, named by a URL. Its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// `INBOX` unless the URL names another.
    pub mailbox: String,
    /// Implicit TLS (`imaps://`, port 993 by default).
    pub tls: bool,
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"***")
            .field("mailbox", &self.mailbox)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Mailbox {
    /// `imap://user:password@host:port/mailbox` or `imaps://…`. User, password and mailbox are
    /// percent-decoded (write `@` as `%40`, `:` as `%3A`, `/` as `%2F`); the port defaults to 143
    /// or 993, the mailbox to `INBOX`. Errors never repeat the URL (it holds the password).
    pub fn from_url(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let scheme_end = url
            .find("://")
            .ok_or("the mailbox URL must start with imap:// or imaps://")?;
        let tls = match url.get(..scheme_end).map(str::to_ascii_lowercase).as_deref() {
            Some("imap") => false,
            Some("imaps") => true,
            _ => return Err("the mailbox URL must start with imap:// or imaps://".into()),
        };
        let rest = url.get(scheme_end + 3..).unwrap_or_default();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if path.contains(['?', '#', ';']) {
            return Err("the mailbox URL may name a mailbox after the host, nothing more".into());
        }
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .ok_or("the mailbox URL needs a user and a password (imap://user:password@host/)")?;
        let (user, password) = userinfo
            .split_once(':')
            .ok_or("the mailbox URL needs a password after the user (user:password@)")?;
        let user = percent_decode(user).map_err(|e| format!("the mailbox URL's user {e}"))?;
        let password = percent_decode(password).map_err(|e| format!("the mailbox URL's password {e}"))?;
        if user.is_empty() || password.is_empty() {
            return Err("the mailbox URL needs a user and a password (imap://user:password@host/)".into());
        }
        let (host, port) = host_and_port(hostport)?;
        let mailbox =
            percent_decode(path.trim_end_matches('/')).map_err(|e| format!("the mailbox URL's mailbox {e}"))?;
        Ok(Self {
            host,
            port: port.unwrap_or(if tls { 993 } else { 143 }),
            user,
            password,
            mailbox: if mailbox.is_empty() { "INBOX".into() } else { mailbox },
            tls,
        })
    }

    /// Takes up to `max` unseen messages (oldest first): every one is marked `\Seen`; those
    /// `read` makes something of are returned and deleted (`\Deleted`, then expunged), the
    /// others stay. A failure after the messages were read is logged and what was read is still
    /// returned (it may then come again: reading is at least once). Errors never hold the
    /// password.
    pub async fn take<T, R>(&self, max: usize, read: R) -> Result<Vec<T>, String>
    where
        R: Fn(&[u8]) -> Option<T> + Send + Sync,
        T: Send,
    {
        let read = self.read_unseen_then(max, &read, Then::Delete).await?;
        Ok(read.into_iter().map(|(_, item)| item).collect())
    }

    /// Reads up to `max` unseen messages (oldest first) and marks every one `\Seen`, deleting
    /// none: what `read` made something of comes back with its UID, for [`Mailbox::settle`]
    /// once it has been dealt with, so that nothing is gone before it is kept elsewhere.
    pub async fn read_unseen<T, R>(&self, max: usize, read: R) -> Result<Vec<(u32, T)>, String>
    where
        R: Fn(&[u8]) -> Option<T> + Send + Sync,
        T: Send,
    {
        self.read_unseen_then(max, &read, Then::Keep).await
    }

    /// After [`Mailbox::read_unseen`]: deletes the messages dealt with (`done`) and marks those
    /// to be read again (`again`, a failure that may pass) unseen.
    pub async fn settle(&self, done: &[u32], again: &[u32]) -> Result<(), String> {
        if done.is_empty() && again.is_empty() {
            return Ok(());
        }
        let run = async {
            let mut session = self.open_selected().await?;
            let mut result = Ok(());
            if !again.is_empty() {
                result = store(&mut session, again, "-FLAGS.SILENT (\\Seen)").await;
            }
            if result.is_ok() {
                result = mark(&mut session, &[], done).await;
            }
            self.close(session).await;
            result
        };
        self.finish(tokio::time::timeout(RUN_TIMEOUT, run).await)
    }

    async fn read_unseen_then<T, R>(&self, max: usize, read: &R, then: Then) -> Result<Vec<(u32, T)>, String>
    where
        R: Fn(&[u8]) -> Option<T> + Send + Sync,
        T: Send,
    {
        if max == 0 {
            return Ok(Vec::new());
        }
        let run = async {
            let mut session = self.open_selected().await?;
            let result = self.take_in(&mut session, max, read, then).await;
            self.close(session).await;
            result
        };
        self.finish(tokio::time::timeout(RUN_TIMEOUT, run).await)
    }

    /// A run's outcome within [`RUN_TIMEOUT`], its error naming the mailbox and never the
    /// password.
    fn finish<T>(&self, run: Result<Result<T, String>, tokio::time::error::Elapsed>) -> Result<T, String> {
        let result = match run {
            Ok(result) => result,
            Err(_) => Err(format!(
                "reading the mailbox took longer than {}s",
                RUN_TIMEOUT.as_secs()
            )),
        };
        result.map_err(|e| format!("the mailbox {}: {}", self.mailbox, self.redact(&e)))
    }

    /// A session logged in with the mailbox selected (logged out again when it cannot be).
    async fn open_selected(&self) -> Result<Session<Box<dyn Stream>>, String> {
        let mut session = self.open().await?;
        match session.select(&self.mailbox).await {
            Ok(_) => Ok(session),
            Err(e) => {
                self.close(session).await;
                Err(format!("SELECT failed: {e}"))
            }
        }
    }

    async fn close(&self, mut session: Session<Box<dyn Stream>>) {
        if let Err(e) = session.logout().await {
            tracing::debug!(mailbox = %self.mailbox, error = %self.redact(&e.to_string()), "IMAP LOGOUT failed");
        }
    }

    /// The connection (TLS or not), the greeting and LOGIN.
    async fn open(&self) -> Result<Session<Box<dyn Stream>>, String> {
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| format!("connecting to {}:{} timed out", self.host, self.port))?
            .map_err(|e| format!("connecting to {}:{} failed: {e}", self.host, self.port))?;
        let stream: Box<dyn Stream> = if self.tls {
            Box::new(
                tokio::time::timeout(CONNECT_TIMEOUT, self.handshake(tcp))
                    .await
                    .map_err(|_| format!("the TLS handshake with {} timed out", self.host))??,
            )
        } else {
            Box::new(tcp)
        };
        let mut client = Client::new(stream);
        match client.read_response().await {
            Ok(Some(_)) => {}
            Ok(None) => return Err("the server closed the connection before its greeting".into()),
            Err(e) => return Err(format!("reading the server's greeting failed: {e}")),
        }
        client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| format!("logging in as {} failed: {e}", self.user))
    }

    async fn handshake(&self, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
        let roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config =
            ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let name = ServerName::try_from(self.host.clone()).map_err(|e| format!("TLS: bad server name: {e}"))?;
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("the TLS handshake with {} failed: {e}", self.host))
    }

    async fn take_in<T, R>(
        &self,
        session: &mut Session<Box<dyn Stream>>,
        max: usize,
        read: &R,
        then: Then,
    ) -> Result<Vec<(u32, T)>, String>
    where
        R: Fn(&[u8]) -> Option<T> + Send + Sync,
        T: Send,
    {
        let mut uids: Vec<u32> = session
            .uid_search("UNSEEN UNDELETED")
            .await
            .map_err(|e| format!("SEARCH failed: {e}"))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        uids.truncate(max);
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let fetches: Vec<_> = session
            .uid_fetch(uid_set(&uids), "(UID BODY.PEEK[])")
            .await
            .map_err(|e| format!("FETCH failed: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("FETCH failed: {e}"))?;
        let mut others = Vec::new();
        let mut taken = Vec::new();
        let mut out = Vec::new();
        for fetch in &fetches {
            let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                continue;
            };
            if uids.binary_search(&uid).is_err() {
                continue;
            }
            match read(body) {
                Some(item) => {
                    taken.push(uid);
                    out.push((uid, item));
                }
                None => others.push(uid),
            }
        }
        let marked = match then {
            Then::Delete => mark(session, &others, &taken).await,
            Then::Keep => mark(session, &uids, &[]).await,
        };
        if let Err(e) = marked {
            tracing::warn!(
                mailbox = %self.mailbox,
                error = %self.redact(&e),
                "the messages read could not be marked; they will be read again"
            );
        }
        Ok(out)
    }

    /// The password never leaves in a message, whatever a server or library put in one.
    fn redact(&self, text: &str) -> String {
        if self.password.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.password, "***")
        }
    }
}

/// The stream a session runs over: plain TCP or TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send> Stream for T {}

/// What becomes of the messages a reader made something of.
#[derive(Clone, Copy)]
enum Then {
    Delete,
    Keep,
}

/// `\Seen` on the others; `\Seen \Deleted` on those taken, then expunged (by UID where the
/// server has UIDPLUS, so that no other client's deleted messages go with them).
async fn mark<T>(session: &mut Session<T>, others: &[u32], taken: &[u32]) -> Result<(), String>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    if !others.is_empty() {
        store(session, others, "+FLAGS.SILENT (\\Seen)").await?;
    }
    if taken.is_empty() {
        return Ok(());
    }
    store(session, taken, "+FLAGS.SILENT (\\Seen \\Deleted)").await?;
    let uidplus = session
        .capabilities()
        .await
        .map_err(|e| format!("CAPABILITY failed: {e}"))?
        .has_str("UIDPLUS");
    let expunged: Result<Vec<_>, _> = if uidplus {
        match session.uid_expunge(uid_set(taken)).await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        }
    } else {
        match session.expunge().await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        }
    };
    expunged.map(|_| ()).map_err(|e| format!("EXPUNGE failed: {e}"))
}

async fn store<T>(session: &mut Session<T>, uids: &[u32], flags: &str) -> Result<(), String>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    let updates: Result<Vec<_>, _> = match session.uid_store(uid_set(uids), flags).await {
        Ok(stream) => stream.try_collect().await,
        Err(e) => Err(e),
    };
    updates.map(|_| ()).map_err(|e| format!("STORE failed: {e}"))
}

/// Sorted UIDs as an IMAP sequence set, runs as ranges: `1:3,7,9:10`.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&end.saturating_add(1)) {
            end += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
    }
    out
}

/// `host`, `host:port`, `[::1]`, `[::1]:port`.
fn host_and_port(text: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("the mailbox URL has a broken IPv6 host")?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(after.strip_prefix(':').ok_or("the mailbox URL has a broken port")?),
            ),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !valid_host {
        return Err("the mailbox URL needs a host".into());
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or("the mailbox URL has a bad port")?,
        ),
    };
    Ok((host.to_string(), port))
}

/// `%XX` → the byte; the result must be UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let byte = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("has a % not followed by two hex digits")?;
            out.push(byte);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once decoded".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let m = Mailbox::from_url("imap://bounces:s3cret@127.0.0.1:1143/INBOX").unwrap();
        assert_eq!(
            m,
            Mailbox {
                host: "127.0.0.1".into(),
                port: 1143,
                user: "bounces".into(),
                password: "s3cret".into(),
                mailbox: "INBOX".into(),
                tls: false,
            }
        );
        let m = Mailbox::from_url("IMAPS://bounces%40anchora.example:p%40ss%3Aw%2Fo%25rd@imap.example.org").unwrap();
        assert_eq!(
            (m.user.as_str(), m.password.as_str()),
            ("bounces@anchora.example", "p@ss:w/o%rd")
        );
        assert_eq!(
            (m.host.as_str(), m.port, m.tls, m.mailbox.as_str()),
            ("imap.example.org", 993, true, "INBOX")
        );
        let m = Mailbox::from_url("imap://u:p@[::1]/Bounces%20Box/").unwrap();
        assert_eq!(
            (m.host.as_str(), m.port, m.mailbox.as_str()),
            ("::1", 143, "Bounces Box")
        );
        let m = Mailbox::from_url("imap://u:p@[::1]:10143").unwrap();
        assert_eq!(m.port, 10143);
        let m = Mailbox::from_url("imap://u:%C3%B6l@h/").unwrap();
        assert_eq!(m.password, "öl");
    }

    #[test]
    fn bad_urls_are_refused_without_the_password() {
        for url in [
            "http://u:hunter22@h/",
            "imap://hunter22@h/",
            "imap://u:hunter22@/",
            "imap://u:hunter22@h:0/",
            "imap://u:hunter22@h:99999/",
            "imap://u:hunter22@h:x/",
            "imap://u:hunter22%zz@h/",
            "imap://u:hunter22%ff@h/",
            "imap://u:hunter22@h/INBOX?x",
            "imap://u:hunter22@h/INBOX;UIDVALIDITY=1",
            "imap://u:hunter22@[::1/",
            "imap://u:hunter22@h i/",
            "imap://:hunter22@h/",
            "imap://u:@h/",
            "hunter22",
        ] {
            let e = Mailbox::from_url(url).unwrap_err();
            assert!(!e.contains("hunter22"), "{url}: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let m = Mailbox::from_url("imap://u:hunter22@h/").unwrap();
        assert!(!format!("{m:?}").contains("hunter22"));
    }

    #[test]
    fn uid_sets() {
        assert_eq!(uid_set(&[1]), "1");
        assert_eq!(uid_set(&[3, 1, 2, 7, 9, 10, 10]), "1:3,7,9:10");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_an_error_without_the_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let m = Mailbox::from_url(&format!("imap://u:hunter22@127.0.0.1:{port}/")).unwrap();
        let e = m.take(10, |_| Some(())).await.unwrap_err();
        assert!(e.contains("connecting to 127.0.0.1"), "{e}");
        assert!(!e.contains("hunter22"));
        assert_eq!(m.take(0, |_| Some(())).await, Ok(Vec::new()));
    }
}
