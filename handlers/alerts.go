package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/views"
	"github.com/hearth-safety/hearth/views/pages"
)

// alertPageSize is how many alerts a page shows.
const alertPageSize = 25

// alertQuery reads the inbox's filters and position from the query string.
// Values that mean nothing (an unknown category, a broken cursor) are left
// out rather than refused: these are links people share and bookmark.
func alertQuery(q url.Values) (models.AlertFilter, pages.AlertFilterForm) {
	var f models.AlertFilter
	var form pages.AlertFilterForm
	if id, err := strconv.ParseInt(q.Get("teen"), 10, 64); err == nil && id > 0 {
		f.TeenID, form.Teen = &id, q.Get("teen")
	}
	if c := models.Category(q.Get("category")); c.Valid() {
		f.Category, form.Category = &c, string(c)
	}
	if s := models.Severity(q.Get("severity")); s.Valid() {
		f.MinSeverity, form.Severity = &s, string(s)
	}
	if st := models.AlertState(q.Get("state")); st == models.AlertUnread || st == models.AlertRead {
		f.State, form.State = st, string(st)
	}
	if c, err := models.ParseAlertCursor(q.Get("before")); err == nil {
		f.Before = &c
	} else if c, err := models.ParseAlertCursor(q.Get("after")); err == nil {
		f.After = &c
	}
	return f, form
}

// filterQuery is the query string of form's filters, without a position.
func filterQuery(form pages.AlertFilterForm, perTeen bool) url.Values {
	v := url.Values{}
	if form.Teen != "" && !perTeen {
		v.Set("teen", form.Teen)
	}
	for k, s := range map[string]string{"category": form.Category, "severity": form.Severity, "state": form.State} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// pageAlerts asks the store for one page and works out the pager: it reads
// one alert more than a page to learn whether another page follows.
func (h *Handlers) pageAlerts(c echo.Context, f models.AlertFilter, base string, q url.Values) ([]models.Alert, int, pages.AlertPager, error) {
	f.Limit = alertPageSize + 1
	as, total, err := h.Store.Alerts(ctx(c), actor(c), f)
	if err != nil {
		return nil, 0, pages.AlertPager{}, err
	}
	hasNewer, hasOlder := f.Before != nil, false
	if f.After != nil {
		hasOlder = true
		if len(as) > alertPageSize {
			as, hasNewer = as[1:], true // the extra one is the newest
		}
	} else if len(as) > alertPageSize {
		as, hasOlder = as[:alertPageSize], true
	}
	link := func(key string, cur models.AlertCursor) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set(key, cur.String())
		return base + "?" + v.Encode()
	}
	var pg pages.AlertPager
	if len(as) > 0 {
		if hasNewer {
			pg.NewerURL = link("after", models.CursorOf(as[0]))
			pg.NewestURL = base
			if len(q) > 0 {
				pg.NewestURL += "?" + q.Encode()
			}
		}
		if hasOlder {
			pg.OlderURL = link("before", models.CursorOf(as[len(as)-1]))
		}
	}
	return as, total, pg, nil
}

// unreadAlerts returns the guardian's unread alerts per teen, read once per
// request (the nav, the dashboard and the inbox all use it).
func (h *Handlers) unreadAlerts(c echo.Context) (map[int64]int, error) {
	const key = "hearth.unread-alerts"
	if m, ok := c.Get(key).(map[int64]int); ok {
		return m, nil
	}
	m, err := h.Store.UnreadAlertCounts(ctx(c), actor(c))
	if err != nil {
		return nil, err
	}
	c.Set(key, m)
	return m, nil
}

// unreadTotalKey holds the request's unread alert total once read.
const unreadTotalKey = "hearth.unread-alert-total"

// unreadAlertTotal returns how many alerts are unread for the guardian
// across their teens (capped, see store.UnreadAlertTotal): the sum of the
// counts per teen when this request read them already, else one bounded
// count, so a page that shows no per-teen figures never counts each teen.
func (h *Handlers) unreadAlertTotal(c echo.Context) (int, error) {
	const key = unreadTotalKey
	if m, ok := c.Get("hearth.unread-alerts").(map[int64]int); ok {
		return sumCounts(m), nil
	}
	if n, ok := c.Get(key).(int); ok {
		return n, nil
	}
	n, err := h.Store.UnreadAlertTotal(ctx(c), actor(c))
	if err != nil {
		return 0, err
	}
	c.Set(key, n)
	return n, nil
}

func sumCounts(m map[int64]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// alertViews prepares alerts for the guardian's inbox.
func (h *Handlers) alertViews(as []models.Alert, showTeen bool, back string) []pages.AlertView {
	now := h.Store.Now()
	out := make([]pages.AlertView, len(as))
	for i, a := range as {
		out[i] = pages.AlertView{ID: a.ID, TeenID: a.TeenID, TeenName: a.TeenName, CounterpartID: a.CounterpartID,
			Category: string(a.Category), CategoryLabel: a.Category.Label(), Severity: string(a.Severity), SeverityLabel: a.Severity.Label(),
			ActionLabel: a.ActionTaken.Label(), Sentence: models.AlertSentence(a, a.TeenName), Burst: models.BurstWords(a),
			OccurredAt: a.OccurredAt, Now: now, Read: a.Read, NotUseful: a.NotUseful, ShowTeen: showTeen, Back: back}
	}
	return out
}

// markBlocked notes which alerts' other accounts are blocked for their
// teen already, so the inbox says so instead of offering the button. When
// that cannot be read the buttons stay: blocking then says what is true.
func (h *Handlers) markBlocked(c echo.Context, vs []pages.AlertView) {
	var teens []int64
	for _, v := range vs {
		if v.CounterpartID != "" && !slices.Contains(teens, v.TeenID) {
			teens = append(teens, v.TeenID)
		}
	}
	blocked, err := h.Store.BlockedContacts(ctx(c), actor(c), teens)
	if err != nil {
		h.Logger.ErrorContext(ctx(c), "blocked contacts", "err", err)
		return
	}
	for i, v := range vs {
		vs[i].Blocked = blocked[v.TeenID][v.CounterpartID]
	}
}

// guidanceFor returns the guidance of the categories among as, in the
// filter's order.
func guidanceFor(as []models.Alert) []pages.Guidance {
	var out []pages.Guidance
	for _, c := range models.Categories {
		if slices.ContainsFunc(as, func(a models.Alert) bool { return a.Category == c }) {
			out = append(out, pages.GuidanceFor(string(c)))
		}
	}
	return out
}

// GuardianAlerts is the guardian's inbox across every teen they supervise.
// Filtering by a teen they do not supervise is 404.
func (h *Handlers) GuardianAlerts(c echo.Context) error {
	return h.alertsPage(c, 0, "")
}

// GuardianTeenAlerts is one supervised teen's alerts, with the 8-week chart.
func (h *Handlers) GuardianTeenAlerts(c echo.Context) error {
	gt, err := h.guardianTeen(c)
	if err != nil {
		return err
	}
	return h.alertsPage(c, gt.Teen.ID, gt.Teen.DisplayName)
}

func (h *Handlers) alertsPage(c echo.Context, teenID int64, teenName string) error {
	f, form := alertQuery(c.QueryParams())
	base := "/alerts"
	if teenID != 0 {
		f.TeenID, form.Teen = &teenID, ""
		base = "/teens/" + strconv.FormatInt(teenID, 10) + "/alerts"
	}
	q := filterQuery(form, teenID != 0)
	as, total, pager, err := h.pageAlerts(c, f, base, q)
	if err != nil {
		return err
	}
	if teenID != 0 {
		// Read the counts per teen before the nav wants its total, which
		// then sums them instead of counting again.
		if _, err := h.unreadAlerts(c); err != nil {
			return err
		}
	} else if f.State == models.AlertUnread && f.TeenID == nil && f.Category == nil && f.MinSeverity == nil {
		// The list's total is the nav's: every unread alert, capped alike.
		c.Set(unreadTotalKey, total)
	}
	props := pages.AlertsProps{Page: h.page(c, ""), TeenID: teenID, TeenName: teenName, Filter: form, Total: total,
		Pager: pager, Guidance: guidanceFor(as), BasePath: base, Query: c.QueryParams().Encode()}
	props.List = pages.AlertListView{Items: h.alertViews(as, teenID == 0, c.Request().URL.RequestURI()), Filtered: form.Active()}
	h.markBlocked(c, props.List.Items)
	if teenID != 0 {
		counts, err := h.unreadAlerts(c)
		if err != nil {
			return err
		}
		props.Unread = counts[teenID]
		weeks, err := h.Store.AlertChart(ctx(c), actor(c), teenID, h.Store.Now())
		if err != nil {
			return err
		}
		props.Chart = chartView(teenName, weeks)
	} else {
		if props.Unread, err = h.unreadAlertTotal(c); err != nil {
			return err
		}
		teens, err := h.Store.GuardianTeens(ctx(c), actor(c))
		if err != nil {
			return err
		}
		for _, gt := range teens {
			if gt.Link.State == models.LinkActive {
				props.Teens = append(props.Teens, pages.AlertTeenOption{ID: gt.Teen.ID, Name: gt.Teen.DisplayName})
			}
		}
		slices.SortFunc(props.Teens, func(a, b pages.AlertTeenOption) int { return strings.Compare(a.Name, b.Name) })
	}
	if props.Title == "" {
		props.Title = "Alerts"
		if teenID != 0 {
			props.Title = teenName + "'s alerts"
		}
	}
	return render(c, http.StatusOK, pages.GuardianAlerts(props))
}

// chartView turns the store's weeks into the chart's, stacking the
// categories in the order the filter lists them.
func chartView(name string, weeks []models.AlertWeek) *pages.AlertChartView {
	v := &pages.AlertChartView{TeenName: name}
	seen := map[models.Category]bool{}
	for _, w := range weeks {
		cw := pages.AlertChartWeek{Start: w.Start, Total: w.Total, Counts: map[string]int{}}
		for cat, n := range w.Counts {
			cw.Counts[string(cat)] = n
			seen[cat] = true
		}
		v.Weeks = append(v.Weeks, cw)
	}
	for _, cat := range models.Categories {
		if seen[cat] {
			v.Categories = append(v.Categories, string(cat))
		}
	}
	return v
}

// alertFragment answers an htmx change to one alert with the alert as it
// is now, plus the nav's unread count out of band.
func (h *Handlers) alertFragment(c echo.Context, id int64) error {
	a, err := h.Store.Alert(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	back := safeNext(c.FormValue("next"), "/alerts")
	showTeen := strings.HasPrefix(back, "/alerts")
	vs := h.alertViews([]models.Alert{a}, showTeen, back)
	h.markBlocked(c, vs)
	return h.renderAlertFragment(c, pages.AlertItem(vs[0]))
}

func (h *Handlers) renderAlertFragment(c echo.Context, comp templ.Component) error {
	unread, err := h.unreadAlertTotal(c)
	if err != nil {
		return err
	}
	current := false
	if u, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil {
		current = u.Path == "/alerts"
	}
	c.SetRequest(c.Request().WithContext(views.WithCSRFToken(ctx(c), csrfToken(c))))
	return render(c, http.StatusOK, templ.Join(comp, views.AlertsNavUpdate(unread, current)))
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// AcknowledgeAlert marks one alert read for the guardian: htmx gets the
// alert back, a plain form a redirect to where it came from.
func (h *Handlers) AcknowledgeAlert(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.AcknowledgeAlert(ctx(c), actor(c), id); err != nil {
		return err
	}
	if isHTMX(c) {
		return h.alertFragment(c, id)
	}
	h.Flashes.Add(c, "success", "Alert acknowledged.")
	return redirect(c, safeNext(c.FormValue("next"), "/alerts"))
}

// MarkAlertNotUseful keeps the guardian's "not useful" on an alert, as
// feedback on the platform's classifier.
func (h *Handlers) MarkAlertNotUseful(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.MarkAlertNotUseful(ctx(c), actor(c), id); err != nil {
		return err
	}
	if isHTMX(c) {
		return h.alertFragment(c, id)
	}
	h.Flashes.Add(c, "success", "Thanks. We've noted that this alert wasn't useful.")
	return redirect(c, safeNext(c.FormValue("next"), "/alerts"))
}

// MarkAllAlertsRead marks every alert read for the guardian: of one teen
// (the form's scope) or of all their teens. htmx gets the list back as the
// page it came from shows it.
func (h *Handlers) MarkAllAlertsRead(c echo.Context) error {
	var scope *int64
	if s := c.FormValue("scope"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return models.ErrNotFound
		}
		scope = &id
	}
	if err := h.Store.MarkAllAlertsRead(ctx(c), actor(c), scope); err != nil {
		return err
	}
	if !isHTMX(c) {
		h.Flashes.Add(c, "success", "All alerts marked read.")
		return redirect(c, safeNext(c.FormValue("next"), "/alerts"))
	}
	f, form := alertQuery(c.QueryParams())
	base := "/alerts"
	if scope != nil {
		f.TeenID = scope
		base = "/teens/" + strconv.FormatInt(*scope, 10) + "/alerts"
	}
	f.Limit = alertPageSize
	as, _, err := h.Store.Alerts(ctx(c), actor(c), f)
	if err != nil {
		return err
	}
	back := base
	if q := c.QueryParams().Encode(); q != "" {
		back += "?" + q
	}
	list := pages.AlertListView{Items: h.alertViews(as, scope == nil, back), Filtered: form.Active()}
	h.markBlocked(c, list.Items)
	return h.renderAlertFragment(c, pages.AlertList(list))
}

// BlockAlertSender adds an alert's other account to the teen's blocked
// contacts, as a change to the rules (audited, versioned, the teen and the
// other guardians told), and goes back to the inbox with what happened.
func (h *Handlers) BlockAlertSender(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	back := safeNext(c.FormValue("next"), "/alerts")
	res, err := h.Store.BlockAlertCounterpart(ctx(c), actor(c), id)
	switch {
	case models.FieldErrors(err) != nil:
		for _, msg := range models.FieldErrors(err) {
			h.Flashes.Add(c, "error", msg)
		}
		return redirect(c, back)
	case err != nil:
		return err
	case res.AlreadyBlocked:
		h.Flashes.Add(c, "info", res.CounterpartID+" is already blocked for "+res.TeenName+". Nothing changed.")
	default:
		msg := res.CounterpartID + " is now blocked: they can't message " + res.TeenName + ", and " + res.TeenName +
			" can't message them. " + res.TeenName + " and any other guardians have been told."
		if res.WasApproved {
			msg += " " + res.CounterpartID + " was an approved contact and has been taken off that list."
		}
		h.Flashes.Add(c, "success", msg)
	}
	return redirect(c, back)
}

// teenAlertViews prepares alerts for the teen, in their own words and zone.
func (h *Handlers) teenAlertViews(as []models.Alert, zone string) []pages.TeenAlertView {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	now := h.Store.Now()
	out := make([]pages.TeenAlertView, len(as))
	for i, a := range as {
		out[i] = pages.TeenAlertView{ID: a.ID, Receipt: models.AlertReceipt(a, loc), Category: string(a.Category),
			Severity: string(a.Severity), SeverityLabel: a.Severity.Label(), Burst: models.BurstWords(a), OccurredAt: a.OccurredAt, Now: now}
	}
	return out
}

// TeenAlerts shows the teen every alert their guardians can see, in the
// same words.
func (h *Handlers) TeenAlerts(c echo.Context) error {
	t, err := h.Store.TeenForUser(ctx(c), actor(c))
	if err != nil {
		return err
	}
	f, _ := alertQuery(c.QueryParams())
	f = models.AlertFilter{Before: f.Before, After: f.After}
	as, total, pager, err := h.pageAlerts(c, f, "/teen/alerts", url.Values{})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.TeenAlerts(pages.TeenAlertsProps{Page: h.page(c, "Alerts"),
		Items: h.teenAlertViews(as, t.TimeZone), Total: total, Pager: pager}))
}

// AlertExport is one alert in the teen's JSON download: the same facts
// their guardians see, and the sentence both read.
type AlertExport struct {
	At            string `json:"at"`
	Summary       string `json:"summary"`
	Category      string `json:"category"`
	Severity      string `json:"severity"`
	Action        string `json:"action_taken"`
	Direction     string `json:"direction"`
	CounterpartID string `json:"counterpart_id,omitempty"`
	Occurrences   int    `json:"occurrences"`
}

// allTeenAlerts reads every alert the teen viewer's guardians can see,
// newest first, page by page.
func (h *Handlers) allTeenAlerts(c echo.Context) ([]models.Alert, error) {
	var all []models.Alert
	f := models.AlertFilter{Limit: models.MaxAlertLimit}
	for {
		as, _, err := h.Store.Alerts(ctx(c), actor(c), f)
		if err != nil {
			return nil, err
		}
		all = append(all, as...)
		if len(as) < f.Limit {
			return all, nil
		}
		cur := models.CursorOf(as[len(as)-1])
		f.Before = &cur
	}
}
