package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// userHZ is the unit of the times in /proc/PID/stat (USER_HZ, 100 on
// Linux whatever the kernel's tick rate).
const userHZ = 100

// procCPU is the CPU time (user + system, all threads) process pid has used,
// from /proc/PID/stat, in 10 ms steps; 0 where it cannot be read.
func procCPU(pid int) time.Duration { return statCPU("/proc/" + strconv.Itoa(pid) + "/stat") }

// statCPU is the user + system time of a /proc stat file (a process's or
// a thread's); 0 where it cannot be read.
func statCPU(path string) time.Duration {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start with the state (field 3).
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / userHZ
}

// statusField reads a "kB" field of a /proc/PID/status file (VmHWM: peak
// resident set size, VmRSS: current) in bytes; 0 where it is missing.
func statusField(path, field string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field+":") {
			continue
		}
		fields := strings.Fields(line[len(field)+1:])
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

func peakRSS() int64    { return statusField("/proc/self/status", "VmHWM") }
func currentRSS() int64 { return statusField("/proc/self/status", "VmRSS") }

func procPeakRSS(pid int) int64 {
	return statusField("/proc/"+strconv.Itoa(pid)+"/status", "VmHWM")
}

func procRSS(pid int) int64 {
	return statusField("/proc/"+strconv.Itoa(pid)+"/status", "VmRSS")
}
