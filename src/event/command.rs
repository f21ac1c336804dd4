//! The command catalogue (`casemgmt.commands.v1`, see
//! `proto/casemgmt/commands/v1/commands.proto`): what a flavor asks the case
//! service to change on a case. Commands travel on `kafka.commands_topic`;
//! [`crate::flavors::kit::EventPublisher::command`] stamps and sends them.

/// The generated types, in the package layout prost's cross-package paths expect.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]
mod generated {
    pub mod casemgmt {
        pub mod events {
            pub mod v1 {
                pub use crate::event::pb::*;
            }
        }
        pub mod commands {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/casemgmt.commands.v1.rs"));
                include!(concat!(env!("OUT_DIR"), "/casemgmt.commands.v1.serde.rs"));
            }
        }
    }
}

pub use generated::casemgmt::commands::v1::case_command::Payload;
pub use generated::casemgmt::commands::v1::*;

/// The header naming the command type.
pub const COMMAND_TYPE: &str = "command-type";

/// Declares [`CommandType`] from one row per payload variant, with the event
/// type the case service publishes when it applies the command, so that the
/// names, the payload mapping and the loop check cannot drift apart.
macro_rules! command_types {
    ($($variant:ident => $name:literal => [$($result:ident),*];)*) => {
        /// Kind of a [`CaseCommand`], one per variant of its `payload` oneof.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CommandType {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )*
        }

        impl CommandType {
            /// Every command type, in `oneof` field-number order.
            pub const ALL: &'static [CommandType] = &[$(CommandType::$variant,)*];

            /// The catalogue name, e.g. `case.assign`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CommandType::$variant => $name,)*
                }
            }

            /// The events the case service publishes when it applies one
            /// (what a rule consuming them would see next: the loop check).
            pub const fn results_in(self) -> &'static [crate::event::EventType] {
                match self {
                    $(CommandType::$variant => &[$(crate::event::EventType::$result),*],)*
                }
            }

            /// The type of a payload variant.
            pub const fn of(payload: &Payload) -> Self {
                match payload {
                    $(Payload::$variant(_) => CommandType::$variant,)*
                }
            }
        }
    };
}

command_types! {
    AssignCase => "case.assign" => [CaseAssigned];
    UnassignCase => "case.unassign" => [CaseUnassigned];
    TransitionCase => "case.transition" => [CaseStatusChanged];
    SetPriority => "case.set_priority" => [CasePriorityChanged];
    SetTitle => "case.set_title" => [CaseTitleChanged];
    SetDescription => "case.set_description" => [CaseDescriptionChanged];
    SetAttribute => "case.set_attribute" => [CaseAttributeChanged, CaseCustomAttributeChanged];
    SetDueDate => "case.set_due_date" => [CaseDueDateChanged];
    AddComment => "case.add_comment" => [CaseCommentAdded];
    LinkEntity => "case.link_entity" => [CaseLinked];
}

impl std::fmt::Display for CommandType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Payload {
    /// The catalogue name (`case.assign`), which `command_type` must equal.
    pub fn command_type(&self) -> &'static str {
        CommandType::of(self).as_str()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn commands_round_trip_in_binary_and_proto3_json() {
        let cmd = CaseCommand {
            command_id: "0190f000-0000-7000-8000-0000000000c1".into(),
            command_type: "case.assign".into(),
            case_id: "c-1".into(),
            chain_depth: 2,
            payload: Some(Payload::AssignCase(AssignCase {
                assignee_id: "u-7".into(),
            })),
            ..CaseCommand::default()
        };
        let bytes = cmd.encode_to_vec();
        assert_eq!(CaseCommand::decode(bytes.as_slice()).unwrap(), cmd);
        let json = serde_json::to_value(&cmd).unwrap();
        assert_eq!(json["commandType"], "case.assign");
        assert_eq!(json["assignCase"]["assigneeId"], "u-7");
        let back: CaseCommand = serde_json::from_value(json).unwrap();
        assert_eq!(back, cmd);
    }

    #[test]
    fn every_payload_names_a_distinct_dotted_type() {
        let all = [
            Payload::AssignCase(AssignCase::default()),
            Payload::UnassignCase(UnassignCase::default()),
            Payload::TransitionCase(TransitionCase::default()),
            Payload::SetPriority(SetPriority::default()),
            Payload::SetTitle(SetTitle::default()),
            Payload::SetDescription(SetDescription::default()),
            Payload::SetAttribute(SetAttribute::default()),
            Payload::SetDueDate(SetDueDate::default()),
            Payload::AddComment(AddComment::default()),
            Payload::LinkEntity(LinkEntity::default()),
        ];
        let mut names: Vec<&str> = all.iter().map(Payload::command_type).collect();
        assert!(names.iter().all(|n| n.starts_with("case.")));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
