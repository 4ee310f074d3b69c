//! Lab 06: the controller manager, where the cluster heals itself.
