//! TLS for the API server: the cluster's own certificate authority and the serving certificate.
//!
//! On first start the server makes a self-signed CA and a serving certificate signed by it
//! (SANs: `localhost`, `127.0.0.1` and any configured names), and keeps the four PEM files in
//! `<data-dir>/pki/`. Later starts reuse them, so kubeconfigs written earlier stay valid. Clients
//! (kubectl, the Python client, [`crate::client::HttpApi`]) trust the CA from their kubeconfig's
//! `certificate-authority-data`, and so trust only this cluster's server.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of a cluster's PKI, as kept in `<data-dir>/pki/`.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA certificate (`pki/ca.crt`): what clients trust.
    pub ca_cert_pem: String,
    /// The CA private key (`pki/ca.key`, mode 0600): signs serving certificates.
    pub ca_key_pem: String,
    /// The API server's certificate (`pki/apiserver.crt`), signed by the CA.
    pub server_cert_pem: String,
    /// The API server's private key (`pki/apiserver.key`, mode 0600).
    pub server_key_pem: String,
}

/// The subject of the CA; also rebuilt to re-sign a serving certificate with a kept CA key.
const CA_NAME: &str = "skiff-ca";

fn io_err(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

// ANCHOR: ca_params
/// The CA's parameters: a CA that may sign certificates, nothing else.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}
// ANCHOR_END: ca_params

// ANCHOR: serving_cert
/// Signs a serving certificate for `localhost`, `127.0.0.1` and `extra_sans` (DNS names or IP
/// addresses) with the CA key; returns (certificate PEM, key PEM).
fn sign_serving_cert(ca_key: &KeyPair, extra_sans: &[String]) -> io::Result<(String, String)> {
    let mut sans = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    for san in extra_sans {
        if !sans.contains(san) {
            sans.push(san.clone());
        }
    }
    let mut params =
        CertificateParams::new(sans).map_err(|e| io_err("serving certificate SANs", e))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "skiff-apiserver");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(|e| io_err("generating the server key", e))?;
    let issuer = Issuer::new(ca_params(), ca_key);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| io_err("signing the serving certificate", e))?;
    Ok((cert.pem(), key.serialize_pem()))
}
// ANCHOR_END: serving_cert

impl Pki {
    /// A fresh CA and a serving certificate for `localhost`, `127.0.0.1` and `extra_sans`.
    pub fn generate(extra_sans: &[String]) -> io::Result<Pki> {
        let ca_key = KeyPair::generate().map_err(|e| io_err("generating the CA key", e))?;
        let ca_cert = ca_params()
            .self_signed(&ca_key)
            .map_err(|e| io_err("self-signing the CA", e))?;
        let (server_cert_pem, server_key_pem) = sign_serving_cert(&ca_key, extra_sans)?;
        Ok(Pki {
            ca_cert_pem: ca_cert.pem(),
            ca_key_pem: ca_key.serialize_pem(),
            server_cert_pem,
            server_key_pem,
        })
    }

    /// The PKI kept in `<data_dir>/pki/`, made on first use. A kept CA is reused; the serving
    /// certificate is signed again with the kept CA key when it is missing or when the names
    /// asked for changed (`pki/apiserver.sans` records them), so clients that trust the CA
    /// keep working.
    pub fn load_or_create(data_dir: &Path, extra_sans: &[String]) -> io::Result<Pki> {
        let dir = data_dir.join("pki");
        fs::create_dir_all(&dir).map_err(|e| io_err(&format!("creating {}", dir.display()), e))?;
        let paths = PkiPaths::new(&dir);
        let sans_file = dir.join("apiserver.sans");
        let wanted = extra_sans.join("\n");
        let pki = if paths.ca_cert.exists() && paths.ca_key.exists() {
            let ca_cert_pem = read(&paths.ca_cert)?;
            let ca_key_pem = read(&paths.ca_key)?;
            let same_names = fs::read_to_string(&sans_file).is_ok_and(|kept| kept == wanted);
            let (server_cert_pem, server_key_pem) =
                if paths.server_cert.exists() && paths.server_key.exists() && same_names {
                    (read(&paths.server_cert)?, read(&paths.server_key)?)
                } else {
                    let ca_key = KeyPair::from_pem(&ca_key_pem)
                        .map_err(|e| io_err(&format!("{}", paths.ca_key.display()), e))?;
                    sign_serving_cert(&ca_key, extra_sans)?
                };
            Pki {
                ca_cert_pem,
                ca_key_pem,
                server_cert_pem,
                server_key_pem,
            }
        } else {
            Pki::generate(extra_sans)?
        };
        write_file(&paths.ca_cert, &pki.ca_cert_pem, 0o644)?;
        write_file(&paths.ca_key, &pki.ca_key_pem, 0o600)?;
        write_file(&paths.server_cert, &pki.server_cert_pem, 0o644)?;
        write_file(&paths.server_key, &pki.server_key_pem, 0o600)?;
        write_file(&sans_file, &wanted, 0o644)?;
        Ok(pki)
    }

    // ANCHOR: server_config
    /// The rustls server configuration: the serving certificate and key, HTTP/1.1 by ALPN
    /// (kubectl offers h2 and http/1.1 and settles for http/1.1).
    pub fn server_config(&self) -> io::Result<Arc<rustls::ServerConfig>> {
        let certs = CertificateDer::pem_slice_iter(self.server_cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io_err("pki/apiserver.crt", e))?;
        let key = PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes())
            .map_err(|e| io_err("pki/apiserver.key", e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| io_err("TLS versions", e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| io_err("serving certificate", e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
    // ANCHOR_END: server_config
}

/// A rustls client configuration trusting only the CA in `ca_pem`.
pub fn client_config(ca_pem: &str) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    let mut any = false;
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| io_err("certificate-authority-data", e))?;
        roots
            .add(cert)
            .map_err(|e| io_err("certificate-authority-data", e))?;
        any = true;
    }
    if !any {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "certificate-authority-data: no PEM certificate found",
        ));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| io_err("TLS versions", e))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where the four PEM files live under a `pki/` directory.
#[derive(Debug, Clone)]
pub struct PkiPaths {
    /// `ca.crt`
    pub ca_cert: PathBuf,
    /// `ca.key`
    pub ca_key: PathBuf,
    /// `apiserver.crt`
    pub server_cert: PathBuf,
    /// `apiserver.key`
    pub server_key: PathBuf,
}

impl PkiPaths {
    /// The paths under `pki_dir`.
    pub fn new(pki_dir: &Path) -> Self {
        PkiPaths {
            ca_cert: pki_dir.join("ca.crt"),
            ca_key: pki_dir.join("ca.key"),
            server_cert: pki_dir.join("apiserver.crt"),
            server_key: pki_dir.join("apiserver.key"),
        }
    }
}

fn read(path: &Path) -> io::Result<String> {
    fs::read_to_string(path).map_err(|e| io_err(&format!("reading {}", path.display()), e))
}

/// Writes `contents` to `path` with permission `mode` (0600 for keys), replacing any earlier
/// file and fixing its mode.
pub(crate) fn write_file(path: &Path, contents: &str, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io_err(&format!("writing {}", path.display()), e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| io_err(&format!("writing {}", path.display()), e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| io_err(&format!("chmod {}", path.display()), e))
}
