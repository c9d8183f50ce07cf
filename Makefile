# The two set-up commands are `make run` and `make test` (README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SIZE ?= M
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Settings need these to import; lint and makemigrations never connect.
LINT_ENV := DATABASE_URL=postgres://lint@127.0.0.1:1/lint REDIS_URL=redis://127.0.0.1:1/0 SECRET_KEY=lint

.PHONY: install run test lint bench test-deps clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(PY) -m crm.launcher

test: install test-deps
	$(PY) -m pytest --durations=30

# Browser tests use Debian's Chromium (Playwright's own browser download cannot work here);
# the translation test re-extracts messages with GNU gettext; the service mail tests start their own
# Dovecot IMAP server (tests/mailservers.py; the package's system service is not needed).
test-deps:
	@[ -x /usr/bin/chromium ] && [ -x /usr/sbin/dovecot ] && command -v xgettext >/dev/null || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium gettext dovecot-imapd >/dev/null; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(LINT_ENV) $(PY) -W ignore::RuntimeWarning manage.py makemigrations --check --dry-run
	@! grep -snE '\.objects\.(get|filter)\(' */views.py */views/*.py || { echo "views.py must read through selectors / visible_to(), not Model.objects"; exit 1; }

bench: install
	$(PY) -m bench.run --size $(SIZE)
	$(PY) -m bench.marketing_report

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
