# One entry point for developers, CI and the README.
#   make demo   the whole job on a demo legacy database (embedded SQLite default)
#   make test   lint, migration check, the tests on PostgreSQL and on SQLite, the growth guard
#   make lint   ruff, makemigrations --check, and check --deploy with production settings
#   make bench  the performance figures (PostgreSQL; N = 100,000 and 1,000,000)
#   make guard  fails when a step of the copy grows faster than the data (20,000 vs 40,000)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-postgres test-sqlite lint deploy-check bench guard

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# A new .env gets a SECRET_KEY of its own, so sessions outlive a restart of runserver.
demo: install
	@test -f .env || sed "s/^SECRET_KEY=$$/SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
	  .env.example > .env
	$(PY) manage.py demo

lint: install deploy-check
	$(PY) -m ruff check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run

# Django's deployment checklist (HTTPS, HSTS, secure cookies, the secret key) passes with
# the settings a production host gives in its environment; any warning fails.
deploy-check: install
	env DEBUG=false ALLOWED_HOSTS=auth.example.com SECURE_HSTS_PRELOAD=true \
	  SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https REDIS_URL=redis://127.0.0.1:6379/0 \
	  SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  $(PY) manage.py check --deploy --fail-level WARNING

test-postgres: install
	$(PY) -m pytest

test-sqlite: install
	TEST_DATABASE=sqlite $(PY) -m pytest

test: lint test-postgres test-sqlite guard

bench: install
	$(PY) bench/run.py

guard: install
	$(PY) bench/guard.py
