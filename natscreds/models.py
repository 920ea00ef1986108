"""Consolidated NATS models (the NATS copy fills them; see the NATS issue)."""
