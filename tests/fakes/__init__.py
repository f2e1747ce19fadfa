"""Fake provider servers: real HTTP (and SMTP) servers on loopback for tests."""
