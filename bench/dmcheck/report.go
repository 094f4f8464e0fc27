package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The goals of issue 4 on this 2-core machine.
const (
	goalThroughput = 0.70                 // check ÷ bare requests/s, at least
	goalP99Ratio   = 1.5                  // check ÷ bare p99, at most
	goalOpenP99    = 2 * time.Millisecond // open-loop p99, under
	goalRSSMB      = 150                  // MB resident, under
	goalStart      = 3 * time.Second      // start-up until /readyz answers 200, under
)

const (
	mb     = 1024.0    // kB per MB (/proc reports kB)
	notRun = "not run" // a figure whose tool was missing or failed
	dash   = "–"
)

func passMiss(ok bool) string {
	if ok {
		return "**PASS**"
	}
	return "**MISS**"
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func mbOf(kB int64) string {
	if kB == 0 {
		return notRun
	}
	return fmt.Sprintf("%.1f MB", float64(kB)/mb)
}

// median of vs (0 when empty).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// series is one figure over a list of closed-loop runs.
func series(runs []*wrkResult, get func(*wrkResult) float64) []float64 {
	var out []float64
	for _, r := range runs {
		out = append(out, get(r))
	}
	return out
}

// cellOf writes the median, and each run's value when there are several.
func cellOf(vs []float64, format func(float64) string) string {
	switch len(vs) {
	case 0:
		return notRun
	case 1:
		return format(vs[0])
	}
	var each []string
	for _, v := range vs {
		each = append(each, format(v))
	}
	return format(median(vs)) + " (" + strings.Join(each, " / ") + ")"
}

func usF(v float64) string { return us(int64(v)) }

// report prints the markdown table (and writes it to -out).
func (b *bench) report(stdout io.Writer) {
	var sb strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	dbName := "SQLite"
	if b.o.db != "" {
		dbName = "Postgres"
	}
	host, _ := os.Hostname()
	w("\n## DM check benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w("%s supervised teens on %s · %d CPUs on %s · %s · wrk -t %d -c %d -d %s (after %s warm-up), %d round(s) · vegeta %d/s for %s · %d distinct bodies (seed %d)\n\n",
		thousands(float64(b.o.teens)), dbName, runtime.NumCPU(), host, runtime.Version(),
		b.o.threads, b.o.conns, b.o.duration, b.o.warmup, b.o.rounds, b.o.rate, b.o.rateDur, len(b.bodyLines), b.o.seed)
	w("| figure | check | bare | check ÷ bare | goal | result |\n")
	w("|---|--:|--:|--:|---|---|\n")

	cr, br := b.checkRuns, b.bareRuns
	ratioRow := func(name string, get func(*wrkResult) float64, format func(float64) string, goal string, judge func(x float64) bool, asPercent bool) {
		c, bv := series(cr, get), series(br, get)
		ratio, result := dash, ""
		if len(c) > 0 && len(bv) > 0 && median(bv) > 0 {
			x := median(c) / median(bv)
			if asPercent {
				ratio = fmt.Sprintf("%.0f%%", 100*x)
			} else {
				ratio = fmt.Sprintf("%.2f×", x)
			}
			if judge != nil {
				result = passMiss(judge(x))
			}
		} else if judge != nil {
			result = notRun
		}
		w("| closed loop, %d conns: %s | %s | %s | %s | %s | %s |\n", b.o.conns, name, cellOf(c, format), cellOf(bv, format), ratio, goal, result)
	}
	ratioRow("requests/s", (*wrkResult).rps, thousands, "≥ 70% of bare", func(x float64) bool { return x >= goalThroughput }, true)
	ratioRow("p50", func(r *wrkResult) float64 { return float64(r.P50) }, usF, "", nil, false)
	ratioRow("p99", func(r *wrkResult) float64 { return float64(r.P99) }, usF, "≤ 1.5× bare", func(x float64) bool { return x <= goalP99Ratio }, false)
	ratioRow("p99.9", func(r *wrkResult) float64 { return float64(r.P999) }, usF, "", nil, false)
	errs := func(runs []*wrkResult) string {
		if len(runs) == 0 {
			return notRun
		}
		var st, so int64
		for _, r := range runs {
			st += r.StatusErrors
			so += r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.Timeouts
		}
		return fmt.Sprintf("%d / %d", st, so)
	}
	w("| closed loop: non-2xx / socket errors | %s | %s | | 0 / 0 | %s |\n", errs(cr), errs(br), passMiss(errs(cr) == "0 / 0" && errs(br) == "0 / 0"))
	cpus := func(runs []*wrkResult) string {
		if len(runs) == 0 {
			return notRun
		}
		var each []string
		for _, r := range runs {
			each = append(each, r.CPU.String())
		}
		return strings.Join(each, "; ")
	}
	w("| closed loop: CPU server / wrk / irq / others / steal, cores of %d | %s | %s | | others, steal ≈ 0 | |\n", runtime.NumCPU(), cpus(cr), cpus(br))

	oc, ob := b.openCheck, b.openBare
	vcell := func(r *vegetaResult, f func(*vegetaResult) string) string {
		if r == nil {
			return notRun
		}
		return f(r)
	}
	vratio := func(get func(*vegetaResult) time.Duration) string {
		if oc == nil || ob == nil || get(ob) <= 0 {
			return dash
		}
		return fmt.Sprintf("%.2f×", float64(get(oc))/float64(get(ob)))
	}
	for _, row := range []struct {
		name string
		get  func(*vegetaResult) time.Duration
		goal string
	}{
		{"p50", func(r *vegetaResult) time.Duration { return r.P50 }, ""},
		{"p99", func(r *vegetaResult) time.Duration { return r.P99 }, "< 2 ms"},
		{"p99.9", func(r *vegetaResult) time.Duration { return r.P999 }, ""},
	} {
		result := ""
		if row.goal != "" {
			result = notRun
			if oc != nil {
				result = passMiss(oc.P99 < goalOpenP99)
			}
		}
		w("| open loop, %d/s: %s | %s | %s | %s | %s | %s |\n", b.o.rate, row.name,
			vcell(oc, func(r *vegetaResult) string { return ns(row.get(r)) }), vcell(ob, func(r *vegetaResult) string { return ns(row.get(r)) }),
			vratio(row.get), row.goal, result)
	}
	okRate := func(r *vegetaResult) bool { return r != nil && r.Success == 1 && r.Rate >= 0.97*float64(b.o.rate) }
	w("| open loop: achieved rate, success | %s | %s | | the rate, all 200 | %s |\n",
		vcell(oc, func(r *vegetaResult) string { return fmt.Sprintf("%s/s, %.2f%%", thousands(r.Rate), 100*r.Success) }),
		vcell(ob, func(r *vegetaResult) string { return fmt.Sprintf("%s/s, %.2f%%", thousands(r.Rate), 100*r.Success) }),
		map[bool]string{true: passMiss(okRate(oc)), false: notRun}[oc != nil])
	w("| open loop: CPU server / vegeta / irq / others / steal, cores | %s | %s | | others, steal ≈ 0 | |\n",
		vcell(oc, func(r *vegetaResult) string { return r.CPU.String() }), vcell(ob, func(r *vegetaResult) string { return r.CPU.String() }))

	peak := max(b.rssWarm.hwmKB, b.rssAfter.hwmKB)
	w("| hearth RSS: after warm-up / after load / peak (VmHWM) | %s / %s / %s | | | < 150 MB | %s |\n",
		mbOf(b.rssWarm.rssKB), mbOf(b.rssAfter.rssKB), mbOf(peak), passMiss(peak > 0 && float64(peak)/mb < goalRSSMB))
	w("| start-up until /readyz answers 200 | %s | | | < 3 s | %s |\n", ns(b.startup), passMiss(b.startup > 0 && b.startup < goalStart))
	w("| seeding (`hearth demo --teens %d`): seeding / whole command | %s / %s | | | | |\n", b.o.teens, orDash(b.seedTold), ns(b.seedWall))
	s := b.sample
	w("| decisions of %d sequential checks: allow / request / hold / deny | %d / %d / %d / %d | | | | |\n",
		s.n, s.byDecision["allow"], s.byDecision["request"], s.byDecision["hold"], s.byDecision["deny"])
	w("| answers not as documented (of %d) | %d | | | 0 | %s |\n", s.n, s.bad, passMiss(s.n > 0 && s.bad == 0))

	reasons := slices.Sorted(maps.Keys(s.byReason))
	var parts []string
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, s.byReason[r]))
	}
	w("\nReasons in the sample: %s.\n\n", strings.Join(parts, ", "))
	w("Closed loop: the check runs before and after each bare run; a cell shows the median and, in brackets, each run. ")
	w("Check ÷ bare is median ÷ median. Latencies are wrk's (closed loop, no coordinated-omission correction) and vegeta's (open loop, fixed rate). ")
	w("CPU is what the server under load, the load tool, interrupt handling (mostly the loopback network, accounted to no process), every other process and the hypervisor (steal) used during the run, in cores; a run where others or steal used more than a few tenths of a core measured the neighbours too.\n")
	for _, p := range s.problems {
		w("- sample problem: %s\n", p)
	}
	for _, n := range b.notes {
		w("- note: %s\n", n)
	}
	fmt.Fprint(stdout, sb.String())
	if b.o.out != "" {
		if err := os.WriteFile(b.o.out, []byte(sb.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "dmcheck: -out:", err)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}
