# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
BUILD ?= build
JOBS ?= 2
CONFIG ?= examples/gateway.yaml

# HISTORY_DB_DSN selects the database (default sqlite:///data/history.db).
.PHONY: db-migrate all bootstrap build run test unit-test e2e-test conformance-test authserver-test policy-test sanitize-test rego-conformance bench format lint tidy clean

all: build

bootstrap:
	@scripts/bootstrap.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: bootstrap build
	$(BUILD)/mcpgw serve --config $(CONFIG)

test: bootstrap build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory lint policy-test sanitize-test e2e-test conformance-test authserver-test deploy-test

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e-test: build
	tests/integration/run.sh

conformance-test: build
	tests/conformance/all.sh

# The development authorization server: MCP conformance `authorization` + its own checks, per algorithm.
authserver-test: build
	@for alg in RS256 PS256 ES256 EdDSA; do \
	  echo "=== auth-server with $$alg"; AUTH_JWT_SIGNING_ALG=$$alg tests/authserver/run.sh || exit 1; \
	done

# The shipped policy's tests (like `opa test`), on the embedded Rego engine.
policy-test: build
	$(BUILD)/mcpgw policy test services/opa/policies services/opa/data tests/policies

# Sanitized builds, each in a directory of its own:
# - AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer): the Rego engine (it parses and
#   evaluates policy text: its unit tests and OPA's cases), the history stores (SQLite and
#   PostgreSQL bindings), and the gateway built with them under the whole end-to-end suite (a
#   report from any gateway process fails the target).
# - ThreadSanitizer: the history recorder, whose writer and reader threads share queues with the
#   event loop: its unit tests, then the gateway built with it under the end-to-end history tests
#   (a race report in any gateway process fails the target).
# ~18 min on 2 cores from scratch.
SANITIZE_BUILD ?= build-sanitize
TSAN_BUILD ?= build-tsan
sanitize-test:
	@test -f $(SANITIZE_BUILD)/CMakeCache.txt || cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target rego_test rego_conformance history_test mcpgw
	$(SANITIZE_BUILD)/src/rego/rego_test --gtest_brief=1
	$(SANITIZE_BUILD)/rego_conformance tests/rego/opa-v1
	$(SANITIZE_BUILD)/src/history/history_test --gtest_brief=1
	rm -rf $(SANITIZE_BUILD)/reports && mkdir -p $(SANITIZE_BUILD)/reports
	MCPGW_BIN=$(SANITIZE_BUILD)/mcpgw ASAN_OPTIONS="log_path=$(abspath $(SANITIZE_BUILD))/reports/asan" \
	  UBSAN_OPTIONS="log_path=$(abspath $(SANITIZE_BUILD))/reports/ubsan print_stacktrace=1" \
	  tests/integration/run.sh
	@if ls $(SANITIZE_BUILD)/reports/* >/dev/null 2>&1; then cat $(SANITIZE_BUILD)/reports/*; \
	  echo "sanitize-test: AddressSanitizer/UBSan reported an error in the gateway (above)"; exit 1; fi
	@test -f $(TSAN_BUILD)/CMakeCache.txt || cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target history_test mcpgw
	TSAN_OPTIONS=halt_on_error=1 $(TSAN_BUILD)/src/history/history_test --gtest_brief=1
	rm -rf $(TSAN_BUILD)/reports && mkdir -p $(TSAN_BUILD)/reports
	MCPGW_BIN=$(TSAN_BUILD)/mcpgw TSAN_OPTIONS="log_path=$(abspath $(TSAN_BUILD))/reports/race" \
	  tests/integration/run.sh history
	@if ls $(TSAN_BUILD)/reports/race* >/dev/null 2>&1; then cat $(TSAN_BUILD)/reports/race*; \
	  echo "sanitize-test: ThreadSanitizer reported a race in the gateway (above)"; exit 1; fi

# OPA's own test cases against the embedded engine; the table goes to docs/rego-conformance.md.
rego-conformance: build
	BUILD=$(BUILD) scripts/rego-conformance.sh

db-migrate: build
	$(BUILD)/mcpgw db migrate

bench: bootstrap build
	bench/run.sh

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'tests/rego/*.cc')

# Style is settled by tools: clang-format must have nothing to change, clang-tidy nothing to say.
lint: build
	scripts/gen-init-sql.sh --check
	clang-format --dry-run -Werror $$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'tests/rego/*.cc')
	git ls-files 'src/*.cc' | grep -v '_test\.cc$$' | xargs -P $(JOBS) -n 4 clang-tidy -p $(BUILD) --quiet 2>/dev/null --warnings-as-errors='*'
	@echo "lint: clang-format and clang-tidy clean"

tidy: lint

clean:
	rm -rf $(BUILD)

# ---- Packaging and deployment (docs/QUICKSTART.md, docs/deployment.md) ------------------------
# The local stack: Docker Compose v2 when present, else Debian's docker-compose 1.29.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
COMPOSE_ARGS = -f compose/docker-compose.yml --env-file compose/.env
# Terraform environment: make tf-plan ENV=staging (TF_STATE_BUCKET=... for tf-init).
ENV ?= dev
TF_DIR = infra/terraform/envs/$(ENV)
TF_ENV_OK = $(if $(filter $(ENV),dev staging prod),,$(error ENV must be dev, staging or prod (got '$(ENV)')))

.PHONY: up down logs bundle deploy-test tf-init tf-plan tf-apply

compose/.env:
	cp compose/.env.example compose/.env

up: compose/.env
	$(COMPOSE) $(COMPOSE_ARGS) up -d --build $(if $(findstring docker compose,$(COMPOSE)),--wait,)
	$(COMPOSE) $(COMPOSE_ARGS) ps

down: compose/.env
	$(COMPOSE) $(COMPOSE_ARGS) down

logs: compose/.env
	$(COMPOSE) $(COMPOSE_ARGS) logs -f --tail=200

# The OPA bundles (.tar.gz with .manifest) that cloud OPA sidecars pull from GCS: the policy and
# its data, and the emergency switch on its own (docs/operations.md).
bundle:
	scripts/opa-bundle.sh $(BUILD)/opa/bundle.tar.gz
	scripts/opa-bundle.sh --emergency $(BUILD)/opa/emergency.tar.gz

# Offline validation of everything above (tests/deploy/run.sh); uses $(BUILD)/mcpgw when built.
deploy-test:
	@scripts/bootstrap.sh
	MCPGW=$(BUILD)/mcpgw tests/deploy/run.sh

tf-init:
	$(TF_ENV_OK)terraform -chdir=$(TF_DIR) init -input=false $(if $(TF_STATE_BUCKET),-backend-config=bucket=$(TF_STATE_BUCKET),)

tf-plan: bundle
	$(TF_ENV_OK)terraform -chdir=$(TF_DIR) plan -input=false -var=bundle_path=$(abspath $(BUILD)/opa/bundle.tar.gz) \
	  -var=emergency_bundle_path=$(abspath $(BUILD)/opa/emergency.tar.gz) -out=tfplan

tf-apply:
	$(TF_ENV_OK)terraform -chdir=$(TF_DIR) apply -input=false tfplan
