package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/query"
)

func TestPlanDebug(t *testing.T) {
	s, err := Open(context.Background(), "/tmp/pb.db")
	if err != nil { t.Fatal(err) }
	defer s.Close()
	q := query.Query{
		Filter: query.AndOf(
			query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: benchForm},
			query.Cmp{Path: query.Path{"data", "amount"}, Op: query.Ge, Value: 5000.0},
			query.Cmp{Path: query.Path{"data", "region", "value"}, Op: query.Eq, Value: "华东"},
		),
		Sort:  []query.Sort{{Path: query.Path{"data", "amount"}, Desc: true}},
		Limit: 50,
	}
	for _, st := range []string{
		`DROP INDEX IF EXISTS "c_formdata__ix_28f023640b077f03f1cf"`,
		`DROP INDEX IF EXISTS "c_formdata__ix_d745f7612d858464145f"`,
		`CREATE INDEX IF NOT EXISTS a1 ON c_formdata (corp_id, deleted, json_extract(doc, '$."formId"'), json_extract(doc, '$."data"."amount"'), id)`,
		`CREATE INDEX IF NOT EXISTS a2 ON c_formdata (corp_id, deleted, json_extract(doc, '$."formId"'), json_extract(doc, '$."data"."amount"') DESC, id)`,
		`CREATE INDEX IF NOT EXISTS r1 ON c_formdata (corp_id, deleted, json_extract(doc, '$."formId"'), json_extract(doc, '$."data"."region"."value"'), id)`,
		`CREATE INDEX IF NOT EXISTS r2 ON c_formdata (corp_id, deleted, json_extract(doc, '$."formId"'), json_extract(doc, '$."data"."region"."value"') DESC, id)`,
		`ANALYZE`,
	} {
		if _, err := s.db.Exec(st); err != nil { t.Fatal(err) }
	}
	sqlText, args, _ := s.Explain("formdata", benchTenant, q)
	variants := map[string]string{
		"plain": sqlText,
		"noid": strings.Replace(sqlText, "DESC, id LIMIT", "DESC LIMIT", 1),
		"likely": strings.Replace(sqlText, `AND json_extract(doc, '$."data"."region"."value"') = ?`, `AND likelihood(json_extract(doc, '$."data"."region"."value"') = ?, 0.9)`, 1),
		"plusregion": strings.Replace(sqlText, `AND json_extract(doc, '$."data"."region"."value"') = ?`, `AND +json_extract(doc, '$."data"."region"."value"') = ?`, 1),
		"litlimit": strings.Replace(sqlText, "LIMIT ? OFFSET ?", "LIMIT 50 OFFSET 0", 1),
		"forced": strings.Replace(sqlText, `"c_formdata" WHERE`, `"c_formdata" INDEXED BY "c_formdata__ix_28f023640b077f03f1cf" WHERE`, 1),
		"rowidonly": strings.Replace(sqlText, `json(doc)`, `rowid`, 1),
		"count": "SELECT count(*) FROM (" + sqlText + ")",
		"noguard": strings.NewReplacer(`json_type(doc, '$."formId"') IN ('text') AND `, "", `json_type(doc, '$."data"."amount"') IN ('integer', 'real') AND`, "", `json_type(doc, '$."data"."region"."value"') IN ('text') AND`, "").Replace(sqlText),
	}
	for name, v := range variants {
		a := args; if name == "litlimit" { a = args[:len(args)-2] }; rows, err := s.db.Query("EXPLAIN QUERY PLAN "+v, a...)
		if err != nil { t.Fatal(err) }
		for rows.Next() { var a, b, c int; var d string; rows.Scan(&a, &b, &c, &d); t.Log(name, d) }
		start := time.Now()
		for i := 0; i < 5; i++ {
			a := args; if name == "litlimit" { a = args[:len(args)-2] }; rows, err := s.db.Query(v, a...)
			if err != nil { t.Fatal(err) }
			n := 0
			for rows.Next() { n++ }
			rows.Close()
			if i == 4 { t.Log(name, n, time.Since(start)/5) }
		}
	}
}
