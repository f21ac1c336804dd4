//! The checks of the sections that are not rules: the directory, SLA
//! policies' goals and calendars, project settings and integrations.

use std::collections::BTreeSet;

use super::{query, secret, unique};
use crate::flavors::kit::timers::{Calendar, CalendarError};
use crate::rules::problems::{Anchor, FileProblems};
use crate::rules::schema::{Jira, ProjectFile};

pub(super) fn directory(file: &ProjectFile, p: &mut FileProblems<'_>) {
    let teams: Vec<(String, &str)> = (file.directory.teams.iter().enumerate())
        .map(|(i, t)| (format!("directory.teams[{i}].id"), t.id.as_str()))
        .collect();
    unique(p, &teams, "team id");
    let users: Vec<(String, &str)> = (file.directory.users.iter().enumerate())
        .map(|(i, u)| (format!("directory.users[{i}].id"), u.id.as_str()))
        .collect();
    unique(p, &users, "user id");
    let known: BTreeSet<&str> = file.directory.teams.iter().map(|t| t.id.as_str()).collect();
    for (i, user) in file.directory.users.iter().enumerate() {
        for (j, team) in user.teams.iter().enumerate() {
            if !known.contains(team.as_str()) {
                let msg = format!("no team `{team}` in the directory");
                p.push(
                    &format!("directory.users[{i}].teams[{j}]"),
                    Anchor::Value,
                    msg,
                );
            }
        }
    }
}

pub(super) fn sla(file: &mut ProjectFile, p: &mut FileProblems<'_>) {
    for (i, policy) in file.sla_policies.iter_mut().enumerate() {
        let at = format!("sla_policies[{i}]");
        if policy.goals.is_empty() {
            p.push(
                &format!("{at}.goals"),
                Anchor::Value,
                "needs at least one goal",
            );
        }
        for (j, goal) in policy.goals.iter_mut().enumerate() {
            query(p, &format!("{at}.goals[{j}].query"), &mut goal.query);
            if goal.target_secs == 0 {
                p.push(
                    &format!("{at}.goals[{j}].target_secs"),
                    Anchor::Value,
                    "must be at least 1",
                );
            }
        }
        for (j, pct) in policy.warn_at_pct.iter().enumerate() {
            if !(1..=99).contains(pct) {
                p.push(
                    &format!("{at}.warn_at_pct[{j}]"),
                    Anchor::Value,
                    "must be between 1 and 99",
                );
            }
        }
        if let Some(cal) = &policy.calendar {
            // The timers' own calendar decides: what it refuses at run time
            // is refused here, and nothing else.
            if let Err(err) = Calendar::from_policy(Some(cal)) {
                let (key, message) = match &err {
                    CalendarError::TimeZone(_) => ("timezone".into(), err.to_string()),
                    CalendarError::Time(t) if *t == cal.start => ("start".into(), err.to_string()),
                    CalendarError::Time(_) => ("end".into(), err.to_string()),
                    CalendarError::Empty { .. } => (
                        "end".into(),
                        "the working hours are empty: `start` equals `end`".into(),
                    ),
                    CalendarError::Day(d) => {
                        let j = cal.days.iter().position(|x| x == d).unwrap_or(0);
                        (format!("days[{j}]"), err.to_string())
                    }
                    CalendarError::NeverOpen => (
                        "days".into(),
                        "at least one working day is needed (a calendar that never opens never runs out)".into(),
                    ),
                };
                p.push(&format!("{at}.calendar.{key}"), Anchor::Value, message);
            }
        }
    }
}

pub(super) fn settings_and_integrations(file: &ProjectFile, p: &mut FileProblems<'_>) {
    if let Some(close) = &file.settings.auto_close_inactive_cases {
        let days = close.max_inactive_time_in_secs / 86_400;
        let whole = close.max_inactive_time_in_secs % 86_400 == 0;
        if close.enabled && !(whole && (7..=180).contains(&days)) {
            let msg = "must be a whole number of days between 7 and 180 (604800 to 15552000)";
            p.push(
                "settings.auto_close_inactive_cases.max_inactive_time_in_secs",
                Anchor::Value,
                msg,
            );
        }
    }
    let i = &file.integrations;
    let jira = i.jira.as_ref().filter(|j| j.enabled);
    let snow = i.servicenow.as_ref().filter(|s| s.enabled);
    if jira.is_some() && snow.is_some() {
        let msg = "one external ticket system per project: Jira is enabled too (integrations.jira.enabled); disable one";
        p.push("integrations.servicenow.enabled", Anchor::Value, msg);
    }
    if let Some(j) = jira {
        jira_sync(file, j, p);
    }
    if let Some(s) = snow {
        if s.instance_name.is_empty() {
            p.push(
                "integrations.servicenow.enabled",
                Anchor::Key,
                "an enabled ServiceNow needs `instance_name`",
            );
        }
    }
    for key in ["secret", "webhook_secret"] {
        let name = i.jira.as_ref().and_then(|j| match key {
            "secret" => j.secret.as_ref(),
            _ => j.webhook_secret.as_ref(),
        });
        secret(p, &format!("integrations.jira.{key}"), name);
    }
    secret(
        p,
        "integrations.servicenow.secret",
        i.servicenow.as_ref().and_then(|s| s.secret.as_ref()),
    );
}

/// What an enabled Jira sync needs: the project's id (events name their
/// project by id), the site, the project, the account it writes as, its
/// token and, for two-way fields, the webhook's secret.
fn jira_sync(file: &ProjectFile, j: &Jira, p: &mut FileProblems<'_>) {
    let at = "integrations.jira";
    if file.project.id.as_deref().is_none_or(str::is_empty) {
        let msg = "an enabled Jira needs `project.id` (the project's UUID, which events carry)";
        p.push(&format!("{at}.enabled"), Anchor::Key, msg);
    }
    let host = (j.site_url.strip_prefix("https://")).or_else(|| j.site_url.strip_prefix("http://"));
    if host.is_none_or(str::is_empty) {
        let msg = "an enabled Jira needs `site_url`, an http(s) URL (https://acme.atlassian.net)";
        p.push(&format!("{at}.site_url"), Anchor::Value, msg);
    }
    for (key, value) in [
        ("project_key", &j.project_key),
        ("issue_type", &j.issue_type),
        ("account_id", &j.account_id),
        ("due_date_field", &j.due_date_field),
    ] {
        if value.trim().is_empty() {
            let msg = format!("an enabled Jira needs `{key}`");
            p.push(&format!("{at}.{key}"), Anchor::Value, msg);
        }
    }
    if j.secret.is_none() {
        let msg = "an enabled Jira needs `secret` (the name of its API token's secret)";
        p.push(&format!("{at}.enabled"), Anchor::Key, msg);
    }
    if j.has_inbound() && j.webhook_secret.is_none() {
        let msg = "a field syncs two-way, so Jira needs `webhook_secret` (the name of its webhook's secret)";
        p.push(&format!("{at}.fields"), Anchor::Key, msg);
    }
    for (i, f) in j.custom_fields.iter().enumerate() {
        if !f.field_id.starts_with("customfield_") {
            let path = format!("{at}.custom_fields[{i}].field_id");
            p.push(&path, Anchor::Value, "expected customfield_NNNNN");
        }
    }
}
