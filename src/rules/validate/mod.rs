//! The semantic checks of one project's file, after it deserialized: ids,
//! references into the directory and the webhooks, every CQ query compiled,
//! schedules, secret names, one ticket system. Each problem is recorded at
//! the key path of the offending node.

mod sections;

use std::collections::{BTreeMap, BTreeSet};

use sections::{directory, settings_and_integrations, sla};

use super::problems::{Anchor, FileProblems};
use super::schema::{Cq, Fire, ProjectFile, Recipient, SecretRef, Target, WebhookEndpoint};
use super::secrets::{check_secret_name, looks_like_secret};
use crate::event::{EventType, Scope};

/// Priority names a mapping may use as keys.
const PRIORITY_KEYS: [&str; 7] = ["P1", "P2", "P3", "P4", "P5", "NOT_DEFINED", "*"];

/// Checks `file` (the project `key`), compiling its queries in place.
pub(crate) fn check(key: &str, file: &mut ProjectFile, p: &mut FileProblems<'_>) {
    let key_ok = key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        p.push_at(
            1,
            1,
            format!("the file name `{key}` is not a project key (upper-case letters, digits, `_`)"),
        );
    }
    ids(file, p);
    directory(file, p);
    let teams: BTreeSet<String> = file.directory.teams.iter().map(|t| t.id.clone()).collect();
    let users: BTreeSet<String> = file.directory.users.iter().map(|u| u.id.clone()).collect();
    let webhooks: BTreeSet<String> = file.webhooks.iter().map(|w| w.name.clone()).collect();
    for (i, w) in file.webhooks.iter_mut().enumerate() {
        webhook(p, &format!("webhooks[{i}]"), w);
    }
    for (i, rule) in file.notification_rules.iter_mut().enumerate() {
        let at = format!("notification_rules[{i}]");
        query(p, &format!("{at}.query"), &mut rule.query);
        if rule.triggers.is_empty() {
            p.push(
                &format!("{at}.triggers"),
                Anchor::Value,
                "needs at least one trigger",
            );
        }
        if rule.recipients.is_empty() {
            p.push(
                &format!("{at}.recipients"),
                Anchor::Value,
                "needs at least one recipient",
            );
        }
        for (j, r) in rule.recipients.iter().enumerate() {
            let at = format!("{at}.recipients[{j}]");
            match r {
                Recipient::Http { name } if !webhooks.contains(name) => p.push(
                    &format!("{at}.HTTP.name"),
                    Anchor::Value,
                    format!("no webhook endpoint named `{name}` (define it under `webhooks`)"),
                ),
                Recipient::SlackChannel { secret: s, .. } => {
                    secret(p, &format!("{at}.SLACK_CHANNEL.secret"), s.as_ref())
                }
                Recipient::MsTeamsChannel { secret: s, .. } => {
                    secret(p, &format!("{at}.MS_TEAMS_CHANNEL.secret"), s.as_ref())
                }
                Recipient::PagerdutyService { secret: s, .. } => {
                    secret(p, &format!("{at}.PAGERDUTY_SERVICE.secret"), s.as_ref())
                }
                _ => {}
            }
        }
        if rule.throttle.is_some_and(|t| t.per_case_secs == 0) {
            p.push(
                &format!("{at}.throttle.per_case_secs"),
                Anchor::Value,
                "must be at least 1",
            );
        }
    }
    for (i, rule) in file.automation_rules.iter_mut().enumerate() {
        match &mut rule.condition_query {
            Some(q) => query(p, &format!("automation_rules[{i}].condition_query"), q),
            None if rule.fire != Fire::OncePerCase => {
                let msg = "`fire` needs a `condition_query` (its rising edges are what fire)";
                p.push(&format!("automation_rules[{i}].fire"), Anchor::Value, msg);
            }
            None => {}
        }
    }
    for (i, rule) in file.escalation_queries.iter_mut().enumerate() {
        let at = format!("escalation_queries[{i}]");
        query(p, &format!("{at}.query"), &mut rule.query);
        target(p, &format!("{at}.target"), &rule.target, &teams, &users);
        keys(p, &format!("{at}.urgency_map"), rule.urgency_map.keys());
    }
    if let Some(rule) = &mut file.incident_escalation {
        query(
            p,
            "incident_escalation.auto_escalation_query",
            &mut rule.auto_escalation_query,
        );
        if let Some(user) = rule
            .default_incident_commander
            .as_ref()
            .filter(|u| !users.contains(*u))
        {
            let msg = format!("no user `{user}` in the directory");
            p.push(
                "incident_escalation.default_incident_commander",
                Anchor::Value,
                msg,
            );
        }
        keys(
            p,
            "incident_escalation.priority_mapping",
            rule.priority_mapping.keys(),
        );
    }
    for (i, w) in file.maintenance_windows.iter_mut().enumerate() {
        let at = format!("maintenance_windows[{i}]");
        query(p, &format!("{at}.query"), &mut w.query);
        if let Err(e) = w.schedule() {
            let key = match (&w.start, &w.cron) {
                (Some(_), _) => "start",
                (None, Some(_)) => "cron",
                (None, None) => "id",
            };
            p.push(
                &format!("{at}.{key}"),
                Anchor::Key,
                format!("schedule: {e}"),
            );
        }
    }
    for (i, route) in file.assignment.routes.iter_mut().enumerate() {
        let at = format!("assignment.routes[{i}]");
        query(p, &format!("{at}.query"), &mut route.query);
        match (&route.assignee_id, &route.team) {
            (Some(user), None) if !users.contains(user) => {
                let msg = format!("no user `{user}` in the directory");
                p.push(&format!("{at}.assignee_id"), Anchor::Value, msg);
            }
            (None, Some(team)) if !teams.contains(team) => {
                let msg = format!("no team `{team}` in the directory");
                p.push(&format!("{at}.team"), Anchor::Value, msg);
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => p.push(
                &format!("{at}.id"),
                Anchor::Key,
                "give exactly one of `assignee_id`, `team`",
            ),
        }
    }
    sla(file, p);
    settings_and_integrations(file, p);
}

/// Ids unique within the project, across every kind of rule.
fn ids(file: &ProjectFile, p: &mut FileProblems<'_>) {
    let mut all: Vec<(String, &str)> = Vec::new();
    let sections: [(&str, Vec<&str>); 5] = [
        (
            "notification_rules",
            file.notification_rules
                .iter()
                .map(|r| r.id.as_str())
                .collect(),
        ),
        (
            "automation_rules",
            file.automation_rules
                .iter()
                .map(|r| r.id.as_str())
                .collect(),
        ),
        (
            "escalation_queries",
            file.escalation_queries
                .iter()
                .map(|r| r.id.as_str())
                .collect(),
        ),
        (
            "maintenance_windows",
            file.maintenance_windows
                .iter()
                .map(|r| r.id.as_str())
                .collect(),
        ),
        (
            "sla_policies",
            file.sla_policies.iter().map(|r| r.id.as_str()).collect(),
        ),
    ];
    for (section, list) in &sections {
        all.extend(
            list.iter()
                .enumerate()
                .map(|(i, id)| (format!("{section}[{i}].id"), *id)),
        );
    }
    if let Some(rule) = &file.incident_escalation {
        all.push(("incident_escalation.id".into(), &rule.id));
    }
    let routes = file.assignment.routes.iter().enumerate();
    all.extend(routes.map(|(i, r)| (format!("assignment.routes[{i}].id"), r.id.as_str())));
    unique(p, &all, "id");
    let names: Vec<(String, &str)> = (file.webhooks.iter().enumerate())
        .map(|(i, w)| (format!("webhooks[{i}].name"), w.name.as_str()))
        .collect();
    unique(p, &names, "webhook name");
}

fn unique(p: &mut FileProblems<'_>, all: &[(String, &str)], what: &str) {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (path, id) in all {
        if let Err(e) = check_id(id) {
            p.push(path, Anchor::Value, e);
        }
        if let Some(first) = seen.insert(id, path.as_str()) {
            p.push(
                path,
                Anchor::Value,
                format!("duplicate {what} `{id}` (also at {first})"),
            );
            seen.insert(id, first);
        }
    }
}

/// Ids and names: 1–128 characters of letters, digits, `_`, `.`, `-`.
fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 128 letters, digits, `_`, `.` or `-`".into())
    }
}

fn webhook(p: &mut FileProblems<'_>, at: &str, w: &mut WebhookEndpoint) {
    if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
        p.push(
            &format!("{at}.url"),
            Anchor::Value,
            "must be an http(s) URL",
        );
    }
    secret(p, &format!("{at}.secret"), w.secret.as_ref());
    for (j, previous) in w.previous_secrets.iter().enumerate() {
        secret(p, &format!("{at}.previous_secrets[{j}]"), Some(previous));
    }
    if w.secret.is_none() && !w.previous_secrets.is_empty() {
        p.push(
            &format!("{at}.previous_secrets"),
            Anchor::Key,
            "needs `secret`, the one receivers move to",
        );
    }
    for (j, name) in w.events.iter().enumerate() {
        match name.parse::<EventType>() {
            Ok(kind) if kind.scope() == Scope::Case => {}
            Ok(_) => p.push(
                &format!("{at}.events[{j}]"),
                Anchor::Value,
                format!("`{name}` is not a case event"),
            ),
            Err(_) => p.push(
                &format!("{at}.events[{j}]"),
                Anchor::Value,
                format!("unknown event type `{name}`"),
            ),
        }
    }
    if let Some(cq) = w.query.as_mut() {
        query(p, &format!("{at}.query"), cq);
    }
}

fn query(p: &mut FileProblems<'_>, path: &str, cq: &mut Cq) {
    if let Err(e) = cq.compile() {
        p.push(
            path,
            Anchor::Offset(e.position),
            format!("invalid query: {}", e.kind),
        );
    }
}

fn secret(p: &mut FileProblems<'_>, path: &str, name: Option<&SecretRef>) {
    // A value that looks like a secret is reported once, by the scan.
    if let Some(name) = name.filter(|n| looks_like_secret(&n.0).is_none()) {
        p.result(path, check_secret_name(&name.0));
    }
}

fn keys<'k>(p: &mut FileProblems<'_>, path: &str, keys: impl Iterator<Item = &'k String>) {
    for key in keys {
        if !PRIORITY_KEYS.contains(&key.as_str()) {
            let msg = format!("`{key}` is not a priority (P1…P5, NOT_DEFINED or *)");
            p.push(&format!("{path}.{key}"), Anchor::Key, msg);
        }
    }
}

fn target(
    p: &mut FileProblems<'_>,
    path: &str,
    t: &Target,
    teams: &BTreeSet<String>,
    users: &BTreeSet<String>,
) {
    match (&t.team_id, &t.user_id, t.dynamic_team_paging) {
        (Some(team), None, false) if !teams.contains(team) => {
            p.push(
                &format!("{path}.team_id"),
                Anchor::Value,
                format!("no team `{team}` in the directory"),
            );
        }
        (None, Some(user), false) if !users.contains(user) => {
            p.push(
                &format!("{path}.user_id"),
                Anchor::Value,
                format!("no user `{user}` in the directory"),
            );
        }
        (Some(_), None, false) | (None, Some(_), false) | (None, None, true) => {}
        _ => p.push(
            path,
            Anchor::Value,
            "give exactly one of `team_id`, `user_id`, `dynamic_team_paging: true`",
        ),
    }
}
