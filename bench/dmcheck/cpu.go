package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machine is shared with the load generator and, often, with other
// work (builds, tests). A figure measured while something else used the
// cores says little, so every run records where the CPU went: to the
// server under load, to the load tool, and to everything else. The report
// shows it next to each figure, and runs wait for a quiet machine first.

// userHZ is the unit of /proc CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// machineTicks returns, from the first line of /proc/stat, the CPU time
// of all CPUs so far spent in processes (user, nice, system), in interrupt
// handling (irq, softirq: much of loopback networking is accounted there,
// to no process), stolen by the hypervisor, and in all.
func machineTicks() (procs, irq, steal, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal; guest times are inside user
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
		total += v[i]
	}
	return v[0] + v[1] + v[2], v[5] + v[6], v[7], total
}

// procTicks returns the user+system CPU time of pid so far (0 when gone).
func procTicks(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return u + k
}

// cpuUse is where the CPU went during one run, in cores (of NumCPU):
// the server under load, the load tool, interrupt handling (the loopback
// network, mostly), every other process, and time the hypervisor took.
type cpuUse struct {
	Server, Tool, IRQ, Others, Steal float64
}

func (u *cpuUse) String() string {
	if u == nil {
		return notRun
	}
	return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f / %.2f", u.Server, u.Tool, u.IRQ, u.Others, u.Steal)
}

// cpuMeter measures one run.
type cpuMeter struct {
	b                        *bench
	procs, irq, steal, total uint64
	ours                     uint64 // our servers and this process
	server                   int    // pid of the server under load
	serverTicks              uint64
	started                  time.Time
}

func (b *bench) ourTicks() uint64 {
	t := procTicks(os.Getpid())
	for _, p := range []*proc{b.hearth, b.bare} {
		if p != nil {
			t += procTicks(p.pid())
		}
	}
	return t
}

func (b *bench) startMeter(server *proc) *cpuMeter {
	m := &cpuMeter{b: b, started: time.Now()}
	m.procs, m.irq, m.steal, m.total = machineTicks()
	m.ours = b.ourTicks()
	if server != nil {
		m.server = server.pid()
		m.serverTicks = procTicks(m.server)
	}
	return m
}

// stop ends the measurement; tool is the CPU the load tool used.
func (m *cpuMeter) stop(tool time.Duration) *cpuUse {
	procs, irq, steal, total := machineTicks()
	if total <= m.total {
		return nil
	}
	cores := float64(total-m.total) / userHZ // CPU-seconds available
	wall := cores / float64(runtime.NumCPU())
	if wall <= 0 {
		return nil
	}
	ours := float64(m.b.ourTicks()-m.ours) / userHZ
	u := &cpuUse{Tool: tool.Seconds() / wall, IRQ: float64(irq-m.irq) / userHZ / wall, Steal: float64(steal-m.steal) / userHZ / wall}
	if m.server != 0 {
		u.Server = float64(procTicks(m.server)-m.serverTicks) / userHZ / wall
	}
	u.Others = max(0, (float64(procs-m.procs)/userHZ-ours-tool.Seconds())/wall)
	return u
}

// othersNow measures, over d, how many cores processes other than this
// run's use.
func (b *bench) othersNow(d time.Duration) float64 {
	m := b.startMeter(nil)
	time.Sleep(d)
	if u := m.stop(0); u != nil {
		return u.Others + u.Steal
	}
	return 0
}

// quietThreshold is how busy (in cores, stolen time included) the rest of
// the machine may be
// for a run to start without waiting.
const quietThreshold = 0.10

// waitQuiet waits, up to -quiet-wait, until the rest of the machine uses
// less than quietThreshold cores over a second, so a run does not start in
// the middle of somebody's build. It notes when it gave up.
func (b *bench) waitQuiet(ctx context.Context, what string) {
	if b.o.quietWait <= 0 {
		return
	}
	deadline := time.Now().Add(b.o.quietWait)
	waited := false
	for {
		others := b.othersNow(time.Second)
		if others < quietThreshold {
			if waited {
				say("  the machine is quiet now (others %.2f cores)", others)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if time.Now().After(deadline) {
			b.note("%s started while other processes used %.2f cores (waited %s for quiet)", what, others, b.o.quietWait)
			return
		}
		if !waited {
			say("  waiting for a quiet machine: other processes use %.2f cores", others)
			waited = true
		}
	}
}

// renice gives pid's process group the -nice priority (if set).
func (b *bench) renice(pgid int) {
	if b.o.nice != 0 {
		if err := syscall.Setpriority(syscall.PRIO_PGRP, pgid, b.o.nice); err != nil {
			b.note("renice %d: %v", pgid, err)
		}
	}
}
