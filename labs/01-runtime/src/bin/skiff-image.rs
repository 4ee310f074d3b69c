//! `skiff-image`: the multi-call binary behind the built-in images (`skiff/echo:1`, ...).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(runtime::programs::run(&args));
}
