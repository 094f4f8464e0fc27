package pages

import (
	"strconv"
	"time"
)

// AlertChartWeek is one week of a teen's alerts: counts by category API
// name, in the week starting Start (a Monday).
type AlertChartWeek struct {
	Start  time.Time
	Counts map[string]int
	Total  int
}

// AlertChartView is the 8-week chart on a teen's alerts page: stacked bars
// of alerts per week by category, drawn server-side as SVG with a table
// that says the same in text. Categories lists the API names in stacking
// and legend order.
type AlertChartView struct {
	TeenName   string
	Weeks      []AlertChartWeek
	Categories []string
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH           = 600, 240
	chartLeft, chartRight    = 40, 8
	chartTop, chartBottom    = 24, 36
	chartPlotW, chartPlotH   = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartBarShare            = 0.58
	chartLabelY, chartTitleY = chartH - 12, 14
)

type chartSeg struct {
	Category, Title string
	X, Y, W, H      string
}

type chartBar struct {
	Label, LabelX, TotalY string
	Total                 int
	Segs                  []chartSeg
}

type chartTick struct {
	Y, Label string
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// scaleMax rounds the tallest bar up to a number the axis can halve.
func (c AlertChartView) scaleMax() int {
	m := 0
	for _, w := range c.Weeks {
		m = max(m, w.Total)
	}
	switch {
	case m <= 4:
		return 4
	case m <= 10:
		return 10
	}
	step := 10
	for step*10 < m {
		step *= 10
	}
	return (m + step - 1) / step * step
}

func (c AlertChartView) ticks() []chartTick {
	m := c.scaleMax()
	var out []chartTick
	for _, v := range []int{0, m / 2, m} {
		y := chartTop + chartPlotH - float64(v)/float64(m)*chartPlotH
		out = append(out, chartTick{Y: f1(y), Label: strconv.Itoa(v)})
	}
	return out
}

func (c AlertChartView) bars() []chartBar {
	m := float64(c.scaleMax())
	n := max(len(c.Weeks), 1)
	slot := float64(chartPlotW) / float64(n)
	bw := slot * chartBarShare
	out := make([]chartBar, 0, len(c.Weeks))
	for i, w := range c.Weeks {
		x := chartLeft + slot*float64(i) + (slot-bw)/2
		base := float64(chartTop + chartPlotH)
		b := chartBar{Label: w.Start.Format("2 Jan"), LabelX: f1(x + bw/2), Total: w.Total,
			TotalY: f1(base - float64(w.Total)/m*chartPlotH - 5)}
		for _, cat := range c.Categories {
			k := w.Counts[cat]
			if k == 0 {
				continue
			}
			h := float64(k) / m * chartPlotH
			base -= h
			b.Segs = append(b.Segs, chartSeg{Category: cat, X: f1(x), Y: f1(base), W: f1(bw), H: f1(h),
				Title: GuidanceFor(cat).Title + ": " + plural(k, "alert", "alerts") + " in the week of " + w.Start.Format("2 Jan")})
		}
		out = append(out, b)
	}
	return out
}

func (c AlertChartView) total() int {
	n := 0
	for _, w := range c.Weeks {
		n += w.Total
	}
	return n
}

// summary is the chart's text description: the total and the busiest week.
func (c AlertChartView) summary() string {
	total := c.total()
	if total == 0 {
		return "No alerts about " + c.TeenName + " in the last 8 weeks."
	}
	busiest := c.Weeks[0]
	for _, w := range c.Weeks {
		if w.Total > busiest.Total {
			busiest = w
		}
	}
	return plural(total, "alert", "alerts") + " about " + c.TeenName + " in the last 8 weeks; the most, " +
		strconv.Itoa(busiest.Total) + ", in the week of " + busiest.Start.Format("2 Jan") + ". The table below gives every number."
}

func chartViewBox() string {
	return "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH)
}
