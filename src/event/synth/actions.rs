//! Human changes to a simulated case: each applies the change to the snapshot
//! and returns the matching payload. Integration and automation reactions
//! live in `reactions.rs`.

use rand::Rng;

use super::case_sim::{service_actor, Action, CaseSim, Ctx, Step};
use super::world::{
    date_after, pick, timestamp, uuid_v7, COMMENTS, ENVIRONMENTS, REGIONS, RESOLVED_REASONS,
    SERVICES, STATUS_CLOSED, STATUS_IN_PROGRESS, SYMPTOMS, TEAMS,
};
use crate::event::pb::{case_event::Payload as P, *};

impl CaseSim {
    /// Applies `action`, falling back to a comment when it is not possible
    /// in the current state (e.g. nobody left to add as a watcher).
    pub fn apply(&mut self, ctx: &mut Ctx<'_>, action: Action) -> Step {
        self.try_apply(ctx, action)
            .unwrap_or_else(|| self.comment_add(ctx))
    }

    fn try_apply(&mut self, ctx: &mut Ctx<'_>, action: Action) -> Option<Step> {
        use Action as A;
        match action {
            A::Title | A::Description => Some(self.text_change(ctx, action == A::Title)),
            A::Status => Some(self.status(ctx)),
            A::Reopen => Some(self.reopen(ctx)),
            A::Priority => Some(self.priority_change(ctx)),
            A::Assign => self.assign(ctx),
            A::Unassign => self.unassign(ctx),
            A::Attribute => Some(self.attribute(ctx)),
            A::CustomAttribute => Some(self.custom_attribute(ctx)),
            A::DueDate => Some(self.due_date(ctx)),
            A::CommentAdd => Some(self.comment_add(ctx)),
            A::CommentEdit | A::CommentDelete => self.comment_change(ctx, action == A::CommentEdit),
            A::WatcherAdd => self.watcher_add(ctx),
            A::WatcherRemove => self.watcher_remove(ctx),
            A::Archive | A::Unarchive => Some(self.archive(ctx, action == A::Archive)),
            A::Move => self.move_project(ctx),
            other => self.react(ctx, other),
        }
    }

    fn text_change(&mut self, ctx: &mut Ctx<'_>, title: bool) -> Step {
        let (symptom, service) = (pick(ctx.rng, SYMPTOMS), pick(ctx.rng, SERVICES));
        let payload = if title {
            let new = format!("{symptom} on {service} (customer impact)");
            let old = std::mem::replace(&mut self.case.title, new.clone());
            P::CaseTitleChanged(CaseTitleChanged { old, new })
        } else {
            let new = format!("{}\n\nAffected: `{service}`.", pick(ctx.rng, COMMENTS));
            let old = std::mem::replace(&mut self.case.description, new.clone());
            P::CaseDescriptionChanged(CaseDescriptionChanged { old, new })
        };
        self.by_user(ctx, payload)
    }

    /// Moves an open or in-progress case forward (or back to open).
    fn status(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let roll = ctx.rng.random_range(0..100);
        let (name, group) = match self.group() {
            StatusGroup::InProgress if roll < 20 => ("Open", StatusGroup::Open),
            StatusGroup::InProgress if roll < 40 => {
                let other = STATUS_IN_PROGRESS
                    .iter()
                    .find(|s| **s != self.case.status_name);
                (*other.unwrap_or(&"In Progress"), StatusGroup::InProgress)
            }
            StatusGroup::InProgress => (*pick(ctx.rng, STATUS_CLOSED), StatusGroup::Closed),
            _ if roll < 75 => (*pick(ctx.rng, STATUS_IN_PROGRESS), StatusGroup::InProgress),
            _ => (*pick(ctx.rng, STATUS_CLOSED), StatusGroup::Closed),
        };
        if group != StatusGroup::Closed {
            return self.set_status(ctx, name, group, StatusChangeReason::Manual);
        }
        self.case.closed_at = Some(timestamp(ctx.now_ms));
        if self.security {
            self.case.security_resolved_reason =
                Some((*pick(ctx.rng, RESOLVED_REASONS)).to_owned());
        }
        if self.page.is_some() {
            self.follow_ups.push_back(Action::PageResolve);
        }
        let reason = match roll % 10 {
            0 => StatusChangeReason::AutoCloseInactive,
            1 if self.creation_source == "Monitor" => StatusChangeReason::MonitorResolved,
            _ => StatusChangeReason::Manual,
        };
        self.set_status(ctx, name, group, reason)
    }

    /// Reopens a closed case.
    fn reopen(&mut self, ctx: &mut Ctx<'_>) -> Step {
        self.case.closed_at = None;
        self.case.security_resolved_reason = None;
        let (name, group) = if ctx.rng.random_bool(0.7) {
            ("Open", StatusGroup::Open)
        } else {
            (STATUS_IN_PROGRESS[0], StatusGroup::InProgress)
        };
        self.set_status(ctx, name, group, StatusChangeReason::Manual)
    }

    fn set_status(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        group: StatusGroup,
        reason: StatusChangeReason,
    ) -> Step {
        let change = CaseStatusChanged {
            from_status_name: std::mem::replace(&mut self.case.status_name, name.to_owned()),
            to_status_name: name.to_owned(),
            from_group: std::mem::replace(&mut self.case.status_group, group as i32),
            to_group: group as i32,
            resolved_reason: self
                .case
                .security_resolved_reason
                .clone()
                .filter(|_| group == StatusGroup::Closed),
            reason: reason as i32,
        };
        let payload = P::CaseStatusChanged(change);
        match reason {
            StatusChangeReason::Manual => self.by_user(ctx, payload),
            _ => {
                let actor = match reason {
                    StatusChangeReason::MonitorResolved => {
                        service_actor(ActorKind::Integration, "monitor", "Monitor")
                    }
                    _ => service_actor(ActorKind::System, "", "Auto-close"),
                };
                self.touch(ctx, &actor);
                Step {
                    actor,
                    origin: None,
                    payload,
                    derived: false,
                }
            }
        }
    }

    fn priority_change(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let from = self.case.priority;
        let to = if (1..=5).contains(&from) {
            // Any P1..P5 except the current one.
            let to = ctx.rng.random_range(1..=4);
            to + i32::from(to >= from)
        } else {
            ctx.rng.random_range(1..=5)
        };
        self.case.priority = to;
        self.by_user(
            ctx,
            P::CasePriorityChanged(CasePriorityChanged { from, to }),
        )
    }

    fn assign(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let (actor, origin) = self.user(ctx);
        let self_assign =
            ctx.rng.random_bool(0.5) && self.case.assignee_id.as_ref() != Some(&actor.id);
        let to = if self_assign {
            actor.id.clone()
        } else {
            self.other_user(ctx, &actor.id)?.0
        };
        if self.case.assignee_id.as_ref() == Some(&to) {
            return None;
        }
        let reason = if self_assign {
            AssignmentReason::SelfAssigned
        } else {
            AssignmentReason::Manual
        };
        let from = self.case.assignee_id.replace(to.clone());
        self.touch(ctx, &actor);
        let payload = P::CaseAssigned(CaseAssigned {
            from,
            to,
            reason: reason as i32,
        });
        Some(Step {
            actor,
            origin,
            payload,
            derived: false,
        })
    }

    fn unassign(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let from = self.case.assignee_id.take()?;
        let reason = AssignmentReason::Manual as i32;
        Some(self.by_user(ctx, P::CaseUnassigned(CaseUnassigned { from, reason })))
    }

    /// Adds a label value, or removes one (never leaving `key` inconsistent).
    fn attribute(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let (key, vocab) = *pick(
            ctx.rng,
            &[
                ("teams", TEAMS),
                ("services", SERVICES),
                ("environments", ENVIRONMENTS),
            ],
        );
        let values = &mut self
            .case
            .attributes
            .entry(key.to_owned())
            .or_default()
            .values;
        let value = (*pick(ctx.rng, vocab)).to_owned();
        let (added, removed) = match values.iter().position(|v| *v == value) {
            Some(i) => (Vec::new(), vec![values.remove(i)]),
            None => {
                values.push(value.clone());
                (vec![value], Vec::new())
            }
        };
        if values.is_empty() {
            self.case.attributes.remove(key);
        }
        let key = key.to_owned();
        self.by_user(
            ctx,
            P::CaseAttributeChanged(CaseAttributeChanged {
                key,
                added,
                removed,
            }),
        )
    }

    fn custom_attribute(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let (key, kind) = *pick(
            ctx.rng,
            &[
                ("business_impact", CustomAttributeType::Number),
                ("region", CustomAttributeType::Select),
                ("runbook", CustomAttributeType::Url),
            ],
        );
        let value = match kind {
            CustomAttributeType::Number => ctx.rng.random_range(1..=5).to_string(),
            CustomAttributeType::Select => (*pick(ctx.rng, REGIONS)).to_owned(),
            _ => format!("https://runbooks.example.com/{}", pick(ctx.rng, SERVICES)),
        };
        let old = self.case.custom_attributes.get(key).cloned();
        let new = (old.is_none() || ctx.rng.random_bool(0.8)).then(|| CustomAttributeValue {
            r#type: kind as i32,
            is_multi: false,
            values: vec![value],
        });
        match &new {
            Some(v) => self
                .case
                .custom_attributes
                .insert(key.to_owned(), v.clone()),
            None => self.case.custom_attributes.remove(key),
        };
        let change = CaseCustomAttributeChanged {
            key: key.to_owned(),
            r#type: kind as i32,
            old,
            new,
        };
        self.by_user(ctx, P::CaseCustomAttributeChanged(change))
    }

    fn due_date(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let clear = self.case.due_date.is_some() && ctx.rng.random_bool(0.2);
        let new = (!clear).then(|| date_after(ctx.now_ms, ctx.rng.random_range(1..=14)));
        let old = std::mem::replace(&mut self.case.due_date, new.clone());
        self.by_user(ctx, P::CaseDueDateChanged(CaseDueDateChanged { old, new }))
    }

    /// Adds a comment, sometimes mentioning a colleague.
    pub fn comment_add(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let (actor, origin) = self.user(ctx);
        let mut markdown = (*pick(ctx.rng, COMMENTS)).to_owned();
        let mut mentions = Vec::new();
        if ctx.rng.random_bool(0.3) {
            if let Some((id, name)) = self.other_user(ctx, &actor.id) {
                markdown.push_str(&format!(" cc @{name}"));
                mentions.push(id);
            }
        }
        let cell_id = uuid_v7(ctx.rng, ctx.now_ms);
        self.comments.push(cell_id.clone());
        self.touch(ctx, &actor);
        let author_id = actor.id.clone();
        let payload = P::CaseCommentAdded(CaseCommentAdded {
            cell_id,
            author_id,
            markdown,
            mentions,
        });
        Step {
            actor,
            origin,
            payload,
            derived: false,
        }
    }

    /// Edits or deletes an existing comment.
    fn comment_change(&mut self, ctx: &mut Ctx<'_>, edit: bool) -> Option<Step> {
        if self.comments.is_empty() {
            return None;
        }
        let i = ctx.rng.random_range(0..self.comments.len());
        let payload = if edit {
            let markdown = format!("{} (edited)", pick(ctx.rng, COMMENTS));
            P::CaseCommentEdited(CaseCommentEdited {
                cell_id: self.comments[i].clone(),
                markdown,
            })
        } else {
            P::CaseCommentDeleted(CaseCommentDeleted {
                cell_id: self.comments.swap_remove(i),
            })
        };
        Some(self.by_user(ctx, payload))
    }

    fn watcher_add(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let users = &ctx.world.orgs[self.org].users;
        let free: Vec<_> = users
            .iter()
            .filter(|u| !self.case.watchers.contains(&u.id))
            .collect();
        if free.is_empty() {
            return None;
        }
        let user_id = pick(ctx.rng, &free).id.clone();
        self.case.watchers.push(user_id.clone());
        Some(self.by_user(ctx, P::CaseWatcherAdded(CaseWatcherAdded { user_id })))
    }

    fn watcher_remove(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        if self.case.watchers.is_empty() {
            return None;
        }
        let i = ctx.rng.random_range(0..self.case.watchers.len());
        let user_id = self.case.watchers.remove(i);
        Some(self.by_user(ctx, P::CaseWatcherRemoved(CaseWatcherRemoved { user_id })))
    }

    fn archive(&mut self, ctx: &mut Ctx<'_>, archive: bool) -> Step {
        if archive {
            self.case.archived_at = Some(timestamp(ctx.now_ms));
            self.by_user(ctx, P::CaseArchived(CaseArchived {}))
        } else {
            self.case.archived_at = None;
            self.by_user(ctx, P::CaseUnarchived(CaseUnarchived {}))
        }
    }

    /// Moves the case to another project of its org, which assigns a new key.
    fn move_project(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let projects = &mut ctx.world.orgs[self.org].projects;
        if projects.len() < 2 {
            return None;
        }
        let mut to = ctx.rng.random_range(0..projects.len() - 1);
        if to >= self.project {
            to += 1;
        }
        let target = &mut projects[to];
        let new_key = target.next_case_key();
        let change = CaseMovedToProject {
            from_project_id: std::mem::replace(&mut self.case.project_id, target.id.clone()),
            to_project_id: target.id.clone(),
            old_key: std::mem::replace(&mut self.case.key, new_key.clone()),
            new_key,
        };
        self.jira_key = target.jira_key.clone();
        self.project = to;
        Some(self.by_user(ctx, P::CaseMovedToProject(change)))
    }
}
