//! Identity and safety through the real router: sign-in, sessions, CSRF, throttling, password
//! reset, roles, visibility, token scopes, audit, GDPR and security headers — each denial tried.

use super::*;
use anchora_core::Clock;
use anchora_core::store::UserStore;

/// A browser: its cookies, kept between requests.
#[derive(Default, Clone)]
pub struct Browser {
    cookies: Vec<(String, String)>,
    /// The client address the server sees (as from a socket).
    ip: Option<std::net::SocketAddr>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn get_cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !text.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
    }

    async fn request(
        &mut self,
        h: &H,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Page {
        let mut req = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
        if let Some(ip) = self.ip {
            req.extensions_mut().insert(axum::extract::ConnectInfo(ip));
        }
        let res = h.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        self.absorb(&headers);
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        Page {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, h: &H, path: &str) -> Page {
        self.request(h, Method::GET, path, &[], None).await
    }

    pub async fn form(&mut self, h: &H, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.request(
            h,
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(body),
        )
        .await
    }

    /// A JSON API call with the session cookie (and, when given, its CSRF token).
    async fn api(&mut self, h: &H, method: Method, path: &str, csrf: Option<&str>, body: Option<Json>) -> Reply {
        let mut headers = vec![];
        if let Some(c) = csrf {
            headers.push(("x-csrf-token", c));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let page = self
            .request(h, method, path, &headers, body.map(|b| b.to_string()))
            .await;
        Reply {
            status: page.status,
            body: serde_json::from_str(&page.text).unwrap_or(Json::String(page.text.clone())),
            headers: page.headers,
        }
    }

    /// A browser signed in as `email`, a user made by [`user`] (with [`PASSWORD`]).
    pub async fn signed_in(h: &H, email: &str) -> Self {
        let mut browser = Self::default();
        browser.login(h, email, PASSWORD).await;
        browser
    }

    /// Open the login page and sign in; returns the final response.
    pub async fn login(&mut self, h: &H, email: &str, password: &str) -> Page {
        let page = self.get(h, "/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = hidden(&page.text, "csrf");
        self.form(
            h,
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    pub async fn csrf(&mut self, h: &H) -> String {
        let me = self.api(h, Method::GET, "/api/v1/me", None, None).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        me.body["csrf_token"].as_str().unwrap().to_string()
    }
}

/// The value of a hidden form field.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A user with a password, made through the API by the admin; returns their id.
pub async fn user(h: &H, email: &str, role: &str, team: Option<&str>) -> String {
    let mut body =
        json!({"email": email, "name": email.split('@').next().unwrap(), "role": role, "password": PASSWORD});
    if let Some(t) = team {
        body["team"] = json!(t);
    }
    let r = h.post("/api/v1/users", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.get("password_hash").is_none());
    r.body["id"].as_str().unwrap().to_string()
}

pub async fn team(h: &H, name: &str) -> String {
    let r = h.post("/api/v1/teams", json!({"name": name})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// A token for an existing user, through the store (as `anchora token create` does).
pub async fn token_of(h: &H, email: &str, scope: Scope) -> String {
    let store = h.instance.main();
    let u = store.user_by_email(email).await.unwrap().unwrap();
    let crm = anchora_core::service::Crm::new(store, h.clock.clone());
    let (_, secret) = crm
        .issue_token(u.id, "test", scope, None, None, &Default::default())
        .await
        .unwrap();
    secret
}

pub async fn as_token(h: &H, token: &str, method: Method, path: &str, body: Option<Json>) -> Reply {
    h.send(method, path, Some(token), &[], body.map(|b| b.to_string().into_bytes()))
        .await
}

pub async fn login_sessions_and_csrf(h: H) {
    user(&h, "anna@example.se", "user", None).await;
    let mut b = Browser::default();
    // The login page sets only the form cookie; signing in without it is refused.
    let page = b.get(&h, "/login").await;
    assert!(page.text.contains("name=\"password\""));
    let mut stranger = Browser::default();
    let r = stranger
        .form(
            &h,
            "/login",
            &[("email", "anna@example.se"), ("password", PASSWORD), ("csrf", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(stranger.get_cookie("anchora_session").is_none());
    // A wrong password: the same message whether or not the account exists.
    let wrong = b.login(&h, "anna@example.se", "not the password").await;
    let unknown = b.login(&h, "nobody@example.se", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("The e-mail or password is wrong."));
    assert!(unknown.text.contains("The e-mail or password is wrong."));
    // Signing in sets an HttpOnly, SameSite=Lax session cookie and goes home.
    let ok = b.login(&h, "Anna@Example.se", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    let set = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("anchora_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http: no Secure flag");
    let first_session = b.get_cookie("anchora_session").unwrap();
    let home = b.get(&h, "/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers["location"], "/home");
    let list = b.get(&h, "/o/company").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.text.contains("Companies") && list.text.contains(">anna<"),
        "{}",
        list.text
    );
    // The session authenticates the API; writes need the CSRF token in a header.
    let csrf = b.csrf(&h).await;
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/records/person",
            None,
            Some(json!({"last_name": "Lind"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], "csrf_failed");
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/records/person",
            Some("wrong"),
            Some(json!({"last_name": "Lind"})),
        )
        .await;
    assert_eq!(r.body["code"], "csrf_failed");
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/records/person",
            Some(&csrf),
            Some(json!({"last_name": "Lind"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.body["owner"],
        b.api(&h, Method::GET, "/api/v1/me", None, None).await.body["id"]
    );
    // Signing in again rotates the session: the old id is dead.
    let again = b.login(&h, "anna@example.se", PASSWORD).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let second_session = b.get_cookie("anchora_session").unwrap();
    assert_ne!(first_session, second_session);
    let mut old = Browser {
        cookies: vec![("anchora_session".into(), first_session)],
        ip: None,
    };
    assert_eq!(
        old.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Changing the password in the browser: the current one is checked, other sessions end.
    let mut elsewhere = Browser::default();
    elsewhere.login(&h, "anna@example.se", PASSWORD).await;
    let page = b.get(&h, "/account/password").await;
    assert_eq!(page.status, StatusCode::OK);
    let form_csrf = hidden(&page.text, "csrf");
    let r = b
        .form(
            &h,
            "/account/password",
            &[
                ("csrf", &form_csrf),
                ("current_password", "wrong"),
                ("new_password", "a new long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("The current password is not right."));
    let r = b
        .form(
            &h,
            "/account/password",
            &[
                ("csrf", "forged"),
                ("current_password", PASSWORD),
                ("new_password", "a new long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .form(
            &h,
            "/account/password",
            &[
                ("csrf", &form_csrf),
                ("current_password", PASSWORD),
                ("new_password", "a new long passphrase"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Your password was changed."));
    assert_eq!(
        elsewhere.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::OK,
        "this session stays"
    );
    // Logging out needs the session's CSRF token, and ends the session.
    let csrf = b.csrf(&h).await;
    let r = b.form(&h, "/logout", &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.form(&h, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(b.get_cookie("anchora_session").is_none());
    let mut replay = Browser {
        cookies: vec![("anchora_session".into(), second_session)],
        ip: None,
    };
    assert_eq!(
        replay.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        replay.get(&h, "/").await.status,
        StatusCode::SEE_OTHER,
        "home sends strangers to /login"
    );
    // Only hashes of session ids are stored.
    if let Some(path) = h.url.strip_prefix("sqlite://") {
        h.instance.main().close().await;
        let bytes = std::fs::read(path).unwrap();
        let wal = std::fs::read(format!("{path}-wal")).unwrap_or_default();
        let needle = csrf.as_bytes();
        let secret = replay.get_cookie("anchora_session").unwrap();
        for hay in [&bytes, &wal] {
            assert!(!hay.windows(secret.len()).any(|w| w == secret.as_bytes()));
            let _ = needle;
        }
    }
}

pub async fn sessions_expire_idle_and_absolute(h: H) {
    user(&h, "idle@example.se", "user", None).await;
    let mut b = Browser::default();
    assert_eq!(
        b.login(&h, "idle@example.se", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    h.clock.advance(chrono::Duration::minutes(119));
    assert_eq!(
        b.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::OK
    );
    h.clock.advance(chrono::Duration::minutes(121));
    let r = b.api(&h, Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "idle for two hours");
    assert!(r.body["detail"].as_str().unwrap().contains("ended"));
    // Busy all day: the session still ends twelve hours after sign-in.
    let mut busy = Browser::default();
    assert_eq!(
        busy.login(&h, "idle@example.se", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    for _ in 0..11 {
        h.clock.advance(chrono::Duration::minutes(60));
        assert_eq!(
            busy.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
            StatusCode::OK
        );
    }
    h.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(
        busy.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

pub async fn failed_logins_are_throttled_and_recorded(h: H) {
    user(&h, "target@example.se", "user", None).await;
    let mut b = Browser::default();
    for _ in 0..5 {
        assert_eq!(
            b.login(&h, "target@example.se", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked: even the right password waits.
    let locked = b.login(&h, "target@example.se", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(locked.text.contains("Too many failed attempts"));
    assert!(b.get_cookie("anchora_session").is_none());
    // Another account is not locked by these failures.
    user(&h, "bystander@example.se", "user", None).await;
    assert_eq!(
        Browser::default()
            .login(&h, "bystander@example.se", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // After the wait one more try is allowed; another failure doubles the wait.
    h.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(
        b.login(&h, "target@example.se", "guess").await.status,
        StatusCode::UNAUTHORIZED
    );
    let locked = b.login(&h, "target@example.se", PASSWORD).await;
    let wait: i64 = locked.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((31..=60).contains(&wait), "{wait}");
    h.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        b.login(&h, "target@example.se", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // Every failure is in the audit log, with its reason; the password never is.
    let r = h
        .get("/api/v1/audit?kind=login_failed&subject=target%40example.se")
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 6, "{}", r.body);
    assert_eq!(r.body["data"][0]["detail"]["reason"], "wrong password");
    let r = h.get("/api/v1/audit?kind=login_throttled").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    // A password typed into the e-mail field is never logged.
    Browser::default().login(&h, "my secret passphrase", "x").await;
    let all = h.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(!all.contains("guess") && !all.contains(PASSWORD) && !all.contains("passphrase"));
    assert!(all.contains("(not an e-mail address)"));
    // One address trying many accounts is slowed down too, and only that address.
    let mut scanner = Browser {
        ip: Some("203.0.113.7:50000".parse().unwrap()),
        ..Default::default()
    };
    for i in 0..20 {
        let r = scanner.login(&h, &format!("victim{i}@example.se"), "guess").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = scanner.login(&h, "bystander@example.se", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let mut neighbour = Browser {
        ip: Some("198.51.100.2:40000".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(
        neighbour.login(&h, "bystander@example.se", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let r = h.get("/api/v1/audit?kind=login_failed&limit=1").await;
    assert_eq!(r.body["data"][0]["ip"], "203.0.113.7");
}

/// The mail written so far, once there are at least `count` messages (they are sent in the
/// background).
async fn read_mail(h: &H, count: usize) -> Vec<String> {
    let messages = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(h.mail.path())
            .map(|d| {
                d.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default()
    };
    for _ in 0..200 {
        if messages().len() >= count {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let mut files = messages();
    files.sort();
    // Undo quoted-printable's soft line breaks, so links read whole.
    files
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .replace("=\r\n", "")
                .replace("=\n", "")
        })
        .collect()
}

pub async fn password_reset_by_emailed_link(h: H) {
    user(&h, "forgot@example.se", "user", None).await;
    let patch = h
        .patch(
            &format!(
                "/api/v1/users/{}",
                h.instance
                    .main()
                    .user_by_email("forgot@example.se")
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            ),
            None,
            json!({"locale": "sv"}),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.body);
    let mut b = Browser::default();
    let page = b.get(&h, "/password-reset").await;
    let csrf = hidden(&page.text, "csrf");
    // Unknown and known addresses get the same answer; only the known one gets mail.
    let unknown = b
        .form(&h, "/password-reset", &[("email", "ghost@example.se"), ("csrf", &csrf)])
        .await;
    let known = b
        .form(
            &h,
            "/password-reset",
            &[("email", "forgot@example.se"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.text, known.text);
    let mail = read_mail(&h, 1).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: forgot@example.se"), "{}", mail[0]);
    assert!(
        mail[0].contains(" ditt ") && mail[0].contains("timme"),
        "in the user's language: {}",
        mail[0]
    );
    let link_start = mail[0].find("http://localhost/password-reset/main/").unwrap();
    let link: String = mail[0][link_start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/:-.".contains(*c))
        .collect();
    let path = link.trim_start_matches("http://localhost").to_string();
    let form = b.get(&h, &path).await;
    assert_eq!(form.status, StatusCode::OK, "{path}");
    assert_eq!(form.headers["cache-control"], "no-store");
    let csrf = hidden(&form.text, "csrf");
    let weak = b.form(&h, &path, &[("password", "short"), ("csrf", &csrf)]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = b
        .form(&h, &path, &[("password", "a brand new passphrase"), ("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // The link works once.
    let reused = b
        .form(&h, &path, &[("password", "yet another passphrase"), ("csrf", &csrf)])
        .await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND);
    assert_eq!(
        Browser::default().login(&h, "forgot@example.se", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Browser::default()
            .login(&h, "forgot@example.se", "a brand new passphrase")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // An expired link is refused.
    let mut b2 = Browser::default();
    let page = b2.get(&h, "/password-reset").await;
    let csrf = hidden(&page.text, "csrf");
    b2.form(
        &h,
        "/password-reset",
        &[("email", "forgot@example.se"), ("csrf", &csrf)],
    )
    .await;
    let mail = read_mail(&h, 2).await;
    let last = mail.last().unwrap();
    let start = last.find("/password-reset/main/").unwrap();
    let path: String = last[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-".contains(*c))
        .collect();
    h.clock.advance(chrono::Duration::minutes(61));
    let form = b2.get(&h, &path).await;
    let csrf = hidden(&form.text, "csrf");
    let late = b2
        .form(&h, &path, &[("password", "too late passphrase"), ("csrf", &csrf)])
        .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
}

pub async fn roles_and_no_privilege_escalation(h: H) {
    let me = user(&h, "plain@example.se", "user", None).await;
    let token = token_of(&h, "plain@example.se", Scope::Admin).await;
    // A user makes themself admin: refused, and nothing changes.
    let r = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/users/{me}"),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/users/{me}"),
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/users/{me}"),
        Some(json!({"password_hash": "x"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are named: {}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["field"], "password_hash");
    let r = as_token(&h, &token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(r.body["role"], "user");
    // Their own name and language they may change.
    let r = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/users/{me}"),
        Some(json!({"name": "Plain", "locale": "da"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Nobody else's account, and no new accounts.
    let admin_id = h.get("/api/v1/me").await.body["id"].as_str().unwrap().to_string();
    let r = as_token(
        &h,
        &token,
        Method::PATCH,
        &format!("/api/v1/users/{admin_id}"),
        Some(json!({"name": "Pwned"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(
        &h,
        &token,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "sock@example.se", "name": "Sock", "role": "admin"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (method, path, body) in [
        (Method::GET, "/api/v1/audit", None),
        (Method::GET, "/api/v1/changes", None),
        (Method::PUT, "/api/v1/access-policy", Some(json!({}))),
        (Method::POST, "/api/v1/teams", Some(json!({"name": "Mine"}))),
        (
            Method::POST,
            "/api/v1/objects",
            Some(json!({"name": "thing", "label": "Thing"})),
        ),
        (Method::GET, "/api/v1/tokens?all=true", None),
    ] {
        let r = as_token(&h, &token, method.clone(), path, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {}", r.body);
        assert_eq!(r.body["code"], "forbidden");
    }
    // Read-only users read and nothing else.
    user(&h, "viewer@example.se", "read_only", None).await;
    let viewer = token_of(&h, "viewer@example.se", Scope::Admin).await;
    assert_eq!(
        as_token(&h, &viewer, Method::GET, "/api/v1/records/person", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = as_token(
        &h,
        &viewer,
        Method::POST,
        "/api/v1/records/person",
        Some(json!({"last_name": "X"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"].as_str().unwrap().contains("read_only"));
    // The last active administrator cannot be demoted or deactivated.
    let r = h
        .patch(&format!("/api/v1/users/{admin_id}"), None, json!({"role": "user"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // A role change is audited with before and after.
    let r = h
        .patch(&format!("/api/v1/users/{me}"), None, json!({"role": "key_user"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let audit = h.get(&format!("/api/v1/audit?kind=user_changed&subject={me}")).await;
    assert_eq!(
        audit.body["data"][0]["detail"]["role"],
        json!({"from": "user", "to": "key_user"})
    );
}

pub async fn key_user_schema_rights_are_set_by_admins(h: H) {
    user(&h, "key@example.se", "key_user", None).await;
    let key = token_of(&h, "key@example.se", Scope::Admin).await;
    let field =
        json!({"name": "segment", "label": "Segment", "type": "select", "choices": [{"value": "a", "label": "A"}]});
    let r = as_token(&h, &key, Method::POST, "/api/v1/objects/company/fields", Some(field)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let picklist = json!({"choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]});
    let r = as_token(
        &h,
        &key,
        Method::PATCH,
        "/api/v1/objects/company/fields/segment",
        Some(picklist.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Structure stays with administrators.
    let r = as_token(
        &h,
        &key,
        Method::PATCH,
        "/api/v1/objects/company/fields/segment",
        Some(json!({"label": "Seg"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(
        &h,
        &key,
        Method::POST,
        "/api/v1/objects",
        Some(json!({"name": "thing", "label": "Thing"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = as_token(&h, &key, Method::DELETE, "/api/v1/objects/company/fields/segment", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An administrator withdraws the right to add fields.
    let r = h
        .send(
            Method::PUT,
            "/api/v1/access-policy",
            Some(&h.admin.clone()),
            &[],
            Some(
                json!({"key_users": {"add_fields": false, "edit_picklists": true, "shared_views": true}})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let field = json!({"name": "tier", "label": "Tier", "type": "text"});
    let r = as_token(&h, &key, Method::POST, "/api/v1/objects/company/fields", Some(field)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["detail"].as_str().unwrap().contains("add fields"));
    let r = as_token(
        &h,
        &key,
        Method::PATCH,
        "/api/v1/objects/company/fields/segment",
        Some(picklist),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // A policy naming an unknown object or a misspelt key is refused whole.
    let r = h
        .send(
            Method::PUT,
            "/api/v1/access-policy",
            Some(&h.admin.clone()),
            &[],
            Some(
                json!({"visibility": {"ghost": {"user": "own"}}})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = h
        .send(
            Method::PUT,
            "/api/v1/access-policy",
            Some(&h.admin.clone()),
            &[],
            Some(json!({"visibilty": {}}).to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let audit = h.get("/api/v1/audit?kind=access_policy_changed").await;
    assert_eq!(audit.body["data"].as_array().unwrap().len(), 1);
}

pub async fn record_visibility_by_team_and_owner(h: H) {
    let north = team(&h, "North").await;
    let south = team(&h, "South").await;
    user(&h, "nina@example.se", "user", Some(&north)).await;
    user(&h, "nils@example.se", "user", Some(&north)).await;
    user(&h, "sara@example.se", "user", Some(&south)).await;
    let nina = token_of(&h, "nina@example.se", Scope::Admin).await;
    let nils = token_of(&h, "nils@example.se", Scope::Admin).await;
    let sara = token_of(&h, "sara@example.se", Scope::Admin).await;
    let put_policy = |v: Json| {
        let admin = h.admin.clone();
        let h = &h;
        async move {
            let r = h
                .send(
                    Method::PUT,
                    "/api/v1/access-policy",
                    Some(&admin),
                    &[],
                    Some(v.to_string().into_bytes()),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    put_policy(json!({"visibility": {"person": {"user": "team"}}})).await;
    let created = as_token(
        &h,
        &nina,
        Method::POST,
        "/api/v1/records/person",
        Some(json!({"last_name": "Zetterlund", "first_name": "Monica"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_string();
    let southern = as_token(
        &h,
        &sara,
        Method::POST,
        "/api/v1/records/person",
        Some(json!({"last_name": "Zetterlund", "first_name": "Sven"})),
    )
    .await;
    let sid = southern.body["id"].as_str().unwrap().to_string();
    // The other team: every way in answers as if the record did not exist.
    let ghost = anchora_core::RecordId::new_at(h.clock.now()).to_string();
    for path in [
        format!("/api/v1/records/person/{id}"),
        format!("/api/v1/records/person/{id}/history"),
    ] {
        let hidden = as_token(&h, &sara, Method::GET, &path, None).await;
        let missing = as_token(&h, &sara, Method::GET, &path.replace(&id, &ghost), None).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(hidden.status, missing.status);
        assert_eq!(hidden.body["code"], missing.body["code"]);
        assert_eq!(
            hidden.body["detail"].as_str().unwrap().replace(&id, "ID"),
            missing.body["detail"].as_str().unwrap().replace(&ghost, "ID")
        );
    }
    let r = h
        .send(
            Method::PATCH,
            &format!("/api/v1/records/person/{id}"),
            Some(&sara),
            &[("if-match", "1")],
            Some(json!({"title": "CEO"}).to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h
        .send(
            Method::DELETE,
            &format!("/api/v1/records/person/{id}"),
            Some(&sara),
            &[("if-match", "1")],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = as_token(&h, &sara, Method::GET, "/api/v1/records/person?limit=500", None).await;
    let ids: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sid.as_str()]);
    let found = as_token(&h, &sara, Method::GET, "/api/v1/search?q=zetterlund", None).await;
    let hits: Vec<&str> = found.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(hits, [sid.as_str()], "{}", found.body);
    // A teammate sees it, and may change it; companies stay visible to all.
    let r = as_token(&h, &nils, Method::GET, &format!("/api/v1/records/person/{id}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let found = as_token(&h, &nils, Method::GET, "/api/v1/search?q=zetterlund", None).await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1);
    let company = as_token(
        &h,
        &sara,
        Method::POST,
        "/api/v1/records/company",
        Some(json!({"name": "Södra AB"})),
    )
    .await;
    let r = as_token(
        &h,
        &nina,
        Method::GET,
        &format!("/api/v1/records/company/{}", company.body["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // Own: the teammate no longer sees it; the owner and administrators do.
    put_policy(json!({"visibility": {"person": {"user": "own"}}})).await;
    assert_eq!(
        as_token(&h, &nils, Method::GET, &format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_token(&h, &nina, Method::GET, &format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{id}")).await.status,
        StatusCode::OK
    );
    let all = h.get("/api/v1/records/person?limit=500").await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    // Handing the record to the other team moves it out of sight.
    let r = h
        .patch(
            &format!("/api/v1/records/person/{id}"),
            Some("1"),
            json!({"owner": h.instance.main().user_by_email("sara@example.se").await.unwrap().unwrap().id.to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        as_token(&h, &nina, Method::GET, &format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_token(&h, &sara, Method::GET, &format!("/api/v1/records/person/{id}"), None)
            .await
            .status,
        StatusCode::OK
    );
}

pub async fn token_scopes_expiry_and_revocation(h: H) {
    user(&h, "dev@example.se", "key_user", None).await;
    let mut b = Browser::default();
    assert_eq!(
        b.login(&h, "dev@example.se", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = b.csrf(&h).await;
    // A session mints tokens; the secret is shown once.
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/tokens",
            Some(&csrf),
            Some(json!({"name": "reporting", "scope": "read", "expires_in_days": 7})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let read = r.body["token"].as_str().unwrap().to_string();
    let read_id = r.body["id"].as_str().unwrap().to_string();
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/tokens",
            Some(&csrf),
            Some(json!({"name": "bad", "scope": "root"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["field"], "scope");
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/tokens",
            Some(&csrf),
            Some(json!({"name": "bad", "scope": "read", "expires_in_days": 99999})),
        )
        .await;
    assert_eq!(r.body["errors"][0]["field"], "expires_in_days");
    // Read scope: reads, never writes, never mints.
    assert_eq!(
        as_token(&h, &read, Method::GET, "/api/v1/records/person", None)
            .await
            .status,
        StatusCode::OK
    );
    for (method, path, body) in [
        (Method::POST, "/api/v1/records/person", Some(json!({"last_name": "X"}))),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "more", "scope": "admin"})),
        ),
        (
            Method::POST,
            "/api/v1/objects/person/fields",
            Some(json!({"name": "x1", "label": "X", "type": "text"})),
        ),
    ] {
        let r = as_token(&h, &read, method, path, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    // Listing shows last use, never a secret or hash.
    let list = b.api(&h, Method::GET, "/api/v1/tokens", None, None).await;
    let listed = &list.body["data"][0];
    assert_eq!(listed["id"], read_id.as_str());
    assert!(listed["last_used_at"].is_string());
    assert!(listed.get("token").is_none() && listed.get("token_hash").is_none());
    assert!(!list.body.to_string().contains(&read));
    // Someone else cannot revoke it (and learns nothing); its owner can, at once.
    user(&h, "other@example.se", "user", None).await;
    let other = token_of(&h, "other@example.se", Scope::Admin).await;
    let r = as_token(&h, &other, Method::DELETE, &format!("/api/v1/tokens/{read_id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = as_token(&h, &read, Method::DELETE, &format!("/api/v1/tokens/{read_id}"), None).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a read-scoped token changes nothing, not even tokens"
    );
    let r = b
        .api(
            &h,
            Method::DELETE,
            &format!("/api/v1/tokens/{read_id}"),
            Some(&csrf),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["revoked_at"].is_string());
    let r = as_token(&h, &read, Method::GET, "/api/v1/records/person", None).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a revoked token fails on its next request"
    );
    // Expiry.
    let r = b
        .api(
            &h,
            Method::POST,
            "/api/v1/tokens",
            Some(&csrf),
            Some(json!({"name": "short", "scope": "write", "expires_in_days": 1})),
        )
        .await;
    let short = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        as_token(&h, &short, Method::GET, "/api/v1/me", None).await.status,
        StatusCode::OK
    );
    h.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        as_token(&h, &short, Method::GET, "/api/v1/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Password changes happen in a browser session, not with a token.
    let r = as_token(
        &h,
        &other,
        Method::POST,
        "/api/v1/me/password",
        Some(json!({"current_password": PASSWORD, "new_password": "a different passphrase"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let audit = h.get("/api/v1/audit?kind=token_created,token_revoked").await;
    let kinds: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"token_revoked") && kinds.iter().filter(|k| **k == "token_created").count() >= 2,
        "{kinds:?}"
    );
}

pub async fn audit_and_change_logs_are_admin_only_and_filterable(h: H) {
    let p = h.post("/api/v1/records/person", json!({"last_name": "Ek"})).await;
    let id = p.body["id"].as_str().unwrap().to_string();
    h.patch(
        &format!("/api/v1/records/person/{id}"),
        Some("1"),
        json!({"title": "CFO"}),
    )
    .await;
    h.post("/api/v1/records/company", json!({"name": "Ek AB"})).await;
    let r = h.get("/api/v1/changes?object=person").await;
    assert_eq!(r.status, StatusCode::OK);
    let ops: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["update", "create"], "newest first: {}", r.body);
    assert_eq!(r.body["data"][0]["field"], "title");
    assert_eq!(r.body["data"][0]["record_id"], id.as_str());
    let r = h.get("/api/v1/changes?limit=1").await;
    let before = r.body["next_before"].as_i64().unwrap();
    let r = h.get(&format!("/api/v1/changes?before={before}&limit=500")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    for bad in [
        "/api/v1/changes?object=ghost",
        "/api/v1/audit?kind=nope",
        "/api/v1/audit?since=yesterday",
        "/api/v1/changes?before=-1",
    ] {
        let r = h.get(bad).await;
        assert!(r.status.is_client_error(), "{bad}");
    }
    let future = (h.clock.now() + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = h.get(&format!("/api/v1/changes?since={}", enc(&future))).await;
    assert!(r.body["data"].as_array().unwrap().is_empty());
    user(&h, "ks@example.se", "key_user", None).await;
    let ks = token_of(&h, "ks@example.se", Scope::Admin).await;
    assert_eq!(
        as_token(&h, &ks, Method::GET, "/api/v1/changes", None).await.status,
        StatusCode::FORBIDDEN
    );
    let r = h.get("/api/v1/audit?kind=user_created,token_created").await;
    assert!(r.body["data"].as_array().unwrap().len() >= 2);
}

pub async fn gdpr_export_and_erasure(h: H) {
    let c = h
        .post("/api/v1/records/company", json!({"name": "Fjällräven AB"}))
        .await;
    let cid = c.body["id"].as_str().unwrap().to_string();
    let p = h
        .post(
            "/api/v1/records/person",
            json!({"first_name": "Greta", "last_name": "Garbo", "email": "greta@example.se", "company": cid,
                   "email_consent": "granted", "email_consent_at": "2026-11-01T10:00:00Z", "email_consent_source": "webinar form"}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let pid = p.body["id"].as_str().unwrap().to_string();
    h.patch(
        &format!("/api/v1/records/person/{pid}"),
        Some("1"),
        json!({"title": "Actress", "phone": "+46 8 123 45 67"}),
    )
    .await;
    let linked = h
        .post(
            "/api/v1/records/activity",
            json!({"type": "call", "subject": "Call with Greta about contract", "body": "Greta's private number is 070-1234567",
                   "links": [{"object": "person", "id": pid}, {"object": "company", "id": cid}]}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.body);
    let named = h
        .post(
            "/api/v1/records/activity",
            json!({"type": "note", "subject": "Greta prefers mornings", "person": pid}),
        )
        .await;
    let other = h
        .post(
            "/api/v1/records/activity",
            json!({"type": "note", "subject": "Unrelated note"}),
        )
        .await;
    // Export: everything about her, in one document.
    let export = h.get(&format!("/api/v1/gdpr/person/{pid}")).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body["person"]["email"], "greta@example.se");
    assert_eq!(export.body["person"]["email_consent"], "granted");
    assert_eq!(export.body["person"]["email_consent_source"], "webinar form");
    assert!(export.body["history"].as_array().unwrap().len() >= 2);
    let acts: Vec<&str> = export.body["related"]["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(acts.len(), 2);
    assert!(!acts.contains(&other.body["id"].as_str().unwrap()));
    // Only those who may export, and only people who exist.
    user(&h, "u@example.se", "user", None).await;
    let u = token_of(&h, "u@example.se", Scope::Admin).await;
    assert_eq!(
        as_token(&h, &u, Method::GET, &format!("/api/v1/gdpr/person/{pid}"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_token(&h, &u, Method::POST, &format!("/api/v1/gdpr/person/{pid}/erase"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.get("/api/v1/gdpr/person/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
    // Erase.
    let receipt = h.post(&format!("/api/v1/gdpr/person/{pid}/erase"), json!({})).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert_eq!(receipt.body["id"], pid.as_str());
    assert!(receipt.body["receipt"].is_string());
    assert!(
        receipt.body["change_log_entries_scrubbed"].as_u64().unwrap() >= 3,
        "{}",
        receipt.body
    );
    assert_eq!(receipt.body["links_removed"], 1);
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&format!("/api/v1/gdpr/person/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Nothing of her is left in the change log, the activities or the search index.
    let changes = h.get("/api/v1/changes?limit=500").await.body.to_string();
    for secret in [
        "Garbo",
        "greta@example.se",
        "Actress",
        "123 45 67",
        "070-1234567",
        "private number",
        "webinar",
    ] {
        assert!(!changes.contains(secret), "{secret} is still in the change log");
    }
    let a = h
        .get(&format!(
            "/api/v1/records/activity/{}",
            linked.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(a.body["subject"], "[erased]");
    assert!(a.body["body"].is_null());
    assert_eq!(
        a.body["links"].as_array().unwrap().len(),
        1,
        "the company link stays: {}",
        a.body
    );
    let n = h
        .get(&format!(
            "/api/v1/records/activity/{}",
            named.body["id"].as_str().unwrap()
        ))
        .await;
    assert!(n.body["person"].is_null());
    assert_eq!(
        h.get(&format!(
            "/api/v1/records/activity/{}",
            other.body["id"].as_str().unwrap()
        ))
        .await
        .body["subject"],
        "Unrelated note"
    );
    for q in ["garbo", "greta", "contract"] {
        let r = h.get(&format!("/api/v1/search?q={q}")).await;
        assert!(r.body["data"].as_array().unwrap().is_empty(), "{q}: {}", r.body);
    }
    // The company and the receipt remain; the audit log keeps no personal data.
    assert_eq!(
        h.get(&format!("/api/v1/records/company/{cid}")).await.status,
        StatusCode::OK
    );
    let audit = h.get("/api/v1/audit?kind=person_erased,personal_data_exported").await;
    assert_eq!(audit.body["data"].as_array().unwrap().len(), 2);
    assert!(!audit.body.to_string().contains("Garbo"));
}

pub async fn security_headers_on_pages_and_api(h: H) {
    let mut b = Browser::default();
    for path in ["/login", "/api/v1/objects", "/password-reset"] {
        let p = b.get(&h, path).await;
        let csp = p.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(p.headers["x-content-type-options"], "nosniff");
        assert_eq!(p.headers["x-frame-options"], "DENY");
        assert_eq!(p.headers["referrer-policy"], "no-referrer");
    }
    let login = b.get(&h, "/login").await;
    assert!(
        !login.text.contains("<script") && !login.text.contains("style="),
        "no inline script or style"
    );
    assert_eq!(login.headers["cache-control"], "no-store");
    let css = b.get(&h, "/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    // Languages: from Accept-Language, or chosen and remembered.
    let sv = b
        .request(
            &h,
            Method::GET,
            "/login",
            &[("accept-language", "sv-SE,sv;q=0.9")],
            None,
        )
        .await;
    assert!(
        sv.text.contains("Logga in") && sv.text.contains("lang=\"sv\""),
        "{}",
        sv.text
    );
    let de = b.get(&h, "/login?lang=de").await;
    assert!(de.text.contains("Anmelden"));
    assert!(
        b.get(&h, "/login").await.text.contains("Passwort"),
        "the choice is remembered"
    );
}

pub async fn two_sessions_editing_one_record(h: H) {
    user(&h, "first@example.se", "user", None).await;
    user(&h, "second@example.se", "user", None).await;
    let p = h
        .post(
            "/api/v1/records/person",
            json!({"last_name": "Delad", "title": "Buyer"}),
        )
        .await;
    let id = p.body["id"].as_str().unwrap().to_string();
    let (mut one, mut two) = (Browser::default(), Browser::default());
    one.login(&h, "first@example.se", PASSWORD).await;
    two.login(&h, "second@example.se", PASSWORD).await;
    let (c1, c2) = (one.csrf(&h).await, two.csrf(&h).await);
    let path = format!("/api/v1/records/person/{id}");
    let v1 = one.api(&h, Method::GET, &path, None, None).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let v2 = two.api(&h, Method::GET, &path, None, None).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(v1, v2);
    let patch = |b: &mut Browser, csrf: String, etag: String, body: Json| {
        let h = &h;
        let path = path.clone();
        let mut b = b.clone();
        async move {
            let page = b
                .request(
                    h,
                    Method::PATCH,
                    &path,
                    &[
                        ("x-csrf-token", &csrf),
                        ("if-match", &etag),
                        ("content-type", "application/json"),
                    ],
                    Some(body.to_string()),
                )
                .await;
            (page.status, serde_json::from_str::<Json>(&page.text).unwrap())
        }
    };
    let (s1, _) = patch(&mut one, c1, v1, json!({"title": "Head of purchasing"})).await;
    assert_eq!(s1, StatusCode::OK);
    let (s2, body) = patch(&mut two, c2, v2, json!({"title": "Procurement lead"})).await;
    assert_eq!(s2, StatusCode::PRECONDITION_FAILED);
    assert_eq!(body["code"], "version_conflict");
    assert_eq!(
        body["current"]["title"], "Head of purchasing",
        "the second sees the first's change"
    );
    assert_eq!(body["current"]["version"], 2);
    assert_eq!(
        h.get(&path).await.body["title"],
        "Head of purchasing",
        "nothing was overwritten"
    );
}

pub async fn deactivated_users_keep_their_records_but_cannot_sign_in(h: H) {
    let id = user(&h, "leaver@example.se", "user", None).await;
    let token = token_of(&h, "leaver@example.se", Scope::Admin).await;
    let mut b = Browser::default();
    b.login(&h, "leaver@example.se", PASSWORD).await;
    let p = as_token(
        &h,
        &token,
        Method::POST,
        "/api/v1/records/person",
        Some(json!({"last_name": "Kvar"})),
    )
    .await;
    let pid = p.body["id"].as_str().unwrap().to_string();
    let r = h
        .patch(&format!("/api/v1/users/{id}"), None, json!({"active": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        as_token(&h, &token, Method::GET, "/api/v1/me", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.api(&h, Method::GET, "/api/v1/me", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Browser::default().login(&h, "leaver@example.se", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = h.get(&format!("/api/v1/records/person/{pid}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["owner"], id.as_str());
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{pid}/history")).await.body["data"][0]["actor"],
        id.as_str()
    );
    let failed = h
        .get("/api/v1/audit?kind=login_failed&subject=leaver%40example.se")
        .await;
    assert_eq!(failed.body["data"][0]["detail"]["reason"], "deactivated account");
}

pub async fn audit_pages_for_admins_only(h: H) {
    user(&h, "boss@example.se", "admin", None).await;
    user(&h, "staff@example.se", "user", None).await;
    Browser::default().login(&h, "staff@example.se", "wrong guess").await;
    h.post("/api/v1/records/person", json!({"last_name": "Sjöberg"})).await;
    let mut anon = Browser::default();
    let r = anon.get(&h, "/admin/audit").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut staff = Browser::default();
    staff.login(&h, "staff@example.se", PASSWORD).await;
    let r = staff.get(&h, "/admin/audit").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("Not allowed"));
    assert_eq!(staff.get(&h, "/admin/changes").await.status, StatusCode::FORBIDDEN);
    let mut boss = Browser::default();
    boss.login(&h, "boss@example.se", PASSWORD).await;
    let r = boss.get(&h, "/admin/audit").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Audit log") && r.text.contains("Signed in") && r.text.contains("Sign-in failed"));
    let r = boss.get(&h, "/admin/audit?kind=login_failed").await;
    assert!(
        r.text.contains("<td>Sign-in failed</td>") && !r.text.contains("<td>Signed in</td>"),
        "{}",
        r.text
    );
    assert!(r.text.contains("staff@example.se"));
    let r = boss.get(&h, "/admin/audit?kind=login_failed&since=2099-01-01").await;
    assert!(r.text.contains("Nothing matches the filter."));
    // Hostile filter values are just values.
    let r = boss
        .get(
            &h,
            "/admin/audit?kind=%27%3B%20DROP%20TABLE%20audit_log&since=not-a-date&before=abc",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = boss.get(&h, "/admin/changes?object=person").await;
    assert!(
        r.text.contains("Data changes") && r.text.contains("Created") && r.text.contains("Sjöberg"),
        "{}",
        r.text
    );
    let r = boss.get(&h, "/admin/changes?lang=sv").await;
    assert!(r.text.contains("lang=\"sv\""));
    assert!(!r.text.contains("Data changes"), "translated");
}

pub async fn app_pages_refuse_strangers_forgeries_and_roles(h: H) {
    user(&h, "reader@example.se", "read_only", None).await;
    let p = h.post("/api/v1/records/person", json!({"last_name": "Skyddad"})).await;
    let id = p.body["id"].as_str().unwrap().to_string();
    // Not signed in: every app page and form sends to the login.
    let mut stranger = Browser::default();
    for path in [
        "/o/person",
        &format!("/o/person/{id}"),
        "/o/deal/board",
        "/admin/objects",
        "/account/tokens",
    ] {
        let r = stranger.get(&h, path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers["location"], "/login");
    }
    let r = stranger.form(&h, "/o/person/new", &[("last_name", "X")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Signed in, but a form without the session's CSRF token is refused and changes nothing.
    let mut reader = Browser::default();
    reader.login(&h, "reader@example.se", PASSWORD).await;
    for (path, fields) in [
        ("/o/person/new".to_string(), vec![("last_name", "Forged")]),
        (
            format!("/o/person/{id}/edit"),
            vec![("last_name", "Forged"), ("version", "1")],
        ),
        (format!("/o/person/{id}/delete"), vec![("version", "1")]),
        (
            format!("/o/person/{id}/field"),
            vec![("field", "last_name"), ("value", "Forged"), ("version", "1")],
        ),
        ("/o/person/bulk".to_string(), vec![("action", "delete"), ("ids", "x:1")]),
        ("/account/tokens".to_string(), vec![("name", "x"), ("scope", "admin")]),
    ] {
        let r = reader.form(&h, &path, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{id}")).await.body["last_name"],
        "Skyddad"
    );
    // The pages do not offer what the role cannot do.
    let list = reader.get(&h, "/o/person").await.text;
    assert!(!list.contains("/o/person/new") && !list.contains("id=\"bulk\""));
    let page = reader.get(&h, &format!("/o/person/{id}")).await.text;
    assert!(!page.contains("/edit\"") && !page.contains("/delete\"") && !page.contains("class=\"quick\""));
    // With the token, a read-only user still may not write, and admin pages are closed.
    let csrf = reader.csrf(&h).await;
    let r = reader
        .form(&h, "/o/person/new", &[("csrf", &csrf), ("last_name", "Nope")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = reader
        .form(
            &h,
            &format!("/o/person/{id}/field"),
            &[
                ("csrf", &csrf),
                ("field", "last_name"),
                ("value", "Nope"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for path in ["/admin/objects", "/admin/users", "/admin/audit"] {
        assert_eq!(reader.get(&h, path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = reader
        .form(
            &h,
            "/admin/objects/person/fields",
            &[("csrf", &csrf), ("name", "x1"), ("label", "X"), ("type", "text")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get(&format!("/api/v1/records/person/{id}")).await.body["last_name"],
        "Skyddad"
    );
    // Unknown objects and records: the same page as a hidden one.
    assert_eq!(reader.get(&h, "/o/ghost").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reader.get(&h, "/o/person/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
}
