//! `skiffctl`: kubectl's everyday operations against a skiff cluster (see `skiff::ctl`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(skiff::ctl::run(&args)) {
        Ok(true) => 0,
        Ok(false) => {
            eprint!("{}", skiff::ctl::USAGE);
            2
        }
        Err(error) => {
            eprintln!("{error}");
            1
        }
    };
    std::process::exit(code);
}
