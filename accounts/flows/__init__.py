"""Account use cases, one module each, called from the API, the fastapi-users routes and
the admin alike: sign-up, verification, password reset and change, tenant members."""
