package pages

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGuidance_EveryCategoryIsCovered(t *testing.T) {
	for _, c := range alertCategoryOptions {
		g := GuidanceFor(c)
		if g.Category != c || g.Title == "" || g.Means == "" || len(g.Talk) == 0 || len(g.Help) == 0 {
			t.Errorf("guidance for %s is incomplete: %+v", c, g)
		}
		for _, h := range g.Help {
			if h.URL != "" && !strings.HasPrefix(h.URL, "https://") {
				t.Errorf("%s: help link %q is not https", c, h.URL)
			}
		}
		all := strings.ToLower(g.Means + strings.Join(g.Talk, " "))
		for _, alarming := range []string{"!", "urgent", "predator", "your fault", "you should have"} {
			if strings.Contains(all, alarming) {
				t.Errorf("%s guidance says %q", c, alarming)
			}
		}
	}
	if GuidanceFor("no_such").Category != "other" {
		t.Error("an unknown category has no guidance")
	}
}

func TestGuidance_SelfHarmHasCrisisResources(t *testing.T) {
	g := GuidanceFor("self_harm")
	var help strings.Builder
	for _, h := range g.Help {
		help.WriteString(h.Name + " " + h.Detail + " " + h.URL + "\n")
	}
	for _, want := range []string{"988", "Samaritans", "116 123", "findahelpline.com"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("self-harm help lacks %q:\n%s", want, help.String())
		}
	}
	if !strings.Contains(g.Urgent, "emergency number") {
		t.Errorf("self-harm guidance does not say to call the emergency number: %q", g.Urgent)
	}
	doc := render(t, GuardianAlerts(AlertsProps{Page: page(guardian, "/alerts"), BasePath: "/alerts",
		List:     AlertListView{Items: []AlertView{{ID: 1, TeenID: 2, TeenName: "Maya", Category: "self_harm", CategoryLabel: "self-harm", Severity: "medium", SeverityLabel: "Medium", Sentence: "A message to Maya was flagged as self-harm."}}},
		Guidance: []Guidance{GuidanceFor("self_harm")}}))
	if doc.Find("#alert-1 .alert-urgent").Length() != 1 || doc.Find("details#guidance-self_harm[open]").Length() != 1 {
		t.Error("a self-harm alert does not show the urgent line and open guidance")
	}
}

func TestAlertChart_Geometry(t *testing.T) {
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	c := AlertChartView{TeenName: "Maya", Categories: []string{"bullying", "spam"}}
	for i := range 8 {
		w := AlertChartWeek{Start: start.AddDate(0, 0, 7*i), Counts: map[string]int{}}
		if i == 3 {
			w.Counts["bullying"], w.Counts["spam"], w.Total = 6, 3, 9
		}
		c.Weeks = append(c.Weeks, w)
	}
	if m := c.scaleMax(); m != 10 {
		t.Errorf("scale max %d, want 10", m)
	}
	bars := c.bars()
	if len(bars) != 8 || len(bars[3].Segs) != 2 || len(bars[0].Segs) != 0 {
		t.Fatalf("bars = %+v", bars)
	}
	h := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	bully, spam := bars[3].Segs[0], bars[3].Segs[1]
	if bully.Category != "bullying" || h(bully.H) != 2*h(spam.H) || h(spam.Y)+h(spam.H) != h(bully.Y) {
		t.Errorf("segments do not stack in proportion: %+v %+v", bully, spam)
	}
	if !strings.Contains(bully.Title, "Bullying: 6 alerts in the week of 26 Oct") {
		t.Errorf("segment title %q", bully.Title)
	}
	if s := c.summary(); !strings.Contains(s, "9 alerts about Maya") || !strings.Contains(s, "26 Oct") {
		t.Errorf("summary %q", s)
	}
	doc, _ := renderFragment(t, context.Background(), alertChart(c))
	if doc.Find("svg[role='img'] > title").Length() != 1 || doc.Find("svg > desc").Length() != 1 || doc.Find("table tbody tr").Length() != 8 {
		t.Error("the chart lacks its title, description or table")
	}
	if got := doc.Find(".chart-legend li").Length(); got != 2 {
		t.Errorf("legend has %d entries, want 2", got)
	}
}
