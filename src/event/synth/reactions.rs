//! Reactions around a simulated case: external tickets, paging, incidents,
//! notifications, automation and SLA timers. Most are recorded by handlers in
//! response to the previous event (`derived`).

use rand::Rng;

use super::case_sim::{origin, service_actor, Action, CaseSim, Ctx, Page, Step};
use super::world::{pick, timestamp, uuid_v4, TEAMS};
use crate::event::pb::{case_event::Payload as P, page_target::Target, *};

impl CaseSim {
    /// Applies a collaboration or reaction action; `None` if not possible now.
    pub(super) fn react(&mut self, ctx: &mut Ctx<'_>, action: Action) -> Option<Step> {
        use Action as A;
        match action {
            A::InsightAdd => Some(self.insight_add(ctx)),
            A::InsightRemove => self.insight_remove(ctx),
            A::Link => self.link(ctx),
            A::Unlink => self.unlink(ctx),
            A::ReviewRequest => self.review_request(ctx),
            A::ReviewDecide => self.review_decide(ctx),
            A::SignalCorrelated => Some(self.signal_correlated(ctx)),
            A::TicketLinked | A::TicketChanged | A::SyncFailed => self.ticket(ctx, action),
            A::PageTrigger => Some(self.page_trigger(ctx)),
            A::PageAck | A::PageEscalate | A::PageResolve => self.page_update(ctx, action),
            A::OncallAssign => self.oncall_assign(ctx),
            A::IncidentDeclare => Some(self.incident_declare(ctx)),
            A::IncidentChanged => self.incident_changed(ctx),
            A::Notify | A::Suppress => Some(self.notification(ctx, action == A::Notify)),
            A::RuleFired => Some(self.rule_fired(ctx)),
            A::WorkflowRequested => self.workflow_requested(ctx),
            A::Sla => Some(self.sla(ctx)),
            _ => None,
        }
    }

    fn ticket(&mut self, ctx: &mut Ctx<'_>, action: Action) -> Option<Step> {
        let system = ExternalSystem::Jira as i32;
        let jira = service_actor(ActorKind::Integration, "jira", "Jira");
        if action == Action::TicketLinked {
            let project_key = self.jira_key.clone()?;
            let ext_id = ctx.rng.random_range(10_000..99_999u32).to_string();
            let key = format!("{project_key}-{}", ctx.rng.random_range(1..999));
            let url = format!("https://example.atlassian.net/browse/{key}");
            self.case.jira_issue = Some(JiraIssue {
                status: ExternalTicketState::Completed as i32,
                issue_id: ext_id.clone(),
                issue_key: key.clone(),
                issue_url: url.clone(),
                project_key,
            });
            let status = ExternalTicketState::Completed as i32;
            let payload = P::ExternalTicketLinked(ExternalTicketLinked {
                system,
                ext_id,
                key,
                url,
                status,
            });
            return Some(derived(
                jira,
                Some(origin(OriginChannel::Jira, None)),
                payload,
            ));
        }
        let ext_id = self.case.jira_issue.as_ref()?.issue_id.clone();
        if action == Action::SyncFailed {
            let operation = ctx.rng.random_range(1..=4);
            let attempt = ctx.rng.random_range(1..=3);
            let error = "HTTP 503 Service Unavailable from Jira".to_owned();
            let failed = ExternalSyncFailed {
                system,
                operation,
                error,
                retryable: true,
                attempt,
            };
            return Some(derived(jira, None, P::ExternalSyncFailed(failed)));
        }
        let (field, old, new) = *pick(
            ctx.rng,
            &[
                ("status", "To Do", "In Progress"),
                ("priority", "Medium", "High"),
                (
                    "summary",
                    "Investigate alert",
                    "Investigate alert (escalated)",
                ),
            ],
        );
        let ext_event_id = uuid_v4(ctx.rng);
        let origin = Some(origin(OriginChannel::Jira, Some(ext_event_id.clone())));
        let payload = P::ExternalTicketChanged(ExternalTicketChanged {
            system,
            ext_id,
            field: field.to_owned(),
            old: old.to_owned(),
            new: new.to_owned(),
            ext_event_id,
            ext_item_id: String::new(),
            // Jira's `updated` of the issue: the change is made now.
            ext_version: ctx.now_ms,
        });
        Some(Step {
            actor: jira,
            origin,
            payload,
            derived: false,
        })
    }

    /// Pages the owning team's on-call, by escalation query or by hand.
    fn page_trigger(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let page_id = uuid_v4(ctx.rng);
        self.page = Some(Page {
            id: page_id.clone(),
            acked_by: None,
        });
        self.paged = true;
        let team = self
            .case
            .attributes
            .get("teams")
            .and_then(|t| t.values.first());
        let team = team.map_or(TEAMS[1], String::as_str);
        let urgency = if self.priority() == Priority::P1 {
            PageUrgency::High
        } else {
            PageUrgency::Low
        };
        let manual = ctx.rng.random_bool(0.2);
        let mut payload = PageTriggered {
            page_id,
            rule_id: String::new(),
            target: Some(PageTarget {
                target: Some(Target::TeamHandle(format!("{team}-oncall"))),
            }),
            urgency: urgency as i32,
            trigger: PageTrigger::Manual as i32,
        };
        if manual {
            return self.by_user(ctx, P::PageTriggered(payload));
        }
        payload.rule_id = uuid_v4(ctx.rng);
        payload.trigger = PageTrigger::EscalationQuery as i32;
        let actor = service_actor(ActorKind::Integration, "on-call", "On-Call");
        derived(
            actor,
            Some(origin(OriginChannel::Oncall, None)),
            P::PageTriggered(payload),
        )
    }

    fn page_update(&mut self, ctx: &mut Ctx<'_>, action: Action) -> Option<Step> {
        let page_id = self.page.as_ref()?.id.clone();
        let oncall = Some(origin(OriginChannel::Oncall, None));
        let bot = service_actor(ActorKind::Integration, "on-call", "On-Call");
        match action {
            Action::PageAck => {
                let (actor, _) = self.user(ctx);
                if let Some(page) = &mut self.page {
                    page.acked_by = Some(actor.id.clone());
                }
                if self.case.assignee_id.is_none() {
                    self.follow_ups.push_back(Action::OncallAssign);
                }
                let payload = P::PageAcknowledged(PageAcknowledged {
                    page_id,
                    by: actor.id.clone(),
                });
                Some(Step {
                    actor,
                    origin: oncall,
                    payload,
                    derived: false,
                })
            }
            Action::PageEscalate => {
                let payload = P::PageEscalated(PageEscalated {
                    page_id,
                    by: String::new(),
                });
                Some(Step {
                    actor: bot,
                    origin: oncall,
                    payload,
                    derived: false,
                })
            }
            _ => {
                self.page = None;
                let payload = P::PageResolved(PageResolved {
                    page_id,
                    by: String::new(),
                });
                Some(derived(bot, oncall, payload))
            }
        }
    }

    /// Assigns the case to the responder who acknowledged its page.
    fn oncall_assign(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let to = self.page.as_ref()?.acked_by.clone()?;
        if self.case.assignee_id.is_some() {
            return None;
        }
        self.case.assignee_id = Some(to.clone());
        let actor = service_actor(ActorKind::System, "", "On-call auto-assign");
        self.touch(ctx, &actor);
        let reason = AssignmentReason::OncallAuto as i32;
        let payload = P::CaseAssigned(CaseAssigned {
            from: None,
            to,
            reason,
        });
        Some(derived(
            actor,
            Some(origin(OriginChannel::Oncall, None)),
            payload,
        ))
    }

    /// Declares an incident and links it with ESCALATES_TO.
    fn incident_declare(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let incident_id = uuid_v4(ctx.rng);
        self.incident = Some(incident_id.clone());
        self.new_link(
            ctx,
            LinkedEntityType::Incident,
            incident_id.clone(),
            LinkRelationship::EscalatesTo,
        );
        let severity = if self.priority() == Priority::P1 {
            "SEV-1"
        } else {
            "SEV-2"
        };
        let mut payload = IncidentDeclaredFromCase {
            incident_id,
            incident_type: if self.security { "Security" } else { "Outage" }.to_owned(),
            severity: severity.to_owned(),
            trigger: IncidentTrigger::Manual as i32,
        };
        if ctx.rng.random_bool(0.5) {
            return self.by_user(ctx, P::IncidentDeclaredFromCase(payload));
        }
        payload.trigger = IncidentTrigger::AutoQuery as i32;
        let actor = service_actor(ActorKind::Integration, "incidents", "Incidents");
        derived(
            actor,
            Some(origin(OriginChannel::Incident, None)),
            P::IncidentDeclaredFromCase(payload),
        )
    }

    fn incident_changed(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let incident_id = self.incident.clone()?;
        let status = (*pick(ctx.rng, &["active", "stable", "resolved"])).to_owned();
        let severity = (*pick(ctx.rng, &["SEV-1", "SEV-2", "SEV-3"])).to_owned();
        let actor = service_actor(ActorKind::Integration, "incidents", "Incidents");
        let origin = Some(origin(OriginChannel::Incident, Some(incident_id.clone())));
        let payload = P::IncidentChanged(IncidentChanged {
            incident_id,
            status,
            severity,
        });
        Some(Step {
            actor,
            origin,
            payload,
            derived: false,
        })
    }

    fn notification(&mut self, ctx: &mut Ctx<'_>, sent: bool) -> Step {
        let rule_id = uuid_v4(ctx.rng);
        let channel = ctx.rng.random_range(1..=5);
        let trigger_event_id = self.last_event_id.clone();
        let actor = service_actor(ActorKind::System, "", "Notifications");
        let payload = if sent {
            let recipient = match NotificationChannel::try_from(channel) {
                Ok(NotificationChannel::Email) => "oncall@example.com".to_owned(),
                Ok(NotificationChannel::Http) => "case-webhook".to_owned(),
                _ => format!("C{:08X}", ctx.rng.random::<u32>()),
            };
            P::NotificationDispatched(NotificationDispatched {
                rule_id,
                channel,
                recipient,
                trigger_event_id,
            })
        } else {
            let reason = ctx.rng.random_range(1..=4);
            P::NotificationSuppressed(NotificationSuppressed {
                rule_id,
                channel,
                reason,
                trigger_event_id,
            })
        };
        derived(actor, None, payload)
    }

    /// An automation rule matched the last event; a workflow request follows.
    fn rule_fired(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let rule_id = uuid_v4(ctx.rng);
        let team = pick(ctx.rng, TEAMS);
        let workflow_handle = format!("triage-{team}");
        self.workflow = Some((rule_id.clone(), workflow_handle.clone()));
        self.follow_ups.push_back(Action::WorkflowRequested);
        let actor = service_actor(ActorKind::AutomationRule, &rule_id, "Auto-triage");
        let payload = P::AutomationRuleFired(AutomationRuleFired {
            rule_id,
            trigger: ctx.rng.random_range(1..=6),
            action: AutomationAction::ExecuteWorkflow as i32,
            workflow_handle,
            trigger_event_id: self.last_event_id.clone(),
        });
        derived(actor, Some(origin(OriginChannel::Workflow, None)), payload)
    }

    fn workflow_requested(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let (rule_id, workflow_handle) = self.workflow.take()?;
        let started = ctx.rng.random_bool(0.9);
        let (run_id, result) = if started {
            (uuid_v4(ctx.rng), WorkflowRunResult::Started)
        } else {
            (String::new(), WorkflowRunResult::RateLimited)
        };
        let actor = service_actor(ActorKind::AutomationRule, &rule_id, "Auto-triage");
        let payload = P::WorkflowTriggerRequested(WorkflowTriggerRequested {
            rule_id,
            workflow_handle,
            run_id,
            result: result as i32,
        });
        Some(derived(
            actor,
            Some(origin(OriginChannel::Workflow, None)),
            payload,
        ))
    }

    /// An SLA timer warns (or, past its target, breaches) on time to resolve.
    fn sla(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let created = self
            .case
            .created_at
            .unwrap_or_else(|| timestamp(ctx.now_ms));
        let elapsed_secs = u64::try_from(ctx.now_ms / 1000 - created.seconds).unwrap_or_default();
        let policy_id = format!("sla-{}", self.case.project_id.get(..8).unwrap_or_default());
        let metric = SlaMetric::TimeToResolve as i32;
        let actor = service_actor(ActorKind::System, "", "SLA timers");
        let payload = if ctx.rng.random_bool(0.7) {
            let warn_at_pct = *pick(ctx.rng, &[50u32, 75, 90]);
            let target_secs = elapsed_secs * 100 / u64::from(warn_at_pct);
            P::SlaWarning(SlaWarning {
                policy_id,
                metric,
                target_secs,
                elapsed_secs,
                warn_at_pct,
            })
        } else {
            let target_secs = elapsed_secs / 2;
            P::SlaBreached(SlaBreached {
                policy_id,
                metric,
                target_secs,
                elapsed_secs,
            })
        };
        Step {
            actor,
            origin: None,
            payload,
            derived: false,
        }
    }
}

/// A step recorded by a handler in reaction to the case's previous event.
fn derived(actor: Actor, origin: Option<Origin>, payload: P) -> Step {
    Step {
        actor,
        origin,
        payload,
        derived: true,
    }
}
