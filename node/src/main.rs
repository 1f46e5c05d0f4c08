fn main() -> std::process::ExitCode {
    confer_node::cli::main()
}
