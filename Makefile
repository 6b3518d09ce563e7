# Two commands are all a newcomer needs (README "Quick start"):
#   make chat   - the bot in the terminal, on the embedded SQLite database
#   make test   - the whole test suite
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: chat serve test lint fmt typecheck eval bench i18n-extract i18n-update i18n-compile clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/otwarta chat

serve: $(STAMP)
	$(BIN)/otwarta serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

# The labelled development set lives in ../shared; without it, a small bundled sample of our
# own (tests/data/eval_sample.jsonl) shows that the evaluation runs and roughly how it does.
SHARED    ?= ../shared
EVAL_SET  := $(firstword $(wildcard $(SHARED)/eval/dev.jsonl) tests/data/eval_sample.jsonl)

eval: $(STAMP)
	@test -f $(SHARED)/eval/dev.jsonl || \
	  echo "$(SHARED)/eval/dev.jsonl not found: evaluating on the bundled sample $(EVAL_SET)"
	$(BIN)/otwarta faq eval $(EVAL_SET)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matcher.py

# UI strings (bot/locales/README.md): extract from the code, merge into the four catalogs.
# The bot reads the .po files directly; i18n-compile only checks them (into a temp dir).
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o bot/locales/messages.pot --no-location --sort-output \
	  --project=malopolska-otwarta --copyright-holder="the Małopolska Otwarta contributors" .
i18n-update: i18n-extract
	$(BIN)/pybabel update -i bot/locales/messages.pot -d bot/locales -D messages --no-fuzzy-matching
i18n-compile: $(STAMP)
	tmp=$$(mktemp -d) && cp -R bot/locales/. "$$tmp" && \
	  $(BIN)/pybabel compile -d "$$tmp" -D messages --statistics; \
	  status=$$?; rm -rf "$$tmp"; exit $$status

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
