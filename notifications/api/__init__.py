"""Orion's REST API, version 1: notifications, channels, templates and stats."""
