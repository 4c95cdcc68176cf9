package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// jitThreads reads the CPU time of a JVM's JIT compiler threads (named
// "C1 CompilerThread…" and "C2 CompilerThread…"), so that a drain's broker
// CPU can be told apart from the compilations it set off. A broker that
// has served the same requests for a while has compiled them; the bench's
// broker, between scenarios with new topics, groups and clients, was seen
// compiling for up to 2.6 s of a 1M drain, more than the spread between
// scenarios. The threads are looked up again every second (a JVM may start
// and stop compiler threads); a thread that is gone keeps the time it had.
type jitThreads struct {
	root    string // "/proc"
	pid     int
	last    map[int]time.Duration // each compiler thread's CPU time when last read
	scanned time.Time
}

func newJITThreads(pid int) *jitThreads {
	return &jitThreads{root: "/proc", pid: pid, last: map[int]time.Duration{}}
}

// cpu is the compiler threads' CPU time so far (since they were first
// seen); 0 when none can be read.
func (j *jitThreads) cpu() time.Duration {
	if time.Since(j.scanned) >= time.Second {
		j.scan()
	}
	var sum time.Duration
	for tid, was := range j.last {
		if t := j.threadCPU(tid); t > was {
			j.last[tid] = t
		}
		sum += j.last[tid]
	}
	return sum
}

// scan adds the compiler threads not seen yet.
func (j *jitThreads) scan() {
	j.scanned = time.Now()
	dir := j.taskDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ok := j.last[tid]; ok {
			continue
		}
		comm, err := os.ReadFile(dir + "/" + e.Name() + "/comm")
		if err == nil && isJITThread(strings.TrimSpace(string(comm))) {
			j.last[tid] = j.threadCPU(tid)
		}
	}
}

// isJITThread tells a HotSpot compiler thread by its name, which Linux
// cuts to 15 bytes ("C2 CompilerThre").
func isJITThread(comm string) bool {
	return strings.HasPrefix(comm, "C1 CompilerThre") || strings.HasPrefix(comm, "C2 CompilerThre")
}

func (j *jitThreads) taskDir() string { return j.root + "/" + strconv.Itoa(j.pid) + "/task" }

// threadCPU is the CPU time of thread tid; 0 once it is gone.
func (j *jitThreads) threadCPU(tid int) time.Duration {
	return statCPU(j.taskDir() + "/" + strconv.Itoa(tid) + "/stat")
}
