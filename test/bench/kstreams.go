package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// --- KS -----------------------------------------------------------------------

// ksConfig is how the KS scenario starts its Java process.
type ksConfig struct {
	Java      string `json:"java"`      // the java binary
	Classpath string `json:"classpath"` // printed by kstreams/build.sh build
	// JVMOpts are the JVM's options, split on white space.
	JVMOpts          string `json:"jvm_opts"`
	CommitIntervalMs int    `json:"commit_interval_ms"`
	Threads          int    `json:"threads"`
}

// defaultKSJVMOpts are the JVM options of the KS process: a heap limit, as
// a deployment sets one; the rest (G1 on this machine) is the JVM's default.
const defaultKSJVMOpts = "-Xmx512m"

// ksMainClass is the application in kstreams/src/main/java.
const ksMainClass = "dev.millrace.bench.KStreamsBench"

// ksStopTimeout is how long the Java process may take to close after its
// standard input was closed; it is killed after that.
const ksStopTimeout = 45 * time.Second

// runKStreams runs the Kafka Streams application from s.In to s.Out as
// application (group) s.Group, in its own process, until ctx is done; it then
// closes the process's standard input, which makes it close its streams
// client (committing what it processed) and exit. If this process dies
// first, the pipe closes as well, so the Java process never outlives it.
func runKStreams(ctx context.Context, s *stage) error {
	ks := s.KS
	if ks.Classpath == "" {
		return errors.New("KS: no classpath (kstreams/build.sh build did not run)")
	}
	stateDir, err := os.MkdirTemp("", "millrace-bench-ks-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	args := strings.Fields(ks.JVMOpts)
	args = append(args,
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"-cp", ks.Classpath, ksMainClass,
		"--bootstrap", strings.Join(s.Brokers, ","),
		"--input", s.In, "--output", s.Out,
		"--application-id", s.Group,
		"--state-dir", stateDir,
		"--threads", strconv.Itoa(max(1, ks.Threads)),
		"--commit-interval-ms", strconv.Itoa(ks.CommitIntervalMs),
	)
	java := ks.Java
	if java == "" {
		java = javaBinary()
	}
	cmd := exec.Command(java, args...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("KS: start %s: %w", java, err)
	}
	s.pid.Store(int64(cmd.Process.Pid))
	waitc := make(chan error, 1)
	go func() { waitc <- cmd.Wait() }()
	select {
	case err := <-waitc:
		return fmt.Errorf("KS: the java process exited: %v", err)
	case <-ctx.Done():
	}
	_ = stdin.Close()
	select {
	case err := <-waitc:
		if err != nil {
			return fmt.Errorf("KS: the java process: %w", err)
		}
		return ctx.Err()
	case <-time.After(ksStopTimeout):
		_ = cmd.Process.Kill()
		<-waitc
		return fmt.Errorf("KS: the java process did not stop within %s of its stdin closing; killed", ksStopTimeout)
	}
}

// javaBinary is $JAVA_HOME/bin/java if there is one, else java on PATH.
func javaBinary() string {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		if p := filepath.Join(h, "bin", "java"); isExecutable(p) {
			return p
		}
	}
	return "java"
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// findKStreamsDir returns the folder of kstreams/build.sh: dir if given,
// else kstreams/ under the working directory, test/bench/kstreams/ under it
// or one of its parents, or next to this source file.
func findKStreamsDir(dir string) (string, error) {
	if dir != "" {
		if !isExecutable(filepath.Join(dir, "build.sh")) {
			return "", fmt.Errorf("%s has no executable build.sh", dir)
		}
		return dir, nil
	}
	var cands []string
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, filepath.Join(wd, "kstreams"))
		for d := wd; ; d = filepath.Dir(d) {
			cands = append(cands, filepath.Join(d, "test", "bench", "kstreams"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "kstreams"))
	}
	for _, c := range cands {
		if isExecutable(filepath.Join(c, "build.sh")) {
			return c, nil
		}
	}
	return "", errors.New("kstreams/build.sh not found from the working directory (run from test/bench, or pass --kstreams-dir)")
}

// buildKStreams runs kstreams/build.sh build (a no-op once built) and
// returns the classpath it prints.
func buildKStreams(ctx context.Context, dir string, log io.Writer) (string, error) {
	dir, err := findKStreamsDir(dir)
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath(javaBinary()); err != nil {
		return "", fmt.Errorf("no java (Java 17+ is needed): %w", err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "build.sh"), "build")
	cmd.Stdout = &out
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s build: %w", filepath.Join(dir, "build.sh"), err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	cp := strings.TrimSpace(lines[len(lines)-1])
	if cp == "" {
		return "", errors.New("kstreams/build.sh build printed no classpath")
	}
	return cp, nil
}
