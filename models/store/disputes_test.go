package store_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
)

func (w *world) lead(t *testing.T) party {
	t.Helper()
	p := w.guardian(t, "Lee Lead")
	rawExec(t, w.s, "UPDATE users SET role = 'lead' WHERE id = ?", p.UserID)
	p.Role = models.RoleLead
	return p
}

// auditActions lists teenID's audit actions as staff see them, oldest first.
func auditActions(t *testing.T, s *store.Store, staff party, teenID int64) []models.AuditEvent {
	t.Helper()
	es, err := s.AllAuditEvents(ctx, staff.Actor, teenID)
	if err != nil {
		t.Fatalf("AllAuditEvents: %v", err)
	}
	return es
}

func lastAudit(t *testing.T, s *store.Store, staff party, teenID int64) models.AuditEvent {
	t.Helper()
	es := auditActions(t, s, staff, teenID)
	if len(es) == 0 {
		t.Fatal("no audit entries")
	}
	return es[len(es)-1]
}

func findAudit(es []models.AuditEvent, action string) (models.AuditEvent, bool) {
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Action == action {
			return es[i], true
		}
	}
	return models.AuditEvent{}, false
}

func act(t *testing.T, s *store.Store, who party, id int64, a models.DisputeAction) models.Dispute {
	t.Helper()
	if a.Version == 0 && a.Kind.Versioned() {
		c, err := s.DisputeCaseFor(ctx, who.Actor, id)
		if err != nil {
			t.Fatalf("DisputeCaseFor: %v", err)
		}
		a.Version = c.Dispute.Version
	}
	d, err := s.ActOnDispute(ctx, who.Actor, id, a)
	if err != nil {
		t.Fatalf("%s: %v", a.Kind, err)
	}
	return d
}

func linkState(t *testing.T, s *store.Store, id int64) string {
	t.Helper()
	var st string
	if err := s.SQLDB().QueryRowContext(ctx, rebind(s, "SELECT state FROM links WHERE id = ?"), id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStore_DisputeIntake(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		leo, leoP := w.teen(t, "Leo", "2010-06")    // 16
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		stranger := w.guardian(t, "Sid Stranger")
		patMaya := w.link(t, pat, mayaP)
		w.link(t, cam, mayaP)
		patLeo := w.link(t, pat, leoP)
		sue := w.staff(t)

		t.Run("teen_files_a_confidential_dispute_about_a_guardian", func(t *testing.T) {
			d, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeNotMyGuardian, LinkID: patMaya.ID,
				Description: "  I don't know who this is.  "})
			if err != nil {
				t.Fatal(err)
			}
			if d.TeenID != maya.ID || d.LinkID == nil || *d.LinkID != patMaya.ID || !d.Confidential || d.Status != models.DisputeOpen ||
				d.Version != 1 || d.Description != "I don't know who this is." || d.GuardianName != "Pat Parent" || d.FilerRole != models.RoleTeen {
				t.Fatalf("dispute = %+v", d)
			}
			if !hasNote(notes(t, s, mayaP), "We've got your report (case #"+itoa(d.ID)+"). Hearth support will reply on the case page, usually within a day.") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			e := lastAudit(t, s, sue, maya.ID)
			if e.Action != models.ActionDisputeOpened || !e.Confidential || e.ActorID != mayaP.UserID {
				t.Errorf("audit = %+v", e)
			}
			// The guardian it is about learns nothing: no notification,
			// no email, nothing in their view of the audit log.
			for _, g := range []party{pat, cam} {
				for _, n := range notes(t, s, g) {
					if strings.Contains(strings.ToLower(n.Message), "case") || strings.Contains(n.Message, "report") {
						t.Errorf("%s told: %q", g.Name, n.Message)
					}
				}
				es, err := s.AllAuditEvents(ctx, g.Actor, maya.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					if strings.HasPrefix(e.Action, "dispute.") {
						t.Errorf("%s sees %+v", g.Name, e)
					}
				}
				if ds, _ := s.FilerDisputes(ctx, g.Actor); len(ds) != 0 {
					t.Errorf("%s lists %+v", g.Name, ds)
				}
				if _, err := s.FilerDispute(ctx, g.Actor, d.ID); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s reads the case: %v", g.Name, err)
				}
			}
			for _, m := range w.out.mails(t) {
				if strings.Contains(m.Text, "case") {
					t.Errorf("email about the case: %+v", m)
				}
			}
			th, err := s.FilerDispute(ctx, mayaP.Actor, d.ID)
			if err != nil || th.Dispute.ID != d.ID {
				t.Fatalf("FilerDispute = %+v, %v", th, err)
			}
		})

		t.Run("guardian_files_about_their_teen_and_is_emailed", func(t *testing.T) {
			d, err := s.OpenDispute(ctx, pat.Actor, store.NewDispute{Kind: models.DisputeCustodyChange, TeenID: leo.ID, Description: "Custody changed."})
			if err != nil {
				t.Fatal(err)
			}
			if d.Confidential || d.LinkID == nil || *d.LinkID != patLeo.ID || d.FilerRole != models.RoleGuardian {
				t.Fatalf("dispute = %+v", d)
			}
			if ms := w.out.to(t, pat.Email); len(ms) == 0 || ms[len(ms)-1].Subject != "We've got your report" {
				t.Errorf("guardian not emailed: %+v", ms)
			}
		})

		t.Run("bad_input", func(t *testing.T) {
			cases := map[string]struct {
				who   party
				in    store.NewDispute
				field string
			}{
				"guardian_kind_from_a_teen": {mayaP, store.NewDispute{Kind: models.DisputeCustodyChange, Description: "x"}, "kind"},
				"unknown_kind":              {pat, store.NewDispute{Kind: "made_up", TeenID: maya.ID, Description: "x"}, "kind"},
				"empty_description":         {mayaP, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: "   "}, "description"},
				"overlong_description":      {mayaP, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: strings.Repeat("é", 2001)}, "description"},
				"no_link_for_not_my_parent": {mayaP, store.NewDispute{Kind: models.DisputeNotMyGuardian, Description: "x"}, "link"},
				"no_teen_from_a_guardian":   {pat, store.NewDispute{Kind: models.DisputeOther, Description: "x"}, "teen"},
			}
			for name, c := range cases {
				if _, err := s.OpenDispute(ctx, c.who.Actor, c.in); models.FieldErrors(err)[c.field] == "" {
					t.Errorf("%s: err = %v, want a problem with %s", name, err, c.field)
				}
			}
			if _, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: strings.Repeat("é", 2000)}); err != nil {
				t.Errorf("2,000 characters refused: %v", err)
			}
			// Maya now has 2 open cases; 3 more reach the limit, a 6th is refused.
			for i := 0; i < 3; i++ {
				if _, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeOther, Description: "more"}); err != nil {
					t.Fatalf("case %d: %v", i+3, err)
				}
			}
			if _, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeOther, Description: "flood"}); models.FieldErrors(err)["kind"] == "" {
				t.Errorf("a sixth open case: %v", err)
			}
		})

		t.Run("foreign_teen_or_link_is_not_found", func(t *testing.T) {
			for name, c := range map[string]struct {
				who party
				in  store.NewDispute
			}{
				"stranger_about_maya":   {stranger, store.NewDispute{Kind: models.DisputeOther, TeenID: maya.ID, Description: "x"}},
				"teen_about_other_teen": {leoP, store.NewDispute{Kind: models.DisputeOther, TeenID: maya.ID, Description: "x"}},
				"teen_about_other_link": {leoP, store.NewDispute{Kind: models.DisputeNotMyGuardian, LinkID: patMaya.ID, Description: "x"}},
				"staff_filing":          {sue, store.NewDispute{Kind: models.DisputeOther, TeenID: maya.ID, Description: "x"}},
			} {
				if _, err := s.OpenDispute(ctx, c.who.Actor, c.in); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
			}
		})

		t.Run("filer_reply_reopens_a_case_waiting_on_them", func(t *testing.T) {
			d, err := s.OpenDispute(ctx, leoP.Actor, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: "Quiet hours are too long."})
			if err != nil {
				t.Fatal(err)
			}
			act(t, s, sue, d.ID, models.DisputeAction{Kind: models.ActAskInfo, Reason: "Which rule exactly?"})
			if err := s.FilerReply(ctx, pat.Actor, d.ID, "not mine"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("someone else replying: %v", err)
			}
			if err := s.FilerReply(ctx, leoP.Actor, d.ID, " "); models.FieldErrors(err)["body"] == "" {
				t.Errorf("empty reply: %v", err)
			}
			if err := s.FilerReply(ctx, leoP.Actor, d.ID, "The quiet hours."); err != nil {
				t.Fatal(err)
			}
			th, _ := s.FilerDispute(ctx, leoP.Actor, d.ID)
			if th.Dispute.Status != models.DisputeOpen || len(th.Messages) != 2 || th.Messages[0].AuthorRole != models.AuthorStaff ||
				th.Messages[0].Body != "Which rule exactly?" || th.Messages[1].Body != "The quiet hours." {
				t.Fatalf("thread = %+v", th)
			}
			if e := lastAudit(t, s, sue, leo.ID); e.Action != models.ActionDisputeAnswered || !e.Confidential {
				t.Errorf("audit = %+v", e)
			}
		})
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestStore_DisputeActions(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		patMaya := w.link(t, pat, mayaP)
		camMaya := w.link(t, cam, mayaP)
		agent := w.staff(t)
		lead := w.lead(t)
		d, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeNotMyGuardian, LinkID: patMaya.ID, Description: "Not my dad."})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("assign", func(t *testing.T) {
			got := act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActAssign, AssigneeID: agent.UserID, Reason: "Taking it."})
			if got.AssigneeID == nil || *got.AssigneeID != agent.UserID || got.Version != 2 || got.AssigneeName != "Sue Support" {
				t.Fatalf("after assign: %+v", got)
			}
			e := lastAudit(t, s, agent, maya.ID)
			if e.Action != models.ActionDisputeAssigned || e.Reason != "Taking it." || !e.Confidential || e.ActorID != agent.UserID {
				t.Errorf("audit = %+v", e)
			}
			if !hasNote(notes(t, s, mayaP), "Someone from Hearth support is now working on your case.") {
				t.Error("teen not told of the assignment")
			}
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActAssign, Version: got.Version,
				AssigneeID: pat.UserID, Reason: "x"}); models.FieldErrors(err)["assignee"] == "" {
				t.Errorf("assigning to a guardian: %v", err)
			}
		})

		t.Run("ask_for_information_and_reply", func(t *testing.T) {
			got := act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActAskInfo, Reason: "How do you know this person?"})
			if got.Status != models.DisputeWaitingOnFiler || got.FirstResponseAt == nil || got.WaitingOn() != models.WaitingFiler {
				t.Fatalf("after ask: %+v", got)
			}
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeAsked || e.Reason != "How do you know this person?" {
				t.Errorf("audit = %+v", e)
			}
			if !hasNote(notes(t, s, mayaP), "Hearth support asked you something about your case. Reply on the case page so they can help.") {
				t.Error("teen not told of the question")
			}
			got = act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActReply, Reason: "Thanks, we are looking."})
			if got.Status != models.DisputeWaitingOnFiler {
				t.Errorf("a reply changed the status: %s", got.Status)
			}
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeReplied {
				t.Errorf("audit = %+v", e)
			}
		})

		t.Run("internal_note_stays_internal", func(t *testing.T) {
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActNote, Reason: "Secret staff note"})
			e := lastAudit(t, s, agent, maya.ID)
			if e.Action != models.ActionDisputeNote || e.Reason != "" {
				t.Errorf("audit = %+v (the note's text must not be in the log the teen reads)", e)
			}
			c, _ := s.DisputeCaseFor(ctx, agent.Actor, d.ID)
			if len(c.Notes) != 1 || c.Notes[0].Body != "Secret staff note" {
				t.Errorf("notes = %+v", c.Notes)
			}
			th, _ := s.FilerDispute(ctx, mayaP.Actor, d.ID)
			for _, m := range th.Messages {
				if strings.Contains(m.Body, "Secret") {
					t.Error("the filer sees an internal note")
				}
			}
		})

		t.Run("suspend_keeps_rules_in_force_and_tells_neutrally", func(t *testing.T) {
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActSuspendLink, LinkID: patMaya.ID, Reason: "Teen says he is not her father."})
			if linkState(t, s, patMaya.ID) != "suspended" {
				t.Fatal("link not suspended")
			}
			if _, err := s.TeenForGuardian(ctx, pat.Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("suspended guardian still sees Maya: %v", err)
			}
			if p, err := s.TeenPolicy(ctx, mayaP.Actor, maya.ID); err != nil || p.Version == 0 {
				t.Errorf("rules stopped: %+v %v", p, err)
			}
			es := auditActions(t, s, agent, maya.ID)
			e, ok := findAudit(es, models.ActionLinkSuspended)
			if !ok || e.Confidential || e.Reason != "After a review by Hearth support." || e.LinkID == nil || *e.LinkID != patMaya.ID {
				t.Fatalf("link entry = %+v", e)
			}
			if e := es[len(es)-1]; e.Action != models.ActionDisputeActed || e.Reason != "Teen says he is not her father." || !e.Confidential {
				t.Errorf("case entry = %+v", e)
			}
			want := "Hearth support paused your supervision of Maya. While it is paused you don't see Maya's rules or alerts; Maya's message rules stay in force."
			if !hasNote(notes(t, s, pat), want) {
				t.Errorf("guardian not told: %+v", notes(t, s, pat))
			}
			for _, m := range w.out.to(t, pat.Email) {
				if strings.Contains(m.Text, "father") || strings.Contains(m.Text, "case") {
					t.Errorf("guardian's email leaks the case: %q", m.Text)
				}
			}
			// The other guardian sees the neutral entry, never the case.
			ces, err := s.AllAuditEvents(ctx, cam.Actor, maya.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ces {
				if strings.HasPrefix(e.Action, "dispute.") || strings.Contains(e.Reason, "father") {
					t.Errorf("co-guardian sees %+v", e)
				}
			}
			if _, ok := findAudit(ces, models.ActionLinkSuspended); !ok {
				t.Error("co-guardian does not see that the supervision was paused")
			}
		})

		t.Run("reinstate", func(t *testing.T) {
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActReinstateLink, LinkID: patMaya.ID, Reason: "Checked: he is her father."})
			if linkState(t, s, patMaya.ID) != "active" {
				t.Fatal("link not active")
			}
			if _, ok := findAudit(auditActions(t, s, agent, maya.ID), models.ActionLinkReinstated); !ok {
				t.Error("no link.reinstated entry")
			}
			if !hasNote(notes(t, s, pat), "Hearth support restored your supervision of Maya.") {
				t.Error("guardian not told")
			}
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActReinstateLink, Version: 99, LinkID: patMaya.ID,
				Reason: "x"}); !errors.Is(err, models.ErrCaseChanged) {
				t.Errorf("stale version: %v", err)
			}
		})

		t.Run("reset_rules_to_age_defaults", func(t *testing.T) {
			cur, _ := s.TeenPolicy(ctx, pat.Actor, maya.ID)
			next := cur
			next.Audience = policy.AudienceEveryone
			next.QuietEnabled = false
			if _, err := s.UpdatePolicy(ctx, pat.Actor, maya.ID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version}); err != nil {
				t.Fatal(err)
			}
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActResetRules, Reason: "Rules were loosened beyond her age."})
			p, _ := s.TeenPolicy(ctx, mayaP.Actor, maya.ID)
			if p.Audience != policy.AudienceFriends || !p.QuietEnabled || !p.BlockAdultStrangers {
				t.Errorf("rules after reset = %+v", p)
			}
			e, ok := findAudit(auditActions(t, s, agent, maya.ID), models.ActionPolicyChanged)
			if !ok || e.ActorRole != "staff" || e.Reason != "After a review by Hearth support." {
				t.Errorf("policy entry = %+v", e)
			}
			if !hasNote(notes(t, s, cam), "Hearth support reset Maya's message rules to the defaults for age 14.") {
				t.Errorf("guardian not told: %+v", notes(t, s, cam))
			}
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActResetRules, Version: currentVersion(t, s, agent, d.ID),
				Reason: "again"}); models.FieldErrors(err)["rules"] == "" {
				t.Errorf("resetting defaults again: %v", err)
			}
		})

		t.Run("agent_cannot_end_a_link_and_the_attempt_is_audited", func(t *testing.T) {
			before := len(auditActions(t, s, agent, maya.ID))
			_, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActEndLink, Version: currentVersion(t, s, agent, d.ID),
				LinkID: patMaya.ID, Reason: "He is not her father."})
			if !errors.Is(err, models.ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			es := auditActions(t, s, agent, maya.ID)
			if len(es) != before+1 || es[len(es)-1].Action != models.ActionDisputeRefused || es[len(es)-1].ActorID != agent.UserID {
				t.Errorf("refusal not audited: %+v", es[len(es)-1])
			}
			if linkState(t, s, patMaya.ID) != "active" {
				t.Error("the link changed")
			}
			for _, k := range []models.DisputeActionKind{models.ActDisable, models.ActApprove, models.ActDecline} {
				if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: k, GuardianID: pat.UserID, ProposalID: 1,
					Reason: "x"}); !errors.Is(err, models.ErrForbidden) {
					t.Errorf("%s by an agent: %v", k, err)
				}
			}
		})

		t.Run("agent_proposes_and_a_lead_declines_then_approves", func(t *testing.T) {
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActPropose, Proposal: models.ProposeEndLink, LinkID: patMaya.ID, Reason: "Not her father."})
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeProposed {
				t.Errorf("audit = %+v", e)
			}
			if !hasNote(notes(t, s, lead), "Sue Support proposed to end Pat Parent's supervision on case #"+itoa(d.ID)+"; it needs a lead.") {
				t.Errorf("lead not told: %+v", notes(t, s, lead))
			}
			c, _ := s.DisputeCaseFor(ctx, lead.Actor, d.ID)
			if c.Dispute.WaitingOn() != models.WaitingLead || len(c.Proposals) != 1 {
				t.Fatalf("case = %+v", c.Dispute)
			}
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActPropose, Version: c.Dispute.Version,
				Proposal: models.ProposeDisableGuardian, GuardianID: pat.UserID, Reason: "x"}); models.FieldErrors(err)["proposal"] == "" {
				t.Errorf("second pending proposal: %v", err)
			}
			act(t, s, lead, d.ID, models.DisputeAction{Kind: models.ActDecline, ProposalID: c.Proposals[0].ID, Reason: "Need the school's word first."})
			if linkState(t, s, patMaya.ID) != "active" {
				t.Fatal("declined proposal ended the link")
			}
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeDeclined || e.ActorID != lead.UserID {
				t.Errorf("audit = %+v", e)
			}
			act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActPropose, Proposal: models.ProposeEndLink, LinkID: patMaya.ID, Reason: "School confirmed."})
			c, _ = s.DisputeCaseFor(ctx, lead.Actor, d.ID)
			act(t, s, lead, d.ID, models.DisputeAction{Kind: models.ActApprove, ProposalID: c.Proposals[1].ID, Reason: "Agreed."})
			if linkState(t, s, patMaya.ID) != "ended" {
				t.Fatal("approved proposal did not end the link")
			}
			gts, _ := s.GuardianTeens(ctx, pat.Actor)
			if len(gts) != 1 || gts[0].Link.EndReason != "Hearth support ended this supervision." {
				t.Errorf("guardian's dashboard = %+v", gts)
			}
			if !hasNote(notes(t, s, pat), "Hearth support ended your supervision of Maya. You no longer see anything about Maya.") {
				t.Errorf("guardian not told: %+v", notes(t, s, pat))
			}
			if !hasNote(notes(t, s, mayaP), "Hearth support ended Pat Parent's supervision. They no longer see anything about you.") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			e, ok := findAudit(auditActions(t, s, agent, maya.ID), models.ActionLinkEnded)
			if !ok || e.Confidential || e.ActorID != lead.UserID || e.Reason != "After a review by Hearth support." {
				t.Errorf("link.ended = %+v", e)
			}
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeApproved {
				t.Errorf("audit = %+v", e)
			}
		})

		t.Run("lead_disables_a_guardian", func(t *testing.T) {
			act(t, s, lead, d.ID, models.DisputeAction{Kind: models.ActDisable, GuardianID: cam.UserID, Reason: "Fake account."})
			u, err := s.User(ctx, cam.UserID)
			if err != nil || !u.Disabled() {
				t.Fatalf("guardian not disabled: %+v %v", u, err)
			}
			if linkState(t, s, camMaya.ID) != "ended" {
				t.Error("a disabled guardian still supervises")
			}
			if _, ok := findAudit(auditActions(t, s, agent, maya.ID), models.ActionAccountDisabled); !ok {
				t.Error("no account.disabled entry")
			}
			if _, err := s.ActOnDispute(ctx, lead.Actor, d.ID, models.DisputeAction{Kind: models.ActDisable, Version: currentVersion(t, s, lead, d.ID),
				GuardianID: w.guardian(t, "Unrelated").UserID, Reason: "x"}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("disabling an unrelated guardian: %v", err)
			}
		})

		t.Run("resolve_then_the_case_is_closed", func(t *testing.T) {
			got := act(t, s, agent, d.ID, models.DisputeAction{Kind: models.ActResolve, Reason: "Pat no longer supervises you."})
			if got.Status != models.DisputeResolved || got.ClosedAt == nil || got.Outcome != "Pat no longer supervises you." {
				t.Fatalf("after resolve: %+v", got)
			}
			if !hasNote(notes(t, s, mayaP), "Your case was resolved. Hearth support wrote: “Pat no longer supervises you.”") {
				t.Error("teen not told the outcome")
			}
			if e := lastAudit(t, s, agent, maya.ID); e.Action != models.ActionDisputeResolved {
				t.Errorf("audit = %+v", e)
			}
			for _, k := range []models.DisputeActionKind{models.ActReply, models.ActAssign, models.ActReject, models.ActNote} {
				if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: k, Version: got.Version, AssigneeID: agent.UserID,
					Reason: "late"}); !errors.Is(err, models.ErrCaseClosed) {
					t.Errorf("%s on a closed case: %v", k, err)
				}
			}
			if err := s.FilerReply(ctx, mayaP.Actor, d.ID, "thanks"); !errors.Is(err, models.ErrCaseClosed) {
				t.Errorf("filer reply on a closed case: %v", err)
			}
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Error(err)
			}
		})

		t.Run("reject_with_a_note_on_a_guardian_case", func(t *testing.T) {
			g, err := s.OpenDispute(ctx, pat.Actor, store.NewDispute{Kind: models.DisputeLostAccess, TeenID: maya.ID, Description: "I lost access."})
			if err != nil {
				t.Fatal(err)
			}
			act(t, s, agent, g.ID, models.DisputeAction{Kind: models.ActReject, Reason: "Your supervision was ended after a review."})
			if ms := w.out.to(t, pat.Email); len(ms) == 0 || ms[len(ms)-1].Subject != "Your case was closed without action" {
				t.Errorf("guardian not emailed: %+v", ms)
			}
		})
	})
}

func currentVersion(t *testing.T, s *store.Store, who party, id int64) int64 {
	t.Helper()
	c, err := s.DisputeCaseFor(ctx, who.Actor, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Dispute.Version
}

func TestStore_DisputeBadInputAndRaces(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		_, leoP := w.teen(t, "Leo", "2010-06")
		pat := w.guardian(t, "Pat Parent")
		patMaya := w.link(t, pat, mayaP)
		patLeo := w.link(t, pat, leoP)
		agent := w.staff(t)
		agent2 := w.staff(t)
		d, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeGuardianMisuse, LinkID: patMaya.ID, Description: "He watches everything."})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("reasons", func(t *testing.T) {
			for name, r := range map[string]string{"empty": "  ", "overlong": strings.Repeat("a", 1001)} {
				if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActSuspendLink, Version: 1, LinkID: patMaya.ID,
					Reason: r}); models.FieldErrors(err)["reason"] == "" {
					t.Errorf("%s reason: %v", name, err)
				}
			}
			if linkState(t, s, patMaya.ID) != "active" {
				t.Error("refused action changed the link")
			}
		})

		t.Run("wrong_kind_or_foreign_link", func(t *testing.T) {
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: "explode", Version: 1, Reason: "x"}); models.FieldErrors(err)["action"] == "" {
				t.Errorf("unknown action: %v", err)
			}
			if _, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActSuspendLink, Version: 1, LinkID: patLeo.ID,
				Reason: "x"}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("suspending another teen's link: %v", err)
			}
			if _, err := s.ActOnDispute(ctx, pat.Actor, d.ID, models.DisputeAction{Kind: models.ActReply, Reason: "x"}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a guardian acting: %v", err)
			}
			if _, err := s.DisputeCaseFor(ctx, mayaP.Actor, d.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a teen reading the case: %v", err)
			}
			if _, err := s.DisputeQueueFor(ctx, agent.Actor, store.DisputeFilter{Status: "bogus"}); models.FieldErrors(err)["status"] == "" {
				t.Errorf("bad filter: %v", err)
			}
		})

		t.Run("two_agents_at_once", func(t *testing.T) {
			c, _ := s.DisputeCaseFor(ctx, agent.Actor, d.ID)
			seen := c.Dispute.Version
			first, err := s.ActOnDispute(ctx, agent.Actor, d.ID, models.DisputeAction{Kind: models.ActAssign, Version: seen, AssigneeID: agent.UserID, Reason: "Mine."})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.ActOnDispute(ctx, agent2.Actor, d.ID, models.DisputeAction{Kind: models.ActAssign, Version: seen, AssigneeID: agent2.UserID, Reason: "No, mine."})
			if !errors.Is(err, models.ErrCaseChanged) {
				t.Fatalf("second agent: %v, want ErrCaseChanged", err)
			}
			changes, err := s.DisputeChangesSince(ctx, agent2.Actor, d.ID, seen)
			if err != nil || len(changes) != 1 || changes[0].Summary != "Assigned the case to Sue Support." || changes[0].Reason != "Mine." ||
				changes[0].Version != first.Version {
				t.Fatalf("changes = %+v, %v", changes, err)
			}
			now, _ := s.DisputeCaseFor(ctx, agent.Actor, d.ID)
			if *now.Dispute.AssigneeID != agent.UserID {
				t.Error("the second agent's assignment won")
			}
		})

		t.Run("concurrent_actions_one_wins", func(t *testing.T) {
			seen := currentVersion(t, s, agent, d.ID)
			errs := make(chan error, 2)
			for _, who := range []party{agent, agent2} {
				go func() {
					_, err := s.ActOnDispute(ctx, who.Actor, d.ID, models.DisputeAction{Kind: models.ActSuspendLink, Version: seen, LinkID: patMaya.ID, Reason: "pause"})
					errs <- err
				}()
			}
			var ok, changed int
			for range 2 {
				switch err := <-errs; {
				case err == nil:
					ok++
				case errors.Is(err, models.ErrCaseChanged):
					changed++
				default:
					t.Errorf("unexpected: %v", err)
				}
			}
			if ok != 1 || changed != 1 {
				t.Errorf("ok %d, changed %d", ok, changed)
			}
			if err := s.VerifyAuditChain(ctx, maya.ID); err != nil {
				t.Error(err)
			}
		})

		t.Run("queue_filters_and_counts", func(t *testing.T) {
			g, err := s.OpenDispute(ctx, pat.Actor, store.NewDispute{Kind: models.DisputeCustodyChange, TeenID: 0, Description: "x"})
			if err == nil {
				t.Fatalf("no teen accepted: %+v", g)
			}
			w.c.Add(25 * time.Hour)
			leoCase, err := s.OpenDispute(ctx, leoP.Actor, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: "Too strict."})
			if err != nil {
				t.Fatal(err)
			}
			q, err := s.DisputeQueueFor(ctx, agent.Actor, store.DisputeFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Items) != 2 || q.Items[0].ID != d.ID || q.Items[1].ID != leoCase.ID {
				t.Fatalf("queue = %+v", q.Items)
			}
			if q.Counts.Unclosed != 2 || q.Counts.Unassigned != 1 || q.Counts.Overdue != 1 {
				t.Errorf("counts = %+v", q.Counts)
			}
			for name, c := range map[string]struct {
				f    store.DisputeFilter
				want []int64
			}{
				"age_13_15":  {store.DisputeFilter{AgeBand: "13-15"}, []int64{d.ID}},
				"age_16_17":  {store.DisputeFilter{AgeBand: "16-17"}, []int64{leoCase.ID}},
				"unassigned": {store.DisputeFilter{Assignee: "unassigned"}, []int64{leoCase.ID}},
				"mine":       {store.DisputeFilter{Assignee: "me"}, []int64{d.ID}},
				"kind":       {store.DisputeFilter{Kind: models.DisputeRuleUnfair}, []int64{leoCase.ID}},
				"on_staff":   {store.DisputeFilter{Waiting: models.WaitingStaff}, []int64{d.ID, leoCase.ID}},
				"on_filer":   {store.DisputeFilter{Waiting: models.WaitingFiler}, nil},
				"resolved":   {store.DisputeFilter{Status: "resolved"}, nil},
			} {
				q, err := s.DisputeQueueFor(ctx, agent.Actor, c.f)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var got []int64
				for _, it := range q.Items {
					got = append(got, it.ID)
				}
				if len(got) != len(c.want) || (len(got) > 0 && (got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1])) {
					t.Errorf("%s: %v, want %v", name, got, c.want)
				}
			}
			if _, err := s.DisputeQueueFor(ctx, pat.Actor, store.DisputeFilter{}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a guardian reading the queue: %v", err)
			}
		})
	})
}

func TestStore_DisputeCaseView(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		leo, leoP := w.teen(t, "Leo", "2010-06")
		pat := w.guardian(t, "Pat Parent")
		cam := w.guardian(t, "Cam Coparent")
		patMaya := w.link(t, pat, mayaP)
		camMaya := w.link(t, cam, mayaP)
		patLeo := w.link(t, pat, leoP)
		lead := w.lead(t)
		if err := s.EndLink(ctx, cam.Actor, camMaya.ID, "moving away"); err != nil {
			t.Fatal(err)
		}
		var seed []store.SeedAlert
		for i, c := range []models.Category{models.CategoryBullying, models.CategoryBullying, models.CategoryScam} {
			seed = append(seed, store.SeedAlert{ReceivedAt: w.c.Now(), Event: models.Event{ID: "evt_" + itoa(int64(i)), TeenID: maya.PlatformUserID,
				CounterpartID: "u_x", Direction: models.DirectionInbound, Category: c, Severity: models.SeverityHigh,
				ActionTaken: models.ActionMessageBlocked, OccurredAt: w.c.Now()}})
		}
		if _, err := s.SeedAlerts(ctx, w.client.ID, seed); err != nil {
			t.Fatal(err)
		}
		earlier, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeRuleUnfair, Description: "Quiet hours."})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.OpenDispute(ctx, mayaP.Actor, store.NewDispute{Kind: models.DisputeGuardianMisuse, LinkID: patMaya.ID, Description: "He reads my alerts to my friends."})
		if err != nil {
			t.Fatal(err)
		}

		c, err := s.DisputeCaseFor(ctx, lead.Actor, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Teen.ID != maya.ID || len(c.Links) != 2 || c.Links[0].ID != patMaya.ID || c.Links[1].State != models.LinkEnded {
			t.Errorf("links = %+v", c.Links)
		}
		if len(c.AlertCounts) != 2 || c.AlertCounts[0] != (store.CategoryCount{Category: models.CategoryBullying, Count: 2}) ||
			c.AlertCounts[1] != (store.CategoryCount{Category: models.CategoryScam, Count: 1}) {
			t.Errorf("alert counts = %+v", c.AlertCounts)
		}
		if len(c.Earlier) != 1 || c.Earlier[0].ID != earlier.ID {
			t.Errorf("earlier = %+v", c.Earlier)
		}
		if c.Rules == nil || !c.RulesSupervised || len(c.Events) != 1 || len(c.Audit) == 0 {
			t.Errorf("rules %v/%v, events %+v, audit %d", c.Rules, c.RulesSupervised, c.Events, len(c.Audit))
		}

		t.Run("disabling_a_guardian_ends_every_supervision_they_hold", func(t *testing.T) {
			act(t, s, lead, d.ID, models.DisputeAction{Kind: models.ActDisable, GuardianID: pat.UserID, Reason: "Misuse confirmed."})
			if linkState(t, s, patMaya.ID) != "ended" || linkState(t, s, patLeo.ID) != "ended" {
				t.Fatal("a link of the disabled guardian is still live")
			}
			if !hasNote(notes(t, s, leoP), "Hearth support closed Pat Parent's account, so their supervision ended. They no longer see anything about you.") {
				t.Errorf("Leo not told: %+v", notes(t, s, leoP))
			}
			e, ok := findAudit(auditActions(t, s, lead, leo.ID), models.ActionLinkEnded)
			if !ok || e.Reason != "After a review by Hearth support." || strings.Contains(e.Reason, "Misuse") {
				t.Errorf("Leo's link.ended = %+v", e)
			}
			if _, err := s.Authenticate(ctx, pat.Email, "whatever", models.RoleGuardian); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("disabled guardian authenticates: %v", err)
			}
			if err := s.VerifyAuditChain(ctx, leo.ID); err != nil {
				t.Error(err)
			}
		})
	})
}
