//! The workspace package owns the workspace-level tests in `tests/`; it has no code of its own.
