//! The project's user directory: teams, users and their preferences.

use serde::{Deserialize, Serialize};

/// Teams and users that routes, pages and rules name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Directory {
    /// Teams.
    pub teams: Vec<Team>,
    /// Users.
    pub users: Vec<User>,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Team id (what rules name).
    pub id: String,
    /// The handle (`payments`), as in the case's `teams` attribute.
    #[serde(default)]
    pub handle: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User id (what rules name).
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Team ids.
    #[serde(default)]
    pub teams: Vec<String>,
    /// How they like to be told.
    #[serde(default)]
    pub preferences: Preferences,
}

/// A user's notification preferences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preferences {
    /// Channels for personal notifications (assign, mention, watch).
    pub channels: Vec<PreferredChannel>,
    /// No notifications for cases they only watch.
    pub mute_watching: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            channels: vec![PreferredChannel::Email],
            mute_watching: false,
        }
    }
}

/// A personal notification channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreferredChannel {
    /// Email.
    Email,
    /// Slack direct message.
    Slack,
    /// Microsoft Teams chat.
    MsTeams,
}
