.PHONY: test quickstart build
build:
	go build -o .cache/bin/pipeline-runner ./cmd/pipeline-runner
test:
	./test/run.sh
quickstart:
	./examples/quickstart/run.sh
