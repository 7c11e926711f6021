# easd — the two commands a newcomer needs are `make dev` and `make test`.
GO         ?= go
GOBIN      := $(shell $(GO) env GOPATH)/bin
STATICCHECK = $(shell command -v staticcheck || echo $(GOBIN)/staticcheck)
VERSION    ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME   ?= 15s

.PHONY: all build dev test lint fuzz-short clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/easd ./cmd/easd

## dev: run easd with a private PostgreSQL and Dovecot on localhost (data in ./.easd-dev);
##      flags go in ARGS, e.g. make dev ARGS="--listen 0.0.0.0:8080" (see bin/easd dev -h)
dev: build
	scripts/deps.sh dev
	bin/easd dev $(ARGS)

## test: vet, staticcheck and the whole test suite against real PostgreSQL, Dovecot and SMTP
test:
	scripts/deps.sh test
	$(MAKE) lint
	$(GO) test -count=1 -timeout 30m ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(STATICCHECK) ./...

## fuzz-short: run each fuzz target for FUZZTIME (CI does this after the tests)
fuzz-short:
	$(GO) test ./wbxml -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./wbxml -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./mailconv -run='^$$' -fuzz='^FuzzConvert$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./mailconv -run='^$$' -fuzz='^FuzzPrefix$$' -fuzztime=$(FUZZTIME)

clean:
	rm -rf bin
