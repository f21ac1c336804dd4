//! The `case-event-handler` binary: parse arguments, run, map errors to exit codes.

fn main() -> std::process::ExitCode {
    case_event_handler::cli::main()
}
