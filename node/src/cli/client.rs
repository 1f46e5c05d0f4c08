//! The CLI's client for the local API: finds the running node through `DIR/api.json`.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{ApiFile, ErrorBody};
use crate::i18n::{self, Lang};

#[derive(Debug)]
pub enum ClientError {
    NoDataDir,
    NotRunning,
    BadApiFile(String),
    Unreachable(String),
    Unauthorized,
    Node(crate::handle::NodeError),
    Other(String),
}

impl ClientError {
    /// One line saying what went wrong and what to do.
    pub fn explain(&self, lang: Lang, data: &Path) -> String {
        let dir = data.display();
        match (self, lang) {
            (ClientError::NoDataDir, Lang::En) => format!("data directory {dir} does not exist; create it with `confer init --data {dir} --name <body name>`"),
            (ClientError::NoDataDir, Lang::Zh) => format!("数据目录 {dir} 不存在；请先运行 `confer init --data {dir} --name <机构名称>`"),
            (ClientError::NotRunning, Lang::En) => format!("the node for {dir} is not running; start it with `confer run --data {dir}`"),
            (ClientError::NotRunning, Lang::Zh) => format!("{dir} 的节点未运行；请用 `confer run --data {dir}` 启动"),
            (ClientError::Unreachable(e), Lang::En) => format!("cannot reach the node for {dir} ({e}); is `confer run --data {dir}` still running?"),
            (ClientError::Unreachable(e), Lang::Zh) => format!("无法连接 {dir} 的节点（{e}）；`confer run --data {dir}` 是否仍在运行？"),
            (ClientError::BadApiFile(e), _) => format!("{dir}/api.json: {e}"),
            (ClientError::Unauthorized, Lang::En) => format!("the node refused the API token in {dir}/api.json; restart the node"),
            (ClientError::Unauthorized, Lang::Zh) => format!("节点拒绝了 {dir}/api.json 中的访问令牌；请重启节点"),
            (ClientError::Node(e), _) => i18n::node_error(lang, e),
            (ClientError::Other(e), _) => e.clone(),
        }
    }
}

pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn from_data_dir(data: &Path) -> Result<Client, ClientError> {
        if !data.is_dir() {
            return Err(ClientError::NoDataDir);
        }
        let path = data.join("api.json");
        let bytes = std::fs::read(&path).map_err(|_| ClientError::NotRunning)?;
        let file: ApiFile =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::BadApiFile(e.to_string()))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| ClientError::Other(e.to_string()))?;
        Ok(Client {
            base: format!("http://{}", file.addr),
            token: file.token,
            http,
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        expect_body: bool,
    ) -> Result<Option<T>, ClientError> {
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
