//! Small tools for looking at a container from the inside: `ps`, `hostname`, `fetch`, `cat`.
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

/// `fetch <host:port>`: an HTTP GET of `/`; prints the response body. Exit 1 if it fails.
/// A host that is not an IP address is looked up in the container's hosts file
/// ([`hosts_file_path`]), as the C library's resolver would with `/etc/hosts`.
pub fn fetch(args: &[String]) -> i32 {
    let Some(address) = args.first() else {
        eprintln!("usage: fetch <host:port>");
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
    let address = match address.parse() {
        Ok(address) => address,
        Err(_) => resolve_with_hosts_file(address)?,
    };
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body);
    Ok(body.unwrap_or_default().to_string())
}

/// `cat <path>...`: prints files, as a container sees them (paths relative to its working
/// directory). Exit 1 if one cannot be read.
pub fn cat(args: &[String]) -> i32 {
    let mut code = 0;
    for path in args {
        match std::fs::read(path) {
            Ok(bytes) => {
                let _ = std::io::stdout().write_all(&bytes);
            }
            Err(error) => {
                eprintln!("cat: {path}: {error}");
                code = 1;
            }
        }
    }
    code
}

/// The hosts file this container reads: `/etc/hosts`, below `$SKIFF_ROOT` in a `process`-mode
/// container (which has no root file system of its own, see [`crate::Mount`]).
pub fn hosts_file_path() -> std::path::PathBuf {
    match std::env::var_os(crate::ROOT_ENV) {
        Some(root) => std::path::Path::new(&root).join("etc/hosts"),
        None => std::path::PathBuf::from("/etc/hosts"),
    }
}

/// The address of `host` in a hosts file's text: the first line listing it (names compare
/// without regard to case; `#` starts a comment).
pub fn lookup_host(hosts: &str, host: &str) -> Option<std::net::IpAddr> {
    hosts.lines().find_map(|line| {
        let mut words = line.split('#').next()?.split_whitespace();
        let address = words.next()?.parse().ok()?;
        words
            .any(|name| name.eq_ignore_ascii_case(host))
            .then_some(address)
    })
}

/// `host:port` with `host` looked up in the container's hosts file.
fn resolve_with_hosts_file(address: &str) -> std::io::Result<std::net::SocketAddr> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| std::io::Error::other("expected <host>:<port>"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| std::io::Error::other(format!("bad port {port:?}")))?;
    let path = hosts_file_path();
    let hosts = std::fs::read_to_string(&path)
        .map_err(|e| std::io::Error::other(format!("reading {}: {e}", path.display())))?;
    let ip = lookup_host(&hosts, host.trim_end_matches('.'))
        .ok_or_else(|| std::io::Error::other(format!("{host} not found in {}", path.display())))?;
    Ok(std::net::SocketAddr::new(ip, port))
}
