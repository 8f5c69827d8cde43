"""Core: settings, logging, error types, transient-error rules and retries.

Imports nothing else of `shared`; every other layer may import it."""
