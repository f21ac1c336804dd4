//! What a flavor's build returns ([`Built`]) and its check against the
//! registry row: the style it declares, timers only on single-style rows,
//! a deliverer exactly when the row lists the deliveries table, only the
//! routes it declares.

use super::{delivery, BuildError, FlavorSpec, InboundRoute, Style};
use crate::handler::Processor;

/// What a flavor's constructor returns.
pub struct Built {
    /// The handler.
    pub processor: Processor,
    /// Inbound routes mounted on the flavor's HTTP server, each declared
    /// in the row's `routes`.
    pub routes: Vec<InboundRoute>,
    /// What delivers its delivery queue's rows (a row that lists
    /// [`delivery::DELIVERIES`] must build one).
    pub deliverer: Option<std::sync::Arc<dyn delivery::Deliverer>>,
}

impl From<Processor> for Built {
    fn from(processor: Processor) -> Self {
        Self {
            processor,
            routes: Vec::new(),
            deliverer: None,
        }
    }
}

impl Built {
    /// Checks the build against its registry row.
    pub fn check(&self, spec: &FlavorSpec) -> Result<(), BuildError> {
        let built = Style::of(&self.processor);
        if built != spec.style {
            return Err(BuildError::Registry {
                flavor: spec.name,
                message: format!(
                    "declares style {} but built a {} handler",
                    spec.style.as_str(),
                    built.as_str()
                ),
            });
        }
        if spec.fires_timers() && built != Style::Single {
            return Err(BuildError::Registry {
                flavor: spec.name,
                message: "lists the timers table, but timers fire on the per-key lanes of \
                          single-style flavors only"
                    .into(),
            });
        }
        if spec.delivers() != self.deliverer.is_some() {
            let message = match spec.delivers() {
                true => "lists the deliveries table but built no deliverer",
                false => "built a deliverer but does not list the deliveries table",
            };
            return Err(BuildError::Registry {
                flavor: spec.name,
                message: message.into(),
            });
        }
        for route in &self.routes {
            if !spec.routes.iter().any(|r| r.path == route.spec.path) {
                return Err(BuildError::Registry {
                    flavor: spec.name,
                    message: format!(
                        "built route {} but the row's routes do not declare it",
                        route.spec.path
                    ),
                });
            }
        }
        Ok(())
    }
}
