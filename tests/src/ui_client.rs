//! A browser-like HTTP client for a node's web UI (no redirects followed, cookies kept by
//! hand, the login flow with a one-time password), shared by the UI tests and the UI
//! rendering benchmark.

use confer_node::ui::{serve, UiConfig, UiServer};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

use crate::TestNode;

/// Serves `node`'s web UI over plain HTTP on a free loopback port.
pub async fn ui_for(node: &TestNode) -> UiServer {
    let config = UiConfig {
        addr: "127.0.0.1:0".parse().expect("address"),
        tls: None,
    };
    serve(&config, node.handle.clone(), node.dir.clone())
        .await
        .expect("the UI listens")
}

/// A browser-like client: no redirects followed, cookies kept by hand.
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
    pub cookies: Vec<(String, String)>,
}

/// A response as a test looks at it.
pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
}

impl Http {
    pub fn new(server: &UiServer) -> Http {
        Http {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
            base: format!("http://{}", server.addr),
            cookies: Vec::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn answer(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().unwrap_or("");
            if let Some((pair, _)) = text.split_once(';') {
                if let Some((k, v)) = pair.split_once('=') {
                    self.cookies.retain(|(name, _)| name != k);
                    if !v.is_empty() {
                        self.cookies.push((k.to_owned(), v.to_owned()));
                    }
                }
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.unwrap_or_default();
        Answer {
            status,
            location,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.answer(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .expect("POST");
        self.answer(response).await
    }

    /// Logs in (changing a one-time password to `new` first if asked).
    pub async fn login(&mut self, name: &str, password: &str, new: &str) {
        let page = self.get("/login").await;
        let token = csrf_of(&page.body);
        let answer = self
            .post(
                "/login",
                &[("_csrf", &token), ("name", name), ("password", password)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        if answer.location == "/password" {
            let page = self.get("/password").await;
            let token = csrf_of(&page.body);
            let done = self
                .post(
                    "/password",
                    &[
                        ("_csrf", &token),
                        ("current", password),
                        ("new", new),
                        ("repeat", new),
                    ],
                )
                .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        }
    }
}

/// Percent-encodes a form value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The first form's CSRF token in a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .unwrap_or_else(|| panic!("a CSRF field in {}", &html[..html.len().min(500)]));
    html[at + 20..at + 84].to_owned()
}
