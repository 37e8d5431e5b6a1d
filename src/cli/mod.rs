//! The command-line interface: argument parsing and output formatting only.

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
