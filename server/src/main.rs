fn main() -> std::process::ExitCode {
    steward_server::cli::main()
}
