//! The CLI's client for the local API: finds the running node through `DIR/api.json`.
//!
//! `api.json` may be stale: a node killed with SIGKILL leaves it behind, and another
//! program may hold that port by now. So before the first request that carries the bearer
//! token, the client asks `GET /v1/prove` with a random nonce (fresh for each process) and
//! checks the answer in constant time against [`crate::api::proof`] of the token it holds.
//! Only if it matches is the token ever sent; the check is made once per `Client`, one
//! extra round trip per CLI command.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use rand::RngExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::api::{ApiFile, ErrorBody, Proof};
use crate::i18n::{self, Lang};

/// Longest the node may take to answer the proof request. It never waits for the event
/// loop, so a live node answers at once; a program that accepts and stays silent does not
/// hang the CLI.
const PROVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest proof answer read: `{"proof": "<64 hex>"}` is under 100 bytes.
const PROVE_MAX_BYTES: usize = 1024;

#[derive(Debug)]
pub enum ClientError {
    NoDataDir,
    /// The directory exists but `confer init` never ran there.
    NotInitialised,
    NotRunning,
    BadApiFile(String),
    Unreachable(String),
    Unauthorized,
    /// The program at `api.json`'s address could not prove it knows the token, which was
    /// therefore not sent. `answered_401`: it refused the proof request as unauthorised,
    /// as a node started by a confer older than `/v1/prove` would.
    NotTheNode {
        addr: SocketAddr,
        answered_401: bool,
    },
    Node(crate::handle::NodeError),
    Other(String),
}

impl ClientError {
    /// One line saying what went wrong and what to do.
    pub fn explain(&self, lang: Lang, data: &Path) -> String {
        let dir = data.display();
        match (self, lang) {
            (ClientError::NoDataDir, _) => super::data_dir::missing(lang, data),
            (ClientError::NotInitialised, _) => super::data_dir::not_initialised(lang, data),
            (ClientError::NotRunning, Lang::En) => format!("the node for {dir} is not running; start it with `confer run --data {dir}`"),
            (ClientError::NotRunning, Lang::Zh) => format!("{dir} 的节点未运行；请用 `confer run --data {dir}` 启动"),
            (ClientError::Unreachable(e), Lang::En) => format!("cannot reach the node for {dir} ({e}); is `confer run --data {dir}` still running?"),
            (ClientError::Unreachable(e), Lang::Zh) => format!("无法连接 {dir} 的节点（{e}）；`confer run --data {dir}` 是否仍在运行？"),
            (ClientError::BadApiFile(e), _) => format!("{dir}/api.json: {e}"),
            (ClientError::Unauthorized, Lang::En) => format!("the node refused the API token in {dir}/api.json; restart the node"),
            (ClientError::Unauthorized, Lang::Zh) => format!("节点拒绝了 {dir}/api.json 中的访问令牌；请重启节点"),
            (ClientError::NotTheNode { addr, answered_401: false }, Lang::En) => format!("something else answers on {addr}: the node for {dir} is not running (stale api.json); start it with `confer run --data {dir}` (the API token was not sent)"),
            (ClientError::NotTheNode { addr, answered_401: false }, Lang::Zh) => format!("{addr} 上应答的是别的程序：{dir} 的节点未运行（api.json 已过期）；请用 `confer run --data {dir}` 启动（访问令牌未发送）"),
            (ClientError::NotTheNode { addr, answered_401: true }, Lang::En) => format!("the program on {addr} cannot prove it is the node for {dir}: another program, or a node started by an older confer; stop it and start the node with `confer run --data {dir}` (the API token was not sent)"),
            (ClientError::NotTheNode { addr, answered_401: true }, Lang::Zh) => format!("{addr} 上的程序无法证明自己是 {dir} 的节点：可能是别的程序，或由旧版 confer 启动的节点；请停止它，再用 `confer run --data {dir}` 启动节点（访问令牌未发送）"),
            (ClientError::Node(e), _) => i18n::node_error(lang, e),
            (ClientError::Other(e), _) => e.clone(),
        }
    }
}

pub struct Client {
    /// The address from `api.json`, as shown in messages.
    addr: SocketAddr,
    base: String,
    token: String,
    http: reqwest::Client,
    /// This process's challenge for `GET /v1/prove`.
    nonce: [u8; 32],
    /// Set once the program at `addr` proved it knows `token`.
    proven: OnceCell<()>,
}

impl Client {
    pub fn from_data_dir(data: &Path) -> Result<Client, ClientError> {
        if !data.is_dir() {
            return Err(ClientError::NoDataDir);
        }
        if !crate::identity::initialised(data) {
            return Err(ClientError::NotInitialised);
        }
        let path = data.join("api.json");
        let bytes = std::fs::read(&path).map_err(|_| ClientError::NotRunning)?;
        let file: ApiFile =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::BadApiFile(e.to_string()))?;
        Client::new(file.addr, file.token)
    }

    fn new(addr: SocketAddr, token: String) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Other(e.to_string()))?;
        // A node listening on every interface (--api-insecure 0.0.0.0:PORT) is reached
        // through loopback.
        let target = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
            }
            _ => addr,
        };
        Ok(Client {
            addr,
            base: format!("http://{target}"),
            token,
            http,
            nonce: rand::rng().random(),
            proven: OnceCell::new(),
        })
    }

    /// Makes sure, once, that the program at `addr` knows the token before it is sent.
    async fn ensure_proven(&self) -> Result<(), ClientError> {
        self.proven.get_or_try_init(|| self.prove()).await?;
        Ok(())
    }

    /// Asks `GET /v1/prove` (no token) and checks the answer.
    async fn prove(&self) -> Result<(), ClientError> {
        let not_the_node = |answered_401| ClientError::NotTheNode {
            addr: self.addr,
            answered_401,
        };
        let url = format!("{}/v1/prove?nonce={}", self.base, hex::encode(self.nonce));
        let mut response = self
            .http
            .get(url)
            .timeout(PROVE_TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    ClientError::Unreachable("connection refused".into())
                } else if e.is_timeout() {
                    ClientError::Unreachable(format!("no answer within {PROVE_TIMEOUT:?}"))
                } else {
                    // It accepted the connection but did not answer as HTTP.
                    not_the_node(false)
                }
            })?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(not_the_node(status == reqwest::StatusCode::UNAUTHORIZED));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= PROVE_MAX_BYTES => {
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Err(ClientError::Unreachable(format!(
                        "no answer within {PROVE_TIMEOUT:?}"
                    )))
                }
                Ok(Some(_)) | Err(_) => return Err(not_the_node(false)),
            }
        }
        let answer: Proof = serde_json::from_slice(&body).map_err(|_| not_the_node(false))?;
        let given =
            blake3::Hash::from_hex(answer.proof.as_bytes()).map_err(|_| not_the_node(false))?;
        // `blake3::Hash` equality is constant-time.
        if given == crate::api::proof(&self.token, &self.nonce) {
            Ok(())
        } else {
            Err(not_the_node(false))
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        expect_body: bool,
    ) -> Result<Option<T>, ClientError> {
        self.ensure_proven().await?;
        let response = request.bearer_auth(&self.token).send().await.map_err(|e| {
            if e.is_connect() {
                ClientError::Unreachable("connection refused".into())
            } else {
                ClientError::Unreachable(e.to_string())
            }
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        if !status.is_success() {
            let body: ErrorBody = response
                .json()
                .await
                .map_err(|e| ClientError::Other(format!("HTTP {status}: {e}")))?;
            return Err(ClientError::Node(body.error));
        }
        if !expect_body {
            return Ok(None);
        }
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| ClientError::Other(e.to_string()))
    }

    /// Sends `request` and answers the body's bytes (for archives and sync files).
    async fn bytes(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, ClientError> {
        self.ensure_proven().await?;
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(e.to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized);
        }
        if !status.is_success() {
            let body: ErrorBody = response
                .json()
                .await
                .map_err(|e| ClientError::Other(format!("HTTP {status}: {e}")))?;
            return Err(ClientError::Node(body.error));
        }
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| ClientError::Unreachable(e.to_string()))
    }

    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        self.bytes(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// POSTs `body` as JSON and answers the response's bytes.
    pub async fn post_for_bytes<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Vec<u8>, ClientError> {
        self.bytes(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// POSTs raw bytes and answers the JSON the node sends back.
    pub async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        let value = self.send(request, true).await?;
        value.ok_or_else(|| ClientError::Other("empty response".into()))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let value = self
            .send(self.http.get(format!("{}{path}", self.base)), true)
            .await?;
        value.ok_or_else(|| ClientError::Other("empty response".into()))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let value = self
            .send(
                self.http.post(format!("{}{path}", self.base)).json(body),
                true,
            )
            .await?;
        value.ok_or_else(|| ClientError::Other("empty response".into()))
    }

    pub async fn post_empty<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        self.send::<serde_json::Value>(
            self.http.post(format!("{}{path}", self.base)).json(body),
            false,
        )
        .await
        .map(|_| ())
    }

    pub async fn patch<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        self.send::<serde_json::Value>(
            self.http.patch(format!("{}{path}", self.base)).json(body),
            false,
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::extract::Query;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use axum::{Json, Router};

    use super::*;
    use crate::api::ProveQuery;

    /// What a fake server saw.
    #[derive(Default)]
    struct Seen {
        proofs_asked: AtomicUsize,
        authorization: Mutex<Vec<String>>,
    }

    /// A server on loopback that answers `/v1/prove` as a holder of `knows` would (or with
    /// `prove_status` when not 200), and records the `Authorization` header of every other
    /// request.
    async fn fake(knows: &str, prove_status: StatusCode) -> (SocketAddr, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let knows = knows.to_owned();
        let seen_prove = seen.clone();
        let seen_rest = seen.clone();
        let app = Router::new()
            .route(
                "/v1/prove",
                get(move |Query(q): Query<ProveQuery>| async move {
                    seen_prove.proofs_asked.fetch_add(1, Ordering::SeqCst);
                    let mut nonce = [0u8; 32];
                    hex::decode_to_slice(&q.nonce, &mut nonce).expect("client sends 64 hex");
                    let proof = crate::api::proof(&knows, &nonce).to_hex().to_string();
                    (prove_status, Json(Proof { proof }))
                }),
            )
            .fallback(move |headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen_rest
                    .authorization
                    .lock()
                    .expect("not poisoned")
                    .push(auth);
                Json(serde_json::json!({}))
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (addr, seen)
    }

    fn sent_tokens(seen: &Seen) -> Vec<String> {
        seen.authorization.lock().expect("not poisoned").clone()
    }

    #[tokio::test]
    async fn the_token_goes_only_to_a_server_that_proves_it_knows_it_asked_once() {
        let token = "ab".repeat(32);
        let (addr, seen) = fake(&token, StatusCode::OK).await;
        let client = Client::new(addr, token.clone()).expect("client");
        for _ in 0..3 {
            let _: serde_json::Value = client.get("/v1/status").await.expect("status");
        }
        assert_eq!(
            seen.proofs_asked.load(Ordering::SeqCst),
            1,
            "one proof per client"
        );
        assert_eq!(sent_tokens(&seen), vec![format!("Bearer {token}"); 3]);
    }

    #[tokio::test]
    async fn a_server_that_cannot_prove_never_sees_the_token() {
        let token = "ab".repeat(32);
        for (knows, status, answered_401) in [
            ("cd".repeat(32), StatusCode::OK, false),
            (String::new(), StatusCode::OK, false),
            (token.clone(), StatusCode::NOT_FOUND, false),
            (token.clone(), StatusCode::UNAUTHORIZED, true),
        ] {
            let (addr, seen) = fake(&knows, status).await;
            let client = Client::new(addr, token.clone()).expect("client");
            let result: Result<serde_json::Value, _> = client.get("/v1/status").await;
            match result {
                Err(ClientError::NotTheNode {
                    addr: said,
                    answered_401: got,
                }) => {
                    assert_eq!(said, addr);
                    assert_eq!(got, answered_401, "{status}");
                }
                other => panic!("{status}: expected NotTheNode, got {other:?}"),
            }
            let result = client.post_empty("/v1/peers", &serde_json::json!({})).await;
            assert!(matches!(result, Err(ClientError::NotTheNode { .. })));
            assert!(sent_tokens(&seen).is_empty(), "no request with the token");
        }
    }

    #[tokio::test]
    async fn the_real_router_proves_only_its_own_token() {
        let token = "34".repeat(32);
        let addr = crate::api::tests::serve_router(&token).await;
        let client = Client::new(addr, token).expect("client");
        client
            .ensure_proven()
            .await
            .expect("the node proves its token");
        let stale = Client::new(addr, "56".repeat(32)).expect("client");
        assert!(matches!(
            stale.ensure_proven().await,
            Err(ClientError::NotTheNode {
                answered_401: false,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable_and_unspecified_means_loopback() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let client =
            Client::new(SocketAddr::from(([127, 0, 0, 1], port)), "t".into()).expect("client");
        assert!(matches!(
            client.ensure_proven().await,
            Err(ClientError::Unreachable(_))
        ));

        let token = "78".repeat(32);
        let (addr, _) = fake(&token, StatusCode::OK).await;
        let anywhere = SocketAddr::from(([0, 0, 0, 0], addr.port()));
        let client = Client::new(anywhere, token).expect("client");
        assert_eq!(client.base, format!("http://127.0.0.1:{}", addr.port()));
        client
            .ensure_proven()
            .await
            .expect("0.0.0.0 reached through 127.0.0.1");
        let v6 = Client::new("[::]:4647".parse().expect("addr"), "t".into()).expect("client");
        assert_eq!(v6.base, "http://[::1]:4647");
    }

    #[test]
    fn explanations_are_one_line_and_name_the_address() {
        let data = Path::new("/srv/confer");
        for answered_401 in [false, true] {
            let error = ClientError::NotTheNode {
                addr: SocketAddr::from(([127, 0, 0, 1], 4647)),
                answered_401,
            };
            for lang in [Lang::En, Lang::Zh] {
                let text = error.explain(lang, data);
                assert!(text.contains("127.0.0.1:4647"), "{text}");
                assert!(text.contains("confer run --data /srv/confer"), "{text}");
                assert!(!text.contains('\n'), "{text}");
            }
        }
    }
}
