//! Secrets stay out of rules files: [`looks_like_secret`] finds values that
//! look like one (the check refuses them), and a rule names a secret instead
//! (`secret: slack-acme`), which [`SecretResolver`] reads at run time from
//! `rules.secrets` (the settings, e.g. `CEH__RULES__SECRETS__SLACK_ACME`) or
//! the mounted Secret directory `rules.secrets_dir`, as a [`SecretString`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::schema::SecretRef;
use crate::settings::{RulesSettings, SecretString};

/// What a secret-looking value seems to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `whsec_…`, a webhook signing secret.
    WebhookSigningSecret,
    /// `xoxb-…` (`xox[abpr]-`), a Slack token.
    SlackToken,
    /// `https://user:pass@…`.
    UrlCredentials,
    /// A Microsoft Teams Workflows or incoming-webhook URL (the URL is the credential).
    TeamsWebhookUrl,
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WebhookSigningSecret => "a webhook signing secret (prefix whsec)",
            Self::SlackToken => "a Slack token (`xox?-…`)",
            Self::UrlCredentials => "a URL with a user name and password",
            Self::TeamsWebhookUrl => "a Microsoft Teams webhook URL",
        })
    }
}

/// Whether `text` looks like (or contains) a secret, and where: the kind
/// and the 0-based character offset where it starts.
pub fn looks_like_secret(text: &str) -> Option<(SecretKind, usize)> {
    let at = |byte: usize| text[..byte].chars().count();
    if let Some(i) = text.find("whsec_") {
        return Some((SecretKind::WebhookSigningSecret, at(i)));
    }
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("xox") {
        if matches!(bytes.get(i + 3), Some(b'a' | b'b' | b'p' | b'r'))
            && bytes.get(i + 4) == Some(&b'-')
        {
            return Some((SecretKind::SlackToken, at(i)));
        }
    }
    for (i, _) in text.match_indices("://") {
        let start = text[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |j| j + 1);
        let rest = &text[i + 3..];
        let authority = &rest[..rest
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(rest.len())];
        if authority
            .rfind('@')
            .is_some_and(|a| authority[..a].contains(':'))
        {
            return Some((SecretKind::UrlCredentials, at(start)));
        }
    }
    let teams = ["logic.azure.com", "webhook.office.com"];
    for host in teams {
        if let Some(i) = text.find(host) {
            let workflow =
                host != teams[0] || (text.contains("/workflows/") && text.contains("sig="));
            if workflow {
                return Some((SecretKind::TeamsWebhookUrl, at(i)));
            }
        }
    }
    None
}

/// `text` with every secret-looking word replaced by as many `*` (columns
/// stay where they were, for carets).
pub fn mask_secrets(text: &str) -> String {
    let boundary =
        |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '[' | ']' | '{' | '}');
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if looks_like_secret(word).is_some() {
            out.extend(word.chars().map(|_| '*'));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if boundary(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Checks a secret's name: 1–253 characters of `[a-z0-9._-]`, as a key of a
/// Kubernetes Secret.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let ok = (1..=253).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a secret name (lowercase letters, digits, `.`, `_`, `-`; name a secret, never its value)",
            mask_secrets(name)
        ))
    }
}

/// A secret a rule names that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Neither `rules.secrets` nor `rules.secrets_dir` has it.
    #[error(
        "secret `{0}` is not configured (rules.secrets.{1} or a file `{0}` in rules.secrets_dir)"
    )]
    Missing(String, String),
    /// The mounted file exists but cannot be read.
    #[error("cannot read secret `{name}` from {}: {source}", path.display())]
    Unreadable {
        /// The secret's name.
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Resolves the secrets rules name, through the settings' secret type.
#[derive(Debug, Clone, Default)]
pub struct SecretResolver {
    dir: Option<PathBuf>,
    values: BTreeMap<String, SecretString>,
}

impl SecretResolver {
    /// Secrets from `rules.secrets` and `rules.secrets_dir`.
    pub fn new(settings: &RulesSettings) -> Self {
        Self {
            dir: settings.secrets_dir.clone(),
            values: settings.secrets.clone(),
        }
    }

    /// The secret's value: `rules.secrets.<name>` (lower-cased, `-` and `.`
    /// read as `_`, as environment variables spell it) first, then the file
    /// `<secrets_dir>/<name>` (trailing newline trimmed).
    pub fn resolve(&self, name: &SecretRef) -> Result<SecretString, SecretError> {
        let key = settings_key(&name.0);
        if let Some(value) = self.values.get(&name.0).or_else(|| self.values.get(&key)) {
            return Ok(value.clone());
        }
        let Some(dir) = &self.dir else {
            return Err(SecretError::Missing(name.0.clone(), key));
        };
        let path = dir.join(&name.0);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SecretString::new(
                text.trim_end_matches(['\n', '\r']).to_owned(),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(SecretError::Missing(name.0.clone(), key))
            }
            Err(source) => Err(SecretError::Unreadable {
                name: name.0.clone(),
                path,
                source,
            }),
        }
    }
}

fn settings_key(name: &str) -> String {
    name.to_ascii_lowercase().replace(['-', '.'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_shapes_and_where_they_start() {
        use SecretKind::*;
        let cases = [
            ("whsec_abc", Some((WebhookSigningSecret, 0))),
            ("token xoxb-123-456", Some((SlackToken, 6))),
            ("see https://u:p@h.example/x", Some((UrlCredentials, 4))),
            ("https://u@h.example/x", None),
            ("https://h.example/a:b@c", None),
            (
                "https://prod-1.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=xyz",
                Some((TeamsWebhookUrl, 26)),
            ),
            ("https://acme.webhook.office.com/webhookb2/x", Some((TeamsWebhookUrl, 13))),
            ("xoxo-hugs", None),
            ("status:open", None),
        ];
        for (text, want) in cases {
            assert_eq!(looks_like_secret(text), want, "{text}");
        }
        assert_eq!(
            mask_secrets("url: \"https://u:p@h/x\" ok"),
            format!("url: \"{}\" ok", "*".repeat(15))
        );
    }

    #[test]
    fn resolves_from_settings_then_the_mounted_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pd-key"), "from-file\n").unwrap();
        let mut settings = RulesSettings {
            secrets_dir: Some(dir.path().to_owned()),
            ..RulesSettings::default()
        };
        settings
            .secrets
            .insert("slack_acme".into(), "from-env".into());
        let r = SecretResolver::new(&settings);
        let get = |n: &str| r.resolve(&SecretRef(n.into())).map(|s| s.expose().clone());
        assert_eq!(get("slack-acme").unwrap(), "from-env");
        assert_eq!(get("pd-key").unwrap(), "from-file");
        let missing = get("nope").unwrap_err().to_string();
        assert!(missing.contains("rules.secrets.nope"), "{missing}");
    }
}
