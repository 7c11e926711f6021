package directory

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/textfold"
)

// maxQueryWords bounds the words of a query: each costs a join, and no
// name has more.
const maxQueryWords = 6

// checkQuery returns the query's words, or ErrQueryTooShort.
func checkQuery(query string, minLen int) ([]string, error) {
	words := textfold.QueryWords(query)
	n := 0
	for _, w := range words {
		n += utf8.RuneCountInString(w)
	}
	if len(words) == 0 || n < minLen {
		return nil, model.ErrQueryTooShort
	}
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	return words, nil
}

// Search implements model.Directory. Matches are ranked exact (every
// word a whole term) before prefix, then by sort key, and cut at the
// result cap; Total counts at most the cap, as Exchange shows "more than
// N". Rather than rank every match, one word (the longest: usually the
// rarest) drives: its terms' entries are read from the (term, sort_key)
// index already in order, each checked against the other words by an
// index probe, and the walk stops at the cap. The exact class walks the
// word's own term; the prefix class walks each term the word begins, found
// by skipping through the index from term to term. One statement does
// both and reads the page's entries.
func (s *Store) Search(ctx context.Context, query string, first, count int) (model.DirectoryPage, error) {
	words, err := checkQuery(query, s.opts.MinQuery)
	if err != nil {
		return model.DirectoryPage{}, err
	}
	if err := s.SyncUsers(ctx); err != nil {
		return model.DirectoryPage{}, err
	}
	first = max(first, 0)
	count = min(count, s.opts.MaxResults-first)
	if count <= 0 {
		count = 0
	}
	drive := 0
	for i, w := range words {
		if len(w) > len(words[drive]) {
			drive = i
		}
	}
	// A range, not LIKE: a prepared statement's generic plan can use the
	// index for a range of parameters, never for LIKE $n. In the "C"
	// collation every term beginning with w sorts between w and w
	// followed by the highest code point.
	args := []any{words[drive], words[drive] + "\U0010FFFF", s.opts.MaxResults}
	var exact, prefix, gate []string
	for i, w := range words {
		if i == drive {
			continue
		}
		args = append(args, w, w+"\U0010FFFF")
		lo, hi := len(args)-1, len(args)
		// Uncorrelated, so evaluated once: when a word is no whole term
		// of anyone, the exact class is empty without walking it.
		gate = append(gate, fmt.Sprintf(`EXISTS (SELECT 1 FROM directory_terms WHERE term = $%d)`, lo))
		exact = append(exact, fmt.Sprintf(`EXISTS (SELECT 1 FROM directory_terms x WHERE x.entry_id = d.entry_id AND x.term = $%d)`, lo))
		prefix = append(prefix, fmt.Sprintf(`EXISTS (SELECT 1 FROM directory_terms x WHERE x.entry_id = d.entry_id AND x.term >= $%d AND x.term < $%d)`, lo, hi))
	}
	// The driver's own term holds only exact matches when it is the one
	// word: the prefix class starts after it rather than read them all.
	from := ">="
	if len(words) == 1 {
		from = ">"
	}
	exactOthers := strings.Join(append([]string{"true"}, exact...), " AND ")
	prefixOthers := strings.Join(append([]string{"true"}, prefix...), " AND ")
	hits := `WITH RECURSIVE terms(term) AS (
			SELECT (SELECT min(term) FROM directory_terms WHERE term ` + from + ` $1 AND term < $2)
			UNION ALL
			SELECT (SELECT min(term) FROM directory_terms WHERE term > t.term AND term < $2)
			FROM terms t WHERE t.term IS NOT NULL),
		exact AS (
			SELECT d.entry_id, d.sort_key FROM directory_terms d JOIN directory_entries e ON e.id = d.entry_id
			WHERE d.term = $1 AND NOT e.hidden AND ` + strings.Join(append(gate, exactOthers), " AND ") + `
			ORDER BY d.sort_key, d.entry_id LIMIT $3),
		prefix AS (
			SELECT DISTINCT p.entry_id, p.sort_key FROM terms t CROSS JOIN LATERAL (
				SELECT d.entry_id, d.sort_key FROM directory_terms d JOIN directory_entries e ON e.id = d.entry_id
				WHERE d.term = t.term AND NOT e.hidden AND ` + prefixOthers + `
					AND NOT (EXISTS (SELECT 1 FROM directory_terms x WHERE x.entry_id = d.entry_id AND x.term = $1)
						AND ` + exactOthers + `)
				ORDER BY d.sort_key, d.entry_id LIMIT $3) p
			WHERE t.term IS NOT NULL),
		hits AS (
			SELECT entry_id AS id, rank, sort_key FROM (
				SELECT 0 AS rank, entry_id, sort_key FROM exact
				UNION ALL
				(SELECT 1, entry_id, sort_key FROM prefix ORDER BY sort_key, entry_id LIMIT $3)) u
			ORDER BY rank, sort_key, entry_id LIMIT $3)`
	n := len(args)
	args = append(args, first, count)
	rows, err := s.pool.Query(ctx, hits+`,
		page AS (SELECT id, rank, sort_key FROM hits ORDER BY rank, sort_key, id
			OFFSET $`+fmt.Sprint(n+1)+` LIMIT $`+fmt.Sprint(n+2)+`)
		SELECT (SELECT count(*) FROM hits), p.rank = 0, `+entryColumns+`
		FROM page p JOIN directory_entries e ON e.id = p.id LEFT JOIN users u ON u.id = e.user_id
		ORDER BY p.rank, p.sort_key, p.id`, args...)
	if err != nil {
		return model.DirectoryPage{}, fmt.Errorf("directory: search: %w", err)
	}
	defer rows.Close()
	var page model.DirectoryPage
	for rows.Next() {
		var exact bool
		e, err := scanEntry(rows, &page.Total, &exact)
		if err != nil {
			return model.DirectoryPage{}, fmt.Errorf("directory: search: %w", err)
		}
		e.Exact = exact
		page.Entries = append(page.Entries, e.DirectoryEntry)
	}
	if err := rows.Err(); err != nil {
		return model.DirectoryPage{}, fmt.Errorf("directory: search: %w", err)
	}
	if len(page.Entries) == 0 && (first > 0 || count == 0) {
		// A page past the end still reports how many there are.
		if err := s.pool.QueryRow(ctx, hits+` SELECT count(*) FROM hits`, args[:n]...).Scan(&page.Total); err != nil {
			return model.DirectoryPage{}, fmt.Errorf("directory: search: %w", err)
		}
	}
	return page, nil
}
