//! Small tools for looking at a container from the inside: `ps`, `hostname` and `fetch`.
//!
//! They exist so that tests (and readers) can ask a container what *it* sees: which processes,
//! which host name, which pods it can reach. Inside a rootfs there is no shell and no
//! coreutils, only what the image holds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `ps`: one line per process visible in `/proc`, `<pid> <command name>`, sorted by pid.
pub fn ps(_args: &[String]) -> i32 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        eprintln!("ps: cannot read /proc");
        return 1;
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        println!("{pid} {}", name.trim());
    }
    0
}

/// `hostname`: the host name of this UTS namespace, as the kernel has it (not `$HOSTNAME`).
pub fn hostname(_args: &[String]) -> i32 {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    if unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } != 0 {
        eprintln!("hostname: {}", std::io::Error::last_os_error());
        return 1;
    }
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    println!("{}", String::from_utf8_lossy(&name[..end]));
    0
}

/// `fetch <ip:port>`: an HTTP GET of `/`; prints the response body. Exit 1 if it fails.
pub fn fetch(args: &[String]) -> i32 {
    let Some(address) = args.first() else {
        eprintln!("usage: fetch <ip:port>");
        return 2;
    };
    match get(address) {
        Ok(body) => {
            print!("{body}");
            0
        }
        Err(error) => {
            eprintln!("fetch: {address}: {error}");
            1
        }
    }
}

fn get(address: &str) -> std::io::Result<String> {
    let address = address
        .parse()
        .map_err(|_| std::io::Error::other("not an ip:port"))?;
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body);
    Ok(body.unwrap_or_default().to_string())
}
