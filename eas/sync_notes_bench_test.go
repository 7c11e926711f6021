package eas_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/notes"
	"github.com/easd/easd/tasks"
)

// fillNotesAndTasks stores n notes and n tasks for alice: short texts
// with a category, tasks with start and due days, every fifth complete,
// every third with a reminder.
func fillNotesAndTasks(b *testing.B, env *easdtest.Env, notesFolder, tasksFolder string, n int) {
	b.Helper()
	ctx := context.Background()
	var userID int64
	if err := env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	ns := notes.NewStore(eas.NotifyFolderChanged)
	if err := pgx.BeginFunc(ctx, env.DB.Pool, func(tx pgx.Tx) error {
		for i := range n {
			if _, err := ns.Create(ctx, tx, userID, notesFolder, notes.Note{Subject: fmt.Sprintf("Note %d", i),
				Body:       fmt.Sprintf("Remember item %d:\nbuy milk, call the plumber about the leak in the kitchen.", i),
				Categories: []string{"Yellow Category"}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	var ics strings.Builder
	ics.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
	for i := range n {
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365)
		fmt.Fprintf(&ics, "BEGIN:VTODO\r\nUID:bench-%d\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Task %d\r\n"+
			"DESCRIPTION:Step one\\, step two\\nthen report back.\r\nCATEGORIES:Work\r\nPRIORITY:%d\r\n"+
			"DTSTART;VALUE=DATE:%s\r\nDUE;VALUE=DATE:%s\r\n", i, i, 1+i%9, day.Format("20060102"), day.AddDate(0, 0, 3).Format("20060102"))
		if i%5 == 0 {
			ics.WriteString("STATUS:COMPLETED\r\nCOMPLETED:20260102T100000Z\r\n")
		}
		if i%3 == 0 {
			fmt.Fprintf(&ics, "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:%sT080000Z\r\nEND:VALARM\r\n", day.Format("20060102"))
		}
		ics.WriteString("END:VTODO\r\n")
	}
	ics.WriteString("END:VCALENDAR\r\n")
	res, err := tasks.NewStore(eas.NotifyFolderChanged).Import(ctx, env.DB.Pool, userID, tasksFolder, strings.NewReader(ics.String()), tasks.ImportOptions{})
	if err != nil || res.Created != n {
		b.Fatalf("tasks import: %+v %v", res, err)
	}
}

// BenchmarkSyncNotesTasksInitial: the initial sync of 2,000 notes and of
// 2,000 tasks in windows of 512, as a phone does it. Figures only.
func BenchmarkSyncNotesTasksInitial(b *testing.B) {
	const n = 2000
	env := easdtest.Start(b, noPolicy)
	first := env.Client("alice", "bench-fill")
	ids := syncFolderIDs(b, first)
	fillNotesAndTasks(b, env, ids["Notes"], ids["Tasks"], n)
	for _, class := range []string{"Notes", "Tasks"} {
		b.Run(class, func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				c := env.Client("alice", fmt.Sprintf("bench-%s-%d", class, i))
				got, d := initialSync(b, &syncEnv{env: env, c: c, ids: syncFolderIDs(b, c)}, class, 512, textBody32K())
				total += d
				if got != n {
					b.Fatalf("got %d items, want %d", got, n)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/initial-sync")
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "items/s")
		})
	}
}
