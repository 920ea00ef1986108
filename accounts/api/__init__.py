"""The HTTP API: Bearer API keys and JWT logins, the current user, keys, tenants, health."""
