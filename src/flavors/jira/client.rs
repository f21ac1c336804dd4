//! Jira Cloud REST v3 over [`crate::http::Dependency`]: the calls the sync
//! makes, typed. Statuses become [`HttpError`]s there; here a 2xx whose body
//! is not the expected JSON becomes [`JiraError::Decode`] (transient).

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::config::Auth;
use crate::flavors::kit::intent::ExtRef;
use crate::http::{Dependency, DependencySpec, HttpError};

/// Jira Cloud's REST API v3 (one client per configured site).
pub static JIRA: DependencySpec = DependencySpec::new("jira", "Jira Cloud REST API v3");

/// A failed Jira call.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Transport failure or a non-success status.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A success whose body is not what the API documents.
    #[error("jira: unexpected response to {op}: {reason}")]
    Decode {
        /// The operation.
        op: &'static str,
        /// Why the body did not parse.
        reason: String,
    },
}

impl JiraError {
    /// The HTTP status, when Jira answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            JiraError::Http(e) => e.status(),
            JiraError::Decode { .. } => None,
        }
    }

    /// Whether Jira certainly did not act on the request (it answered with a
    /// status that is neither 5xx nor 408): a create can then be sent again.
    pub fn definitely_not_applied(&self) -> bool {
        self.status()
            .is_some_and(|s| !s.is_server_error() && s != StatusCode::REQUEST_TIMEOUT)
    }
}

/// One available transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub id: String,
    pub name: String,
    /// Target status name.
    pub to_name: String,
    /// Target status category key (`new`, `indeterminate`, `done`).
    pub category: String,
}

/// A comment as listed, with the cell id of our `caseSync` property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRef {
    pub id: String,
    pub cell_id: Option<String>,
}

/// The client of one Jira site.
#[derive(Debug, Clone)]
pub struct JiraClient {
    dep: Dependency,
    base: String,
    auth: Auth,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    key: String,
}

#[derive(Deserialize)]
struct StatusRef {
    name: String,
    #[serde(rename = "statusCategory")]
    category: Category,
}

#[derive(Deserialize)]
struct Category {
    key: String,
}

impl JiraClient {
    /// A client for `site_url` with these credentials over `dep` (a
    /// client of [`JIRA`]).
    pub fn new(dep: Dependency, site_url: &str, auth: Auth) -> Self {
        Self {
            dep,
            base: site_url.trim_end_matches('/').to_string(),
            auth,
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let rb = self
            .dep
            .client()
            .request(method, format!("{}/rest/api/3{path}", self.base))
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.auth {
            Auth::Basic { email, api_token } => rb.basic_auth(email, Some(api_token.expose())),
            Auth::Bearer { token } => rb.bearer_auth(token.expose()),
        }
    }

    async fn call(
        &self,
        rb: RequestBuilder,
        tp: Option<&str>,
    ) -> Result<reqwest::Response, JiraError> {
        Ok(self.dep.send(rb, tp).await?)
    }

    async fn json<T: DeserializeOwned>(
        &self,
        op: &'static str,
        rb: RequestBuilder,
        tp: Option<&str>,
    ) -> Result<T, JiraError> {
        let response = self.call(rb, tp).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|source| HttpError::Transport {
                dependency: "jira",
                source,
            })?;
        serde_json::from_slice(&bytes).map_err(|e| JiraError::Decode {
            op,
            reason: e.to_string(),
        })
    }

    /// `POST /issue` → the new issue.
    pub async fn create_issue(&self, body: &Value, tp: Option<&str>) -> Result<ExtRef, JiraError> {
        let rb = self.request(Method::POST, "/issue").json(body);
        let c: Created = self.json("create issue", rb, tp).await?;
        let url = format!("{}/browse/{}", self.base, c.key);
        Ok(ExtRef {
            id: c.id,
            key: Some(c.key),
            url: Some(url),
        })
    }

    /// `PUT /issue/{id}` with `fields` and/or `update`.
    pub async fn edit_issue(
        &self,
        id: &str,
        body: &Value,
        tp: Option<&str>,
    ) -> Result<(), JiraError> {
        let rb = self
            .request(Method::PUT, &format!("/issue/{id}"))
            .json(body);
        self.call(rb, tp).await.map(drop)
    }

    /// `PUT /issue/{id}/assignee`.
    pub async fn assign(
        &self,
        id: &str,
        account_id: &str,
        tp: Option<&str>,
    ) -> Result<(), JiraError> {
        let rb = self
            .request(Method::PUT, &format!("/issue/{id}/assignee"))
            .json(&json!({ "accountId": account_id }));
        self.call(rb, tp).await.map(drop)
    }

    /// `GET /issue/{id}/transitions`: the transitions available now.
    pub async fn transitions(
        &self,
        id: &str,
        tp: Option<&str>,
    ) -> Result<Vec<Transition>, JiraError> {
        #[derive(Deserialize)]
        struct List {
            transitions: Vec<Raw>,
        }
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            #[serde(default)]
            name: String,
            to: StatusRef,
        }
        let rb = self.request(Method::GET, &format!("/issue/{id}/transitions"));
        let list: List = self.json("get transitions", rb, tp).await?;
        Ok(list
            .transitions
            .into_iter()
            .map(|t| Transition {
                id: t.id,
                name: t.name,
                to_name: t.to.name,
                category: t.to.category.key,
            })
            .collect())
    }

    /// `POST /issue/{id}/transitions`.
    pub async fn do_transition(
        &self,
        id: &str,
        transition_id: &str,
        tp: Option<&str>,
    ) -> Result<(), JiraError> {
        let rb = self
            .request(Method::POST, &format!("/issue/{id}/transitions"))
            .json(&json!({ "transition": { "id": transition_id } }));
        self.call(rb, tp).await.map(drop)
    }

    /// `GET /issue/{id}?fields=status`: current status name and category.
    pub async fn status(&self, id: &str, tp: Option<&str>) -> Result<(String, String), JiraError> {
        #[derive(Deserialize)]
        struct Issue {
            fields: Fields,
        }
        #[derive(Deserialize)]
        struct Fields {
            status: StatusRef,
        }
        let rb = self
            .request(Method::GET, &format!("/issue/{id}"))
            .query(&[("fields", "status")]);
        let issue: Issue = self.json("get issue", rb, tp).await?;
        Ok((issue.fields.status.name, issue.fields.status.category.key))
    }

    /// `POST /issue/{id}/comment` → the comment id.
    pub async fn add_comment(
        &self,
        id: &str,
        body: &Value,
        tp: Option<&str>,
    ) -> Result<String, JiraError> {
        #[derive(Deserialize)]
        struct Comment {
            id: String,
        }
        let rb = self
            .request(Method::POST, &format!("/issue/{id}/comment"))
            .json(body);
        let c: Comment = self.json("add comment", rb, tp).await?;
        Ok(c.id)
    }

    /// The newest 100 comments of an issue with our `caseSync` cell id, in
    /// two documented calls: `GET /issue/{id}/comment` for the ids (its
    /// `expand` takes only `renderedBody`), then `POST /comment/list?expand=
    /// properties` for their properties.
    pub async fn comments(&self, id: &str, tp: Option<&str>) -> Result<Vec<CommentRef>, JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            comments: Vec<Listed>,
        }
        #[derive(Deserialize)]
        struct Listed {
            id: String,
        }
        #[derive(Deserialize)]
        struct Detailed {
            #[serde(default)]
            values: Vec<Raw>,
        }
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            #[serde(default)]
            properties: Vec<Property>,
        }
        #[derive(Deserialize)]
        struct Property {
            key: String,
            #[serde(default)]
            value: Value,
        }
        let rb = self
            .request(Method::GET, &format!("/issue/{id}/comment"))
            .query(&[("orderBy", "-created"), ("maxResults", "100")]);
        let page: Page = self.json("list comments", rb, tp).await?;
        let ids: Vec<i64> = page
            .comments
            .iter()
            .filter_map(|c| c.id.parse().ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rb = self
            .request(Method::POST, "/comment/list")
            .query(&[("expand", "properties")])
            .json(&serde_json::json!({ "ids": ids }));
        let detailed: Detailed = self.json("comment properties", rb, tp).await?;
        Ok(detailed
            .values
            .into_iter()
            .map(|c| CommentRef {
                cell_id: c
                    .properties
                    .iter()
                    .find(|p| p.key == super::plan::COMMENT_PROPERTY)
                    .and_then(|p| p.value.get("cellId"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                id: c.id,
            })
            .collect())
    }

    /// `POST /search/jql`: the issues of `project_key` carrying exactly `label`.
    /// Eventually consistent: a just-created issue may be missing.
    pub async fn search_label(
        &self,
        project_key: &str,
        label: &str,
        tp: Option<&str>,
    ) -> Result<Vec<ExtRef>, JiraError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            issues: Vec<Raw>,
        }
        #[derive(Deserialize)]
        struct Raw {
            id: String,
            key: String,
            #[serde(default)]
            fields: Labels,
        }
        #[derive(Deserialize, Default)]
        struct Labels {
            #[serde(default)]
            labels: Vec<String>,
        }
        let jql = format!(
            "project = \"{}\" AND labels = \"{}\" ORDER BY created ASC",
            quote(project_key),
            quote(label)
        );
        let body = json!({"jql": jql, "fields": ["labels"], "maxResults": 10});
        let rb = self.request(Method::POST, "/search/jql").json(&body);
        let page: Page = self.json("search issues", rb, tp).await?;
        Ok(page
            .issues
            .into_iter()
            // `labels =` matches exactly, but re-check rather than trust it.
            .filter(|i| i.fields.labels.iter().any(|l| l == label))
            .map(|i| ExtRef {
                url: Some(format!("{}/browse/{}", self.base, i.key)),
                id: i.id,
                key: Some(i.key),
            })
            .collect())
    }
}

/// Escapes a JQL string literal's content.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_below_500_prove_nothing_was_created() {
        let status = |s: u16| {
            JiraError::Http(HttpError::Status {
                dependency: "jira",
                status: StatusCode::from_u16(s).unwrap(),
                retry_after: None,
                body: String::new(),
            })
        };
        assert!(status(400).definitely_not_applied());
        assert!(status(429).definitely_not_applied());
        assert!(!status(503).definitely_not_applied());
        assert!(!status(408).definitely_not_applied());
        let decode = JiraError::Decode {
            op: "create issue",
            reason: "eof".into(),
        };
        assert!(!decode.definitely_not_applied());
        assert_eq!(quote(r#"a"b\"#), r#"a\"b\\"#);
    }
}
