//! Lab 08: Services, ConfigMaps and Secrets.
//!
//! Services: [`clusterip`] allocates each Service's virtual IP in the API server's create path;
//! [`endpoints`] keeps an Endpoints object per Service listing the Pods behind it;
//! [`proxy_wiring`] points every node's proxy (lab 03) at them; [`discovery`] tells pods where
//! Services are (environment variables and a hosts file). Secrets: [`encryption`] keeps them
//! encrypted at rest.

#![warn(missing_docs)]

pub mod clusterip;
pub mod discovery;
pub mod encryption;
pub mod endpoints;
pub mod proxy_wiring;
