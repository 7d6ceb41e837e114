# Snapfind developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU machines this project is built on carry these wheels on disk; elsewhere pip fetches them.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1

.PHONY: run test lint typecheck pytest bench bench-scale bench-duplicates bench-speed bench-presets bench-storage screenshots clean package package-check install-desktop uninstall-desktop

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/snapfind $(ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.installed-dev bench-scale
	$(PY) bench/bench_index.py $(BENCH_ARGS)
	$(PY) bench/bench_speed.py $(SPEED_ARGS)

bench-speed: $(VENV)/.installed-dev
	$(PY) bench/bench_speed.py $(SPEED_ARGS)

bench-storage: $(VENV)/.installed-dev
	$(PY) bench/bench_storage.py $(STORAGE_ARGS)

bench-presets: $(VENV)/.installed-dev
	$(PY) bench/bench_presets.py --workdir $(or $(WORKDIR),/tmp/snapfind-bench) $(PRESET_ARGS)

bench-duplicates: $(VENV)/.installed-dev
	$(PY) bench/bench_duplicates.py $(BENCH_ARGS)

# 100k-vector library + 100k-file re-scan by default (cached in the work folder); 1M with
# SCALE_ARGS="--sizes 100000 1000000 --workdir /tmp/bench-work".
bench-scale: $(VENV)/.installed-dev
	$(PY) bench/bench_scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

SHOTS ?= resources/screenshots
screenshots: $(VENV)/.installed-dev
	if command -v xvfb-run >/dev/null; then \
		QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) tests/screenshots.py $(SHOTS); \
	else \
		QT_QPA_PLATFORM=offscreen $(PY) tests/screenshots.py $(SHOTS); \
	fi

# The one-folder app (dist/snapfind/) from packaging/snapfind.spec. It is built in its own
# environment with the CPU build of torch (the CUDA one would add several GB of NVIDIA
# libraries); PKG_VENV=path uses an environment you prepared instead.
PKG_VENV ?= build/venv-cpu
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
$(PKG_VENV)/.created:
	$(PYTHON) -m venv $(PKG_VENV)
	$(PKG_VENV)/bin/pip install --quiet --upgrade pip
	$(PKG_VENV)/bin/pip install --quiet torch torchvision --index-url $(TORCH_CPU_INDEX)
	$(PKG_VENV)/bin/pip install --quiet . pyinstaller
	touch $@

package: $(PKG_VENV)/.created
	$(PKG_VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/snapfind.spec
	@du -sh dist/snapfind

# Moves the built folder aside, runs it with no PATH, PYTHONPATH or network: index, searches,
# the window's first paint (tests/test_packaging_bundle.py; skipped when nothing is built).
package-check: $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 $(PY) -m pytest -p no:cacheprovider \
		tests/test_packaging_bundle.py tests/test_packaging.py $(PYTEST_ARGS)

# The applications-menu entry ("Open with Snapfind" on pictures), icon and AppStream data for
# the current user; it starts the built folder, else the `snapfind` on PATH (SNAPFIND=path).
install-desktop:
	sh packaging/install-desktop.sh $(SNAPFIND)

uninstall-desktop:
	sh packaging/install-desktop.sh --uninstall
