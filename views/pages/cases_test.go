package pages

import (
	"strings"
	"testing"
	"time"
)

func sampleCase(v bool) StaffCaseProps {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	viewer := agent
	if v {
		viewer = lead
	}
	return StaffCaseProps{Page: page(viewer, "/staff/disputes/7"), Lead: v, ID: 7, Version: 4, Title: "This is not my parent or guardian",
		Status: "open", StatusLabel: "Open", WaitingOn: "lead", Confidential: true, CreatedAt: at, Opened: "26 hours",
		DueLabel: "First reply overdue by 2 hours", Overdue: true, FilerName: "Maya", FilerRole: "teen", Description: "I don't know him.",
		TeenName: "Maya", TeenAge: 14, TeenPlatformID: "tk_maya", TeenZone: "Europe/London",
		Links: []CaseLink{{ID: 3, GuardianID: 9, Guardian: "Pat Parent", Email: "pat@example.com", State: "active", Since: at, Subject: true},
			{ID: 2, GuardianID: 8, Guardian: "Old Guard", State: "ended", Since: at, EndedAt: &at, EndReason: "Ended."}},
		Rules: []string{"Friends can message Maya."}, RulesInForce: true, AlertCounts: []CountView{{Label: "bullying", N: 3}},
		Earlier:   []CaseRef{{ID: 2, Title: "A rule is unfair", FiledBy: "Maya", Status: "resolved", StatusLabel: "Resolved", CreatedAt: at}},
		Audit:     []CaseAuditItem{{At: at, Actor: "Maya", Summary: "Maya opened a support case.", HiddenFromGuardians: true}},
		Thread:    []ThreadItem{{FromSupport: true, Author: "Alex", Body: "How do you know?", At: at}},
		Notes:     []ThreadItem{{Author: "Alex", Body: "Checking school records.", At: at}},
		Proposals: []ProposalView{{ID: 5, What: "End the supervision (Pat Parent)", Reason: "Not her father.", ProposedBy: "Alex", State: "pending", Pending: true, At: at}},
		History:   []EventView{{Version: 1, At: at, Actor: "Maya", Summary: "Opened the case."}},
		Staff:     []Option{{Value: "1", Label: "Alex (Support agent)"}},
	}
}

func TestStaffQueueAndCase(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	q := render(t, StaffHome(StaffHomeProps{Page: page(agent, "/staff"), Name: "Alex", Counts: QueueCounts{Unclosed: 2, Overdue: 1},
		Items: []StaffQueueItem{{ID: 7, KindLabel: "This is not my parent or guardian", TeenName: "Maya", TeenAge: 14, FilerName: "Maya",
			FilerRole: "teen", Status: "open", StatusLabel: "Open", WaitingOn: "staff", Confidential: true, CreatedAt: at, Opened: "26 hours",
			DueLabel: "First reply overdue by 2 hours", Overdue: true}}, Filter: StaffFilter{Age: "13-15"}, Filtered: true}))
	row := q.Find(`tr[data-case="7"]`)
	if row.Length() != 1 || !row.HasClass("queue-row--overdue") || !strings.Contains(text(row), "First reply overdue by 2 hours") ||
		row.Find(`a[href="/staff/disputes/7"]`).Length() != 1 {
		t.Errorf("queue row = %q", text(row))
	}
	if v, _ := q.Find(`select[name="age"] option[selected]`).Attr("value"); v != "13-15" {
		t.Errorf("age filter not kept: %q", v)
	}
	if !strings.Contains(text(q.Find(".queue-stats")), "1 overdue") {
		t.Errorf("counts = %q", text(q.Find(".queue-stats")))
	}

	ag := render(t, StaffCase(sampleCase(false)))
	if ag.Find(`form[action="/staff/disputes/7/suspend"] input[name="version"][value="4"]`).Length() != 1 {
		t.Error("the link form lacks the version")
	}
	if ag.Find(`button[formaction="/staff/disputes/7/end"]`).Length() != 0 || ag.Find(`button[formaction="/staff/disputes/7/approve"]`).Length() != 0 {
		t.Error("an agent is offered a lead-only action")
	}
	if !strings.Contains(text(ag.Find("main")), "Waiting for a lead") {
		t.Error("pending proposal not shown")
	}
	if ag.Find(`[data-link="2"] form`).Length() != 0 {
		t.Error("an ended link offers actions")
	}
	if !strings.Contains(text(ag.Find("main")), "bullying 3") || !strings.Contains(text(ag.Find("main")), "Checking school records.") {
		t.Error("alert counts or notes missing")
	}
	ld := render(t, StaffCase(sampleCase(true)))
	if ld.Find(`button[formaction="/staff/disputes/7/end"]`).Length() != 1 ||
		ld.Find(`form[action="/staff/disputes/7/proposals/5/approve"]`).Length() != 1 {
		t.Error("a lead is not offered end and approve")
	}

	changed := sampleCase(false)
	changed.FormKey, changed.Draft = "link-3", "Pausing while we check."
	changed.Problem = "This case changed since you opened it, so nothing was done."
	changed.Changed = []EventView{{Version: 5, At: at, Actor: "Sam", Summary: "Assigned the case to Sam."}}
	doc := render(t, StaffCase(changed))
	if !strings.Contains(text(doc.Find("#case-changed")), "Assigned the case to Sam.") {
		t.Errorf("changes not shown: %q", text(doc.Find("#case-changed")))
	}
	if got := text(doc.Find(`textarea[id="link-3-reason"]`)); got != "Pausing while we check." {
		t.Errorf("draft lost: %q", got)
	}

	closed := sampleCase(false)
	closed.Closed, closed.Status, closed.StatusLabel, closed.Outcome = true, "resolved", "Resolved", "Done."
	if n := render(t, StaffCase(closed)).Find("main form").Length(); n != 0 {
		t.Errorf("a closed case offers %d forms", n)
	}
}

func TestDisputePages(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	form := render(t, DisputeNew(DisputeNewProps{Page: teenPage("/teen/disputes/new"), ForTeen: true, Action: "/teen/disputes", Back: "/teen/help",
		Kinds:    []Option{{Value: "not_my_guardian", Label: "This is not my parent or guardian"}, {Value: "other", Label: "Something else"}},
		Subjects: []Option{{Value: "3", Label: "Pat Parent"}}, SubjectField: FieldLink, Kind: "other", Description: "x",
		Errors: map[string]string{FieldLink: "Choose which guardian this is about."}}))
	if form.Find(`input[name="kind"][value="other"][checked]`).Length() != 1 {
		t.Error("chosen kind not kept")
	}
	if !strings.Contains(text(form.Find("main")), "don't paste private messages") {
		t.Error("no note about private messages")
	}
	if v, _ := form.Find(`textarea[name="description"]`).Attr("maxlength"); v != "2000" {
		t.Errorf("description maxlength = %q", v)
	}
	render(t, DisputeList(DisputeListProps{Page: page(guardian, "/disputes"), NewURL: "/disputes/new",
		Items: []DisputeSummary{{ID: 1, Title: "Custody", About: "About Maya", Status: "open", StatusLabel: "Open", CreatedAt: at, URL: "/disputes/1"}}}))
	render(t, DisputeList(DisputeListProps{Page: teenPage("/teen/disputes"), ForTeen: true, NewURL: "/teen/disputes/new"}))
	d := render(t, DisputeDetail(DisputeDetailProps{Page: teenPage("/teen/disputes/1"), ForTeen: true, ID: 1, Title: "A rule is unfair",
		About: "About your supervision", Description: "Too strict", Status: "resolved", StatusLabel: "Resolved", Outcome: "We reset your rules.",
		Closed: true, CreatedAt: at, Thread: []ThreadItem{{FromSupport: true, Author: "Hearth support", Body: "Looking.", At: at}},
		ReplyURL: "/teen/disputes/1/reply", BackURL: "/teen/disputes"}))
	if !strings.Contains(text(d.Find(".case-outcome")), "We reset your rules.") || d.Find("main form").Length() != 0 {
		t.Error("closed case: outcome missing or reply form shown")
	}
}
