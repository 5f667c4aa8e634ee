"""Coordinator reports. `build_report` in registry.py is the one path every output goes through."""
