# One entry point for developers, CI and the README.
#   make demo   the whole job on a demo legacy database (embedded SQLite default)
#   make test   lint, the tests on PostgreSQL and on SQLite, schemathesis, the growth guard
#   make lint   ruff, mypy --strict, makemigrations --check, check --deploy (production settings)
#   make bench  the performance figures (PostgreSQL; N = 100,000 and 1,000,000)
#   make guard  fails when a step of the copy grows faster than the data (20,000 vs 40,000)
#   make serve  the site under gunicorn, static files by WhiteNoise (PORT=8000, WORKERS=2)
#   make schemathesis  the whole API against its own OpenAPI schema

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-postgres test-sqlite lint deploy-check bench guard serve schemathesis

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
	$(PY) -m mypy authcore accounts legacy natscreds
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

# Every operation of /api/schema called with generated data: no 500, no answer the schema
# does not describe (PostgreSQL, the test database of test-postgres).
schemathesis: install
	$(PY) -m pytest tests/fuzz_schemathesis.py -p no:cacheprovider

test: lint test-postgres test-sqlite schemathesis guard

PORT ?= 8000
BIND ?= 127.0.0.1:$(PORT)
WORKERS ?= 2
# Production's way of serving: collectstatic, then gunicorn (settings from .env).
serve: install
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/gunicorn authcore.wsgi:application --bind $(BIND) \
	  --workers $(WORKERS) --access-logfile - --forwarded-allow-ips 127.0.0.1

bench: install
	$(PY) bench/run.py

guard: install
	$(PY) bench/guard.py
