# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
BUILD ?= build
JOBS ?= 2
CONFIG ?= examples/gateway.yaml

# HISTORY_DB_DSN selects the database (default sqlite:///data/history.db).
.PHONY: db-migrate all bootstrap build run test unit-test e2e-test conformance-test authserver-test policy-test rego-conformance bench format lint tidy clean

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
	$(MAKE) --no-print-directory lint policy-test e2e-test conformance-test authserver-test

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
