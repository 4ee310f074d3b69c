//! Lab 08: Services, ConfigMaps and Secrets.
