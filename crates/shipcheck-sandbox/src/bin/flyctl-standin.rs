//! The Fly stand-in as a program: `flyctl-standin [--state DIR] <flyctl arguments>`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(shipcheck_sandbox::fly::flyctl_main(args));
}
