package pgcluster

import (
	"os"
	"syscall"

	"github.com/easd/easd/internal/procgroup"
)

func ownedBy(fi os.FileInfo, o procgroup.Owner) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == o.UID
}
