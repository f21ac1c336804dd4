//! The `case-event-handler` binary: parse arguments, run, map errors to exit codes.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    case_event_handler::cli::main()
}
