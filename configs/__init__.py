"""Configs: default.py (every field documented), digits.py (embedded default), tiny.py (tests)."""
