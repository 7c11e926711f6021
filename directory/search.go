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

// Search implements model.Directory: one SQL statement finds, per query
// word, the entries with a term it begins (a range scan of the terms'
// primary key), joins the words, ranks and pages; the page's entries are
// read in the same statement.
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
	var with, join []string
	args := []any{}
	exact := make([]string, len(words))
	for i, w := range words {
		// A range, not LIKE: a prepared statement's generic plan can
		// use the index for a range of parameters, never for LIKE $n.
		// In the "C" collation every term beginning with w sorts between
		// w and w followed by the highest code point.
		args = append(args, w, w+"\U0010FFFF")
		with = append(with, fmt.Sprintf(`w%d AS (SELECT entry_id, bool_or(term = $%d) AS exact
			FROM directory_terms WHERE term >= $%d AND term < $%d GROUP BY entry_id)`, i, len(args)-1, len(args)-1, len(args)))
		if i > 0 {
			join = append(join, fmt.Sprintf("JOIN w%d USING (entry_id)", i))
		}
		exact[i] = fmt.Sprintf("w%d.exact", i)
	}
	args = append(args, s.opts.MaxResults)
	hits := `WITH ` + strings.Join(with, ",\n") + `,
		hits AS (
			SELECT e.id, CASE WHEN ` + strings.Join(exact, " AND ") + ` THEN 0 ELSE 1 END AS rank, e.sort_key
			FROM w0 ` + strings.Join(join, " ") + ` JOIN directory_entries e ON e.id = w0.entry_id
			WHERE NOT e.hidden
			ORDER BY rank, e.sort_key, e.id
			LIMIT $` + fmt.Sprint(len(args)) + `)`
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
		var e Entry
		var email string
		var others []string
		if err := rows.Scan(&page.Total, &e.Exact, &e.ID, &e.Kind, &e.Hidden, &e.Login, &e.UserID, &e.DisplayName,
			&e.FirstName, &e.LastName, &e.Alias, &email, &others, &e.Phone, &e.MobilePhone, &e.HomePhone,
			&e.Title, &e.Company, &e.Office, &e.Department, &e.Picture, &e.Certificates); err != nil {
			return model.DirectoryPage{}, fmt.Errorf("directory: search: %w", err)
		}
		e.Emails = append([]string{email}, others...)
		if len(e.Picture) == 0 {
			e.Picture = nil
		}
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
