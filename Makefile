# Kuayang: the two commands a new machine needs are `make run` and `make test`.

GO        ?= go
PKGS      := ./...
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
FUZZTIME  ?= 10s

.PHONY: run build test test-short fuzz lint bench bench-load screenshots clean

## run: the demo on embedded defaults (SQLite and files under ./data, one node)
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/kuayang serve --demo

## build: bin/kuayang
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kuayang ./cmd/kuayang

## test: every test with the race detector, then a short fuzz run of the signaling decoder
test:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(MAKE) fuzz

## test-short: the tests without the browser and race detector, for a quick loop
test-short:
	$(GO) test -count=1 -short $(PKGS)

## fuzz: run the signaling decoder's fuzz target for FUZZTIME
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./signaling/

## lint: go vet and staticcheck (a tool dependency in go.mod)
lint:
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## bench: the forwarding-path benchmarks (docs/benchmarks.md records results)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./sfu/

## bench-load: the load scenarios against fresh nodes and the bare-relay floor;
## rewrites the generated block of docs/benchmarks.md and docs/img/bench-*.png
## (BENCHLOAD_FLAGS='-duration 5s' for a quick run)
bench-load:
	$(GO) run ./tools/benchload $(BENCHLOAD_FLAGS)

## screenshots: the join page's screens in Chinese, English and Italian, taken
## by the browser test TestScreenshots into docs/screenshots/ (README); needs
## Chromium, ffmpeg and a Chinese font (apt-get install fonts-noto-cjk); built
## with the tag screenshots, so not part of make test
screenshots:
	KUAYANG_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -tags screenshots -count=1 -timeout 15m -run '^TestScreenshots$$' ./test/

clean:
	rm -rf bin
