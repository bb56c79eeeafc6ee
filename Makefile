# The two commands of the README. Both install what is missing first (as root on Debian:
# system packages through apt-get), then run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check install system-packages plc-sim clean

# The gateway and, beside it, a simulated PLC for the demo lanes (a vehicle drives through
# 3 s after the arm is up); stopping the gateway stops the simulator.
run: install
	@$(BIN)/parkgate plc-sim --auto-pass-s 3 & sim=$$!; \
	trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	$(BIN)/parkgate serve

# Two test processes (pytest-xdist), each taking a whole file at a time (its module fixtures stay
# one gateway, one database): on CI's two cores the tests wait on subprocesses, sockets and the
# databases about as much as they compute. `make test PYTEST_WORKERS=` runs them in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile
test: check
	$(BIN)/python -m pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The layers (import contracts in setup.cfg), lint and types: a violation fails `make test`, so CI.
check: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

install: system-packages $(STAMP)

# Debian packages the gateway and its tests use, installed only when missing: Tesseract,
# xmllint (an independent schema validator for the tests), the GL/GLib libraries that
# opencv-python's wheel loads, the fonts the plate renderer draws with (recognition/training), and
# pg_dump/pg_restore (backups of a PostgreSQL database), and Chromium with its WebDriver (the
# console's browser tests).
system-packages:
	@missing=""; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	command -v xmllint >/dev/null 2>&1 || missing="$$missing libxml2-utils"; \
	for f in dejavu/DejaVuSansCondensed-Bold.ttf:fonts-dejavu-core opendin/OSP-DIN.ttf:fonts-opendin \
	         liberation2/LiberationSans-Bold.ttf:fonts-liberation2; do \
	  test -f /usr/share/fonts/truetype/$${f%%:*} || missing="$$missing $${f##*:}"; done; \
	command -v pg_dump >/dev/null 2>&1 || missing="$$missing postgresql-client"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ldconfig -p | grep -q 'libGL.so.1 ' || missing="$$missing libgl1"; \
	ldconfig -p | grep -q 'libglib-2.0.so.0 ' || missing="$$missing libglib2.0-0"; \
	$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The last step adds the plate recogniser's model file (recognition/inference.py): that wheel
# alone, without its dependencies (its opencv-python-headless would overwrite opencv-python's cv2).
$(STAMP): setup.cfg pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m pip install -q --no-deps 'rapidocr==3.10.0'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var *.egg-info
