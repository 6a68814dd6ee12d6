"""Driving a real Buildroot (placeholder; see docs/buildroot.md)."""
