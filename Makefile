# Two commands set everything up on a fresh machine: `make run` and `make test`.
CARGO ?= cargo

.PHONY: deps build run run-kafka run-cluster broker proxies browser api-tools promtool test soak fuzz bench-tools bench pictures lint clean

## Debian packages the build needs (OpenSSL headers for librdkafka's TLS, pkg-config, curl), when missing.
deps:
	./scripts/install-system-deps.sh

## Builds the host, the plugins and the tools (the plugin libraries are not built by `cargo test`).
build: deps
	$(CARGO) build --workspace

## Builds, then runs the gateway on its embedded default with the demo API and a demo receiver.
run: build
	./examples/demo/run.sh mock

## The same demo against a local Kafka-compatible broker (tansu) fed by `target/debug/kafka-produce`.
run-kafka: build broker
	./examples/demo/run.sh kafka

## Three gateways sharing a Kafka store (docs/cluster.md): tansu, nodes on 127.0.0.1:18082-18084, the demo receiver.
run-cluster: build broker
	./examples/demo/run.sh cluster

## Installs the Kafka-compatible broker the tests and run-kafka use (tansu; about 10 minutes the first time).
broker:
	./scripts/install-tansu.sh

## The real proxies the proxy tests start (tinyproxy, dante) and dante's test account.
proxies:
	./scripts/install-test-proxies.sh

## Debian's chromium and chromedriver, for the logs page test.
browser:
	./scripts/install-test-browser.sh

## schemathesis and PyJWT for the API and JWT tests (a virtual environment under target/).
api-tools:
	./scripts/install-test-python.sh

## promtool (Debian's prometheus package), which checks the metrics exposition in the tests.
promtool:
	./scripts/install-test-promtool.sh

## Builds, then runs every test (unit and end-to-end, on a real broker, real proxies, a real browser, schemathesis,
## promtool).
test: build broker proxies browser api-tools promtool
	$(CARGO) test --workspace

## The fault soak (a few minutes): two gateways, a SIGKILL, a broker restart, the callback down 30 s, pause/resume
## and a redeploy; prints produced, delivered, lost and duplicated per QoS. `make test` runs a shorter variant.
soak: build broker
	GATEWAY_SOAK=full $(CARGO) test -p e2e --test it soak:: -- --nocapture

## Fuzzes the API definition, subscription and sampling parsers and the flows' expression language, FUZZ_SECONDS (default 60) each, with cargo-fuzz
## on the nightly toolchain; a crash is kept in fuzz/artifacts/.
fuzz:
	./scripts/fuzz.sh

## wrk and nginx (Debian), the HTTP limit the bench measures against.
bench-tools:
	./scripts/install-bench-tools.sh

## Throughput, latency and footprint against the machine's own limits (wrk → nginx, a bare consumer), on release
## builds; writes docs/benchmarks.md. BENCH_ONLY=limits,mock,kafka,footprint runs some sections (printed only).
bench: deps broker bench-tools
	$(CARGO) build --release --workspace
	$(CARGO) bench -p e2e --bench gateway

## The pictures of docs/observability.md, taken from the real pages by the console and dashboard tests.
pictures: build broker browser api-tools promtool
	GATEWAY_TEST_PICTURES=$(CURDIR)/docs/pictures $(CARGO) test -p e2e --test it -- console::the_plots dashboard:: --test-threads 1

## Formatting and lints, as CI checks them.
lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

clean:
	$(CARGO) clean
	rm -rf run
