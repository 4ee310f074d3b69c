//! Lab 08: Services, ConfigMaps and Secrets.
#![warn(missing_docs)]

pub mod encryption;
