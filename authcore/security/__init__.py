"""Login security wiring: lockout store, token ending, and their system checks."""
