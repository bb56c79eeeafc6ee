"""Test doubles of legacy parking systems that speak their protocols over the wire."""
