//! What a registry row declares about a flavor's traffic: the events it
//! consumes ([`Consumes`]), what it produces ([`Produces`]) and the loop
//! check over both ([`loops`]).
//!
//! The runtime routes on `consumes` (the intake skips, by name, every event
//! the row does not take, before the handler sees it); the publisher refuses
//! what `produces` does not list; `flavors` prints both. A cycle through the
//! registry (rule → command → event → rule) is a loop unless an edge on it
//! is cut by an origin the consumer drops as an echo.

use std::fmt::Write as _;

use crate::event::command::CommandType;
use crate::event::pb::OriginChannel;
use crate::event::{CaseEvent, EventType, Scope};
use crate::handler::SkipReason;

/// Which events a flavor takes, and which of them it drops before its
/// handler runs.
#[derive(Debug, Clone, Copy)]
pub struct Consumes {
    /// The event types.
    pub events: Events,
    /// Events of these origins are echoes of the flavor's own effects
    /// (two-way sync): skipped as `echo:<channel>`.
    pub echoes_of: &'static [OriginChannel],
    /// Whether the handler needs `case_after`; without it an event is
    /// skipped as `no-snapshot` (the one policy for a missing snapshot).
    pub snapshot: Snapshot,
}

/// The event types of [`Consumes`].
#[derive(Debug, Clone, Copy)]
pub enum Events {
    /// Every event in the catalogue.
    All,
    /// Every event of a scope.
    Scope(Scope),
    /// These types.
    Types(&'static [EventType]),
}

/// Whether a flavor needs the case snapshot (`case_after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot {
    /// Events without one are skipped as `no-snapshot`, counted.
    Required,
    /// The handler copes without one.
    Optional,
}

impl Consumes {
    /// Every event in the catalogue.
    pub const fn all() -> Self {
        Self::of(Events::All)
    }

    /// Every event of `scope`.
    pub const fn scope(scope: Scope) -> Self {
        Self::of(Events::Scope(scope))
    }

    /// These event types.
    pub const fn types(types: &'static [EventType]) -> Self {
        Self::of(Events::Types(types))
    }

    const fn of(events: Events) -> Self {
        Self {
            events,
            echoes_of: &[],
            snapshot: Snapshot::Optional,
        }
    }

    /// The same, dropping events of `origins` as echoes.
    pub const fn except_echoes_of(mut self, origins: &'static [OriginChannel]) -> Self {
        self.echoes_of = origins;
        self
    }

    /// The same, skipping events without `case_after`.
    pub const fn needing_snapshot(mut self) -> Self {
        self.snapshot = Snapshot::Required;
        self
    }

    /// Whether the flavor takes events of type `kind`.
    pub fn wants(&self, kind: EventType) -> bool {
        match self.events {
            Events::All => true,
            Events::Scope(scope) => kind.scope() == scope,
            Events::Types(types) => types.contains(&kind),
        }
    }

    /// [`Consumes::wants`] of a type name (a record header); an unknown
    /// name is not wanted.
    pub fn wants_name(&self, name: &str) -> bool {
        name.parse().is_ok_and(|kind| self.wants(kind))
    }

    /// Every type taken, in catalogue order.
    pub fn types_taken(&self) -> Vec<EventType> {
        let all = EventType::ALL.iter().copied();
        all.filter(|k| self.wants(*k)).collect()
    }

    /// Why a decoded event of a wanted type is skipped before the handler:
    /// an echo of a dropped origin, or a missing snapshot the flavor needs.
    pub fn skip(&self, event: &CaseEvent) -> Option<SkipReason> {
        let origin = event.origin.as_ref().map(|o| o.channel());
        if let Some(echo) = origin.filter(|o| self.echoes_of.contains(o)) {
            return Some(SkipReason::Echo(channel_name(echo)));
        }
        let needs = self.snapshot == Snapshot::Required;
        match needs && event.case_after.is_none() {
            true => Some(SkipReason::NoSnapshot),
            false => None,
        }
    }

    /// One line for `flavors`.
    pub fn describe(&self) -> String {
        let mut out = match self.events {
            Events::All => "every event".to_string(),
            Events::Scope(Scope::Case) => "every case-scoped event".to_string(),
            Events::Scope(Scope::Project) => "every project-scoped event".to_string(),
            Events::Types(types) => names(types.iter().map(|t| t.as_str())),
        };
        if !self.echoes_of.is_empty() {
            let echoes = names(self.echoes_of.iter().map(|o| channel_name(*o)));
            let _ = write!(out, " (drops echoes of {echoes})");
        }
        if self.snapshot == Snapshot::Required {
            out.push_str(" (needs case_after)");
        }
        out
    }
}

/// An origin channel's short name (`jira`), for skip reasons and tables.
pub fn channel_name(channel: OriginChannel) -> &'static str {
    // No wildcard: a new channel must be named here (the compiler says so).
    match channel {
        OriginChannel::Jira => "jira",
        OriginChannel::Servicenow => "servicenow",
        OriginChannel::Oncall => "oncall",
        OriginChannel::Incident => "incident",
        OriginChannel::Workflow => "workflow",
        OriginChannel::Ui => "ui",
        OriginChannel::Api => "api",
        OriginChannel::Monitor => "monitor",
        OriginChannel::SecuritySignal => "security-signal",
        OriginChannel::ErrorTracking => "error-tracking",
        OriginChannel::EventManagement => "event-management",
        OriginChannel::Unspecified => "unspecified",
    }
}

/// One thing a flavor publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// An event, to the produce topic.
    Event(EventType),
    /// A command, to the case service.
    Command(CommandType),
}

impl Product {
    /// The events that follow from it: the event itself, or what the case
    /// service publishes when it applies the command.
    pub fn leads_to(self) -> &'static [EventType] {
        match self {
            Product::Event(kind) => std::slice::from_ref(&EventType::ALL[kind as usize]),
            Product::Command(kind) => kind.results_in(),
        }
    }

    /// The catalogue name.
    pub fn name(self) -> &'static str {
        match self {
            Product::Event(kind) => kind.as_str(),
            Product::Command(kind) => kind.as_str(),
        }
    }
}

/// What a flavor publishes, and the origin every record of it carries.
#[derive(Debug, Clone, Copy)]
pub struct Produces {
    /// The events and commands.
    pub what: &'static [Product],
    /// The origin channel stamped on each (a consumer that drops it as an
    /// echo cuts the loop through it); `None` keeps the cause's.
    pub origin: Option<OriginChannel>,
}

impl Produces {
    /// Nothing.
    pub const NOTHING: Self = Self {
        what: &[],
        origin: None,
    };

    /// Whether `product` is declared.
    pub fn allows(&self, product: Product) -> bool {
        self.what.contains(&product)
    }

    /// One line for `flavors`.
    pub fn describe(&self) -> String {
        if self.what.is_empty() {
            return "nothing".into();
        }
        let mut out = names(self.what.iter().map(|p| p.name()));
        if let Some(origin) = self.origin {
            let _ = write!(out, " (origin {})", channel_name(origin));
        }
        out
    }
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// One flavor as the loop check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// The flavor name.
    pub name: &'static str,
    /// What it takes.
    pub consumes: Consumes,
    /// What it publishes.
    pub produces: Produces,
}

/// Every cycle of flavors that could feed each other forever, each named
/// as `a -[event]-> b -[event]-> a`. An edge a → b exists when something a
/// produces leads to an event b consumes, unless b drops a's origin as an
/// echo. Each cycle is reported once, from its first flavor in `nodes`.
pub fn loops(nodes: &[Node]) -> Vec<String> {
    let edges = |from: &Node| -> Vec<(usize, EventType)> {
        let mut out = Vec::new();
        for (to, node) in nodes.iter().enumerate() {
            let echo = (from.produces.origin).is_some_and(|o| node.consumes.echoes_of.contains(&o));
            let via = from.produces.what.iter().flat_map(|p| p.leads_to());
            if let Some(kind) = via.copied().find(|k| !echo && node.consumes.wants(*k)) {
                out.push((to, kind));
            }
        }
        out
    };
    let mut found = Vec::new();
    for start in 0..nodes.len() {
        let mut path = vec![(start, None)];
        walk(nodes, &edges, start, &mut path, &mut found);
    }
    found
}

type Path = Vec<(usize, Option<EventType>)>;

fn walk(
    nodes: &[Node],
    edges: &dyn Fn(&Node) -> Vec<(usize, EventType)>,
    start: usize,
    path: &mut Path,
    found: &mut Vec<String>,
) {
    let Some(&(at, _)) = path.last() else { return };
    for (next, via) in edges(&nodes[at]) {
        if next == start {
            let mut name = String::new();
            for (i, kind) in path.iter() {
                if let Some(kind) = kind {
                    let _ = write!(name, " -[{kind}]-> ");
                }
                name.push_str(nodes[*i].name);
            }
            let _ = write!(name, " -[{via}]-> {}", nodes[start].name);
            found.push(name);
        } else if next > start && !path.iter().any(|(i, _)| *i == next) {
            path.push((next, Some(via)));
            walk(nodes, edges, start, path, found);
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests;
