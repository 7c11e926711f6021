package dav

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-ical"

	"github.com/easd/easd/calendar"
	"github.com/easd/easd/contacts"
	"github.com/easd/easd/tasks"
)

// A CalDAV collection is a calendar (events, on the calendar store) or a
// task list (VTODOs, on the tasks store). The protocol is the same for
// both, so the handlers of caldav.go and calreport.go work on objStore,
// which each store is adapted to here; only what differs (the component,
// the size limit, how a UID clash is found, time ranges) differs here.

// calObj is a stored calendar object resource, of either store.
type calObj struct {
	ServerID string
	Href     string
	UID      string
	Version  int64
	Cal      *ical.Calendar
	Updated  time.Time
}

// objRes is an object as a listing shows it: the resource types of the
// stores have the same shape, and the sync report's cut works on it.
type objRes = contacts.Resource

// What the handlers tell apart of the stores' refusals.
var (
	errObjNotFound    = errors.New("no such object")
	errObjUIDExists   = errors.New("an object of this UID exists")
	errObjHrefExists  = errors.New("an object of this name exists")
	errObjTooLarge    = errors.New("object too large")
	errObjBad         = errors.New("bad object")
	errObjUnsupported = errors.New("unsupported component")
	errObjTokenOld    = errors.New("sync token too old")
)

// objErr is a store's refusal as one of the errObj errors, keeping the
// store's message.
type objErr struct {
	kind, err error
}

func (e *objErr) Error() string        { return e.err.Error() }
func (e *objErr) Is(target error) bool { return target == e.kind }
func (e *objErr) Unwrap() error        { return e.err }

// errMap is one of a store's refusals and the errObj error it is.
type errMap struct{ from, to error }

// mapErr returns err as the errObj error of table it is, or as it is.
func mapErr(err error, table []errMap) error {
	for _, m := range table {
		if errors.Is(err, m.from) {
			return &objErr{kind: m.to, err: err}
		}
	}
	return err
}

// storeRes is the shape of the stores' resource types.
type storeRes interface {
	~struct {
		ServerID string
		Href     string
		Version  int64
	}
}

// toRes converts a store's resources to objRes.
func toRes[R storeRes](rs []R, err error) ([]objRes, error) {
	out := make([]objRes, len(rs))
	for i, r := range rs {
		out[i] = objRes(r)
	}
	return out, err
}

func toChanges[R storeRes](ctag int64, changed, removed []R) objChanges {
	out := objChanges{ctag: ctag}
	out.changed, _ = toRes(changed, nil)
	out.removed, _ = toRes(removed, nil)
	return out
}

// toObjs converts a store's objects with conv.
func toObjs[T any](xs []T, err error, conv func(T) calObj) ([]calObj, error) {
	if err != nil {
		return nil, err
	}
	out := make([]calObj, len(xs))
	for i, x := range xs {
		out[i] = conv(x)
	}
	return out, nil
}

// objChanges are a collection's changes since a sync token.
type objChanges struct {
	ctag             int64
	changed, removed []objRes
}

type objStore interface {
	// comp is the component the collection holds (VEVENT, VTODO).
	comp() string
	maxSize() int
	ctag(ctx context.Context, q calendar.Querier, userID int64, folderID string) (int64, error)
	resources(ctx context.Context, q calendar.Querier, userID int64, folderID string) ([]objRes, error)
	byHref(ctx context.Context, q calendar.Querier, userID int64, folderID string, hrefs []string) ([]calObj, error)
	get(ctx context.Context, q calendar.Querier, userID int64, folderID string, sids []string) ([]calObj, error)
	lockHref(ctx context.Context, q calendar.Querier, userID int64, folderID, href string) (objRes, error)
	create(ctx context.Context, q calendar.Querier, userID int64, folderID, href string, cal *ical.Calendar) (calObj, error)
	update(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string, cal *ical.Calendar) (calObj, error)
	delete(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string) error
	deleteFolder(ctx context.Context, q calendar.Querier, userID int64, folderID string) error
	changes(ctx context.Context, q calendar.Querier, userID int64, folderID string, since, listedAt int64) (objChanges, error)
	prune(ctx context.Context, q calendar.Querier, userID int64, folderID string, before time.Time) error
	// objectUID checks a PUT body is one object of the collection's kind.
	objectUID(cal *ical.Calendar) (string, error)
	encode(cal *ical.Calendar) (string, error)
	// uidHolder is the folder and name of the object of UID uid that a
	// write into folderID clashed with.
	uidHolder(ctx context.Context, q calendar.Querier, userID int64, folderID, uid string) (string, string, error)
}

// eventStore is the calendar store as objStore.
type eventStore struct{ s *calendar.Store }

// calErrs map the calendar store's refusals to the errObj errors.
var calErrs = []errMap{
	{calendar.ErrNotFound, errObjNotFound}, {calendar.ErrUIDExists, errObjUIDExists},
	{calendar.ErrHrefExists, errObjHrefExists}, {calendar.ErrTooLarge, errObjTooLarge},
	{calendar.ErrUnsupportedComponent, errObjUnsupported}, {calendar.ErrBadObject, errObjBad},
	{calendar.ErrTokenTooOld, errObjTokenOld},
}

func calErr(err error) error { return mapErr(err, calErrs) }

func fromEvent(e calendar.Event) calObj {
	return calObj{ServerID: e.ServerID, Href: e.Href, UID: e.UID, Version: e.Version, Cal: e.Cal, Updated: e.Updated}
}

func fromEvents(evs []calendar.Event, err error) ([]calObj, error) {
	return toObjs(evs, err, fromEvent)
}

func (eventStore) comp() string { return "VEVENT" }
func (eventStore) maxSize() int { return calendar.MaxObjectSize }
func (s eventStore) ctag(ctx context.Context, q calendar.Querier, userID int64, folderID string) (int64, error) {
	return s.s.CTag(ctx, q, userID, folderID)
}
func (s eventStore) resources(ctx context.Context, q calendar.Querier, userID int64, folderID string) ([]objRes, error) {
	return toRes(s.s.Resources(ctx, q, userID, folderID))
}
func (s eventStore) byHref(ctx context.Context, q calendar.Querier, userID int64, folderID string, hrefs []string) ([]calObj, error) {
	if hrefs == nil {
		return fromEvents(s.s.AllEvents(ctx, q, userID, folderID))
	}
	return fromEvents(s.s.ByHref(ctx, q, userID, folderID, hrefs))
}
func (s eventStore) get(ctx context.Context, q calendar.Querier, userID int64, folderID string, sids []string) ([]calObj, error) {
	return fromEvents(s.s.Get(ctx, q, userID, folderID, sids))
}
func (s eventStore) lockHref(ctx context.Context, q calendar.Querier, userID int64, folderID, href string) (objRes, error) {
	r, err := s.s.LockHref(ctx, q, userID, folderID, href)
	return objRes(r), calErr(err)
}
func (s eventStore) create(ctx context.Context, q calendar.Querier, userID int64, folderID, href string, cal *ical.Calendar) (calObj, error) {
	e, err := s.s.CreateNamed(ctx, q, userID, folderID, href, cal)
	return fromEvent(e), calErr(err)
}
func (s eventStore) update(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string, cal *ical.Calendar) (calObj, error) {
	e, err := s.s.Update(ctx, q, userID, folderID, sid, cal)
	return fromEvent(e), calErr(err)
}
func (s eventStore) delete(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string) error {
	return calErr(s.s.Delete(ctx, q, userID, folderID, sid))
}
func (s eventStore) deleteFolder(ctx context.Context, q calendar.Querier, userID int64, folderID string) error {
	return s.s.DeleteCalendar(ctx, q, userID, folderID)
}
func (s eventStore) changes(ctx context.Context, q calendar.Querier, userID int64, folderID string, since, listedAt int64) (objChanges, error) {
	ch, err := s.s.ChangesSince(ctx, q, userID, folderID, since, listedAt)
	if err != nil {
		return objChanges{}, calErr(err)
	}
	return toChanges(ch.CTag, ch.Changed, ch.Removed), nil
}
func (s eventStore) prune(ctx context.Context, q calendar.Querier, userID int64, folderID string, before time.Time) error {
	return s.s.PruneTombstones(ctx, q, userID, folderID, before)
}
func (eventStore) objectUID(cal *ical.Calendar) (string, error) {
	uid, err := calendar.ObjectUID(cal)
	return uid, calErr(err)
}
func (eventStore) encode(cal *ical.Calendar) (string, error) { return calendar.Encode(cal) }

// uidHolder: a UID is unique among all of a user's calendars (one event,
// one UID, as the phones see it), so the clash may be in another calendar.
func (s eventStore) uidHolder(ctx context.Context, q calendar.Querier, userID int64, _, uid string) (string, string, error) {
	ev, err := s.s.ByUID(ctx, q, userID, uid)
	return ev.FolderID, ev.Href, err
}

// taskStore is the tasks store as objStore.
type taskStore struct{ s *tasks.Store }

// taskErrs map the tasks store's refusals to the errObj errors.
var taskErrs = []errMap{
	{tasks.ErrNotFound, errObjNotFound}, {tasks.ErrUIDExists, errObjUIDExists},
	{tasks.ErrHrefExists, errObjHrefExists}, {tasks.ErrTooLarge, errObjTooLarge},
	{tasks.ErrUnsupportedComponent, errObjUnsupported}, {tasks.ErrBadValue, errObjBad},
	{tasks.ErrTokenTooOld, errObjTokenOld},
}

func taskErr(err error) error { return mapErr(err, taskErrs) }

func fromTask(t tasks.Task) calObj {
	return calObj{ServerID: t.ServerID, Href: t.Href, UID: t.UID, Version: t.Version, Cal: t.Cal, Updated: t.Updated}
}

func fromTasks(ts []tasks.Task, err error) ([]calObj, error) { return toObjs(ts, err, fromTask) }

func (taskStore) comp() string { return "VTODO" }
func (taskStore) maxSize() int { return tasks.MaxObjectSize }
func (s taskStore) ctag(ctx context.Context, q calendar.Querier, userID int64, folderID string) (int64, error) {
	return s.s.CTag(ctx, q, userID, folderID)
}
func (s taskStore) resources(ctx context.Context, q calendar.Querier, userID int64, folderID string) ([]objRes, error) {
	return toRes(s.s.Resources(ctx, q, userID, folderID))
}
func (s taskStore) byHref(ctx context.Context, q calendar.Querier, userID int64, folderID string, hrefs []string) ([]calObj, error) {
	if hrefs == nil {
		return fromTasks(s.s.List(ctx, q, userID, folderID))
	}
	return fromTasks(s.s.ByHref(ctx, q, userID, folderID, hrefs))
}
func (s taskStore) get(ctx context.Context, q calendar.Querier, userID int64, folderID string, sids []string) ([]calObj, error) {
	return fromTasks(s.s.Get(ctx, q, userID, folderID, sids))
}
func (s taskStore) lockHref(ctx context.Context, q calendar.Querier, userID int64, folderID, href string) (objRes, error) {
	r, err := s.s.LockHref(ctx, q, userID, folderID, href)
	return objRes(r), taskErr(err)
}
func (s taskStore) create(ctx context.Context, q calendar.Querier, userID int64, folderID, href string, cal *ical.Calendar) (calObj, error) {
	t, err := s.s.CreateNamed(ctx, q, userID, folderID, href, cal)
	return fromTask(t), taskErr(err)
}
func (s taskStore) update(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string, cal *ical.Calendar) (calObj, error) {
	t, err := s.s.Update(ctx, q, userID, folderID, sid, cal)
	return fromTask(t), taskErr(err)
}
func (s taskStore) delete(ctx context.Context, q calendar.Querier, userID int64, folderID, sid string) error {
	return taskErr(s.s.Delete(ctx, q, userID, folderID, sid))
}
func (s taskStore) deleteFolder(ctx context.Context, q calendar.Querier, userID int64, folderID string) error {
	return s.s.DeleteFolder(ctx, q, userID, folderID)
}
func (s taskStore) changes(ctx context.Context, q calendar.Querier, userID int64, folderID string, since, listedAt int64) (objChanges, error) {
	ch, err := s.s.ChangesSince(ctx, q, userID, folderID, since, listedAt)
	if err != nil {
		return objChanges{}, taskErr(err)
	}
	return toChanges(ch.CTag, ch.Changed, ch.Removed), nil
}
func (s taskStore) prune(ctx context.Context, q calendar.Querier, userID int64, folderID string, before time.Time) error {
	return s.s.PruneTombstones(ctx, q, userID, folderID, before)
}
func (taskStore) objectUID(cal *ical.Calendar) (string, error) {
	uid, err := tasks.ObjectUID(cal)
	return uid, taskErr(err)
}
func (taskStore) encode(cal *ical.Calendar) (string, error) { return tasks.Encode(cal) }

// uidHolder: a task's UID is unique within its list (the phones know a
// task per list), so the clash is in this list.
func (s taskStore) uidHolder(ctx context.Context, q calendar.Querier, userID int64, folderID, uid string) (string, string, error) {
	r, err := s.s.ByUID(ctx, q, userID, folderID, uid)
	return folderID, r.Href, err
}
